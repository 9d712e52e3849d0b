#!/bin/sh
# Windows (issue 11): count and sum per campaign per minute over an ad log, logwash against
# what a user would otherwise write: a mawk script (associative arrays) and a Python script
# (a dict). Prints lines/s and peak RSS (GNU time) per run and checks the three agree. Not part
# of make check; timings are for comparison on one machine only.
# Usage: bench/windows.sh BIN [LINES]   (default 1000000 lines, in $BENCH_DIR or /tmp)
set -u
bin=$1
lines=${2:-1000000}
dir=${BENCH_DIR:-/tmp/logwash-bench}/windows
mkdir -p "$dir"
in=$dir/ads-$lines.jsonl
if [ ! -f "$in" ]; then
    python3 - "$lines" > "$in" <<'PY'
import random, sys
r = random.Random(1)
t0 = 1772323200  # 2026-03-01T00:00:00Z
for i in range(int(sys.argv[1])):
    t = t0 + i // 50 + r.randrange(0, 20)
    s = "2026-03-%02dT%02d:%02d:%02dZ" % (1 + t // 86400 - t0 // 86400, t % 86400 // 3600, t % 3600 // 60, t % 60)
    print('{"ts":"%s","cid":"c%d","price":%d,"uid":"u%d"}' % (s, r.randrange(50), r.randrange(10000), r.randrange(100000)))
PY
fi
cat > "$dir/w.lw" <<'LW'
input json
window tumbling 1m at parse_time(.ts, "rfc3339") late 1m key {cid: .cid} { imps = count(); spend = sum(.price) }
LW
cat > "$dir/w.awk" <<'AWK'
# the minute is the first 16 characters of ts; campaign and price by position in this log
{ match($0, /"ts":"[^"]*"/); m = substr($0, RSTART + 6, 16)
  match($0, /"cid":"[^"]*"/); c = substr($0, RSTART + 7, RLENGTH - 8)
  match($0, /"price":[0-9]+/); p = substr($0, RSTART + 8, RLENGTH - 8) + 0
  k = m SUBSEP c; n[k]++; s[k] += p }
END { for (k in n) { split(k, a, SUBSEP); printf "%s %s %d %d\n", a[1], a[2], n[k], s[k] } }
AWK
cat > "$dir/w.py" <<'PY'
import json, sys
n, s = {}, {}
for line in sys.stdin:
    r = json.loads(line)
    k = (r["ts"][:16], r["cid"])
    n[k] = n.get(k, 0) + 1
    s[k] = s.get(k, 0) + r["price"]
for k in n:
    print("%s %s %d %d" % (k[0], k[1], n[k], s[k]))
PY
norm_lw() { python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l); print("%s %s %d %d" % (r["window_start"][:16], r["cid"], r["imps"], r["spend"]))'; }
run() { # NAME COMMAND...: time it, keep its output normalised and sorted
    name=$1
    shift
    /usr/bin/time -f "%e %M" -o "$dir/$name.time" "$@" < "$in" > "$dir/$name.raw" 2>/dev/null
    read -r secs kb < "$dir/$name.time"
    printf '%-12s %8.2f s %12.0f lines/s %8d KB peak\n' "$name" "$secs" \
        "$(echo "$lines / $secs" | bc -l)" "$kb"
}
run logwash-j1 "$bin" -q -j 1 -f "$dir/w.lw"
run logwash-j2 "$bin" -q -j 2 -f "$dir/w.lw"
run mawk mawk -f "$dir/w.awk"
run python python3 "$dir/w.py"
norm_lw < "$dir/logwash-j1.raw" | sort > "$dir/a"
norm_lw < "$dir/logwash-j2.raw" | sort > "$dir/b"
sort "$dir/mawk.raw" > "$dir/c"
sort "$dir/python.raw" > "$dir/d"
if cmp -s "$dir/a" "$dir/b" && cmp -s "$dir/a" "$dir/c" && cmp -s "$dir/a" "$dir/d"; then
    echo "windows bench: the four agree ($(wc -l < "$dir/a") (minute, campaign) results)"
else
    echo "windows bench: FAIL: the results differ"
    exit 1
fi

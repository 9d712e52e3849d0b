#!/bin/sh
# Session windows exact under Kafka input (logwash(1) KAFKA, docs/design-state.md 3a: sessions
# that merge, each record held until the session it ended up in is given), against librdkafka's
# mock cluster: a job with `window session 5s at t late 10s key .c` (each record emits its own
# output too) reads 3 partitions of 12,000 events spread round-robin (so a key's sessions take
# records of every partition), each key active 4 s in 12 s, some events moved back (often into
# the key's gap before, bridging two sessions), some late; it is killed with -9 twice
# mid-stream and a last run reads to the end. The union of the session results in the output
# topic (deduplicated by window and key) must equal a file run's results on the same records,
# with identical values for every duplicate: a session rebuilt in part after a restart (its
# first records before the commit) would show as a result with another window_start, a
# session lost as a missing one.
# Usage: [LW_JOBS=N] tests/kafka/winsess.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_kill9=ca
ca=
kafka_setup kafka-winsess python3
mockd_start 3
N=12000

# the input: event i at T0 + i/10 s, key c((i / 40) mod 3) (each key 4 s on, 8 s off: a
# session each time, 5 s gap); every 7th moved back 0-12 s (on time for a file run and its
# partition alike: a record is late only 5 s + 10 s behind; one 2-6 s into the gap bridges
# two sessions), every 401st 95 s early (late for both);
# then one event per partition a day later, which closes every session before it
python3 - "$N" >"$tmp/in.jsonl" <<'EOF'
import datetime, sys
n = int(sys.argv[1])

t0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
for i in range(n):
    ms = i * 100
    if i % 7 == 0:
        ms = ms - (i % 121) * 100
    if i % 401 == 0 and i > 2000:
        ms -= 95000
    print('{"i":%d,"ts":"%s","c":"c%d","v":%d}' % (i, ts(ms), (i // 40) % 3, i % 97))
for j in range(3):
    print('{"i":%d,"ts":"%s","c":"c0","v":0}' % (n + j, ts(86400000 + j)))
EOF
ctl "topic wm 3" "topic wmout 1"
for p in 0 1 2; do
    awk -v p=$p -v n="$N" '(NR <= n && (NR - 1) % 3 == p) || NR - n == p + 1' "$tmp/in.jsonl" >"$tmp/in$p"
    timeout 120 kcat -P -b "$boot" -t wm -p $p -l -X batch.num.messages=20 "$tmp/in$p" 2>"$tmp/kcat.err" ||
        bad "kcat -P wm partition $p failed: $(head -2 "$tmp/kcat.err")"
done

printf '%s\n' 'input json' 'let t = parse_time(.ts, "rfc3339")' \
    'window session 5s at t late 10s key .c { n = count(); s = sum(.v); lo = min(.i); hi = max(.i) }' \
    'emit {i: .i}' >"$tmp/t.lw"
# the reference: a file run of the same records, less the session of the last day (still open
# under Kafka)
"$lw" -f "$tmp/t.lw" "$tmp/in.jsonl" 2>/dev/null | grep window_start |
    grep -v -e '"window_end":"2026-03-02' | python3 "$(dirname "$0")/results.py" canon >"$tmp/want"
nwant=$(wc -l <"$tmp/want")
late=$("$lw" -f "$tmp/t.lw" "$tmp/in.jsonl" 2>&1 >/dev/null | grep -c "late: event time")
[ "$nwant" -gt 150 ] && [ "$late" -gt 10 ] || bad "the file run gave $nwant results, $late late"

kill9_twice wm gm wmout
timeout 120 kcat -C -b "$boot" -t wmout -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got" 2>/dev/null
msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want" "$tmp/got") &&
    ok "the union of the session results equals the file run's ($nwant), values exact: $msg" ||
    bad "results: $msg"
# the metadata: each partition's time as of its commit (at most its last record before the last
# day, 2026-03-01T00:19:59.x: a record is held while a session opened before it, in any
# partition, is open, so a partition read ahead of the others may stop before) and the
# sessions given (the last day's first record, 2026-03-02)
"$committed" "$boot" gm wm meta >"$tmp/m3" 2>&1
if python3 - "$tmp/m3" <<'EOF'; then
import re, sys
rows = [l.split() for l in open(sys.argv[1])]
assert len(rows) == 3, rows
for r in rows:
    m = re.fullmatch(r"t=(\d+)", r[3]), re.fullmatch(r"x=(\d+)", r[4])
    assert r[2] == "lw1" and len(r) == 5 and m[0] and m[1], r
    t1, x1 = int(m[0].group(1)), int(m[1].group(1))
    assert 1772323200 <= t1 // 10**9 <= 1772324399 and x1 // 10**9 == 1772409600, r
EOF
    ok "each commit's metadata holds its partition's time and the sessions given: $(head -1 "$tmp/m3")"
else
    bad "commit metadata: $(tr '\n' ' ' <"$tmp/m3")"
fi
sanitizer_check "$tmp"/lw[123].err
summary -j

#!/bin/sh
# bench/useragent.sh LOGWASH - parse_user_agent's fast path (the per-worker cache of recent user
# agents) against running ua-parser's rule list on every record: the same binary built with
# -DLW_UA_NOCACHE (into build-uanocache/, made here), the same inputs:
#   access: BENCH_LINES (100000) lines of an access log's user agents, 1000 distinct ones drawn
#           with a Zipf law (s = 1.1; a few browsers make most lines), from uap-core's tests;
#   distinct: up to 20000 user agents all different (every record misses the cache: its worst
#           case).
# Prints lines/s (best of BENCH_RUNS, 3, pinned to one CPU with taskset when there is one) and,
# under callgrind, instructions per line (on BENCH_INSTR, 2000, lines; 0: none), and checks
# that both builds wrote the same output. Needs uap-core and python3; not part of make check.
set -eu
[ $# -eq 1 ] || { echo "usage: bench/useragent.sh PATH/TO/logwash" >&2; exit 2; }
lw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
t=/usr/share/uap-core/tests/test_ua.yaml
[ -f "$t" ] || { echo "bench: skipped: $t missing (Debian package uap-core)"; exit 0; }
runs=${BENCH_RUNS:-3}
lines=${BENCH_LINES:-100000}
instr=${BENCH_INSTR:-2000}
pin=
command -v taskset >/dev/null && pin="taskset -c ${BENCH_CPU:-0}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$lw" "$tmp/cached"
make -s -C "$root" BUILD=build-uanocache EXTRA_CFLAGS=-DLW_UA_NOCACHE build-uanocache/logwash \
    >/dev/null
cp "$root/build-uanocache/logwash" "$tmp/direct"
cat "$t" /usr/share/uap-core/tests/test_os.yaml /usr/share/uap-core/tests/test_device.yaml |
    sed -n "s/^ *- user_agent_string: '\(.*\)'\$/\1/p" | sed "s/''/'/g" | awk '!seen[$0]++' \
    >"$tmp/all.txt"
python3 - "$tmp/all.txt" "$lines" "$tmp/access.txt" "$tmp/distinct.txt" <<'PY'
import random, sys
uas = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8", errors="replace")]
rng = random.Random(15)
top = rng.sample(uas, 1000)
w = [1 / (k + 1) ** 1.1 for k in range(1000)]
with open(sys.argv[3], "w") as f:
    for ua in rng.choices(top, weights=w, k=int(sys.argv[2])):
        f.write(ua + "\n")
with open(sys.argv[4], "w") as f:
    for ua in rng.sample(uas, min(20000, len(uas))):
        f.write(ua + "\n")
PY
printf 'emit parse_user_agent(line)\n' >"$tmp/t.lw"

best() { # best BIN INPUT: lines/s of the best of $runs runs
    b=
    i=0
    while [ "$i" -lt "$runs" ]; do
        s=$(date +%s.%N)
        $pin "$1" -q -j 1 -f "$tmp/t.lw" "$2" >"$tmp/out.$(basename "$1")"
        e=$(date +%s.%N)
        b=$(echo "$s $e $b" | awk '{d = $2 - $1; if ($3 == "" || d < $3) d = d; else d = $3; print d}')
        i=$((i + 1))
    done
    awk -v n="$(wc -l <"$2")" -v d="$b" 'BEGIN { printf "%.0f", n / d }'
}

for w in access distinct; do
    in=$tmp/$w.txt
    c=$(best "$tmp/cached" "$in")
    d=$(best "$tmp/direct" "$in")
    cmp -s "$tmp/out.cached" "$tmp/out.direct" || { echo "bench: $w: the outputs differ" >&2; exit 1; }
    printf '%-9s %7d lines: cached %8d lines/s, rule list every line %8d lines/s (x%s)\n' "$w" \
        "$(wc -l <"$in")" "$c" "$d" "$(awk -v a="$c" -v b="$d" 'BEGIN { printf "%.1f", a / b }')"
done
if [ "$instr" -gt 0 ] && command -v valgrind >/dev/null; then
    # the start-up (the rules read and compiled), taken off every count below
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$tmp/cached" -q -j 1 \
        -f "$tmp/t.lw" /dev/null >/dev/null 2>"$tmp/vg"
    start=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/vg")
    echo "start-up (rules read and compiled): $start instructions"
    for w in access distinct; do
        head -n "$instr" "$tmp/$w.txt" >"$tmp/cut.txt"
        n=$(wc -l <"$tmp/cut.txt")
        for b in cached direct; do
            valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$tmp/$b" -q -j 1 \
                -f "$tmp/t.lw" "$tmp/cut.txt" >/dev/null 2>"$tmp/vg"
            ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/vg")
            printf '%-9s %-6s %12d instructions, %8d per line past start-up (callgrind, JIT, %d lines)\n' \
                "$w" "$b" "$ir" $(((ir - start) / n)) "$n"
        done
    done
fi

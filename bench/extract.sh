#!/bin/sh
# bench/extract.sh LOGWASH - W1 (nginx combined log, 1M lines) extracted four ways with the same
# output fields: grok (an expression over the core patterns), grok's stock COMBINEDAPACHELOG,
# dissect, and a hand regex with match(). Prints lines/s for each (best of BENCH_RUNS, pinned to
# one core with taskset when there is one) and the ratios, all measured in the same run, twice:
# extraction and JSON output ("emit"), then extraction alone (the emit replaced by drop). Checks
# that grok and regex wrote the same output and counts the records where dissect differs (it
# cannot see \" inside a quoted field: W1 has user agents with \"). Not part of make check.
# Environment: BENCH_RUNS (3), BENCH_CPU (0), W1 (/tmp/corpus/w1.log, generated if missing).
set -eu
[ $# -eq 1 ] || { echo "usage: bench/extract.sh PATH/TO/logwash" >&2; exit 2; }
lw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
w1=${W1:-/tmp/corpus/w1.log}
if [ ! -f "$w1" ]; then
    gen=$here/../../shared/corpus/gen.py
    [ -f "$gen" ] || { echo "bench: skipped: $w1 missing and ../shared/corpus not found"; exit 0; }
    mkdir -p "$(dirname "$w1")"
    python3 "$gen" w1 -n 1000000 --seed 1 -o "$w1"
fi
runs=${BENCH_RUNS:-3}
pin=
command -v taskset >/dev/null && pin="taskset -c ${BENCH_CPU:-0}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$lw" "$tmp/logwash" # a private copy: a rebuild during the run cannot change it
lines=$(wc -l < "$w1")

best() { # best TEMPLATE OUT: the best wall time of $runs runs, in seconds
    b=
    i=0
    while [ "$i" -lt "$runs" ]; do
        s=$(date +%s.%N)
        $pin "$tmp/logwash" -f "$1" "$w1" > "$2"
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
        i=$((i + 1))
    done
    echo "$b"
}

echo "W1: $lines lines, best of $runs${pin:+, $pin}"
for mode in emit extract; do
    echo "-- $mode"
    for way in dissect regex grok combined; do
        lw_=$here/extract/$way.lw
        if [ $mode = extract ]; then
            sed 's/^emit .*/drop/' "$lw_" > "$tmp/$way-x.lw"
            lw_=$tmp/$way-x.lw
        fi
        t=$(best "$lw_" "$tmp/$way.$mode")
        eval "t_$way=$t"
        printf '%-9s %8.3f s %12.0f lines/s\n' "$way" "$t" "$(echo "$lines / $t" | bc -l)"
    done
    printf 'time: regex/dissect %.2fx, grok/dissect %.2fx, grok/regex %.2fx, combined/grok %.2fx\n' \
        "$(echo "$t_regex / $t_dissect" | bc -l)" "$(echo "$t_grok / $t_dissect" | bc -l)" \
        "$(echo "$t_grok / $t_regex" | bc -l)" "$(echo "$t_combined / $t_grok" | bc -l)"
done
if cmp -s "$tmp/grok.emit" "$tmp/regex.emit"; then
    echo "output: grok = regex ($(wc -l < "$tmp/regex.emit") records)"
else
    echo "output: grok and regex differ"
fi
echo "output: dissect differs from regex in $(diff "$tmp/regex.emit" "$tmp/dissect.emit" | grep -c '^>') records (\\\" in a quoted field)"

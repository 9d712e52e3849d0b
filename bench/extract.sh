#!/bin/sh
# bench/extract.sh LOGWASH - W1 (nginx combined log, 1M lines) extracted five ways with the same
# output fields: dissect; the regex that means what the dissect pattern means ("dissect-regex":
# each field .*? up to its delimiter); a hand regex with match() (\S+, [^"]*: the fast way to
# write it); grok (an expression over the core patterns); grok's stock COMBINEDAPACHELOG.
# Prints lines/s for each (best of BENCH_RUNS, pinned to one core with taskset when there is
# one) and the ratios, all measured in the same run, twice: extraction and JSON output ("emit"),
# then extraction alone (the emit replaced by drop). A template that drops every line ("read":
# read, frame, run the VM, nothing else) is timed too, and the extraction-alone ratios are also
# given net of it, which is the cost of the extraction itself. Checks that every way wrote the
# same records as dissect (COMBINEDAPACHELOG accepts more lines: its count is printed). Not part of make check.
# Then, with valgrind, the same extraction-alone templates on the first BENCH_INSTR (20000) lines
# under callgrind: instructions per line, less those of "read", which no other load can change.
# Environment: BENCH_RUNS (3), BENCH_CPU (0), W1 (/tmp/corpus/w1.log, generated if missing),
# BENCH_INSTR (20000; 0: no instruction counts).
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
        $pin "$tmp/logwash" -j 1 -f "$1" "$w1" > "$2"
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
        i=$((i + 1))
    done
    echo "$b"
}

echo "W1: $lines lines, best of $runs${pin:+, $pin}"
ways="dissect dissect-regex regex grok combined"
echo 'drop' > "$tmp/read.lw"
t_read=$(best "$tmp/read.lw" /dev/null)
printf '%-13s %8.3f s %12.0f lines/s   (a template that drops every line)\n' read "$t_read" \
    "$(echo "$lines / $t_read" | bc -l)"
ratio() { echo "$1 / $2" | bc -l; }
for mode in emit extract; do
    echo "-- $mode"
    for way in $ways; do
        lw_=$here/extract/$way.lw
        if [ $mode = extract ]; then
            sed 's/^emit .*/drop/' "$lw_" > "$tmp/$way-x.lw"
            lw_=$tmp/$way-x.lw
        fi
        t=$(best "$lw_" "$tmp/$way.$mode")
        v=$(echo "$way" | tr - _)
        eval "t_$v=$t"
        printf '%-13s %8.3f s %12.0f lines/s\n' "$way" "$t" "$(echo "$lines / $t" | bc -l)"
    done
    printf 'time: dissect-regex/dissect %.2fx, regex/dissect %.2fx, grok/dissect %.2fx, grok/regex %.2fx, combined/grok %.2fx\n' \
        "$(ratio "$t_dissect_regex" "$t_dissect")" "$(ratio "$t_regex" "$t_dissect")" \
        "$(ratio "$t_grok" "$t_dissect")" "$(ratio "$t_grok" "$t_regex")" "$(ratio "$t_combined" "$t_grok")"
done
# net: less the time to read the lines and run an empty template (only meaningful when every
# way takes clearly longer than "read"; a noisy run can make a difference near zero)
n_d=$(echo "$t_dissect - $t_read" | bc -l)
printf 'net of read (extraction alone): dissect %.3f s, dissect-regex %.3f s, regex %.3f s, grok %.3f s\n' \
    "$n_d" "$(echo "$t_dissect_regex - $t_read" | bc -l)" "$(echo "$t_regex - $t_read" | bc -l)" \
    "$(echo "$t_grok - $t_read" | bc -l)"
printf 'net: dissect-regex/dissect %.2fx, regex/dissect %.2fx, grok/dissect %.2fx\n' \
    "$(echo "($t_dissect_regex - $t_read) / $n_d" | bc -l)" \
    "$(echo "($t_regex - $t_read) / $n_d" | bc -l)" "$(echo "($t_grok - $t_read) / $n_d" | bc -l)"
ninstr=${BENCH_INSTR:-20000}
if [ "$ninstr" -gt 0 ] && command -v valgrind >/dev/null; then
    head -n "$ninstr" "$w1" > "$tmp/cut.log"
    instr() { # instr TEMPLATE: instructions counted by callgrind for the cut
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tmp/logwash" -j 1 -f "$1" \
            "$tmp/cut.log" 2>&1 >/dev/null | sed -n 's/.*Collected : *//p'
    }
    i_read=$(instr "$tmp/read.lw")
    echo "-- instructions per line (callgrind, first $ninstr lines, extraction alone, less read's $(echo "$i_read / $ninstr" | bc) per line)"
    for way in $ways; do
        i=$(instr "$tmp/$way-x.lw")
        v=$(echo "$way" | tr - _)
        eval "i_$v=$(echo "($i - $i_read) / $ninstr" | bc)"
        eval "printf '%-13s %8d\n' $way \$i_$v"
    done
    printf 'instructions: dissect-regex/dissect %.2fx, regex/dissect %.2fx, grok/dissect %.2fx\n' \
        "$(ratio "$i_dissect_regex" "$i_dissect")" "$(ratio "$i_regex" "$i_dissect")" \
        "$(ratio "$i_grok" "$i_dissect")"
fi
st=0
for way in dissect-regex regex grok; do
    if cmp -s "$tmp/dissect.emit" "$tmp/$way.emit"; then
        echo "output: $way = dissect ($(wc -l < "$tmp/dissect.emit") records)"
    else
        echo "output: $way and dissect DIFFER"
        st=1
    fi
done
echo "output: combined wrote $(wc -l < "$tmp/combined.emit") records (COMBINEDAPACHELOG also takes lines the others reject, e.g. a request that is not METHOD PATH PROTO)"
exit $st

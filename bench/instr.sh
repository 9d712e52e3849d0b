#!/bin/bash
# bench/instr.sh LOGWASH [OLD_LOGWASH OLD_TEMPLATES] - instruction counts (callgrind) of W1-W4,
# the load-independent side of bench/run.sh: the figures no other process on the machine
# changes. Not run by the tests. See bench/README.md ("Instructions").
#
# For each workload it runs logwash under `valgrind --tool=callgrind` on the sample corpus
# (../shared/corpus/sample, 10,000 records each) given once and given twice (the same file
# twice: the second run reads 10,000 more records), so that
#   per record = (Ir twice - Ir once) / 10,000      (start-up and exit cancel out)
#   fixed      = Ir once - 10,000 * per record      (start-up, compile, exit)
# with -j 1, and with -j 2 under --separate-threads=yes, which counts each thread apart:
#   serial = the main thread's share (reading, framing, copying records into batches,
#            settling them in order, writing), less the batches it runs itself (work_batch,
#            inclusive); workers = everything else: the worker threads' and those batches.
# With 2 CPUs -j 2 can run at most j1 / max(serial, (serial + workers) / 2) times faster than
# -j 1 (the "bound" column): the serial thread runs alone, and all the work shares 2 CPUs.
# Wall time adds what instructions do not show (cache misses, locks, waiting, other load).
#
# With OLD_LOGWASH (and its templates directory), the -j 1 figures of that build are printed
# too, for a before/after (an older build may have no -j: it is then run without it).
#
# Environment: INSTR_SAMPLE (default ../shared/corpus/sample), INSTR_WORKLOADS ("w1 w2 w3 w4";
# w2r is bench/w2r.lw on the W2 sample, issue 10's reshaping task).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
LW=${1:?usage: bench/instr.sh LOGWASH [OLD_LOGWASH OLD_TEMPLATES]}
OLD=${2:-}
OLDT=${3:-}
SAMPLE=${INSTR_SAMPLE:-$REPO/../shared/corpus/sample}
WORKLOADS=${INSTR_WORKLOADS:-w1 w2 w3 w4}
command -v valgrind >/dev/null || { echo "instr: skipped: valgrind not installed"; exit 0; }
[ -d "$SAMPLE" ] || { echo "instr: skipped: $SAMPLE not found"; exit 0; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

input() {
    case $1 in w2 | w2r) echo "$SAMPLE/w2.ndjson" ;; *) echo "$SAMPLE/$1.log" ;; esac
}
# template DIR W: templates/W-*.lw, or for a workload of bench/ alone (w2r) DIR/../bench/W.lw
template() {
    local t
    t=$(ls "$1"/"$2"-*.lw 2>/dev/null | head -n 1)
    [ -n "$t" ] || t="$1/../bench/$2.lw"
    echo "$t"
}
# ir OUT ARGS...: per thread (one file per thread with --separate-threads), its total Ir and
# the Ir of the batches it ran (work_batch, inclusive)
ir_threads() {
    local out=$1
    shift
    rm -f "$out"*
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" "$@" \
        >/dev/null 2>"$TMP/vg.err" || { echo "instr: failed: $*" >&2; return 1; }
    local f
    for f in "$out"*; do
        local t
        t=$(awk '/^(summary|totals):/ { print $2; exit }' "$f")
        [ -n "$t" ] || continue
        echo "$t $(callgrind_annotate --inclusive=yes "$f" 2>/dev/null |
            awk '/:work_batch / { gsub(",", "", $1); print $1; f = 1; exit } END { if (!f) print 0 }')"
    done
}
sum() { awk '{ s += $1 } END { printf "%.0f\n", s }'; }
serial() { head -n 1 | awk '{ printf "%.0f\n", $1 - $2 }'; }

printf '%-4s %9s %9s %9s %9s %9s %8s %9s %7s %7s\n' wl "j1/rec" "j2/rec" "+work" serial workers "serial%" "fixed" "bound" old/rec
for w in $WORKLOADS; do
    in=$(input "$w")
    t=$(template "$REPO/templates" "$w")
    [ -f "$in" ] && [ -f "$t" ] || { echo "instr: $w: no input or template" >&2; continue; }
    n=$(wc -l <"$in")
    a=$(ir_threads "$TMP/cg-a" "$LW" -q -j 1 -f "$t" "$in" | sum) || continue
    b=$(ir_threads "$TMP/cg-b" "$LW" -q -j 1 -f "$t" "$in" "$in" | sum) || continue
    ir_threads "$TMP/cg-c" "$LW" -q -j 2 -f "$t" "$in" >"$TMP/c.txt" || continue
    ir_threads "$TMP/cg-d" "$LW" -q -j 2 -f "$t" "$in" "$in" >"$TMP/d.txt" || continue
    j1=$(((b - a) / n))
    cs=$(serial <"$TMP/c.txt") cw=$(($(sum <"$TMP/c.txt") - cs))
    ds=$(serial <"$TMP/d.txt") dw=$(($(sum <"$TMP/d.txt") - ds))
    ser=$(((ds - cs) / n)) wk=$(((dw - cw) / n))
    j2=$((ser + wk))
    oldrec=-
    if [ -n "$OLD" ]; then
        ot=$(template "$OLDT" "$w")
        jo="-j 1"
        "$OLD" -q -j 1 --check -f "$ot" </dev/null >/dev/null 2>&1 || jo=
        oa=$(ir_threads "$TMP/cg-oa" "$OLD" -q $jo -f "$ot" "$in" | sum)
        ob=$(ir_threads "$TMP/cg-ob" "$OLD" -q $jo -f "$ot" "$in" "$in" | sum)
        oldrec=$(((ob - oa) / n))
    fi
    awk -v w="$w" -v j1="$j1" -v j2="$j2" -v ser="$ser" -v wk="$wk" -v fixed=$((a - n * j1)) \
        -v old="$oldrec" 'BEGIN {
        half = j2 / 2; m = ser > half ? ser : half
        printf "%-4s %9d %9d %8.1f%% %9d %9d %7.1f%% %8.2fM %6.2fx %7s\n", toupper(w), j1, j2,
            100 * (j2 - j1) / j1, ser, wk, 100 * ser / j2, fixed / 1e6, j1 / m, old }'
done
echo "instructions per record (callgrind Ir); +work: -j 2's total over -j 1's; serial%: the main"
echo "thread's share of -j 2; fixed: start-up and exit of a -j 1 run; bound: j1 / max(serial,"
echo "total / 2), the most -j 2 can gain on 2 CPUs; old/rec: OLD_LOGWASH's -j 1 per record."

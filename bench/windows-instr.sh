#!/bin/bash
# bench/windows-instr.sh BIN: instructions per record (callgrind Ir, load-independent) of the
# windows bench's template (bench/windows.sh) at -j 1, and at -j 2 the loop's serial share.
# Runs on the first 50,000 and 100,000 lines of its ad log (same generator and seed), so
#   per record = (Ir of 100k - Ir of 50k) / 50,000      (start-up and exit cancel out)
# -j 2 runs with --separate-threads=yes: serial = the loop's thread less the batches it runs
# itself (work_batch, inclusive), with the state's share in it (state_step, and
# logwash_state_wrong: the loop's check of each worker's log). Not run by the tests.
set -u
BIN=${1:?usage: bench/windows-instr.sh BIN}
command -v valgrind >/dev/null || { echo "windows-instr: skipped: valgrind not installed"; exit 0; }
dir=${BENCH_DIR:-/tmp/logwash-bench}/windows
mkdir -p "$dir"
for n in 50000 100000; do
    [ -f "$dir/ads-$n.jsonl" ] && continue
    python3 - "$n" > "$dir/ads-$n.jsonl" <<'PY'
import random, sys
r = random.Random(1)
t0 = 1772323200  # 2026-03-01T00:00:00Z
for i in range(int(sys.argv[1])):
    t = t0 + i // 50 + r.randrange(0, 20)
    s = "2026-03-%02dT%02d:%02d:%02dZ" % (1 + t // 86400 - t0 // 86400, t % 86400 // 3600, t % 3600 // 60, t % 60)
    print('{"ts":"%s","cid":"c%d","price":%d,"uid":"u%d"}' % (s, r.randrange(50), r.randrange(10000), r.randrange(100000)))
PY
done
cat > "$dir/w.lw" <<'LW'
input json
window tumbling 1m at parse_time(.ts, "rfc3339") late 1m key {cid: .cid} { imps = count(); spend = sum(.price) }
LW
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# fn_ir NAME: NAME's inclusive Ir in $TMP/ann (0: not there)
fn_ir() {
    awk -v fn="$1" '{ for (i = 2; i <= NF; i++) if (index($i, ":" fn) > 0 && (substr($i, index($i, ":" fn) + length(fn) + 1) == "" || substr($i, index($i, ":" fn) + length(fn) + 1, 1) == ".")) { x = $1; gsub(",", "", x); print x; f = 1; exit } }
        END { if (!f) print 0 }' "$TMP/ann"
}
# run OUT ARGS...: per thread, its total Ir and the inclusive Ir of work_batch, state_step and
# logwash_state_wrong
run() {
    local out=$1
    shift
    valgrind --tool=callgrind --dump-instr=no --separate-threads=yes --callgrind-out-file="$out" \
        "$@" >/dev/null 2>"$TMP/vg.err" || { echo "windows-instr: failed: $*" >&2; exit 1; }
    local f
    for f in "$out"*; do
        local t
        t=$(awk '/^(summary|totals):/ { print $2; exit }' "$f")
        [ -n "$t" ] || continue
        callgrind_annotate --inclusive=yes "$f" 2>/dev/null | sed '/Auto-annotated/q' >"$TMP/ann"
        echo "$t $(fn_ir work_batch) $(fn_ir state_step) $(fn_ir logwash_state_wrong)"
    done
}
a=$(run "$TMP/a" "$BIN" -q -j 1 -f "$dir/w.lw" "$dir/ads-50000.jsonl" | awk '{ s += $1 } END { print s }')
b=$(run "$TMP/b" "$BIN" -q -j 1 -f "$dir/w.lw" "$dir/ads-100000.jsonl" | awk '{ s += $1 } END { print s }')
run "$TMP/c" "$BIN" -q -j 2 -f "$dir/w.lw" "$dir/ads-50000.jsonl" >"$TMP/c.txt"
run "$TMP/d" "$BIN" -q -j 2 -f "$dir/w.lw" "$dir/ads-100000.jsonl" >"$TMP/d.txt"
paste <(head -n 1 "$TMP/c.txt") <(head -n 1 "$TMP/d.txt") |
    awk -v a="$a" -v b="$b" -v ct="$(awk '{ s += $1 } END { print s }' "$TMP/c.txt")" \
        -v dt="$(awk '{ s += $1 } END { print s }' "$TMP/d.txt")" '{
    j1 = (b - a) / 50000; j2 = (dt - ct) / 50000
    ser = (($5 - $6) - ($1 - $2)) / 50000; st = (($7 + $8) - ($3 + $4)) / 50000
    half = j2 / 2; m = ser > half ? ser : half
    printf "j1/rec %d  j2/rec %d  serial %d (state %d)  workers %d  serial %.1f%%  bound %.2fx\n",
        j1, j2, ser, st, j2 - ser, 100 * ser / j2, j1 / m }'

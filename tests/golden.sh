#!/bin/sh
# Golden tests: for each tests/golden/NAME.lw, run `logwash $(cat NAME.args) -f NAME.lw < NAME.in`
# in tests/golden/ and compare stdout with NAME.out, stderr with NAME.err (empty if absent) and
# the exit status with NAME.rc (0 if absent). UPDATE=1 rewrites the expectations (review them
# with git diff). VALGRIND="valgrind ..." runs each case under it; LW_TEST_ARGS adds options
# to every run (make valgrind passes --no-jit: valgrind cannot follow pcre2's JIT code).
# Usage: tests/golden.sh BIN [NAME...]
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
cd "$(dirname "$0")/golden" || exit 2
if [ $# -eq 0 ]; then
    set -- $(ls *.lw | sed 's/\.lw$//')
fi
pass=0
fail=0
# A case that hangs (say, a compile-time blow-up) fails instead of stalling the suite.
limit=
command -v timeout >/dev/null && limit="timeout 300"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Each case runs twice: with one thread, and with three workers and a batch per record
# (LOGWASH_BATCH=1: the most hand-offs between threads); -j must change nothing. Unless
# GOLDEN_JOBS says otherwise ("1": one run only).
jobs_list=${GOLDEN_JOBS:-1 3}
for name in "$@"; do
  for jobs in $jobs_list; do
    args=""
    [ -f "$name.args" ] && args=$(cat "$name.args")
    input=/dev/null
    [ -f "$name.in" ] && input=$name.in
    batch=
    [ "$jobs" != 1 ] && batch=1
    # shellcheck disable=SC2086
    LOGWASH_BATCH=$batch $limit ${VALGRIND:-} "$bin" -j $jobs ${LW_TEST_ARGS:-} $args -f "$name.lw" < "$input" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ "$jobs" != 1 ]; then name_j="$name (-j $jobs)"; else name_j=$name; fi
    want_rc=0
    [ -f "$name.rc" ] && want_rc=$(cat "$name.rc")
    if [ "${UPDATE:-0}" = 1 ]; then
        [ "$jobs" = 1 ] || continue
        cp "$tmp/out" "$name.out"
        if [ -s "$tmp/err" ]; then cp "$tmp/err" "$name.err"; else rm -f "$name.err"; fi
        if [ "$rc" != 0 ]; then echo "$rc" > "$name.rc"; else rm -f "$name.rc"; fi
        pass=$((pass + 1))
        continue
    fi
    [ -f "$name.out" ] || : > "$tmp/none"
    ok=1
    if ! cmp -s "$tmp/out" "${name}.out" 2>/dev/null; then
        if [ -f "$name.out" ] || [ -s "$tmp/out" ]; then ok=0; echo "FAIL $name_j: stdout differs"; diff "$name.out" "$tmp/out" 2>&1 | head -10; fi
    fi
    if [ -f "$name.err" ]; then
        if ! cmp -s "$tmp/err" "$name.err"; then ok=0; echo "FAIL $name_j: stderr differs"; diff "$name.err" "$tmp/err" | head -10; fi
    elif [ -s "$tmp/err" ]; then
        ok=0; echo "FAIL $name_j: unexpected stderr"; head -5 "$tmp/err"
    fi
    if [ "$rc" != "$want_rc" ]; then ok=0; echo "FAIL $name_j: exit status $rc, expected $want_rc"; fi
    if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
  done
done
echo "golden: $pass passed, $fail failed (runs of $# cases, -j: $jobs_list)"
[ $fail = 0 ]

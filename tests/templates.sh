#!/bin/sh
# Every shipped template has a golden test: templates/NAME.lw runs over tests/templates/NAME.in;
# stdout must equal NAME.out, the dead letters NAME.dl (none if absent), the exit status
# NAME.rc (0 if absent). An optional NAME.args holds extra logwash options for that template,
# white-space separated, no quoting (e.g. --tz Europe/Berlin, or the multiline framing
# options a template's header asks for). The w*-*.out expectations come from the reference implementations
# of ../shared/peers (wN.py); the others were checked field by field (tests/templates/README).
# Usage: tests/templates.sh BIN
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
for t in templates/*.lw; do
    name=$(basename "$t" .lw)
    name=tests/templates/$name
    if [ ! -f "$name.in" ] || { [ ! -f "$name.out" ] && [ "${UPDATE:-0}" != 1 ]; }; then
        echo "FAIL $t: no test ($name.in and .out; UPDATE=1 writes the .out from a .in)"
        fail=$((fail + 1))
        continue
    fi
    args=
    [ -f "$name.args" ] && args=$(cat "$name.args")
    # shellcheck disable=SC2086 # $args is a word list on purpose
    ${VALGRIND:-} "$bin" ${LW_TEST_ARGS:-} $args -q --now 2024-03-10T12:00:00Z --dead-letter "$tmp/dl" -f "$t" < "$name.in" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    want=0
    [ -f "$name.rc" ] && want=$(cat "$name.rc")
    if [ "${UPDATE:-0}" = 1 ]; then
        cp "$tmp/out" "$name.out"
        if [ -s "$tmp/dl" ]; then cp "$tmp/dl" "$name.dl"; else rm -f "$name.dl"; fi
        if [ $rc != 0 ]; then echo $rc > "$name.rc"; else rm -f "$name.rc"; fi
    fi
    ok=1
    cmp -s "$tmp/out" "$name.out" || { ok=0; echo "FAIL $name: output differs"; diff "$name.out" "$tmp/out" | head -6; }
    if [ -f "$name.dl" ]; then
        cmp -s "$tmp/dl" "$name.dl" || { ok=0; echo "FAIL $name: dead letters differ"; diff "$name.dl" "$tmp/dl" | head -6; }
    elif [ -s "$tmp/dl" ]; then
        ok=0; echo "FAIL $name: unexpected dead letters"; head -3 "$tmp/dl"
    fi
    [ -s "$tmp/err" ] && { ok=0; echo "FAIL $name: stderr:"; head -3 "$tmp/err"; }
    [ "$rc" = "$want" ] || { ok=0; echo "FAIL $name: exit status $rc, expected $want"; }
    if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
# The expectations of the templates tests/templates/oracle.py knows against that oracle; the
# summary line comes last and says when the oracle did not run.
oracle=
if [ "${UPDATE:-0}" = 1 ]; then
    echo "templates: UPDATE=1: check the new expectations with python3 tests/templates/oracle.py --all"
    oracle="; oracle not run (UPDATE=1)"
elif ! python3 -c 'import zoneinfo' 2>/dev/null || [ ! -f "${TZDIR:-/usr/share/zoneinfo}/Europe/Berlin" ]; then
    oracle="; oracle skipped: needs python3 3.9+ (zoneinfo) and tzdata"
elif ! python3 tests/templates/oracle.py --all; then
    fail=$((fail + 1))
fi
echo "templates: $pass passed, $fail failed$oracle"
[ $fail = 0 ]

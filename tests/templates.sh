#!/bin/sh
# Every shipped template has a test file beside it, templates/NAME.test.yaml, which
# `logwash test templates/` runs (logwash-test(1)); then tests/templates/oracle.py checks the
# expectations of the templates it knows against its own parsing of the same inputs
# (tests/templates/README.md). The w*-* expectations are the output of the reference
# implementations of ../shared/peers (wN.py), byte for byte.
# New cases: add them without expectations, `logwash test --update templates/NAME.test.yaml`,
# check the result with the oracle and git diff. A new template:
# python3 tools/template-tests.py NAME SAMPLE [--tz ZONE] writes its cases from a sample log.
# Coverage: every statement and both outcomes of every branch (if, ?:, ??) of every shipped
# template must be reached by its cases (--coverage-min=100; a line saying "# nocover: WHY"
# exempts the outcomes on it that no input can take); the per-template summary is printed.
# VALGRIND: a command to run logwash under; LW_TEST_ARGS: more `logwash test` options (--no-jit).
# Usage: tests/templates.sh BIN
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
fail=0
for t in templates/*.lw; do
    [ -f "${t%.lw}.test.yaml" ] || { echo "FAIL $t: no test file ${t%.lw}.test.yaml"; fail=$((fail + 1)); }
done
# shellcheck disable=SC2086 # LW_TEST_ARGS is a word list on purpose
${VALGRIND:-} "$bin" test -q --coverage-min=100 ${LW_TEST_ARGS:-} templates/ >"${TMPDIR:-/tmp}/templates.$$" 2>&1
rc=$?
cat "${TMPDIR:-/tmp}/templates.$$"
summary=$(tail -1 "${TMPDIR:-/tmp}/templates.$$")
rm -f "${TMPDIR:-/tmp}/templates.$$"
[ $rc = 0 ] || fail=$((fail + 1))
# The expectations of the templates tests/templates/oracle.py knows against that oracle; the
# summary line comes last and says when the oracle did not run.
oracle=
if ! python3 -c 'import zoneinfo, yaml' 2>/dev/null || [ ! -f "${TZDIR:-/usr/share/zoneinfo}/Europe/Berlin" ]; then
    oracle="; oracle skipped: needs python3 3.9+ (zoneinfo), PyYAML and tzdata"
elif python3 tests/templates/oracle.py --all; then
    oracle="; the oracle agrees"
else
    fail=$((fail + 1))
    oracle="; the oracle DISAGREES"
fi
echo "templates: ${summary#logwash test: }$oracle"
[ $fail = 0 ]

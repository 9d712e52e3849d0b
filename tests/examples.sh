#!/bin/sh
# Examples: for each examples/NAME.sh, run `sh NAME.sh` in examples/ with LOGWASH set to the
# binary and compare its stdout with NAME.out. The man pages quote these files, so what they
# show is what logwash does. UPDATE=1 rewrites the .out files (review them with git diff).
# Usage: tests/examples.sh BIN [NAME...]
set -u
if [ $# -lt 1 ]; then
    echo "usage: tests/examples.sh BIN [NAME...]" >&2
    exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
cd "$(dirname "$0")/../examples" || exit 2
if [ $# -eq 0 ]; then
    set -- $(ls *.sh | grep -v '^env\.sh$' | sed 's/\.sh$//')
fi
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for name in "$@"; do
    LOGWASH=$bin sh "$name.sh" > "$tmp/out" 2> "$tmp/err"
    if [ "${UPDATE:-0}" = 1 ]; then
        cp "$tmp/out" "$name.out"
        pass=$((pass + 1))
        continue
    fi
    if [ ! -f "$name.out" ]; then
        echo "FAIL $name: no $name.out"
        fail=$((fail + 1))
    elif cmp -s "$tmp/out" "$name.out"; then
        pass=$((pass + 1))
        # as they are, from the repository root (env.sh moves into examples/)
        (cd .. && LOGWASH=$bin sh "examples/$name.sh" >"$tmp/out.root" 2>/dev/null)
        if cmp -s "$tmp/out.root" "$name.out"; then pass=$((pass + 1)); else
            echo "FAIL $name: run from the repository root, stdout differs"
            fail=$((fail + 1))
        fi
    else
        echo "FAIL $name: stdout differs"
        diff "$name.out" "$tmp/out" | head -10
        [ -s "$tmp/err" ] && head -5 "$tmp/err"
        fail=$((fail + 1))
    fi
done
echo "examples: $pass passed, $fail failed"
[ $fail = 0 ]

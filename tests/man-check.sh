#!/bin/sh
# Man-page check: every long option of the opts.c table (and of `BIN --help`) must appear in
# man/logwash.1 as `Fl Fl name` or `\-\-name`, and every function of include/lw/builtins.def
# must appear in man/logwash-template.7 as `Fn name`. Names what is missing and fails.
# Usage: tests/man-check.sh BIN
set -u
if [ $# -ne 1 ]; then
    echo "usage: tests/man-check.sh BIN" >&2
    exit 2
fi
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
man1=$root/man/logwash.1
man7=$root/man/logwash-template.7
for f in "$man1" "$man7" "$root/src/app/opts.c" "$root/include/lw/builtins.def"; do
    if [ ! -f "$f" ]; then
        echo "man-check: $f is missing"
        exit 1
    fi
done

# Long options: the { "name", ... } entries of the table in opts.c, plus any --name that
# BIN --help prints (the two should agree; taking both catches a table the grep misreads).
opts=$( {
    sed -n 's/^[[:space:]]*{ { "\([a-z0-9-]*\)",.*/\1/p' "$root/src/app/opts.c"
    "$bin" --help 2>/dev/null | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}--\([a-z0-9-]*\).*/\2/p'
} | sort -u)
if [ -z "$opts" ]; then
    echo "man-check: found no options in src/app/opts.c or '$bin --help'"
    exit 1
fi
fns=$(sed -n 's/^FN(\([a-z_0-9]*\),.*/\1/p' "$root/include/lw/builtins.def" | sort -u)
if [ -z "$fns" ]; then
    echo "man-check: found no functions in include/lw/builtins.def"
    exit 1
fi

missing=0
nopts=0
for o in $opts; do
    nopts=$((nopts + 1))
    if ! grep -Eq "(Fl Fl $o|\\\\-\\\\-$o)([^a-z0-9-]|\$)" "$man1"; then
        echo "man-check: option --$o is not documented in man/logwash.1"
        missing=$((missing + 1))
    fi
done
nfns=0
for f in $fns; do
    nfns=$((nfns + 1))
    if ! grep -Eq "Fn $f([^a-z0-9_]|\$)" "$man7"; then
        echo "man-check: function $f() is not documented in man/logwash-template.7"
        missing=$((missing + 1))
    fi
done
# The opcode list must be what tools/opcodes-mdoc.sh makes of include/lw/ops.def.
want=$("$root/tools/opcodes-mdoc.sh" "$root/include/lw/ops.def")
have=$(awk '/^The opcodes, in the order that numbers them:$/ { on = 1; getline; next }
            on && /^\.El$/ { exit } on { print }' "$man7")
if [ "$want" != "$have" ]; then
    echo "man-check: the opcode list in man/logwash-template.7 is stale: regenerate it with tools/opcodes-mdoc.sh"
    missing=$((missing + 1))
fi
nops=$(printf '%s\n' "$want" | grep -c '^\.It Li')
for f in $(sed -n 's/^OP([A-Z]*, *\([A-Z]*\),.*/\1/p' "$root/include/lw/ops.def" | sort -u); do
    if ! grep -q "^\.It Li $f\$" "$man7"; then
        echo "man-check: operand format $f is not explained in man/logwash-template.7"
        missing=$((missing + 1))
    fi
done
# Every key of the job file (the tables and is(...) names of src/app/config.c) is in logwash.yaml.5.
man5=$root/man/logwash.yaml.5
keys=$(grep -oE '\{ "[a-z_]+", "-|is\(k, kl, "[a-z_]+"\)' "$root/src/app/config.c" |
    sed 's/[^"]*"\([a-z_]*\)".*/\1/' | sort -u)
nkeys=0
for k in $keys; do
    nkeys=$((nkeys + 1))
    if ! grep -Eq "Ic $k([^a-z_]|\$)" "$man5"; then
        echo "man-check: job-file key $k is not documented in man/logwash.yaml.5"
        missing=$((missing + 1))
    fi
done
# `logwash test` has options of its own: each of `BIN test --help` is in man/logwash-test.1.
mantest=$root/man/logwash-test.1
topts=$("$bin" test --help 2>/dev/null | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}--\([a-z0-9-]*\).*/\2/p' | sort -u)
if [ -z "$topts" ]; then
    echo "man-check: found no options in '$bin test --help'"
    missing=$((missing + 1))
fi
for o in $topts; do
    nopts=$((nopts + 1))
    e=$(printf '%s' "$o" | sed 's/-/\\\\-/g') # man writes \- for each -
    if ! grep -Eq "Fl \\\\-$e([^a-z0-9-]|\$)" "$mantest"; then
        echo "man-check: option test --$o is not documented in man/logwash-test.1"
        missing=$((missing + 1))
    fi
done
if [ $missing -ne 0 ]; then
    echo "man-check: $missing missing"
    exit 1
fi
echo "man-check: ok ($nopts options, $nfns functions, $nops opcodes, $nkeys job-file keys)"

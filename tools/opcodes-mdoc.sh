#!/bin/sh
# Prints the opcode list of man/logwash-template.7 from include/lw/ops.def, so the page can be
# regenerated and tests/man-check.sh can tell when it is stale.
# Usage: tools/opcodes-mdoc.sh [ops.def]
def=${1:-$(dirname "$0")/../include/lw/ops.def}
sed -n 's/^OP(\([A-Z]*\), *\([A-Z]*\), *"\(.*\)")$/.It Li \1\
.Li \2 :\
\3/p' "$def"

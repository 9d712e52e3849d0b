#!/bin/sh
# --disasm: the bytecode of a template, each instruction with its template line:column.
. "$(dirname "$0")/env.sh"
"$LOGWASH" --disasm -e 'let x = .a ?? 0
if x > 1 { emit {x, n: len(line)} }'

#!/bin/sh
# parse_syslog against an independent oracle: tests/oracle/syslog.py (regexes and Python's
# calendar, apart from src/lib/syslog.c and src/lib/timeparse.c) says what parse_syslog(line) ?? "error"
# gives for the golden tests' syslog lines, W4's 10,000 lines (../shared, when there) and
# 20,000 random lines of every form, valid and broken; logwash must say the same for every
# one, member order and types included. Skipped (saying so) without python3.
# Usage: tests/oracle/syslog.sh BIN
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v python3 >/dev/null 2>&1; then
    echo "syslog-oracle: skipped: python3 is not installed"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$here"/../golden/fn_parse_syslog*.in > "$tmp/in.txt"
w4=$here/../../../shared/corpus/sample/w4.log
w4_note=
if [ -f "$w4" ]; then cat "$w4" >> "$tmp/in.txt"; else w4_note="; W4's lines skipped: $w4 not found"; fi
python3 "$here/syslog.py" --gen 20000 1 >> "$tmp/in.txt" || exit 1
# records are lines: a line of only \r or an empty one is not a record for either side
grep -v '^$' "$tmp/in.txt" > "$tmp/lines.txt"
"$bin" -q --now 2024-03-12T00:00:00Z -e 'emit parse_syslog(line) ?? "error"' \
    < "$tmp/lines.txt" > "$tmp/got.txt" || exit 1
n=$(wc -l < "$tmp/lines.txt")
if python3 "$here/syslog.py" --compare "$tmp/lines.txt" "$tmp/got.txt"; then
    echo "syslog-oracle: ok ($n lines agree with tests/oracle/syslog.py$w4_note)"
    exit 0
fi
echo "syslog-oracle: FAIL: logwash and the oracle differ (first differences above)"
exit 1

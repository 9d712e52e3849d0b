#!/bin/sh
# IANA zones against an independent oracle: tests/tz/oracle.py asks Python's zoneinfo for the
# offset and abbreviation of ~100,000 instants per zone and the instant of ~70,000 wall-clock
# times per zone (gaps and overlaps included), and logwash must say the same for every one.
# Skipped (saying so) without python3 3.9+ or the tzdata files.
# Usage: tests/tz/oracle.sh BIN
set -u
bin=$1
here=$(dirname "$0")
if ! python3 -c 'import zoneinfo' 2>/dev/null; then
    echo "tz-oracle: skipped: python3 with zoneinfo (3.9+) is not installed"
    exit 0
fi
zdir=${TZDIR:-/usr/share/zoneinfo}
if [ ! -f "$zdir/America/New_York" ]; then
    echo "tz-oracle: skipped: no tzdata in $zdir (apt-get install tzdata)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/oracle.py" "$tmp" || exit 1
"$bin" -o text -f "$here/oracle.lw" "$tmp/in.txt" > "$tmp/got.txt" || exit 1
n=$(wc -l < "$tmp/in.txt")
if cmp -s "$tmp/want.txt" "$tmp/got.txt"; then
    echo "tz-oracle: ok ($n conversions agree with Python's zoneinfo)"
    exit 0
fi
echo "tz-oracle: FAIL: logwash and zoneinfo differ (input, zoneinfo, logwash):"
paste -d '|' "$tmp/in.txt" "$tmp/want.txt" "$tmp/got.txt" | awk -F'|' '$2 != $3' | head -20
exit 1

#!/bin/sh
# parse_user_agent against ua-parser's Python reference (Debian python3-ua-parser, reading the
# same uap-core regexes.yaml): every user agent of uap-core's test files (~30,000) must give
# the same user_agent, os and device objects. Skipped, saying so, without uap-core or a
# python3 that has ua_parser and yaml. Usage: tests/ua/oracle.sh BIN
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
yaml=${LOGWASH_UA_REGEXES:-/usr/share/uap-core/regexes.yaml}
t=/usr/share/uap-core/tests
r=/usr/share/uap-core/test_resources
if [ ! -f "$yaml" ] || [ ! -f "$t/test_ua.yaml" ]; then
    echo "ua-oracle: skipped: $yaml or $t missing (Debian package uap-core)"
    exit 0
fi
py=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import ua_parser, yaml' >/dev/null 2>&1; then py=$p; break; fi
done
if [ -z "$py" ]; then
    echo "ua-oracle: skipped: no python3 with ua_parser and yaml (Debian python3-ua-parser)"
    exit 0
fi
out=$("$py" "$here/oracle.py" "$bin" "$yaml" "$t/test_ua.yaml" "$t/test_os.yaml" \
    "$t/test_device.yaml" "$r"/*.yaml 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/ua-oracle: /'
exit $rc

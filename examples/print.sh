# print writes plain text lines instead of JSON records
. "$(dirname "$0")/env.sh"
"$LOGWASH" -e 'if match(line, /^(?<ip>\S+) .*?" (?<status>\d{3}) /) { print "${status} ${ip}" }' access.log

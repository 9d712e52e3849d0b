# JSON events -> one line per purchase, with a loop summing the items
. "$(dirname "$0")/env.sh"
"$LOGWASH" -f orders.lw events.ndjson

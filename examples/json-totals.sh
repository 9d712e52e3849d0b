# JSON events -> one line per purchase, with a loop summing the items
$LOGWASH -f orders.lw events.ndjson

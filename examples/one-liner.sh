# a template given with -e: pick three fields of the warnings in a JSON log
$LOGWASH -i json -e 'if .level == "warn" { emit {ts: .ts, service: .service, country: .geo.country} }' events.ndjson

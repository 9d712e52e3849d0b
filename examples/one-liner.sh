# a template given with -e: pick three fields of the warnings in a JSON log
. "$(dirname "$0")/env.sh"
"$LOGWASH" -i json -e 'if .level == "warn" { emit {ts: .ts, service: .service, country: .geo.country} }' events.ndjson

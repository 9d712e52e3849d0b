# timestamps: parse RFC 3339 times, write them as epoch milliseconds and at another offset
. "$(dirname "$0")/env.sh"
"$LOGWASH" -i json -e 'if .level == "warn" {
    let t = parse_time(.ts, "rfc3339")
    print "${format_time(t, "epoch_ms")} ${format_time(t, "%d/%b/%Y:%H:%M:%S.%3f %z", "+01:00")}"
}' events.ndjson

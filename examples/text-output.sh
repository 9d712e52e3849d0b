# -o text writes each emitted object as key=value pairs, quoting values when needed
. "$(dirname "$0")/env.sh"
"$LOGWASH" -o text -e 'let kv = parse_logfmt(line)
emit {level: kv.level, status: kv.status ?? "-", msg: kv.msg}' app.log

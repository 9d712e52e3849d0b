# Java stack traces as one record each: a line that starts with a date starts a record;
# the zone-less times are local time in Paris
. "$(dirname "$0")/env.sh"
"$LOGWASH" --multiline-start '^\d{4}-\d\d-\d\d ' --tz Europe/Paris -e '
let lines = split(line, "\n")
if len(lines) == 1 { drop }
emit {time: parse_time(substr(line, 0, 19), "%Y-%m-%d %H:%M:%S"), lines: len(lines),
      error: lines[1]}' java.log

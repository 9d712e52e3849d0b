# logfmt -> typed JSON (numbers and booleans typed, quoted values kept as strings)
. "$(dirname "$0")/env.sh"
"$LOGWASH" -f logfmt.lw app.log

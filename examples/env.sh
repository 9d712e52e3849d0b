# Sourced by every example: it runs in examples/ with "$LOGWASH" set, from wherever it is started
# (`sh examples/nginx-errors.sh` from the repository root works). "$LOGWASH" defaults to this tree's
# build/logwash, else the logwash on $PATH; a relative "$LOGWASH" is taken from where you are.
here=$(cd "$(dirname "$0")" && pwd)
case ${LOGWASH:-} in
"") if [ -x "$here/../build/logwash" ]; then LOGWASH=$here/../build/logwash; else LOGWASH=logwash; fi ;;
/*) ;;
*/*) LOGWASH=$(cd "$(dirname "$LOGWASH")" && pwd)/$(basename "$LOGWASH") ;;
esac
cd "$here" || exit 2

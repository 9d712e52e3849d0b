# nginx access log -> JSON, keeping only the requests that failed (status >= 400)
. "$(dirname "$0")/env.sh"
"$LOGWASH" -f nginx.lw access.log

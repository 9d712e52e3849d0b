# nginx access log -> JSON, keeping only the requests that failed (status >= 400)
$LOGWASH -f nginx.lw access.log

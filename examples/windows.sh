# windows and dedup: a retry (a1 again) is dropped by seen(); a7 comes after the minute
# 10:00 closed (the latest time, 10:01:40, passed its end plus 30 s): a dead letter of kind
# late; the end of input closes the minute 10:01
. "$(dirname "$0")/env.sh"
"$LOGWASH" -f windows.lw ads.jsonl 2>&1

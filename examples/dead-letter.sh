# a record the template rejects goes to the dead-letter file, with where and why
. "$(dirname "$0")/env.sh"
dl=$(mktemp)
"$LOGWASH" -q -f nginx.lw --dead-letter "$dl" access.log > /dev/null
echo "exit status $?"
cat "$dl"
rm -f "$dl"

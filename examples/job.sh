# a job file names the template, the input and the limits; options given after -c override it
. "$(dirname "$0")/env.sh"
"$LOGWASH" -c job.yaml -q
echo "exit status $?"
"$LOGWASH" -c job.yaml -q -o json | head -2

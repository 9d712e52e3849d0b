# --check compiles the template and exits; errors point at the template with a caret
. "$(dirname "$0")/env.sh"
"$LOGWASH" --check -e 'emit {kb: len(line) / "1024"}' 2>&1
echo "exit status $?"

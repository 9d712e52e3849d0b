# The shell harness of tests/cli.sh and tests/jobs.sh, sourced after `suite=NAME`: BIN from $1,
# a scratch directory as the working directory, the pass/fail/skip counters and the checks.
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
pass=0
fail=0

ok() { pass=$((pass + 1)); }
# skip WHAT: checks that cannot run here (a tool or device the machine lacks); the summary
# line lists them, so a run that skipped something does not read as a full pass.
skipped=
skip() {
    skipped="${skipped:+$skipped; }$*"
    echo "$suite: skipped: $*"
}
bad() {
    fail=$((fail + 1))
    echo "FAIL $*"
}

# run ARGS...: run logwash with stdin from ./in (empty unless a test wrote it); sets rc and
# leaves stdout in ./out and stderr in ./err. A run that never ends (a refusal regressed into a
# Kafka run waiting for brokers) is killed after 300 s: status 124, a failure, not a hung suite.
: >in
run() {
    timeout -k 10 300 "$bin" "$@" <in >out 2>err
    rc=$?
}

# expect_rc NAME STATUS
expect_rc() {
    if [ "$rc" = "$2" ]; then ok; else bad "$1: exit status $rc, expected $2"; fi
}

# expect_file NAME FILE: FILE must equal ./want, which the caller wrote.
expect_file() {
    if cmp -s want "$2"; then
        ok
    else
        bad "$1: $2 differs"
        diff want "$2" | head -10
    fi
}

# want LINE...: write the lines to ./want.
want() {
    printf '%s\n' "$@" >want
}

# expect_empty NAME FILE
expect_empty() {
    if [ -s "$2" ]; then
        bad "$1: $2 should be empty"
        head -5 "$2"
    else
        ok
    fi
}

# expect_usage NAME MESSAGE ARGS...: exit 2, the message and the hint on stderr, no output.
expect_usage() {
    name=$1
    msg=$2
    shift 2
    run "$@"
    expect_rc "$name" 2
    want "logwash: $msg" "try 'logwash --help'"
    expect_file "$name" err
    expect_empty "$name" out
}

# wait_for COND SECONDS: poll a shell condition every 0.1 s (tests/wait.sh).
. "$root/tests/wait.sh"

# summary: the suite's line (with what was skipped), and its status
summary() {
    echo "$suite: $pass passed, $fail failed${skipped:+; skipped: $skipped}"
    [ "$fail" = 0 ]
}

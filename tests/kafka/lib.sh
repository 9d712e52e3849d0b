# tests/kafka/lib.sh: the set-up the Kafka test scripts share. A script sources it after
# `set -u` and after setting the variables it needs (mockd=PATH for mockd_start):
#     . "$(dirname "$0")/lib.sh"
#     kafka_setup NAME [TOOL...]
#     mockd_start BROKERS [TOPIC:PARTITIONS...]
#     ... tests calling ok / bad ...
#     summary [-j] [SUFFIX]
#
# kafka_setup NAME [TOOL...]: NAME begins every line the script prints ("NAME: ...").
#     When kcat or a TOOL is not installed, prints "NAME: skipped: TOOL is not installed
#     (sh tools/deps.sh installs it)" and exits 0. Otherwise makes the temporary directory
#     $tmp and sets an EXIT trap that kill -9s the pids in $lwpid and in the variables named
#     in $kafka_kill9 (set it before the exit, e.g. kafka_kill9="bpid"), copies $tmp to
#     $kafka_keep when that is set (a directory to keep the run's files in), stops mockd and
#     removes $tmp. Sets pass=0 fail=0 pid= lwpid=.
# mockd_start BROKERS [TOPIC:PARTITIONS...]: runs "$mockd" -b BROKERS -f $tmp/boot TOPICS...
#     with its commands from fd 3 (echo "topic t 4" >&3), its replies in $tmp/replies and its
#     stderr in $tmp/mockd.err; waits up to 10 s for the bootstrap file, then sets boot (the
#     brokers' address) and pid (mockd's). If mockd does not start: "NAME: FAIL: mockd did
#     not start", its stderr, exit 1.
# ok MSG / bad MSG: print "NAME: MSG" / "NAME: FAIL: MSG" and count pass / fail.
# summary [-j] [SUFFIX]: print "NAME: $pass passed, $fail failed" + SUFFIX (with -j, NAME is
#     followed by " (-j N)" when LW_JOBS=N is set); its status is 0 when nothing failed, so a
#     script ends with it.
# Also set, for the scripts to use or override: J (logwash's -j N from LW_JOBS=N; make kafka
# runs the cases with 1 and 2 workers), KX (short session timeout and fetch waits, the mock's
# tips), SLOW (small fetches, so a run lasts long enough to be interrupted), and the helpers
# ctl CMD... (mockd commands, then 0.3 s for the cluster to apply them), field NAME (the
# value of "NAME" in each JSON line of stdin; values hold no quote or comma),
# wait_for COND SECONDS (poll the shell condition COND every 0.1 s; status 1 if it never held)
# and records_in N [ERRFILE] (until the summary lines of the logwash in $lwpid, run with
# --stats-interval 1 and its stderr in ERRFILE, default $tmp/lw.err, count N records in;
# status 1 if it exits first or 60 s pass).

J=${LW_JOBS:+-j $LW_JOBS}
KX="-X session.timeout.ms=6000 -X consumer.max.poll.interval.ms=7000 -X consumer.fetch.wait.max.ms=10 -X auto.commit.interval.ms=200"
SLOW="-X consumer.message.max.bytes=1000 -X consumer.fetch.max.bytes=2000 -X consumer.max.partition.fetch.bytes=400"

kafka_setup() {
    kafka_name=$1
    shift
    for kafka_t in kcat "$@"; do
        if ! command -v "$kafka_t" >/dev/null 2>&1; then
            echo "$kafka_name: skipped: $kafka_t is not installed (sh tools/deps.sh installs it)"
            exit 0
        fi
    done
    tmp=$(mktemp -d)
    pid= lwpid=
    pass=0 fail=0
    kafka_kill9=${kafka_kill9:-} kafka_keep=${kafka_keep:-}
    trap kafka_cleanup EXIT
}

kafka_cleanup() {
    for kafka_v in lwpid $kafka_kill9; do
        eval "kafka_p=\${$kafka_v:-}"
        for kafka_q in $kafka_p; do kill -9 "$kafka_q" 2>/dev/null; done
    done
    [ -n "$kafka_keep" ] && cp -r "$tmp" "$kafka_keep"
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}

mockd_start() {
    kafka_b=$1
    shift
    mkfifo "$tmp/ctl"
    "$mockd" -b "$kafka_b" -f "$tmp/boot" "$@" <"$tmp/ctl" >"$tmp/replies" 2>"$tmp/mockd.err" &
    pid=$!
    exec 3>"$tmp/ctl"
    i=0
    while [ ! -s "$tmp/boot" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if [ ! -s "$tmp/boot" ]; then
        echo "$kafka_name: FAIL: mockd did not start"
        cat "$tmp/mockd.err"
        exit 1
    fi
    boot=$(cat "$tmp/boot")
}

ok() {
    echo "$kafka_name: $*"
    pass=$((pass + 1))
}
bad() {
    echo "$kafka_name: FAIL: $*"
    fail=$((fail + 1))
}

summary() {
    kafka_label=$kafka_name
    if [ "${1:-}" = -j ]; then
        kafka_label="$kafka_name${LW_JOBS:+ (-j $LW_JOBS)}"
        shift
    fi
    echo "$kafka_label: $pass passed, $fail failed${1:-}"
    [ "$fail" = 0 ]
}

ctl() {
    for c in "$@"; do echo "$c" >&3; done
    sleep 0.3
}
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }
. "$(dirname "$0")/../wait.sh" # wait_for
records_in() {
    i=0
    while [ $i -lt 300 ] && kill -0 "$lwpid" 2>/dev/null; do
        # the file is made by the background run's redirection: it may not be there yet
        n=$([ -f "${2:-$tmp/lw.err}" ] && sed -n 's/.*kafka: \([0-9]*\) records in.*/\1/p' "${2:-$tmp/lw.err}" | tail -1)
        [ "${n:-0}" -ge "$1" ] && return 0
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

# sanitizer_check [-l LABEL] FILE...: a FAIL ("LABEL: sanitizer: ...") when a sanitizer reported
# in one of the stderr FILEs (the ASan/UBSan builds run these scripts too)
sanitizer_check() {
    san_l=
    if [ "$1" = -l ]; then
        san_l="$2: "
        shift 2
    fi
    if grep -hE 'AddressSanitizer|LeakSanitizer|runtime error' "$@" >"$tmp/san"; then
        bad "${san_l}sanitizer: $(head -2 "$tmp/san")"
    fi
}

# kill9_twice TOPIC GROUP OUT [LABEL]: the windowed tests' crash runs (winparts, winlate,
# winmulti, winsess). $tmp/t.lw runs from TOPIC to OUT twice, slowed, each killed with -9: the
# first once a commit moved, the second soon after, well before the end; checks that both kills
# came mid-stream (results out, more after the second, not every record committed: N + 3
# records at most), then a last run reads to the end with exit 0. Leaves $tmp/c1, c2 (commits
# after each kill) and the last run's stderr in $tmp/lw3.err.
ksum() { "$committed" "$boot" "$1" "$2" 2>/dev/null | awk '{ s += $2 } END { print s + 0 }'; }
kill9_twice() {
    k9t=$1 k9g=$2 k9o=$3 k9l=${4:+$4: }
    echo "rtt -1 30" >&3
    last=-3003
    for run in 1 2; do
        : >"$tmp/lw$run.err"
        "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic $k9t --group $k9g --to kafka \
            --out-topic $k9o $KX $SLOW --stats-interval 1 2>"$tmp/lw$run.err" &
        lwpid=$!
        records_in 1000 "$tmp/lw$run.err"
        if [ $run = 1 ]; then tries=150; else tries=15; fi
        wait_for '[ "$(ksum $k9g $k9t)" -gt "$last" ] || ! kill -0 $lwpid 2>/dev/null' $((tries / 5))
        kill -9 "$lwpid"; wait "$lwpid" 2>/dev/null; lwpid=
        "$committed" "$boot" $k9g $k9t >"$tmp/c$run"
        last=$(ksum $k9g $k9t)
        timeout 120 kcat -C -b "$boot" -t $k9o -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null |
            grep -c window_start >"$tmp/n$run"
    done
    echo "rtt -1 0" >&3
    n1=$(cat "$tmp/n1") n2=$(cat "$tmp/n2") total=$((N + 3))
    if [ "$n1" -gt 0 ] && [ "$n2" -gt "$n1" ] && [ "$last" -lt "$total" ]; then
        ok "${k9l}two runs killed with -9 mid-stream ($n1 then $n2 results out; committed offsets $(tr '\n' ' ' <"$tmp/c1")then $(tr '\n' ' ' <"$tmp/c2"))"
    else
        bad "${k9l}the kills were not mid-stream: $n1 then $n2 results out, committed $(tr '\n' ' ' <"$tmp/c2")"
    fi
    timeout 120 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic $k9t --group $k9g \
        --to kafka --out-topic $k9o --exit-at-eof $KX -q 2>"$tmp/lw3.err"
    rc=$?
    [ $rc = 0 ] && ok "${k9l}the last run reads to the end: exit 0" || bad "${k9l}last run: exit $rc: $(tail -2 "$tmp/lw3.err")"
}

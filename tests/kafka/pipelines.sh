#!/bin/sh
# Several Kafka pipelines in one process (logwash.yaml(5) PIPELINES) against librdkafka's mock
# cluster (tests/kafka/mockd): two sidecars, each with its own group, topics and producer, are
# killed with kill -9 mid-stream and run again to the end (--exit-at-eof): neither loses a
# message. A third pipeline whose output topic may not be written (the mock answers
# TOPIC_AUTHORIZATION_FAILED) fails at start and is
# restarted with backoff (its restarts in logwash_pipeline_restarts_total) while the two go on;
# once the topic may be written it delivers all of its input. Every wait is a poll with a generous
# bound; nothing asserts a duration.
# Usage: tests/kafka/pipelines.sh LOGWASH MOCKD
set -u
lw=$1 mockd=$2
. "$(dirname "$0")/lib.sh"
J=${LW_JOBS:+--jobs $LW_JOBS}
kafka_setup kafka-pipelines curl
mockd_start 2
for t in "pa_in 2" "pa_out 1" "pb_in 2" "pb_out 1" "pc_in 1" "pc_out 1"; do echo "topic $t" >&3; done
echo "topicerr pc_out 29" >&3
sleep 0.3
produce() { # produce TOPIC N
    seq 1 "$2" | awk '{ print "k-" ($1 % 5) ":m-" $1 }' >"$tmp/kv"
    timeout 120 kcat -P -b "$boot" -t "$1" -K: -l "$tmp/kv" 2>"$tmp/kcat.err" ||
        bad "kcat -P $1 failed: $(head -2 "$tmp/kcat.err")"
}
produce pa_in 50000
produce pb_in 50000
produce pc_in 1000
for p in a b c; do echo "emit {m: line, p: \"$p\"}" >"$tmp/$p.lw"; done
cat >"$tmp/job.yaml" <<EOF
kafka: {brokers: "$boot"}
metrics: {listen: "127.0.0.1:0"}
pipelines:
  pa: {template: a.lw, source: {type: kafka, topics: [pa_in], group: ga}, sink: {type: kafka, topic: pa_out}}
  pb: {template: b.lw, source: {type: kafka, topics: [pb_in], group: gb}, sink: {type: kafka, topic: pb_out}}
  pc: {template: c.lw, source: {type: kafka, topics: [pc_in], group: gc}, sink: {type: kafka, topic: pc_out}}
EOF
# start NAME ARGS...: sets lwpid and port
start() {
    name=$1
    shift
    "$lw" -c "$tmp/job.yaml" $J $KX "$@" 2>"$tmp/$name.err" &
    lwpid=$!
    port=
    if wait_for "grep -q 'metrics at http://127.0.0.1:[0-9]*/metrics' '$tmp/$name.err' 2>/dev/null" 20; then
        port=$(sed -n 's|^logwash: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' \
            "$tmp/$name.err")
    fi
}
value() { # value NAME PIPELINE
    curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" 2>/dev/null |
        awk -v s="$1{pipeline=\"$2\"}" '$1 == s { print $2 }'
}
atleast() { v=$(value "$1" "$2"); [ "${v:-0}" -ge "$3" ]; }

# run 1: killed with -9 once a pipeline is well into its input (pc keeps failing)
start run1 $SLOW
[ -n "$port" ] || bad "run 1: no metrics address: $(cat "$tmp/run1.err")"
wait_for 'atleast logwash_records_in_total pa 3000 || atleast logwash_records_in_total pb 3000' 60 ||
    bad "run 1: the pipelines did not get going: $(tail -3 "$tmp/run1.err")"
in_a=$(value logwash_records_in_total pa)
in_b=$(value logwash_records_in_total pb)
kill -9 "$lwpid"
wait "$lwpid" 2>/dev/null
lwpid=

# run 2: to the end; pc fails and is restarted with backoff while pa and pb go on; once
# pc_out may be written, pc gets through on a restart
start run2 --exit-at-eof $SLOW
if wait_for 'atleast logwash_pipeline_restarts_total pc 1' 30; then
    ok "a pipeline whose output topic may not be written is restarted with backoff while the others run"
else
    bad "pc was not restarted: $(grep pc "$tmp/run2.err" | head -3)"
fi
grep -q '^logwash: pipeline pc stopped (exit status [0-9]*, reason [a-z_]*): restarting in 1 s$' "$tmp/run2.err" &&
    ok "its failure is said" || bad "no restart line: $(tail -3 "$tmp/run2.err")"
fails=$(curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" 2>/dev/null |
    awk '$1 ~ /^logwash_pipeline_failures_total\{pipeline="pc",reason="(records|config|source|sink|dead_letter)"\}$/ { n += $2 } END { print n + 0 }')
[ "$fails" -ge 1 ] && ok "and counted in logwash_pipeline_failures_total" ||
    bad "pc's failures: $fails"
[ "$(value logwash_pipeline_up pa)" = 1 ] && [ "$(value logwash_pipeline_up pb)" = 1 ] &&
    ok "pa and pb are up meanwhile" || bad "pa/pb not up: $(value logwash_pipeline_up pa) $(value logwash_pipeline_up pb)"
wait_for "grep -q '^logwash: kafka: pa: assigned 2 partitions: pa_in/0 pa_in/1\$' '$tmp/run2.err'" 30 &&
    ok "Kafka's lines say whose pipeline they are" || bad "no 'kafka: pa:' line: $(head -12 "$tmp/run2.err")"
echo "topicerr pc_out 0" >&3
i=0
while kill -0 "$lwpid" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$lwpid" 2>/dev/null; then
    bad "run 2 did not end within 120 s: $(tail -3 "$tmp/run2.err")"
    kill -9 "$lwpid"
fi
wait "$lwpid"
rc=$?
lwpid=
[ "$rc" = 0 ] && ok "run 2 read every pipeline to its end: exit 0" || bad "run 2: exit $rc: $(tail -3 "$tmp/run2.err")"
for p in a b c; do
    n=50000
    [ $p = c ] && n=1000
    timeout 120 kcat -C -b "$boot" -t p${p}_out -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null |
        sed -n "s/^{\"m\":\"m-\([0-9]*\)\",\"p\":\"$p\"}\$/\1/p" | sort >"$tmp/got.$p"
    # comm needs both lists in the same (text) order, not numeric order
    seq 1 $n | sort >"$tmp/want.$p"
    missing=$(comm -23 "$tmp/want.$p" "$tmp/got.$p" | wc -l)
    dups=$(uniq -d "$tmp/got.$p" | wc -l)
    if [ "$missing" = 0 ]; then
        ok "p$p: $n in, $(wc -l <"$tmp/got.$p") out, none missing ($dups read again after kill -9)"
    else
        bad "p$p: $missing of $n missing"
    fi
done
echo "kafka-pipelines: (run 1 had read $in_a of pa's and $in_b of pb's 50000 messages when killed)"

summary

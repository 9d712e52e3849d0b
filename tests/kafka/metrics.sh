#!/bin/sh
# Kafka series of --metrics-listen (logwash(1) METRICS) against librdkafka's mock cluster
# (tests/kafka/mockd): a sidecar that has read and delivered everything shows each partition's
# lag 0 and commit offset at its end, the delivered count, no delivery errors and an empty
# produce queue; promtool checks the text. A topic of 1200 partitions gets at most 1000
# partition series (the bounded label set) while logwash_kafka_assigned_partitions counts them
# all. Acknowledgements held back by a slow broker show in the produce queue's depth, which falls
# to 0 once they come. Every wait is a poll with a generous bound; nothing asserts a duration.
# Usage: tests/kafka/metrics.sh LOGWASH MOCKD
set -u
lw=$1 mockd=$2
. "$(dirname "$0")/lib.sh"
kafka_setup kafka-metrics curl
mockd_start 2
scrape() { curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" >"$tmp/scraped" 2>/dev/null; }
value() { awk -v s="$1{$2}" '$1 == s { print $2 }' "$tmp/scraped"; }
# start NAME ARGS...: logwash in the background, metrics on a free port: sets lwpid, port
start() {
    name=$1
    shift
    "$lw" $J "$@" --metrics-listen 127.0.0.1:0 $KX 2>"$tmp/$name.err" &
    lwpid=$!
    port=
    if wait_for "grep -q 'metrics at http://127.0.0.1:[0-9]*/metrics' '$tmp/$name.err' 2>/dev/null" 20; then
        port=$(sed -n 's|^logwash: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' \
            "$tmp/$name.err")
    fi
}
stop() {
    kill -TERM "$lwpid"
    wait "$lwpid"
    rc=$?
    lwpid=
}

# 1. 3 partitions of 10 messages each: read, delivered, committed; then the series say so.
ctl "topic min 3" "topic mout 1"
for p in 0 1 2; do
    seq 1 10 | sed "s/^/p$p-/" | timeout 60 kcat -P -b "$boot" -t min -p $p -l /dev/stdin 2>/dev/null
done
start k1 -e 'emit line' --from kafka --brokers "$boot" --topic min --group gm --to kafka \
    --out-topic mout
P='pipeline="main"'
done1() {
    scrape && [ "$(value logwash_records_in_total "$P")" = 30 ] &&
        [ "$(value logwash_kafka_delivered_messages_total "$P")" = 30 ] &&
        for p in 0 1 2; do
            [ "$(value logwash_kafka_partition_commit_offset "$P,topic=\"min\",partition=\"$p\"")" = 10 ] &&
                [ "$(value logwash_kafka_partition_lag "$P,topic=\"min\",partition=\"$p\"")" = 0 ] ||
                return 1
        done
}
if [ -z "$port" ]; then
    bad "1: no metrics address: $(cat "$tmp/k1.err")"
elif wait_for done1 60; then
    ok "1: 30 records in and delivered, each partition's commit offset 10 and lag 0"
    got="$(value logwash_kafka_assigned_partitions "$P") $(value logwash_kafka_lag "$P")"
    got="$got $(value logwash_kafka_delivery_errors_total "$P")"
    got="$got $(value logwash_kafka_produce_queue_messages "$P")"
    if [ "$got" = "3 0 0 0" ]; then ok "1: 3 partitions, lag 0, no errors, queue empty"; else
        bad "1: assigned, lag, errors, queue: $got"; fi
    if command -v promtool >/dev/null 2>&1; then
        if promtool check metrics <"$tmp/scraped" >"$tmp/promtool.out" 2>&1; then
            ok "1: promtool check metrics"
        else
            bad "1: promtool: $(cat "$tmp/promtool.out")"
        fi
    else
        echo "kafka-metrics: skipped: promtool missing"
    fi
else
    bad "1: the series never showed the run: $(grep -v '^#' "$tmp/scraped" | grep -e in_total -e kafka)"
fi
[ -n "$lwpid" ] && stop
[ "$rc" = 0 ] && ok "1: exit 0 on SIGTERM" || bad "1: exit $rc: $(cat "$tmp/k1.err")"

# 2. 1200 partitions, one message or more in each: 1000 partition series, 1200 assigned.
ctl "topic big 1200"
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "k%d:v%d\n", i, i }' >"$tmp/big.kv"
timeout 120 kcat -P -b "$boot" -t big -K: -l "$tmp/big.kv" 2>/dev/null
start k2 -e 'drop' --from kafka --brokers "$boot" --topic big --group gb
done2() {
    scrape && [ "$(value logwash_records_in_total "$P")" = 20000 ] &&
        [ "$(value logwash_kafka_assigned_partitions "$P")" = 1200 ]
}
if [ -z "$port" ]; then
    bad "2: no metrics address: $(cat "$tmp/k2.err")"
elif wait_for done2 120; then
    n=$(grep -c '^logwash_kafka_partition_lag{' "$tmp/scraped")
    c=$(grep -c '^logwash_kafka_partition_commit_offset{' "$tmp/scraped")
    if [ "$n" -le 1000 ] && [ "$c" -le 1000 ] && [ "$n" -gt 0 ]; then
        ok "2: 1200 partitions assigned, $n and $c partition series (at most 1000)"
    else
        bad "2: $n lag and $c commit series for 1200 partitions"
    fi
else
    bad "2: never 20000 records and 1200 partitions: $(grep -e in_total -e assigned "$tmp/scraped")"
fi
[ -n "$lwpid" ] && stop
[ "$rc" = 0 ] && ok "2: exit 0 on SIGTERM" || bad "2: exit $rc: $(tail -3 "$tmp/k2.err")"

# 3. Slow acknowledgements (the output's broker answers 4 s late): the produce queue's depth
#    shows the messages in flight, then falls to 0 once they are delivered.
ctl "topic qin 1" "topic qout 1" "leader qin 0 1" "leader qout 0 2" "coord gq 1"
start k3 -e 'emit line' --from kafka --brokers "$boot" --topic qin --group gq --to kafka \
    --out-topic qout
assigned() { scrape && [ "$(value logwash_kafka_assigned_partitions "$P")" = 1 ]; }
wait_for assigned 60 || bad "3: qin never assigned"
ctl "rtt 2 4000"
seq 1 20 | timeout 60 kcat -P -b "$boot" -t qin -l /dev/stdin 2>/dev/null
queued() { scrape && [ "$(value logwash_kafka_produce_queue_messages "$P")" -gt 0 ] 2>/dev/null; }
drained() {
    scrape && [ "$(value logwash_kafka_produce_queue_messages "$P")" = 0 ] &&
        [ "$(value logwash_kafka_delivered_messages_total "$P")" = 20 ]
}
if [ -z "$port" ]; then
    bad "3: no metrics address: $(cat "$tmp/k3.err")"
elif wait_for queued 60; then
    ok "3: $(value logwash_kafka_produce_queue_messages "$P") messages in the produce queue"
    ctl "rtt 2 0"
    if wait_for drained 60; then ok "3: queue 0 and 20 delivered"; else
        bad "3: never drained: $(grep -e queue -e delivered "$tmp/scraped" | grep -v '^#')"; fi
else
    bad "3: the queue never showed: $(grep -e queue -e delivered -e in_total "$tmp/scraped" | grep -v '^#')"
fi
ctl "rtt 2 0"
[ -n "$lwpid" ] && stop
[ "$rc" = 0 ] && ok "3: exit 0 on SIGTERM" || bad "3: exit $rc: $(tail -3 "$tmp/k3.err")"

summary

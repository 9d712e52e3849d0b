#!/bin/sh
# Backpressure: the output topic's leader (broker 2 of librdkafka's mock cluster) is down for
# longer than max.poll.interval.ms while the input's leader and the group coordinator
# (broker 1) stay up. The producer's queue (queue.buffering.max.messages=1000 here) fills and
# logwash stops reading, but keeps polling its consumer with its partitions paused, so the
# member stays in the group: no rebalance, no partition lost, each input read once. Its RSS
# is sampled during the outage and must stay bounded; after the leader comes back every input
# is delivered exactly once and the committed offsets are the partition ends.
# Usage: tests/kafka/backpressure.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
bpid= kafka_kill9=bpid kafka_keep=${BP_KEEP:-}
. "$(dirname "$0")/lib.sh"
kafka_setup backpressure
mockd_start 3

ctl "topic in 4" "topic out 4" "coord g 1"
for p in 0 1 2 3; do ctl "leader in $p 1" "leader out $p 2"; done
seq 1 20000 | awk '{ print "k-" ($1 % 13) ":m-" $1 }' >"$tmp/in.kv"
cut -d: -f2 "$tmp/in.kv" | sort >"$tmp/in.sent"
timeout 120 kcat -P -b "$boot" -t in -K: -l "$tmp/in.kv" 2>/dev/null
ctl "down 2"
echo 'emit {m: line, p: meta.partition, o: meta.offset}' >"$tmp/t.lw"
"$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic in --group g --to kafka \
    --out-topic out --exit-at-eof -X session.timeout.ms=6000 -X consumer.max.poll.interval.ms=7000 \
    -X consumer.fetch.wait.max.ms=10 -X auto.commit.interval.ms=200 \
    -X producer.queue.buffering.max.messages=1000 --stats-interval 1 -v 2>"$tmp/lw.err" &
lwpid=$!
# the queue is full once 1000 records were read; then 15 s (twice max.poll.interval.ms)
wait_for 'grep -qs "output queue full" "$tmp/lw.err"' 60 # -s: the background run may not have made it yet
maxrss=0
for s in $(seq 1 30); do
    r=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$lwpid/status" 2>/dev/null)
    [ "${r:-0}" -gt $maxrss ] && maxrss=$r
    sleep 0.5
done
alive=0
kill -0 "$lwpid" 2>/dev/null && alive=1
read_during=$(sed -n 's/.*output queue full (\([0-9]*\) records read).*/\1/p' "$tmp/lw.err")
ctl "up 2"
i=0
while kill -0 "$lwpid" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 "$lwpid" 2>/dev/null # still running after 120 s: a hang, and a failure
wait "$lwpid"; rc=$?; lwpid=
timeout 120 kcat -C -b "$boot" -t out -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/out" 2>/dev/null
field m <"$tmp/out" | sort >"$tmp/got"
summary=$(sed -n 's/^logwash: \([0-9]*\) records: \([0-9]*\) emitted.*/\1 \2/p' "$tmp/lw.err")
moved=$(grep -c -E "revoked|lost|maximum poll interval" "$tmp/lw.err")
assigned=$(grep -c "assigned 4 partitions" "$tmp/lw.err")
if [ $rc = 0 ] && [ $alive = 1 ] && [ "${read_during:-0}" -ge 1000 ] && [ "${read_during:-0}" -lt 20000 ] &&
    [ "$moved" = 1 ] && grep -q "revoked 4 partitions" "$tmp/lw.err" && [ "$assigned" = 1 ] &&
    [ "$summary" = "20000 20000" ] && cmp -s "$tmp/in.sent" "$tmp/got"; then
    ok "output leader down 15 s (max.poll.interval.ms 7 s): reading stopped at $read_during, no rebalance until the final revocation, 20000 read once and delivered once"
else
    bad "output outage: exit $rc, alive $alive, read $read_during during it, $moved revocations/losses, assigned $assigned times, summary '$summary', $(wc -l <"$tmp/got") out ($(uniq -d "$tmp/got" | wc -l) duplicated); $(grep -E "revoked|lost|poll interval" "$tmp/lw.err" | head -3)"
fi
# bounded: librdkafka's queues (1000 messages here), one fetch ahead, and logwash's own rings
if [ "$maxrss" -gt 0 ] && [ "$maxrss" -lt 200000 ]; then
    ok "RSS during the outage at most $maxrss kB (bound 200000 kB)"
else
    bad "RSS during the outage $maxrss kB"
fi
"$committed" "$boot" g in >"$tmp/c" 2>&1
want=$(awk -F'[:,}]' '{ for (i = 1; i < NF; i++) { if ($i ~ /"p"$/) p = $(i + 1); if ($i ~ /"o"$/) o = $(i + 1) } if (o + 1 > m[p]) m[p] = o + 1 } END { for (p = 0; p < 4; p++) print p, m[p] + 0 }' "$tmp/out")
if [ "$(cat "$tmp/c")" = "$want" ]; then
    ok "committed offsets are the partition ends ($(awk '{ s += $2 } END { print s }' "$tmp/c"))"
else
    bad "committed $(tr '\n' ' ' <"$tmp/c"), expected $(echo "$want" | tr '\n' ' ')"
fi
# 2. A rebalance while the queue is full: a second member joins during the outage, so the
#    first gives up partitions from inside its wait (the revocation drains what it can). Its
#    standard output must stay empty (the outputs being produced belong to Kafka), both
#    members finish and nothing is lost. Duplicates are allowed: the handover happens with
#    deliveries still waiting. The last commits may meet the rebalance of a member leaving
#    (the mock refuses them), so a last run reads what is left and then the committed offsets
#    must be the partition ends.
ctl "topic in2 4" "topic out2 4" "coord g2 1"
for p in 0 1 2 3; do ctl "leader in2 $p 1" "leader out2 $p 2"; done
seq 1 20000 | awk '{ print "k-" ($1 % 13) ":m-" $1 }' >"$tmp/in2.kv"
timeout 120 kcat -P -b "$boot" -t in2 -K: -l "$tmp/in2.kv" 2>/dev/null
ctl "down 2"
K2="-X session.timeout.ms=6000 -X consumer.max.poll.interval.ms=7000 -X consumer.fetch.wait.max.ms=10 -X auto.commit.interval.ms=200 -X producer.queue.buffering.max.messages=1000 --flush-timeout 2000"
"$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic in2 --group g2 --to kafka \
    --out-topic out2 --exit-at-eof $K2 >"$tmp/a2.out" 2>"$tmp/a2.err" &
lwpid=$!
wait_for 'grep -qs "output queue full" "$tmp/a2.err"' 60 # -s: the background run may not have made it yet
"$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic in2 --group g2 --to kafka \
    --out-topic out2 --exit-at-eof $K2 >"$tmp/b2.out" 2>"$tmp/b2.err" &
bpid=$!
wait_for 'grep -qs "revoked" "$tmp/a2.err"' 60 # -s: the background run may not have made it yet
sleep 3
ctl "up 2"
i=0
while { kill -0 "$lwpid" || kill -0 "$bpid"; } 2>/dev/null && [ $i -lt 1800 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 "$lwpid" "$bpid" 2>/dev/null # still running after 180 s: a hang, and a failure
wait "$lwpid"; rca=$?; lwpid=
wait "$bpid"; rcb=$?; bpid=
timeout 120 kcat -C -b "$boot" -t out2 -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/out2" 2>/dev/null
field m <"$tmp/out2" | sort -u >"$tmp/got2"
missing=$(comm -23 "$tmp/in.sent" "$tmp/got2" | wc -l)
if [ $rca = 0 ] && [ $rcb = 0 ] && [ "$missing" = 0 ] && [ ! -s "$tmp/a2.out" ] && [ ! -s "$tmp/b2.out" ] &&
    grep -q "revoked" "$tmp/a2.err"; then
    ok "a member joins while the first waits for room: its revocation is served in the wait, stdout empty, 0 lost ($(wc -l <"$tmp/out2") delivered for 20000)"
else
    bad "rebalance during the wait: exits $rca $rcb, $missing missing, stdout $(wc -c <"$tmp/a2.out") and $(wc -c <"$tmp/b2.out") bytes; $(grep -E "revoked|assigned" "$tmp/a2.err" | head -3)"
fi
timeout 120 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic in2 --group g2 --to kafka \
    --out-topic out2 --exit-at-eof $K2 -q >"$tmp/c2.out"
timeout 120 kcat -C -b "$boot" -t out2 -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/out2" 2>/dev/null
"$committed" "$boot" g2 in2 >"$tmp/c2" 2>&1
want=$(awk -F'[:,}]' '{ for (i = 1; i < NF; i++) { if ($i ~ /"p"$/) p = $(i + 1); if ($i ~ /"o"$/) o = $(i + 1) } if (o + 1 > m[p]) m[p] = o + 1 } END { for (p = 0; p < 4; p++) print p, m[p] + 0 }' "$tmp/out2")
if [ "$(cat "$tmp/c2")" = "$want" ]; then
    ok "after the rebalance in the wait: committed offsets are the partition ends"
else
    bad "rebalance in the wait: committed $(tr '\n' ' ' <"$tmp/c2"), expected $(echo "$want" | tr '\n' ' ')"
fi
# 3. SIGTERM while the producer waits for room (the output's leader down): logwash gives the
#    wait up instead of waiting for the brokers, exits 1 (outputs not delivered) and commits
#    nothing it did not deliver; a restart with the leader back delivers each record once.
ctl "topic in3 1" "topic out3 1" "coord g3 1" "leader in3 0 1" "leader out3 0 2"
seq 1 500 | sed 's/^/m-/' >"$tmp/in3"
timeout 120 kcat -P -b "$boot" -t in3 -l "$tmp/in3" 2>/dev/null
ctl "down 2"
K3="-X session.timeout.ms=6000 -X consumer.max.poll.interval.ms=7000 -X consumer.fetch.wait.max.ms=10 -X auto.commit.interval.ms=200 -X producer.queue.buffering.max.messages=100 --flush-timeout 1000"
: >"$tmp/a3.err"
"$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic in3 --group g3 --to kafka \
    --out-topic out3 --exit-at-eof $K3 2>"$tmp/a3.err" &
lwpid=$!
wait_for 'grep -qs "output queue full" "$tmp/a3.err"' 60 # -s: the background run may not have made it yet
kill -TERM "$lwpid"
i=0
while kill -0 "$lwpid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
alive=0
kill -0 "$lwpid" 2>/dev/null && alive=1
kill -9 "$lwpid" 2>/dev/null # still waiting 30 s after SIGTERM, the brokers still away: a failure
wait "$lwpid"; rc3=$?; lwpid=
"$committed" "$boot" g3 in3 >"$tmp/c3a" 2>/dev/null # (broker 2 down: its connection errors)
ctl "up 2"
timeout 120 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic in3 --group g3 --to kafka \
    --out-topic out3 --exit-at-eof $K3 -q
rc3b=$?
timeout 120 kcat -C -b "$boot" -t out3 -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/out3" 2>/dev/null
"$committed" "$boot" g3 in3 >"$tmp/c3b" 2>&1
if [ $alive = 0 ] && [ $rc3 = 1 ] && grep -q "stopped while waiting for room in the output queue" "$tmp/a3.err" &&
    [ "$(cat "$tmp/c3a")" = "0 -1001" ] && [ $rc3b = 0 ] && [ "$(wc -l <"$tmp/out3")" = 500 ] &&
    [ "$(field m <"$tmp/out3" | sort -u | wc -l)" = 500 ] && [ "$(cat "$tmp/c3b")" = "0 500" ]; then
    ok "SIGTERM during a wait for room: exit 1 without waiting for the brokers, nothing committed; the restart delivers 500 once, committed 500"
else
    bad "SIGTERM in a wait for room: alive $alive, exit $rc3, committed '$(cat "$tmp/c3a")', restart exit $rc3b, $(wc -l <"$tmp/out3") out, committed '$(cat "$tmp/c3b")'; $(tail -3 "$tmp/a3.err")"
fi
summary -j

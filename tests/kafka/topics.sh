#!/bin/sh
# Topics that do not exist or may not be used, against librdkafka's mock cluster
# (tests/kafka/mockd): a record routed (emit ... to) to such a topic becomes a dead letter and
# the stream goes on; the fixed output and dead-letter topics are checked at start-up (exit 4);
# an input topic stops an --exit-at-eof run (exit 4) and is waited for otherwise. The mock
# creates any topic a client asks about, so an "unknown" topic here is one created and then
# made to answer metadata requests with UNKNOWN_TOPIC_OR_PART (mockd's topicerr); an
# unauthorized one answers with TOPIC_AUTHORIZATION_FAILED, either in metadata or (for a
# routed topic) in the produce responses of its leader, as a broker with ACLs does.
# Usage: tests/kafka/topics.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_setup topics
mockd_start 3
consume() { timeout 60 kcat -C -b "$boot" -t "$1" -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null; }
put() { t=$1; shift; printf '%s\n' "$@" | timeout 60 kcat -P -b "$boot" -t "$t" -l /dev/stdin 2>/dev/null; }
# putv TOPIC MSG...: put, then wait until TOPIC holds them (a put racing with the topic's
# creation on a loaded machine was once lost, and logwash then read an empty topic); tries 3
# times, then says so (the case then fails on its counts)
count() { consume "$1" | wc -l; }
putv() {
    t=$1
    want=$(($(count "$t") + $# - 1))
    for try in 1 2 3; do
        [ "$try" = 1 ] || sleep 1
        put "$@"
        i=0
        while [ "$(count "$t")" -lt "$want" ] && [ $i -lt 20 ]; do sleep 0.25; i=$((i + 1)); done
        [ "$(count "$t")" -ge "$want" ] && return 0
        want=$(($(count "$t") + $# - 1)) # what a partial put left: put all again
    done
    echo "topics: put to $t did not arrive after 3 tries"
}
ROUTE='input json
emit . to .t'

# 1. Records routed to an unknown topic and to one the brokers refuse (its leader, broker 3,
#    answers its produce request with TOPIC_AUTHORIZATION_FAILED 29) become dead letters of
#    kind "route" on the dead-letter topic, with the input's position, the topic, the error
#    and the output; the others are delivered and every input offset is committed.
ctl "topic in1 1" "topic out1 1" "topic dl1 1" "topic gone1 1" "topic deny1 1" \
    "leader out1 0 1" "leader dl1 0 1" "leader in1 0 1" "leader deny1 0 3" "topicerr gone1 3"
ctl "berror 3 0 29 1" # the only produce request broker 3 gets: deny1's
putv in1 '{"t":"out1","n":0}' '{"t":"gone1","n":1}' '{"t":"out1","n":2}' '{"t":"deny1","n":3}' \
    '{"t":"out1","n":4}'
timeout 120 "$lw" $J -e "$ROUTE" --from kafka --brokers "$boot" --topic in1 --group g1 --to kafka \
    --out-topic out1 --dead-letter-topic dl1 --exit-at-eof $KX 2>"$tmp/lw1.err"
rc=$?
got_out=$(consume out1 | tr '\n' ' ')
consume dl1 >"$tmp/dl1"
want_dl='{"topic":"in1","partition":0,"offset":1,"kind":"route","template":null,"error":"output topic gone1: Broker: Unknown topic or partition","output_topic":"gone1","output":"{\"t\":\"gone1\",\"n\":1}"}
{"topic":"in1","partition":0,"offset":3,"kind":"route","template":null,"error":"delivery to deny1 [0] failed: Broker: Topic authorization failed","output_topic":"deny1","output":"{\"t\":\"deny1\",\"n\":3}"}'
"$committed" "$boot" g1 in1 >"$tmp/c1"
if [ $rc = 1 ] && [ "$got_out" = '{"t":"out1","n":0} {"t":"out1","n":2} {"t":"out1","n":4} ' ] &&
    [ "$(sort "$tmp/dl1")" = "$want_dl" ] && [ "$(cat "$tmp/c1")" = "0 5" ]; then
    ok "routed to an unknown and an unauthorized topic: 3 delivered, 2 route dead letters, all 5 committed, exit 1"
else
    bad "routed to bad topics: exit $rc, out '$got_out', committed '$(cat "$tmp/c1")'"; cat "$tmp/dl1"; tail -5 "$tmp/lw1.err"
fi

# 1b. A long output routed to an unknown topic: its dead letter keeps the first 64 KiB
#     (65536 bytes of 100020), marked output_cut, and is delivered.
ctl "topic in1b 1"
awk 'BEGIN { s = "x"; while (length(s) < 100000) s = s s; print "{\"t\":\"gone1\",\"s\":\"" substr(s, 1, 100000) "\"}" }' >"$tmp/in1b"
timeout 60 kcat -P -b "$boot" -t in1b -l "$tmp/in1b" 2>/dev/null
timeout 120 "$lw" $J -e "$ROUTE" --from kafka --brokers "$boot" --topic in1b --group g1b --to kafka \
    --out-topic out1 --dead-letter-topic dl1 --exit-at-eof $KX 2>"$tmp/lw1b.err"
rc=$?
consume dl1 | grep '"topic":"in1b"' >"$tmp/dl1b"
kept=$(sed -n 's/.*"output":"\(.*\)","output_cut":true}$/\1/p' "$tmp/dl1b" | sed 's/\\"/"/g' | tr -d '\n' | wc -c)
if [ $rc = 1 ] && [ "$(wc -l <"$tmp/dl1b")" = 1 ] && [ "$kept" = 65536 ]; then
    ok "a 100020-byte output routed to an unknown topic: its dead letter keeps 65536 bytes, output_cut"
else
    bad "long route dead letter: exit $rc, $(wc -l <"$tmp/dl1b") dead letters, $kept bytes kept; $(tail -2 "$tmp/lw1b.err")"
fi

# 1c. Several records routed to the same unknown topic, each with a second output after it.
#     After the first one's delivery report librdkafka knows the topic is missing and refuses
#     the next messages to it at once; those must become route dead letters too (not whole
#     "produce" dead letters), and the record's later output must still be produced. A producer
#     queue of one message makes every put wait for the previous report, so records 2-5 meet
#     the refusal whatever the timing.
ctl "topic in1c 1" "topic out1c 1" "topic dl1c 1" "topic gone1c 1" "leader in1c 0 1" \
    "leader out1c 0 1" "leader dl1c 0 1" "topicerr gone1c 3"
putv in1c '{"t":"gone1c","n":0}' '{"t":"out1c","n":1}' '{"t":"gone1c","n":2}' \
    '{"t":"gone1c","n":3}' '{"t":"out1c","n":4}' '{"t":"gone1c","n":5}' '{"t":"gone1c","n":6}'
timeout 120 "$lw" $J -e "$ROUTE
emit {n: .n} to \"out1c\"" --from kafka --brokers "$boot" --topic in1c --group g1c --to kafka \
    --out-topic out1c --dead-letter-topic dl1c --exit-at-eof $KX \
    -X producer.queue.buffering.max.messages=1 2>"$tmp/lw1c.err"
rc=$?
got_out=$(consume out1c | tr '\n' ' ')
consume dl1c >"$tmp/dl1c"
"$committed" "$boot" g1c in1c >"$tmp/c1c"
nroute=0
for n in 0 2 3 5 6; do
    grep -q '^{"topic":"in1c","partition":0,"offset":'$n',"kind":"route",.*"output_topic":"gone1c","output":"{\\"t\\":\\"gone1c\\",\\"n\\":'$n'}"}$' "$tmp/dl1c" &&
        nroute=$((nroute + 1))
done
want_out='{"n":0} {"t":"out1c","n":1} {"n":1} {"n":2} {"n":3} {"t":"out1c","n":4} {"n":4} {"n":5} {"n":6} '
if [ $rc = 1 ] && [ "$got_out" = "$want_out" ] && [ $nroute = 5 ] && [ "$(wc -l <"$tmp/dl1c")" = 5 ] &&
    [ "$(cat "$tmp/c1c")" = "0 7" ]; then
    ok "5 records routed to one unknown topic: 5 route dead letters with their outputs, every second output delivered (9), all 7 committed, exit 1"
else
    bad "several records to one unknown topic: exit $rc, $nroute route letters, out '$got_out', committed '$(cat "$tmp/c1c")'"; cat "$tmp/dl1c"; tail -5 "$tmp/lw1c.err"
fi

# 1d. A routed topic that its metadata refuses (TOPIC_AUTHORIZATION_FAILED, as a broker with
#     ACLs answers a client that may not describe it): librdkafka would hold such a message
#     until message.timeout.ms (5 minutes) and then stop the run at that record on every
#     restart. logwash asks about a routed topic when it first uses it, so each record routed
#     there becomes a route dead letter at once. --flush-timeout 20000 and the default
#     message.timeout.ms: a held message would make the run fail, not just slow.
ctl "topic in1d 1" "topic out1d 1" "topic dl1d 1" "topic deny1d 1" "leader in1d 0 1" \
    "leader out1d 0 1" "leader dl1d 0 1" "topicerr deny1d 29"
putv in1d '{"t":"deny1d","n":0}' '{"t":"out1d","n":1}' '{"t":"deny1d","n":2}'
timeout 120 "$lw" $J -e "$ROUTE" --from kafka --brokers "$boot" --topic in1d --group g1d --to kafka \
    --out-topic out1d --dead-letter-topic dl1d --exit-at-eof --flush-timeout 20000 $KX 2>"$tmp/lw1d.err"
rc=$?
got_out=$(consume out1d | tr '\n' ' ')
consume dl1d >"$tmp/dl1d"
"$committed" "$boot" g1d in1d >"$tmp/c1d"
nroute=0
for n in 0 2; do
    grep -q '^{"topic":"in1d","partition":0,"offset":'$n',"kind":"route","template":null,"error":"output topic deny1d: Broker: Topic authorization failed","output_topic":"deny1d","output":"{\\"t\\":\\"deny1d\\",\\"n\\":'$n'}"}$' "$tmp/dl1d" &&
        nroute=$((nroute + 1))
done
if [ $rc = 1 ] && [ "$got_out" = '{"t":"out1d","n":1} ' ] && [ $nroute = 2 ] &&
    [ "$(wc -l <"$tmp/dl1d")" = 2 ] && [ "$(cat "$tmp/c1d")" = "0 3" ]; then
    ok "2 records routed to a topic its metadata refuses: 2 route dead letters at once, 1 delivered, all 3 committed, exit 1"
else
    bad "routed to a topic refused in metadata: exit $rc, $nroute route letters, out '$got_out', committed '$(cat "$tmp/c1d")'"; cat "$tmp/dl1d"; tail -5 "$tmp/lw1d.err"
fi

# 2. The same with a dead-letter file, and from standard input (no position to give).
ctl "topic gone2 1" "topicerr gone2 3"
printf '%s\n' '{"t":"out1","n":10}' '{"t":"gone2","n":11}' | timeout 120 "$lw" $J -e "$ROUTE" \
    --to kafka --brokers "$boot" --out-topic out1 --dead-letter "$tmp/dl2" 2>"$tmp/lw2.err"
rc=$?
if [ $rc = 1 ] && [ "$(cat "$tmp/dl2")" = '{"kind":"route","template":null,"error":"output topic gone2: Broker: Unknown topic or partition","output_topic":"gone2","output":"{\"t\":\"gone2\",\"n\":11}"}' ]; then
    ok "stdin to kafka: the route dead letter goes to the --dead-letter file"
else
    bad "route dead letter to a file: exit $rc: $(cat "$tmp/dl2" 2>/dev/null); $(tail -2 "$tmp/lw2.err")"
fi

# 3. Without a dead-letter path the run stops at the routed record, says how to go on, and
#    commits nothing at or past it (offset 1); a restart stops there again.
ctl "topic in3 1" "topic out3 1" "topic gone3 1" "topicerr gone3 3"
putv in3 '{"t":"out3","n":0}' '{"t":"gone3","n":1}' '{"t":"out3","n":2}'
timeout 120 "$lw" $J -e "$ROUTE" --from kafka --brokers "$boot" --topic in3 --group g3 --to kafka \
    --out-topic out3 --exit-at-eof $KX 2>"$tmp/lw3.err"
rc=$?
"$committed" "$boot" g3 in3 >"$tmp/c3"
if [ $rc = 1 ] && grep -q "output topic gone3: Broker: Unknown topic or partition (.*--dead-letter-topic or --dead-letter" "$tmp/lw3.err" &&
    [ "$(cat "$tmp/c3")" = "0 1" ]; then
    ok "no dead-letter path: exit 1, says to configure one, committed up to the routed record (offset 1)"
else
    bad "no dead-letter path: exit $rc, committed '$(cat "$tmp/c3")'; $(grep gone3 "$tmp/lw3.err" | head -2)"
fi

# 4. Thousands of distinct topics named by records: librdkafka would keep a handle and
#    metadata for each. The first 1000 besides --out-topic and --dead-letter-topic are used;
#    a record routed to any other is a dead letter ("produce"), and the stream goes on.
ctl "topic in4 1" "topic dl4 1"
seq 1 1200 | awk '{ print "{\"t\":\"x4-" $1 "\"}" }' >"$tmp/in4"
timeout 60 kcat -P -b "$boot" -t in4 -l "$tmp/in4" 2>/dev/null
timeout 300 "$lw" $J -e "$ROUTE" --from kafka --brokers "$boot" --topic in4 --group g4 --to kafka \
    --out-topic out1 --dead-letter-topic dl4 --exit-at-eof $KX -v 2>"$tmp/lw4.err"
rc=$?
consume dl4 >"$tmp/dl4"
ndl=$(grep -c '"kind":"produce".*more than 1000 distinct output topics' "$tmp/dl4")
"$committed" "$boot" g4 in4 >"$tmp/c4"
summary=$(sed -n 's/^logwash: \(1200 records: 1200 emitted.*\)/\1/p' "$tmp/lw4.err")
if [ $rc = 1 ] && [ "$ndl" = 200 ] && [ "$(wc -l <"$tmp/dl4")" = 200 ] && [ "$(cat "$tmp/c4")" = "0 1200" ] &&
    [ -n "$summary" ]; then
    ok "1200 distinct routed topics: 1000 used, 200 dead letters naming the limit, all 1200 committed"
else
    bad "topic limit: exit $rc, $ndl limit dead letters of $(wc -l <"$tmp/dl4"), committed '$(cat "$tmp/c4")'; $(tail -2 "$tmp/lw4.err")"
fi

# 5. The fixed output topic and the dead-letter topic, unknown or unauthorized: exit 4 at
#    start-up, naming the topic, before anything is read (nothing committed).
ctl "topic in5 1" "topic out5 1" "topic bad5 1"
put in5 '{"t":"x"}'
for c in "bad5 3 out5 Unknown topic or partition" "bad5 29 out5 Topic authorization failed" \
    "bad5 3 dl Unknown topic or partition"; do
    set -- $c
    ctl "topicerr $1 $2"
    if [ "$3" = dl ]; then
        opts="--out-topic out5 --dead-letter-topic bad5"
    else
        opts="--out-topic bad5"
    fi
    timeout 60 "$lw" $J -e 'emit .' --from kafka --brokers "$boot" --topic in5 --group g5 --to kafka \
        $opts --exit-at-eof $KX 2>"$tmp/lw5.err"
    rc=$?
    shift 3
    "$committed" "$boot" g5 in5 >"$tmp/c5"
    if [ $rc = 4 ] && grep -q "^logwash: kafka: output topic bad5: Broker: $*$" "$tmp/lw5.err" &&
        [ "$(cat "$tmp/c5")" = "0 -1001" ]; then
        ok "$opts, the topic answering '$*': exit 4 at start-up, nothing read"
    else
        bad "$opts ($*): exit $rc, committed '$(cat "$tmp/c5")': $(head -3 "$tmp/lw5.err")"
    fi
done

# 6. An input topic unknown or unauthorized with --exit-at-eof: exit 4, naming it.
ctl "topic in6 1" "topic deny6 1" "topicerr in6 3" "topicerr deny6 29"
for t in "in6 Unknown topic or partition" "deny6 Topic authorization failed"; do
    set -- $t
    timeout 60 "$lw" $J -e 'emit .' --from kafka --brokers "$boot" --topic "$1" --group g6 \
        --exit-at-eof $KX 2>"$tmp/lw6.err" >/dev/null
    rc=$?
    topic=$1
    shift
    if [ $rc = 4 ] && grep -q "^logwash: kafka: input topic $topic: Broker: $*$" "$tmp/lw6.err"; then
        ok "--exit-at-eof, input topic $topic answering '$*': exit 4, said"
    else
        bad "input topic $topic with --exit-at-eof: exit $rc; $(tail -3 "$tmp/lw6.err")"
    fi
done

# 7. Without --exit-at-eof an unknown input topic is waited for, said once; once it exists,
#    its messages are read.
ctl "topic in7 1" "topicerr in7 3"
"$lw" $J -e 'input json
emit .' --from kafka --brokers "$boot" --topic in7 --group g7 $KX -X topic.metadata.refresh.interval.ms=500 \
    >"$tmp/out7" 2>"$tmp/lw7.err" &
lwpid=$!
wait_for 'grep -qs "input topic in7" "$tmp/lw7.err"' 60 # -s: the background run may not have made it yet
ctl "topicerr in7 0"
put in7 '{"n":1}' '{"n":2}'
wait_for '[ "$(cat "$tmp/out7" 2>/dev/null | wc -l)" -ge 2 ]' 60
kill -TERM "$lwpid"; wait "$lwpid"; rc=$?; lwpid=
said=$(grep -c "input topic in7: Broker: Unknown topic or partition: waiting for it" "$tmp/lw7.err")
if [ $rc = 0 ] && [ "$said" = 1 ] && [ "$(tr '\n' ' ' <"$tmp/out7")" = '{"n":1} {"n":2} ' ]; then
    ok "an unknown input topic without --exit-at-eof: said once, waited for, read once it exists"
else
    bad "waiting for an input topic: exit $rc, said $said times, read '$(tr '\n' ' ' <"$tmp/out7")'; $(tail -3 "$tmp/lw7.err")"
fi

summary -j

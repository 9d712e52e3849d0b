#!/bin/bash
# Reloads that change stages (logwash(1) SIGNALS, logwash.yaml(5) PIPELINES) against
# librdkafka's mock cluster (tests/kafka/mockd). The file case: a pipe to Kafka whose sink
# topic changes at a reload under load: the records before the swap are in the old topic, those
# after it in the new one, each exactly once. The Kafka case: a job of pipelines where a reload removes
# one (its input all delivered and its offsets committed before it stops), adds one, and moves
# one to other source and sink topics (drained, committed, opened again); none loses a message.
# A sink that cannot be opened again (its topic refused) ends the run with status 4.
# Every wait is a poll with a generous bound; nothing asserts a duration.
# Usage: tests/kafka/reloadstages.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
J=${LW_JOBS:+--jobs $LW_JOBS}
kafka_setup kafka-reloadstages curl
mockd_start 2
for t in "ta 1" "tb 1" "ra 2" "ra2 1" "oa 1" "oa2 1" "rb 2" "ob 1" "rc 1" "oc 1"; do
    echo "topic $t" >&3
done
sleep 0.3
produce() { # produce TOPIC FROM TO
    seq "$2" "$3" | awk '{ print "k-" ($1 % 5) ":m-" $1 }' >"$tmp/kv"
    timeout 120 kcat -P -b "$boot" -t "$1" -K: -l "$tmp/kv" 2>"$tmp/kcat.err" ||
        bad "kcat -P $1 failed: $(head -2 "$tmp/kcat.err")"
}
consume() { # consume TOPIC: the message numbers in it, one a line, in text order
    timeout 120 kcat -C -b "$boot" -t "$1" -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null |
        sed -n 's/.*"m":"m\{0,1\}-\{0,1\}\([0-9]*\)".*/\1/p' | sort
}
count() { timeout 60 kcat -C -b "$boot" -t "$1" -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null | wc -l; }
exactly() { # exactly NAME GOT FROM TO: GOT holds FROM..TO, each once
    seq "$3" "$4" | sort >"$tmp/want"
    missing=$(comm -23 "$tmp/want" "$2" | wc -l)
    extra=$(comm -13 "$tmp/want" "$2" | wc -l)
    dups=$(uniq -d "$2" | wc -l)
    if [ "$missing" = 0 ] && [ "$extra" = 0 ] && [ "$dups" = 0 ]; then
        ok "$1: $3..$4, each once"
    else
        bad "$1: $missing missing, $extra not expected, $dups twice (of $3..$4)"
    fi
}

# --- the file case: a pipe to Kafka, the sink topic changed at a reload ---
echo 'emit {m: line}' >"$tmp/f.lw"
printf 'template: f.lw\nsource: {files: [fifo]}\nsink: {type: kafka, topic: ta}\nkafka: {brokers: "%s"}\n' \
    "$boot" >"$tmp/f.yaml"
mkfifo "$tmp/fifo"
"$lw" -c "$tmp/f.yaml" $J $KX 2>"$tmp/f.err" &
lwpid=$!
exec 4>"$tmp/fifo"
# under load: the reload comes while the pipe is being written
for i in $(seq 0 39); do seq $((i * 500 + 1)) $((i * 500 + 500)); sleep 0.1; done >&4 &
wpid=$!
wait_for '[ "$(count ta)" -ge 2000 ]' 60 || bad "file: ta has $(count ta) of 2000"
sed -i 's/topic: ta/topic: tb/' "$tmp/f.yaml"
kill -HUP "$lwpid"
wait_for 'grep -q "reloaded .*sinks opened again" "$tmp/f.err"' 30 ||
    bad "file: no reload said: $(tail -3 "$tmp/f.err")"
wait "$wpid"
seq 20001 25000 >&4
exec 4>&-
wait "$lwpid"
rc=$?
lwpid=
[ "$rc" = 0 ] && ok "file: exit 0 at the end of the pipe" || bad "file: exit $rc: $(tail -3 "$tmp/f.err")"
consume ta >"$tmp/gota"
consume tb >"$tmp/gotb"
sort "$tmp/gota" "$tmp/gotb" >"$tmp/gotab"
exactly "file: both topics" "$tmp/gotab" 1 25000
last_a=$(sort -n "$tmp/gota" | tail -1)
first_b=$(sort -n "$tmp/gotb" | head -1)
[ -n "$last_a" ] && [ -n "$first_b" ] && [ "$last_a" -lt "$first_b" ] &&
    ok "file: 1..$last_a in the old topic, $first_b..25000 in the new one (the swap between two records)" ||
    bad "file: the old topic ends at $last_a, the new one starts at $first_b"

# --- opening the new sink fails (its topic may not be written): the run ends, status 4,
# with what was read before the reload written ---
echo "topicerr tz 29" >&3
sleep 0.3
printf 'template: f.lw\nsource: {files: [fifo2]}\n' >"$tmp/g.yaml"
mkfifo "$tmp/fifo2"
"$lw" -c "$tmp/g.yaml" $J >"$tmp/g.out" 2>"$tmp/g.err" &
lwpid=$!
exec 4>"$tmp/fifo2"
seq 1 100 >&4
wait_for '[ "$(wc -l <"$tmp/g.out")" -ge 100 ]' 30 || bad "sinkfail: $(wc -l <"$tmp/g.out") of 100"
printf 'template: f.lw\nsource: {files: [fifo2]}\nsink: {type: kafka, topic: tz}\nkafka: {brokers: "%s"}\n' \
    "$boot" >"$tmp/g.yaml"
kill -HUP "$lwpid"
wait_for '! kill -0 "$lwpid" 2>/dev/null' 60 || bad "sinkfail: still running: $(tail -3 "$tmp/g.err")"
exec 4>&-
wait "$lwpid"
rc=$?
lwpid=
[ "$rc" = 4 ] && ok "sinkfail: a sink that cannot be opened again ends the run: exit 4" ||
    bad "sinkfail: exit $rc: $(tail -3 "$tmp/g.err")"
grep -q '^logwash: reload: opening the stages again failed: kafka: output topic tz: ' "$tmp/g.err" &&
    ok "sinkfail: said" || bad "sinkfail: $(tail -3 "$tmp/g.err")"
[ "$(wc -l <"$tmp/g.out")" = 100 ] && ok "sinkfail: the 100 records before the reload written" ||
    bad "sinkfail: $(wc -l <"$tmp/g.out") lines"

# --- the Kafka case: pipelines removed, added, moved ---
for p in a b c; do echo "emit {m: line, p: \"$p\"}" >"$tmp/$p.lw"; done
produce ra 1 10000
produce rb 1 10000
cat >"$tmp/job.yaml" <<EOF
kafka: {brokers: "$boot"}
metrics: {listen: "127.0.0.1:0"}
pipelines:
  pa: {template: a.lw, source: {type: kafka, topics: [ra], group: ga}, sink: {type: kafka, topic: oa}}
  pb: {template: b.lw, source: {type: kafka, topics: [rb], group: gb}, sink: {type: kafka, topic: ob}}
EOF
"$lw" -c "$tmp/job.yaml" $J $KX 2>"$tmp/k.err" &
lwpid=$!
port=
if wait_for "grep -q 'metrics at http://127.0.0.1:[0-9]*/metrics' '$tmp/k.err' 2>/dev/null" 20; then
    port=$(sed -n 's|^logwash: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' "$tmp/k.err")
fi
value() { # value NAME PIPELINE
    curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" 2>/dev/null |
        awk -v s="$1{pipeline=\"$2\"}" '$1 == s { print $2 }'
}
atleast() { v=$(value "$1" "$2"); [ "${v:-0}" -ge "$3" ]; }
[ -n "$port" ] || bad "kafka: no metrics address: $(cat "$tmp/k.err")"
wait_for 'atleast logwash_records_in_total pa 10000 && atleast logwash_records_in_total pb 10000' 90 ||
    bad "kafka: not all read: pa $(value logwash_records_in_total pa), pb $(value logwash_records_in_total pb)"
# pb removed, pc added, pa moved to other source and sink topics (its group kept)
cat >"$tmp/job.yaml" <<EOF
kafka: {brokers: "$boot"}
metrics: {listen: "127.0.0.1:0"}
pipelines:
  pa: {template: a.lw, source: {type: kafka, topics: [ra2], group: ga}, sink: {type: kafka, topic: oa2}}
  pc: {template: c.lw, source: {type: kafka, topics: [rc], group: gc}, sink: {type: kafka, topic: oc}}
EOF
kill -HUP "$lwpid"
wait_for 'grep -q "pipeline pb: removed by the reload: stopping" "$tmp/k.err"' 30 ||
    bad "kafka: pb not stopped: $(tail -3 "$tmp/k.err")"
wait_for 'grep -q "pipeline pa: reloaded .*source and sinks opened again" "$tmp/k.err"' 30 ||
    bad "kafka: pa not reopened: $(grep pa "$tmp/k.err" | tail -3)"
grep -qx 'logwash: pipeline pc: added by the reload' "$tmp/k.err" && ok "kafka: pc added" ||
    bad "kafka: pc not added: $(tail -3 "$tmp/k.err")"
produce ra2 10001 15000
produce rc 1 3000
wait_for 'atleast logwash_records_in_total pa 15000 && atleast logwash_records_in_total pc 3000' 90 ||
    bad "kafka: after: pa $(value logwash_records_in_total pa), pc $(value logwash_records_in_total pc)"
[ "$(value logwash_pipeline_up pb)" = 0 ] && ok "kafka: pb shown stopped (pipeline_up 0)" ||
    bad "kafka: pb up: $(value logwash_pipeline_up pb)"
kill -TERM "$lwpid"
wait "$lwpid"
rc=$?
lwpid=
[ "$rc" = 0 ] && ok "kafka: SIGTERM after the reload: exit 0" || bad "kafka: exit $rc: $(tail -3 "$tmp/k.err")"
# pb: everything it read is in ob and committed (it stopped after its last delivery)
consume ob >"$tmp/gotb"
exactly "kafka: pb (removed): its output" "$tmp/gotb" 1 10000
"$committed" "$boot" gb rb >"$tmp/c" 2>&1 || bad "committed: $(cat "$tmp/c")"
total=$(awk '{ s += $2 } END { print s + 0 }' "$tmp/c")
[ "$total" = 10000 ] && ok "kafka: pb's committed offsets add up to its 10000 messages" ||
    bad "kafka: pb committed: $(tr '\n' ' ' <"$tmp/c")"
consume oa >"$tmp/gota"
consume oa2 >"$tmp/gota2"
exactly "kafka: pa before the reload (old topics)" "$tmp/gota" 1 10000
exactly "kafka: pa after it (new topics)" "$tmp/gota2" 10001 15000
"$committed" "$boot" ga ra >"$tmp/c" 2>&1 || bad "committed: $(cat "$tmp/c")"
total=$(awk '{ s += $2 } END { print s + 0 }' "$tmp/c")
[ "$total" = 10000 ] && ok "kafka: pa's old topic committed to its end before the swap" ||
    bad "kafka: pa committed on ra: $(tr '\n' ' ' <"$tmp/c")"
consume oc >"$tmp/gotc"
exactly "kafka: pc (added)" "$tmp/gotc" 1 3000
# --- a reload while the brokers are down: the template changes while the old template's
# outputs may wait in the producer (brokers away). The reload is served at once (the producer
# and the consumer are kept: a template change touches neither), the old outputs are delivered
# once the brokers are back, every record is in the output at least once, those produced after
# the reload by the new template, and the committed offsets reach the end. ---
for t in "rd 1" "od 1"; do echo "topic $t" >&3; done
sleep 0.3
produce rd 1 20000
echo 'emit {m: line, v: "old"}' >"$tmp/d.lw"
printf 'template: d.lw\nsource: {type: kafka, topics: [rd], group: gd}\nsink: {type: kafka, topic: od}\nkafka: {brokers: "%s"}\n' \
    "$boot" >"$tmp/d.yaml"
"$lw" -c "$tmp/d.yaml" $J $KX $SLOW --stats-interval 1 2>"$tmp/lw.err" &
lwpid=$!
records_in 2000 || bad "down: not 2000 records read: $(tail -3 "$tmp/lw.err")"
ctl "down -1"
echo 'emit {m: line, v: "new"}' >"$tmp/d.lw"
kill -HUP "$lwpid"
if wait_for 'grep -q "^logwash: reloaded .*(template .*d.lw)$" "$tmp/lw.err"' 30; then
    ok "down: the reload is served while the brokers are down"
else
    bad "down: no reload while the brokers are down: $(grep -v 'records in' "$tmp/lw.err" | tail -3)"
fi
kill -0 "$lwpid" 2>/dev/null && ok "down: still running" || bad "down: ended: $(tail -3 "$tmp/lw.err")"
ctl "up -1"
produce rd 20001 25000
records_in 25000 || bad "down: not all read after the brokers came back: $(tail -3 "$tmp/lw.err")"
wait_for '[ "$(count od)" -ge 25000 ]' 90 || bad "down: od has $(count od) of 25000"
kill -TERM "$lwpid"
wait "$lwpid"
rc=$?
lwpid=
[ "$rc" = 0 ] && ok "down: SIGTERM: exit 0" || bad "down: exit $rc: $(grep -v 'records in' "$tmp/lw.err" | tail -3)"
timeout 120 kcat -C -b "$boot" -t od -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null >"$tmp/od"
sed -n 's/.*"m":"m-\([0-9]*\)".*/\1/p' "$tmp/od" | sort -u >"$tmp/gotd"
seq 1 25000 | sort >"$tmp/want"
missing=$(comm -23 "$tmp/want" "$tmp/gotd" | wc -l)
[ "$missing" = 0 ] && ok "down: 1..25000 each at least once ($(wc -l <"$tmp/od") messages)" ||
    bad "down: $missing of 1..25000 missing"
old_after=$(awk -F'"' '{ split($4, m, "-") } m[2] > 20000 && $8 != "new"' "$tmp/od" | wc -l)
grep -q '"v":"old"' "$tmp/od" && [ "$old_after" = 0 ] &&
    ok "down: by the old template, then the new one (all of 20001..25000)" ||
    bad "down: templates: $old_after after the reload not new; $(sed 's/.*"v"://' "$tmp/od" | uniq -c | head -4)"
"$committed" "$boot" gd rd >"$tmp/c" 2>&1 || bad "committed: $(cat "$tmp/c")"
total=$(awk '{ s += $2 } END { print s + 0 }' "$tmp/c")
[ "$total" = 25000 ] && ok "down: committed to the end" || bad "down: committed: $(tr '\n' ' ' <"$tmp/c")"
summary

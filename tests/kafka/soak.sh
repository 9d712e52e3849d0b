#!/bin/sh
# Soak: logwash runs as a Kafka sidecar for SOAK_SECONDS (default 120) against librdkafka's
# mock cluster while kcat keeps producing, a second member joins and leaves the group twice
# (rebalances), the output's leader goes down twice for longer than max.poll.interval.ms (with
# a producer queue of 2000 messages, which fills: the member must stay in its group, never
# losing its partitions) and every broker once, for less than the session timeout. The RSS and the open file
# descriptors of the long-running member are sampled from /proc every 2 s: after a warm-up
# (the first 20 s) RSS may grow by at most 64 MiB and the descriptor count must come back to
# where it was. At the end nothing is lost: every message produced is in the output, no
# message appears three times, and the committed offsets are the partition ends.
# Duplicates are counted, not refused: rebalances and outages replay what was not committed
# (see sidecar.sh tests 8 and 11).
# Usage: tests/kafka/soak.sh LOGWASH MOCKD COMMITTED (SOAK_KEEP=DIR keeps the run's files there)
set -u
lw=$1 mockd=$2 committed=$3
secs=${SOAK_SECONDS:-120}
bpid= ppid_= kafka_kill9="bpid ppid_" kafka_keep=${SOAK_KEEP:-}
. "$(dirname "$0")/lib.sh"
kafka_setup soak
mockd_start 3
# A session of 10 s and a poll interval of 12 s: shorter ones made a starved machine (a CI run
# beside two fuzzers) drop the member for reasons not logwash's; the output's outages outlast
# the poll interval all the same.
KX="-X session.timeout.ms=10000 -X consumer.max.poll.interval.ms=12000 -X consumer.fetch.wait.max.ms=10 -X auto.commit.interval.ms=200"
# the input's leader and the group's coordinator are broker 1, the output's leader broker 2
for c in "topic in 4" "topic out 4" "coord soak 1"; do echo "$c" >&3; done
for p in 0 1 2 3; do echo "leader in $p 1" >&3; echo "leader out $p 2" >&3; done
sleep 0.5
echo 'emit {m: line, p: meta.partition, o: meta.offset}' >"$tmp/t.lw"
member() { # member NAME: a group member in the background, stderr in $tmp/NAME.err
    "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic in --group soak --to kafka \
        --out-topic out $KX -X producer.queue.buffering.max.messages=2000 --stats-interval 1 \
        2>"$tmp/$1.err" &
}

# the producer: batches of 200 keyed messages every half second, until $tmp/stop exists
(
    b=0
    while [ ! -e "$tmp/stop" ]; do
        b=$((b + 1))
        seq 1 200 | awk -v b=$b '{ print "k-" ($1 % 13) ":m-" b "-" $1 }' >"$tmp/batch"
        timeout 60 kcat -P -b "$boot" -t in -K: -l "$tmp/batch" 2>/dev/null &&
            cut -d: -f2 "$tmp/batch" >>"$tmp/sent"
        sleep 0.5
    done
) &
ppid_=$!
member a
lwpid=$!
start=$(date +%s)
: >"$tmp/samples"
# events at fractions of the run: second member in at 20%..40% and 60%..75%, broker 2 down
# at 45% and 80% (15 s), every broker down at 90% (2 s)
ev_b1=$((secs * 20 / 100)) ev_b1e=$((secs * 40 / 100)) ev_d1=$((secs * 45 / 100))
ev_b2=$((secs * 60 / 100)) ev_b2e=$((secs * 75 / 100)) ev_d2=$((secs * 80 / 100))
ev_all=$((secs * 90 / 100))
done_ev=
event() { case " $done_ev " in *" $1 "*) return 1 ;; esac; done_ev="$done_ev $1"; return 0; }
while :; do
    t=$(($(date +%s) - start))
    [ $t -ge "$secs" ] && break
    kill -0 "$lwpid" 2>/dev/null || break
    rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$lwpid/status" 2>/dev/null)
    fds=$(ls "/proc/$lwpid/fd" 2>/dev/null | wc -l)
    echo "$t ${rss:-0} $fds" >>"$tmp/samples"
    if [ $t -ge $ev_b1 ] && event b1; then member b; bpid=$!; fi
    if [ $t -ge $ev_b1e ] && event b1e; then kill -TERM "$bpid"; wait "$bpid"; bpid=; fi
    if [ $t -ge $ev_d1 ] && event d1; then echo "down 2" >&3; sleep 15; echo "up 2" >&3; fi
    if [ $t -ge $ev_b2 ] && event b2; then member c; bpid=$!; fi
    if [ $t -ge $ev_b2e ] && event b2e; then kill -TERM "$bpid"; wait "$bpid"; bpid=; fi
    if [ $t -ge $ev_d2 ] && event d2; then echo "down 2" >&3; sleep 15; echo "up 2" >&3; fi
    if [ $t -ge $ev_all ] && event all; then echo "down -1" >&3; sleep 2; echo "up -1" >&3; fi
    sleep 2
done
alive=0
kill -0 "$lwpid" 2>/dev/null && alive=1
touch "$tmp/stop"
wait "$ppid_"; ppid_=
# let the member catch up (its statistics line says lag 0; at most 60 s: after the last outage
# librdkafka's idempotent producer may take many seconds to deliver again, and a member stopped
# while its output queue is full rightly exits 1), then stop it and finish what is left with a
# last run
i=0
while [ $i -lt 60 ]; do
    sleep 1
    i=$((i + 1))
    [ $i -ge 5 ] && tail -n 3 "$tmp/a.err" | grep -q 'delivered, lag 0$' && break
done
caught_up=$i
kill -TERM "$lwpid"; wait "$lwpid"; rca=$?; lwpid=
timeout 300 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic in --group soak \
    --to kafka --out-topic out --exit-at-eof $KX -q
rcz=$?
timeout 120 kcat -C -b "$boot" -t out -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/out" 2>/dev/null
sort "$tmp/sent" >"$tmp/sent.s"
field m <"$tmp/out" | sort >"$tmp/got"
nsent=$(wc -l <"$tmp/sent.s")
missing=$(comm -23 "$tmp/sent.s" "$tmp/got" | wc -l)
dups=$(($(wc -l <"$tmp/got") - $(sort -u "$tmp/got" | wc -l)))
triple=$(uniq -c "$tmp/got" | awk '$1 > 2' | wc -l)
rebal=$(grep -c "revoked" "$tmp/a.err")
lost=$(grep -c -E "lost [0-9]* partition|maximum poll interval" "$tmp/a.err")
refused=$(cat "$tmp"/[abc].err | grep -c "Group rebalance in progress")
explained=1
[ "$dups" -gt 0 ] && [ "$refused" = 0 ] && explained=0
if [ $alive = 1 ] && [ $rca = 0 ] && [ $rcz = 0 ] && [ "$nsent" -gt 0 ] && [ "$missing" = 0 ] &&
    [ $explained = 1 ] && [ "$rebal" -ge 2 ] && [ "$lost" = 0 ]; then
    ok "${secs} s, $rebal revocations, 3 outages, never out of the group: $nsent produced, $(wc -l <"$tmp/got") delivered, 0 lost; $dups duplicates ($triple three times) after $refused refused commits"
else
    bad "delivery: alive $alive, exits $rca $rcz (stopped after ${caught_up} s of catching up), $nsent produced, $missing missing, $dups duplicates, $triple three times, $refused refused commits, $rebal revocations, $lost lost/poll interval lines; $(grep -E "lost [0-9]* partition|maximum poll interval" "$tmp/a.err" | head -2)"
fi
"$committed" "$boot" soak in >"$tmp/c" 2>&1
want=$(awk -F'[:,}]' '{ for (i = 1; i < NF; i++) { if ($i ~ /"p"$/) p = $(i + 1); if ($i ~ /"o"$/) o = $(i + 1) } if (o + 1 > m[p]) m[p] = o + 1 } END { for (p = 0; p < 4; p++) print p, m[p] + 0 }' "$tmp/out")
if [ "$(cat "$tmp/c")" = "$want" ]; then
    ok "committed offsets are the partition ends"
else
    bad "committed $(tr '\n' ' ' <"$tmp/c"), expected $(echo "$want" | tr '\n' ' ')"
fi
# resources: after the warm-up, RSS grows by less than 64 MiB, and the descriptors open at the
# end (all brokers up, steady) are no more than after the warm-up plus 4 (a reconnect in flight)
read -r warm_rss warm_fds <<EOF
$(awk '$1 >= 20 { print $2, $3; exit }' "$tmp/samples")
EOF
max_rss=$(awk '$1 >= 20 && $2 > m { m = $2 } END { print m + 0 }' "$tmp/samples")
max_fds=$(awk '$1 >= 20 && $3 > m { m = $3 } END { print m + 0 }' "$tmp/samples")
last_fds=$(tail -1 "$tmp/samples" | cut -d' ' -f3)
n=$(wc -l <"$tmp/samples")
if [ -n "${warm_rss:-}" ] && [ "$max_rss" -lt $((warm_rss + 65536)) ] &&
    [ "$last_fds" -le $((warm_fds + 4)) ]; then
    ok "$n samples: RSS $warm_rss kB after warm-up, at most $max_rss kB; fds $warm_fds after warm-up, at most $max_fds, $last_fds at the end"
else
    bad "resources: RSS ${warm_rss:-?} -> max $max_rss kB, fds ${warm_fds:-?} -> max $max_fds, last $last_fds ($n samples)"
fi
summary -j

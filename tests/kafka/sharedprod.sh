#!/bin/sh
# Pipelines sharing one librdkafka producer (logwash.yaml(5) PIPELINES) against librdkafka's mock
# cluster (tests/kafka/mockd). pa and pb have the same brokers and producer properties (pb's
# consumer property does not count): at -v each says the same "producer N"; pc's producer
# properties differ: it gets a producer of its own. Each pipeline's produce queue depth is its
# own series. Run 1 is killed with kill -9 mid-stream; in run 2 a reload changes pa's producer
# properties: pa alone is drained and moves to a new producer while pb keeps delivering (the
# second half of its input) on the one it shared; then pa's second half comes, and run 2 reads
# it all and ends at SIGTERM. In run 3 a fatal error of the producer pf1 and pf2 share stops
# both, each saying so, and they are restarted on a new one. No pipeline loses a message.
# Every wait is a poll with a generous bound; nothing asserts a duration.
# Usage: tests/kafka/sharedprod.sh LOGWASH MOCKD
set -u
lw=$1 mockd=$2
. "$(dirname "$0")/lib.sh"
J=${LW_JOBS:+--jobs $LW_JOBS}
kafka_setup kafka-sharedprod curl
mockd_start 2
for t in "sa_in 2" "sa_out 1" "sb_in 2" "sb_out 1" "sc_in 1" "sc_out 1"; do echo "topic $t" >&3; done
sleep 0.3
N=80000 H=50000
produce() { # produce TOPIC FROM TO
    seq "$2" "$3" | awk '{ print "k-" ($1 % 5) ":m-" $1 }' >"$tmp/kv"
    timeout 120 kcat -P -b "$boot" -t "$1" -K: -l "$tmp/kv" 2>"$tmp/kcat.err" ||
        bad "kcat -P $1 failed: $(head -2 "$tmp/kcat.err")"
}
produce sa_in 1 $H
produce sb_in 1 $H
produce sc_in 1 2000
for p in a b c; do echo "emit {m: line, p: \"$p\"}" >"$tmp/$p.lw"; done
job() { # job PA_KAFKA: the job file, with PA_KAFKA as pa's own kafka: mapping ({} for none)
    cat >"$tmp/job.yaml" <<EOF
kafka: {brokers: "$boot"}
metrics: {listen: "127.0.0.1:0"}
pipelines:
  pa: {template: a.lw, source: {type: kafka, topics: [sa_in], group: ga}, sink: {type: kafka, topic: sa_out}, kafka: $1}
  pb: {template: b.lw, source: {type: kafka, topics: [sb_in], group: gb}, sink: {type: kafka, topic: sb_out}, kafka: {consumer: {fetch.min.bytes: 1}}}
  pc: {template: c.lw, source: {type: kafka, topics: [sc_in], group: gc}, sink: {type: kafka, topic: sc_out}, kafka: {producer: {compression.type: lz4}}}
EOF
}
job '{}'
start() { # start NAME ARGS...: sets lwpid and port
    name=$1
    shift
    "$lw" -c "$tmp/job.yaml" -v --stats-interval 0 $J $KX "$@" 2>"$tmp/$name.err" &
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
prod() { # prod FILE PIPELINE [NTH]: the number of the NTH (default 1st) producer it said
    sed -n "s/^logwash: kafka: $2: producer \([0-9]*\): \(new\|shared\).*/\1/p" "$1" | sed -n "${3:-1}p"
}

# run 1: killed with -9 once both pipelines are well into their input; which producer each has
start run1 $SLOW
[ -n "$port" ] || bad "run 1: no metrics address: $(cat "$tmp/run1.err")"
wait_for 'atleast logwash_records_in_total pa 3000 && atleast logwash_records_in_total pb 3000' 60 ||
    bad "run 1: the pipelines did not get going: $(tail -3 "$tmp/run1.err")"
in_a=$(value logwash_records_in_total pa)
in_b=$(value logwash_records_in_total pb)
kill -9 "$lwpid"
wait "$lwpid" 2>/dev/null
lwpid=
wait_for '[ -n "$(prod $tmp/run1.err pa)" ] && [ -n "$(prod $tmp/run1.err pb)" ] && [ -n "$(prod $tmp/run1.err pc)" ]' 30 ||
    bad "run 1: no producer lines at -v: $(grep producer "$tmp/run1.err" | head -5)"
a=$(prod "$tmp/run1.err" pa) b=$(prod "$tmp/run1.err" pb) c=$(prod "$tmp/run1.err" pc)
[ -n "$a" ] && [ "$a" = "$b" ] && ok "pa and pb share producer $a" ||
    bad "pa and pb do not share a producer: '$a' '$b'"
grep -q "^logwash: kafka: p[ab]: producer $a: shared (2 pipelines)\$" "$tmp/run1.err" &&
    ok "the second one says it shares it" || bad "no shared line: $(grep producer "$tmp/run1.err")"
[ -n "$c" ] && [ "$c" != "$a" ] && ok "pc, with other producer properties, has its own ($c)" ||
    bad "pc's producer: '$c' (pa's: '$a')"

# run 2: a reload moves pa to a producer of its own while pb goes on; then the second half.
# Run 1 may have read and committed all its input before the kill: 2000 new messages each give
# run 2 something to deliver before the reload, whatever run 1 committed.
produce sa_in $((H + 1)) $((H + 2000))
produce sb_in $((H + 1)) $((H + 2000))
start run2 $SLOW
[ -n "$port" ] || bad "run 2: no metrics address: $(cat "$tmp/run2.err")"
wait_for 'atleast logwash_kafka_delivered_messages_total pa 1000 && atleast logwash_kafka_delivered_messages_total pb 1000' 60 ||
    bad "run 2: the pipelines did not get going: $(tail -3 "$tmp/run2.err")"
q=$(curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" 2>/dev/null |
    grep -c '^logwash_kafka_produce_queue_messages{pipeline="p[abc]"} [0-9]*$')
[ "$q" = 3 ] && ok "each pipeline has its own produce queue depth" ||
    bad "produce queue series: $q of 3"
a=$(prod "$tmp/run2.err" pa)
[ -n "$a" ] && [ "$a" = "$(prod "$tmp/run2.err" pb)" ] || bad "run 2: pa and pb do not share a producer"
job '{producer: {linger.ms: 20}}'
# pb has plenty to do while pa reloads: a 100 ms round trip on every broker keeps it busy with
# the second half of its input (and makes pa's reload last several round trips); the HUP comes
# once pb is delivering that half: d0 is sampled mid-stream
echo "rtt -1 100" >&3
produce sb_in $((H + 2001)) $N
d0=$(value logwash_kafka_delivered_messages_total pb)
wait_for "atleast logwash_kafka_delivered_messages_total pb $((${d0:-0} + 500))" 60 ||
    bad "pb did not start on the second half of its input: $(tail -3 "$tmp/run2.err")"
d0=$(value logwash_kafka_delivered_messages_total pb)
kill -HUP "$lwpid"
d_b=
if wait_for "grep -q '^logwash: pipeline pa: reloaded .*source and sinks opened again' '$tmp/run2.err'" 30; then
    d_b=$(value logwash_kafka_delivered_messages_total pb)
    a2=$(prod "$tmp/run2.err" pa 2)
    [ -n "$a2" ] && [ "$a2" != "$a" ] && [ "$a2" != "$(prod "$tmp/run2.err" pc)" ] &&
        ok "a reload changing pa's producer properties moves it to a producer of its own ($a2)" ||
        bad "pa after the reload: producer '$a2' (before: $a): $(grep 'pa:' "$tmp/run2.err" | tail -3)"
    grep -q '^logwash: pipeline pb: reloaded .*opened again' "$tmp/run2.err" &&
        bad "pb's stages were opened again" || ok "pb keeps its stages and producer"
else
    bad "no reload of pa said: $(grep -i reload "$tmp/run2.err" | head -3)"
fi
echo "rtt -1 0" >&3
produce sa_in $((H + 2001)) $N
caught_up() { # caught_up PIPELINE: every partition read to its end, nothing left to deliver
    curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" 2>/dev/null | awk -v p="$1" '
        index($1, "logwash_kafka_partition_lag{pipeline=\"" p "\",") == 1 { n++; if ($2 != 0) busy = 1 }
        $1 == "logwash_kafka_produce_queue_messages{pipeline=\"" p "\"}" { q = $2 }
        END { exit !(n > 0 && !busy && q == "0") }'
}
wait_for 'sleep 0.4; caught_up pa && caught_up pb' 120 ||
    bad "run 2 did not catch up: $(tail -3 "$tmp/run2.err")"
# pb had thousands of messages left at the HUP: it delivered while pa was drained and moved
d_end=$(value logwash_kafka_delivered_messages_total pb)
[ "${d_b:-0}" -gt "${d0:-0}" ] && [ $((${d0:-0} + 1000)) -le "${d_end:-0}" ] &&
    ok "pb goes on delivering while pa is drained and moved ($d0, then $d_b, of $d_end)" ||
    bad "pb during pa's reload: delivered ${d0:-?}, then ${d_b:-?}, of ${d_end:-?}"
kill -TERM "$lwpid"
i=0
while kill -0 "$lwpid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$lwpid" 2>/dev/null; then
    bad "run 2 did not end within 30 s of SIGTERM: $(tail -3 "$tmp/run2.err")"
    kill -9 "$lwpid"
fi
wait "$lwpid"
rc=$?
lwpid=
[ "$rc" = 0 ] && ok "run 2 read every pipeline to its end and stopped at SIGTERM: exit 0" ||
    bad "run 2: exit $rc: $(tail -3 "$tmp/run2.err")"
for p in a b c; do
    n=$N
    [ $p = c ] && n=2000
    timeout 120 kcat -C -b "$boot" -t s${p}_out -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null |
        sed -n "s/^{\"m\":\"m-\([0-9]*\)\",\"p\":\"$p\"}\$/\1/p" | sort >"$tmp/got.$p"
    seq 1 $n | sort >"$tmp/want.$p"
    missing=$(comm -23 "$tmp/want.$p" "$tmp/got.$p" | wc -l)
    dups=$(uniq -d "$tmp/got.$p" | wc -l)
    if [ "$missing" = 0 ]; then
        ok "p$p: $n in, $(wc -l <"$tmp/got.$p") out, none missing ($dups read again)"
    else
        bad "p$p: $missing of $n missing"
    fi
done
echo "kafka-sharedprod: (run 1 had read $in_a of pa's and $in_b of pb's $N messages when killed)"

# run 3: a fatal error of the producer pf1 and pf2 share stops both, each saying so, and each
# is restarted on a new producer; no input is lost. While both are idle, the brokers are told to
# answer the next produce request with OUT_OF_ORDER_SEQUENCE_NUMBER (idempotence broken: fatal),
# then input comes for pf1 only: pf2, idle, learns it from the producer. pf1 may learn it from
# its own failed delivery report first ("kafka: pf1: delivery to f1_out [0] failed: ..."); its
# stop line then names the fatal error ("pipeline pf1: kafka producer: fatal error: ..."). The
# output topics are led by broker 2 and the input topics by broker 1, where kcat produces, so
# the error is logwash's.
F=5000
for t in "f1_in 2" "f1_out 1" "f2_in 2" "f2_out 1"; do echo "topic $t" >&3; done
for t in "f1_in 0 1" "f1_in 1 1" "f2_in 0 1" "f2_in 1 1" "f1_out 0 2" "f2_out 0 2"; do echo "leader $t" >&3; done
sleep 0.3
produce f1_in 1 $F
produce f2_in 1 $F
cat >"$tmp/job.yaml" <<EOF
kafka: {brokers: "$boot"}
metrics: {listen: "127.0.0.1:0"}
pipelines:
  pf1: {template: a.lw, source: {type: kafka, topics: [f1_in], group: gf1}, sink: {type: kafka, topic: f1_out}}
  pf2: {template: b.lw, source: {type: kafka, topics: [f2_in], group: gf2}, sink: {type: kafka, topic: f2_out}}
EOF
start run3
[ -n "$port" ] || bad "run 3: no metrics address: $(cat "$tmp/run3.err")"
wait_for 'sleep 0.2; caught_up pf1 && caught_up pf2' 60 ||
    bad "run 3: the pipelines did not catch up: $(tail -3 "$tmp/run3.err")"
[ -n "$(prod "$tmp/run3.err" pf1)" ] && [ "$(prod "$tmp/run3.err" pf1)" = "$(prod "$tmp/run3.err" pf2)" ] ||
    bad "run 3: pf1 and pf2 do not share a producer: $(grep producer "$tmp/run3.err")"
echo "berror 2 0 45 1" >&3
sleep 0.3
produce f1_in $((F + 1)) $((2 * F))
for p in pf1 pf2; do
    wait_for "grep -q '^logwash: pipeline $p stopped (exit status [0-9]*, reason [a-z_]*): restarting in 1 s\$' '$tmp/run3.err'" 30 &&
        grep -qiE "^logwash: (kafka|pipeline) $p: .*fatal error" "$tmp/run3.err" &&
        ok "$p stops on the shared producer's fatal error, says it, and is restarted" ||
        bad "$p and the fatal error: $(grep -i "$p\|fatal" "$tmp/run3.err" | grep -v assigned | head -5)"
done
produce f2_in $((F + 1)) $((2 * F))
wait_for 'sleep 0.2; [ -n "$(prod "$tmp/run3.err" pf1 2)" ] && [ -n "$(prod "$tmp/run3.err" pf2 2)" ] && caught_up pf1 && caught_up pf2' 120 ||
    bad "run 3 did not catch up after the restarts: $(tail -3 "$tmp/run3.err")"
a=$(prod "$tmp/run3.err" pf1 2) b=$(prod "$tmp/run3.err" pf2 2)
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$(prod "$tmp/run3.err" pf1)" ] &&
    ok "restarted, they share a new producer ($a)" || bad "after the restarts: producers '$a' '$b'"
kill -TERM "$lwpid"
i=0
while kill -0 "$lwpid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$lwpid" 2>/dev/null; then
    bad "run 3 did not end within 30 s of SIGTERM: $(tail -3 "$tmp/run3.err")"
    kill -9 "$lwpid"
fi
wait "$lwpid"
rc=$?
lwpid=
[ "$rc" = 0 ] && ok "run 3 stopped at SIGTERM: exit 0" || bad "run 3: exit $rc: $(tail -3 "$tmp/run3.err")"
for p in 1 2; do
    timeout 120 kcat -C -b "$boot" -t f${p}_out -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null |
        sed -n 's/^{"m":"m-\([0-9]*\)",.*/\1/p' | sort >"$tmp/got.f$p"
    seq 1 $((2 * F)) | sort >"$tmp/want.f$p"
    missing=$(comm -23 "$tmp/want.f$p" "$tmp/got.f$p" | wc -l)
    [ "$missing" = 0 ] && ok "pf$p: $((2 * F)) in, $(wc -l <"$tmp/got.f$p") out, none missing" ||
        bad "pf$p: $missing of $((2 * F)) missing"
done

summary -j

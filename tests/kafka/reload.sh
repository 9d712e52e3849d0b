#!/bin/sh
# Reloads of a Kafka job (logwash(1) SIGNALS) against librdkafka's mock cluster
# (tests/kafka/mockd): while a sidecar reads 3 partitions, a template that does not compile is
# refused (the old one goes on), then a storm of SIGHUPs brings a new one in. Every input
# message comes out (none missing, none twice: nothing failed), each input partition's
# messages are the old template's then the new one's (the swap is at a record boundary), the
# consumer kept its assignment (one "assigned" line: no rejoin), SIGTERM exits 0 and the
# committed offsets are the partition ends. Every wait is a poll with a generous bound.
# Usage: tests/kafka/reload.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_setup kafka-reload
mockd_start 2
echo "topic rin 3" >&3
echo "topic rout 1" >&3
sleep 0.3
# produce FROM TO: messages m-FROM..m-TO, keyed over the partitions
produce() {
    seq "$1" "$2" | awk '{ print "k-" ($1 % 7) ":m-" $1 }' >"$tmp/kv"
    timeout 120 kcat -P -b "$boot" -t rin -K: -l "$tmp/kv" 2>"$tmp/kcat.err" ||
        bad "kcat -P failed: $(head -2 "$tmp/kcat.err")"
}
said() { # said PATTERN N: until stderr has N lines matching PATTERN (30 s at most)
    i=0
    while [ $i -lt 150 ]; do
        [ "$(grep -c -e "$1" "$tmp/lw.err")" -ge "$2" ] && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}

produce 1 20000
echo 'emit {m: line, p: meta.partition, o: meta.offset, v: "old"}' >"$tmp/t.lw"
printf 'template: t.lw\n' >"$tmp/job.yaml"
"$lw" $J -c "$tmp/job.yaml" --from kafka --brokers "$boot" --topic rin --group gr --to kafka \
    --out-topic rout --stats-interval 1 $KX $SLOW 2>"$tmp/lw.err" &
lwpid=$!
records_in 2000 || bad "never read 2000 records: $(tail -3 "$tmp/lw.err")"
echo 'emit {m: line, v: }' >"$tmp/t.lw"
kill -HUP "$lwpid"
said 'reload failed' 1 || bad "the wrong template was not refused: $(tail -3 "$tmp/lw.err")"
if grep -q "^$tmp/t.lw:1:19: error: expected an expression, found '}'\$" "$tmp/lw.err"; then
    ok "a template that does not compile is said at its line:col and refused"
else
    bad "no t.lw:1:19 error: $(grep error "$tmp/lw.err" | head -2)"
fi
echo 'emit {m: line, p: meta.partition, o: meta.offset, v: "new"}' >"$tmp/t.lw"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do kill -HUP "$lwpid"; done
said '^logwash: reloaded' 1 || bad "the new template was not taken: $(tail -3 "$tmp/lw.err")"
produce 20001 30000
records_in 30000 || bad "never read 30000 records: $(tail -3 "$tmp/lw.err")"
kill -TERM "$lwpid"
wait "$lwpid"
rc=$?
lwpid=
[ "$rc" = 0 ] && ok "SIGTERM after the reloads: exit 0" || bad "exit $rc: $(tail -3 "$tmp/lw.err")"

timeout 120 kcat -C -b "$boot" -t rout -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null >"$tmp/out"
sed -n 's/.*"m":"m-\([0-9]*\)".*/\1/p' "$tmp/out" | sort >"$tmp/got"
# comm needs both lists in the same (text) order, not numeric order
seq 1 30000 | sort >"$tmp/want"
missing=$(comm -23 "$tmp/want" "$tmp/got" | wc -l)
dups=$(uniq -d "$tmp/got" | wc -l)
if [ "$missing" = 0 ] && [ "$dups" = 0 ]; then
    ok "30000 in, $(wc -l <"$tmp/got") out: none missing, none twice"
else
    bad "$missing missing, $dups twice, of 30000"
fi
# per input partition, in offset order: old ... old new ... new
bad_order=
for p in 0 1 2; do
    seq_v=$(sed -n "s/.*\"p\":$p,\"o\":\([0-9]*\),\"v\":\"\([a-z]*\)\".*/\1 \2/p" "$tmp/out" |
        sort -n | cut -d' ' -f2 | uniq | tr '\n' ' ')
    [ "$seq_v" = "old new " ] || bad_order="$bad_order partition $p: $seq_v;"
done
[ -z "$bad_order" ] && ok "each partition: the old template's records, then the new one's" ||
    bad "templates per partition:$bad_order"
n_assigned=$(grep -c 'assigned 3 partitions' "$tmp/lw.err")
[ "$n_assigned" = 1 ] && ok "the consumer kept its assignment through the reloads" ||
    bad "'assigned' said $n_assigned times: $(grep -e assigned -e revoked "$tmp/lw.err" | head -4)"
"$committed" "$boot" gr rin >"$tmp/c" 2>&1 || bad "committed: $(cat "$tmp/c")"
total=$(awk '{ s += $2 } END { print s + 0 }' "$tmp/c")
[ "$total" = 30000 ] && ok "committed offsets add up to the 30000 messages" ||
    bad "committed offsets: $(tr '\n' ' ' <"$tmp/c")"

summary

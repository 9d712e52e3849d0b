#!/bin/sh
# seen() exact under Kafka input (logwash(1) KAFKA, logwash-template(7) DEDUP,
# docs/design-state.md 3b), against librdkafka's mock cluster: a dedup job
# (if seen(.id, 10s, event time) { drop }) reads 3 partitions of 9,000 events keyed by the dedup
# key (each id's events in one partition), a third of them repeats of an id 0 to 15 s back (so
# some within the ttl, some after it), and is killed with -9 twice mid-stream; a last run reads
# to the end. The records in the output topic must be exactly those a file run of each
# partition keeps (every id's first record at least once, no record a file run drops), every
# duplicate identical; each commit's metadata holds its partition's seen() time. Also: the
# issue's processing-time line (seen(.request_id, 10m)) runs with Kafka input.
# Usage: [LW_JOBS=N] tests/kafka/kseen.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_setup kafka-kseen python3
mockd_start 3
N=9000

# the input: event i at T0 + i/10 s (every 9th moved back up to 3 s: out of order); a third
# repeat the id of an event 0 to 15 s before; the partition is the id's, as a producer keying
# by the id would choose; then one event per partition a day later
python3 - "$N" "$tmp" <<'EOF'
import datetime, random, sys
n, tmp = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(11)
t0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
ids, out = [], [open("%s/in%d" % (tmp, p), "w") for p in range(3)]
for i in range(n):
    ms = i * 100 - (rnd.randrange(30) * 100 if i % 9 == 0 else 0)
    if i > 200 and rnd.random() < 0.33:
        rid = ids[i - 1 - rnd.randrange(150)]
    else:
        rid = "r%d" % i
    ids.append(rid)
    p = int(rid[1:]) % 3
    out[p].write('{"i":%d,"ts":"%s","id":"%s"}\n' % (i, ts(max(ms, 0)), rid))
for p in range(3):
    out[p].write('{"i":%d,"ts":"%s","id":"z%d"}\n' % (n + p, ts(86400000 + p), p))
EOF
cat >"$tmp/t.lw" <<'EOF'
input json
if seen(.id, 10s, parse_time(.ts, "rfc3339")) { drop }
emit {i: .i, id: .id}
EOF
# the reference: a file run of each partition's records (the keys are the partition's)
for p in 0 1 2; do "$lw" -f "$tmp/t.lw" "$tmp/in$p"; done 2>/dev/null | sort >"$tmp/want"
nwant=$(wc -l <"$tmp/want")
nall=$(cat "$tmp/in0" "$tmp/in1" "$tmp/in2" | wc -l)
# and the records as one file in the order of i: its expiry, by the latest time of all
# partitions, drops other records (one partition's later times expire another's keys)
cat "$tmp/in0" "$tmp/in1" "$tmp/in2" | sort -t: -k2 -n | "$lw" -f "$tmp/t.lw" 2>/dev/null | sort >"$tmp/one"
[ "$nwant" -gt 5000 ] && [ "$nwant" -lt "$nall" ] || bad "the file runs kept $nwant of $nall"

ctl "topic sin 3" "topic sout 1"
for p in 0 1 2; do
    timeout 120 kcat -P -b "$boot" -t sin -p $p -l -X batch.num.messages=20 "$tmp/in$p" 2>"$tmp/kcat.err" ||
        bad "kcat -P partition $p failed: $(head -2 "$tmp/kcat.err")"
done
csum() { "$committed" "$boot" "$1" sin 2>/dev/null | awk '{ s += $2 } END { print s + 0 }'; }
echo "rtt -1 30" >&3
last=-3003
for run in 1 2; do
    : >"$tmp/lw$run.err"
    "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic sin --group gs --to kafka \
        --out-topic sout $KX $SLOW --stats-interval 1 2>"$tmp/lw$run.err" &
    lwpid=$!
    records_in 1000 "$tmp/lw$run.err"
    if [ $run = 1 ]; then tries=150; else tries=15; fi
    wait_for '[ "$(csum gs)" -gt "$last" ] || ! kill -0 $lwpid 2>/dev/null' $((tries / 5))
    kill -9 "$lwpid"; wait "$lwpid" 2>/dev/null; lwpid=
    "$committed" "$boot" gs sin >"$tmp/c$run"
    last=$(csum gs)
    timeout 120 kcat -C -b "$boot" -t sout -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null |
        wc -l >"$tmp/n$run"
done
echo "rtt -1 0" >&3
n1=$(cat "$tmp/n1") n2=$(cat "$tmp/n2")
if [ "$n1" -gt 0 ] && [ "$n2" -gt "$n1" ] && [ "$last" -gt 0 ] && [ "$last" -lt "$nall" ]; then
    ok "two runs killed with -9 mid-stream ($n1 then $n2 records out; committed offsets $(tr '\n' ' ' <"$tmp/c1")then $(tr '\n' ' ' <"$tmp/c2"))"
else
    bad "the kills were not mid-stream: $n1 then $n2 records out, committed $(tr '\n' ' ' <"$tmp/c2")"
fi
timeout 120 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic sin --group gs \
    --to kafka --out-topic sout --exit-at-eof $KX -q 2>"$tmp/lw3.err"
rc=$?
[ $rc = 0 ] && ok "the last run reads to the end: exit 0" || bad "last run: exit $rc: $(tail -2 "$tmp/lw3.err")"
timeout 120 kcat -C -b "$boot" -t sout -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got" 2>/dev/null
msg=$(python3 - "$tmp/want" "$tmp/got" <<'EOF'
import json, sys
want = {}
for l in open(sys.argv[1]):
    want[json.loads(l)["i"]] = l.strip()
seen, dups, bad = set(), 0, []
for l in open(sys.argv[2]):
    l = l.strip()
    i = json.loads(l)["i"]
    if i not in want:
        bad.append("not kept by the file run: " + l)
    elif want[i] != l:
        bad.append("differs: %s, file run %s" % (l, want[i]))
    elif i in seen:
        dups += 1
    seen.add(i)
miss = [i for i in want if i not in seen]
if miss:
    bad.append("%d missing, e.g. %s" % (len(miss), want[miss[0]]))
if bad:
    print("; ".join(bad[:3]) + " (%d problems)" % len(bad))
    sys.exit(1)
print("%d records, %d given twice (identical)" % (len(seen), dups))
EOF
) && ok "the records out are the file runs' ($nwant), none a file run drops: $msg" || bad "records: $msg"
cmp -s "$tmp/want" "$tmp/one" && bad "the partitions' expiry should differ from one file's here" ||
    ok "one file of the records in order keeps $(wc -l <"$tmp/one") ($(comm -3 "$tmp/want" "$tmp/one" | wc -l) differ): expiry is per partition"
"$committed" "$boot" gs sin meta >"$tmp/m3" 2>&1
# the last day's event expires every key but its own: each partition's commit reaches it
for p in 0 1 2; do echo "$p $(($(wc -l <"$tmp/in$p") - 1))"; done >"$tmp/c3want"
cut -d" " -f1,2 "$tmp/m3" | sort >"$tmp/c3"
cmp -s "$tmp/c3" "$tmp/c3want" && ok "committed offsets $(tr '\n' ' ' <"$tmp/c3")(each partition's last record, whose key is live)" ||
    bad "committed $(tr '\n' ' ' <"$tmp/c3"), expected $(tr '\n' ' ' <"$tmp/c3want")"
if [ "$(grep -c ' lw1 t=.* x=.* s=[0-9]*$' "$tmp/m3")" = 3 ]; then
    ok "each commit's metadata holds its partition's seen() time: $(head -1 "$tmp/m3")"
else
    bad "commit metadata: $(tr '\n' ' ' <"$tmp/m3")"
fi

# the issue's line, processing time (not exact across a replay: logwash(1) KAFKA): runs
printf 'input json\nif seen(.request_id, 10m) { drop }\nemit .\n' >"$tmp/p.lw"
ctl "topic pin 1"
printf '{"request_id":"a"}\n{"request_id":"b"}\n{"request_id":"a"}\n' |
    timeout 60 kcat -P -b "$boot" -t pin -p 0 2>/dev/null
timeout 60 "$lw" $J -f "$tmp/p.lw" --from kafka --brokers "$boot" --topic pin --group gp \
    --exit-at-eof $KX -q >"$tmp/p.out" 2>"$tmp/p.err"
rc=$?
if [ $rc = 0 ] && [ "$(tr -d '\n' <"$tmp/p.out")" = '{"request_id":"a"}{"request_id":"b"}' ]; then
    ok "seen(.request_id, 10m) with Kafka input: the repeat dropped"
else
    bad "processing time: exit $rc: $(cat "$tmp/p.out") $(tail -1 "$tmp/p.err")"
fi

summary -j

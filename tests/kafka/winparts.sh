#!/bin/sh
# Windows exact under Kafka input with several partitions (logwash(1) KAFKA, docs/design-state.md
# 2 and 3a), against librdkafka's mock cluster: a job counting and summing per key per minute (an
# event-time tumbling window without lateness; each record emits its own output too) reads 3
# partitions of 12,000 events spread round-robin (not by key: one member reads them all), some
# out of order within their minute and some late (95 s early), and is killed with -9 twice
# mid-stream; a last run reads to the end. The union of the window results in the output topic
# (deduplicated by window and key) must equal a file run's results on the same records, with
# identical values for every duplicate; each partition's committed offset must stop at its first
# record of the window still open. Also: the same in one run to standard output; a partition
# with no record stops holding windows back after --partition-idle.
# Usage: [LW_JOBS=N] tests/kafka/winparts.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_setup kafka-winparts python3
mockd_start 3
N=12000

# the input: event i at T0 + i/10 s, every 7th moved back 0-5 s but never into the minute before
# (out of order, on time for a file run and for its partition alike), every 401st 95 s early
# (late for both); then one event per partition a day later, which closes every window before it
python3 - "$N" >"$tmp/in.jsonl" <<'EOF'
import datetime, sys
n = int(sys.argv[1])
t0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
for i in range(n):
    ms = i * 100
    if i % 7 == 0:
        ms = max(ms - (i % 50) * 100, ms // 60000 * 60000)
    if i % 401 == 0 and i > 2000:
        ms -= 95000
    print('{"i":%d,"ts":"%s","c":"c%d","v":%d}' % (i, ts(ms), (i * 7) % 5, i % 97))
for j in range(3):
    print('{"i":%d,"ts":"%s","c":"c0","v":0}' % (n + j, ts(86400000 + j)))
EOF
cat >"$tmp/t.lw" <<'EOF'
input json
let t = parse_time(.ts, "rfc3339")
window tumbling 1m at t key .c { n = count(); s = sum(.v); lo = min(.i); hi = max(.i) }
emit {i: .i}
EOF
# the reference: a file run of the same records, less the window of the last day (still open
# under Kafka)
"$lw" -f "$tmp/t.lw" "$tmp/in.jsonl" 2>/dev/null | grep window_start | grep -v '"window_start":"2026-03-02' |
    python3 "$(dirname "$0")/results.py" canon >"$tmp/want"
nwant=$(wc -l <"$tmp/want")
late=$("$lw" -f "$tmp/t.lw" "$tmp/in.jsonl" 2>&1 >/dev/null | grep -c "late: event time")
[ "$nwant" -gt 90 ] && [ "$late" -gt 10 ] || bad "the file run gave $nwant results, $late late"

ctl "topic win 3" "topic wout 1"
# partition i % 3, in order
for p in 0 1 2; do
    awk -v p=$p -v n="$N" '(NR <= n && (NR - 1) % 3 == p) || NR - n == p + 1' "$tmp/in.jsonl" >"$tmp/in$p"
    timeout 120 kcat -P -b "$boot" -t win -p $p -l -X batch.num.messages=20 "$tmp/in$p" 2>"$tmp/kcat.err" ||
        bad "kcat -P partition $p failed: $(head -2 "$tmp/kcat.err")"
done
kill9_twice win gw wout
timeout 120 kcat -C -b "$boot" -t wout -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got" 2>/dev/null
msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want" "$tmp/got") && ok "the union of the results equals the file run's ($nwant), values exact: $msg" ||
    bad "results: $msg"
"$committed" "$boot" gw win | sort >"$tmp/c3"
printf '0 %d\n1 %d\n2 %d\n' $((N / 3)) $((N / 3)) $((N / 3)) >"$tmp/c3want"
cmp -s "$tmp/c3" "$tmp/c3want" && ok "committed offsets $(tr '\n' ' ' <"$tmp/c3")(each partition's record of the open window)" ||
    bad "committed $(tr '\n' ' ' <"$tmp/c3"), expected $(tr '\n' ' ' <"$tmp/c3want")"

# to standard output, in one run: the same results
timeout 120 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic win --group gs \
    --exit-at-eof $KX -q >"$tmp/gots" 2>"$tmp/lws.err"
rc=$?
grep window_start "$tmp/gots" | python3 "$(dirname "$0")/results.py" canon >"$tmp/gots.n"
if [ $rc = 0 ] && cmp -s "$tmp/want" "$tmp/gots.n"; then
    ok "to standard output: the $nwant results of the file run"
else
    bad "to standard output: exit $rc, $(grep -c window_start "$tmp/gots") results; $(tail -1 "$tmp/lws.err")"
fi

# an idle partition: partition 2 of wi gets no record; the windows of 0 and 1 wait for it until
# --partition-idle (1 s here) passes without a record from it, then close at the next record
ctl "topic wi 3"
: >"$tmp/idle.out"
"$lw" -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic wi --group gi --partition-idle 1 \
    $KX -q >"$tmp/idle.out" 2>"$tmp/idle.err" &
lwpid=$!
head -600 "$tmp/in.jsonl" | timeout 60 kcat -P -b "$boot" -t wi -p 0 2>/dev/null
sed -n 601,1200p "$tmp/in.jsonl" | timeout 60 kcat -P -b "$boot" -t wi -p 1 2>/dev/null
wait_for '[ "$(wc -l <"$tmp/idle.out")" -ge 1200 ]' 30
sleep 2
sed -n 1201,1800p "$tmp/in.jsonl" | timeout 60 kcat -P -b "$boot" -t wi -p 0 2>/dev/null
sed -n 1801,2400p "$tmp/in.jsonl" | timeout 60 kcat -P -b "$boot" -t wi -p 1 2>/dev/null
wait_for '[ "$(grep -c window_start "$tmp/idle.out")" -gt 0 ]' 30
n=$(grep -c window_start "$tmp/idle.out")
kill "$lwpid"; wait "$lwpid" 2>/dev/null; lwpid=
[ "$n" -gt 0 ] && ok "a partition without records stops holding windows back after --partition-idle: $n results" ||
    bad "idle partition: no result in 30 s; $(tail -1 "$tmp/idle.err")"
# (the cooperative protocol is refused at start: tests/config.sh)

summary -j

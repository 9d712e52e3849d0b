#!/bin/sh
# The two-stage windowed job of examples/two-stage, end to end against librdkafka's mock cluster
# (logwash(1) KAFKA, "Windows: exact across restarts"): the input topic ads (3 partitions) is
# not partitioned by campaign; stage one (stage1.yaml) re-keys every event by campaign into
# ads_by_campaign (3 partitions); stage two (stage2.yaml) counts and sums per campaign per
# minute. Stage two runs as a group of two members: the second joins mid-stream (a rebalance:
# the first drops its windows, each rebuilds its partitions' from the commits), the first is
# killed with -9 later (its partitions go to the second after the session timeout), and a last
# member reads to the end. The union of the results in ads_per_minute (deduplicated by minute
# and campaign) must equal a file run of stage2.lw on the same events, with identical values.
# The events are produced a minute at a time, each once stage one has read the one before, so
# re-keying keeps every campaign's minutes in order (as a real stream would within the
# lateness; logwash(1) says what a late event does).
# Usage: [LW_JOBS=N] tests/kafka/twostage.sh LOGWASH MOCKD
set -u
lw=$1 mockd=$2
. "$(dirname "$0")/lib.sh"
kafka_kill9="s1pid s2pid"
s1pid= s2pid=
kafka_setup kafka-twostage python3
mockd_start 3
ex=$(cd "$(dirname "$0")/../../examples/two-stage" && pwd)
M=10

# minute m: 120 events of campaigns c0-c5 (they hash to all 3 partitions of ads_by_campaign),
# shuffled within the minute; two 10 minutes early from minute 9 on (late in both runs); then
# one event per campaign a day later, which closes every minute before it
python3 - "$M" "$tmp" <<'EOF'
import datetime, random, sys
m, tmp = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(11)
t0 = datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
allf = open(tmp + "/all.jsonl", "w")
n = 0
for minute in range(m + 1):
    evs = []
    if minute < m:
        for k in range(120):
            evs.append((minute * 60000 + k * 500, "c%d" % rnd.randrange(6), rnd.randrange(1, 5000)))
        rnd.shuffle(evs)
        if minute == m - 1:
            evs += [(minute * 60000 - 600000 + 1000, "c1", 7), (minute * 60000 - 600000, "c2", 9)]
    else:
        evs = [(86400000 + k, "c%d" % k, 0) for k in range(6)]
    with open("%s/m%d" % (tmp, minute), "w") as f:
        for ms, c, p in evs:
            line = '{"n":%d,"request_id":"q%d","ts":"%s","campaign":"%s","price_micros":%d}\n' % (n, n, ts(ms), c, p)
            f.write(line)
            allf.write(line)
            n += 1
EOF
total=$(wc -l <"$tmp/all.jsonl")
# the reference: stage two on a file of the same events, less the day after (still open)
"$lw" -f "$ex/stage2.lw" "$tmp/all.jsonl" 2>"$tmp/file.err" | grep -v '"window_start":"2026-03-02' |
    python3 "$(dirname "$0")/results.py" canon >"$tmp/want"
nwant=$(wc -l <"$tmp/want")
nlate=$(grep -c "late: event time" "$tmp/file.err")
[ "$nwant" = $((M * 6)) ] && [ "$nlate" = 2 ] ||
    bad "the file run: $nwant results (want $((M * 6))), $nlate late (want 2)"

ctl "topic ads 3" "topic ads_by_campaign 3" "topic ads_per_minute 1" "topic ads_dead 1"
export BROKERS="$boot"
# stage one, one member, all along
"$lw" -c "$ex/stage1.yaml" $J $KX --stats-interval 1 2>"$tmp/s1.err" &
s1pid=$!
# stage2 NAME: a member of stage two in the background (its pid in s2pid)
stage2() {
    "$lw" -c "$ex/stage2.yaml" $J $KX --stats-interval 1 2>"$tmp/s2$1.err" &
    s2pid="$s2pid $!"
    last2=$!
}
stage2 a
a=$last2
# s1_in N: until stage one's summary lines count N records in (60 s at most)
s1_count() { n1=$(sed -n 's/.*kafka: \([0-9]*\) records in.*/\1/p' "$tmp/s1.err" | tail -1); echo "${n1:-0}"; }
s1_in() { wait_for '[ "$(s1_count)" -ge '"$1"' ]' 60; }
sent=0
for m in $(seq 0 "$M"); do
    # each minute round-robin over the 3 partitions of ads
    for p in 0 1 2; do
        awk -v p=$p '(NR - 1) % 3 == p' "$tmp/m$m" >"$tmp/m$m.$p"
        [ -s "$tmp/m$m.$p" ] && timeout 60 kcat -P -b "$boot" -t ads -p $p -l "$tmp/m$m.$p" 2>/dev/null
    done
    sent=$((sent + $(wc -l <"$tmp/m$m")))
    s1_in "$sent" || bad "stage one did not read minute $m ($sent events) in 60 s: $(tail -1 "$tmp/s1.err")"
    if [ "$m" = 4 ]; then # a second member: a rebalance, once both have their partitions
        stage2 b
        b=$last2
        wait_for 'grep -q assigned "$tmp/s2b.err" && [ "$(grep -c assigned "$tmp/s2a.err")" -ge 2 ]' 60 ||
            bad "the rebalance did not end in 60 s: $(grep -h "assigned\|revoked" "$tmp/s2a.err" "$tmp/s2b.err")"
    fi
    if [ "$m" = 7 ]; then # the first killed: the second gets its partitions
        kill -9 "$a"
        wait "$a" 2>/dev/null
        wait_for '[ "$(grep -c assigned "$tmp/s2b.err")" -ge 2 ]' 60 ||
            bad "the second member did not get the first's partitions in 60 s"
    fi
done
[ "$sent" = "$total" ] || bad "sent $sent of $total events"
# the second member ends (TERM), a last one reads what is left to the end
sleep 2
kill "$b"; wait "$b" 2>/dev/null
timeout 120 "$lw" -c "$ex/stage2.yaml" $J $KX -q --exit-at-eof 2>"$tmp/s2last.err"
rc=$?
[ $rc = 0 ] && ok "stage two: a member joined, one killed with -9, the last read to the end: exit 0" ||
    bad "stage two's last member: exit $rc: $(tail -2 "$tmp/s2last.err")"
kill "$s1pid"; wait "$s1pid" 2>/dev/null; s1pid=
grep -q "revoked" "$tmp/s2a.err" && grep -q "assigned" "$tmp/s2b.err" ||
    bad "no rebalance seen in stage two: $(grep -h "assigned\|revoked" "$tmp/s2a.err" "$tmp/s2b.err" | head -3)"
timeout 120 kcat -C -b "$boot" -t ads_per_minute -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got" 2>/dev/null
msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want" "$tmp/got" only) && ok "the union of stage two's results equals a file run's ($nwant), values exact: $msg" ||
    bad "results: $msg"
# the two late events went to the dead-letter topic, kind late (stage two; at least once)
timeout 60 kcat -C -b "$boot" -t ads_dead -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null >"$tmp/dead"
python3 -c 'import json, sys
print(" ".join(sorted({str(json.loads(json.loads(l)["record"])["n"]) for l in sys.stdin if json.loads(l)["kind"] == "late"})))' <"$tmp/dead" >"$tmp/late"
[ "$(cat "$tmp/late")" = "1200 1201" ] && ok "the two late events are dead letters of kind late" ||
    bad "late dead letters: '$(cat "$tmp/late")', want '1200 1201'"

summary -j

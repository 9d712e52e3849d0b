#!/bin/sh
# Windows with allowed lateness exact under Kafka input (logwash(1) KAFKA, docs/design-state.md
# 3 and 3a: the commit metadata), against librdkafka's mock cluster: a job counting and summing
# per key per minute (an event-time tumbling window with `late 30s`; each record emits its own
# output too) reads 3 partitions of 12,000 events spread round-robin (not by key: one member
# reads them all), some out of order and some late (95 s early), and is killed with -9 twice
# mid-stream; a last run reads to the end. The union of the window results in the output topic
# (deduplicated by window and key) must equal a file run's results on the same records, with
# identical values for every duplicate; each partition's committed offset must stop at its first
# record of the window still open, its metadata holding its time and the windows given. Every
# 7th event is moved back up to 25 s, into the minute before (on time within the lateness,
# after that window's end), so a replay that forgot the partitions' times or the windows given
# would re-emit a partial window or lose one. The same with a sliding window (2m every 1m) with
# `late 30s`, and without lateness on input that never moves back across a minute; commit
# metadata not logwash's is said and ignored.
# Usage: [LW_JOBS=N] tests/kafka/winlate.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_kill9=ca
ca=
kafka_setup kafka-winlate python3
mockd_start 3
N=12000

# the input: event i at T0 + i/10 s, every 7th moved back 0-25 s, often into the minute before
# (within the lateness: on time for a file run and for its partition alike, at least 5 s from
# the limit), every 401st 95 s early (late for both); then one event per partition a day later,
# which closes every window before it. in0.jsonl, for the windows without lateness: the same
# but never moved into the minute before (as winparts.sh)
for within in 0 1; do
python3 - "$N" $within >"$tmp/in$within.jsonl" <<'EOF'
import datetime, sys
n, within = int(sys.argv[1]), sys.argv[2] == "0"

t0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
for i in range(n):
    ms = i * 100
    if i % 7 == 0:
        ms = ms - (i % 251) * 100
        if within:
            ms = max(ms, i * 100 // 60000 * 60000)
    if i % 401 == 0 and i > 2000:
        ms -= 95000
    print('{"i":%d,"ts":"%s","c":"c%d","v":%d}' % (i, ts(ms), (i * 7) % 5, i % 97))
for j in range(3):
    print('{"i":%d,"ts":"%s","c":"c0","v":0}' % (n + j, ts(86400000 + j)))
EOF
done
ctl "topic win0 3" "topic win1 3" "topic wout 1" "topic wouts 1" "topic wouts0 1"
# partition i % 3, in order: winF from inF.jsonl
for f in 0 1; do
    for p in 0 1 2; do
        awk -v p=$p -v n="$N" '(NR <= n && (NR - 1) % 3 == p) || NR - n == p + 1' "$tmp/in$f.jsonl" >"$tmp/in$p"
        timeout 120 kcat -P -b "$boot" -t win$f -p $p -l -X batch.num.messages=20 "$tmp/in$p" 2>"$tmp/kcat.err" ||
            bad "kcat -P win$f partition $p failed: $(head -2 "$tmp/kcat.err")"
    done
done

# scenario KIND WINDOW LATE OUT TOPIC INPUT: the job with `window WINDOW at t LATE` against a
# file run of INPUT, reading TOPIC (INPUT's records), output topic OUT, group gKIND
scenario() {
    kind=$1 win=$2 lateness=$3 out=$4 topic=$5 input=$6
    printf '%s\n' 'input json' 'let t = parse_time(.ts, "rfc3339")' \
        "window $win at t $lateness key .c { n = count(); s = sum(.v); lo = min(.i); hi = max(.i) }" \
        'emit {i: .i}' >"$tmp/t.lw"
    # the reference: a file run of the same records, less the windows of the last day (still
    # open under Kafka)
    "$lw" -f "$tmp/t.lw" "$input" 2>/dev/null | grep window_start | grep -v '"window_end":"2026-03-02' |
        python3 "$(dirname "$0")/results.py" canon >"$tmp/want"
    nwant=$(wc -l <"$tmp/want")
    late=$("$lw" -f "$tmp/t.lw" "$input" 2>&1 >/dev/null | grep -c "late: event time")
    [ "$nwant" -gt 90 ] && [ "$late" -gt 10 ] || bad "$kind: the file run gave $nwant results, $late late"

    kill9_twice $topic g$kind $out "$kind"
    timeout 120 kcat -C -b "$boot" -t $out -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got" 2>/dev/null
    msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want" "$tmp/got") && ok "$kind: the union of the results equals the file run's ($nwant), values exact: $msg" ||
        bad "$kind: results: $msg"
    "$committed" "$boot" g$kind $topic | sort >"$tmp/c3"
    printf '0 %d\n1 %d\n2 %d\n' $((N / 3)) $((N / 3)) $((N / 3)) >"$tmp/c3want"
    "$committed" "$boot" g$kind $topic meta >"$tmp/m3" 2>&1
    cmp -s "$tmp/c3" "$tmp/c3want" && ok "$kind: committed offsets $(tr '\n' ' ' <"$tmp/c3")(each partition's record of the open window)" ||
        bad "$kind: committed $(tr '\n' ' ' <"$tmp/c3"), expected $(tr '\n' ' ' <"$tmp/c3want")"
    # the metadata: each partition's time as of its commit (its last record before the last day,
    # 2026-03-01T00:19:59.x, in ns since the epoch) and the windows given (the closing time then:
    # the last day's first record, 2026-03-02T00:00:00.00x)
    [ "$(grep -cE '^[0-2] [0-9]+ lw1 t=1772324399[0-9]{9} x=17724096000[0-9]{8}$' "$tmp/m3")" = 3 ] &&
        ok "$kind: each commit's metadata holds its partition's time and the windows given: $(head -1 "$tmp/m3")" ||
        bad "$kind: commit metadata: $(tr '\n' ' ' <"$tmp/m3")"
    # a sanitizer build's reports (the killed runs' too)
    sanitizer_check -l "$kind" "$tmp"/lw[123].err
}

scenario tumbling 'tumbling 1m' 'late 30s' wout win1 "$tmp/in1.jsonl"
scenario sliding0 'sliding 2m every 1m' '' wouts0 win0 "$tmp/in0.jsonl"
scenario sliding 'sliding 2m every 1m' 'late 30s' wouts win1 "$tmp/in1.jsonl"

# a commit whose metadata is not logwash's (another tool's): said, and the partition starts as
# in a first run (the last scenario's template and results)
if "$committed" "$boot" gforeign win1 set 0 0 "$(printf 'junk\001')" 2>"$tmp/set.err"; then
    timeout 120 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic win1 --group gforeign \
        --exit-at-eof $KX -q >"$tmp/gotf" 2>"$tmp/lwf.err"
    rc=$?
    grep window_start "$tmp/gotf" | grep -v '"window_end":"2026-03-02' | python3 "$(dirname "$0")/results.py" canon >"$tmp/gotf.n"
    if [ $rc = 0 ] && cmp -s "$tmp/want" "$tmp/gotf.n" &&
        grep -q "^logwash: win1/0: the committed offset's metadata is not logwash's (\"junk?\"): its windows are rebuilt from the committed offset as if it were the first run$" "$tmp/lwf.err"; then
        ok "metadata not logwash's: said, the partition read as in a first run, the results exact"
    else
        bad "foreign metadata: exit $rc, $(wc -l <"$tmp/gotf.n") results; $(grep -v 'records in' "$tmp/lwf.err" | head -2)"
    fi
else
    bad "committed set: $(cat "$tmp/set.err")"
fi
summary -j

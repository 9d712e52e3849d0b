#!/bin/sh
# Windows exact under Kafka (logwash(1) KAFKA, docs/design-state.md 3), against librdkafka's mock
# cluster (tests/kafka/mockd): a job counting and summing per key per minute (an event-time
# tumbling window, no lateness; each record emits its own output too, so the commit moves inside
# windows) reads one partition of 12,000 events, a few of them out of order and late, and is killed with -9 twice mid-stream; a last run reads to the end. Every closed
# (window, key) result must be in the output topic with the values a reference computation
# (Python, below, from the man page's rules) gives, each duplicate identical, none other; the
# committed offset must stop at the first record of the window still open. Also: the same to
# standard output; the templates with state that are not exact under Kafka are still refused at
# start (exit 2). The window's `to "wres"` sends its results there, each with its identity as
# the message key, a replay's duplicate with the same key and value; each record's own output
# goes to --out-topic. Several partitions: tests/kafka/winparts.sh.
# Usage: [LW_JOBS=N] tests/kafka/windows.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
J=${LW_JOBS:+-j $LW_JOBS} # LW_JOBS=N: logwash runs with -j N (make kafka: 1 and 2)
if ! command -v kcat >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
    echo "kafka-windows: skipped: kcat or python3 is not installed (sh tools/deps.sh)"
    exit 0
fi
tmp=$(mktemp -d)
pid= lwpid=
cleanup() {
    [ -n "$lwpid" ] && kill -9 "$lwpid" 2>/dev/null
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
mkfifo "$tmp/ctl"
"$mockd" -b 3 -f "$tmp/boot" <"$tmp/ctl" >"$tmp/replies" 2>"$tmp/mockd.err" &
pid=$!
exec 3>"$tmp/ctl"
i=0
while [ ! -s "$tmp/boot" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -s "$tmp/boot" ]; then
    echo "kafka-windows: FAIL: mockd did not start"; cat "$tmp/mockd.err"; exit 1
fi
boot=$(cat "$tmp/boot")
[ -n "${KEEP:-}" ] && echo "kafka-windows: files in $tmp"
pass=0 fail=0
ok() { echo "kafka-windows: $*"; pass=$((pass + 1)); }
bad() { echo "kafka-windows: FAIL: $*"; fail=$((fail + 1)); }
KX="-X session.timeout.ms=6000 -X consumer.max.poll.interval.ms=7000 -X consumer.fetch.wait.max.ms=10 -X auto.commit.interval.ms=200"
SLOW="-X consumer.message.max.bytes=1000 -X consumer.fetch.max.bytes=2000 -X consumer.max.partition.fetch.bytes=400"
N=12000

# the input: event i at T0 + i/10 s, every 37th 4 s early (late when that crosses back into a
# minute already closed), every 401st 95 s early (late); then one event a day later, which
# closes every window before it and stays open itself
python3 - "$N" >"$tmp/in.jsonl" <<'EOF'
import datetime, sys
n = int(sys.argv[1])
t0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
for i in range(n):
    ms = i * 100 - (4000 if i % 37 == 0 else 0) - (95000 if i % 401 == 0 else 0)
    print('{"i":%d,"ts":"%s","c":"c%d","v":%d}' % (i, ts(ms), (i * 7) % 5, i % 97))
print('{"i":%d,"ts":"%s","c":"c0","v":0}' % (n, ts(86400000)))
EOF
cat >"$tmp/t.lw" <<'EOF'
input json
let t = parse_time(.ts, "rfc3339")
window tumbling 1m at t key .c to "wres" { n = count(); s = sum(.v); lo = min(.i); hi = max(.i) }
emit {i: .i}
EOF
# the reference: in read order, a record is late when an earlier one's time reached the end of
# its minute; every window that ends at or before the last time read is closed
python3 - "$tmp/in.jsonl" >"$tmp/want" <<'EOF'
import datetime, json, sys
def ns(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return round(d.timestamp() * 1000) * 1000000
def fmt(n):
    return datetime.datetime.fromtimestamp(n // 10**9, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
M = 60 * 10**9
wm, win = None, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    t = ns(r["ts"])
    start = t // M * M
    if wm is None or wm < start + M:
        w = win.setdefault((start, r["c"]), {"n": 0, "s": 0, "lo": None, "hi": None})
        w["n"] += 1
        w["s"] += r["v"]
        w["lo"] = r["i"] if w["lo"] is None else min(w["lo"], r["i"])
        w["hi"] = r["i"] if w["hi"] is None else max(w["hi"], r["i"])
    wm = t if wm is None else max(wm, t)
for (start, c), w in sorted(win.items()):
    if start + M <= wm:
        print(json.dumps({"key": c, "window_start": fmt(start), "window_end": fmt(start + M), **w}, separators=(",", ":")))
EOF
nwant=$(wc -l <"$tmp/want")

echo "topic win 1" >&3; echo "topic wout 1" >&3; echo "topic wres 1" >&3; sleep 0.3
timeout 120 kcat -P -b "$boot" -t win -l -X batch.num.messages=20 "$tmp/in.jsonl" 2>"$tmp/kcat.err" ||
    bad "kcat -P failed: $(head -2 "$tmp/kcat.err")"
# wait_for N ERRFILE: until the summary lines count N records in, logwash exits, or 60 s pass
wait_for() {
    i=0
    while [ $i -lt 300 ] && kill -0 "$lwpid" 2>/dev/null; do
        n=$(sed -n 's/.*kafka: \([0-9]*\) records in.*/\1/p' "$2" | tail -1)
        [ "${n:-0}" -ge "$1" ] && return 0
        sleep 0.2; i=$((i + 1))
    done
}
# wait_commit LAST TRIES: until the group's committed offset passes LAST (TRIES x 0.2 s at most)
wait_commit() {
    i=0
    while [ $i -lt "$2" ] && kill -0 "$lwpid" 2>/dev/null; do
        c=$("$committed" "$boot" gw win 2>/dev/null | awk '{ print $2 }')
        [ "${c:--1001}" -gt "$1" ] && return 0
        sleep 0.2; i=$((i + 1))
    done
}
echo "rtt -1 30" >&3
last=-1001
for run in 1 2; do
    : >"$tmp/lw$run.err"
    "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic win --group gw --to kafka \
        --out-topic wout $KX $SLOW --stats-interval 1 2>"$tmp/lw$run.err" &
    lwpid=$!
    wait_for 1000 "$tmp/lw$run.err"
    # the first kill after a commit moved; the second soon after, well before the end
    if [ $run = 1 ]; then wait_commit "$last" 150; else wait_commit "$last" 15; fi
    kill -9 "$lwpid"; wait "$lwpid" 2>/dev/null; lwpid=
    "$committed" "$boot" gw win >"$tmp/c$run"
    last=$(awk '{ print $2 }' "$tmp/c$run")
    timeout 120 kcat -C -b "$boot" -t wres -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null |
        grep -c window_start >"$tmp/n$run"
done
echo "rtt -1 0" >&3
c1=$(awk '{ print $2 }' "$tmp/c1") c2=$(awk '{ print $2 }' "$tmp/c2") n1=$(cat "$tmp/n1") n2=$(cat "$tmp/n2")
# mid-stream: each killed run gave results, and the commit stayed before the end
if [ "$n1" -gt 0 ] && [ "$n2" -gt "$n1" ] && [ "$c2" -lt "$N" ]; then
    ok "two runs killed with -9 mid-stream ($n1 then $n2 results out; committed offsets $c1 then $c2 of $N)"
else
    bad "the kills were not mid-stream: $n1 then $n2 results out, committed $c1 then $c2"
fi
timeout 120 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic win --group gw \
    --to kafka --out-topic wout --exit-at-eof $KX -q 2>"$tmp/lw3.err"
rc=$?
[ $rc = 0 ] && ok "the last run reads to the end: exit 0" || bad "last run: exit $rc: $(tail -2 "$tmp/lw3.err")"
timeout 120 kcat -C -b "$boot" -t wres -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got" 2>/dev/null
msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want" "$tmp/got") && ok "every (window, key) result of the reference ($nwant) present, values exact: $msg" ||
    bad "results: $msg"
"$committed" "$boot" gw win >"$tmp/c3"
# the message keys: each the compact JSON of the result's identity (checked for every result),
# a duplicate's key and value those of its first; the records' own outputs on wout, no result
# there
timeout 120 kcat -C -b "$boot" -t wres -o beginning -e -q -X fetch.wait.max.ms=10 \
    -f '%k\t%s\n' >"$tmp/gotk" 2>/dev/null
timeout 120 kcat -C -b "$boot" -t wout -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/gotw" 2>/dev/null
msg=$(python3 - "$tmp/gotk" <<'EOF'
import json, sys
errs, first, dups, n = [], {}, 0, 0
for line in open(sys.argv[1]):
    n += 1
    k, v = line.rstrip("\n").split("\t", 1)
    r = json.loads(v)
    want = json.dumps({"window": 1, "window_start": r["window_start"], "window_end": r["window_end"],
                       "key": r["key"]}, separators=(",", ":"))
    if k != want:
        errs.append("key %s for %s, want %s" % (k, v, want))
    if k in first:
        dups += 1
        if first[k] != v:
            errs.append("key %s: %s then %s" % (k, first[k], v))
    first.setdefault(k, v)
if errs or n == 0:
    print("; ".join(errs[:3]) or "no result on the to topic")
    sys.exit(1)
# a duplicate comes only when a kill fell between a result's delivery and its commit: often,
# not always (the values of every duplicate are checked above too)
print("%d results, %d duplicates, each with the key and value of its first" % (n, dups))
EOF
) && ok "on the to topic, keyed by identity: $msg" || bad "message keys: $msg"
nw=$(grep -c window_start "$tmp/gotw") nr=$(grep -c '"i"' "$tmp/gotw")
[ "$nw" = 0 ] && [ "$nr" -gt "$N" ] && ok "the records' own outputs on --out-topic ($nr), no result there" ||
    bad "--out-topic wout: $nw results, $nr records' outputs"
[ "$(cat "$tmp/c3")" = "0 $N" ] && ok "committed offset $N: the first record of the window still open" ||
    bad "committed $(cat "$tmp/c3"), expected 0 $N"

# to standard output: the same results, in one run; the commit stops at the open window too
timeout 120 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic win --group gs \
    --exit-at-eof $KX -q >"$tmp/gots" 2>"$tmp/lws.err"
rc=$?
grep window_start "$tmp/gots" | python3 "$(dirname "$0")/results.py" canon >"$tmp/gots.n"
python3 "$(dirname "$0")/results.py" canon <"$tmp/want" >"$tmp/want.n"
"$committed" "$boot" gs win >"$tmp/cs"
if [ $rc = 0 ] && cmp -s "$tmp/want.n" "$tmp/gots.n" && [ "$(cat "$tmp/cs")" = "0 $N" ]; then
    ok "to standard output: the $nwant results exact, committed offset $N"
else
    bad "to standard output: exit $rc, $(grep -c window_start "$tmp/gots") results, committed $(cat "$tmp/cs"); $(tail -1 "$tmp/lws.err")"
fi

# not exact under Kafka: refused at start, exit 2 (seen() alone is exact: tests/kafka/kseen.sh;
# seen() with event-time windows too: kboth.sh; count windows at EXPR: wincount.sh; seen() with
# count windows: wincount.sh)
for w in "window tumbling 1m { n = count() }" "window session 1m { n = count() }" \
    "window count 5 timeout 1m { n = count() }" "if seen(.i, 1m, t) { drop }
window tumbling 1m { n = count() }"; do
    printf 'input json\nlet t = parse_time(.ts, "rfc3339")\n%s\n' "$w" >"$tmp/r.lw"
    "$lw" -f "$tmp/r.lw" --from kafka --brokers "$boot" --topic win --group gr --exit-at-eof \
        >/dev/null 2>"$tmp/r.err"
    rc=$?
    if [ $rc = 2 ] && grep -q "state is accepted only for Kafka input whose replay from the committed offsets rebuilds it exactly: seen(), up to 8 event-time tumbling, sliding, session or count window statements .*, or seen() with such windows; windows without at run on the clock (from files or stdin to Kafka any state is accepted" "$tmp/r.err"; then
        ok "refused with Kafka input: $w"
    else
        bad "'$w' with Kafka input: exit $rc, $(head -1 "$tmp/r.err")"
    fi
done
# from files to Kafka every form is accepted (no commit, no replay): tests/kafka/filestate.sh

echo "kafka-windows: $pass passed, $fail failed"
[ $fail = 0 ]

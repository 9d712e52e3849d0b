#!/bin/sh
# State from files or stdin to Kafka (logwash(1) KAFKA), against librdkafka's mock cluster
# (tests/kafka/mockd), read back with kcat: a file of events through a template with seen(),
# an event-time tumbling window, an event-time count window and a processing-time window
# (closed at the end of input), some per-record outputs routed to a topic of their own
# (emit ... to) and late records as dead letters on a topic. Checks:
#  1. every window result and per-record output is in the topics, in the order of the same run
#     to standard output (exit 0 both), the routed ones in their topic, the dead letters the same
#     as the dead-letter file's;
#  2. a processing-time window is closed and delivered while stdin is quiet (before its end);
#  3. the brokers go down during a run from stdin and stay down: the run ends with the exit status
#     and the "not delivered within --flush-timeout" message a run without state gives; every
#     message counted delivered is in the topic, and delivered + said undelivered is every message
#     the run to standard output gives (nothing lost silently); the message names the first
#     record whose output was not delivered (stdin:N, the one after the delivered ones) and
#     speaks of no commit (files and stdin have none);
#  4. the broker refuses a produce request for good (an injected MESSAGE_TOO_LARGE): the run
#     stops with the status and message of a run without state, and gives no window it had
#     not closed (the input was not all read: as --on-error=abort; a run of the whole file
#     would give other values for them); the message names the record whose output failed
#     (not in the topic), and no commit;
#  5. a window result closed at the end too large for message.max.bytes: a failed record of its
#     own, its dead letter (kind produce, source "window result") holding it; the rest delivered.
#  6. a window's `to "TOPIC"`: its results there, in the run's order, each (and a statement's
#     without `to`, on --out-topic) with its identity as the message key; a topic name Kafka
#     refuses: exit 2 at start; a topic that does not exist: each result a route dead letter.
#  7. a file's records refused by the broker: the message names FILE:LINE of the first
#     failure, then how many failed from which record, and no commit.
# Usage: [LW_JOBS=N] tests/kafka/filestate.sh LOGWASH MOCKD
set -u
lw=$1 mockd=$2
. "$(dirname "$0")/lib.sh"
kafka_setup kafka-filestate python3
mockd_start 1 fo:1 fo2:1 fdl:1 fq:1 fd:1 fp:1 fe:1 fep:1 fb:1 fw:1 fwo:1 ff:1

consume() { timeout 60 kcat -C -b "$boot" -t "$1" -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null; }
count() { consume "$1" | wc -l; }

# event i at T0 + i/10 s, every 41st 70 s early (late for its minute, not for the count
# window); request ids repeat (seen() drops the repeats within an hour)
python3 - >"$tmp/in.jsonl" <<'EOF'
import datetime
t0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
for i in range(3000):
    ms = i * 100 - (70000 if i % 41 == 40 else 0)
    ts = (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    print('{"i":%d,"rid":"r%d","ts":"%s","c":"c%d","v":%d}' % (i, i % 2600, ts, i % 5, i % 97))
EOF
cat >"$tmp/t.lw" <<'EOF'
input json
let t = parse_time(.ts, "rfc3339")
if seen(.rid, 1h, t) { drop }
window tumbling 1m at t key {c: .c} { n = count(); s = sum(.v) }
window count 7 timeout 30s at t key {c: .c} { k = count(); lo = min(.i) }
window tumbling 1h key "pt" { p = count() }
if .i % 10 == 0 { emit {routed: .i} to "fo2" }
emit {i: .i, c: .c}
EOF
NOW="--now 2026-03-01T00:00:00Z"

# 1. the file to Kafka and to standard output
"$lw" $J -f "$tmp/t.lw" $NOW --dead-letter "$tmp/dl.jsonl" "$tmp/in.jsonl" >"$tmp/std" 2>"$tmp/std.err"
rs=$?
timeout 120 "$lw" $J -f "$tmp/t.lw" $NOW --to kafka --brokers "$boot" --out-topic fo \
    --dead-letter-topic fdl "$tmp/in.jsonl" 2>"$tmp/k.err"
rk=$?
consume fo >"$tmp/fo"
consume fo2 >"$tmp/fo2"
consume fdl >"$tmp/fdl"
grep -v '"routed"' "$tmp/std" >"$tmp/std.fo"
grep '"routed"' "$tmp/std" >"$tmp/std.fo2"
nres=$(grep -c window_start "$tmp/fo")
ncount=$(grep -c '"k":' "$tmp/fo")
if [ $rs = 0 ] && [ $rk = 0 ] && cmp -s "$tmp/std.fo" "$tmp/fo" && [ "$ncount" -gt 0 ] &&
    grep -q '"key":"pt".*"p":2600' "$tmp/fo"; then
    ok "to Kafka: the $(wc -l <"$tmp/fo") messages of the run to standard output, in its order ($nres window results, $ncount of the count window, the processing-time window closed at the end), exit 0"
else
    bad "to Kafka: exit $rk (stdout: $rs), $(wc -l <"$tmp/fo") messages, $(wc -l <"$tmp/std.fo") expected; $(head -2 "$tmp/k.err")"
fi
if [ -s "$tmp/fo2" ] && cmp -s "$tmp/std.fo2" "$tmp/fo2"; then
    ok "routed outputs (emit ... to) in their topic: $(wc -l <"$tmp/fo2")"
else
    bad "routed: $(wc -l <"$tmp/fo2") in fo2, $(wc -l <"$tmp/std.fo2") expected"
fi
if [ -s "$tmp/fdl" ] && cmp -s "$tmp/dl.jsonl" "$tmp/fdl" && grep -q '"kind":"late"' "$tmp/fdl"; then
    ok "late records on the dead-letter topic, as in the dead-letter file: $(wc -l <"$tmp/fdl")"
else
    bad "dead letters: $(wc -l <"$tmp/fdl") on the topic, $(wc -l <"$tmp/dl.jsonl") in the file"
fi

# 2. a processing-time window closed while stdin is quiet: delivered before the end of input
mkfifo "$tmp/q"
printf 'input json\nwindow tumbling 1s key "q" { n = count() }\n' >"$tmp/q.lw"
"$lw" $J -f "$tmp/q.lw" --to kafka --brokers "$boot" --out-topic fq <"$tmp/q" 2>"$tmp/q.err" &
lwpid=$!
exec 4>"$tmp/q"
head -5 "$tmp/in.jsonl" >&4
if wait_for '[ "$(count fq)" -ge 1 ]' 15 && kill -0 $lwpid 2>/dev/null; then
    ok "a processing-time window closed by the clock on a quiet stdin: delivered while the run goes on"
else
    bad "quiet stdin: $(count fq) results in fq; $(head -2 "$tmp/q.err")"
fi
exec 4>&-
wait $lwpid
rq=$?
lwpid=
n=$(consume fq | sed -n 's/.*"n":\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
[ $rq = 0 ] && [ "$n" = 5 ] && ok "quiet stdin: exit 0, the 5 records counted" ||
    bad "quiet stdin: exit $rq, $n records counted: $(head -2 "$tmp/q.err")"

# 3. the brokers down from the middle of a run to its end, with and without state: the same
#    exit status and message; delivered (the metrics) all in the topic, the rest said
printf 'input json\nemit {i: .i, c: .c}\n' >"$tmp/p.lw"
"$lw" -f "$tmp/p.lw" "$tmp/in.jsonl" >"$tmp/pstd"
down_run() { # TEMPLATE TOPIC STDOUT-OF-THE-SAME-RUN LABEL
    rm -f "$tmp/in.fifo"
    mkfifo "$tmp/in.fifo"
    "$lw" $J -f "$1" $NOW --to kafka --brokers "$boot" --out-topic "$2" --flush-timeout 2000 \
        --metrics-file "$tmp/m.$2" <"$tmp/in.fifo" 2>"$tmp/e.$2" &
    lwpid=$!
    exec 4>"$tmp/in.fifo"
    head -1500 "$tmp/in.jsonl" >&4
    wait_for "[ \"\$(count $2)\" -ge 1000 ]" 30 || bad "$4: the first half was not delivered"
    ctl "down -1"
    tail -n +1501 "$tmp/in.jsonl" >&4
    exec 4>&-
    wait $lwpid
    rc=$?
    lwpid=
    ctl "up -1"
    del=$(sed -n 's/.*"delivered_messages_total":\([0-9]*\).*/\1/p' "$tmp/m.$2")
    und=$(sed -n 's/.*kafka: \([0-9]*\) messages not delivered within --flush-timeout.*/\1/p' "$tmp/e.$2")
    got=$(count "$2") want=$(wc -l <"$3")
    if [ "${del:-x}" -le "$got" ] && [ $((del + ${und:-0})) = "$want" ] && [ "${und:-0}" -gt 0 ]; then
        ok "$4: brokers down: exit $rc, $del delivered (all in the topic: $got), $und said not delivered, of $want"
    else
        bad "$4: brokers down: exit $rc, delivered ${del:-?}, in the topic $got, said undelivered ${und:-?}, of $want; $(grep -v Connect "$tmp/e.$2" | head -3)"
    fi
    eval "rc_$2=$rc"
}
down_run "$tmp/p.lw" fp "$tmp/pstd" "without state"
# one message per record on one partition, delivered in order: the first record whose output
# was not delivered is the one after the delivered ones
nocommit='(files and stdin have no commits: the exit status is 1)'
first=$(grep -F "$nocommit" "$tmp/e.fp" |
    sed -n 's/.*kafka: [0-9]* messages not delivered within --flush-timeout: outputs of stdin:\([0-9]*\) and of later records (.*/\1/p')
if [ -n "$first" ] && [ "$first" = $((${del:-0} + 1)) ] && ! grep -q 'committed$' "$tmp/e.fp"; then
    ok "brokers down, from stdin: the first record not delivered named (stdin:$first, after the $del delivered), no commit spoken of"
else
    bad "brokers down, from stdin: named stdin:${first:-?}, delivered ${del:-?}: $(grep 'not delivered' "$tmp/e.fp" | head -2)"
fi
grep -v 'routed' "$tmp/t.lw" >"$tmp/td.lw" # one topic: its messages are the ones counted
"$lw" -f "$tmp/td.lw" $NOW "$tmp/in.jsonl" >"$tmp/tdstd" 2>/dev/null
down_run "$tmp/td.lw" fd "$tmp/tdstd" "with state"
# the sink's own lines (the producer's connection lines aside, and the count of failed messages
# at the end: a failed request may hold one message or many), numbers left out
said() { grep '^logwash: kafka: ' "$1" | grep -v 'kafka: producer: \|still in queue\|messages failed: ' | sed -e 's/delivery to [a-z0-9]*/delivery to T/' -e 's/[0-9][0-9]*/N/g'; }
if [ "$rc_fd" = "$rc_fp" ] && [ "$rc_fd" = 1 ] && [ -n "$(said "$tmp/e.fd")" ] &&
    [ "$(said "$tmp/e.fd")" = "$(said "$tmp/e.fp")" ]; then
    ok "brokers down: with state the exit status ($rc_fd) and messages of the run without: $(said "$tmp/e.fd" | head -1)"
else
    bad "brokers down: exit $rc_fd with state, $rc_fp without; $(said "$tmp/e.fd" | head -2) / $(said "$tmp/e.fp" | head -2)"
fi

# 4. a final delivery failure in the middle of the run: every message given is one of the
# stdout run's (so no window given in part). The processing-time window ("pt") is given only
# when the whole input was read before the failure was known (the report may come after the
# end of input): then whole, as the stdout run gives it; otherwise its close is skipped.
fail_run() { # TEMPLATE TOPIC LABEL
    rm -f "$tmp/in.fifo"
    mkfifo "$tmp/in.fifo"
    "$lw" $J -f "$1" $NOW --to kafka --brokers "$boot" --out-topic "$2" <"$tmp/in.fifo" \
        2>"$tmp/e.$2" &
    lwpid=$!
    exec 4>"$tmp/in.fifo"
    head -1500 "$tmp/in.jsonl" >&4
    wait_for "[ \"\$(count $2)\" -ge 1000 ]" 30 || bad "$3: the first half was not delivered"
    ctl "error 0 10"
    tail -n +1501 "$tmp/in.jsonl" >&4 2>/dev/null # it may stop reading before the end
    exec 4>&-
    wait $lwpid
    eval "rc_$2=$?"
    lwpid=
}
fail_run "$tmp/p.lw" fep "without state"
# the record named is one whose output is not in the topic (record N is {"i":N-1,...})
consume fep >"$tmp/fep"
n=$(grep -F "$nocommit" "$tmp/e.fep" | sed -n 's/.*: stopping; an output of stdin:\([0-9]*\) was not delivered (.*/\1/p')
if [ -n "$n" ] && [ "$n" -ge 1 ] && ! grep -q "^{\"i\":$((n - 1))," "$tmp/fep" &&
    ! grep -q 'committed$' "$tmp/e.fep"; then
    ok "a final delivery failure from stdin: the record named (stdin:$n) is not in the topic; no commit spoken of"
else
    bad "final failure from stdin: named stdin:${n:-?}; $(grep 'stopping' "$tmp/e.fep" | head -2)"
fi
fail_run "$tmp/td.lw" fe "with state"
consume fe >"$tmp/fe"
if [ "$rc_fe" = "$rc_fep" ] && [ "$rc_fe" = 1 ] && [ -n "$(said "$tmp/e.fe")" ] &&
    [ "$(said "$tmp/e.fe")" = "$(said "$tmp/e.fep")" ] &&
    [ "$(grep -c window_start "$tmp/fe")" -gt 0 ] &&
    [ "$(sort "$tmp/fe" | comm -23 - "$(sort "$tmp/tdstd" >"$tmp/tdstd.s"; echo "$tmp/tdstd.s")")" = "" ]; then
    ok "a final delivery failure: exit 1 and the messages of the run without state ($(said "$tmp/e.fe" | head -1)); only windows closed before it given"
else
    bad "final failure: exit $rc_fe with state, $rc_fep without; $(said "$tmp/e.fe" | head -2) / $(said "$tmp/e.fep" | head -2); pt: $(grep -c '"key":"pt"' "$tmp/fe")"
fi

# 5. a window result too large for the producer
printf 'input json\nwindow tumbling 1m at parse_time(.ts, "rfc3339") { a = top(.pad, 50); n = count() }\nemit {i: .i}\n' >"$tmp/b.lw"
python3 -c '
for i in range(60): print("{\"i\":%d,\"ts\":\"2026-03-01T00:00:%02dZ\",\"pad\":\"%s%d\"}" % (i, i, "x" * 900, i))' >"$tmp/b.jsonl"
"$lw" $J -f "$tmp/b.lw" --to kafka --brokers "$boot" --out-topic fb -X producer.message.max.bytes=20000 \
    --dead-letter "$tmp/bdl" "$tmp/b.jsonl" 2>"$tmp/b.err"
rb=$?
if [ $rb = 1 ] && [ "$(count fb)" = 60 ] && [ "$(wc -l <"$tmp/bdl")" = 1 ] &&
    grep -q '^{"source":"window result","line":1,"kind":"produce",.*too large for message.max.bytes (20000)","record":"{\\"window_start\\":' "$tmp/bdl" &&
    grep -q '60 records: 61 emitted, .* 1 failed' "$tmp/b.err"; then
    ok "a window result too large: exit 1, its dead letter (kind produce), the 60 records' outputs delivered"
else
    bad "too large: exit $rb, $(count fb) messages, $(head -c 300 "$tmp/bdl"); $(head -2 "$tmp/b.err")"
fi

# 6. a window's `to`: its results on that topic, each keyed by its identity (the statement's
#    number, window_start, window_end, the key), results closed by a record and at the end
#    alike; a statement without `to` on --out-topic, keyed the same way; a topic name Kafka
#    refuses: exit 2 at start; a topic that does not exist: each result a dead letter (route)
cat >"$tmp/w.lw" <<'EOF'
input json
let t = parse_time(.ts, "rfc3339")
window tumbling 1m at t key {c: .c} to "fw" { n = count() }
window count 500 timeout 1h at t to "fw" { k = count() }
window tumbling 10m at t key .c { m = count() }
emit {i: .i}
EOF
"$lw" $J -f "$tmp/w.lw" "$tmp/in.jsonl" >"$tmp/wstd" 2>/dev/null
"$lw" $J -f "$tmp/w.lw" --to kafka --brokers "$boot" --out-topic fwo "$tmp/in.jsonl" 2>"$tmp/w.err"
rw=$?
consume_k() { timeout 60 kcat -C -b "$boot" -t "$1" -o beginning -e -q -X fetch.wait.max.ms=10 -f '%k\t%s\n' 2>/dev/null; }
consume_k fw >"$tmp/fw"
consume_k fwo >"$tmp/fwo"
msg=$(python3 - "$tmp/fw" "$tmp/fwo" "$tmp/wstd" 2>&1 <<'EOF'
import json, sys
def ident(w, r):
    k = {"c": r["c"]} if w == 1 else (r.get("key") if w == 3 else None)
    return json.dumps({"window": w, "window_start": r["window_start"], "window_end": r["window_end"],
                       "key": k}, separators=(",", ":"))
errs, got = [], {"fw": [], "fwo": []}
for name, path in (("fw", sys.argv[1]), ("fwo", sys.argv[2])):
    for line in open(path):
        k, v = line.rstrip("\n").split("\t", 1)
        r = json.loads(v)
        if "window_start" not in r:
            if k != "": errs.append("a record's output with key %s" % k)
            got[name].append(v)
            continue
        w = 1 if "n" in r else 2 if "k" in r else 3
        if (name == "fw") != (w != 3): errs.append("%s in %s" % (v, name))
        if k != ident(w, r): errs.append("key %s for %s, want %s" % (k, v, ident(w, r)))
        got[name].append(v)
std = [l.rstrip("\n") for l in open(sys.argv[3])]
want_fw = [l for l in std if '"n":' in l or '"k":' in l]
want_fwo = [l for l in std if l not in want_fw]
if got["fw"] != want_fw: errs.append("fw: %d messages, want %d" % (len(got["fw"]), len(want_fw)))
if got["fwo"] != want_fwo: errs.append("fwo: %d messages, want %d" % (len(got["fwo"]), len(want_fwo)))
if errs:
    print("; ".join(errs[:3])); sys.exit(1)
print("%d results on fw, %d messages on fwo" % (len(got["fw"]), len(got["fwo"])))
EOF
)
rp=$?
[ $rw = 0 ] && [ $rp = 0 ] && ok "window ... to: $msg, in the order of the run to standard output, each result keyed by its identity" ||
    bad "window ... to: exit $rw: $msg; $(head -2 "$tmp/w.err")"
printf 'input json\nwindow tumbling 1m to "a b" { n = count() }\n' >"$tmp/wb.lw"
"$lw" -f "$tmp/wb.lw" --to kafka --brokers "$boot" --out-topic fwo "$tmp/in.jsonl" 2>"$tmp/wb.err"
rb=$?
[ $rb = 2 ] && grep -q "^logwash: window statement 1: to: 'a b' is not a Kafka topic name$" "$tmp/wb.err" &&
    ok "window ... to \"a b\": exit 2 at start: $(cat "$tmp/wb.err")" || bad "to \"a b\": exit $rb: $(head -2 "$tmp/wb.err")"
ctl "topic fwgone 1" "topicerr fwgone 3"
sed 's/to "fw" { k/to "fwgone" { k/' "$tmp/w.lw" >"$tmp/wn.lw"
"$lw" $J -f "$tmp/wn.lw" --to kafka --brokers "$boot" --out-topic fwo --dead-letter "$tmp/wndl" "$tmp/in.jsonl" 2>"$tmp/wn.err"
rn=$?
nr=$(grep -c '^{"kind":"route","template":null,"error":"output topic fwgone: Broker: Unknown topic or partition","output_topic":"fwgone","output":"{\\"window_start\\":.*\\"k\\":500}"}$' "$tmp/wndl")
[ $rn = 1 ] && [ "$nr" = 6 ] && grep -q '3000 records: 3036 emitted, .* 6 failed' "$tmp/wn.err" &&
    ok "window ... to a topic that does not exist: exit 1, each of its 6 results a dead letter of kind route" ||
    bad "to a topic that does not exist: exit $rn, $nr route dead letters; $(tail -2 "$tmp/wn.err")"

# 7. a file's records refused by the broker (one produce request failed for good, an injected
#    MESSAGE_TOO_LARGE): the first failure names FILE:LINE, then the count of failed messages
#    from the first record they belong to; exit 1
head -5 "$tmp/in.jsonl" >"$tmp/f5.jsonl"
ctl "error 0 10"
"$lw" $J -f "$tmp/p.lw" --to kafka --brokers "$boot" --out-topic ff "$tmp/f5.jsonl" 2>"$tmp/ff.err"
rf=$?
consume ff >"$tmp/ff"
n=$(sed -n "s|.*: stopping; an output of $tmp/f5.jsonl:\([0-9]\) was not delivered $nocommit\$|\1|p" "$tmp/ff.err" 2>/dev/null)
if [ $rf = 1 ] && [ -n "$n" ] && ! grep -q "^{\"i\":$((n - 1))," "$tmp/ff" &&
    ! grep -q 'committed$' "$tmp/ff.err" &&
    { [ "$(grep -c . "$tmp/ff")" = 4 ] ||
        grep -q "kafka: [2-5] messages failed: outputs of $tmp/f5.jsonl:$n and of later records" "$tmp/ff.err"; }; then
    ok "a file's output refused: exit 1, $(grep -c 'stopping' "$tmp/ff.err") line naming $(basename "$tmp")/f5.jsonl:$n, $(wc -l <"$tmp/ff") of 5 in the topic$(grep -q 'messages failed' "$tmp/ff.err" && echo ', the count of failed ones said')"
else
    bad "a file's output refused: exit $rf, named line ${n:-?}; $(grep -v Connect "$tmp/ff.err" | head -3)"
fi

summary -j

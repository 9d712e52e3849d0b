#!/bin/sh
# What the windows hold for their commits under Kafka input, and its bound (logwash(1) KAFKA
# "Memory of the holds", docs/design-state.md 3e). 3 partitions of N records spread over a few
# minutes, then one record a day later per partition (which closes the hour).
# - A tumbling 1h window in order: a record feeding the window of the entry before it joins
#   that entry, so each partition holds one entry or two (the old holds took every record:
#   3N entries and ring slots); the results equal a file run's and the commits stop at each
#   partition's record of the window still open.
# - A session statement holds each record on its own (its hold is per record index): with a
#   small --max-state the entries pass --max-state/8, each partition's commit then goes to its
#   delivered point (said once, counted in the summary and the metrics file), what stays held
#   is within the bound (the summary's peak, the metrics file's window_held_records), and the
#   run's results still equal a file run's (the windows stay in memory; only a replay after a
#   crash would rebuild the sessions open at such a commit in part).
# - The tumbling run killed with -9 mid-stream (nothing committed: the hour is open), then run to
#   the end, gives exactly the file run's results.
# Usage: [LW_JOBS=N] tests/kafka/winhold.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_setup kafka-winhold python3
mockd_start 3
N=20000     # records per partition, 100 a second of event time: 200 s, in one hour
MAX=1048576 # --max-state: the windows' bound is 131072 bytes, 2340 entries
EACH=56     # bytes of an entry held with one statement (kstate.c win_each)

# partition p: event i at T0 + i/100 s (+ p ms), key one of 7, value i % 97; then one event a
# day later, which closes the hour (its own window stays open, not given under Kafka)
python3 - "$N" "$tmp" <<'PY'
import datetime, sys
n, tmp = int(sys.argv[1]), sys.argv[2]
t0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
for p in range(3):
    with open("%s/in%d" % (tmp, p), "w") as f:
        for i in range(n):
            f.write('{"p":%d,"i":%d,"ts":"%s","c":"c%d","v":%d}\n' % (p, i, ts(i * 10 + p), (i * 3 + p) % 7, i % 97))
        f.write('{"p":%d,"i":%d,"ts":"%s","c":"c0","v":0}\n' % (p, n, ts(86400000 + p)))
PY
cat >"$tmp/t.lw" <<'LW'
input json
let t = parse_time(.ts, "rfc3339")
window tumbling 1h at t key .c { n = count(); s = sum(.v); lo = min(.i); hi = max(.i) }
LW
sed 's/tumbling 1h/session 30m/' "$tmp/t.lw" >"$tmp/s.lw"
# the references: every partition's records of the hour, then the records a day later
for k in t s; do
    { for p in 0 1 2; do head -$N "$tmp/in$p"; done; for p in 0 1 2; do tail -1 "$tmp/in$p"; done; } |
        "$lw" -f "$tmp/$k.lw" 2>/dev/null | grep window_start | grep -v '"window_start":"2026-03-02' |
        python3 "$(dirname "$0")/results.py" canon >"$tmp/want.$k"
done
nwant=$(wc -l <"$tmp/want.t")
[ "$nwant" = 7 ] && [ "$(wc -l <"$tmp/want.s")" = 7 ] ||
    bad "the file runs gave $nwant and $(wc -l <"$tmp/want.s") results of the hour, not 7"

ctl "topic hin 3" "topic oa 1" "topic ob 1" "topic oc 1"
for p in 0 1 2; do
    timeout 120 kcat -P -b "$boot" -t hin -p $p -l -X batch.num.messages=500 "$tmp/in$p" 2>"$tmp/kcat.err" ||
        bad "kcat -P partition $p failed: $(head -2 "$tmp/kcat.err")"
done
# run TEMPLATE GROUP OUT [OPTION...]: to the end of the input
run() {
    k=$1 g=$2 o=$3
    shift 3
    timeout 180 "$lw" $J -f "$tmp/$k.lw" --from kafka --brokers "$boot" --topic hin --group $g \
        --to kafka --out-topic $o --exit-at-eof -v $KX "$@" 2>"$tmp/$g.err"
}
# results OUT LABEL TEMPLATE: the output topic's results against the file run's
results() {
    timeout 120 kcat -C -b "$boot" -t $1 -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got.$1" 2>/dev/null
    msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want.$3" "$tmp/got.$1" only) &&
        ok "$2: the results equal the file run's ($nwant), values exact: $msg" || bad "$2: results: $msg"
}
# holds GROUP: "INEXACT PEAK BOUND" from the summary
holds() {
    sed -n "s/.*state: \([0-9]*\) window commits past the exact point, at most \([0-9]*\) bytes .*(bound \([0-9]*\)).*/\1 \2 \3/p" "$tmp/$1.err"
}
# metric FILE NAME: its value in the metrics file
metric() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1"; }
# commits GROUP LABEL: every partition committed at its last record (N: its window is open)
commits() {
    "$committed" "$boot" $1 hin | sort >"$tmp/c.$1"
    if [ "$(awk -v n=$N '$2 == n { k++ } END { print k + 0 }' "$tmp/c.$1")" = 3 ]; then
        ok "$2: committed $(tr '\n' ' ' <"$tmp/c.$1")(each partition at its record of the open window)"
    else
        bad "$2: committed $(tr '\n' ' ' <"$tmp/c.$1"), expected $N each"
    fi
}

# a tumbling hour in order: one entry or two per partition
run t ga oa --metrics-file "$tmp/ma.json" --metrics-interval 1
rc=$?
[ $rc = 0 ] || bad "tumbling run: exit $rc: $(tail -2 "$tmp/ga.err")"
set -- $(holds ga) x x x
held=$(metric "$tmp/ma.json" window_held_records)
if [ "$1" = 0 ] && [ "$2" -le $((6 * EACH)) ] && [ -n "$held" ] && [ "$held" -le 6 ]; then
    ok "tumbling 1h: $((3 * N + 3)) records held in at most $2 bytes (every record on its own: $((3 * N * (EACH + 16))) with the source's ring), window_held_records $held at the end, no commit past the exact point"
else
    bad "tumbling 1h: summary '$*', window_held_records '$held': $(grep state: "$tmp/ga.err" | head -3)"
fi
results oa "tumbling 1h" t
commits ga "tumbling 1h"

# a session statement: every record held on its own, past --max-state/8
run s gb ob --max-state=$MAX --metrics-file "$tmp/mb.json" --metrics-interval 1
rc=$?
[ $rc = 0 ] || bad "bounded run: exit $rc: $(tail -2 "$tmp/gb.err")"
set -- $(holds gb) x x x
said=$(grep -c "the windows' bound (--max-state/8: $((MAX / 8)) bytes" "$tmp/gb.err")
if [ "$1" -gt 0 ] 2>/dev/null && [ "$3" = $((MAX / 8)) ] && [ "$2" -le "$3" ] && [ "$said" = 1 ]; then
    ok "session, bounded: $1 commits at the delivered point, at most $2 bytes held (bound $3; said once)"
else
    bad "session, bounded: summary '$*', said $said times: $(grep -i "state\|bound" "$tmp/gb.err" | head -3)"
fi
held=$(metric "$tmp/mb.json" window_held_records)
inex=$(metric "$tmp/mb.json" window_inexact_commits_total)
if [ -n "$held" ] && [ "$held" -le $((MAX / 8 / EACH)) ] && [ "${inex:-0}" -gt 0 ]; then
    ok "session, bounded: the metrics file says window_held_records $held, window_inexact_commits_total $inex"
else
    bad "session, bounded: metrics file: held '$held', inexact '$inex': $(head -c 300 "$tmp/mb.json")"
fi
results ob "session, bounded" s
# the commits went to within the bound of the end (a session's hold is per record index: the
# records applied after another partition's record a day later stay held, commit or not)
"$committed" "$boot" gb hin >"$tmp/c.gb"
lim=$((N - MAX / 8 / EACH))
if [ "$(awk -v l=$lim -v n=$N '$2 >= l && $2 <= n + 1 { k++ } END { print k + 0 }' "$tmp/c.gb")" = 3 ]; then
    ok "session, bounded: committed $(tr '\n' ' ' <"$tmp/c.gb")(each partition past $lim)"
else
    bad "session, bounded: committed $(tr '\n' ' ' <"$tmp/c.gb")(each must pass $lim)"
fi

# killed with -9 mid-stream, no bound hit: nothing is committed before the hour is given, so
# the run to the end rebuilds it whole (a 30 ms round trip on every broker makes it slow)
echo "rtt -1 30" >&3
: >"$tmp/gc.err"
"$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic hin --group gc --to kafka \
    --out-topic oc $KX $SLOW --stats-interval 1 2>"$tmp/gc.err" &
lwpid=$!
records_in 3000 "$tmp/gc.err"
kill -9 "$lwpid"
wait "$lwpid" 2>/dev/null
lwpid=
echo "rtt -1 0" >&3
n=$(sed -n 's/.*kafka: \([0-9]*\) records in.*/\1/p' "$tmp/gc.err" | tail -1)
c=$("$committed" "$boot" gc hin 2>/dev/null | awk '$2 > 0 { k++ } END { print k + 0 }')
if [ "${n:-0}" -ge 3000 ] && [ "${n:-0}" -lt $((3 * N)) ] && [ "$c" = 0 ]; then
    ok "killed with -9 mid-stream: ${n} records in, nothing committed"
else
    bad "the kill: ${n:-0} records in, $c partitions committed"
fi
run t gc oc
rc=$?
[ $rc = 0 ] || bad "run after the kill: exit $rc: $(tail -2 "$tmp/gc.err")"
results oc "after kill -9" t
commits gc "after kill -9"

summary -j

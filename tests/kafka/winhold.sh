#!/bin/sh
# The windows' holds bounded under Kafka input (logwash(1) KAFKA "Memory of the windows' holds",
# docs/design-state.md 3d): a tumbling 1h window over 3 partitions of N records spread over a
# few minutes holds every record until the hour is given (by a record a day later per
# partition). Without a bound hit (the default --max-state) the summary's peak shows every
# record held and the results equal a file run's. With a small --max-state the held records
# pass --max-state/8: each partition's commit goes to its delivered point (said once, counted),
# what stays held after each release is within the bound (the summary's peak and the metrics
# file's window_held_records), and the results of the run still equal the file run's (the
# windows stay in memory; only a replay after a crash would rebuild them in part). Also: a run
# killed with -9 mid-stream (no bound hit: nothing committed) then run to the end gives exactly
# the file run's results.
# Usage: [LW_JOBS=N] tests/kafka/winhold.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_setup kafka-winhold python3
mockd_start 3
N=20000      # records per partition, 100 a second of event time: 200 s, one hour window
MAX=1048576  # --max-state: the windows' bound is 131072 bytes, 2048 records of 64 bytes
EACH=64      # bytes of a record held with one statement (kstate.c win_each)

# partition p: event i at T0 + i/100 s (+ p ms), key one of 7, value i % 97; then one event a
# day later, which closes the hour (its own window stays open, not given under Kafka)
python3 - "$N" "$tmp" <<'EOF'
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
EOF
cat >"$tmp/t.lw" <<'EOF'
input json
let t = parse_time(.ts, "rfc3339")
window tumbling 1h at t key .c { n = count(); s = sum(.v); lo = min(.i); hi = max(.i) }
EOF
# the reference: every partition's records of the hour, then the records a day later
{ for p in 0 1 2; do head -$N "$tmp/in$p"; done; for p in 0 1 2; do tail -1 "$tmp/in$p"; done; } | "$lw" -f "$tmp/t.lw" 2>/dev/null | grep window_start | grep -v '"window_start":"2026-03-02' |
    python3 "$(dirname "$0")/results.py" canon >"$tmp/want"
nwant=$(wc -l <"$tmp/want")
[ "$nwant" = 7 ] || bad "the file run gave $nwant results of the hour, not 7"

ctl "topic hin 3" "topic oa 1" "topic ob 1" "topic oc 1"
for p in 0 1 2; do
    timeout 120 kcat -P -b "$boot" -t hin -p $p -l -X batch.num.messages=500 "$tmp/in$p" 2>"$tmp/kcat.err" ||
        bad "kcat -P partition $p failed: $(head -2 "$tmp/kcat.err")"
done
# run GROUP OUT [OPTION...]: to the end of the input
run() {
    g=$1 o=$2
    shift 2
    timeout 180 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic hin --group $g \
        --to kafka --out-topic $o --exit-at-eof -v $KX "$@" 2>"$tmp/$g.err"
}
# results OUT LABEL: the output topic's results against the file run's
results() {
    timeout 120 kcat -C -b "$boot" -t $1 -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got.$1" 2>/dev/null
    msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want" "$tmp/got.$1" only) &&
        ok "$2: the results equal the file run's ($nwant), values exact: $msg" || bad "$2: results: $msg"
}
# holds GROUP: "INEXACT PEAK BOUND" from the summary
holds() {
    sed -n "s/.*state: \([0-9]*\) window commits past the exact point, at most \([0-9]*\) bytes .*(bound \([0-9]*\)).*/\1 \2 \3/p" "$tmp/$1.err"
}
# commits GROUP LABEL [M]: every partition committed at its last record (N: its window is open),
# or with M past it (M: N + 1, a commit at the bound)
commits() {
    "$committed" "$boot" $1 hin | sort >"$tmp/c.$1"
    if [ "$(awk -v n=$N -v m=${3:-$N} '$2 == n || $2 == m { k++ } END { print k + 0 }' "$tmp/c.$1")" = 3 ]; then
        ok "$2: committed $(tr '\n' ' ' <"$tmp/c.$1")(each partition at its record of the open window${3:+, or past it})"
    else
        bad "$2: committed $(tr '\n' ' ' <"$tmp/c.$1"), expected $N${3:+ or $3} each"
    fi
}

# no bound hit: every record held until the hour is given
run ga oa
rc=$?
[ $rc = 0 ] || bad "unbounded run: exit $rc: $(tail -2 "$tmp/ga.err")"
set -- $(holds ga) x x x
if [ "$1" = 0 ] && [ "$2" -ge $((3 * N * EACH)) ]; then
    ok "unbounded: no commit past the exact point, $2 bytes held at most (every record: the hold the bound is for; bound $3)"
else
    bad "unbounded: summary '$*': $(grep state: "$tmp/ga.err" | head -3)"
fi
results oa unbounded
commits ga unbounded

# --max-state small: the holds stay within --max-state/8, the commits pass at the bound
run gb ob --max-state=$MAX --metrics-file "$tmp/m.json" --metrics-interval 1
rc=$?
[ $rc = 0 ] || bad "bounded run: exit $rc: $(tail -2 "$tmp/gb.err")"
set -- $(holds gb) x x x
said=$(grep -c "the windows' bound (--max-state/8: $((MAX / 8)) bytes" "$tmp/gb.err")
if [ "$1" -gt 0 ] 2>/dev/null && [ "$3" = $((MAX / 8)) ] && [ "$2" -le "$3" ] && [ "$said" = 1 ]; then
    ok "bounded: $1 commits at the delivered point, at most $2 bytes held (bound $3; said once)"
else
    bad "bounded: summary '$*', said $said times: $(grep -i "state\|bound" "$tmp/gb.err" | head -3)"
fi
held=$(sed -n 's/.*"window_held_records":\([0-9]*\).*/\1/p' "$tmp/m.json")
inex=$(sed -n 's/.*"window_inexact_commits_total":\([0-9]*\).*/\1/p' "$tmp/m.json")
if [ -n "$held" ] && [ "$held" -le $((MAX / 8 / EACH)) ] && [ "${inex:-0}" -gt 0 ]; then
    ok "bounded: the metrics file says window_held_records $held, window_inexact_commits_total $inex"
else
    bad "bounded: metrics file: held '$held', inexact '$inex': $(head -c 300 "$tmp/m.json")"
fi
results ob bounded
commits gb bounded $((N + 1))

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
run gc oc
rc=$?
[ $rc = 0 ] || bad "run after the kill: exit $rc: $(tail -2 "$tmp/gc.err")"
results oc "after kill -9"
commits gc "after kill -9"

summary -j

#!/bin/sh
# Several window statements exact under Kafka input (logwash(1) KAFKA, docs/design-state.md 3a:
# the commit metadata per statement), against librdkafka's mock cluster: a job with two window
# statements fed at different event times (a tumbling 1m window at the record's time t and a
# sliding 2m every 1m window at t2 = t - 7m, both with `late 30s`, both keyed by .c; each record
# emits its own output too) reads 3 partitions of 12,000 events spread round-robin, some out of
# order and some late, and is killed with -9 twice mid-stream; a last run reads to the end. The
# union of the window results in the output topic (deduplicated by window and key) must equal a
# file run's results on the same records, with identical values for every duplicate; each
# partition's commit metadata must hold, per statement, its time and the windows given
# (`lw1 t=T1,T2 x=X1,X2`, the second 7 minutes behind the first). The statements' times differ,
# so a replay that restored the first statement's time and windows given to both (the form of
# one statement's metadata) would count the second's records as late, or drop its open windows'
# records as given, and lose or change results.
# Usage: [LW_JOBS=N] tests/kafka/winmulti.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_kill9=ca
ca=
kafka_setup kafka-winmulti python3
mockd_start 3
N=12000

# the input (as winlate.sh's in1.jsonl): event i at T0 + i/10 s, every 7th moved back 0-25 s,
# often into the minute before (on time within the lateness for a file run and its partition
# alike), every 401st 95 s early (late for both); then one event per partition a day later,
# which closes every window before it
python3 - "$N" >"$tmp/in.jsonl" <<'EOF'
import datetime, sys
n = int(sys.argv[1])

t0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
for i in range(n):
    ms = i * 100
    if i % 7 == 0:
        ms = ms - (i % 251) * 100
    if i % 401 == 0 and i > 2000:
        ms -= 95000
    print('{"i":%d,"ts":"%s","c":"c%d","v":%d}' % (i, ts(ms), (i * 7) % 5, i % 97))
for j in range(3):
    print('{"i":%d,"ts":"%s","c":"c0","v":0}' % (n + j, ts(86400000 + j)))
EOF
ctl "topic wm 3" "topic wmout 1"
for p in 0 1 2; do
    awk -v p=$p -v n="$N" '(NR <= n && (NR - 1) % 3 == p) || NR - n == p + 1' "$tmp/in.jsonl" >"$tmp/in$p"
    timeout 120 kcat -P -b "$boot" -t wm -p $p -l -X batch.num.messages=20 "$tmp/in$p" 2>"$tmp/kcat.err" ||
        bad "kcat -P wm partition $p failed: $(head -2 "$tmp/kcat.err")"
done

printf '%s\n' 'input json' 'let t = parse_time(.ts, "rfc3339")' 'let t2 = t - 420' \
    'window tumbling 1m at t late 30s key .c { n = count(); s = sum(.v); lo = min(.i); hi = max(.i) }' \
    'window sliding 2m every 1m at t2 late 30s key .c { m = count(); hi2 = max(.i) }' \
    'emit {i: .i}' >"$tmp/t.lw"
# the reference: a file run of the same records, less the windows of the last day (still open
# under Kafka: the first statement's end on 2026-03-02, the second's 7 minutes before)
"$lw" -f "$tmp/t.lw" "$tmp/in.jsonl" 2>/dev/null | grep window_start |
    grep -v -e '"window_end":"2026-03-02' -e '"window_end":"2026-03-01T23' |
    python3 "$(dirname "$0")/results.py" canon >"$tmp/want"
nwant=$(wc -l <"$tmp/want")
n2=$(grep -c '"m":' "$tmp/want")
late=$("$lw" -f "$tmp/t.lw" "$tmp/in.jsonl" 2>&1 >/dev/null | grep -c "late: event time")
[ "$nwant" -gt 150 ] && [ "$n2" -gt 80 ] && [ "$late" -gt 10 ] ||
    bad "the file run gave $nwant results ($n2 of the second statement), $late late"

kill9_twice wm gm wmout
timeout 120 kcat -C -b "$boot" -t wmout -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got" 2>/dev/null
msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want" "$tmp/got") &&
    ok "the union of both statements' results equals the file run's ($nwant), values exact: $msg" ||
    bad "results: $msg"
# the metadata: per statement each partition's time as of its commit (its last record before the
# last day, 2026-03-01T00:19:59.x, and 7 minutes before) and the windows given (the last day's
# first record, 2026-03-02T00:00:00.00x, and 7 minutes before)
"$committed" "$boot" gm wm meta >"$tmp/m3" 2>&1
if python3 - "$tmp/m3" <<'EOF'; then
import re, sys
rows = [l.split() for l in open(sys.argv[1])]
assert len(rows) == 3, rows
for r in rows:
    m = re.fullmatch(r"t=(\d+),(\d+)", r[3]), re.fullmatch(r"x=(\d+),(\d+)", r[4])
    assert r[2] == "lw1" and len(r) == 5 and m[0] and m[1], r
    t1, t2, x1, x2 = (int(g) for g in m[0].groups() + m[1].groups())
    assert t1 // 10**9 == 1772324399 and t1 - t2 == 420 * 10**9, r
    assert x1 // 10**9 == 1772409600 and x1 - x2 == 420 * 10**9, r
EOF
    ok "each commit's metadata holds, per statement, its partition's time and the windows given: $(head -1 "$tmp/m3")"
else
    bad "commit metadata: $(tr '\n' ' ' <"$tmp/m3")"
fi
# commit metadata read at assignment: one value per list (a single statement's form, standing
# for both) with a later field appended, read without a word; lists of another template's
# length, said and ignored. Both from offset 0 with no time: a run to the end gives exactly the
# file run's results
foreign() {
    group=$1 meta=$2 said=$3
    if ! "$committed" "$boot" $group wm set 0 0 "$meta" 2>"$tmp/set.err"; then
        bad "committed set: $(cat "$tmp/set.err")"
        return
    fi
    timeout 120 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic wm --group $group \
        --exit-at-eof $KX -q >"$tmp/gotf" 2>"$tmp/lwf.err"
    rc=$?
    grep window_start "$tmp/gotf" | grep -v -e '"window_end":"2026-03-02' -e '"window_end":"2026-03-01T23' |
        python3 "$(dirname "$0")/results.py" canon >"$tmp/gotf.n"
    if [ -n "$said" ]; then grep -qxF "$said" "$tmp/lwf.err"; else ! grep -q metadata "$tmp/lwf.err"; fi
    heard=$?
    if [ $rc = 0 ] && [ $heard = 0 ] && cmp -s "$tmp/want" "$tmp/gotf.n"; then
        ok "metadata \"$meta\": ${said:-read without a word}, the results exact"
    else
        bad "metadata \"$meta\": exit $rc, $(wc -l <"$tmp/gotf.n") results; $(grep -v 'records in' "$tmp/lwf.err" | head -2)"
    fi
}
min=-9223372036854775808
foreign gone1 "lw1 t=$min x=$min d=17" ''
foreign gone3 "lw1 t=1,2,3 x=4,5,6" \
    "logwash: wm/0: the committed offset's metadata (\"lw1 t=1,2,3 x=4,5,6\") does not fit the template's 2 window statements: its windows are rebuilt from the committed offset as if it were the first run"
sanitizer_check "$tmp"/lw[123].err
summary -j

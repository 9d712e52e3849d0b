#!/bin/sh
# Count windows exact under Kafka input (logwash(1) KAFKA, docs/design-state.md 3d: the timeout
# on the partition's own event time, no commit strictly inside a count window's records),
# against librdkafka's mock cluster: a job with `window count 5 timeout 3s at t key .c` (each
# record emits its own output too) reads 3 partitions of 12,000 events partitioned by the key;
# in each 4 s block a partition's records go to one busy key (windows closed by their count of
# 5, and a last one of the block by its timeout) and every 4th to a rare key (3 or 4 records a
# block, 1.2 s apart: windows closed by the timeout only); every 7th event is moved back 0 to
# 1.4 s (the partition's time does not go back: a timeout decided by the latest time). It is
# killed with -9 twice mid-stream and a last run reads to the end. The union of the results in
# the output topic must equal a reference computed here in Python (a key's window takes its
# next records until 5, or until its partition's latest time reaches the first's time plus
# 3 s), with identical values for every duplicate: a commit inside a count window's records
# would show, after the restart, as a window with another window_start or count.
# Usage: [LW_JOBS=N] tests/kafka/wincount.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_setup kafka-wincount python3
mockd_start 3
N=12000

# event i at T0 + i/10 s in partition i mod 3; then one event per partition a day later, which
# times out every window before it
python3 - "$N" >"$tmp/in.jsonl" <<'EOF'
import datetime, sys
n = int(sys.argv[1])
t0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
for i in range(n):
    p, b, j = i % 3, i // 40, (i // 3) % 13
    ms = i * 100
    if i % 7 == 0:
        ms -= (i % 21) * 100
    c = "r%d_%d" % (p, b % 5) if j % 4 == 3 else "k%d_%d" % (p, b % 4)
    # d: an event id for the seen() case below; every 5th from the 200th repeats the id of an
    # event of its partition 1 to 60 events (0.3 to 18 s) before it
    d = "e%d" % (i - 3 * ((i * 7919) % 60 + 1) if i % 5 == 2 and i > 200 else i)
    print('{"i":%d,"p":%d,"ts":"%s","c":"%s","v":%d,"d":"%s"}' % (i, p, ts(ms), c, i % 97, d))
for p in range(3):
    print('{"i":%d,"p":%d,"ts":"%s","c":"z%d","v":0,"d":"z%d"}' % (n + p, p, ts(86400000 + p), p, p))
EOF
ctl "topic wc 3" "topic wcout 1"
for p in 0 1 2; do
    grep "\"p\":$p," "$tmp/in.jsonl" >"$tmp/in$p"
    timeout 120 kcat -P -b "$boot" -t wc -p $p -l -X batch.num.messages=20 "$tmp/in$p" 2>"$tmp/kcat.err" ||
        bad "kcat -P wc partition $p failed: $(head -2 "$tmp/kcat.err")"
done

printf '%s\n' 'input json' 'let t = parse_time(.ts, "rfc3339")' \
    'window count 5 timeout 3s at t key .c { n = count(); s = sum(.v); lo = min(.i); hi = max(.i) }' \
    'emit {i: .i}' >"$tmp/t.lw"

# the reference: per partition, in its order, a key's open window takes a record unless the
# partition's latest time (the record's own included) reached the window's first time + 3 s
# (then it closed: window_end its first + 3 s); at 5 records it closes (window_end the fifth's
# time). The windows of the last day stay open under Kafka: left out.
python3 - "$tmp/in.jsonl" "$tmp/spans" >"$tmp/ref" <<'EOF'
import datetime, json, sys
T, N = 3000, 5
def ms_of(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return round(d.timestamp() * 1000)
def ts(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + (".%03dZ" % (ms % 1000) if ms % 1000 else "Z")
out, spans = [], []
def give(k, w, end):
    spans.append((w["p"], w["o1"], w["o2"]))
    if end < ms_of("2026-03-02T00:00:00.000Z"):
        out.append({"key": k, "window_start": ts(w["start"]), "window_end": ts(end), "n": w["n"],
                    "s": w["s"], "lo": w["lo"], "hi": w["hi"]})
parts = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    parts.setdefault(r["p"], []).append(r)
for p, recs in parts.items():
    latest, open_ = None, {}
    for o, r in enumerate(recs):
        t = ms_of(r["ts"])
        latest = t if latest is None else max(latest, t)
        w = open_.get(r["c"])
        if w is not None and latest >= w["start"] + T:
            give(r["c"], w, w["start"] + T)
            w = None
        if w is None:
            w = open_[r["c"]] = {"start": t, "n": 0, "s": 0, "lo": r["i"], "hi": r["i"], "p": p, "o1": o}
        w["o2"] = o
        w["n"] += 1
        w["s"] += r["v"]
        w["lo"], w["hi"] = min(w["lo"], r["i"]), max(w["hi"], r["i"])
        if w["n"] == N:
            give(r["c"], w, t)
            del open_[r["c"]]
    for k, w in open_.items():
        give(k, w, w["start"] + T)
for o in out:
    print(json.dumps(o))
with open(sys.argv[2], "w") as f:  # each window's records: partition, first and last offsets
    for sp in spans:
        print("%d %d %d" % sp, file=f)
EOF
python3 "$(dirname "$0")/results.py" canon <"$tmp/ref" >"$tmp/want"
nwant=$(wc -l <"$tmp/want")
nfull=$(grep -c '"n": 5' "$tmp/want")
# the reference agrees with logwash on files, one partition's records at a time (one source:
# the timeout on its own latest time)
for p in 0 1 2; do "$lw" -f "$tmp/t.lw" "$tmp/in$p" 2>/dev/null; done | grep window_start |
    grep -v -e '"window_end":"2026-03-02' | python3 "$(dirname "$0")/results.py" canon >"$tmp/files"
if cmp -s "$tmp/want" "$tmp/files" && [ "$nfull" -gt 1000 ] && [ $((nwant - nfull)) -gt 300 ]; then
    ok "the reference ($nwant results: $nfull closed by their count, $((nwant - nfull)) by the timeout) equals the file runs per partition"
else
    bad "reference: $nwant results, $nfull full; the file runs differ: $(diff "$tmp/want" "$tmp/files" | head -3)"
fi

kill9_twice wc gc wcout
timeout 120 kcat -C -b "$boot" -t wcout -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got" 2>/dev/null
msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want" "$tmp/got") &&
    ok "the union of the count windows' results equals the reference ($nwant), values exact: $msg" ||
    bad "results: $msg"
# every record's own output is there
ngot=$(grep -v window_start "$tmp/got" | sort -u | wc -l)
[ "$ngot" = $((N + 3)) ] && ok "every record's own output is there ($ngot)" ||
    bad "$ngot records' outputs, want $((N + 3))"
# no commit seen (after each kill and at the end) strictly inside a count window's records: a
# commit at offset C with a window's first record before C and its last at or after it
"$committed" "$boot" gc wc >"$tmp/c3"
msg=$(python3 - "$tmp/spans" "$tmp/c1" "$tmp/c2" "$tmp/c3" <<'EOF'

import sys
spans = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
bad = []
for path in sys.argv[2:]:
    for l in open(path):
        p, c = map(int, l.split()[:2])
        bad += ["%s: partition %d at %d inside records %d..%d" % (path[-2:], p, c, a, b)
                for q, a, b in spans if q == p and a < c <= b]
print("; ".join(bad[:3]))
sys.exit(1 if bad else 0)
EOF
)
if [ $? = 0 ]; then
    ok "no commit inside a count window's records: $(tr '\n' ' ' <"$tmp/c1")then $(tr '\n' ' ' <"$tmp/c2")then $(tr '\n' ' ' <"$tmp/c3")"
else
    bad "commits inside count windows: $msg"
fi
# the metadata: each partition's time as of its commit (before the last day: the last day's
# window is open, its record held) and the windows given (the last day's)
"$committed" "$boot" gc wc meta >"$tmp/m3" 2>&1
if python3 - "$tmp/m3" <<'EOF'; then
import re, sys
rows = [l.split() for l in open(sys.argv[1])]
assert len(rows) == 3, rows
for r in rows:
    m = re.fullmatch(r"t=(\d+)", r[3]), re.fullmatch(r"x=(\d+)", r[4])
    assert r[2] == "lw1" and len(r) == 5 and m[0] and m[1], r
    t1, x1 = int(m[0].group(1)), int(m[1].group(1))
    assert 1772323200 <= t1 // 10**9 <= 1772324399, r
EOF
    ok "each commit's metadata holds its partition's time before the last day: $(head -1 "$tmp/m3")"
else
    bad "commit metadata: $(tr '\n' ' ' <"$tmp/m3")"
fi
# exact, so no commit went past a count window's records at the bound
if grep -q "bound" "$tmp"/lw[123].err; then
    bad "the bound was reached: $(grep -h bound "$tmp"/lw[123].err | head -1)"
fi
sanitizer_check "$tmp"/lw[123].err

# several statements: two count windows (the second's key "b." + .c, 3 records or 2 s) and an
# event-time tumbling window with lateness (10 s late 500 ms, key "t." + .c; the events moved back
# up to 1.4 s make some late) read the same partitions, killed with -9 twice again; the reference is
# logwash's file runs, one partition at a time (the count windows' agree with the Python
# reference above; a tumbling window keyed by .c is fed by one partition, whose time decides
# what is late)
printf '%s\n' 'input json' 'let t = parse_time(.ts, "rfc3339")' \
    'window count 5 timeout 3s at t key .c { n = count(); s = sum(.v); lo = min(.i); hi = max(.i) }' \
    'window count 3 timeout 2s at t key "b." + .c { m = count(); ms = sum(.v) }' \
    'window tumbling 10s at t late 500ms key "t." + .c { tn = count(); ts = sum(.v) }' \
    'emit {i: .i}' >"$tmp/t.lw"
for p in 0 1 2; do "$lw" -f "$tmp/t.lw" "$tmp/in$p" 2>/dev/null; done | grep window_start |
    grep -v -e '"window_end":"2026-03-02' | python3 "$(dirname "$0")/results.py" canon >"$tmp/want2"
nwant2=$(wc -l <"$tmp/want2")
nb=$(grep -c '"m":' "$tmp/want2")
nt=$(grep -c '"tn":' "$tmp/want2")
late=$(for p in 0 1 2; do "$lw" -f "$tmp/t.lw" "$tmp/in$p" 2>&1 >/dev/null; done | grep -c "late: event time")
[ "$nb" -gt 1000 ] && [ "$nt" -gt 300 ] && [ "$late" -gt 10 ] ||
    bad "the file runs gave $nwant2 results ($nb of the second count statement, $nt tumbling), $late late"
ctl "topic wcout2 1"
kill9_twice wc gc2 wcout2 "three statements"
timeout 120 kcat -C -b "$boot" -t wcout2 -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got2" 2>/dev/null
msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want2" "$tmp/got2") &&
    ok "three statements: the union of the results equals the file runs' ($nwant2: $nb and $nt of the second and third), values exact: $msg" ||
    bad "three statements: results: $msg"
"$committed" "$boot" gc2 wc meta >"$tmp/m3" 2>&1
if grep -qE '^0 4000 lw1 t=[0-9]+,[0-9]+,[0-9]+ x=[0-9]+,[0-9]+,[0-9]+$' "$tmp/m3"; then
    ok "three statements: the metadata holds a time and the windows given per statement: $(head -1 "$tmp/m3")"
else
    bad "three statements: commit metadata: $(tr '\n' ' ' <"$tmp/m3")"
fi
sanitizer_check "$tmp"/lw[123].err

# seen() with count windows (docs/design-state.md 3c with 3d: the spans of seen()'s keys and of
# the count windows in one list, the commit outside all of them): a repeated id within 5 s of
# event time is dropped, the rest counted by the count window; killed with -9 twice again. The
# reference is logwash's file runs, one partition at a time (a repeat carries its partition's
# id, so dedup per partition is the whole dedup); a commit inside a key's span would let a
# replay count a repeat in its window, one inside a count window would regroup its records.
printf '%s\n' 'input json' 'let t = parse_time(.ts, "rfc3339")' 'if seen(.d, 5s, t) { drop }' \
    'window count 5 timeout 3s at t key .c { n = count(); s = sum(.v); lo = min(.i); hi = max(.i) }' \
    'emit {i: .i}' >"$tmp/t.lw"
for p in 0 1 2; do "$lw" -f "$tmp/t.lw" "$tmp/in$p" 2>/dev/null; done >"$tmp/file3"
grep window_start "$tmp/file3" | grep -v -e '"window_end":"2026-03-02' |
    python3 "$(dirname "$0")/results.py" canon >"$tmp/want3"
nwant3=$(wc -l <"$tmp/want3") kept=$(grep -vc window_start "$tmp/file3")
# about 12000 / 5 repeats, some 0.3 to 5 s after their id (dropped), the rest later (kept)
[ "$nwant3" -gt 1000 ] && [ "$kept" -gt $((N * 85 / 100)) ] && [ "$kept" -lt $((N * 95 / 100)) ] ||
    bad "seen() case: the file runs gave $nwant3 results and kept $kept of $((N + 3)) records"
ctl "topic wcout3 1"
kill9_twice wc gc3 wcout3 "seen() with count windows"
timeout 120 kcat -C -b "$boot" -t wcout3 -o beginning -e -q -X fetch.wait.max.ms=10 >"$tmp/got3" 2>/dev/null
msg=$(python3 "$(dirname "$0")/results.py" union "$tmp/want3" "$tmp/got3") &&
    ok "seen() with count windows: the union of the results equals the file runs' ($nwant3), values exact: $msg" ||
    bad "seen() with count windows: results: $msg"
# the records' own outputs: exactly those the file runs kept (a repeat let through by a replay
# from a wrong point would be one more)
grep -v window_start "$tmp/file3" | sort -u >"$tmp/keep3"
grep -v window_start "$tmp/got3" | sort -u >"$tmp/gkeep3"
if cmp -s "$tmp/keep3" "$tmp/gkeep3"; then
    ok "seen() with count windows: the records out are the file runs' ($kept), no repeat let through"
else
    bad "seen() with count windows: records out: $(comm -13 "$tmp/keep3" "$tmp/gkeep3" | wc -l) not the file runs', $(comm -23 "$tmp/keep3" "$tmp/gkeep3" | wc -l) missing"
fi
"$committed" "$boot" gc3 wc meta >"$tmp/m3" 2>&1
if [ "$(grep -cE '^[0-9] [0-9]+ lw1 t=[0-9]+ x=[0-9]+ s=[0-9]+$' "$tmp/m3")" = 3 ]; then
    ok "seen() with count windows: the metadata holds seen()'s time too: $(head -1 "$tmp/m3")"
else
    bad "seen() with count windows: commit metadata: $(tr '\n' ' ' <"$tmp/m3")"
fi
if grep -q "bound" "$tmp"/lw[123].err; then
    bad "seen() with count windows: the bound was reached: $(grep -h bound "$tmp"/lw[123].err | head -1)"
fi
sanitizer_check "$tmp"/lw[123].err
summary -j

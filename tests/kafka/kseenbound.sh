#!/bin/sh
# seen()'s bound under Kafka input (logwash(1) KAFKA "Dedup: exact across restarts"): a few
# keys per partition repeated about every second over a 10 s event-time ttl, their first
# sightings drifting apart, leave no commit point outside every (insert, last live repeat)
# span: without the bound a partition's commit stays at its start and its held records and
# spans grow with the stream. With a small --max-state the run must commit at the delivered
# point once they pass --max-state/8 (said once, counted), so the commits keep advancing, what
# is held stays near the bound, and no output is lost: a first run outputs exactly what a file
# run of each partition does; a second run, from those inexact commits, to the end, gives
# again only records of the input (duplicates identical) and commits each partition to its
# last record.
# Usage: [LW_JOBS=N] tests/kafka/kseenbound.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_setup kafka-kseenbound python3
mockd_start 3
N=3000        # records per partition, 10 a second of event time: 300 s
MAX=262144    # --max-state: seen()'s bound is 32768 bytes, 585 held records of 56 bytes

# partition p: event i at T0 + i/10 s, its id one of 10 of the partition's, at random
python3 - "$N" "$tmp" <<'EOF'
import datetime, random, sys
n, tmp = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(7)
t0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
def ts(ms):
    return (t0 + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
for p in range(3):
    with open("%s/in%d" % (tmp, p), "w") as f:
        for i in range(n):
            f.write('{"p":%d,"i":%d,"ts":"%s","id":"k%d_%d"}\n' % (p, i, ts(i * 100), p, rnd.randrange(10)))
    # a day later: every key expires, the commit may reach the last record
    with open("%s/late%d" % (tmp, p), "w") as f:
        f.write('{"p":%d,"i":%d,"ts":"%s","id":"z%d"}\n' % (p, n, ts(86400000), p))
EOF
cat >"$tmp/t.lw" <<'EOF'
input json
if seen(.id, 10s, parse_time(.ts, "rfc3339")) { drop }
emit {p: .p, i: .i, id: .id}
EOF
for p in 0 1 2; do "$lw" -f "$tmp/t.lw" "$tmp/in$p"; done 2>/dev/null | sort >"$tmp/want1"
for p in 0 1 2; do cat "$tmp/in$p" "$tmp/late$p" | "$lw" -f "$tmp/t.lw"; done 2>/dev/null | sort >"$tmp/want2"
printf 'input json\nemit {p: .p, i: .i, id: .id}\n' >"$tmp/all.lw"
cat "$tmp"/in? "$tmp"/late? | "$lw" -f "$tmp/all.lw" 2>/dev/null | sort >"$tmp/all"

ctl "topic sin 3" "topic sout 1"
for p in 0 1 2; do
    timeout 120 kcat -P -b "$boot" -t sin -p $p -l -X batch.num.messages=50 "$tmp/in$p" 2>"$tmp/kcat.err" ||
        bad "kcat -P partition $p failed: $(head -2 "$tmp/kcat.err")"
done
run() {
    timeout 180 "$lw" $J -f "$tmp/t.lw" --from kafka --brokers "$boot" --topic sin --group gb \
        --to kafka --out-topic sout --exit-at-eof --max-state=$MAX -v $KX 2>"$tmp/lw$1.err"
}
# compare: the output topic against want: every wanted record there, identical; the others
# records of the input (a replay's duplicate let through); prints the counts
compare() {
    timeout 120 kcat -C -b "$boot" -t sout -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null |
        sort >"$tmp/got"
    python3 - "$1" "$tmp/got" "$tmp/all" <<'EOF'
import sys
want, got, allr = (open(f).read().split("\n")[:-1] for f in sys.argv[1:4])
want, allr = set(want), set(allr)
seen = set(got)
miss = [l for l in want if l not in seen]
foreign = [l for l in seen if l not in allr]
extra = [l for l in seen if l not in want and l in allr]
if miss or foreign:
    print("%d missing (e.g. %s), %d not of the input (e.g. %s)" %
          (len(miss), miss[:1], len(foreign), foreign[:1]))
    sys.exit(1)
print("%d records out, %d distinct: all %d of the file runs, %d other repeats let through" %
      (len(got), len(seen), len(want), len(extra)))
EOF
}

run 1
rc=$?
[ $rc = 0 ] && ok "the first run reads to the end: exit 0" || bad "first run: exit $rc: $(tail -2 "$tmp/lw1.err")"
# the commits advanced to within the bound of each partition's end
"$committed" "$boot" gb sin >"$tmp/c1"
lim=$((N - MAX / 8 / 56))
if [ "$(awk -v l=$lim '$2 >= l { n++ } END { print n + 0 }' "$tmp/c1")" = 3 ]; then
    ok "each partition's commit went past offset $lim of $N: $(tr '\n' ' ' <"$tmp/c1")"
else
    bad "commits stalled: $(tr '\n' ' ' <"$tmp/c1")(each must pass $lim)"
fi
# said once, counted; what stays held after each release within the bound (the records in
# flight, and the deliveries reported since the last release, come on top)
line=$(sed -n "s/.*state: \([0-9]*\) seen() commits past the exact point, at most \([0-9]*\) bytes .*(bound \([0-9]*\)).*/\1 \2 \3/p" "$tmp/lw1.err")
set -- $line 0 0 0
said=$(grep -c "seen()'s bound (--max-state/8: 32768 bytes" "$tmp/lw1.err")
if [ "$1" -gt 0 ] && [ "$3" = $((MAX / 8)) ] && [ "$2" -le "$3" ] && [ "$said" = 1 ]; then
    ok "$1 commits at the delivered point, at most $2 bytes held for seen()'s commits (bound $3; said once)"
else
    bad "the bound: '$line', said $said times: $(grep seen "$tmp/lw1.err" | head -3)"
fi
msg=$(compare "$tmp/want1") && ok "first run: $msg" || bad "first run: $msg"
[ "$(wc -l <"$tmp/got")" = "$(wc -l <"$tmp/want1")" ] && ok "first run: no record twice" ||
    bad "first run: $(wc -l <"$tmp/got") records out, the file runs $(wc -l <"$tmp/want1")"

# from those commits to a last record a day later: to the end, nothing lost
for p in 0 1 2; do
    timeout 60 kcat -P -b "$boot" -t sin -p $p -l "$tmp/late$p" 2>/dev/null || bad "kcat -P late $p"
done
run 2
rc=$?
[ $rc = 0 ] && ok "the second run reads to the end: exit 0" || bad "second run: exit $rc: $(tail -2 "$tmp/lw2.err")"
msg=$(compare "$tmp/want2") && ok "second run: $msg" || bad "second run: $msg"
"$committed" "$boot" gb sin >"$tmp/c2"
# at the last record (whose key is live) or past it (a commit at the bound)
if [ "$(awk -v n=$N '$2 == n || $2 == n + 1 { k++ } END { print k + 0 }' "$tmp/c2")" = 3 ]; then
    ok "committed $(cut -d' ' -f1,2 "$tmp/c2" | tr '\n' ' ')(each partition at its last record, $N, or past it)"
else
    bad "committed $(cut -d' ' -f1,2 "$tmp/c2" | tr '\n' ' ')(expected $N or $((N + 1)) each)"
fi

summary -j

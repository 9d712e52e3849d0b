#!/bin/bash
# bench/kafka.sh LOGWASH - Kafka to Kafka on librdkafka's mock cluster (tests/kafka/mockd),
# W2 (JSON select + loop) as the task, three ways measured in the same run:
#   logwash --from kafka --to kafka                       (the sidecar)
#   kcat -C ... | logwash -f w2.lw | kcat -P ...          (logwash as a pipe filter)
#   kcat -C ... | jq -c -f w2.jq | kcat -P ...            (the usual jq pipeline)
# Each reads BENCH_KAFKA_MSGS messages from a 16-partition topic to its end and writes the results
# to a topic of its own; wall time includes consuming, transforming and every delivery. Each is
# also run over an empty topic: that time (start-up, the sidecar's consumer-group join, which the
# mock delays like a broker, the final commit) is subtracted for the messages/s figure, so the
# sidecar and the kcat pipelines, which read without a group, compare on throughput. Outputs
# are checked equal (as multisets) before any figure is printed. Not part of `make check`.
# Environment: BENCH_KAFKA_MSGS (default 100000; the mock cluster keeps a bounded log per
# partition and drops older data, which the script detects), BENCH_RUNS (best of, default 3).
set -u
LW=${1:?usage: bench/kafka.sh PATH/TO/logwash}
case $LW in /*) ;; *) LW=$PWD/$LW ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
N=${BENCH_KAFKA_MSGS:-100000}
RUNS=${BENCH_RUNS:-3}
MOCKD=$REPO/build/mockd
[ -x "$MOCKD" ] || make -C "$REPO" build/mockd >/dev/null
for t in kcat jq python3; do
    command -v $t >/dev/null || { echo "bench-kafka: skipped: $t not installed"; exit 0; }
done
[ -d "$REPO/../shared/corpus" ] || { echo "bench-kafka: skipped: ../shared/corpus not found"; exit 0; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
python3 "$REPO/../shared/corpus/gen.py" w2 -n "$N" --seed 1 -o "$tmp/w2.ndjson"
mkfifo "$tmp/ctl"
"$MOCKD" -b 1 -f "$tmp/boot" in:16 empty:16 <"$tmp/ctl" >/dev/null 2>"$tmp/mockd.err" &
pid=$!
exec 3>"$tmp/ctl"
while [ ! -s "$tmp/boot" ]; do sleep 0.1; done
B=$(cat "$tmp/boot")
# lz4 everywhere: the mock cluster keeps a bounded log per partition (compressed batches as
# they come), and every producer here compresses alike.
Z="-X compression.codec=lz4"
kcat -P -b "$B" -t in $Z -l "$tmp/w2.ndjson" || { echo "bench-kafka: kcat -P failed"; exit 1; }
# The mock cluster keeps a bounded log per partition and drops the oldest data beyond it:
# make sure the whole input is there, or the three runs would read a moving window.
have=$(kcat -C -b "$B" -t in -o beginning -e -q | wc -l)
if [ "$have" != "$N" ]; then
    echo "bench-kafka: the mock cluster kept $have of $N messages; use a smaller BENCH_KAFKA_MSGS"
    exit 1
fi
W2LW=$REPO/templates/w2-json-select.lw
W2JQ=$REPO/../shared/peers/w2.jq
CX="-X fetch.wait.max.ms=10"
now() { date +%s.%N; }
# one NAME RUN TOPIC: run pipeline NAME over TOPIC into a fresh topic (oRUN; RUN also names the
# group), print its seconds, and leave a check of its output in $tmp/NAME.check.
one() {
    local out=o$2 t0 t1
    echo "topic $out 16" >&3
    sleep 0.3
    t0=$(now)
    case $1 in
    sidecar | sidecar2)
        local j=1
        [ "$1" = sidecar2 ] && j=2
        "$LW" -j $j -f "$W2LW" --from kafka --brokers "$B" --topic "$3" --group "g$2" --to kafka \
            --out-topic $out --exit-at-eof -q $CX -X producer.compression.codec=lz4 ;;
    pipe)
        kcat -C -b "$B" -t "$3" -o beginning -e -q $CX | "$LW" -j 1 -f "$W2LW" |
            kcat -P -b "$B" -t $out $Z ;;
    jq)
        kcat -C -b "$B" -t "$3" -o beginning -e -q $CX | jq -c -f "$W2JQ" |
            kcat -P -b "$B" -t $out $Z ;;
    esac
    t1=$(now)
    kcat -C -b "$B" -t $out -o beginning -e -q | python3 -c '
import hashlib, json, sys
rows = sorted(json.dumps(json.loads(l), sort_keys=True) for l in sys.stdin)
print(len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())' >"$tmp/$1.check"
    echo "$t1 - $t0" | bc
}
declare -A best base
keep() { # keep ARRAY NAME SECONDS: the smallest
    local -n arr=$1
    if [ -z "${arr[$2]:-}" ] || [ "$(echo "$3 < ${arr[$2]}" | bc)" = 1 ]; then arr[$2]=$3; fi
}
n=0
for r in $(seq 1 "$RUNS"); do
    for w in sidecar sidecar2 pipe jq; do
        n=$((n + 1)); keep base $w "$(one $w $n empty)"
        n=$((n + 1)); keep best $w "$(one $w $n in)"
    done
done
if ! cmp -s "$tmp/sidecar.check" "$tmp/pipe.check" || ! cmp -s "$tmp/sidecar.check" "$tmp/sidecar2.check"; then
    echo "bench-kafka: FAIL: sidecar and pipe outputs differ: $(cat "$tmp/sidecar.check") vs $(cat "$tmp/pipe.check")"
    exit 1
fi
# jq writes floats its own way; compare the record count only.
if [ "$(cut -d' ' -f1 "$tmp/sidecar.check")" != "$(cut -d' ' -f1 "$tmp/jq.check")" ]; then
    echo "bench-kafka: FAIL: jq emitted a different number of records"; exit 1
fi
echo "bench-kafka: W2 over $N messages (16 partitions, 1 mock broker, lz4), best of $RUNS, $(cut -d' ' -f1 "$tmp/sidecar.check") emitted"
printf '%-34s %9s %11s %9s %13s %7s\n' pipeline "total s" "empty in s" "net s" "messages/s" ratio
declare -A label=([sidecar]="logwash -j 1 --from kafka --to kafka"
    [sidecar2]="logwash -j 2 --from kafka --to kafka" [pipe]="kcat | logwash -j 1 | kcat"
    [jq]="kcat | jq | kcat")
jqnet=$(echo "${best[jq]} - ${base[jq]}" | bc)
for w in sidecar sidecar2 pipe jq; do
    net=$(echo "${best[$w]} - ${base[$w]}" | bc)
    printf '%-34s %9.2f %11.2f %9.2f %13.0f %6.1fx\n' "${label[$w]}" "${best[$w]}" "${base[$w]}" \
        "$net" "$(echo "$N / $net" | bc -l)" "$(echo "$jqnet / $net" | bc -l)"
done
echo "(net = total - the same over an empty topic; ratio: throughput relative to the jq pipeline)"

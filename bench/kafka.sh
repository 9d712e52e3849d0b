#!/bin/bash
# bench/kafka.sh LOGWASH - Kafka to Kafka on librdkafka's mock cluster (tests/kafka/mockd),
# W2 (JSON select + loop) as the task, three ways measured in the same run:
#   logwash --from kafka --to kafka                       (the sidecar)
#   kcat -C ... | logwash -f w2.lw | kcat -P ...          (logwash as a pipe filter)
#   kcat -C ... | jq -c -f w2.jq | kcat -P ...            (the usual jq pipeline)
# Each reads BENCH_KAFKA_MSGS messages from a 4-partition topic to its end and writes the results
# to a topic of its own; wall time includes consuming, transforming and every delivery. Outputs
# are checked equal (as multisets) before any figure is printed. Not part of `make check`.
# Environment: BENCH_KAFKA_MSGS (default 200000), BENCH_RUNS (best of, default 3).
set -u
LW=${1:?usage: bench/kafka.sh PATH/TO/logwash}
case $LW in /*) ;; *) LW=$PWD/$LW ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
N=${BENCH_KAFKA_MSGS:-200000}
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
"$MOCKD" -b 1 -f "$tmp/boot" in:4 <"$tmp/ctl" >/dev/null 2>"$tmp/mockd.err" &
pid=$!
exec 3>"$tmp/ctl"
while [ ! -s "$tmp/boot" ]; do sleep 0.1; done
B=$(cat "$tmp/boot")
kcat -P -b "$B" -t in -l "$tmp/w2.ndjson" || { echo "bench-kafka: kcat -P failed"; exit 1; }
W2LW=$REPO/templates/w2-json-select.lw
W2JQ=$REPO/../shared/peers/w2.jq
CX="-X fetch.wait.max.ms=10"
now() { date +%s.%N; }
run=0
# one NAME: run the pipeline named NAME into a fresh topic, print its seconds, keep its output.
one() {
    run=$((run + 1))
    out=o$run
    echo "topic $out 4" >&3
    sleep 0.3
    local t0 t1
    t0=$(now)
    case $1 in
    sidecar)
        "$LW" -f "$W2LW" --from kafka --brokers "$B" --topic in --group "g$run" --to kafka \
            --out-topic $out --exit-at-eof -q $CX ;;
    pipe)
        kcat -C -b "$B" -t in -o beginning -e -q $CX | "$LW" -f "$W2LW" |
            kcat -P -b "$B" -t $out ;;
    jq)
        kcat -C -b "$B" -t in -o beginning -e -q $CX | jq -c -f "$W2JQ" |
            kcat -P -b "$B" -t $out ;;
    esac
    t1=$(now)
    kcat -C -b "$B" -t $out -o beginning -e -q | python3 -c '
import json, sys
rows = sorted(json.dumps(json.loads(l), sort_keys=True) for l in sys.stdin)
print(len(rows), hash(tuple(rows)))' >"$tmp/$1.check"
    echo "$t1 - $t0" | bc
}
declare -A best
for r in $(seq 1 "$RUNS"); do
    for w in sidecar pipe jq; do
        s=$(one $w)
        b=${best[$w]:-}
        if [ -z "$b" ] || [ "$(echo "$s < $b" | bc)" = 1 ]; then best[$w]=$s; fi
    done
done
if ! cmp -s "$tmp/sidecar.check" "$tmp/pipe.check"; then
    echo "bench-kafka: FAIL: sidecar and pipe outputs differ"; exit 1
fi
# jq writes floats its own way; compare the record count only.
if [ "$(cut -d' ' -f1 "$tmp/sidecar.check")" != "$(cut -d' ' -f1 "$tmp/jq.check")" ]; then
    echo "bench-kafka: FAIL: jq emitted a different number of records"; exit 1
fi
echo "bench-kafka: W2 over $N messages (4 partitions, 1 mock broker), best of $RUNS, $(cut -d' ' -f1 "$tmp/sidecar.check") emitted"
printf '%-40s %10s %14s %8s\n' "pipeline" "seconds" "messages/s" "ratio"
declare -A label=([sidecar]="logwash --from kafka --to kafka" [pipe]="kcat | logwash | kcat"
    [jq]="kcat | jq | kcat")
for w in sidecar pipe jq; do
    s=${best[$w]}
    printf '%-40s %10.2f %14.0f %7.1fx\n' "${label[$w]}" "$s" "$(echo "$N / $s" | bc -l)" \
        "$(echo "${best[jq]} / $s" | bc -l)"
done
echo "(ratio: speed relative to the jq pipeline)"

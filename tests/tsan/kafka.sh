#!/bin/sh
# The Kafka scripts with threads (-j 2 workers, reloads, pipelines on threads of their own, the
# metrics thread, librdkafka's threads calling back) against the ThreadSanitizer build (make
# tsan-kafka; the Makefile says why the build carries tests/tsan/c11threads.c). Each report
# goes to DIR/report.PID (log_path) as well as failing the run's exit status (66): a script that
# kill -9s logwash never sees that status, so any report file fails this script, each printed.
# Reports do not stop a run (halt_on_error=0): one run shows all its races. tests/tsan.supp:
# librdkafka's own libc calls only. Prints each script's time (the CI budget: see the Makefile).
# Usage: tests/tsan/kafka.sh BUILD DIR   (BUILD holds logwash, mockd and committed)
set -u
b=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir" || exit 1
supp=$(cd "$(dirname "$0")/.." && pwd)/tsan.supp
dir=$(cd "$dir" && pwd)
if ! nm -D "$b/logwash" | grep -q ' T thrd_create$'; then
    echo "tsan-kafka: FAIL: $b/logwash does not export thrd_create (tests/tsan/c11threads.c)"
    exit 1
fi
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 suppressions=$supp log_path=$dir/report"
k=$(dirname "$0")/../kafka
fail=0
total=0
for s in sidecar sinkfail reload pipelines reloadstages metrics windows; do
    case $s in
    pipelines | metrics) set -- "$b/logwash" "$b/mockd" ;;
    *) set -- "$b/logwash" "$b/mockd" "$b/committed" ;; # sidecar: no mcount.so (not preloadable)
    esac
    t0=$(date +%s)
    LW_JOBS=2 "$k/$s.sh" "$@" || fail=1
    t=$(($(date +%s) - t0))
    total=$((total + t))
    echo "tsan-kafka: $s.sh (-j 2): $t s"
done
for r in "$dir"/report.*; do
    [ -f "$r" ] || continue
    cat "$r"
    echo "tsan-kafka: FAIL: ThreadSanitizer report above ($r)"
    fail=1
done
echo "tsan-kafka: $total s in all; $([ $fail = 0 ] && echo "no report, every script passed" || echo FAILED)"
exit $fail

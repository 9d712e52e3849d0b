#!/bin/sh
# SIGTERM while stdout is a FIFO nobody reads, with a Kafka source (logwash(1) SIGNALS): the
# stop gives the write up after --flush-timeout, exit 4, and no record whose output did not
# reach the FIFO whole is committed: the committed offset is at most the number of whole lines
# the FIFO holds (one partition: the lines are the offsets 0, 1, ... in order). Against the
# mock cluster (tests/kafka/mockd); the committed offset read with tests/kafka/committed.
# Usage: tests/kafka/stopblocked.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_setup stopblocked
mockd_start 1
echo "topic sb 1" >&3
wait_for '[ "$(grep -c "^ok$" "$tmp/replies")" -ge 1 ]' 10 || {
    echo "stopblocked: FAIL: mockd did not create the topic"
    exit 1
}
nrec=20000
seq 0 $((nrec - 1)) | sed 's/^/m-/' >"$tmp/in"
timeout 60 kcat -P -b "$boot" -t sb -l "$tmp/in" 2>"$tmp/kcat" || bad "kcat -P: $(head -2 "$tmp/kcat")"
c() { "$committed" "$boot" gsb sb 2>&1 | sed -n 's/^0 //p'; }
wchar() { sed -n 's/^wchar: //p' "/proc/$1/io" 2>/dev/null; }

mkfifo "$tmp/f"
exec 7<>"$tmp/f" # the FIFO's only reader, which never reads
# 60 bytes a record: 20000 records are far more than the pipe holds
"$lw" $J --from kafka --brokers "$boot" --topic sb --group gsb $KX --flush-timeout 1000 \
    -e 'emit {m: line, pad: "01234567890123456789012345678901234567"}' >"$tmp/f" 2>"$tmp/lw.err" 7<&- &
lwpid=$!
# blocked: no more output (soon after the assignment; well within max.poll.interval.ms, 7 s in
# KX, after which a consumer that does not poll leaves its group and can commit nothing)
wait_for 'grep -q "assigned 1 partition" "$tmp/lw.err"' 30 || bad "no assignment in 30 s: $(head -3 "$tmp/lw.err")"
wait_for 'a=$(wchar $lwpid); sleep 0.5; [ -n "$a" ] && [ "$a" -ge 65536 ] && [ "$a" = "$(wchar $lwpid)" ]' 20 ||
    bad "still writing after 20 s"
kill -TERM "$lwpid"
if wait_for "! kill -0 $lwpid 2>/dev/null" 10; then
    ok "SIGTERM with stdout blocked: logwash ended within 10 s"
else
    bad "still running 10 s after SIGTERM"
    kill -9 "$lwpid"
fi
wait "$lwpid"
rc=$?
lwpid=
# what the FIFO holds: one nonblocking read takes all of it
dd bs=1M count=1 iflag=nonblock status=none <&7 >"$tmp/got" 2>/dev/null
exec 7<&-
whole=$(grep -c '}$' "$tmp/got")
head -n "$whole" "$tmp/got" | sed 's/^{"m":"\([^"]*\)".*/\1/' >"$tmp/gotm"
if [ "$rc" = 4 ] &&
    grep -q "cannot write stdout: not read within the flush timeout (1000 ms) after the stop request: [0-9]* bytes" "$tmp/lw.err" &&
    grep -q "records whose output was not written in full: not committed" "$tmp/lw.err"; then
    ok "exit 4, the unwritten output and the records not committed said"
else
    bad "exit $rc; $(head -5 "$tmp/lw.err")"
fi
cm=$(c)
if [ "$whole" -gt 0 ] && head -n "$whole" "$tmp/in" | cmp -s - "$tmp/gotm" &&
    [ "$cm" -gt 0 ] && [ "$cm" -le "$whole" ]; then
    ok "committed $cm <= $whole records whole in the FIFO ($(wc -c <"$tmp/got") bytes), of $nrec"
else
    bad "committed $cm, $whole whole lines in the FIFO ($(wc -c <"$tmp/got") bytes)"
fi
summary -j

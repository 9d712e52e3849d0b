#!/bin/sh
# Sink failures and poison records in Kafka mode, against librdkafka's mock cluster
# (tests/kafka/mockd): a record is committed only when every byte of its output reached its
# sink (stdout, the dead-letter file, a topic). Each case checks the committed offsets
# (tests/kafka/committed) against what really reached the sink: stdout failing (ENOSPC through
# /dev/full, EFBIG in the middle of a record, EPIPE, EBADF), the dead-letter file failing
# (ENOSPC, EPIPE), output larger than message.max.bytes (refused by librdkafka, with and
# without a dead-letter path), dead letters of oversized records (capped so they fit),
# --max-line on Kafka messages, the broker refusing a message (an injected MESSAGE_TOO_LARGE),
# and poison records that a restart must not stop at again.
# Usage: tests/kafka/sinkfail.sh LOGWASH MOCKD COMMITTED
set -u
lw=$1 mockd=$2 committed=$3
. "$(dirname "$0")/lib.sh"
kafka_setup sinkfail
mockd_start 1
# Each case is a function writing "sinkfail: ..." lines. The cases that need no fault in the
# broker run at the same time (each logwash mostly waits for its group to form); then the
# cases that inject broker errors run alone.
# A small message.max.bytes for the producer, so that oversized output is cheap to make.
SMALL="-X producer.message.max.bytes=100000"
for t in s1 s2 s3 s4 s5 s6 o1 out7 out8 dl8 out9 k10 dl10 m11 b12a out12a b12b dl12b p13 \
    out13 dl13 out14; do
    echo "topic $t 1" >&3
done
# until mockd has answered every one (a topic used before it exists is created with 4 partitions)
i=0
while [ "$(grep -c '^ok$' "$tmp/replies")" -lt 22 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ "$(grep -c '^ok$' "$tmp/replies")" != 22 ]; then
    echo "sinkfail: FAIL: mockd did not create the topics: $(grep -v '^ok$' "$tmp/replies" | head -3)"
    exit 1
fi

# put TOPIC FILE: each line of FILE is one message (kcat -l), no key.
put() {
    timeout 60 kcat -P -b "$boot" -t "$1" -l "$2" 2>"$tmp/$1.kcat" ||
        bad "kcat -P $1: $(head -2 "$tmp/$1.kcat")"
}
consume() { timeout 60 kcat -C -b "$boot" -t "$1" -o beginning -e -q -X fetch.wait.max.ms=10 2>/dev/null; }
# c GROUP TOPIC: the committed offset of the topic's one partition (-1001: nothing).
c() { "$committed" "$boot" "$1" "$2" 2>&1 | sed -n 's/^0 //p'; }
# run GROUP TOPIC ARGS...: logwash on TOPIC in GROUP to its end; stderr in $tmp/GROUP.err.
run() {
    g=$1 t=$2
    shift 2
    timeout 60 "$lw" $J --from kafka --brokers "$boot" --topic "$t" --group "$g" --exit-at-eof $KX \
        "$@" 2>"$tmp/$g.err"
}
# seqfile FILE N: lines m-0 .. m-(N-1)
seqfile() { seq 0 $(($2 - 1)) | sed 's/^/m-/' >"$1"; }
# rep STRING N: STRING repeated to N bytes
rep() { awk -v c="$1" -v n="$2" 'BEGIN { s = c; while (length(s) < n) s = s s; print substr(s, 1, n) }'; }

# 1. stdout on a full disk, in 64 KiB writes: nothing reached stdout, nothing is committed.
case1() {
    seqfile "$tmp/s1" 2000
    put s1 "$tmp/s1"
    run g1 s1 -e 'emit {m: line, pad: "0123456789012345678901234567890123456789"}' >/dev/full
    rc=$?
    if [ $rc = 4 ] && grep -q "cannot write stdout: No space left on device" "$tmp/g1.err" &&
        [ "$(c g1 s1)" = -1001 ]; then
        ok "stdout >/dev/full: exit 4, reported, nothing committed"
    else
        bad "stdout >/dev/full: exit $rc, committed $(c g1 s1); $(head -3 "$tmp/g1.err")"
    fi
}

# 2. stdout fails in the middle of a record (a file size limit: EFBIG after a short write):
#    exactly the records whose whole line is in the file are committed.
case2() {
    seqfile "$tmp/s2" 300
    put s2 "$tmp/s2"
    (
        ulimit -f 2
        trap '' XFSZ
        exec "$lw" $J --from kafka --brokers "$boot" --topic s2 --group g2 --exit-at-eof $KX \
            --unbuffered -e 'emit {m: line}' >"$tmp/out2" 2>"$tmp/g2.err"
    )
    rc=$?
    whole=$(grep -c '}$' "$tmp/out2")
    if [ $rc = 4 ] && grep -q "cannot write stdout: File too large" "$tmp/g2.err" &&
        [ "$whole" -gt 0 ] && [ "$whole" -lt 300 ] && [ "$(c g2 s2)" = "$whole" ]; then
        ok "stdout over a file size limit: exit 4, $whole whole lines in $(wc -c <"$tmp/out2") bytes, $whole committed"
    else
        bad "stdout over a file size limit: exit $rc, $whole whole lines, committed $(c g2 s2); $(head -3 "$tmp/g2.err")"
    fi
}

# 3. stdout is a pipe whose reader is gone (EPIPE): a quiet stop, exit 0, nothing committed.
case3() {
    seqfile "$tmp/s3" 50
    put s3 "$tmp/s3"
    mkfifo "$tmp/pipe3"
    exec 7<>"$tmp/pipe3" 8>"$tmp/pipe3" # fd 8 writes to the FIFO; when fd 7, its only
    exec 7<&-                           # reader, goes away, a write to fd 8 fails with EPIPE
    run g3 s3 --unbuffered -e 'emit {m: line}' >&8 8>&-
    rc=$?
    exec 8>&-
    if [ $rc = 0 ] && ! grep -q "cannot write" "$tmp/g3.err" && [ "$(c g3 s3)" = -1001 ]; then
        ok "stdout with no reader (EPIPE): exit 0, quiet, nothing committed"
    else
        bad "stdout EPIPE: exit $rc, committed $(c g3 s3); $(head -3 "$tmp/g3.err")"
    fi
}

# 4. stdout closed (EBADF): no Kafka connection may take descriptor 1; exit 4, nothing committed.
case4() {
    seqfile "$tmp/s4" 50
    put s4 "$tmp/s4"
    run g4 s4 --unbuffered -e 'emit {m: line}' >&-
    rc=$?
    if [ $rc = 4 ] && grep -q "cannot write stdout: Bad file descriptor" "$tmp/g4.err" &&
        [ "$(c g4 s4)" = -1001 ]; then
        ok "stdout closed (EBADF): exit 4, reported, nothing committed"
    else
        bad "stdout closed: exit $rc, committed $(c g4 s4); $(head -3 "$tmp/g4.err")"
    fi
}

# 5. The dead-letter file on a full disk: the records before the failed one are written and
#    committed; the failed one (offset 5) is not.
case5() {
    printf '%s\n' '{"n":0}' '{"n":1}' '{"n":2}' '{"n":3}' '{"n":4}' 'not json' '{"n":6}' >"$tmp/s5"
    put s5 "$tmp/s5"
    run g5 s5 -e 'input json
emit .' --dead-letter /dev/full >"$tmp/out5"
    rc=$?
    if [ $rc = 4 ] && grep -q "cannot write /dev/full: No space left on device" "$tmp/g5.err" &&
        [ "$(wc -l <"$tmp/out5")" = 5 ] && [ "$(c g5 s5)" = 5 ]; then
        ok "--dead-letter /dev/full: exit 4, the 5 records before it written and committed, not it"
    else
        bad "dead-letter ENOSPC: exit $rc, $(wc -l <"$tmp/out5") out, committed $(c g5 s5); $(head -3 "$tmp/g5.err")"
    fi
}

# 6. The dead-letter file is a FIFO whose reader is gone (EPIPE): an I/O error that names the
#    file, and the record is not committed. The reader opens the FIFO and leaves before any
#    input exists; logwash stops on the error by itself.
case6() {
    mkfifo "$tmp/dl6"
    timeout 60 "$lw" $J --from kafka --brokers "$boot" --topic s6 --group g6 $KX -e 'input json
emit .' --dead-letter "$tmp/dl6" >"$tmp/out6" 2>"$tmp/g6.err" &
    lw6=$!
    timeout 30 sh -c 'exec <"$1"' sh "$tmp/dl6" # opens the FIFO once logwash has, and leaves
    printf '%s\n' '{"n":0}' '{"n":1}' 'not json' '{"n":3}' >"$tmp/s6"
    put s6 "$tmp/s6"
    wait "$lw6"
    rc=$?
    if [ $rc = 4 ] && grep -q "cannot write $tmp/dl6: Broken pipe" "$tmp/g6.err" &&
        [ "$(wc -l <"$tmp/out6")" = 2 ] && [ "$(c g6 s6)" = 2 ]; then
        ok "--dead-letter FIFO without reader (EPIPE): exit 4, reported, committed up to it (2)"
    else
        bad "dead-letter EPIPE: exit $rc, $(wc -l <"$tmp/out6") out, committed $(c g6 s6); $(head -3 "$tmp/g6.err")"
    fi
}

# Oversized output (cases 7 to 9): the output of o1's middle record is larger than
# message.max.bytes (100000 here).
{ echo small-0; rep x 150000; echo small-2; } >"$tmp/o1"
put o1 "$tmp/o1"
TOOBIG="kafka: cannot produce to OUT: a value of 150008 bytes with a key of 0 is too large for message.max.bytes (100000)"

# 7. Without a dead-letter path it is a delivery that finally failed: exit 1, the run stops
#    there, the record before it is delivered and committed, nothing at or after it. A restart
#    stops at it again: it is never lost.
case7() {
    msg="logwash: kafka: o1/0@1: $(echo "$TOOBIG" | sed 's/^kafka: //; s/OUT/out7/'): stopping; nothing at or after its input is committed"
    for n in 1 2; do
        run g7 o1 -e 'emit {m: line}' --to kafka --out-topic out7 $SMALL
        rc=$?
        if [ $rc = 1 ] && grep -qF "$msg" "$tmp/g7.err" && [ "$(c g7 o1)" = 1 ] &&
            [ "$(consume out7)" = '{"m":"small-0"}' ]; then
            ok "output too large, no dead-letter path (run $n): exit 1, stopped at it, committed 1"
        else
            bad "output too large, no dead letter (run $n): exit $rc, committed $(c g7 o1), out $(consume out7 | cut -c1-40); $(head -3 "$tmp/g7.err")"
        fi
    done
}

# 8. With --dead-letter-topic it becomes a dead letter (kind "produce") whose record is cut to
#    fit message.max.bytes; the stream goes on, and a restart reads nothing again.
case8() {
    run g8 o1 -e 'emit {m: line}' --to kafka --out-topic out8 --dead-letter-topic dl8 $SMALL
    rc=$?
    consume dl8 >"$tmp/dl8"
    len=$(awk '{ print length($0) }' "$tmp/dl8")
    want="{\"topic\":\"o1\",\"partition\":0,\"offset\":1,\"kind\":\"produce\",\"template\":null,\"error\":\"$(echo "$TOOBIG" | sed s/OUT/out8/)\",\"record\":\"xxx"
    if [ $rc = 1 ] && [ "$(c g8 o1)" = 3 ] &&
        [ "$(consume out8 | tr '\n' ' ')" = '{"m":"small-0"} {"m":"small-2"} ' ] &&
        [ "$(wc -l <"$tmp/dl8")" = 1 ] && [ "$len" -le 99964 ] && [ "$len" -gt 99000 ] &&
        [ "$(head -c ${#want} "$tmp/dl8")" = "$want" ] &&
        grep -q '"record":"xxxx*","record_truncated":true,"record_length":150000}$' "$tmp/dl8"; then
        ok "output too large, --dead-letter-topic: a dead letter of $len bytes (record cut, record_length 150000), committed 3"
    else
        bad "output too large, dead-letter topic: exit $rc, committed $(c g8 o1), dead letter of ${len:-no} bytes: $(head -c 250 "$tmp/dl8"); $(head -3 "$tmp/g8.err")"
    fi
    run g8 o1 -e 'emit {m: line}' --to kafka --out-topic out8 --dead-letter-topic dl8 $SMALL -v
    rc=$?
    if [ $rc = 0 ] && grep -q "logwash: 0 records" "$tmp/g8.err" && [ "$(consume dl8 | wc -l)" = 1 ]; then
        ok "output too large, --dead-letter-topic: the restart reads nothing again"
    else
        bad "output too large, restart: exit $rc; $(head -3 "$tmp/g8.err")"
    fi
}

# 9. With --dead-letter FILE the dead letter holds the whole record (a file has no size limit).
case9() {
    run g9 o1 -e 'emit {m: line}' --to kafka --out-topic out9 --dead-letter "$tmp/dl9" $SMALL
    rc=$?
    if [ $rc = 1 ] && [ "$(c g9 o1)" = 3 ] && [ "$(wc -l <"$tmp/dl9")" = 1 ] &&
        grep -q '"offset":1,"kind":"produce",.*"record":"x*"}$' "$tmp/dl9" &&
        [ "$(sed -n 's/.*"record":"\(x*\)"}$/\1/p' "$tmp/dl9" | tr -d '\n' | wc -c)" = 150000 ]; then
        ok "output too large, --dead-letter FILE: the whole record in the file, committed 3"
    else
        bad "output too large, dead-letter file: exit $rc, committed $(c g9 o1); $(head -3 "$tmp/g9.err")"
    fi
}

# 10. Dead letters of large records on a topic must fit whatever the record holds: escapes that
#     grow it (quotes, tabs, control bytes), multibyte characters (cut between characters),
#     bytes that are not UTF-8 (base64), the input's key. Each is at most message.max.bytes
#     minus librdkafka's 36 bytes of overhead and the key, and holds the record's head.
case10() {
    if ! python3 -c 'import sys
sys.stdout.buffer.write(("k1:" + "é\"\t\x01ab" * 30000 + "\n").encode())
sys.stdout.buffer.write(b"k2:" + b"\xff\xfe" * 60000 + b"\n")' >"$tmp/k10" 2>/dev/null; then
        echo "sinkfail: capped dead letters skipped: no python3"
        return
    fi
    timeout 60 kcat -P -b "$boot" -t k10 -K: -l "$tmp/k10" 2>/dev/null
    run g10 k10 -e 'input json
emit .' --dead-letter-topic dl10 $SMALL
    rc=$?
    timeout 60 kcat -C -b "$boot" -t dl10 -o beginning -e -q -f '%k %s\n' 2>/dev/null >"$tmp/dl10"
    check=$(python3 -c 'import sys, json, base64
src = [l.split(b":", 1)[1] for l in open(sys.argv[1], "rb").read().split(b"\n") if l]
out = []
for i, l in enumerate(open(sys.argv[2], "rb").read().split(b"\n")[:-1]):
    key, dl = l.split(b" ", 1)
    d = json.loads(dl)
    rec = d["record"].encode() if "record" in d else base64.b64decode(d["record_base64"])
    good = (90000 < len(dl) <= 100000 - 36 - len(key) and src[i].startswith(rec)
            and d["record_truncated"] is True and d["record_length"] == len(src[i])
            and d["kind"] == "decode" and key == b"k%d" % (i + 1))
    out.append("%s:%d" % ("ok" if good else "bad", len(dl)))
print(" ".join(out))' "$tmp/k10" "$tmp/dl10" 2>&1)
    case "$check" in
    "ok:"*" ok:"*)
        if [ $rc = 1 ] && [ "$(c g10 k10)" = 2 ]; then
            ok "capped dead letters fit (escapes and UTF-8: ${check% *}, base64: ${check#* }), keyed; committed 2"
        else
            bad "capped dead letters: exit $rc, committed $(c g10 k10); $(head -3 "$tmp/g10.err")"
        fi
        ;;
    *) bad "capped dead letters: exit $rc, committed $(c g10 k10), checks: $check; $(head -3 "$tmp/g10.err")" ;;
    esac
}

# 11. --max-line applies to Kafka messages: a longer one fails as undecodable; its dead letter
#     holds its first --max-line bytes and says how long it was.
case11() {
    { echo short-0; rep y 3000; echo short-2; } >"$tmp/m11"
    put m11 "$tmp/m11"
    run g11 m11 -e 'emit {m: line}' --max-line 1000 --dead-letter "$tmp/dl11" >"$tmp/out11"
    rc=$?
    want=$(printf '{"topic":"m11","partition":0,"offset":1,"kind":"decode","template":null,"error":"message of 3000 bytes longer than 1000 bytes (--max-line): skipped","record":"%s","record_truncated":true,"record_length":3000}' "$(rep y 1000)")
    if [ $rc = 1 ] && [ "$(cat "$tmp/dl11")" = "$want" ] && [ "$(c g11 m11)" = 3 ] &&
        [ "$(tr '\n' ' ' <"$tmp/out11")" = '{"m":"short-0"} {"m":"short-2"} ' ]; then
        ok "--max-line 1000 on a 3000-byte message: undecodable, dead letter with its head, committed 3"
    else
        bad "--max-line on Kafka: exit $rc, committed $(c g11 m11), out $(tr '\n' ' ' <"$tmp/out11" | cut -c1-80), dead letter $(cut -c1-200 "$tmp/dl11")"
    fi
}

# 13. Poison records in one stream: JSON nested too deep, a regex that would backtrack for
#     ages, a message past --max-line, one whose output is too large, bytes that are not UTF-8.
#     Each becomes a dead letter on a topic; the stream goes on to its end and commits it, and
#     a restart does not stop at any of them again.
case13() {
    {
        echo '{"s":"good-0"}'
        printf '{"s":%s1%s}\n' "$(rep '[' 3000)" "$(rep ']' 3000)"
        printf '{"s":"%s!"}\n' "$(rep a 40)"
        printf '{"s":"%s"}\n' "$(rep z 300000)"
        printf '{"s":"%s"}\n' "$(rep x 150000)"
        printf '{"s":"\377\376"}\n'
        echo '{"s":"good-6"}'
    } >"$tmp/p13"
    put p13 "$tmp/p13"
    printf '%s\n' 'input json' 'if match(.s, /^(a+)+$/) { drop }' 'emit {s: .s}' >"$tmp/t13.lw"
    run g13 p13 -f "$tmp/t13.lw" --to kafka --out-topic out13 --dead-letter-topic dl13 \
        --max-line 200000 $SMALL
    rc=$?
    kinds=$(consume dl13 | sed -n 's/.*"offset":\([0-9]*\),"kind":"\([a-z]*\)".*/\1:\2/p' | tr '\n' ' ')
    if [ $rc = 1 ] && [ "$(c g13 p13)" = 7 ] && [ "$kinds" = "1:decode 2:error 3:decode 4:produce 5:decode " ] &&
        [ "$(consume out13 | tr '\n' ' ')" = '{"s":"good-0"} {"s":"good-6"} ' ]; then
        ok "poison records: 5 dead letters ($kinds), 2 outputs, committed 7"
    else
        bad "poison records: exit $rc, committed $(c g13 p13), dead letters '$kinds'; $(head -3 "$tmp/g13.err")"
    fi
    run g13 p13 -f "$tmp/t13.lw" --to kafka --out-topic out13 --dead-letter-topic dl13 \
        --max-line 200000 $SMALL -v
    rc=$?
    if [ $rc = 0 ] && grep -q "logwash: 0 records" "$tmp/g13.err" && [ "$(c g13 p13)" = 7 ] &&
        [ "$(consume dl13 | wc -l)" = 5 ]; then
        ok "poison records: the restart moves on (0 records read again)"
    else
        bad "poison records, restart: exit $rc, committed $(c g13 p13); $(head -3 "$tmp/g13.err")"
    fi
}

# 14. From files (nothing to commit) an output too large without a dead-letter path is a failed
#     record like any other: reported, exit 1, and the stream goes on.
case14() {
    "$lw" $J -e 'emit {m: line}' --to kafka --brokers "$boot" --out-topic out14 $SMALL \
        <"$tmp/o1" 2>"$tmp/f14.err"
    rc=$?
    if [ $rc = 1 ] && grep -qF "logwash: stdin:2: $(echo "$TOOBIG" | sed s/OUT/out14/)" "$tmp/f14.err" &&
        [ "$(consume out14 | tr '\n' ' ')" = '{"m":"small-0"} {"m":"small-2"} ' ]; then
        ok "output too large from stdin, no dead-letter path: a failed record, exit 1, the others delivered"
    else
        bad "output too large from stdin: exit $rc; $(head -3 "$tmp/f14.err")"
    fi
}

# 12. The broker refuses a message (MESSAGE_TOO_LARGE, error 10, injected into the next produce
#     request): a delivery that finally failed, for an output (a) and a dead letter (b) alike:
#     exit 1, nothing committed; once the broker takes it, a restart delivers it. Runs alone:
#     the injected error goes to whichever produce request comes next.
case12() {
    x=$1 tmpl=$2 rc2=$3 what=$4
    printf '%s\n' "$5" "$6" >"$tmp/b12$x"
    put "b12$x" "$tmp/b12$x"
    echo "error 0 10 1" >&3
    sleep 0.3
    run "g12$x" "b12$x" -e "$tmpl" --to kafka --out-topic "out12$x" --dead-letter-topic "dl12$x"
    rc=$?
    if [ $rc = 1 ] && [ "$(c "g12$x" "b12$x")" = -1001 ] &&
        grep -qF "delivery to $what [0] failed: Broker: Message size too large: stopping; nothing at or after its input is committed" "$tmp/g12$x.err"; then
        ok "the broker refuses a message to $what: exit 1, reported, nothing committed"
    else
        bad "broker refusal to $what: exit $rc, committed $(c "g12$x" "b12$x"); $(head -3 "$tmp/g12$x.err")"
    fi
    run "g12$x" "b12$x" -e "$tmpl" --to kafka --out-topic "out12$x" --dead-letter-topic "dl12$x"
    rc=$?
    if [ $rc = "$rc2" ] && [ "$(c "g12$x" "b12$x")" = 2 ] && [ "$(consume "$what" | sort -u | wc -l)" = 2 ]; then
        ok "the broker refused a message to $what, then a restart: both delivered, committed 2"
    else
        bad "broker refusal to $what, restart: exit $rc, committed $(c "g12$x" "b12$x"); $(head -3 "$tmp/g12$x.err")"
    fi
}

jobs=
for n in 1 2 3 4 5 6 7 8 9 10 11 13 14; do
    case$n >"$tmp/result.$n" 2>&1 &
    jobs="$jobs $!"
done
for j in $jobs; do wait "$j"; done
case12 a 'emit {m: line}' 0 out12a m-0 m-1 >"$tmp/result.12" 2>&1
case12 b 'input json
emit .' 1 dl12b 'not json' 'nor this' >>"$tmp/result.12" 2>&1
cat "$tmp/result.1" "$tmp/result.2" "$tmp/result.3" "$tmp/result.4" "$tmp/result.5" \
    "$tmp/result.6" "$tmp/result.7" "$tmp/result.8" "$tmp/result.9" "$tmp/result.10" \
    "$tmp/result.11" "$tmp/result.12" "$tmp/result.13" "$tmp/result.14" >"$tmp/results"
cat "$tmp/results"
fail=$(grep -c '^sinkfail: FAIL' "$tmp/results")
# the summary line names what was skipped (a part whose tool is missing), not only what failed
skips=$(sed -n 's/^sinkfail: \(.* skipped: .*\)/\1/p' "$tmp/results" | paste -sd ';' -)
echo "sinkfail: $(grep '^sinkfail: ' "$tmp/results" | grep -v '^sinkfail: FAIL' | grep -vc ' skipped') passed, $fail failed${skips:+; $skips}"
[ "$fail" = 0 ]

#!/bin/sh
# -j N: workers run the template over batches and the loop settles them in input order, so the
# output, the dead letters, the messages and the exit status are those of -j 1, whatever the
# batch size (LOGWASH_BATCH). Run by `make check` and, with ThreadSanitizer, by `make tsan`.
# Usage: tests/jobs.sh BIN
set -u
suite=jobs
. "$(dirname "$0")/harness.sh"

awk 'BEGIN { for (i = 1; i <= 300000; i++) print i }' >big.txt
mkdir -p jobs
# A mix of every outcome: emitted (twice, and a print), dropped, rejected, failed, undecodable,
# a record whose output is too big; some records emit a lot (a batch past 4 MiB of output
# leaves its other records to the loop).
awk 'BEGIN { pad = "0"; while (length(pad) < 50000) pad = pad pad
    for (i = 1; i <= 30000; i++) {
    if (i % 97 == 0) print "{bad json " i
    else if (i % 1000 == 0) printf "{\"n\":%d,\"big\":\"%s\"}\n", i, pad
    else printf "{\"n\":%d}\n", i } }' >mix.jsonl
cat >mix.lw <<'LW'
input json
if .n % 7 == 0 { drop }
if .n % 11 == 0 { reject "eleven" }
if .n % 13 == 0 { emit .n / 0 }
emit {n: .n, sq: .n * .n}
if .n % 3 == 0 { emit {three: .n}; print "p${.n}" }
if .big != null { emit {pad: .big}; emit {pad: .big}; emit {pad: .big}; print .big }
LW
"$bin" -j 1 --max-output 150000 --dead-letter dl -f mix.lw mix.jsonl >out1 2>err1
rc1=$?
mv dl dl1
for j in 2 4; do
    for batch in 1 3 ''; do
        LOGWASH_BATCH=$batch "$bin" -j $j --max-output 150000 --dead-letter dl -f mix.lw mix.jsonl \
            >outj 2>errj
        rc=$?
        mv dl dlj
        if [ $rc = $rc1 ] && cmp -s out1 outj && cmp -s dl1 dlj && cmp -s err1 errj; then ok; else
            bad "jobs_identical -j $j batch '$batch': status $rc (want $rc1), $(cmp out1 outj) $(cmp dl1 dlj) $(cmp err1 errj)"
        fi
    done
done
# without a dead-letter file the messages go to stderr, in input order (the first 100)
"$bin" -j 1 -f mix.lw mix.jsonl >out1 2>err1
LOGWASH_BATCH=2 "$bin" -j 3 -f mix.lw mix.jsonl >outj 2>errj
if cmp -s out1 outj && cmp -s err1 errj && [ -s err1 ]; then ok; else bad "jobs_messages: $(cmp err1 errj)"; fi
# --on-error=abort stops at the same record, and nothing after it is written
"$bin" -j 1 --on-error abort -f mix.lw mix.jsonl >out1 2>err1
rc1=$?
LOGWASH_BATCH=5 "$bin" -j 2 --on-error abort -f mix.lw mix.jsonl >outj 2>errj
rc=$?
if [ $rc = 1 ] && [ $rc1 = 1 ] && cmp -s out1 outj && cmp -s err1 errj; then ok; else
    bad "jobs_abort: status $rc/$rc1 $(cmp out1 outj) $(cmp err1 errj)"; fi
# text input, multiline records, meta: the same
awk 'BEGIN { for (i = 1; i <= 5000; i++) { print "start " i; if (i % 3 == 0) print "  more " i } }' >ml.txt
for j in 1 2; do
    "$bin" -j $j --multiline-indent -e 'emit {l: meta.line, s: meta.source, n: len(line)}' ml.txt >out$j
done
if cmp -s out1 out2 && [ "$(wc -l <out1)" = 5000 ]; then ok; else bad "jobs_multiline: $(cmp out1 out2)"; fi
# records kept in the file source's read blocks (-j N retains them instead of copying): several
# files (a batch across a file's end), lines longer than a 256 KiB read, a last line without a
# newline, CRLF, lines cut at --max-line; stdout, stderr (the cut messages and rejects, in order
# with the output) and each record's meta as -j 1
awk 'BEGIN { pad = "x"; while (length(pad) < 700000) pad = pad pad
    for (i = 1; i <= 4000; i++) {
        if (i % 997 == 0) print i substr(pad, 1, 300000 + i)
        else if (i % 5 == 0) printf "%d %s\r\n", i, substr(pad, 1, i % 300)
        else print i, substr(pad, 1, i % 3000) }
    printf "last" }' >blk1.txt
awk 'BEGIN { for (i = 1; i <= 20000; i++) print "b", i }' >blk2.txt
cat >blk.lw <<'LW'
if len(line) % 10 == 3 { reject "threes" }
emit {s: meta.source, l: meta.line, n: len(line)}
LW
for ml in '' '--max-line 200000'; do
    # shellcheck disable=SC2086
    "$bin" -j 1 $ml -f blk.lw blk1.txt blk2.txt blk1.txt >out1 2>&1
    for j in 2 3; do
        for batch in 1 7 ''; do
            # shellcheck disable=SC2086
            LOGWASH_BATCH=$batch "$bin" -j $j $ml -f blk.lw blk1.txt blk2.txt blk1.txt >outj 2>&1
            if cmp -s out1 outj && [ "$(grep -c '"s":"blk2.txt"' out1)" -gt 10000 ]; then ok; else
                bad "jobs_blocks -j $j batch '$batch' $ml: $(cmp out1 outj)"; fi
        done
    done
done
# a broken pipe is a quiet stop with workers too
("$bin" -j 2 -e 'emit line' big.txt 2>err.pipe; echo $? >rc.pipe) | head -1 >out.pipe
want '"1"'
expect_file jobs_epipe out.pipe
expect_empty jobs_epipe err.pipe
if [ "$(cat rc.pipe)" = 0 ]; then ok; else bad "jobs_epipe: exit status $(cat rc.pipe), expected 0"; fi
if [ -w /dev/full ]; then
    "$bin" -j 2 -e 'emit line' big.txt >/dev/full 2>err
    rc=$?
    expect_rc jobs_dev_full 4
fi
# option checks, and the job file's workers: key
for bad_j in 0 -1 x 257; do
    run -j "$bad_j" -e 'emit 1'
    expect_rc "jobs_bad_$bad_j" 2
done
printf 'template_text: emit line\nworkers: 2\n' >jobs/w.yaml
printf 'a\nb\n' >in
run -c jobs/w.yaml
expect_rc jobs_workers_key 0
want '"a"' '"b"'
expect_file jobs_workers_key out
printf 'template_text: emit line\nworkers: none\n' >jobs/w.yaml
run -c jobs/w.yaml
expect_rc jobs_workers_bad 2
if grep -q 'w.yaml:2:10' err; then ok; else bad "jobs_workers_bad: $(cat err)"; fi

# Big outputs: every 10th record emits 64 times 8 KiB, so a batch passes its share of output
# (4 MiB) after some 8 of them and the loop works its other records itself
awk 'BEGIN { pad = "0"; while (length(pad) < 8000) pad = pad pad
    l = "0"; for (k = 1; k < 64; k++) l = l "," k
    for (i = 1; i <= 1000; i++) {
        if (i % 10 == 0) printf "{\"n\":%d,\"l\":[%s],\"pad\":\"%s\"}\n", i, l, pad
        else printf "{\"n\":%d}\n", i } }' >big.jsonl
printf 'input json\nemit {n: .n}\nfor k in .l ?? [] { emit {k: k, p: .pad} }\n' >big.lw
"$bin" -j 1 -f big.lw big.jsonl >out1 2>err1
"$bin" -j 2 -f big.lw big.jsonl >outj 2>errj
if cmp -s out1 outj && cmp -s err1 errj && [ "$(grep -c '"p":"0000' out1)" = 6400 ]; then ok; else
    bad "jobs_big_outputs: $(cmp out1 outj) $(grep -c '"p"' outj) $(head -2 errj)"; fi

# Where -j 1 writes (every 64 KiB of output), -j N writes too: a failure of stdout stops both at
# the same record, with the same messages and status. pad.lw's output passes 64 KiB at record
# 450; record 500 fails.
printf 'if int(line) %% 500 == 0 { emit int("x") }\nemit {pad: "%s", n: line}\n' \
    "$(printf 'y%.0s' $(seq 120))" >pad.lw
seq 1 20000 >nums.txt
for j in 1 2 3; do
    (sleep 0.3; LOGWASH_BATCH=7 "$bin" -j $j -f pad.lw nums.txt 2>err.$j; echo $? >rc.$j) | true
done
if [ "$(cat rc.1)" = 0 ] && [ ! -s err.1 ] && cmp -s err.1 err.2 && cmp -s err.1 err.3 &&
    [ "$(cat rc.2)" = 0 ] && [ "$(cat rc.3)" = 0 ]; then ok; else
    bad "jobs_epipe_where: status $(cat rc.1) $(cat rc.2) $(cat rc.3), $(head -2 err.2)"; fi
if [ -w /dev/full ]; then
    for j in 1 2; do "$bin" -v -j $j -f pad.lw nums.txt >/dev/full 2>err.$j; echo $? >rc.$j; done
    if cmp -s err.1 err.2 && [ "$(cat rc.1)" = 4 ] && [ "$(cat rc.2)" = 4 ]; then ok; else
        bad "jobs_dev_full_where: $(cat err.1) / $(cat err.2)"; fi
else
    skip "jobs_dev_full_where: /dev/full is not writable"
fi
# stdout and stderr into one file: the same bytes
for j in 1 2; do LOGWASH_BATCH=5 "$bin" -j $j -f pad.lw nums.txt >both.$j 2>&1; done
if cmp -s both.1 both.2 && grep -q 'nums.txt:500' both.1; then ok; else bad "jobs_interleave: $(cmp both.1 both.2)"; fi

# A file truncated while read: the source's message comes after the messages of every record
# read before it (they wait in batches): nothing but the summary follows it. stdout is a FIFO
# read only once the file is emptied, so the loop waits with batches read ahead.
if mkfifo ofifo 2>/dev/null; then
    awk 'BEGIN { for (i = 1; i <= 60000; i++) printf "%d %090d\n", i, 0 }' >torn.log
    "$bin" -j 2 -e 'if int(split(line, " ")[0]) % 100 == 0 { reject "hundred" }
emit line' torn.log >ofifo 2>err &
    pid=$!
    exec 4<ofifo
    read -r first <&4
    : >torn.log
    cat <&4 >/dev/null
    exec 4<&-
    wait $pid
    n=$(grep -n 'truncated while being read' err | cut -d: -f1)
    if [ -n "$n" ] && [ "$(sed -n "$((n + 1)),\$p" err | grep -vc '^logwash: [0-9]* records:')" = 0 ] &&
        [ "$(sed -n "1,${n}p" err | grep -c hundred)" -gt 0 ]; then ok; else
        bad "jobs_source_message_order: $(tail -3 err)"; fi
else
    skip "jobs_source_message_order: mkfifo failed"
fi

# The default counts the CPUs the process may run on (taskset, a cpuset), not the machine's: on
# one CPU no worker thread is started (strace counts clones as -j 1 makes them: a sanitizer's
# runtime may make one of its own)
if command -v strace >/dev/null 2>&1 && command -v taskset >/dev/null 2>&1; then
    clones() { strace -f -e trace=clone,clone3 "$@" -e 'emit line' big.txt 2>&1 >/dev/null | grep -c clone; }
    n0=$(clones "$bin" -j 1)
    n1=$(clones taskset -c 0 "$bin")
    n2=$(clones "$bin" -j 2)
    n3=$(clones "$bin" -j 3)
    # -j N: the reading thread runs batches too, so N - 1 threads more (and, under a sanitizer,
    # maybe its runtime's own once there are threads)
    if [ "$n1" = "$n0" ] && [ "$n2" -ge $((n0 + 1)) ] && [ "$n3" = $((n2 + 1)) ]; then ok; else
        bad "jobs_affinity: clones $n0 with -j 1, $n1 by default on one CPU, $n2 with -j 2, $n3 with -j 3"; fi
else
    skip "jobs_affinity: strace or taskset is not installed"
fi

summary

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
awk 'BEGIN { for (i = 1; i <= 30000; i++) {
    if (i % 97 == 0) print "{bad json " i
    else if (i % 1000 == 0) printf "{\"n\":%d,\"big\":%d}\n", i, 200000
    else printf "{\"n\":%d}\n", i } }' >mix.jsonl
cat >mix.lw <<'LW'
input json
if .n % 7 == 0 { drop }
if .n % 11 == 0 { reject "eleven" }
if .n % 13 == 0 { emit .n / 0 }
emit {n: .n, sq: .n * .n}
if .n % 3 == 0 { emit {three: .n}; print "p${.n}" }
if .big != null { emit {pad: "x" * .big} }
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

summary

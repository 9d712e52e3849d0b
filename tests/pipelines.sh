#!/bin/bash
# Several pipelines in one process (logwash.yaml(5) PIPELINES): two pipelines reading two live
# pipes into one stdout, each record once and in its pipeline's order, their metrics labelled
# by pipeline; a reload with one template broken (every pipeline keeps its old configuration:
# a reload is the whole job file's); a reload that adds a pipeline and removes one (the removed
# one's records all out before it stops, the others untouched); a pipeline that fails at start while the other runs to its end; the
# job file's errors (a key at the wrong level, shared stdin, a shared dead-letter file, a bad
# name, -f with pipelines) said at file:line:col before anything runs. Every wait is a poll
# with a generous bound; nothing asserts a duration.
suite=pipelines
. "$(dirname "$0")/harness.sh"

have() { command -v "$1" >/dev/null 2>&1; }

# start ARGS...: logwash with fifos fa and fb held open on fds 3 and 4; stdout ./out, stderr
# ./err: sets pid.
start() {
    rm -f fa fb out err
    mkfifo fa fb
    "$bin" "$@" >out 2>err &
    pid=$!
    exec 3>fa 4>fb
}
finish() {
    exec 3>&- 4>&-
    wait "$pid"
    rc=$?
}
hup_ok=1
case $(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status 2>/dev/null) in
*[13579bdfBDF]) hup_ok= ;;
esac

# --- two pipelines, one process, one stdout ---
echo 'emit {p: "a", n: line, v: "old"}' >a.lw
echo 'emit {p: "b", n: line, v: "old"}' >b.lw
cat >job.yaml <<'EOF'
workers: 1
metrics: {listen: "127.0.0.1:0"}
pipelines:
  alpha: {template: a.lw, source: {files: [fa]}}
  beta:
    template: b.lw
    source: {files: [fb]}
    dead_letter: {file: dlb.txt}
    limits: {max_steps: 100}
EOF
start -c job.yaml
port=
if wait_for 'grep -q "metrics at http://127.0.0.1:[0-9]*/metrics" err 2>/dev/null' 10; then
    port=$(sed -n 's|^logwash: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' err)
fi
seq 1 20000 >&3 &
s1=$!
seq 100001 120000 >&4 &
s2=$!
wait $s1 $s2
wait_for '[ "$(wc -l <out)" -ge 40000 ]' 30 || bad "two: $(wc -l <out) lines of 40000"
if [ -n "$hup_ok" ]; then
    # alpha takes a new template; beta's is broken now: it keeps the old one
    echo 'emit {p: "a", n: line, v: "new"}' >a.lw
    echo 'emit {p: "b", n: line v: "new"}' >b.lw
    kill -HUP "$pid"
    wait_for '[ "$(grep -c -e "reloaded" -e "reload failed" err)" -ge 2 ]' 20 ||
        bad "reload: not said: $(cat err)"
    seq 20001 30000 >&3
    seq 120001 130000 >&4
    wait_for '[ "$(wc -l <out)" -ge 60000 ]' 30 || bad "reload: $(wc -l <out) lines of 60000"
fi
if [ -n "$port" ] && have curl; then
    curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" >scraped
    for p in alpha beta; do
        want_in=$([ -n "$hup_ok" ] && echo 30000 || echo 20000)
        got=$(awk -v s="logwash_records_in_total{pipeline=\"$p\"}" '$1 == s { print $2 }' scraped)
        [ "$got" = "$want_in" ] && ok || bad "metrics: $p records_in_total $got, expected $want_in"
        got=$(awk -v s="logwash_pipeline_up{pipeline=\"$p\"}" '$1 == s { print $2 }' scraped)
        [ "$got" = 1 ] && ok || bad "metrics: $p pipeline_up $got"
    done
    if [ -n "$hup_ok" ]; then
        got=$(awk '$1 == "logwash_reload_last_successful{pipeline=\"beta\"}" { print $2 }' scraped)
        [ "$got" = 0 ] && ok || bad "metrics: beta reload_last_successful $got"
        got=$(awk '$1 == "logwash_reload_last_successful{pipeline=\"alpha\"}" { print $2 }' scraped)
        [ "$got" = 0 ] && ok || bad "metrics: alpha reload_last_successful $got"
        # the process: one reload (both pipelines served it), failed
        got=$(awk '$1 ~ /^logwash_config_(reloads_total|reload_failures_total|last_reload_successful)$/ { printf "%s ", $2 }' scraped)
        [ "$got" = "1 1 0 " ] && ok || bad "metrics: process reloads, failures, last: $got"
    fi
    if have promtool; then
        promtool check metrics <scraped >pt.out 2>&1 && ok || bad "promtool: $(cat pt.out)"
    fi
else
    skip "two_metrics: curl missing or no port"
fi
finish
expect_rc two 0
last_a=$([ -n "$hup_ok" ] && echo 30000 || echo 20000)
last_b=$([ -n "$hup_ok" ] && echo 130000 || echo 120000)
grep '"p":"a"' out | sed 's/.*"n":"\([0-9]*\)".*/\1/' >na
grep '"p":"b"' out | sed 's/.*"n":"\([0-9]*\)".*/\1/' >nb
if cmp -s na <(seq 1 "$last_a") && cmp -s nb <(seq 100001 "$last_b"); then ok; else
    bad "two: alpha $(wc -l <na) lines, beta $(wc -l <nb): not each record once in order"; fi
if [ "$(grep -cv '^{"p":"[ab]","n":"[0-9]*","v":"\(old\|new\)"}$' out)" = 0 ]; then ok; else
    bad "two: broken lines: $(grep -v '^{"p"' out | head -2)"; fi
if [ -n "$hup_ok" ]; then
    # a reload is the whole job file's: beta's broken template keeps alpha's old one too
    [ "$(grep '"p":"a"' out | sed 's/.*"v":"\([a-z]*\)".*/\1/' | uniq | tr '\n' ' ')" = "old " ] &&
        ok || bad "reload: alpha's records are not all the old template's"
    [ "$(grep '"p":"b"' out | sed 's/.*"v":"\([a-z]*\)".*/\1/' | uniq | tr '\n' ' ')" = "old " ] &&
        ok || bad "reload: beta's records are not all the old template's"
    grep -qx 'logwash: pipeline alpha: reload failed: the running configuration is kept' err && ok ||
        bad "reload: alpha's line: $(grep alpha err)"
    grep -qx 'logwash: pipeline beta: reload failed: the running configuration is kept' err &&
        grep -q '^b.lw:1:23: error: ' err && ok || bad "reload: beta's lines: $(grep -e beta -e b.lw err)"
else
    skip "reload: SIGHUP is ignored here (nohup)"
fi

# --- one pipeline fails at start, the other runs to its end ---
seq 1 100 >in1
cat >job2.yaml <<'EOF'
metrics: {file: m2.json}
pipelines:
  good: {template: a.lw, source: {files: [in1]}}
  broken: {template: b.lw, source: {files: [nosuchfile]}}
EOF
echo 'emit {p: "b", n: line}' >b.lw
run -c job2.yaml
[ "$rc" = 2 ] || [ "$rc" = 4 ] && ok || bad "one_fails: exit $rc"
if have jq; then # its failure by reason (the exit status: 2 config, 4 an I/O error of its source), none for good
    want_f=$([ "$rc" = 2 ] && echo '{"records":0,"config":1,"source":0,"sink":0,"dead_letter":0}' ||
        echo '{"records":0,"config":0,"source":1,"sink":0,"dead_letter":0}')
    got=$(jq -c '.pipelines.broken.pipeline_failures_total' m2.json)
    [ "$got" = "$want_f" ] && ok || bad "one_fails: broken's failures $got, expected $want_f"
    got=$(jq -c '.pipelines.good.pipeline_failures_total' m2.json)
    [ "$got" = '{"records":0,"config":0,"source":0,"sink":0,"dead_letter":0}' ] && ok ||
        bad "one_fails: good's failures $got"
fi
[ "$(wc -l <out)" = 100 ] && ok || bad "one_fails: $(wc -l <out) lines of 100"
grep -q 'nosuchfile' err && ok || bad "one_fails: $(cat err)"

# --- the job file's errors: said before anything runs ---
job_error() { # NAME WANT: job.yaml is wrong; WANT is stderr's first line
    run -c jobx.yaml
    expect_rc "$1" 2
    expect_empty "$1" out
    if [ "$(head -1 err)" = "$2" ]; then ok; else bad "$1: $(head -1 err)"; fi
}
printf 'template: a.lw\npipelines:\n  x: {template: a.lw}\n' >jobx.yaml
job_error top_template "logwash: jobx.yaml:1:1: error: with pipelines:, 'template' belongs in each pipeline, not at the top"
printf 'pipelines:\n  x: {template: a.lw}\n  y: {template: b.lw}\n' >jobx.yaml
job_error two_stdin "logwash: jobx.yaml: error: pipelines 'x' and 'y' both read stdin"
printf 'pipelines:\n  x: {template: a.lw, source: {files: [in1]}, dead_letter: {file: d}}\n  y: {template: b.lw, source: {files: [in1]}, dead_letter: {file: d}}\n' >jobx.yaml
job_error same_dl "logwash: jobx.yaml: error: pipelines 'x' and 'y' write the same dead-letter file"
printf 'pipelines:\n  "a b": {template: a.lw}\n' >jobx.yaml
job_error bad_name "logwash: jobx.yaml:2:4: error: a pipeline name is 1 to 64 letters, digits, '_', '-' or '.', found 'a b'"
printf 'pipelines:\n  x: {template: a.lw, metrics: {listen: ":0"}}\n' >jobx.yaml
job_error nested_metrics "logwash: jobx.yaml:2:23: error: 'metrics' is the process's: put it at the top of the job file"
printf 'pipelines:\n  x: {template: a.lw, sourc: {}}\n' >jobx.yaml
run -c jobx.yaml
expect_rc unknown_key 2
grep -q "^logwash: jobx.yaml:2:23: error: unknown key 'sourc' in pipeline 'x'" err && ok || bad "unknown_key: $(cat err)"
printf 'pipelines: {}\n' >jobx.yaml
job_error empty "logwash: jobx.yaml:1:1: error: 'pipelines' needs a mapping of NAME: {template: ..., ...}"
printf 'pipelines:\n  x: {template: a.lw, source: {files: [in1]}}\n' >jobx.yaml
run -c jobx.yaml -e 'emit 1'
expect_rc with_e 2
grep -q "has pipelines: each names its template" err && ok || bad "with_e: $(cat err)"
# a template that does not compile: exit 3, nothing runs (not even the good pipeline)
printf 'emit {\n' >bad.lw
printf 'pipelines:\n  x: {template: a.lw, source: {files: [in1]}}\n  y: {template: bad.lw, source: {files: [in1]}}\n' >jobx.yaml
run -c jobx.yaml
expect_rc compile_error 3
expect_empty compile_error out
# --validate and --print-config of every pipeline
printf 'pipelines:\n  x: {template: a.lw, source: {files: [in1]}}\n  y: {template: b.lw, source: {files: [in1]}}\n' >jobx.yaml
run -c jobx.yaml --validate --print-config
expect_rc print_config 0
[ "$(grep -c '^--- # pipeline [xy]$' out)" = 2 ] && ok || bad "print_config: $(head -3 out)"
# pairs that clash in several ways: each pair said once, later pipeline's order, by the last
# of stdin, dead-letter file, consumer group that they share
printf 'pipelines:\n  x: {template: a.lw, dead_letter: {file: d}}\n  y: {template: a.lw}\n  z: {template: b.lw, dead_letter: {file: d}}\n  w: {template: b.lw, source: {files: [in1]}, dead_letter: {file: d}}\n' >jobx.yaml
run -c jobx.yaml --validate
expect_rc clash_pairs 2
want "logwash: jobx.yaml: error: pipelines 'x' and 'y' both read stdin" \
    "logwash: jobx.yaml: error: pipelines 'x' and 'z' write the same dead-letter file" \
    "logwash: jobx.yaml: error: pipelines 'y' and 'z' both read stdin" \
    "logwash: jobx.yaml: error: pipelines 'x' and 'w' write the same dead-letter file" \
    "logwash: jobx.yaml: error: pipelines 'z' and 'w' write the same dead-letter file"
expect_file clash_pairs err

# --- a job of 2000 pipelines: each validated and listed, in the file's order, from one
# reading of the file (it was read once per pipeline, and each parse was quadratic in the
# pipelines: minutes at 2000); its errors still at their file:line:col ---
big() { # N [EXTRA LINE]: jobn.yaml of N pipelines p1..pN reading in1, then EXTRA
    { echo 'pipelines:'
      seq 1 "$1" | sed 's/.*/  p&: {template: a.lw, source: {files: [in1]}}/'
      [ -z "${2:-}" ] || echo "$2"; } >jobn.yaml
}
big 2000
run -c jobn.yaml --validate --print-config
expect_rc many_validate 0
expect_empty many_validate err
seq 1 2000 | sed 's/.*/--- # pipeline p&/' >want
grep '^--- # pipeline ' out >got
expect_file many_listed got
[ "$(grep -c '^template: .*/a\.lw$' out)" = 2000 ] && ok || bad "many_listed: $(grep -c '^template: ' out) templates"
# the job file opened twice (main's top level, then once for all the pipelines), not once a
# pipeline (2001 times before)
if ! command -v strace >/dev/null 2>&1; then
    skip "many_reads: no strace"
elif ! strace -f -qq -e trace=open,openat -o trace.txt "$bin" -c jobn.yaml --validate >/dev/null 2>&1 </dev/null; then
    skip "many_reads: strace cannot trace here"
else
    n=$(grep -c '"jobn\.yaml"' trace.txt)
    [ "$n" -ge 1 ] && [ "$n" -le 2 ] && ok || bad "many_reads: the job file opened $n times"
fi
# a wrong key deep in the file, and the last name given twice: each at its line:column
big 2000 '  p1500x: {template: a.lw, sourc: {}}'
run -c jobn.yaml --validate
expect_rc many_bad_key 2
grep -q "^logwash: jobn.yaml:2002:28: error: unknown key 'sourc' in pipeline 'p1500x'" err && ok || bad "many_bad_key: $(head -2 err)"
big 2000 '  p2000: {template: b.lw, source: {files: [in1]}}'
run -c jobn.yaml --validate
expect_rc many_duplicate 2
[ "$(head -1 err)" = "logwash: jobn.yaml:2002:3: error: duplicate key" ] && ok || bad "many_duplicate: $(head -2 err)"

# --- POST /-/reload with pipelines: one answer for all, a broken one named; an ended
# pipeline is not waited for ---
if have curl && [ -n "$hup_ok" ]; then
    echo 'emit {p: "a", n: line}' >a.lw
    echo 'emit {p: "b", n: line}' >b.lw
    seq 1 3 >in3
    cat >jobh.yaml <<'EOF2'
metrics: {listen: "127.0.0.1:0", reload: true}
pipelines:
  live: {template: a.lw, source: {files: [fa]}}
  done: {template: b.lw, source: {files: [in3]}}
EOF2
    rm -f fa out err
    mkfifo fa
    "$bin" -c jobh.yaml >out 2>err &
    pid=$!
    exec 3>fa
    port=
    if wait_for 'grep -q "metrics at http://127.0.0.1:[0-9]*/metrics" err 2>/dev/null' 10; then
        port=$(sed -n 's|^logwash: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' err)
    fi
    wait_for '[ "$(wc -l <out)" -ge 3 ]' 10 || bad "http_pipelines: done did not run"
    wait_for "curl -sf http://127.0.0.1:$port/metrics | grep -q '^logwash_pipeline_up{pipeline=\"done\"} 0\$'" 10 ||
        bad "http_pipelines: done not shown ended"
    code=$(curl -s --max-time 30 -o body -w '%{http_code}' -X POST "http://127.0.0.1:$port/-/reload")
    [ "$code" = 200 ] && ok || bad "http_pipelines: $code $(cat body)"
    echo 'emit {p: ' >a.lw
    code=$(curl -s --max-time 30 -o body -w '%{http_code}' -X POST "http://127.0.0.1:$port/-/reload")
    [ "$code" = 500 ] && grep -q '^logwash: live: reload failed: pipeline live: a.lw:1:' body && ok ||
        bad "http_pipelines_fail: $code $(cat body)"
    echo 7 >&3
    exec 3>&-
    wait "$pid"
    rc=$?
    expect_rc http_pipelines 0
    grep -qx '{"p":"a","n":"7"}' out && ok || bad "http_pipelines: live's record: $(cat out)"
    echo 'emit {p: "a", n: line}' >a.lw
else
    skip "http_pipelines: curl missing or SIGHUP ignored"
fi

# --- a reload that adds and removes pipelines: the removed one stops once what it read is
# out, the added one starts, the one kept goes on untouched (no reload of its own said) ---
if [ -n "$hup_ok" ]; then
    echo 'emit {p: "a", n: line}' >a.lw
    echo 'emit {p: "b", n: line}' >b.lw
    echo 'emit {p: "c", n: line}' >c.lw
    seq 200001 200500 >inc
    printf 'workers: 1\nmetrics: {listen: "127.0.0.1:0"}\npipelines:\n  alpha: {template: a.lw, source: {files: [fa]}}\n  beta: {template: b.lw, source: {files: [fb]}}\n' >joba.yaml
    start -c joba.yaml
    port=
    if wait_for 'grep -q "metrics at http://127.0.0.1:[0-9]*/metrics" err 2>/dev/null' 10; then
        port=$(sed -n 's|^logwash: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' err)
    fi
    seq 1 1000 >&3
    seq 100001 101000 >&4
    wait_for '[ "$(wc -l <out)" -ge 2000 ]' 30 || bad "addrm: $(wc -l <out) lines of 2000"
    # beta removed, gamma (a file read to its end) added; alpha's template changes too
    echo 'emit {p: "a", n: line, v: "new"}' >a.lw
    printf 'workers: 1\nmetrics: {listen: "127.0.0.1:0"}\npipelines:\n  alpha: {template: a.lw, source: {files: [fa]}}\n  gamma: {template: c.lw, source: {files: [inc]}}\n' >joba.yaml
    kill -HUP "$pid"
    wait_for 'grep -q "pipeline beta: removed by the reload: stopping" err' 20 ||
        bad "addrm: beta not stopped: $(cat err)"
    wait_for 'grep -q "pipeline alpha: reloaded" err' 20 || bad "addrm: alpha not reloaded: $(cat err)"
    wait_for '[ "$(grep -c "\"p\":\"c\"" out)" -ge 500 ]' 20 || bad "addrm: gamma: $(grep -c '"p":"c"' out) of 500"
    seq 1001 2000 >&3
    wait_for '[ "$(grep -c "\"p\":\"a\"" out)" -ge 2000 ]' 30 || bad "addrm: alpha after: $(grep -c '"p":"a"' out)"
    if [ -n "$port" ] && have curl; then
        curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" >scraped
        [ "$(awk '$1 == "logwash_pipeline_up{pipeline=\"beta\"}" { print $2 }' scraped)" = 0 ] &&
            ok || bad "addrm: beta up: $(grep 'pipeline_up' scraped)"
        [ "$(awk '$1 == "logwash_records_in_total{pipeline=\"gamma\"}" { print $2 }' scraped)" = 500 ] &&
            ok || bad "addrm: gamma in: $(grep 'records_in_total' scraped)"
        [ "$(awk '$1 == "logwash_reloads_total{pipeline=\"alpha\"}" { print $2 }' scraped)" = 1 ] &&
            ok || bad "addrm: alpha reloads: $(grep 'reloads_total' scraped)"
        # the process: that one reload, which worked (beta, removed by it, served it by stopping)
        got=$(awk '$1 ~ /^logwash_config_(reloads_total|reload_failures_total|last_reload_successful)$/ { printf "%s ", $2 }' scraped)
        [ "$got" = "1 0 1 " ] && ok || bad "addrm: process reloads, failures, last: $got"
        if have promtool; then
            promtool check metrics <scraped >pt.out 2>&1 && ok || bad "addrm: promtool: $(cat pt.out)"
        fi
    fi
    # a pipeline added with a broken template: nothing changes, said at its file:line:col
    echo 'emit {p: ' >d.lw
    printf 'workers: 1\nmetrics: {listen: "127.0.0.1:0"}\npipelines:\n  alpha: {template: a.lw, source: {files: [fa]}}\n  delta: {template: d.lw, source: {files: [inc]}}\n' >joba.yaml
    kill -HUP "$pid"
    wait_for 'grep -q "pipeline alpha: reload failed" err' 20 || bad "addrm: broken delta: $(tail -3 err)"
    grep -q '^d.lw:1:10: error: ' err && ok || bad "addrm: no d.lw:1:10: $(grep d.lw err)"
    grep -q 'delta' out && bad "addrm: delta ran" || ok
    finish
    expect_rc addrm 0
    grep '"p":"a"' out | sed 's/.*"n":"\([0-9]*\)".*/\1/' >na
    grep '"p":"b"' out | sed 's/.*"n":"\([0-9]*\)".*/\1/' >nb
    grep '"p":"c"' out | sed 's/.*"n":"\([0-9]*\)".*/\1/' >nc
    cmp -s na <(seq 1 2000) && ok || bad "addrm: alpha: $(wc -l <na) lines, not 1..2000 once in order"
    cmp -s nb <(seq 100001 101000) && ok || bad "addrm: beta: $(wc -l <nb) lines, not its 1000 once"
    cmp -s nc inc && ok || bad "addrm: gamma: $(wc -l <nc) lines, not its 500 once"
    [ "$(grep '"p":"a"' out | grep -c '"v":"new"')" = 1000 ] && ok ||
        bad "addrm: alpha's new template: $(grep -c '"v":"new"' out) of 1000"
    grep -q 'pipeline alpha: reloaded joba.yaml (template a.lw)$' err && ok ||
        bad "addrm: alpha's line: $(grep alpha err)"
    grep -qx 'logwash: pipeline gamma: added by the reload' err && ok || bad "addrm: gamma's line"
else
    skip "addrm: SIGHUP is ignored here (nohup)"
fi

# --- SIGTERM on idle pipes: every pipeline stops, exit 0, promptly (generous bound: 3 s; the
# pipelines' threads see the stop within half a second, the single job at once) ---
term_case() { # NAME ARGS...
    name=$1
    shift
    start "$@"
    echo 1 >&3
    echo 2 >&4
    wait_for "[ \"\$(wc -l <out)\" -ge $want_lines ]" 10 || bad "$name: no output: $(cat err)"
    t0=$(date +%s%N)
    kill -TERM "$pid"
    if wait_for "! kill -0 $pid 2>/dev/null" 3; then ok; else bad "$name: still running 3 s after SIGTERM"; fi
    t1=$(date +%s%N)
    finish
    expect_rc "$name" 0
    echo "$suite: $name: exited $(((t1 - t0) / 1000000)) ms after SIGTERM (not a check)"
}
printf 'pipelines:\n  x: {template: a.lw, source: {files: [fa]}}\n  y: {template: b.lw, source: {files: [fb]}}\n' >jobt.yaml
want_lines=2 term_case term_pipelines -c jobt.yaml
# the single job reads one pipe (-j 2)
printf 'template: a.lw\nsource: {files: [fa]}\nworkers: 2\n' >jobt.yaml
rm -f fa out err
mkfifo fa
"$bin" -c jobt.yaml >out 2>err &
pid=$!
exec 3>fa
echo 1 >&3
wait_for '[ -s out ]' 10 || bad "term_single: no output: $(cat err)"
t0=$(date +%s%N)
kill -TERM "$pid"
if wait_for "! kill -0 $pid 2>/dev/null" 3; then ok; else bad "term_single: still running 3 s after SIGTERM"; fi
t1=$(date +%s%N)
exec 3>&-
wait "$pid"
rc=$?
expect_rc term_single 0
echo "$suite: term_single: exited $(((t1 - t0) / 1000000)) ms after SIGTERM (not a check)"

# examples/platform/platform.yaml: three Kafka pipelines, checked without connecting
run -c "$root/examples/platform/platform.yaml" --validate
expect_rc platform_validate 0
expect_empty platform_validate err

summary

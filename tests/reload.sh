#!/bin/bash
# Reloads (logwash(1) SIGNALS, logwash.yaml(5) RELOADING): SIGHUP and POST /-/reload read the job
# file and the template again; a wrong one is said at its file:line:col and the old one goes on;
# a right one takes over between two records. Under load with a changed template, every input
# record comes out exactly once, by the old template or the new one, in order (-j 1 and -j 2);
# reload storms; a job file and a template wrong only at reload; a setting that needs a restart;
# the metrics of reloads and the HTTP endpoint (curl). Every wait is a poll with a generous
# bound; nothing asserts a duration.
suite=reload
. "$(dirname "$0")/harness.sh"

have() { command -v "$1" >/dev/null 2>&1; }

case $(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status 2>/dev/null) in
*[13579bdfBDF])
    skip "every case: SIGHUP is ignored in this environment (nohup)"
    summary
    exit
    ;;
esac

# start ARGS...: logwash reading the fifo `fifo` (held open on fd 3), stdout in ./out, stderr
# in ./err: sets pid.
start() {
    rm -f fifo out err
    mkfifo fifo
    "$bin" "$@" <fifo >out 2>err &
    pid=$!
    exec 3>fifo
}

finish() {
    exec 3>&-
    wait "$pid"
    rc=$?
}

# reloads N: wait until stderr has said N reloads (done or failed)
reloads() {
    wait_for "[ \$(grep -c -e '^logwash: reloaded' -e '^logwash: reload failed' err) -ge $1 ]" 20
}

# --- under load: every record once, by the old template then the new one ---
load_case() {
    name=$1
    shift
    echo 'emit {n: line, v: "old"}' >t.lw
    printf 'template: t.lw\n' >job.yaml
    start -c job.yaml "$@"
    seq 1 20000 >&3
    wait_for '[ -s out ]' 20 || bad "$name: no output"
    # the new template, then a storm of requests while records keep coming
    echo 'emit {n: line, v: "new"}' >t.lw
    for i in $(seq 1 50); do kill -HUP "$pid"; done
    seq 20001 40000 >&3
    reloads 1 || bad "$name: no reload said: $(cat err)"
    seq 40001 60000 >&3
    finish
    expect_rc "$name" 0
    # each number once, in order; the template changes once, from old to new
    sed 's/^{"n":"\([0-9]*\)","v":"\(old\|new\)"}$/\1 \2/' out >nv
    if cut -d' ' -f1 nv | cmp -s - <(seq 1 60000); then ok; else
        bad "$name: the records are not 1..60000 once each, in order: $(cut -d' ' -f1 nv | sort -n | uniq -d | head -3) $(wc -l <nv) lines"
    fi
    if [ "$(cut -d' ' -f2 nv | uniq | tr '\n' ' ')" = "old new " ]; then ok; else
        bad "$name: the templates did not take over once: $(cut -d' ' -f2 nv | uniq -c | head -5 | tr '\n' ' ')"
    fi
    if grep -qv -e '^logwash: reloaded job.yaml (template t.lw)$' err; then
        bad "$name: stderr: $(head -3 err)"
    else ok; fi
}
load_case load_j1 -j 1
LOGWASH_BATCH=7 load_case load_j2 -j 2

# --- a wrong template at reload: said at its line:col, the old one goes on ---
echo 'emit {v: "old", n: line}' >t.lw
printf 'template: t.lw\ndead_letter: {file: dl.txt}\n' >job.yaml
start -c job.yaml -j 1
echo 1 >&3
wait_for '[ -s out ]' 10 || true
printf 'emit {v: "new" n: line}\n' >t.lw
kill -HUP "$pid"
reloads 1 || bad "bad_template: no reload said"
echo 2 >&3
# a template that fails only now: its import is gone
printf 'import "lib.lw"\nemit {v: f(line)}\n' >t.lw
printf 'fn f(x) { return "lib" }\n' >lib.lw
kill -HUP "$pid"
reloads 2 || bad "import: no reload said"
echo 3 >&3
rm lib.lw
kill -HUP "$pid"
reloads 3 || bad "import_gone: no reload said"
echo 4 >&3
finish
expect_rc bad_template 0
want '{"v":"old","n":"1"}' '{"v":"old","n":"2"}' '{"v":"lib"}' '{"v":"lib"}'
expect_file bad_template out
want 't.lw:1:16: error: missing '"','"' between object members' \
    '    1 | emit {v: "new" n: line}' \
    '      |                ^' \
    'logwash: reload failed: the running configuration is kept' \
    'logwash: reloaded job.yaml (template t.lw)'
head -5 err >err.head
expect_file bad_template_stderr err.head
if grep -q "^t.lw:1:8: error: cannot find 'lib.lw'" err && grep -c 'reload failed' err | grep -q 2; then ok; else
    bad "import_gone: $(tail -4 err)"
fi

# --- a wrong job file at reload: a YAML error, an unset variable, a setting needing a restart,
# sink settings that --validate refuses ---
echo 'emit {v: "old"}' >t.lw
printf 'template: t.lw\nworkers: 1\n' >job.yaml
start -c job.yaml
echo 1 >&3
wait_for '[ -s out ]' 10 || true
printf 'template: t.lw\nworkers: 1\non_error: [\n' >job.yaml
kill -HUP "$pid"
reloads 1 || bad "bad_yaml: no reload said"
printf 'template: t.lw\nworkers: 1\ntz: ${LW_RELOAD_UNSET_VAR}\n' >job.yaml
kill -HUP "$pid"
reloads 2 || bad "unset_var: no reload said"
printf 'template: t.lw\nworkers: 1\nmetrics: {file: m.json}\n' >job.yaml
kill -HUP "$pid"
reloads 3 || bad "restart_needed: no reload said"
printf 'template: t.lw\nworkers: 3\n' >job.yaml
kill -HUP "$pid"
reloads 4 || bad "workers: no reload said"
# new sink settings are checked as --validate checks them before anything is closed
printf 'template: t.lw\nworkers: 1\nsink: {type: kafka, topic: "no spaces"}\nkafka: {brokers: "127.0.0.1:1"}\n' >job.yaml
kill -HUP "$pid"
reloads 5 || bad "sink_wrong: no reload said"
echo 2 >&3
finish
expect_rc bad_job 0
want '{"v":"old"}' '{"v":"old"}'
expect_file bad_job out
if grep -q '^logwash: job.yaml:[0-9]*:[0-9]*: ' err; then ok; else bad "bad_yaml: no file:line:col: $(head -2 err)"; fi
if grep -q '^logwash: job.yaml:3:5: .*LW_RELOAD_UNSET_VAR' err; then ok; else
    bad "unset_var: $(grep LW_RELOAD err)"; fi
if grep -qx 'job.yaml:3:17: error: the metrics settings changed: that needs a restart' err &&
    grep -qx 'logwash: reload failed: the metrics settings changed: that needs a restart; the running configuration is kept' err; then ok; else
    bad "restart_needed: $(tail -3 err)"; fi
if grep -qx 'job.yaml:2:10: error: the number of workers (to or from 1) changed: that needs a restart' err &&
    grep -qx 'logwash: reload failed: the number of workers (to or from 1) changed: that needs a restart; the running configuration is kept' err; then ok; else
    bad "workers: $(tail -2 err)"; fi
[ -e m.json ] && bad "restart_needed: m.json was made" || ok
if grep -q "^logwash: job.yaml:3:29: error: 'no spaces' is not a Kafka topic name" err &&
    grep -qx 'logwash: reload failed: the new sink settings are wrong; the running configuration is kept' err
then ok; else bad "sink_wrong: $(tail -3 err)"; fi

# --- the dead-letter file and the tables change at a reload under load: the records before
# the swap use the old file and table, those after it the new ones: every rejected record in
# exactly one of the two files, in order; each output's table value switches once, old to new;
# a table added and one removed with it (the template's lookup()s compiled against the new
# names); a table that does not load fails the reload and the old ones go on ---
dltab_case() {
    name=$1
    shift
    printf 'k,v\na,old\n' >t1.csv
    printf 'k,v\na,new\n' >t2.csv
    printf 'if ends_with(line, "7") { reject "seven" }\nemit {n: line, v: lookup("m", "a").v}\n' >t.lw
    printf 'template: t.lw\ndead_letter: {file: dla.txt}\ntables:\n  m: {file: t1.csv}\n' >job.yaml
    rm -f dla.txt dlb.txt
    start -c job.yaml "$@"
    seq 1 20000 >&3
    wait_for '[ -s out ]' 20 || bad "$name: no output"
    printf 'if ends_with(line, "7") { reject "seven" }\nemit {n: line, v: lookup("m2", "a").v}\n' >t.lw
    printf 'template: t.lw\ndead_letter: {file: dlb.txt}\ntables:\n  m2: {file: t2.csv}\n' >job.yaml
    kill -HUP "$pid"
    seq 20001 40000 >&3
    reloads 1 || bad "$name: no reload said: $(cat err)"
    # a table that does not load: the reload fails, the tables and dead letters go on
    printf 'template: t.lw\ndead_letter: {file: dlb.txt}\ntables:\n  m2: {file: nosuch.csv}\n' >job.yaml
    kill -HUP "$pid"
    reloads 2 || bad "$name: no second reload said: $(cat err)"
    seq 40001 50000 >&3
    finish
    expect_rc "$name" 0
    sed 's/^{"n":"\([0-9]*\)","v":"\(old\|new\)"}$/\1 \2/' out >nv
    if cut -d' ' -f1 nv | cmp -s - <(seq 1 50000 | grep -v '7$'); then ok; else
        bad "$name: the outputs are not the records once each, in order: $(wc -l <nv) lines"
    fi
    if [ "$(cut -d' ' -f2 nv | uniq | tr '\n' ' ')" = "old new " ]; then ok; else
        bad "$name: the tables did not switch once: $(cut -d' ' -f2 nv | uniq -c | head -5 | tr '\n' ' ')"
    fi
    cat dla.txt dlb.txt 2>/dev/null | sed 's/.*"record":"\([0-9]*\)".*/\1/' >dln
    if cmp -s dln <(seq 1 50000 | grep '7$'); then ok; else
        bad "$name: the dead letters are not the rejected records once each, in order: $(wc -l <dln) lines"
    fi
    [ -s dla.txt ] && [ -s dlb.txt ] && ok || bad "$name: dla.txt $(wc -l <dla.txt), dlb.txt $(wc -l <dlb.txt 2>&1)"
    # the switch is the same record for both: the last dead letter in dla is before the first new output
    last_a=$(tail -1 dla.txt | sed 's/.*"record":"\([0-9]*\)".*/\1/')
    first_new=$(grep -m1 ' new$' nv | cut -d' ' -f1)
    [ -n "$last_a" ] && [ -n "$first_new" ] && [ "$last_a" -lt "$first_new" ] &&
        [ "$(grep -v ' new$' nv | tail -1 | cut -d' ' -f1)" -lt "$(head -1 dlb.txt | sed 's/.*"record":"\([0-9]*\)".*/\1/')" ] &&
        ok || bad "$name: the dead letters and the tables did not switch at one record ($last_a, $first_new)"
    grep -qx 'logwash: reloaded job.yaml (template t.lw; sinks opened again; tables loaded again)' err &&
        grep -q 'nosuch.csv' err &&
        grep -qx 'logwash: reload failed: .*nosuch.csv.*; the running configuration is kept' err && ok ||
        bad "$name: stderr: $(cat err)"
}
dltab_case dltab_j1 -j 1
LOGWASH_BATCH=7 dltab_case dltab_j2 -j 2

# --- workers 2 -> 3 under load, with a new template: the pool made again once every batch is
# settled; every record once, in order, old template then new ---
echo 'emit {n: line, v: "old"}' >t.lw
printf 'template: t.lw\nworkers: 2\n' >job.yaml
LOGWASH_BATCH=7 start -c job.yaml
seq 1 20000 >&3
wait_for '[ -s out ]' 20 || bad "workers_2to3: no output"
echo 'emit {n: line, v: "new"}' >t.lw
printf 'template: t.lw\nworkers: 3\n' >job.yaml
kill -HUP "$pid"
seq 20001 40000 >&3
reloads 1 || bad "workers_2to3: no reload said: $(cat err)"
wait_for '[ "$(ls /proc/$pid/task 2>/dev/null | wc -l)" -ge 3 ]' 20 ||
    bad "workers_2to3: $(ls /proc/$pid/task | wc -l) threads, expected 3"
seq 40001 60000 >&3
finish
expect_rc workers_2to3 0
sed 's/^{"n":"\([0-9]*\)","v":"\(old\|new\)"}$/\1 \2/' out >nv
if cut -d' ' -f1 nv | cmp -s - <(seq 1 60000); then ok; else
    bad "workers_2to3: the records are not 1..60000 once each, in order: $(wc -l <nv) lines"; fi
if [ "$(cut -d' ' -f2 nv | uniq | tr '\n' ' ')" = "old new " ]; then ok; else
    bad "workers_2to3: the templates did not take over once"; fi
grep -qx 'logwash: reloaded job.yaml (template t.lw; 3 workers)' err && ok || bad "workers_2to3: stderr: $(cat err)"

# --- a reload while the output is down: stdout is a fifo nobody reads (held open, so the
# writes fill it and block). The reload is served once the output takes the old template's
# records again (at the next record boundary), never before, and nothing is lost or doubled:
# every record once, in order, the old template's then the new one's ---
down_case() {
    name=$1
    shift
    echo 'emit {n: line, v: "old"}' >t.lw
    printf 'template: t.lw\n' >job.yaml
    rm -f fifo ofifo out err
    mkfifo fifo ofifo
    exec 5<>ofifo # a reader that never reads: logwash's writes block once the pipe is full
    "$bin" -c job.yaml "$@" <fifo >ofifo 2>err &
    pid=$!
    exec 3>fifo
    seq 1 50000 >&3 5<&- & # far more than the pipes hold: logwash blocks in a write, seq too
    spid=$!
    # blocked in a write to the full pipe (the kernel's wait channel says so: pipe_write, or
    # poll_schedule_timeout for the stoppable writes' poll for room, sink_fd.c)
    wait_for 'cat /proc/$pid/task/*/wchan 2>/dev/null | grep -q "pipe_write\|poll_schedule_timeout"' 20 ||
        bad "$name: logwash never blocked on its output: $(cat /proc/$pid/task/*/wchan 2>&1)"
    echo 'emit {n: line, v: "new"}' >t.lw
    kill -HUP "$pid"
    sleep 0.5 # (not a check: the reload must wait, whenever it is looked at)
    if grep -q '^logwash: reload' err; then bad "$name: a reload said while stdout is blocked: $(cat err)"; else ok; fi
    kill -0 "$pid" 2>/dev/null && ok || bad "$name: logwash ended while its output was down"
    cat ofifo >out 3>&- 5<&- & # the output comes back
    rpid=$!
    exec 5<&-
    wait "$spid"
    reloads 1 || bad "$name: no reload said once the output took records again: $(cat err)"
    seq 50001 60000 >&3
    exec 3>&-
    wait "$pid"
    rc=$?
    wait "$rpid"
    expect_rc "$name" 0
    sed 's/^{"n":"\([0-9]*\)","v":"\(old\|new\)"}$/\1 \2/' out >nv
    if cut -d' ' -f1 nv | cmp -s - <(seq 1 60000); then ok; else
        bad "$name: the records are not 1..60000 once each, in order: $(wc -l <nv) lines"
    fi
    if [ "$(cut -d' ' -f2 nv | uniq | tr '\n' ' ')" = "old new " ]; then ok; else
        bad "$name: the templates did not take over once: $(cut -d' ' -f2 nv | uniq -c | head -5 | tr '\n' ' ')"
    fi
    grep -qx 'logwash: reloaded job.yaml (template t.lw)' err && ok || bad "$name: stderr: $(cat err)"
}
down_case down_j1 -j 1
LOGWASH_BATCH=7 down_case down_j2 -j 2

# --- metrics and POST /-/reload ---
if ! have curl; then
    skip "http_*: curl missing"
    summary
    exit
fi
metrics_start() {
    start "$@"
    port=
    if wait_for 'grep -q "metrics at http://127.0.0.1:[0-9]*/metrics" err 2>/dev/null' 10; then
        port=$(sed -n 's|^logwash: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' err)
    fi
}
value() {
    curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" |
        S="$1{pipeline=\"job\"}" awk '$1 == ENVIRON["S"] { print $2 }'
}
pvalue() { # pvalue NAME: a process series (no labels)
    curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" | awk -v s="$1" '$1 == s { print $2 }'
}
post() { # post PATH: the status code, the body in ./body
    curl -s --max-time 30 -o body -w '%{http_code}' -X POST "http://127.0.0.1:$port$1"
}
echo 'emit {v: "old"}' >t.lw
printf 'template: t.lw\nmetrics: {listen: "127.0.0.1:0", reload: true}\n' >job.yaml
metrics_start -c job.yaml -j 1
[ -n "$port" ] || bad "http: no port: $(cat err)"
echo 1 >&3
wait_for '[ -s out ]' 10 || true
if [ "$(value logwash_reloads_total)" = 0 ] && [ "$(value logwash_reload_last_successful)" = 1 ] &&
    [ "$(value logwash_reload_last_timestamp_seconds)" = 0 ]; then ok; else
    bad "http: before any reload: $(value logwash_reloads_total) $(value logwash_reload_last_successful)"; fi
got="$(pvalue logwash_config_reloads_total) $(pvalue logwash_config_reload_failures_total)"
got="$got $(pvalue logwash_config_last_reload_successful) $(pvalue logwash_config_last_reload_timestamp_seconds)"
if [ "$got" = "0 0 1 0" ]; then ok; else bad "http: process reload series before any: $got"; fi
ps=$(pvalue process_start_time_seconds)
if [ -n "$ps" ] && [ "${ps%.*}" -le "$(date +%s)" ] && [ "${ps%.*}" -gt $(($(date +%s) - 600)) ]; then ok; else
    bad "http: process_start_time_seconds is '$ps'"; fi
echo 'emit {v: "new"}' >t.lw
code=$(post /-/reload)
if [ "$code" = 200 ] && [ "$(cat body)" = "logwash: reloaded" ]; then ok; else bad "http_ok: $code $(cat body)"; fi
echo 2 >&3
echo 'emit {v: }' >t.lw
code=$(post /-/reload)
if [ "$code" = 500 ] && grep -q '^logwash: job: reload failed: t.lw:1:10: error: ' body; then ok; else
    bad "http_fail: $code $(cat body)"; fi
echo 3 >&3
wait_for '[ "$(wc -l <out)" = 3 ]' 10 || true
if [ "$(value logwash_reloads_total)" = 2 ] && [ "$(value logwash_reload_failures_total)" = 1 ] &&
    [ "$(value logwash_reload_last_successful)" = 0 ] &&
    [ "$(value logwash_reload_last_timestamp_seconds)" -gt 1000000000 ]; then ok; else
    bad "http_metrics: reloads $(value logwash_reloads_total), failures $(value logwash_reload_failures_total), last $(value logwash_reload_last_successful)"
fi
got="$(pvalue logwash_config_reloads_total) $(pvalue logwash_config_reload_failures_total) $(pvalue logwash_config_last_reload_successful)"
if [ "$got" = "2 1 0" ] && [ "$(pvalue logwash_config_last_reload_timestamp_seconds)" -gt 1000000000 ]; then ok; else
    bad "http_metrics: process reloads, failures, last: $got"; fi
code=$(curl -s --max-time 10 -o body -w '%{http_code}' "http://127.0.0.1:$port/-/reload")
[ "$code" = 405 ] && ok || bad "http_get: $code"
# a storm of requests over HTTP: each answered, the process alive, the reloads coalesced
echo 'emit {v: "newer"}' >t.lw
for i in 1 2 3 4 5 6 7 8; do post /-/reload >code.$i & done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null
for i in 1 2 3 4 5 6 7 8; do
    if [ "$(cat code.$i)" = 200 ]; then ok; else bad "http_storm: request $i: $(cat code.$i)"; fi
done
n=$(value logwash_reloads_total)
if [ "$n" -ge 3 ] && [ "$n" -le 10 ]; then ok; else bad "http_storm: $n reloads"; fi
# one pipeline: the process's reloads are its own
got="$(pvalue logwash_config_reloads_total) $(pvalue logwash_config_reload_failures_total) $(pvalue logwash_config_last_reload_successful)"
if [ "$got" = "$n 1 1" ]; then ok; else bad "http_storm: process reloads, failures, last: $got, expected $n 1 1"; fi
echo 4 >&3
finish
expect_rc http 0
want '{"v":"old"}' '{"v":"new"}' '{"v":"new"}' '{"v":"newer"}'
expect_file http out

# a scrape while POST /-/reload waits on a pipeline that cannot take it (its output blocked):
# answered at once, not after the request's wait (the server has a thread per connection)
rm -f fifo oblock out err
mkfifo fifo oblock
exec 9<>oblock # open, never read: the output blocks once the pipe is full
"$bin" -e 'emit line' -j 1 --metrics-listen 127.0.0.1:0 --metrics-reload <fifo >oblock 2>err 9>&- &
pid=$!
exec 3>fifo
port=
if wait_for 'grep -q "metrics at http://127.0.0.1:[0-9]*/metrics" err 2>/dev/null' 10; then
    port=$(sed -n 's|^logwash: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' err)
fi
seq 1 200000 >&3 &
spid=$!
wait_for '[ "$(value logwash_records_in_total)" -gt 0 ] 2>/dev/null' 10 || true
: >code.p
post /-/reload >code.p &
ppid=$!
sleep 1
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
waiting=$([ -s code.p ] && echo answered || echo waiting)
if [ "$code" = 200 ] && [ "$waiting" = waiting ]; then ok; else
    bad "http_scrape_during_reload: scrape $code while the POST was $waiting"; fi
cat oblock >/dev/null 3>&- &
cpid=$!
wait "$ppid" "$spid"
finish
expect_rc http_scrape_during_reload 0
kill "$cpid" 2>/dev/null
exec 9>&-

# off unless --metrics-reload
printf 'template: t.lw\nmetrics: {listen: "127.0.0.1:0"}\n' >job.yaml
metrics_start -c job.yaml -j 1
code=$(post /-/reload)
if [ "$code" = 403 ] && grep -q -- '--metrics-reload' body; then ok; else bad "http_off: $code $(cat body)"; fi
finish
expect_rc http_off 0

# the shipped unit (dist/logwash@.service) reloads with the SIGHUP tested here, and no longer
# takes an end by SIGHUP for a reason to restart (RestartForceExitStatus: SIGHUP ends no logwash)
u=$root/dist/logwash@.service
if grep -q '^ExecReload=.*kill -HUP \$\$MAINPID' "$u" && grep -q '^Restart=on-failure$' "$u" &&
    ! grep -q '^RestartForceExitStatus=.*SIGHUP' "$u"; then
    ok
else
    bad "unit: $(grep -E '^(ExecReload|Restart)' "$u" | tr '\n' ' ')"
fi

# a SIGHUP while logwash starts (here: still reading its template from a fifo) is a reload asked
# early, never the end of it (systemd takes an end by SIGHUP for a clean stop: no restart)
rm -f tfifo early.out early.err
mkfifo tfifo
"$bin" -f tfifo </dev/null >early.out 2>early.err &
pid=$!
exec 4>tfifo # logwash holds the fifo open for reading: it is inside its start-up
kill -HUP "$pid"
echo 'emit line' >&4
exec 4>&-
wait "$pid"
rc=$?
if [ "$rc" = 0 ]; then ok; else bad "early_hup: exit $rc $(cat early.err)"; fi

summary

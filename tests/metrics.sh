#!/bin/bash
# --metrics-listen and --metrics-file (logwash(1) METRICS): logwash runs on a known input through
# a pipe kept open (so it is alive), /metrics is scraped with curl and each value compared with
# the counts of the run; promtool checks the text; a real Prometheus server scrapes logwash and
# its HTTP API is asked for the value; the JSON file is read back with jq. Hostile scrapers: one
# that never reads, one that never sends, more connections than the limit, other paths and
# methods. Bind and file errors at start-up. bash: /dev/tcp opens the raw connections. Every
# wait is a poll with a generous bound; nothing asserts a duration. Missing tools (curl, jq,
# promtool, prometheus) are skipped, saying so.
suite=metrics
. "$(dirname "$0")/harness.sh"

have() { command -v "$1" >/dev/null 2>&1; }
if ! have curl; then
    skip "curl missing: no scrape tests"
    summary
    exit
fi

# The run's input (JSON lines) and template: 5 records emitted (one of them twice), 2 dropped,
# 3 rejected, 2 failing at run time, 1 undecodable.
cat >t.lw <<'EOF'
input json
if .k == "drop" { drop }
if .k == "rej" { reject "unwanted" }
emit {n: .n + 1}
if .k == "twice" { emit {again: true} }
EOF
{
    for i in 1 2 3 4; do echo "{\"n\": $i}"; done
    echo '{"n": 5, "k": "twice"}'
    echo '{"k": "drop"}'
    echo '{"k": "drop"}'
    for i in 1 2 3; do echo '{"k": "rej"}'; done
    echo '{"n": "x"}'
    echo '{"n": "y"}'
    echo 'not json'
} >input
n_in=$(wc -l <input)
bytes_in=$(($(wc -c <input) - n_in))

# start ARGS...: logwash reading the fifo `fifo` (held open on fd 3), stdout in ./out, stderr
# in ./err, metrics on a free port (port 0; logwash says which): sets pid and port.
start() {
    rm -f fifo out err # opened only once the fifo has a writer: no old err may be read
    mkfifo fifo
    "$bin" "$@" <fifo >out 2>err &
    pid=$!
    exec 3>fifo
    port=
    if wait_for 'grep -q "metrics at http://127.0.0.1:[0-9]*/metrics" err 2>/dev/null' 10; then
        port=$(sed -n 's|^logwash: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' err)
    fi
}

# finish: close the input, wait for logwash; sets rc.
finish() {
    exec 3>&-
    wait "$pid"
    rc=$?
}

scrape() {
    curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" >scraped 2>/dev/null
}

# value NAME [LABELS]: the sample's value in ./scraped (LABELS: 'pipeline="main"' by default)
value() {
    S="$1{${2:-pipeline=\"main\"}}" awk '$1 == ENVIRON["S"] { print $2 }' scraped
}


# wait_in N: poll /metrics until records_in_total is N (the loop publishes as records settle)
wait_in() {
    wait_for "scrape && [ \"\$(value logwash_records_in_total)\" = $1 ]" 20
}

# expect_value CASE NAME WANT [LABELS]: LABELS " " for a series without labels
value_plain() { awk -v s="$1" '$1 == s { print $2 }' scraped; }
expect_value() {
    if [ "$4" = " " ]; then got=$(value_plain "$2"); else got=$(value "$2" "$4"); fi
    if [ "$got" = "$3" ]; then ok; else bad "$1: $2 is '$got', expected $3"; fi
}

counts_case() {
    name=$1
    shift
    start -f t.lw --dead-letter dl.txt --metrics-listen 127.0.0.1:0 -q "$@"
    if [ -z "$port" ]; then
        bad "$name: no metrics address on stderr: $(cat err)"
        finish
        return
    fi
    cat input >&3
    if ! wait_in "$n_in"; then bad "$name: records_in_total never reached $n_in"; fi
    expect_value "$name" logwash_records_in_total "$n_in"
    expect_value "$name" logwash_records_emitted_total 6
    expect_value "$name" logwash_records_dropped_total 2
    expect_value "$name" logwash_records_rejected_total 3
    expect_value "$name" logwash_records_failed_total 2
    expect_value "$name" logwash_records_undecodable_total 1
    expect_value "$name" logwash_dead_letters_total 6
    expect_value "$name" logwash_input_bytes_total "$bytes_in"
    expect_value "$name" logwash_output_bytes_total "$(wc -c <out)"
    expect_value "$name" logwash_up 1 " "
    if grep -q '^logwash_build_info{version="[0-9][^"]*",commit="[^"]*"} 1$' scraped; then ok; else
        bad "$name: no logwash_build_info"; fi
    if grep -q '^logwash_kafka' scraped; then bad "$name: Kafka series without Kafka"; else ok; fi
    if have promtool; then
        if promtool check metrics <scraped >promtool.out 2>&1; then ok; else
            bad "$name: promtool check metrics: $(cat promtool.out)"; fi
    fi
    cp scraped "scraped.$name"
    finish
    expect_rc "$name" 1 # records failed
    if [ "$(wc -l <dl.txt)" = 6 ]; then ok; else bad "$name: $(wc -l <dl.txt) dead letters"; fi
}

counts_case counts_j1 -j 1
LOGWASH_BATCH=1 counts_case counts_j2 -j 2
if have promtool; then :; else skip "promtool missing: text not checked"; fi

# State and tables: a tumbling window keyed by .k, seen() of .id and a lookup table. The first
# 40 records (one minute, keys k0..k9, ids 0..35) leave 10 windows and 36 keys open; a record 5
# minutes later closes the 10 windows (10 results) and opens its own, and one more for the
# first minute is late. The gauges are read while logwash runs; the state's bytes stay within
# --max-state; a template without state has none of these series.
if grep -Eq '^logwash_(seen_keys|window_keys_open|state_bytes|table_rows|table_bytes)[{ ]' scraped.counts_j1; then
    bad "state: state series without state"
else ok; fi
cat >w.lw <<'EOF'
input json
let t = parse_time(.ts, "rfc3339")
let dup = seen(.id, 1h)
window tumbling 1m at t key .k { n = count() }
emit {id: .id, dup: dup, site: lookup("sites", .k)}
EOF
printf 'key,name\nk0,zero\nk1,one\nk2,two\n' >sites.csv
for i in $(seq 1 40); do
    printf '{"ts":"2026-01-01T00:00:%02dZ","k":"k%d","id":%d}\n' "$i" $((i % 10)) $((i % 36))
done >w1
printf '%s\n' '{"ts":"2026-01-01T00:05:00Z","k":"z","id":100}' \
    '{"ts":"2026-01-01T00:00:30Z","k":"k1","id":101}' >w2
max_state=1000000
start -f w.lw --table sites=sites.csv --max-state $max_state --metrics-listen 127.0.0.1:0 \
    --metrics-file w.json --metrics-interval 1 -q -j 1
cat w1 >&3
wait_in 40 || bad "state: records_in_total never reached 40"
expect_value state1 logwash_window_keys_open 10
expect_value state1 logwash_seen_keys 36
expect_value state1 logwash_window_results_total 0
expect_value state1 logwash_table_rows 3 'pipeline="main",table="sites"'
sb=$(value logwash_state_bytes)
if [ -n "$sb" ] && [ "$sb" -gt 0 ] && [ "$sb" -le $max_state ]; then ok; else
    bad "state1: logwash_state_bytes is '$sb', expected > 0 and <= $max_state"; fi
tb=$(value logwash_table_bytes 'pipeline="main",table="sites"')
if [ -n "$tb" ] && [ "$tb" -gt 0 ] && [ "$tb" -le $max_state ]; then ok; else
    bad "state1: logwash_table_bytes is '$tb', expected > 0 and <= $max_state"; fi
if have promtool; then
    if promtool check metrics <scraped >promtool.out 2>&1; then ok; else
        bad "state1: promtool check metrics: $(cat promtool.out)"; fi
fi
cat w2 >&3
wait_in 42 || bad "state: records_in_total never reached 42"
expect_value state2 logwash_window_keys_open 1
expect_value state2 logwash_seen_keys 38
expect_value state2 logwash_window_results_total 10
expect_value state2 logwash_records_late_total 1
if have jq; then # the file thread's next write has them too
    wait_for '[ "$(jq -r ".pipelines.main.seen_keys" w.json 2>/dev/null)" = 38 ]' 20 ||
        bad "state: w.json never showed 38 keys: $(cat w.json)"
    got=$(jq -c '.pipelines.main | [.window_keys_open, .tables.sites.table_rows]' w.json)
    if [ "$got" = "[1,3]" ]; then ok; else bad "state: w.json has $got, expected [1,3]"; fi
fi
finish
expect_rc state 0
if have jq; then # at the end of input every window closed: 11 results, none open
    got=$(jq -c '.pipelines.main | [.window_keys_open, .window_results_total, .records_late_total]' w.json)
    if [ "$got" = "[0,11,1]" ]; then ok; else bad "state_end: w.json has $got, expected [0,11,1]"; fi
fi

# --metrics-file: valid JSON with the same values; the last write (at exit) says up 0
start -f t.lw --metrics-listen 127.0.0.1:0 --metrics-file m.json --metrics-interval 1 -q
cat input >&3
wait_in "$n_in" || bad "file: records_in_total never reached $n_in"
# the file thread rewrites it every second: wait for a write with the records
if have jq; then
    wait_for '[ "$(jq -r ".pipelines.main.records_in_total" m.json 2>/dev/null)" = "$n_in" ]' 20 ||
        bad "file: m.json never showed $n_in records: $(cat m.json)"
    if [ "$(jq -r .up m.json)" = 1 ]; then ok; else bad "file: up is not 1 while running"; fi
fi
finish
expect_rc file_exit 1
if have jq; then
    jq -e . m.json >/dev/null 2>&1 && ok || bad "file: not JSON: $(cat m.json)"
    got=$(jq -c '.up, (.pipelines.main | [.records_in_total, .records_emitted_total,
        .records_dropped_total, .records_rejected_total, .records_failed_total,
        .records_undecodable_total, .dead_letters_total, .input_bytes_total,
        .output_bytes_total])' m.json | tr '\n' ' ')
    want_v="0 [$n_in,6,2,3,2,1,0,$bytes_in,$(wc -c <out)] "
    if [ "$got" = "$want_v" ]; then ok; else bad "file: $got, expected $want_v"; fi
    if [ "$(jq -r '.version' m.json)" = "$("$bin" --version | awk 'NR == 1 {print $2}')" ]; then ok; else
        bad "file: version $(jq -r .version m.json)"; fi
else
    skip "jq missing: the JSON file is not read back"
fi
if [ -e m.json.tmp ]; then bad "file: m.json.tmp left behind"; else ok; fi

# a job file: the pipeline is named after it, metrics: keys (file relative to the job file)
mkdir -p jobdir
cp t.lw jobdir/
cat >jobdir/clicks.yaml <<'EOF'
template: t.lw
metrics:
  listen: "127.0.0.1:0"
  file: clicks.json
  interval: 5
EOF
start -c jobdir/clicks.yaml -q
cat input >&3
wait_for "scrape && [ \"\$(value logwash_records_in_total 'pipeline=\"clicks\"')\" = $n_in ]" 20 ||
    bad "job: no pipeline=\"clicks\" series: $(head -20 scraped)"
finish
if [ -s jobdir/clicks.json ]; then ok; else bad "job: jobdir/clicks.json not written"; fi
"$bin" -c jobdir/clicks.yaml --print-config >pc.out 2>&1
if grep -q '^  listen: "127.0.0.1:0"$' pc.out && grep -q '^  interval: 5$' pc.out; then ok; else
    bad "print-config: $(grep -A3 '^metrics' pc.out)"; fi

# a pipeline name that needs escaping in a label value (a quote, a backslash): promtool parses it
cp jobdir/clicks.yaml 'jobdir/we"ird\name.yaml'
start -c 'jobdir/we"ird\name.yaml' -q
cat input >&3
lbl='pipeline="we\"ird\\name"' # as the text format writes it
wait_for 'scrape && [ "$(value logwash_records_in_total "$lbl")" = "$n_in" ]' 20 ||
    bad "escape: no escaped pipeline label: $(grep records_in scraped)"
if have promtool; then
    if promtool check metrics <scraped >promtool.out 2>&1; then ok; else
        bad "escape: promtool: $(cat promtool.out)"; fi
fi
finish

# failures by reason (several pipelines): three pipelines fail at three stages, a fourth (live,
# reading the fifo, dropping all) keeps the process up for the scrape. stdout is /dev/full:
# only "sink" writes to it; "source" reads in1 then a file that is gone; "dl" rejects every
# record into a dead-letter file on /dev/full. Each failure counted under its stage's reason,
# shown by logwash_pipeline_failed while down, said on stderr; the JSON file says the same.
seq 1 5 >in1
echo drop >drop.lw
echo 'reject "no"' >rej.lw
echo 'emit {n: line}' >emit.lw
cat >fail.yaml <<'EOF2'
metrics: {listen: "127.0.0.1:0", file: fail.json, interval: 1}
pipelines:
  live: {template: drop.lw}
  source: {template: drop.lw, source: {files: [in1, gone.log]}}
  sink: {template: emit.lw, source: {files: [in1]}}
  dl: {template: rej.lw, source: {files: [in1]}, dead_letter: {file: /dev/full}}
EOF2
rm -f gone.log fifo err
mkfifo fifo
"$bin" -c fail.yaml <fifo >/dev/full 2>err &
pid=$!
exec 3>fifo
port=
if wait_for 'grep -q "metrics at http://127.0.0.1:[0-9]*/metrics" err 2>/dev/null' 10; then
    port=$(sed -n 's|^logwash: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' err)
fi
fails() { # PIPELINE: its logwash_pipeline_failures_total by reason, then logwash_pipeline_failed
    for m in failures_total failed; do
        for k in records config source sink dead_letter; do
            printf '%s ' "$(value logwash_pipeline_$m "pipeline=\"$1\",reason=\"$k\"")"
        done
    done
}
if [ -n "$port" ] &&
    wait_for 'scrape && [ "$(value logwash_pipeline_up "pipeline=\"dl\"")" = 0 ] &&
        [ "$(value logwash_pipeline_up "pipeline=\"sink\"")" = 0 ] &&
        [ "$(value logwash_pipeline_up "pipeline=\"source\"")" = 0 ]' 20; then
    for w in "source:0 0 1 0 0 0 0 1 0 0 " "sink:0 0 0 1 0 0 0 0 1 0 " \
        "dl:0 0 0 0 1 0 0 0 0 1 " "live:0 0 0 0 0 0 0 0 0 0 "; do
        got=$(fails "${w%%:*}")
        [ "$got" = "${w#*:}" ] && ok || bad "fail_stage: ${w%%:*}: '$got', expected '${w#*:}'"
    done
    expect_value fail_stage logwash_pipeline_up 1 'pipeline="live"'
    if have promtool; then
        if promtool check metrics <scraped >promtool.out 2>&1; then ok; else
            bad "fail_stage: promtool check metrics: $(cat promtool.out)"; fi
    fi
else
    bad "fail_stage: the three pipelines never shown down: $(grep pipeline_up scraped) $(cat err)"
fi
exec 3>&-
wait "$pid"
rc=$?
[ "$rc" = 4 ] && ok || bad "fail_stage: exit $rc, expected 4"
for w in "source:source:gone.log: No such file" "sink:sink:cannot write stdout" \
    "dl:dead_letter:cannot write /dev/full"; do
    p=${w%%:*} k=${w#*:}
    grep -q "^logwash: pipeline $p: .*${k#*:}" err &&
        grep -qx "logwash: pipeline $p failed (exit status 4, reason ${k%%:*})" err && ok ||
        bad "fail_stage: $p's messages: $(grep "pipeline $p" err)"
done
if have jq; then
    got=$(jq -c '[.pipelines.dl.pipeline_failures_total.dead_letter, .pipelines.dl.pipeline_failed,
        .pipelines.source.pipeline_failed, .pipelines.sink.pipeline_failures_total.sink,
        .pipelines.live.pipeline_failed]' fail.json)
    [ "$got" = '[1,"dead_letter","source",1,null]' ] && ok || bad "fail_stage: fail.json: $got"
fi

# --validate: the address's form and the file's directory, at their job-file positions
cat >jobdir/bad.yaml <<'EOF'
template: t.lw
metrics:
  listen: "localhost"
  file: nodir/m.json
EOF
"$bin" -c jobdir/bad.yaml --validate >out 2>err
rc=$?
expect_rc validate 2
want "logwash: jobdir/bad.yaml:3:12: error: --metrics-listen needs ADDR:PORT ([ADDR]:PORT for IPv6), found 'localhost'" \
    "logwash: jobdir/bad.yaml:4:9: error: metrics file jobdir/nodir/m.json: no directory jobdir/nodir"
expect_file validate err

# Hostile scrapers. A connection that sends a request and never reads, one that sends nothing,
# and far more connections than the limit: records keep flowing, and once they are gone a
# scrape works again. Other paths: 404; other methods: 405.
start -e 'emit line' --metrics-listen 127.0.0.1:0 -q -j 1
seq 1 1000 >&3
wait_in 1000 || bad "hostile: first 1000 never counted"
exec 7<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' >&7 # and never read
exec 8<>"/dev/tcp/127.0.0.1/$port"                      # and never send
fds=
for i in $(seq 1 150); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null && fds="$fds $fd"
done
seq 1001 51000 >&3
# the loop does not wait for scrapers: all the records come out while the connections stay
wait_for '[ "$(wc -l <out)" = 51000 ]' 60 || bad "hostile: output stopped at $(wc -l <out) lines"
for fd in $fds; do exec {fd}>&-; done
exec 7>&- 8>&-
wait_in 51000 || bad "hostile: no scrape of 51000 after the connections closed"
code=$(curl -s -o body404 -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/nope")
if [ "$code" = 404 ]; then ok; else bad "hostile: /nope gave $code"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -d x "http://127.0.0.1:$port/metrics")
if [ "$code" = 405 ]; then ok; else bad "hostile: POST gave $code"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/metrics?x=1")
if [ "$code" = 200 ]; then ok; else bad "hostile: a query string gave $code"; fi
# SIGTERM on an idle pipe still stops logwash at once: the server's threads take no signal
kill -TERM "$pid"
if wait_for '! kill -0 $pid 2>/dev/null' 10; then ok; else bad "hostile: SIGTERM did not stop logwash"; fi
finish
expect_rc sigterm 0

# Start-up errors: a port in use, a bad address, a file that cannot be written
start -e 'emit line' --metrics-listen 127.0.0.1:0 -q
busy=$port
echo x >in
run -e 'emit line' --metrics-listen "127.0.0.1:$busy"
expect_rc listen_busy 2
want "logwash: cannot listen on 127.0.0.1:$busy (--metrics-listen): Address already in use"
expect_file listen_busy err
expect_empty listen_busy out
finish
run -e 'emit line' --metrics-listen nonsense
expect_rc listen_syntax 2
want "logwash: --metrics-listen needs ADDR:PORT ([ADDR]:PORT for IPv6), found 'nonsense'"
expect_file listen_syntax err
run -e 'emit line' --metrics-listen 127.0.0.1:70000
expect_rc listen_port 2
run -e 'emit line' --metrics-file nodir/m.json
expect_rc file_dir 4
want "logwash: cannot write the metrics file nodir/m.json.tmp: No such file or directory"
expect_file file_dir err
# the file never replaces one of the run's own: the job file, an input
printf 'template: t.lw\nmetrics:\n  file: own.yaml\n' >jobdir/own.yaml
cp jobdir/own.yaml own.before
run -c jobdir/own.yaml
expect_rc file_own 2
want "logwash: --metrics-file jobdir/own.yaml is the job file: refusing to replace it"
expect_file file_own err
if cmp -s own.before jobdir/own.yaml; then ok; else bad "file_own: the job file changed"; fi
echo x >in
echo y >in2
run -e 'emit line' --metrics-file in2 in2
expect_rc file_input 2
want "logwash: --metrics-file in2 is an input, in2: refusing to replace it"
expect_file file_input err
# nor anything that is not a regular file: a rename would put a file in the place of a device
# (/dev/null, as root), a fifo, a symbolic link or a directory; --validate says so too. And the
# temporary file is not followed when it is a symbolic link.
mkdir -p mdir
mkfifo mfifo
ln -s target.json mlink
# (/dev/null itself is not tried: a logwash without the check would replace it)
for f in mdir:'a directory' mlink:'a symbolic link (name the file it points to)' mfifo:'a fifo'; do
    run -e 'emit line' --metrics-file "${f%%:*}"
    expect_rc "file_kind ${f%%:*}" 2
    want "logwash: --metrics-file ${f%%:*} is ${f#*:}: refusing to replace it"
    expect_file "file_kind ${f%%:*}" err
    run -e 'emit line' --metrics-file "${f%%:*}" --validate
    expect_rc "file_kind_validate ${f%%:*}" 2
    expect_file "file_kind_validate ${f%%:*}" err
done
if [ -d mdir ] && [ -p mfifo ] && [ -L mlink ] && [ ! -e target.json ]; then ok; else
    bad "file_kind: replaced: $(ls -ld mdir mfifo mlink)"; fi
ln -s target.json lnk.json.tmp
run -e 'emit line' --metrics-file lnk.json
expect_rc file_tmp_link 4
if [ ! -e target.json ] && grep -q '^logwash: cannot write the metrics file lnk.json.tmp: ' err; then ok; else
    bad "file_tmp_link: $(cat err; ls -l)"; fi
expect_usage interval_zero "--metrics-interval needs a positive integer, found '0'" \
    -e 'emit line' --metrics-interval 0

# A real Prometheus server scrapes logwash; its API answers with the run's count.
if have prometheus && have promtool && have jq; then
    start -f t.lw --metrics-listen 127.0.0.1:0 -q
    cat input >&3
    wait_in "$n_in" || bad "prometheus: records_in_total never reached $n_in"
    cat >prom.yml <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: logwash
    static_configs:
      - targets: ["127.0.0.1:$port"]
EOF
    ppid=
    for try in 1 2 3 4 5; do # a free port: a random one, again if it was taken
        pport=$((20000 + RANDOM % 40000))
        prometheus --config.file=prom.yml --storage.tsdb.path=tsdb \
            --web.listen-address="127.0.0.1:$pport" >prom.log 2>&1 &
        ppid=$!
        if wait_for "curl -sf http://127.0.0.1:$pport/-/ready >/dev/null 2>&1 || ! kill -0 $ppid 2>/dev/null" 30 &&
            kill -0 "$ppid" 2>/dev/null; then
            break
        fi
        wait "$ppid" 2>/dev/null
        ppid=
    done
    if [ -z "$ppid" ]; then
        bad "prometheus: the server did not start: $(tail -3 prom.log)"
    else
        q="http://127.0.0.1:$pport/api/v1/query?query=logwash_records_in_total"
        if wait_for "curl -sf '$q' >q.json && [ \"\$(jq -r '.data.result[0].value[1]' q.json)\" = $n_in ]" 60; then
            ok
        else
            bad "prometheus: the query gave $(cat q.json)"
        fi
        if [ "$(jq -r '.data.result[0].metric.pipeline' q.json)" = main ]; then ok; else
            bad "prometheus: label $(jq -c '.data.result[0].metric' q.json)"; fi
        kill "$ppid"
        wait "$ppid" 2>/dev/null
    fi
    finish
else
    skip "prometheus, promtool or jq missing: no real scrape"
fi

# logwash_vm_steps_total: a template without branches runs each of its instructions once per
# record, so 1000 records run 1000 times the count --disasm gives (-j 1 and -j 2), and a
# record stopped by --max-steps counts the limit
tpl='emit {n: line, v: "x"}'
per=$("$bin" --disasm -e "$tpl" | sed -n 's/^; -e: \([0-9]*\) instructions.*/\1/p')
for j in 1 2; do
    seq 1 1000 | LOGWASH_BATCH=7 "$bin" -j $j -e "$tpl" --metrics-file steps.json >/dev/null 2>err
    got=$(tr ',{}' '\n\n\n' <steps.json | sed -n 's/^"vm_steps_total":\([0-9]*\)$/\1/p')
    if [ -n "$per" ] && [ "$got" = $((1000 * per)) ]; then ok; else
        bad "vm_steps_j$j: $got, expected 1000 x ${per:-?}: $(cat err)"; fi
done
printf 'a\nb\n' | "$bin" -e 'let n = 0
for x in split(line + ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,", ",") { n = n + 1 }
emit n' --max-steps 50 -q --metrics-file steps.json >/dev/null 2>&1
got=$(tr ',{}' '\n\n\n' <steps.json | sed -n 's/^"vm_steps_total":\([0-9]*\)$/\1/p')
if [ "$got" = 100 ]; then ok; else bad "vm_steps_limit: $got, expected 2 x 50"; fi

# examples/platform: the scrape config and the alert rules of the platform's three alarms
if have promtool; then
    if promtool check rules "$root/examples/platform/alerts.yml" >rules.out 2>&1; then ok; else
        bad "platform: promtool check rules: $(cat rules.out)"; fi
    if (cd "$root/examples/platform" && promtool check config prometheus.yml) >conf.out 2>&1; then ok; else
        bad "platform: promtool check config: $(cat conf.out)"; fi
    if [ -f "$root/examples/platform/alerts.test.yml" ]; then
        if (cd "$root/examples/platform" && promtool test rules alerts.test.yml) >rt.out 2>&1; then ok; else
            bad "platform: promtool test rules: $(cat rt.out)"; fi
    fi
fi

summary

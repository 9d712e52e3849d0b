#!/bin/sh
# The job file's own features (logwash.yaml(5)): environment interpolation (${VAR},
# ${VAR:-default}, $$) with its errors at the '$' and hostile values; the --no- forms of the
# booleans; --validate (everything checked, nothing run, exit 0 or 2); --print-config (the
# effective job as a job file, secrets masked, read back to the same). No broker is needed.
# Usage: tests/config.sh BIN
set -u
suite=config
. "$(dirname "$0")/harness.sh"

unset LW_T_A LW_T_B LW_T_UNSET LW_T_EMPTY LW_T_HUGE LW_T_BAD
mkdir -p j
printf 'emit {l: line}\n' >j/t.lw

# expect_err NAME STATUS MESSAGE: after run, the exit status and the first line of stderr.
expect_err() {
    expect_rc "$1" "$2"
    first=$(head -1 err)
    if [ "$first" = "$3" ]; then ok; else
        bad "$1: stderr '$first'"
        echo "   expected '$3'"
    fi
}

# ---- a job file of only comments and blank lines sets nothing (libfyaml builds no document)
printf '# nothing\n\n  # set here\r\n' >j/comments.yaml
printf 'a\n' >in
run -c j/comments.yaml -f j/t.lw
expect_rc only_comments 0
want '{"l":"a"}'
expect_file only_comments out

# ---- interpolation
printf '%s\n' 'template: ${LW_T_A}.lw' 'output: ${LW_T_EMPTY:-text}' 'on_error: "${LW_T_B}"' \
    'multiline:' '  continue: "^ +x$"' >j/env.yaml
printf 'a\n  x\nb\n' >in
LW_T_A=t LW_T_B=skip LW_T_EMPTY= run -c j/env.yaml
expect_rc interp_basic 0
want 'l="a\n  x"' 'l=b'
expect_file interp_basic out
LW_T_A=t LW_T_B=skip run -c j/env.yaml --print-config
if grep -qx 'output: text' out && grep -qx 'on_error: skip' out && grep -qx '  continue: "^ +x$$"' out; then
    ok
else
    bad "interp_default: $(cat out err)"
fi
: >in
# $$ is a $, a $ before anything else is itself; the result is not interpolated again
printf '%s\n' 'template: t.lw' 'dead_letter:' '  file: "d$$${LW_T_A}$x.jsonl"' >j/dollar.yaml
LW_T_A='${LW_T_B}$$' LW_T_B=boom run -c j/dollar.yaml --print-config
if grep -qxF "  file: \"$tmp/j/d\$\$\$\${LW_T_B}\$\$\$\$\$\$x.jsonl\"" out; then ok; else
    bad "interp_no_recursion: $(grep file: out) $(cat err)"
fi
LW_T_A='${LW_T_B}$$' LW_T_B=boom run -c j/dollar.yaml
if [ -f 'j/d$${LW_T_B}$$$x.jsonl' ]; then ok; else bad "interp_no_recursion_file: $(ls j)"; fi
# keys are not interpolated; template_text is not (its ${} is the template's)
printf '%s\n' '${LW_T_A}: 1' >j/key.yaml
LW_T_A=input run -c j/key.yaml -e 'emit 1'
expect_err interp_not_keys 2 "logwash: j/key.yaml:1:1: error: unknown key '\${LW_T_A}' in the job file (expected template, template_text, input, output, on_error, tz, now, unbuffered, no_jit, workers, explain, patterns, lib, tables, source, sink, dead_letter, limits, multiline, kafka, metrics, pipelines)"
printf '%s\n' 'template_text: emit "<${line}>"' >j/tt.yaml
printf 'q\n' >in
run -c j/tt.yaml
expect_rc interp_not_template_text 0
want '"<q>"'
expect_file interp_not_template_text out
: >in
# Kafka property values are interpolated too (and masked when secret)
printf '%s\n' 'template: t.lw' 'sink: {type: kafka, topic: o}' 'kafka:' '  brokers: ${LW_T_A}:9092' \
    '  properties:' '    sasl.password: ${LW_T_B}' '    client.id: "${LW_T_B}-c"' >j/kx.yaml
LW_T_A=k1 LW_T_B=hunter2 run -c j/kx.yaml --print-config
if grep -qx '  brokers: "k1:9092"' out && grep -qx '    client.id: hunter2-c' out &&
    grep -qx '    sasl.password: "\*\*\*"' out; then ok; else bad "interp_props: $(cat out err)"; fi
# a value interpolated, then refused by its option: at the value
printf '%s\n' 'template: t.lw' 'input: ${LW_T_A}' >j/val.yaml
LW_T_A=xml run -c j/val.yaml
expect_err interp_then_option 2 "logwash: j/val.yaml:2:8: error: -i needs text or json, found 'xml'"

# ---- interpolation errors, at the file:line:col of the '$'
printf '%s\n' 'template: t.lw' 'multiline:' '  start: "^é ${LW_T_UNSET}"' >j/unset.yaml
run -c j/unset.yaml
expect_err interp_unset 2 'logwash: j/unset.yaml:3:14: error: environment variable LW_T_UNSET is not set (${LW_T_UNSET:-DEFAULT} gives a default)'
expect_err interp_unset_hint 2 "$(head -1 err)"
if [ "$(sed -n 2p err)" = "try 'logwash --help'" ]; then ok; else bad "interp_unset_hint: $(cat err)"; fi
printf '%s\n' 'template: t.lw' 'now: |' '  1' '   x ${LW_T_UNSET}' >j/block.yaml
run -c j/block.yaml
expect_err interp_block 2 'logwash: j/block.yaml:4:6: error: environment variable LW_T_UNSET is not set (${LW_T_UNSET:-DEFAULT} gives a default)'
printf '%s\n' 'template: t.lw' 'tz: "a ${LW_T_A"' >j/unterm.yaml
run -c j/unterm.yaml
expect_err interp_unterminated 2 "logwash: j/unterm.yaml:2:8: error: '\${' without its closing '}' (write \$\$ for a \$)"
printf '%s\n' 'template: t.lw' 'tz: ${' >j/unterm2.yaml
run -c j/unterm2.yaml
expect_err interp_unterminated_end 2 "logwash: j/unterm2.yaml:2:5: error: '\${' without its closing '}' (write \$\$ for a \$)"
for name in 'A.B' '' '1A' 'A:?x' 'A B' 'é' 'A-b'; do
    printf 'template: t.lw\nsource:\n  files: [a, "x${%s}"]\n' "$name" >j/name.yaml
    run -c j/name.yaml
    expect_err "interp_bad_name '$name'" 2 "logwash: j/name.yaml:3:16: error: '\${$name}' is no variable: write \${NAME} or \${NAME:-default}, NAME of letters, digits and '_' not starting with a digit"
done
# a default is not interpolated: ${A:-${B}} is an error, not B's value and a stray '}'
printf '%s\n' 'template: t.lw' 'tz: "${LW_T_A:-${LW_T_B}}"' >j/nested.yaml
LW_T_A=UTC LW_T_B=x run -c j/nested.yaml
expect_err interp_nested_default 2 "logwash: j/nested.yaml:2:6: error: a default cannot hold '\${': defaults are not interpolated (\${A:-\${B}} is not supported)"
# anchors and aliases are refused at the alias (else *a is read as the text 'a'; and a few
# lines of them expand to gigabytes), however deep
printf '%s\n' 'template: t.lw' 'input: &i json' 'output: *i' >j/alias.yaml
run -c j/alias.yaml --validate
expect_err yaml_alias 2 "logwash: j/alias.yaml:3:9: error: '*i' is an alias: a job file takes no YAML anchors and aliases (write the value out)"
printf '%s\n' 'template: t.lw' 'lib: &a [x, x, x, x, x, x, x, x]' 'patterns: &b [*a, *a, *a, *a, *a, *a, *a, *a]' \
    'source: {files: [*b, *b, *b, *b, *b, *b, *b, *b]}' >j/laughs.yaml
run -c j/laughs.yaml --validate
expect_err yaml_alias_bomb 2 "logwash: j/laughs.yaml:3:15: error: '*a' is an alias: a job file takes no YAML anchors and aliases (write the value out)"
# one document: a second one would be ignored silently; an empty one at the end is nothing
printf '%s\n' 'template: t.lw' '---' 'input: text' >j/docs.yaml
run -c j/docs.yaml --validate
expect_err yaml_second_document 2 "logwash: j/docs.yaml:2: error: a second YAML document: a job file is one document (pipelines: holds several jobs)"
printf '%s\n' '---' 'template: t.lw' '...' '---' >j/docs2.yaml
run -c j/docs2.yaml --validate
expect_rc yaml_empty_second_document 0
printf '%s\n' 'template: t.lw' '---' '[' >j/docs3.yaml
run -c j/docs3.yaml --validate
expect_rc yaml_second_document_bad 2
if head -1 err | grep -q '^logwash: j/docs3.yaml:4:1: error: '; then ok; else bad "yaml_second_document_bad: $(cat err)"; fi
# hostile values: huge, not UTF-8, a huge name, a very long line; clear errors, no crash
printf '%s\n' 'template: t.lw' 'tz: ${LW_T_HUGE}' >j/huge.yaml
LW_T_HUGE=$(head -c 70000 /dev/zero | tr '\0' a) run -c j/huge.yaml
expect_err interp_huge 2 "logwash: j/huge.yaml:2:5: error: the value would be longer than 65536 bytes with LW_T_HUGE's 70000 put in"
LW_T_HUGE=$(head -c 60000 /dev/zero | tr '\0' a) run -c j/huge.yaml
expect_rc interp_big_refused_by_option 2
if head -1 err | grep -q '^logwash: j/huge.yaml:2:5: error: --tz: '; then ok; else bad "interp_big: $(head -c 300 err)"; fi
printf '%s\n' 'template: t.lw' 'tz: "${LW_T_BAD}"' >j/bad.yaml
LW_T_BAD=$(printf 'a\377') run -c j/bad.yaml
expect_err interp_not_utf8 2 "logwash: j/bad.yaml:2:6: error: environment variable LW_T_BAD is not UTF-8 text"
long=$(head -c 100000 /dev/zero | tr '\0' N)
printf 'template: t.lw\ntz: ${%s}\n' "$long" >j/longname.yaml
run -c j/longname.yaml
expect_rc interp_long_name 2
if head -1 err | grep -q "^logwash: j/longname.yaml:2:5: error: environment variable N\{60\} is not set"; then ok; else
    bad "interp_long_name: $(head -c 300 err)"
fi
printf 'template: t.lw\ninput: %s$$\n' "$long" >j/longline.yaml
run -c j/longline.yaml
expect_rc interp_long_line 2
if head -1 err | grep -q "^logwash: j/longline.yaml:2:8: error: -i needs text or json, found 'NNNN"; then ok; else
    bad "interp_long_line: $(head -c 300 err)"
fi
# many '$' in one value: linear, and right
awk 'BEGIN { printf "template: t.lw\ndead_letter:\n  file: \""; for (i = 0; i < 20000; i++) printf "$$${LW_T_A}"; print "\"" }' >j/many.yaml
LW_T_A=x run -c j/many.yaml --print-config
if [ "$(grep -o '[$][$]x' out | wc -l)" = 20000 ]; then ok; else bad "interp_many: $(head -c 300 err)"; fi

# ---- --no-OPTION: the job file's booleans turned off from the command line
printf '%s\n' 'template: t.lw' 'unbuffered: true' 'no_jit: true' 'multiline:' '  indent: true' \
    '  timeout: 0' >j/bools.yaml
run -c j/bools.yaml --print-config
if grep -qx 'unbuffered: true' out && grep -qx 'no_jit: true' out && grep -qx '  indent: true' out; then ok; else
    bad "no_options_file: $(cat out err)"
fi
run -c j/bools.yaml --no-unbuffered --jit --no-multiline-indent --print-config
if grep -qx 'unbuffered: false' out && grep -qx 'no_jit: false' out && grep -qx '  indent: false' out; then ok; else
    bad "no_options: $(cat out err)"
fi
printf 'a\n b\n' >in
run -c j/bools.yaml --no-multiline-indent
want '{"l":"a"}' '{"l":" b"}'
expect_file no_multiline_indent out
: >in
run -c j/bools.yaml --no-unbuffered --unbuffered --print-config # the last one wins
if grep -qx 'unbuffered: true' out; then ok; else bad "no_options_last_wins: $(cat out err)"; fi
printf '%s\n' 'template: t.lw' 'source: {type: kafka, brokers: "b:1", topics: t, exit_at_eof: true}' >j/eof.yaml
run -c j/eof.yaml --no-exit-at-eof --print-config
if grep -qx '  exit_at_eof: false' out; then ok; else bad "no_exit_at_eof: $(cat out err)"; fi
expect_usage no_no_jit "unknown option '--no-no-jit'" -e 'emit 1' --no-no-jit
# explain: true (--explain), a number (--explain=N) or false; --no-explain turns it off; an
# optional argument is only --explain=N (so --help shows --explain[=N])
printf 'if line != "ok" { reject "not ok" }\nemit line\n' >j/x.lw
printf '%s\n' 'template: x.lw' 'explain: 1' >j/explain.yaml
printf 'a\nb\nok\n' >in
run -c j/explain.yaml
if [ "$(grep -c '^logwash: explain: ' err)" = 2 ] && grep -qx 'logwash: explain: stdin:1: a' err &&
    grep -qx '=> rejected at j/x.lw:1:19: not ok' err &&
    grep -qx 'logwash: explain: 1 more record not explained (--explain=1)' err; then ok; else
    bad "explain_key: $(cat err)"
fi
run -c j/explain.yaml --no-explain
if grep -q 'explain' err; then bad "no_explain: $(cat err)"; else ok; fi
printf '%s\n' 'template: x.lw' 'explain: true' >j/explain.yaml
run -c j/explain.yaml --print-config
if grep -qx 'explain: 10' out; then ok; else bad "explain_true: $(cat out err)"; fi
printf '%s\n' 'template: x.lw' 'explain: false' >j/explain.yaml
run -c j/explain.yaml --print-config
if grep -q 'explain' out; then bad "explain_false: $(cat out)"; else ok; fi
printf '%s\n' 'template: x.lw' 'explain: often' >j/explain.yaml
run -c j/explain.yaml
expect_err explain_bad 2 "logwash: j/explain.yaml:2:10: error: --explain needs a positive integer, found 'often'"
: >in
run --help
if grep -q -- '--explain\[=N\] ' out; then ok; else bad "explain_help: $(grep explain out)"; fi

# ---- --validate: everything checked, nothing run, nothing opened for writing
printf 'x\n' >j/in.log
printf '%s\n' 'template: t.lw' 'source:' '  files: [in.log]' 'dead_letter:' '  file: out/dl.jsonl' >j/ok.yaml
mkdir -p j/out
run --validate -c j/ok.yaml
expect_rc validate_ok 0
expect_empty validate_ok out
expect_empty validate_ok err
if [ -e j/out/dl.jsonl ]; then bad "validate_ok: created the dead-letter file"; else ok; fi
printf '%s\n' 'template: t.lw' 'source:' '  files: [in.log, nope.log, "${LW_T_A:-.}"]' 'dead_letter:' \
    '  file: in.log' 'kafka:' '  flush_timeout_ms: 5' >j/bad.yaml
run --validate -c j/bad.yaml
expect_rc validate_problems 2
want 'logwash: j/bad.yaml:3:19: error: cannot read j/nope.log: No such file or directory' \
    'logwash: j/bad.yaml:3:30: error: j/. is a directory, not a file to read' \
    'logwash: j/bad.yaml:5:9: error: j/in.log is an input: refusing to overwrite it with dead letters'
expect_file validate_problems err
expect_empty validate_problems out
run --validate -c j/ok.yaml --dead-letter j/t.lw
expect_err validate_dl_template 2 'logwash: j/t.lw is the template: refusing to overwrite it with dead letters'
run --validate -c j/ok.yaml --dead-letter j/ok.yaml
expect_err validate_dl_job 2 'logwash: j/ok.yaml is the job file: refusing to overwrite it with dead letters'
run --validate -c j/ok.yaml --dead-letter nodir/dl.jsonl
expect_err validate_dl_dir 2 'logwash: dead-letter file nodir/dl.jsonl: no directory nodir'
run --validate -c j/ok.yaml --dead-letter /dev/null
expect_rc validate_dl_devnull 0
# the template: compiled, its errors shown; exit 2 (--check keeps 3)
printf 'emit nope(\n' >j/broken.lw
run --validate -c j/ok.yaml -f j/broken.lw
expect_rc validate_template 2
if grep -q '^j/broken.lw:[0-9]*:[0-9]*: error: ' err; then ok; else bad "validate_template: $(cat err)"; fi
run --check -c j/ok.yaml -f j/broken.lw
expect_rc check_template 3
run --check -c j/bad.yaml # --check is the template only
expect_rc check_template_only 0
# every problem at once: the files and the template
run --validate -c j/bad.yaml -f j/broken.lw
expect_rc validate_all 2
if [ "$(grep -c 'error: ' err)" = 4 ]; then ok; else bad "validate_all: $(cat err)"; fi
# an option's value: a usage error at its position, as ever
printf '%s\n' 'template: t.lw' 'limits:' '  max_steps: 0' >j/zero.yaml
run --validate -c j/zero.yaml
expect_err validate_value 2 "logwash: j/zero.yaml:3:14: error: --max-steps needs a positive integer, found '0'"
printf '%s\n' 'template: t.lw' 'tz: Mars/Olympus' >j/zone.yaml
run --validate -c j/zone.yaml
expect_rc validate_zone 2
if head -1 err | grep -q '^logwash: j/zone.yaml:2:5: error: --tz: '; then ok; else bad "validate_zone: $(cat err)"; fi
printf '%s\n' 'template: t.lw' 'patterns: nopats' >j/pat.yaml
run --validate -c j/pat.yaml
expect_rc validate_patterns 2
# Kafka: properties and topics checked by librdkafka's configuration, no connection made
printf '%s\n' 'template: t.lw' 'source: {type: kafka, brokers: "127.0.0.1:1", topics: [a]}' \
    'sink: {type: kafka, topic: "o"}' 'kafka:' '  properties:' '    linger.ms: 5' \
    '    no.such.property: 1' '  producer:' '    acks: maybe' >j/k.yaml
run --validate -c j/k.yaml
expect_rc validate_kafka 2
want 'logwash: j/k.yaml:7:23: error: kafka property no.such.property=1: No such configuration property: "no.such.property"'
expect_file validate_kafka err
printf '%s\n' 'template: t.lw' 'source: {type: kafka, brokers: "127.0.0.1:1", topics: [a]}' \
    'sink: {type: kafka, topic: "o"}' 'dead_letter: {topic: "bad topic"}' >j/k2.yaml
start=$(date +%s)
run --validate -c j/k2.yaml
expect_err validate_kafka_topic 2 "logwash: j/k2.yaml:4:23: error: 'bad topic' is not a Kafka topic name"
sed -i '$d' j/k2.yaml
run --validate -c j/k2.yaml
expect_rc validate_kafka_ok 0
if [ $(($(date +%s) - start)) -le 3 ]; then ok; else bad "validate_kafka: slow (connecting?)"; fi
# a window statement's to "TOPIC" (a constant, which the run checks at start) with a Kafka
# sink: each one that is no topic name said, as the run says it; to stdout it is ignored (as
# emit ... to is, whose topic is an expression: checked at each emit, not here)
printf '%s\n' 'input json' 'window tumbling 1m to "a b" { n = count() }' \
    'window tumbling 1m to "fine" { n = count() }' 'window tumbling 1m to "x/y" { n = count() }' \
    'emit . to "c d"' >j/wto.lw
printf '%s\n' 'template: wto.lw' 'sink: {type: kafka, topic: "o", brokers: "127.0.0.1:1"}' >j/wto.yaml
run --validate -c j/wto.yaml
expect_rc validate_window_to 2
want "logwash: window statement 1: to: 'a b' is not a Kafka topic name" \
    "logwash: window statement 3: to: 'x/y' is not a Kafka topic name"
expect_file validate_window_to err
printf '%s\n' 'pipelines:' '  w: {template: wto.lw, source: {files: [t.lw]}, sink: {type: kafka, topic: o}}' \
    'kafka: {brokers: "127.0.0.1:1"}' >j/wtop.yaml
run --validate -c j/wtop.yaml
expect_rc validate_window_to_pipelines 2
expect_file validate_window_to_pipelines err
run --validate -f j/wto.lw j/t.lw
expect_rc validate_window_to_stdout 0
expect_empty validate_window_to_stdout err
# with Kafka input, a state a replay from the committed offsets would not rebuild (a window on
# the clock) said as the run says it at start, exit 2; an event-time one passes
printf '%s\n' 'input json' 'window tumbling 1m { n = count() }' >j/wpt.lw
printf '%s\n' 'template: wpt.lw' 'source: {type: kafka, brokers: "127.0.0.1:1", topics: [a]}' >j/wpt.yaml
run --validate -c j/wpt.yaml
expect_rc validate_kafka_state 2
want "logwash: with Kafka, state is accepted only for Kafka input whose replay from the committed offsets rebuilds it exactly: seen(), up to 8 event-time tumbling, sliding, session or count window statements (window tumbling SIZE at EXPR, window sliding SIZE every STEP at EXPR, window session GAP at EXPR, with or without late, window count N timeout T at EXPR), or seen() with such windows; windows without at run on the clock (from files or stdin to Kafka any state is accepted: logwash(1) KAFKA)"
expect_file validate_kafka_state err
run --from kafka --brokers 127.0.0.1:1 --topic a -f j/wpt.lw
expect_rc validate_kafka_state_run 2
expect_file validate_kafka_state_run err
printf '%s\n' 'input json' 'if seen(.id, 1m, parse_time(.ts, "rfc3339")) { drop }' \
    'window count 3 timeout 1m at parse_time(.ts, "rfc3339") { n = count() }' >j/wpt.lw
run --validate -c j/wpt.yaml
expect_rc validate_kafka_state_ok 0
expect_empty validate_kafka_state_ok err
# the cooperative protocol with state and Kafka input: refused by --validate and at start
# (a rebalance keeping partitions would stop the member, and its restart the next one); the
# last value given counts, a producer's does not
coop="logwash: with state (seen() or windows) and Kafka input, partition.assignment.strategy=cooperative-sticky is refused: a rebalance that keeps some partitions would leave the state without the messages of those gone (the member would stop, and its restart would stop the next one); use the eager protocol (the default, range,roundrobin; logwash(1) KAFKA)"
printf '%s\n' 'kafka:' '  consumer:' '    partition.assignment.strategy: cooperative-sticky' >>j/wpt.yaml
run --validate -c j/wpt.yaml
expect_rc validate_kafka_coop 2
want "$coop"
expect_file validate_kafka_coop err
run --from kafka --brokers 127.0.0.1:1 --topic a -f j/wpt.lw -X partition.assignment.strategy=cooperative-sticky
expect_rc validate_kafka_coop_run 2
expect_file validate_kafka_coop_run err
run --from kafka --brokers 127.0.0.1:1 --topic a -f j/wpt.lw -X partition.assignment.strategy=cooperative-sticky \
    -X consumer.partition.assignment.strategy=range --validate
expect_rc validate_kafka_coop_last 0
run --from kafka --brokers 127.0.0.1:1 --topic a -f j/wpt.lw -X producer.partition.assignment.strategy=cooperative-sticky --validate
expect_rc validate_kafka_coop_producer 0

# ---- --print-config
printf '%s\n' '# a job' 'template: t.lw' 'input: json' 'source:' '  files: [in.log, "-"]' \
    'dead_letter:' '  file: "dead $$.jsonl"' 'limits:' '  max_steps: 500' >j/p.yaml
run -c j/p.yaml --print-config -o text --regex-budget 1000 --tz +02:00
expect_rc print_config 0
want '# logwash --print-config: the effective job (job file, then command line; defaults shown)' \
    "template: $tmp/j/t.lw" 'patterns: []' 'lib: []' 'tables: {}' 'input: json' 'output: text' 'on_error: warn' \
    'tz: "+02:00"' '# now: the clock at start' 'unbuffered: false' 'no_jit: false' \
    '# workers: one per CPU (at most 8), 1 for a terminal' 'source:' '  type: files' \
    "  files: [$tmp/j/in.log, \"-\"]" 'sink:' '  type: stdout' 'dead_letter:' \
    "  file: \"$tmp/j/dead \$\$.jsonl\"" 'limits:' '  max_line: 1048576' '  max_steps: 500' \
    '  regex_match_limit: 10000000' '  regex_depth_limit: 10000' '  regex_budget: 1000' \
    '  max_output: 16777216' '  max_memory: 67108864' '  max_state: 268435456' 'multiline:' '  indent: false' \
    '  max_lines: 1000' '  max_bytes: 1048576' '  timeout: 1000' 'kafka:' \
    '  flush_timeout_ms: 30000' '  stats_interval: 60' '  partition_idle: 30'
expect_file print_config out
expect_empty print_config err
# read back from another directory, it prints the same
mkdir -p elsewhere
cp out elsewhere/eff.yaml
run -c elsewhere/eff.yaml --print-config
cp elsewhere/eff.yaml want
expect_file print_config_roundtrip out
# secrets: any property whose name holds password, secret, key, token or oauthbearer.config
printf '%s\n' 'template: t.lw' 'source: {type: kafka, brokers: "b:1,c:2", topics: [a, b], group: g}' \
    'kafka:' '  properties:' '    sasl.username: me' '    sasl.password: hunter2' \
    '    sasl.oauthbearer.client.secret: s3cret' '  consumer:' '    ssl.key.password: kp' \
    '    ssl.keystore.password: ksp' '    sasl.oauthbearer.config: "principal=adm extension_x=ox"' \
    '  producer:' '    linger.ms: 5' >j/sec.yaml
run -c j/sec.yaml --print-config -X sasl.oauthbearer.token.endpoint.url=https://x -X linger.ms=7
expect_rc print_config_secrets 0
if grep -q 'hunter2\|s3cret\|kp$\|ksp\|ox' out; then bad "print_config_secrets: a secret shown: $(cat out)"; else ok; fi
want 'kafka:' '  brokers: "b:1,c:2"' '  flush_timeout_ms: 30000' '  stats_interval: 60' '  partition_idle: 30' \
    '  properties:' '    sasl.username: me' '    sasl.password: "***"' \
    '    sasl.oauthbearer.client.secret: "***"' '    sasl.oauthbearer.token.endpoint.url: "***"' \
    '    linger.ms: 7' '  consumer:' '    ssl.key.password: "***"' \
    '    ssl.keystore.password: "***"' '    sasl.oauthbearer.config: "***"' '  producer:' \
    '    linger.ms: 5'
sed -n '/^kafka:/,$p' out >got
expect_file print_config_kafka got
if grep -qx '  topics: \[a, b\]' out && grep -qx '  group: g' out; then ok; else bad "print_config_source: $(cat out)"; fi
cp out elsewhere/k.yaml
run -c elsewhere/k.yaml --print-config
cp elsewhere/k.yaml want
expect_file print_config_kafka_roundtrip out
# with --validate it prints only what validates
run --validate --print-config -c j/bad.yaml
expect_rc print_config_validate 2
expect_empty print_config_validate out
run --validate --print-config -c j/ok.yaml
expect_rc print_config_validate_ok 0
if grep -qx 'template: .*/j/t.lw' out; then ok; else bad "print_config_validate_ok: $(cat out)"; fi
# template_text: shown exactly, its ${} untouched
run -c j/tt.yaml --print-config
if grep -qxF 'template_text: "emit \"<${line}>\""' out; then ok; else bad "print_config_text: $(grep template out)"; fi

# ---- files: "-" is standard input from any directory
mkdir -p j/sub
printf '%s\n' 'template: ../t.lw' 'source:' '  files: ["-"]' >j/sub/stdin.yaml
printf 'z\n' >in
run -c j/sub/stdin.yaml
want '{"l":"z"}'
expect_file files_dash_stdin out

# ---- tables: files beside the job file, options, errors at their position, the command line
mkdir -p j/tab
printf 'id,name\n1,one\n' >j/tab/c.csv
printf 'net,cc\n10.0.0.0/8,X\n' >j/tab/g.csv
printf 'emit {c: lookup("c", .id), g: lookup_ip("g", .ip)}\n' >j/tab/t.lw
printf '%s\n' 'template: t.lw' 'input: json' 'tables:' '  c: c.csv' \
    '  g: {file: g.csv, ip: true, key: net, format: csv}' >j/tab/job.yaml
printf '{"id":1,"ip":"10.9.9.9"}\n' >in
run -c j/tab/job.yaml
want '{"c":{"id":"1","name":"one"},"g":{"net":"10.0.0.0/8","cc":"X"}}'
expect_file tables_job out
run -c j/tab/job.yaml --print-config
cp out j/tab/eff.yaml
run -c j/tab/eff.yaml --print-config
cp j/tab/eff.yaml want
expect_file tables_print_config_roundtrip out
run -c j/tab/eff.yaml
want '{"c":{"id":"1","name":"one"},"g":{"net":"10.0.0.0/8","cc":"X"}}'
expect_file tables_print_config_runs out
# the command line's --table replaces the job file's table of that name
printf 'id,name\n1,uno\n' >j/tab/c2.csv
run -c j/tab/job.yaml --table c=j/tab/c2.csv
want '{"c":{"id":"1","name":"uno"},"g":{"net":"10.0.0.0/8","cc":"X"}}'
expect_file tables_cli_overrides out
run -c j/tab/job.yaml --table c=j/tab/c2.csv --table c=j/tab/c.csv
expect_err tables_cli_twice 2 "logwash: --table c: a table of that name is given already"
printf '%s\n' 'template: t.lw' 'tables:' '  c: c.csv' '  g: {file: nope.csv, ip: true}' >j/tab/bad.yaml
run --validate -c j/tab/bad.yaml
expect_err tables_validate_missing 2 "logwash: j/tab/bad.yaml:4:13: error: table 'g': cannot read j/tab/nope.csv: No such file or directory"
printf '%s\n' 'template: t.lw' 'tables:' '  c: {file: c.csv, ip: yes}' >j/tab/bad2.yaml
run -c j/tab/bad2.yaml
expect_err tables_bad_bool 2 "logwash: j/tab/bad2.yaml:3:24: error: 'ip' needs true or false, found 'yes'"
printf '%s\n' 'template: t.lw' 'tables:' '  c: {ip: true}' >j/tab/bad3.yaml
run -c j/tab/bad3.yaml
expect_err tables_no_file 2 "logwash: j/tab/bad3.yaml:3:3: error: table 'c' needs its file: file: PATH"
printf '%s\n' 'template: t.lw' 'tables:' '  c: {file: c.csv, sep: ";"}' >j/tab/bad4.yaml
run -c j/tab/bad4.yaml
expect_err tables_unknown_key 2 "logwash: j/tab/bad4.yaml:3:20: error: unknown key 'sep' in table 'c' (expected file, ip, key, format, last_wins)"
printf '%s\n' 'template: t.lw' 'tables: [c.csv]' >j/tab/bad5.yaml
run -c j/tab/bad5.yaml
expect_err tables_not_mapping 2 "logwash: j/tab/bad5.yaml:2:1: error: 'tables' needs a mapping of NAME: FILE or NAME: {file: FILE, ...}"
printf '%s\n' 'template: t.lw' 'tables:' '  c: c.csv' 'limits: {max_state: 10}' >j/tab/small.yaml
run --validate -c j/tab/small.yaml
expect_err tables_max_state 2 "logwash: j/tab/small.yaml:3:6: error: table 'c': j/tab/c.csv: 14 bytes, more than the table's bound of 10 bytes (--max-state)"

summary

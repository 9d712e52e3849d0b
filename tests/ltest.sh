#!/bin/sh
# `logwash test` itself (logwash-test(1)): passing and failing cases and their diff, every kind
# of expectation, malformed test files (YAML syntax and schema errors at file:line:col), the
# TAP and JUnit reports, --update (fills new cases, never a failing one), exit statuses.
# Usage: tests/ltest.sh BIN
set -u
suite=ltest
. "$(dirname "$0")/harness.sh"

cat >t.lw <<'LW'
if line == "" { drop }
if starts_with(line, "x") { reject "starts with x" }
if !match(line, /^(?<a>\w+) (?<n>\d+)$/) { reject "not a line" }
let k = int(n)
emit {word: a, n: k, src: meta.source, at: meta.line, t: format_time(now(), "rfc3339")}
if k == 7 { print "seven" }
if k == 0 { emit 1 / k }
LW
cat >t.test.yaml <<'YAML'
# every kind of expectation, passing
options:
  now: 2024-03-10T12:00:00Z
cases:
  - name: exact
    input: "abc 12"
    expect:
      - {word: abc, n: 12, src: "-", at: 1, t: "2024-03-10T12:00:00Z"}
  - name: several records, a subset of members, printed lines
    inputs: ["abc 12", "def 7"]
    expect_subset:
      - {n: 12}
      - {word: def, at: 2}
    printed: [seven]
  - name: options and meta of a case
    input: "abc 1"
    options: {now: "0", tz: "+02:00"}
    meta: {source: app.log, line: 41}
    expect_subset:
      - {src: app.log, at: 41, t: "1970-01-01T00:00:00Z"}
  - name: rejected, any message
    input: xyz
    rejected: true
  - name: rejected with a substring
    inputs: ["xyz", "?"]
    rejected: "t"
  - name: failed
    input: "a 0"
    failed: division by zero
  - name: dropped
    input: ""
    dropped: true
  - name: records from a file
    input_file: recs.txt
    expect_subset: [{n: 1}, {n: 2}]
YAML
printf 'a 1\r\nb 2\n' >recs.txt

# passing: one line per file and the summary
run test t.test.yaml
expect_rc pass 0
want "ok   t.test.yaml: 8 cases" "logwash test: 1 file, 8 cases: 8 passed, 0 failed"
expect_file pass out
expect_empty pass err
# the template's path finds its test file; -v names every case
run test -v t.lw
expect_rc pass_lw 0
if grep -q '^  ok t.test.yaml:21: rejected, any message$' out; then ok; else bad "pass_verbose: $(cat out)"; fi

# failing: the diff, member by member, at the expected value's line:col
cat >f.test.yaml <<'YAML'
template: t.lw
options:
  now: 2024-03-10T12:00:00Z
cases:
  - name: members
    input: "abc 12"
    expect:
      - {word: abd, n: "12", extra: 1, src: "-", at: 1, t: "2024-03-10T12:00:00Z"}
  - name: order
    input: "abc 12"
    expect:
      - {n: 12, word: abc, src: "-", at: 1, t: "2024-03-10T12:00:00Z"}
  - name: count
    input: "abc 12"
    expect: []
  - name: outcome
    input: "abc"
    expect_subset: [{word: abc}]
  - name: reason
    input: "xyz"
    rejected: not a line
  - name: printed
    input: "q 7"
    printed: [eight]
  - name: passes
    input: ""
    dropped: true
YAML
run test f.test.yaml
expect_rc fail 1
cat >want <<'EOF'
FAIL f.test.yaml:5:5: members
    input: "abc 12"
    f.test.yaml:8:16: output 1 .word: expected "abd", got "abc"
    f.test.yaml:8:25: output 1 .n: expected "12" (string), got 12 (integer)
    f.test.yaml:8:37: output 1 .extra: missing (expected 1)
      got output 1: {"word":"abc","n":12,"src":"-","at":1,"t":"2024-03-10T12:00:00Z"}
FAIL f.test.yaml:9:5: order
    input: "abc 12"
    f.test.yaml:12:10: output 1 .: the same members in another order: got word, n, src, at, t
      got output 1: {"word":"abc","n":12,"src":"-","at":1,"t":"2024-03-10T12:00:00Z"}
FAIL f.test.yaml:13:5: count
    input: "abc 12"
    f.test.yaml:15:5: outputs: expected 0, got 1
    output 1: unexpected: {"word":"abc","n":12,"src":"-","at":1,"t":"2024-03-10T12:00:00Z"}
FAIL f.test.yaml:16:5: outcome
    input: "abc"
    the record: expected ok, got rejected: not a line (t.lw:3:44)
    f.test.yaml:18:22: outputs: expected 1, got 0
    f.test.yaml:18:22: output 1: missing: {"word":"abc"}
FAIL f.test.yaml:19:5: reason
    input: "xyz"
    f.test.yaml:21:15: the record: rejected with "starts with x" (t.lw:2:29), which does not contain "not a line"
FAIL f.test.yaml:22:5: printed
    input: "q 7"
    f.test.yaml:24:15: line 1 .: expected "eight", got "seven"
logwash test: 1 file, 7 cases: 1 passed, 6 failed
EOF
expect_file fail_diff out

# TAP: the plan, a point per case, the diff as comments
run test --tap f.test.yaml
expect_rc tap 1
if [ "$(sed -n 1,2p out)" = "TAP version 13
1..7" ] && grep -q '^not ok 2 - f.test.yaml:9: order$' out && grep -q '^ok 7 - f.test.yaml:25: passes$' out &&
    grep -q '^#     f.test.yaml:21:15: the record: rejected with' out; then ok; else bad "tap: $(cat out)"; fi

# JUnit XML: well-formed, the counts, a failure's message and text
run test --junit=j.xml t.test.yaml f.test.yaml bad-yaml.test.yaml
printf 'cases:\n  - name: x\n    input: [a, b\n' >bad-yaml.test.yaml
run test --junit j.xml t.test.yaml f.test.yaml bad-yaml.test.yaml
expect_rc junit 2
if command -v python3 >/dev/null; then
    if python3 - <<'PY' >pyout 2>&1; then ok; else bad "junit: $(cat pyout)"; fi
import xml.etree.ElementTree as E
r = E.parse("j.xml").getroot()
assert r.tag == "testsuites" and r.get("tests") == "16", r.attrib
assert (r.get("failures"), r.get("errors")) == ("6", "1"), r.attrib
s = r.findall("testsuite")
assert [x.get("name") for x in s] == ["t.test.yaml", "f.test.yaml", "bad-yaml.test.yaml"]
f = s[1].find("testcase[@name='order']/failure")
assert f.get("message").startswith("f.test.yaml:12:10: output 1 .: the same members in another order"), f.attrib
assert f.text.startswith('    input: "abc 12"') and "another order" in f.text, f.text
assert s[1].find("testcase[@name='order']").get("line") == "9"
e = s[2].find("testcase/error")
assert "bad-yaml.test.yaml:4:1: error: flow sequence without a closing bracket" in e.text, e.text
PY
else
    skip "junit XML check: no python3"
fi

# hostile strings in names, records and messages: every report stays what it is. The text
# report and TAP show control characters and bytes that are not UTF-8 as \xHH (no raw ESC on
# a terminal, no line of TAP made by a name), a '#' in a TAP description is \# and a
# backslash \\ (a name "x # TODO" or "x \# TODO" does not excuse its failure); the JUnit XML
# stays well-formed (U+FFFE, U+FFFF, C0 controls, bytes that are not UTF-8, ']]>', quotes and newlines in attributes)
printf 'reject "bad: " + line\n' >h.lw
printf 'ab\377\376\001]]>\357\277\276\302\205\n' >hostile.txt
cat >h.test.yaml <<'YAML'
cases:
  - name: "esc\e bell\a nul\0 \uFFFE\uFFFF ]]> <&\"q\"> x # TODO later"
    input_file: hostile.txt
    rejected: "zzz"
  - name: "y\nok 7 - fake\r"
    input: "]]> \x01 \u2028"
    expect: ["no"]
  - name: "ends in a backslash \\# TODO"
    input: "z"
    expect: ["no"]
YAML
run test --tap --junit=h.xml h.test.yaml
expect_rc hostile 1
cat >want <<'EOF2'
TAP version 13
1..3
not ok 1 - h.test.yaml:2: esc\\x1b bell\\x07 nul\\x00 \\ufffe\\uffff ]]> <&"q"> x \# TODO later
#     input: "ab\xff\xfe\u0001]]>\ufffe\u0085"
#     h.test.yaml:4:16: the record: rejected with "bad: ab\xff\xfe\x01]]>\ufffe\u0085" (h.lw:1:1), which does not contain "zzz"
not ok 2 - h.test.yaml:5: y\\nok 7 - fake\\x0d
#     input: "]]> \u0001 \u2028"
#     the record: expected ok, got rejected: bad: ]]> \x01 \u2028 (h.lw:1:1)
#     h.test.yaml:7:15: outputs: expected 1, got 0
#     h.test.yaml:7:15: output 1: missing: "no"
not ok 3 - h.test.yaml:8: ends in a backslash \\\# TODO
#     input: "z"
#     the record: expected ok, got rejected: bad: z (h.lw:1:1)
#     h.test.yaml:10:15: outputs: expected 1, got 0
#     h.test.yaml:10:15: output 1: missing: "no"
EOF2
expect_file hostile_tap out
# as a TAP consumer reads it: two failures, no TODO, no parse error
if perl -MTAP::Parser -e 1 2>/dev/null; then
    cp out hostile.tap
    perl -MTAP::Parser -e 'my $p = TAP::Parser->new({ source => "hostile.tap" }); 1 while $p->next;
        printf "%d %d %d %d\n", scalar($p->passed), scalar($p->failed), scalar($p->todo), scalar($p->parse_errors)' >pyout 2>&1
    if [ "$(cat pyout)" = "0 3 0 0" ]; then ok; else bad "hostile_tap_parser: $(cat pyout)"; fi
else
    skip "TAP::Parser check: no perl TAP::Parser"
fi
run test -q h.test.yaml
if grep -q '^FAIL h.test.yaml:2:5: esc\\x1b bell' out && ! grep -q "$(printf '\033')" out &&
    grep -q '^FAIL h.test.yaml:5:5: y\\nok 7 - fake\\x0d$' out; then ok; else bad "hostile_text: $(cat -v out)"; fi
if command -v python3 >/dev/null; then
    if python3 - <<'PY' >pyout 2>&1; then ok; else bad "hostile_junit: $(cat pyout)"; fi
import xml.etree.ElementTree as E
r = E.parse("h.xml").getroot()
c = r.findall("testsuite/testcase")
assert c[0].get("name") == 'esc\\x1b bell\\x07 nul\\x00 \\ufffe\\uffff ]]> <&"q"> x # TODO later', c[0].get("name")
assert c[1].get("name") == "y\\nok 7 - fake\\x0d", c[1].get("name")
m = c[0].find("failure").get("message")
assert m.startswith('h.test.yaml:4:16: the record: rejected with "bad: ab\\xff\\xfe\\x01]]>'), m
assert "\n" in c[1].find("failure").text
PY
else
    skip "hostile junit XML check: no python3"
fi
if command -v xmllint >/dev/null; then
    if xmllint --noout h.xml 2>pyout; then ok; else bad "hostile_xmllint: $(cat pyout)"; fi
fi

# malformed files: exit 2, the error at file:line:col, the other files still run
malformed() { # NAME MESSAGE: ./m.test.yaml written by the caller
    run test m.test.yaml
    expect_rc "$1" 2
    want "logwash: $2"
    expect_file "$1" err
}
printf 'cases:\n  - name: x\n    input: [a, b\n' >m.test.yaml
malformed yaml_syntax "m.test.yaml:4:1: error: flow sequence without a closing bracket"
printf 'cases:\n  - name: x\n    inptu: a\n' >m.test.yaml
malformed unknown_case_key "m.test.yaml:3:5: error: unknown key 'inptu' in a case (expected name, input, inputs, input_file, options, meta, expect, expect_subset, printed, dropped, rejected, failed, undecodable)"
printf 'template: t.lw\ncase:\n  - input: a\n' >m.test.yaml
malformed unknown_top_key "m.test.yaml:2:1: error: unknown key 'case' in a test file (expected template, options, patterns, lib, cases)"
printf 'template: t.lw\ncases:\n  - name: x\n    input: a\n    expect: {a: 1}\n' >m.test.yaml
malformed expect_not_list "m.test.yaml:5:14: error: 'expect' needs a list (- item per line, or [a, b])"
printf 'template: t.lw\ncases:\n  - name: x\n    expect: []\n' >m.test.yaml
malformed no_input "m.test.yaml:3:5: error: a case needs input, inputs or input_file"
printf 'template: t.lw\ncases:\n  - input: a\n    rejected: x\n    failed: y\n' >m.test.yaml
malformed two_outcomes "m.test.yaml:5:5: error: 'failed': a case has one of dropped, rejected, failed, undecodable"
printf 'template: t.lw\ncases:\n  - input: a\n    rejected: x\n    expect: []\n' >m.test.yaml
malformed outcome_and_outputs "m.test.yaml:3:5: error: a rejected, failed or undecodable record has no outputs to expect"
printf 'template: t.lw\noptions:\n  now: yesterday\ncases: []\n' >m.test.yaml
malformed bad_now "m.test.yaml:3:8: error: 'now' needs an RFC 3339 time or epoch seconds, found 'yesterday'"
printf 'template: t.lw\noptions: {input: xml}\ncases: []\n' >m.test.yaml
malformed bad_input "m.test.yaml:2:18: error: 'input' needs text or json, found 'xml'"
printf 'template: t.lw\ncases:\n  - input: a\n    input_file: nope.txt\n' >m.test.yaml
malformed two_inputs "m.test.yaml:4:5: error: 'input_file': a case has one of input, inputs, input_file"
printf 'template: t.lw\ncases:\n  - input_file: nope.txt\n' >m.test.yaml
malformed no_input_file "m.test.yaml:3:17: error: cannot read nope.txt: No such file or directory"
printf 'template: t.lw\ncases:\n  - input: a\n    printed: [1]\n' >m.test.yaml
malformed printed_not_string "m.test.yaml:4:15: error: 'printed' needs strings: quote this value"
printf 'cases: []\n' >m.yaml
run test m.yaml
expect_rc no_template 2
want "logwash: m.yaml: error: no 'template:' and the file is not named NAME.test.yaml"
expect_file no_template err
printf 'template: t.lw\ncases: []\n\377\n' >m.test.yaml
malformed not_utf8 "m.test.yaml:3: error: not UTF-8 text (a test file is YAML)"
# inline JSON records: a mapping or a list is the JSON text of a record (members in order, the
# scalars as YAML's core schema reads them: .5 and +3 are numbers), in input and inputs; a
# number or true alone is refused (quote it)
printf 'input json\nemit .\n' >js.lw
cat >js.test.yaml <<'YAML'
cases:
  - input: {ts: "2024-01-01 10:00:00", uid: 1, f: 1.5, g: .5, h: +3, n: ~, b: true, a: [1, "x\u2028"], o: {}}
    expect: [{ts: "2024-01-01 10:00:00", uid: 1, f: 1.5, g: 0.5, h: 3, n: null, b: true, a: [1, "x\u2028"], o: {}}]
  - inputs:
      - {a: 1}
      - [1, 2]
      - '{"s": 1}'
    expect: [{a: 1}, [1, 2], {s: 1}]
YAML
run test js.test.yaml
expect_rc inline_json 0
printf 'template: js.lw\ncases:\n  - input: 5\n    expect: []\n' >m.test.yaml
malformed inline_number "m.test.yaml:3:12: error: 'input' needs a record: a string, or a mapping or list for a JSON one (quote a number or true)"
printf 'template: js.lw\ncases:\n  - inputs: [a, null]\n    expect: []\n' >m.test.yaml
malformed inline_null "m.test.yaml:3:17: error: 'inputs' needs a record: a string, or a mapping or list for a JSON one (quote a number or true)"

# hostile test files: bounded, each refused at its place
# an alias bomb (anchors of anchors: 10^9 values once resolved) is refused before resolving
{
    printf 'cases:\n  - name: a\n    input: &a0 "x"\n'
    for i in 1 2 3 4 5 6 7 8 9; do
        printf '  - name: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n    input: "a"\n' \
            $i $((i - 1)) $((i - 1)) $((i - 1)) $((i - 1)) $((i - 1)) $((i - 1)) $((i - 1)) $((i - 1)) $((i - 1)) $((i - 1))
    done
    printf '  - input: "a"\n    expect: *a9\n'
} >m.test.yaml
printf 'template: t.lw\n' >>m.test.yaml
malformed alias_bomb "m.test.yaml:12:29: error: aliases copy more than 100000 values in all (anchors of anchors?)"
printf 'template: t.lw\ncases:\n  - name: &a [1, *a]\n    input: a\n' >m.test.yaml
malformed alias_self "m.test.yaml:3:19: error: nested deeper than 200 through aliases"
printf 'template: t.lw\ncases:\n  - input: a\n    expect: %s%s\n' "$(printf '%070d' 0 | tr 0 '[')" "$(printf '%070d' 0 | tr 0 ']')" >m.test.yaml
malformed deep_nesting "m.test.yaml:4:73: error: Max depth (64) exceeded"
: >m.test.yaml
malformed empty "m.test.yaml: error: empty: a test file needs 'cases'"
printf '# only comments\n\n   # and blank lines\r\n' >m.test.yaml
malformed only_comments "m.test.yaml: error: empty: a test file needs 'cases'"
run test /dev/zero
expect_rc dev_zero 2
want "logwash: /dev/zero: error: longer than 8 MiB: a test file is read whole, with every value kept; put records in bulk in input_file"
expect_file dev_zero err
printf 'template: t.lw\ncases:\n  - input_file: /dev/zero\n' >m.test.yaml
malformed input_dev_zero "m.test.yaml:3:17: error: /dev/zero is longer than 64 MiB: split its records over several cases"
printf 'template: /dev/zero\ncases:\n  - input: a\n' >m.test.yaml
run test -q m.test.yaml
expect_rc template_dev_zero 1
if grep -q '^    m.test.yaml:1:11: error: cannot read /dev/zero: longer than 16 MiB (a template)$' out; then ok; else bad "template_dev_zero: $(cat out err)"; fi
# anchors, aliases and merge keys that copy little are fine
cat >anchors.test.yaml <<'YAML'
template: t.lw
options: {now: 2024-03-10T12:00:00Z}
cases:
  - name: anchored
    input: &rec "abc 12"
    expect:
      - &out {word: abc, n: 12, src: "-", at: 1, t: "2024-03-10T12:00:00Z"}
  - name: aliases
    input: *rec
    expect: [*out]
  - name: a merge key
    input: *rec
    expect_subset: [{<<: *out, n: 12}]
YAML
run test anchors.test.yaml
expect_rc anchors 0

# lib: where import looks after the template's directory (as --lib), relative to the test file
mkdir -p shared tpl
printf 'fn twice(x) { return x * 2 }\n' >shared/common.lw
printf 'import "common.lw"\nemit twice(int(line))\n' >tpl/uses.lw
printf 'lib: [../shared]\ncases:\n  - input: "21"\n    expect: [42]\n' >tpl/uses.test.yaml
run test -q tpl/uses.test.yaml
expect_rc lib 0
printf 'cases:\n  - input: "21"\n    expect: [42]\n' >tpl/uses.test.yaml
run test -q tpl/uses.test.yaml
expect_rc lib_missing 1
if grep -q "^    tpl/uses.lw:1:8: error: cannot find 'common.lw' (looked in tpl/)$" out; then ok; else bad "lib_missing: $(cat out)"; fi

# lookup tables in options: the file's, a case's replacing one by name; a table that does not
# load fails the cases that use it, at its line:col
cat >lk.lw <<'LW'
let u = lookup("users", line)
emit {name: u.name ?? "?", net: lookup_ip("nets", "10.1.2.3").name ?? "-"}
LW
printf 'id,name\n1,alice\n' >users.csv
printf 'id,name\n1,bob\n' >users2.csv
printf 'cidr,name\n10.0.0.0/8,lan\n' >nets.csv
cat >lk.test.yaml <<'YAML'
options:
  tables:
    users: users.csv
    nets: {file: nets.csv, ip: true}
cases:
  - name: the file's tables
    input: "1"
    expect: [{name: alice, net: lan}]
  - name: a case's table
    options: {tables: {users: {file: users2.csv, format: csv, key: id}}}
    inputs: ["1", "2"]
    expect: [{name: bob, net: lan}, {name: "?", net: lan}]
  - name: a table that does not load
    options:
      tables: {users: nope.csv}
    input: "1"
    expect: []
YAML
run test lk.test.yaml
expect_rc tables 1
cat >want <<'EOF2'
FAIL lk.test.yaml:13:5: a table that does not load
    input: "1"
    lk.test.yaml:15:16: table 'users': cannot read nope.csv: No such file or directory
logwash test: 1 file, 3 cases: 2 passed, 1 failed
EOF2
expect_file tables out
printf 'template: lk.lw\noptions:\n  tables: [users.csv]\ncases: []\n' >m.test.yaml
malformed tables_not_map "m.test.yaml:3:12: error: 'tables' needs a mapping of NAME: FILE or NAME: {file: FILE, ...}"
printf 'template: lk.lw\noptions:\n  tables: {users: {path: users.csv}}\ncases: []\n' >m.test.yaml
malformed table_bad_key "m.test.yaml:3:20: error: unknown key 'path' in table 'users' (expected file, ip, key, format, last_wins)"
printf 'template: lk.lw\noptions:\n  tables: {users: {ip: true}}\ncases: []\n' >m.test.yaml
malformed table_no_file "m.test.yaml:3:12: error: table 'users' needs its file: file: PATH"

# a bad zone is found when the case runs: the case fails at the zone's line:col
printf 'template: t.lw\noptions: {tz: Mars/Olympus}\ncases:\n  - input: a\n    expect: []\n' >z.test.yaml
run test -q z.test.yaml
expect_rc bad_zone 1
if grep -q "^    z.test.yaml:2:15: unknown time zone 'Mars/Olympus'" out; then ok; else bad "bad_zone: $(cat out)"; fi

# a template that does not compile: its cases fail, with the compile error
printf 'emit (\n' >broken.lw
printf 'cases:\n  - input: a\n    expect: []\n' >broken.test.yaml
run test broken.test.yaml
expect_rc compile_error 1
if grep -q '^FAIL broken.test.yaml: the template does not compile, 1 case not run$' out &&
    grep -q '^    broken.lw:1:7: error: ' out; then ok; else bad "compile_error: $(cat out)"; fi

# every compile error is listed, each with its source line, then their count
printf 'emit (\nemit nosuch(1)\n' >broken2.lw
printf 'template: broken2.lw\ncases:\n  - input: a\n    expect: []\n' >broken2.test.yaml
run test broken2.test.yaml
expect_rc compile_errors 1
if grep -q '^FAIL broken2.test.yaml: the template does not compile, 1 case not run$' out &&
    grep -q '^    broken2.lw:2:1: error: expected an expression' out &&
    grep -q '^        2 | emit nosuch(1)$' out &&
    grep -q "^    broken2.lw:2:6: error: unknown function 'nosuch'" out &&
    grep -q '^    2 errors$' out; then ok; else bad "compile_errors: $(cat out)"; fi

# usage
run test --frobnicate
expect_rc usage 2
want "logwash: test: unknown option '--frobnicate'" "try 'logwash test --help'"
expect_file usage err
run test nothere.test.yaml
expect_rc missing_path 2
want "logwash: test: cannot read nothere.test.yaml: No such file or directory"
expect_file missing_path err
mkdir empty
run test empty
expect_rc no_files 2
# options after the paths too (as logwash(1)'s); -- ends them
run test t.test.yaml -q --coverage
expect_rc options_after_paths 0
if grep -q '^coverage: t.lw: statements' out && ! grep -q '^ok ' out; then ok; else bad "options_after_paths: $(cat out err)"; fi
run test -- --coverage
expect_rc dashdash 2
want "logwash: test: cannot read --coverage: No such file or directory"
expect_file dashdash err
run test --help
expect_rc help 0
if grep -q -- '--junit=FILE' out; then ok; else bad "help: $(cat out)"; fi

# a directory: every NAME.test.yaml in name order; templates without one are named
mkdir dir
cp t.lw t.test.yaml recs.txt dir/
cp t.lw dir/untested.lw
run test dir
expect_rc directory 0
want "ok   dir/t.test.yaml: 8 cases" "logwash test: 1 file, 8 cases: 8 passed, 0 failed"
expect_file directory out
want "logwash: test: dir: no test file for untested.lw"
expect_file directory err

# --update keeps a CRLF file's line ends (the lines it adds end as the file's first one)
printf 'template: t.lw\r\ncases:\r\n  - name: new\r\n    input: ""\r\n  - name: last\r\n    input: "x"' >crlf.test.yaml
run test -q --update crlf.test.yaml
expect_rc update_crlf 0
printf 'template: t.lw\r\ncases:\r\n  - name: new\r\n    input: ""\r\n    dropped: true\r\n    expect: []\r\n  - name: last\r\n    input: "x"\r\n    rejected: "starts with x"\r\n' >want
expect_file update_crlf crlf.test.yaml

# --update: new cases get the current outputs, a failing case is left alone, a case with
# expectations is never rewritten; the file still reads, and passes where it was new
cat >u.test.yaml <<'YAML'
template: t.lw
options:
  now: 2024-03-10T12:00:00Z
cases:
  - name: failing, left alone
    input: "abc 12"
    expect: [{word: nope}]
  - name: new, emits and prints
    input: "q 7"   # a comment stays
  - name: new, rejected
    inputs:
      - "!"
      - "?"
  - name: new, block input
    input: |-
      x
  - name: new, dropped
    input: ""
  - name: new, mixed outcomes
    inputs: ["a 1", "x"]
  - {name: "new, flow style", input: "a 1"}
YAML
cp u.test.yaml u.orig
run test --update u.test.yaml
expect_rc update 1
cat >want <<'EOF'
--- u.orig
+++ u.test.yaml
@@ -7,15 +7,23 @@
     expect: [{word: nope}]
   - name: new, emits and prints
     input: "q 7"   # a comment stays
+    expect:
+      - {"word":"q","n":7,"src":"-","at":1,"t":"2024-03-10T12:00:00Z"}
+    printed:
+      - "seven"
   - name: new, rejected
     inputs:
       - "!"
       - "?"
+    rejected: "not a line"
   - name: new, block input
     input: |-
       x
+    rejected: "starts with x"
   - name: new, dropped
     input: ""
+    dropped: true
+    expect: []
   - name: new, mixed outcomes
     inputs: ["a 1", "x"]
   - {name: "new, flow style", input: "a 1"}
EOF
diff -u u.orig u.test.yaml | sed '1,2s/\t.*//' >got
expect_file update_diff got
if grep -q '^FAIL u.test.yaml:5:5: failing, left alone$' out &&
    grep -q '^    cannot record: record 1 is ok and record 2 rejected; split the case' out &&
    grep -q '^    cannot record: the case is written in flow style' out &&
    grep -q '^  recorded u.test.yaml:14: new, block input$' out &&
    tail -1 out | grep -q '^logwash test: 1 file, 7 cases: 0 passed, 3 failed, 4 recorded$'; then ok; else
    bad "update_report: $(cat out)"; fi
run test u.test.yaml
expect_rc update_rerun 1
if tail -1 out | grep -q '4 passed, 3 failed$'; then ok; else bad "update_rerun: $(tail -1 out)"; fi
# nothing new: the file is not rewritten
cp u.test.yaml u2
run test --update u.test.yaml
if cmp -s u2 u.test.yaml; then ok; else bad "update_idempotent: $(diff u2 u.test.yaml)"; fi
# without --update a case without expectations fails, saying how to record it
printf 'template: t.lw\ncases:\n  - name: new\n    input: "a 1"\n' >n.test.yaml
run test n.test.yaml
expect_rc no_expectation 1
if grep -q '^    no expectation: run `logwash test --update n.test.yaml` to record what it gives now$' out; then
    ok; else bad "no_expectation: $(cat out)"; fi

# JSON input and the outputs' types: 1 is not 1.0, text output compares strings
printf 'input json\nif .bad != null { emit .bad + 1 }\nemit {a: .a, f: 2.0, big: 1e20}\n' >j.lw
cat >j.test.yaml <<'YAML'
cases:
  - input: '{"a": [1, "x", null, true]}'
    expect:
      - {a: [1, "x", ~, true], f: 2.0, big: 1.0e+20}
  - input: '{"a": 1}'
    expect:
      - {a: 1.0, f: 2, big: 1e20}
  - input: '{"a"'
    undecodable: true
  - input: '{"bad": "s"}'
    failed: "cannot add"
  - name: text output
    input: '{"a": "x"}'
    options: {output: text}
    expect: ["a=x f=2.0 big=1e+20"]
YAML
run test -q j.test.yaml
expect_rc json 1
cat >want <<'EOF'
FAIL j.test.yaml:5:5: case 2
    input: "{\"a\": 1}"
    j.test.yaml:7:13: output 1 .a: expected 1.0 (float), got 1 (integer)
    j.test.yaml:7:21: output 1 .f: expected 2 (integer), got 2.0 (float)
      got output 1: {"a":1,"f":2.0,"big":1e+20}
logwash test: 1 file, 5 cases: 4 passed, 1 failed
EOF
expect_file json out


# --coverage: a template with a branch no case takes, its exact summary and listing; a
# function counted in the imported file that defines it; --coverage-min fails below it;
# --coverage-dir writes the listing; TAP keeps the lines as comments
mkdir -p cov
cat >cov/lib.lw <<'LW'
fn sev(n) {
    if n >= 500 {
        return "error"
    }
    return n >= 400 ? "warn" : "info"
}
LW
cat >cov/c.lw <<'LW'
input json
import "lib.lw"
let s = .status ?? 0
if s == 0 {
    reject "no status"
} else if s > 999 {
    drop
}
emit {status: s, level: sev(s), who: .user ?? "-"}
LW
cat >cov/c.test.yaml <<'YAML'
cases:
  - name: ok
    input: '{"status": 200, "user": "bob"}'
    expect: [{status: 200, level: info, who: bob}]
  - name: server error, no user
    input: '{"status": 503}'
    expect: [{status: 503, level: error, who: "-"}]
  - name: no status
    input: '{}'
    rejected: no status
YAML
run test --coverage-show cov/c.lw
expect_rc coverage 0
cat >want <<'WANT'
ok   cov/c.test.yaml: 3 cases
coverage: cov/c.lw: statements 4/5 (80.0%), branches 7/8 (87.5%)
coverage:   cov/lib.lw (imported): statements 3/3 (100.0%), branches 3/4 (75.0%)
        -:    0:Source:cov/c.lw
        -:    1:input json
        -:    2:import "lib.lw"
        3:    3:let s = .status ?? 0
                branch ?? at 3:9: value 2, default 1
        3:    4:if s == 0 {
                branch if at 4:4: then 1, else 2
        1:    5:    reject "no status"
        -:    6:} else if s > 999 {
                branch if at 6:11: then #####, else 2
    #####:    7:    drop
        -:    8:}
        2:    9:emit {status: s, level: sev(s), who: .user ?? "-"}
                branch ?? at 9:38: value 1, default 1
        -:    0:Source:cov/lib.lw
        -:    1:fn sev(n) {
        2:    2:    if n >= 500 {
                branch if at 2:8: then 1, else 1
        1:    3:        return "error"
        -:    4:    }
        1:    5:    return n >= 400 ? "warn" : "info"
                branch ?: at 5:12: then #####, else 1
        -:    6:}
logwash test: 1 file, 3 cases: 3 passed, 0 failed
WANT
expect_file coverage out
expect_empty coverage err
# && and || are branches at their operator (the left side true or false), and so is the if of a
# comprehension (an element kept or left out); a, b, c make `a || b || c` two branches
cat >cov/l.lw <<'LW'
let a = line == "a" && len(line) > 0
let b = line == "b" or line == "c" || line == "d"
let xs = [x for x in [1, 2, 3] if x > 1 && line == "a"]
emit {a: a, b: b, n: len(xs)}
LW
printf 'cases:\n  - inputs: [a, b]\n    expect: [{a: true, b: false, n: 2}, {a: false, b: true, n: 0}]\n' >cov/l.test.yaml
run test -q --coverage-show cov/l.lw
expect_rc coverage_logic 1
cat >want <<'WANT'
FAIL cov/l.test.yaml: the template does not compile, 1 case not run
    cov/l.lw:2:21: error: unexpected 'or': write '||'
        2 | let b = line == "b" or line == "c" || line == "d"
          |                     ^~
logwash test: 1 file, 0 cases: 0 passed, 1 failed
WANT
expect_file coverage_logic out
sed -i 's/ or / || /' cov/l.lw
run test -q --coverage-show cov/l.lw
expect_rc coverage_logic 0
cat >want <<'WANT'
coverage: cov/l.lw: statements 4/4 (100.0%), branches 10/10 (100.0%)
        -:    0:Source:cov/l.lw
        2:    1:let a = line == "a" && len(line) > 0
                branch && at 1:21: true 1, false 1
        2:    2:let b = line == "b" || line == "c" || line == "d"
                branch || at 2:21: true 1, false 1
                branch || at 2:36: true 1, false 1
        2:    3:let xs = [x for x in [1, 2, 3] if x > 1 && line == "a"]
                branch && at 3:41: true 4, false 2
                branch for-if at 3:35: kept 2, left out 4
        2:    4:emit {a: a, b: b, n: len(xs)}
logwash test: 1 file, 1 case: 1 passed, 0 failed
WANT
expect_file coverage_logic_listing out
# a template not compiled for coverage has the code it had: no COV, no added jump
run --disasm -e 'emit [x for x in [1] if x > 0 && line != ""] || false'
if grep -q 'COV' out || [ "$(grep -c ' JMP ' out)" != 1 ]; then bad "coverage_logic_plain: $(cat out)"; else ok; fi

# --coverage-min: below it, exit 1 naming the files; the cases still pass
run test -q --coverage-min=100 cov/c.lw
expect_rc coverage_min 1
want "coverage: cov/c.lw: statements 4/5 (80.0%), branches 7/8 (87.5%)" \
    "coverage:   cov/lib.lw (imported): statements 3/3 (100.0%), branches 3/4 (75.0%)" \
    "coverage: below 100% (--coverage-min): cov/c.lw, cov/lib.lw" \
    "logwash test: 1 file, 3 cases: 3 passed, 0 failed"
expect_file coverage_min out
run test -q --coverage-min=75 cov/c.lw
expect_rc coverage_min_met 0
run test --coverage-min=101 cov/c.lw
expect_rc coverage_min_usage 2
want "logwash: test: --coverage-min wants a percentage from 0 to 100, not '101'" \
    "try 'logwash test --help'"
expect_file coverage_min_usage err
# --coverage-dir: the listing of the template and its imports in DIR/PATH.cov
mkdir covout
run test -q --coverage-dir=covout cov/c.lw
expect_rc coverage_dir 0
if [ -f 'covout/cov#c.lw.cov' ] && grep -q '^    #####:    7:    drop$' 'covout/cov#c.lw.cov' &&
    grep -q '^        -:    0:Source:cov/lib.lw$' 'covout/cov#c.lw.cov'; then
    ok
else
    bad "coverage_dir: $(ls covout)"
fi
run test -q --coverage-dir=no/such cov/c.lw
expect_rc coverage_dir_unwritable 2
if grep -q "^logwash: test: cannot write no/such/cov#c.lw.cov: " err; then ok; else bad "coverage_dir_unwritable: $(cat err)"; fi
# TAP: the coverage lines are comments after the points
run test --tap --coverage cov/c.lw
expect_rc coverage_tap 0
if tail -2 out | grep -q '^# coverage: cov/c.lw: statements 4/5' &&
    [ "$(grep -c '^ok ' out)" = 3 ]; then ok; else bad "coverage_tap: $(cat out)"; fi
# every outcome of ?? and ?: taken: full coverage passes --coverage-min=100
printf 'input json\nemit {a: .a ?? 1, b: .b == 5 ? "big" : "small"}\n' >cov/full.lw
cat >cov/full.test.yaml <<'YAML'
cases:
  - input: '{"a": 2, "b": 5}'
    expect: [{a: 2, b: big}]
  - input: '{}'
    expect: [{a: 1, b: small}]
YAML
run test -q --coverage-min=100 cov/full.lw
expect_rc coverage_full 0
want "coverage: cov/full.lw: statements 1/1 (100.0%), branches 4/4 (100.0%)" \
    "logwash test: 1 file, 2 cases: 2 passed, 0 failed"
expect_file coverage_full out
# a ?? whose left side fails (not only null) takes the default
printf 'input json\nemit {n: int(.n) ?? -1}\n' >cov/err.lw
printf 'cases:\n  - input: %s\n    expect: [{n: -1}]\n' "'{\"n\": \"x\"}'" >cov/err.test.yaml
run test -q --coverage-show cov/err.lw
expect_rc coverage_error_default 0
if grep -q '^                branch ?? at 2:10: value #####, default 1$' out; then ok; else bad "coverage_error_default: $(cat out)"; fi

# "# nocover: WHY" on a line: its outcomes never taken count neither way; those taken count
printf 'input json\nemit {a: .a == null ? 0 : .a, b: .b == null ? 0 : 1} # nocover: b is always set\n' >cov/nc.lw
printf 'cases:\n  - input: %s\n    expect: [{a: 1, b: 1}]\n' "'{\"a\": 1, \"b\": 2}'" >cov/nc.test.yaml
run test -q --coverage-show --coverage-min=100 cov/nc.lw
expect_rc nocover 0
cat >want <<'WANT'
coverage: cov/nc.lw: statements 1/1 (100.0%), branches 2/2 (100.0%), 2 not coverable (# nocover)
        -:    0:Source:cov/nc.lw
        -:    1:input json
        1:    2:emit {a: .a == null ? 0 : .a, b: .b == null ? 0 : 1} # nocover: b is always set
                branch ?: at 2:10: then ##### (nocover), else 1
                branch ?: at 2:34: then ##### (nocover), else 1
logwash test: 1 file, 1 case: 1 passed, 0 failed
WANT
expect_file nocover out

# a template with more coverage points than a program can count: one error, where they end
{ echo 'let x = 1'; i=0; while [ $i -lt 16400 ]; do echo 'x = x ; x = x ; x = x ; x = x'; i=$((i + 1)); done; echo 'emit {x: x}'; } >cov/big.lw
printf 'cases:\n  - input: "a"\n    expect: [{x: 1}]\n' >cov/big.test.yaml
run test -q cov/big.lw
expect_rc coverage_big_plain 0
run test -q --coverage cov/big.lw
expect_rc coverage_big 1
if grep -q '^    cov/big.lw:16385:17: error: template too large for coverage (65535 statements and branch outcomes at most)$' out &&
    [ "$(grep -c 'error:' out)" = 1 ]; then ok; else bad "coverage_big: $(head -5 out)"; fi

# seen() and windows: a state per case, applied after each record as logwash(1) does: window
# results are emitted values (after the record that closes them, the rest at the case's end),
# and a rejected record's seen() key is not kept (they were lost, and kept)
printf 'input json\nwindow count 2 timeout 1h key .k {\n    n = count()\n}\ndrop\n' >st.lw
cat >st.test.yaml <<'YAML'
options:
  now: "2026-01-01T00:00:00Z"
cases:
  - name: windows
    inputs: [{k: 1}, {k: 2}, {k: 1}]
    dropped: true
    expect:
      - {key: 1, window_start: "2026-01-01T00:00:00Z", window_end: "2026-01-01T00:00:00Z", n: 2}
      - {key: 2, window_start: "2026-01-01T00:00:00Z", window_end: "2026-01-01T01:00:00Z", n: 1}
YAML
run test st.test.yaml
expect_rc state_windows 0
printf 'input json\nreject "seen " + str(seen(.id, 10m))\n' >sr.lw
printf 'cases:\n  - inputs: [{id: 1}, {id: 1}]\n    rejected: "seen false"\n' >sr.test.yaml
run test sr.test.yaml
expect_rc state_seen_rejected 0
printf '{"id": 1}\n{"id": 1}\n' | "$bin" -f sr.lw 2>&1 | grep -c 'seen false' >out
want 2
expect_file state_seen_logwash out

summary

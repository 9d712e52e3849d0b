#!/bin/sh
# `logwash repl` (REPL in logwash(1)): scripted sessions on a pipe (values with their types,
# emitted and printed outputs, the session kept by replay, commands, errors with line:col of
# what was typed and the caret, hostile input: huge lines, deep nesting, the step budget), then
# a session through a real pty (python3's pty module): the banner and prompts, line editing
# (history recall with the up arrow, Ctrl-C), multi-line input, the history file.
# Usage: tests/repl.sh BIN
set -u
suite=repl
. "$(dirname "$0")/harness.sh"

# ---- values, statements, functions, records
cat >in <<'EOF'
1 + 2
"abc"
let x = {a: 1, b: [1, 2.5]}
x
x.b[1]
parse_time("2024-03-10T12:00:00Z", "rfc3339")
null
:line GET /index.html 200
line
split(line, " ")
fn code(s) { return int(split(s, " ")[2]) }
code(line)
fn code(s) { return split(s, " ")[2] }
code(line)
emit {code: code(line)}
print "seen " + code(line)
if x.a == 1 {
    emit x
}
:record {"status": 404, "path": "/x"}
.status
.
:record
x
EOF
run repl
expect_rc values 0
want '3 : int' '"abc" : string' '{"a":1,"b":[1,2.5]} : object' '2.5 : float' \
    '"2024-03-10T12:00:00Z" : timestamp' 'null : null' '"GET /index.html 200" : string' \
    '["GET","/index.html","200"] : array' '200 : int' '"200" : string' \
    'emitted: {"code":"200"}' 'printed: seen 200' 'emitted: {"a":1,"b":[1,2.5]}' \
    '404 : int' '{"status":404,"path":"/x"} : object' 'json {"status": 404, "path": "/x"}' \
    '{"a":1,"b":[1,2.5]} : object'
expect_file values out
expect_empty values err

# ---- the example of REPL in logwash(1) and of the README
cat >in <<'EOF'
:record {"status": 404, "path": "/a/b"}
split(.path, "/")
fn top(p) { return split(p, "/")[1] }
emit {top: top(.path), status: .status}
.status * "x"
EOF
run repl
want '["","a","b"] : array' 'emitted: {"top":"a","status":404}'
expect_file man_example out
want 'repl:1:1: error: cannot multiply int by string' '    1 | .status * "x"' '      | ^'
expect_file man_example err

# ---- the session: what is kept, :session, :save (a template logwash runs), :run, :reset
cat >in <<'EOF'
:record {"n": 2}
let k = .n * 10
k + 1
emit {k: k}
drop
:session
:save saved.lw
:run
:reset
k
EOF
run repl
expect_rc session 1
want '21 : int' 'emitted: {"k":20}' 'dropped (not kept in the session)' '# repl[1]' \
    'let k = .n * 10' '# repl[3]' 'emit {k: k}' 'saved 2 inputs to saved.lw' \
    'emitted: {"k":20}'
expect_file session out
want "repl:1:1: error: undefined variable 'k': declare it with 'let k = ...', or write .k for \
the record's field" \
    '    1 | k' '      | ^'
expect_file session err
printf '{"n": 5}\n' | "$bin" -f saved.lw >out 2>err
want '{"k":50}'
expect_file saved_runs out

# ---- seen() and windows: the session keeps no state across records, which is said once per
# session (a window statement gave no results and no word)
cat >in <<'EOF'
:line x
let q = [seen(line, 10m), seen(line, 10m)]
q
window tumbling 1m key line { n = count() }
:reset
seen(1, 1m)
EOF
run repl
expect_rc state 0
want '[false,true] : array' 'false : bool'
expect_file state out
note="logwash: repl: note: seen() and window statements keep state across records, which the \
session has not: seen() remembers only the keys of the same run, and windows give no results \
here (try the template with logwash -f on a file)"
want "$note" "$note"
expect_file state err

# ---- errors: line:col of what was typed (not of the session), the caret, in a function kept
# earlier, a rejected record; the session goes on after each
cat >in <<'EOF'
let a = 1
let b = 2
let y = 1 +
1 * "a"
let s = {
    k: 1,
    v: a * "x"
}
fn g(v) {
    let z = v + 1
    return z * "x"
}
g(1)
reject "no thanks"
zz
a + b
EOF
run repl
expect_rc errors 1
want '3 : int'
expect_file errors out
cat >want <<'EOF'
repl:1:12: error: expected an expression, found the end of the template
    1 | let y = 1 +
      |            ^
repl:1:1: error: cannot multiply int by string
    1 | 1 * "a"
      | ^~~~~~~
repl:3:8: error: cannot multiply int by string
    3 |     v: a * "x"
      |        ^
repl:1:1: error: g() at repl[6]:3:12: cannot multiply int by string
    1 | g(1)
      | ^
repl:1:1: error: rejected: no thanks
    1 | reject "no thanks"
      | ^
repl:1:1: error: undefined variable 'zz': declare it with 'let zz = ...', or write .zz for the record's field
    1 | zz
      | ^~
EOF
expect_file errors err

# ---- :load: a template's functions and lets, its outputs on the current record, its errors
# at its own file:line:col
cat >t.lw <<'EOF'
# a template
fn host(u) { return split(u, "/")[2] }
let site = host(.url)
emit {site: site}
EOF
cat >broken.lw <<'EOF'
let a = 1

emit a +
EOF
cat >in <<'EOF'
:record {"url": "https://example.org/a"}
:load t.lw
site
host("http://h/x")
:load broken.lw
:load missing.lw
:record {"nourl": 1}
EOF
run repl
expect_rc load 1
want 'emitted: {"site":"example.org"}' '"example.org" : string' '"h" : string'
expect_file load out
cat >want <<'EOF'
broken.lw:3:9: error: expected an expression, found the end of the template
    3 | emit a +
      |         ^
logwash: repl: cannot read missing.lw: No such file or directory
EOF
# then the session (t.lw's lines) fails on a record without url: at t.lw's own line:col
head -4 err >err4
expect_file load err4
if sed -n 5p err | grep -q '^t\.lw:[0-9]*:[0-9]*: error: ' && [ "$(wc -l <err)" = 7 ]; then ok; else
    bad "load: the session's error on the new record"
    cat err
fi

# ---- a loaded template that rejects the current record (the empty line a session starts with)
# is kept all the same, saying so; :line then gives it a record; -f @NAME and :load @NAME find a
# shipped template (LOGWASH_TEMPLATES)
mkdir -p shipped
cat >shipped/kv.lw <<'EOF'
# a shipped template
if !match(line, /^(?<k>\w+)=(?<v>\d+)$/) { reject "not k=v" }
emit {key: k, value: int(v)}
EOF
printf 'v\n:line a=1\nv\nint(v) + 1\n:load @nope\n' >in
LOGWASH_TEMPLATES=$PWD/shipped run repl -f @kv
expect_rc load_rejecting 1
want '"1" : string' '2 : int'
expect_file load_rejecting out
if grep -q 'kv.lw:2:44: error: rejected: not k=v$' err &&
    grep -q 'kv.lw is kept in the session, though it did not run to its end on the current record: give one it takes with :line or :record$' err &&
    grep -q "^logwash: repl: no shipped template 'nope' in $PWD/shipped:" err; then ok; else
    bad "load_rejecting: $(cat err)"
fi

# ---- import from the current directory; a device and a directory refused by :load; a record's
# text that looks like a place ("at 10:30") is left as it is
printf 'fn twice(x) { return x * 2 }\n' >lib.lw
printf 'import "lib.lw"\ntwice(4)\n:load /dev/zero\n:load .\nreject "meet at 1:1"\n' >in
run repl
want '8 : int'
expect_file import out
cat >want <<'EOF'
logwash: repl: /dev/zero: longer than 1 MiB
logwash: repl: cannot read .: Is a directory
repl:1:1: error: rejected: meet at 1:1
    1 | reject "meet at 1:1"
      | ^
EOF
expect_file import err

# ---- commands: :help, a bad record kept out, unknown commands, -f, --record, --line
printf ':help\n:record {bad\n:record\n:nope\n:load\n:\n:quit\n1\n' >in
run repl --line 'a b'
expect_rc commands 1
if grep -q '^  :record JSON ' out && grep -qx 'line a b' out && ! grep -q '^1 : int' out; then
    ok
else
    bad "commands: out"
    cat out
fi
want "logwash: repl: the current record is not JSON: invalid JSON at byte 2: expected string \
key, found 'b'" \
    'logwash: repl: the record is unchanged' "logwash: repl: unknown command ':nope': try :help" \
    'logwash: repl: :load needs a file name' "logwash: repl: a command after ':': try :help"
expect_file commands err
printf 'site\n' >in
run repl -f t.lw --record '{"url": "ftp://f.example/x"}'
want 'emitted: {"site":"f.example"}' '"f.example" : string'
expect_file file_option out
expect_rc file_option 0
expect_usage_repl() { # NAME MESSAGE ARGS...
    name=$1
    msg=$2
    shift 2
    run repl "$@"
    expect_rc "$name" 2
    want "logwash: repl: $msg" "try 'logwash repl --help'"
    expect_file "$name" err
}
expect_usage_repl usage_both "give --record or --line, not both" --record 1 --line x
expect_usage_repl usage_steps "--max-steps takes a number of instructions, not 'x'" --max-steps x
expect_usage_repl usage_arg "unexpected argument 'foo'" foo
run repl --help
if [ "$rc" = 0 ] && head -1 out | grep -q '^usage: logwash repl'; then ok; else bad "help"; fi

# ---- hostile input: a line over 1 MiB, brackets that never close, deep nesting, a loop
# past the step budget, recursion; each said, the session goes on
python3 -c 'import sys; sys.stdout.write("x" * (2 << 20) + "\n1 + 1\n")' >in
run repl
want '2 : int'
expect_file huge_line out
want 'logwash: repl: line 1: longer than 1 MiB: skipped'
expect_file huge_line err
python3 -c 'import sys; sys.stdout.write("(" * 100000 + "1" + ")" * 100000 + "\n[[[[\n\n2\n")' >in
run repl
want '2 : int'
expect_file nesting out
if grep -q '^repl:1:201: error: template nested too deeply (200 levels at most)$' err &&
    grep -q '^repl:1:5: error: expected an expression, found the end of the template$' err; then ok; else
    bad "nesting: err"
    head -c 600 err
fi
cat >in <<'EOF'
let n = 0
for c in split(line, ",") { n = n + 1 }
n
fn f(q) { return f(q) }
f(1)
n
EOF
run repl --max-steps 2000 --line "$(python3 -c 'print("," * 5000)')"
want '0 : int' '0 : int'
expect_file budget out
cat >want <<'EOF'
repl:1:37: error: step limit of 2000 instructions exceeded (--max-steps)
    1 | for c in split(line, ",") { n = n + 1 }
      |                                     ^
repl:1:1: error: f() at repl[4]:1:18: function calls nested deeper than 200 (a recursion that does not end?)
    1 | f(1)
      | ^
EOF
expect_file budget err

# ---- through a pty: prompts, values, an error with its caret, a multi-line input, the up
# arrow, Ctrl-C, :quit, the history file
if ! command -v python3 >/dev/null 2>&1; then
    skip "pty session (no python3)"
elif ! ldconfig -p 2>/dev/null | grep -q 'libedit\.so\.2 '; then
    skip "pty session (no libedit.so.2)"
else
    mkdir state
    XDG_STATE_HOME=$tmp/state python3 - "$bin" >pty.log 2>&1 <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], ["logwash", "repl"])
buf = b""
def expect(want, secs=20):
    """read until want (bytes) has come; fail with what came otherwise"""
    global buf
    end = time.time() + secs
    while want not in buf:
        left = end - time.time()
        if left <= 0:
            print("TIMEOUT waiting for %r; got %r" % (want, buf))
            sys.exit(1)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                d = b""
            if not d:
                print("EOF waiting for %r; got %r" % (want, buf))
                sys.exit(1)
            buf += d
    buf = buf[buf.index(want) + len(want):]
def send(s):
    os.write(fd, s)
expect(b"type an expression or a statement, :help for commands, :quit to leave\r\nlw> ")
send(b"1 + 2\r");             expect(b"3 : int\r\nlw> ")
send(b'upper("abc")\r');      expect(b'"ABC" : string\r\nlw> ')
send(b"let m = {\r");         expect(b"... ")
send(b"  a: [1,\r");          expect(b"... ")
send(b"  2]}\r");             expect(b"lw> ")
send(b"m\r");                 expect(b'{"a":[1,2]} : object\r\nlw> ')
send(b'm.a * "x"\r')
expect(b'repl:1:1: error: cannot multiply array by string\r\n    1 | m.a * "x"\r\n      | ^\r\nlw> ')
send(b"\x1b[A\x1b[A\r");      expect(b'{"a":[1,2]} : object\r\nlw> ')  # up twice: m
send(b"emit m\r");            expect(b'emitted: {"a":[1,2]}\r\nlw> ')
send(b"garbage");             expect(b"garbage")   # echoed: libedit is reading again
time.sleep(0.2)
send(b"\x03");                expect(b"lw> ")      # Ctrl-C drops the line
send(b"3 * 3\r");             expect(b"9 : int\r\nlw> ")
send(b":quit\r")
_, st = os.waitpid(pid, 0)
print("exit", os.waitstatus_to_exitcode(st))
PY
    if [ $? = 0 ] && grep -qx 'exit 0' pty.log; then ok; else
        bad "pty session"
        cat pty.log
    fi
    h=$tmp/state/logwash/history
    if [ -f "$h" ] && grep -qx 'let\\040m\\040=\\040{' "$h" && grep -qx 'm' "$h" &&
        ! grep -q garbage "$h" && [ "$(stat -c %a "$h")" = 600 ]; then ok; else
        bad "history file"
        cat "$h"
    fi
fi

summary

#!/bin/bash
# SIGTERM while an output is blocked (logwash(1) SIGNALS): stdout or the dead-letter file on a
# FIFO that nobody reads (held open on fd 3 read-write, never read) must not hold the stop for
# ever: logwash waits --flush-timeout after the signal, says what it did not write, and exits
# 4; the same with -j 2 and with a pipelines: job (the writer is not the thread the signal
# goes to), and with stdout a socket. A reader that comes back within the timeout gets what
# was pending, exit 0; without a signal a slow reader is waited for as long as it takes
# (backpressure), even far past --flush-timeout. Every wait is a poll with a generous bound; nothing asserts a duration.
suite=signals
. "$(dirname "$0")/harness.sh"

printf 'input json\nemit .\n' >emit.lw
printf 'input json\nreject "no"\n' >reject.lw
yes '{"a":1}' | head -n 200000 >big # 1.6 MB of output: far more than a pipe holds

# stalled PID: it wrote a pipe's worth (64 KiB), then nothing for 1 s (/proc/PID/io's wchar):
# blocked on its output, not merely slowed down by a loaded machine
wchar() { sed -n 's/^wchar: //p' "/proc/$1/io" 2>/dev/null; }
stalled() {
    a=$(wchar "$1")
    sleep 1
    [ -n "$a" ] && [ "$a" -ge 65536 ] && [ "$a" = "$(wchar "$1")" ]
}

# blocked NAME stdout|dl ARGS...: logwash reading `yes` with stdout (or, with ARGS naming
# it, the dead-letter file) on the FIFO f nobody reads; once it stopped writing, SIGTERM; it
# must end within 10 s. Sets rc; stderr in ./err.
blocked() {
    name=$1
    shift
    rm -f f out err
    mkfifo f
    exec 3<>f
    if [ "$1" = stdout ]; then
        shift
        yes '{"a":1}' | "$bin" "$@" >f 2>err 3>&- &
    else
        shift
        yes '{"a":1}' | "$bin" "$@" >/dev/null 2>err 3>&- &
    fi
    pid=$!
    # blocked: the FIFO holds a full pipe (64 KiB) and stays so
    wait_for "stalled $pid" 10 ||
        bad "$name: still writing after 10 s"
    kill -TERM "$pid"
    if wait_for "! kill -0 $pid 2>/dev/null" 10; then
        ok
    else
        bad "$name: still running 10 s after SIGTERM"
        kill -KILL "$pid"
    fi
    wait "$pid"
    rc=$?
    exec 3>&-
}

# expect_gave_up NAME WHERE WHAT: exit 4 and the one line saying what was not written
expect_gave_up() {
    expect_rc "$1" 4
    if grep -Eq "^logwash: cannot write $2: not read within the flush timeout \(500 ms\) after the stop request: [1-9][0-9]* bytes \([1-9][0-9]* $3\) not written$" err; then
        ok
    else
        bad "$1: no message saying what was not written"
        cat err
    fi
}

blocked stdout_j1 stdout --flush-timeout 500 -f emit.lw
expect_gave_up stdout_j1 stdout lines
blocked stdout_j2 stdout --flush-timeout 500 -j 2 -f emit.lw
expect_gave_up stdout_j2 stdout lines
blocked deadletter dl --flush-timeout 500 --dead-letter f -f reject.lw
expect_gave_up deadletter f "dead letters"

# a pipelines: job: the pipeline's thread blocks every signal, the main thread takes it
printf 'pipelines:\n  p: {template: emit.lw, source: {files: [big]}, kafka: {flush_timeout_ms: 500}}\n' >job.yaml
rm -f f err
mkfifo f
exec 3<>f
"$bin" -c job.yaml >f 2>err 3>&- &
pid=$!
wait_for "stalled $pid" 10 ||
    bad "pipelines: still writing after 10 s"
kill -TERM "$pid"
if wait_for "! kill -0 $pid 2>/dev/null" 10; then ok; else bad "pipelines: still running 10 s after SIGTERM"; kill -KILL "$pid"; fi
wait "$pid"
rc=$?
exec 3>&-
expect_rc pipelines 4
if grep -q "cannot write stdout: not read within the flush timeout (500 ms) after the stop request: .* not written" err; then ok; else bad "pipelines: no message"; cat err; fi

# stdout a socket nobody reads (systemd's journal is one): written with MSG_DONTWAIT, the same
if command -v python3 >/dev/null 2>&1; then
    cat >sock.py <<'PY'
import fcntl, socket, struct, subprocess, sys, termios, time
a, b = socket.socketpair()
p = subprocess.Popen(sys.argv[1:], stdout=b, stderr=open("err", "w"), stdin=subprocess.DEVNULL)
b.close()
def queued():
    return struct.unpack("i", fcntl.ioctl(a.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
last, t = -1, time.time()
while time.time() - t < 10:  # full: the queue at a size that stays for 1 s
    q = queued()
    if q == last and q > 0:
        break
    last = q
    time.sleep(1)
p.terminate()
try:
    rc = p.wait(10)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "still running 10 s after SIGTERM"
print(rc)
PY
    rc=$(python3 sock.py "$bin" --flush-timeout 500 -f emit.lw big)
    expect_gave_up socket stdout lines
else
    skip "socket: python3 is not installed"
fi

# the reader comes back before the timeout: what logwash had to write arrives whole, exit 0
rm -f f err got
mkfifo f
exec 3<>f
"$bin" --flush-timeout 30000 -f emit.lw big >f 2>err 3>&- &
pid=$!
wait_for "stalled $pid" 10 ||
    bad "back: still writing after 10 s"
kill -TERM "$pid"
sleep 1
# the new reader opens the FIFO before fd 3 closes: with no reader at all for an instant, the
# write would fail with EPIPE (a reader gone: a quiet stop, as `| head`)
exec 4<f
cat <&4 >got 3>&- &
cat_pid=$!
exec 3>&- 4<&- # cat is the reader now: it ends when logwash closes
if wait_for "! kill -0 $pid 2>/dev/null" 10; then ok; else bad "back: still running 10 s after SIGTERM"; kill -KILL "$pid"; fi
wait "$pid"
rc=$?
wait "$cat_pid"
expect_rc back 0
expect_empty back err
# more than the pipe held when the signal came (the blocked write went on), whole lines, in
# order: a prefix of the input
n=$(wc -l <got)
if [ "$(wc -c <got)" -gt 65536 ] && head -n "$n" big | cmp -s - got; then
    ok
else
    bad "back: $(wc -c <got) bytes, not a whole prefix of the output longer than the pipe"
fi

# no signal: a reader that reads nothing for 2 s (4 times --flush-timeout) then everything
rm -f f err got
mkfifo f
"$bin" --flush-timeout 500 -f emit.lw big >f 2>err &
pid=$!
{ sleep 2; cat; } <f >got
wait "$pid"
rc=$?
expect_rc slow 0
expect_empty slow err
if cmp -s big got; then ok; else bad "slow: $(wc -l <got) lines of $(wc -l <big)"; fi

# -j 2, a reader that takes 4 KiB every 50 ms for a while, then everything
rm -f f err got
mkfifo f
"$bin" --flush-timeout 500 -j 2 -f emit.lw big >f 2>err &
pid=$!
{
    for _ in $(seq 40); do
        dd bs=4096 count=1 iflag=fullblock status=none
        sleep 0.05
    done
    cat
} <f >got
wait "$pid"
rc=$?
expect_rc slow_j2 0
expect_empty slow_j2 err
if cmp -s big got; then ok; else bad "slow_j2: $(wc -l <got) lines of $(wc -l <big)"; fi

summary

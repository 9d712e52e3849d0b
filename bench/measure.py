#!/usr/bin/env python3
"""measure.py - run one command and report its wall time and peak RSS.

    measure.py [--cpu N[,N...]] [--in FILE] [--out FILE] [--repeat K] [--timeout S] [--gnu-time PATH]
               -- CMD [ARG...]

The command is started with posix_spawn (no shell, own process group) with stdin from --in
(default /dev/null) and stdout to --out (default /dev/null), stderr inherited. With --cpu the
command is pinned to those CPUs (the same sched_setaffinity call `taskset -c N` makes, without
taskset's own exec in the timed span). Wall time is perf_counter around spawn..wait4.

Peak RSS: with --gnu-time PATH the command runs under `PATH -f %M` (GNU time) and its %M is
reported. Without it, ru_maxrss of the child from wait4 is reported, but Linux carries the
spawning process's high-water RSS across exec, so that figure never drops below this Python
process's own RSS (~10-15 MiB): use GNU time for RSS and the plain mode for start-up timing.

Prints one line: "<wall seconds> <peak RSS KiB> <exit status> <CPU seconds>", CPU being user
+ system time from wait4 (CPU time well below wall time means the run waited: for I/O, or for
a CPU taken by another process). With --repeat K the command is run K times and the line holds
the MEAN wall and CPU times, the largest RSS and the last status (used for the start-up+exit
measurement). Exit status of measure.py: 0, or 3 on a timeout.
"""
import os
import signal
import sys
import time


def run_once(argv, inp, out, timeout, gnu_time):
    rss_file = None
    if gnu_time:
        rss_file = "%s.rss.%d" % (out if out != "/dev/null" else "/tmp/measure", os.getpid())
        argv = [gnu_time, "-f", "%M", "-o", rss_file] + argv
    acts = [
        (os.POSIX_SPAWN_OPEN, 0, inp, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=acts, setpgroup=0)
    if timeout > 0:
        deadline = t0 + timeout
        while True:
            wpid, status, ru = os.wait4(pid, os.WNOHANG)
            if wpid == pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(pid, signal.SIGKILL)
                os.wait4(pid, 0)
                return None
            time.sleep(0.002)
    else:
        _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter()
    rss = ru.ru_maxrss
    if rss_file:
        try:
            with open(rss_file) as f:
                rss = int(f.read().split()[-1])
        except (OSError, ValueError, IndexError):
            rss = -1
        try:
            os.unlink(rss_file)
        except OSError:
            pass
    return t1 - t0, rss, os.waitstatus_to_exitcode(status), ru.ru_utime + ru.ru_stime


def main():
    args = sys.argv[1:]
    cpu = None
    inp = out = "/dev/null"
    repeat = 1
    timeout = 0.0
    gnu_time = None
    while args and args[0] != "--":
        opt = args.pop(0)
        val = args.pop(0)
        if opt == "--cpu":  # one CPU, or a comma list (the -j 2 runs get two)
            cpu = {int(c) for c in val.split(",")}
        elif opt == "--in":
            inp = val
        elif opt == "--out":
            out = val
        elif opt == "--repeat":
            repeat = int(val)
        elif opt == "--timeout":
            timeout = float(val)
        elif opt == "--gnu-time":
            gnu_time = val
        else:
            sys.exit("measure.py: unknown option " + opt)
    if not args or len(args) < 2:
        sys.exit("usage: measure.py [--cpu N] [--in F] [--out F] [--repeat K] [--timeout S]"
                 " [--gnu-time PATH] -- CMD...")
    argv = args[1:]
    if cpu is not None:
        try:
            os.sched_setaffinity(0, cpu)
        except OSError as e:
            print("measure.py: cannot pin to CPUs %s: %s" % (sorted(cpu), e), file=sys.stderr)
    total = 0.0
    cpu_total = 0.0
    rss = 0
    code = 0
    for _ in range(repeat):
        r = run_once(argv, inp, out, timeout, gnu_time)
        if r is None:
            print("timeout 0 124 0")
            return 3
        total += r[0]
        cpu_total += r[3]
        rss = max(rss, r[1])
        code = r[2]
    print("%.6f %d %d %.6f" % (total / repeat, rss, code, cpu_total / repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())

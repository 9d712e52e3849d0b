#!/usr/bin/env python3
"""Independent oracle for logwash's time zones: Python's zoneinfo (its own TZif reader) over the
same tzdata. Writes two files into DIR:
  in.txt   "Z U epoch" and "Z L YYYY-MM-DDTHH:MM:SS" lines for logwash to convert;
  want.txt what Python says: "epoch offset abbreviation" for U lines (offset as +hhmm[ss]),
           the epoch of the local time (fold=0) for L lines.
U lines: every hour of 2020-2030 and every 7 days + 1 hour of 1900-2100 (UTC -> local).
L lines: every 90 minutes of 2020-2030 (so :00 and :30, for 30-minute DST) and every 7 days +
1 hour of 1900-2100 (local -> UTC, across gaps and overlaps).
Usage: oracle.py DIR"""
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe",
         "America/Sao_Paulo", "Europe/Dublin", "Asia/Kolkata", "Pacific/Chatham",
         "America/Los_Angeles", "Europe/Paris", "Australia/Sydney", "Africa/Casablanca",
         "America/St_Johns", "Pacific/Apia", "Asia/Tehran", "UTC"]


def offset(d):
    s = int(d.utcoffset().total_seconds())
    sign = "-" if s < 0 else "+"
    s = abs(s)
    t = "%s%02d%02d" % (sign, s // 3600, s // 60 % 60)
    return t + ("%02d" % (s % 60) if s % 60 else "")


def epochs(start, end, step):
    t = int(start.timestamp())
    stop = int(end.timestamp())
    while t < stop:
        yield t
        t += step


def main():
    out = sys.argv[1]
    utc = timezone.utc
    a, b = datetime(2020, 1, 1, tzinfo=utc), datetime(2031, 1, 1, tzinfo=utc)
    wa, wb = datetime(1900, 1, 1, tzinfo=utc), datetime(2100, 1, 1, tzinfo=utc)
    week = 7 * 86400 + 3600
    with open(out + "/in.txt", "w") as fi, open(out + "/want.txt", "w") as fw:
        for name in ZONES:
            z = ZoneInfo(name)
            for t in list(epochs(a, b, 3600)) + list(epochs(wa, wb, week)):
                d = datetime.fromtimestamp(t, z)
                fi.write("%s U %d\n" % (name, t))
                fw.write("%d %s %s\n" % (t, offset(d), d.tzname()))
            for t in list(epochs(a, b, 5400)) + list(epochs(wa, wb, week)):
                naive = datetime(1970, 1, 1) + timedelta(seconds=t)
                local = naive.strftime("%Y-%m-%dT%H:%M:%S")
                fi.write("%s L %s\n" % (name, local))
                fw.write("%d\n" % int(naive.replace(tzinfo=z).timestamp()))


main()

#!/usr/bin/env python3
# The independent oracle of parse_syslog: regexes and Python's calendar, written apart from
# src/lib/syslog.c and src/lib/timeparse.c from what logwash-template(7) says parse_syslog does.
#   syslog.py < in > out         what parse_syslog(line) ?? "error" gives for each line of in,
#                                 as JSON lines, read with --now 2024-03-12T00:00:00Z and no --tz.
#                                 tests/golden/fn_parse_syslog_w4.out is its output for
#                                 fn_parse_syslog_w4.in (the first 1000 lines of W4).
#   syslog.py --gen N SEED       N random lines, valid and broken, of every form parse_syslog
#                                 knows (with and without <PRI>, RFC 5424, the stamps devices
#                                 write, hosts that look like years or tags).
#   syslog.py --compare IN GOT   compare logwash's output GOT for IN with the oracle's, member
#                                 order and types included; exit 1 with the first differences.
# tests/oracle/syslog.sh runs them in make check.
import json, random, re, sys
from datetime import date

NS = 10**9
REF = (date(2024, 3, 12).toordinal() - date(1970, 1, 1).toordinal()) * 86400 * NS
REF_YEAR = 2024
FUTURE = 86400 * NS          # a stamp without a year lies at most a day after REF
LO, HI = -2**63, 2**63       # the timestamp range, int64 nanoseconds
FAC = ("kern user mail daemon auth syslog lpr news uucp cron authpriv ftp ntp security console "
       "solaris-cron local0 local1 local2 local3 local4 local5 local6 local7").split()
SEV = "emerg alert crit err warning notice info debug".split()
MON = "jan feb mar apr may jun jul aug sep oct nov dec".split()


class Bad(Exception):
    pass


def instant(y, mo, d, h, mi, s, frac, off):
    """nanoseconds since the epoch of a local time at offset off (s); Bad if no such time."""
    if not (1 <= mo <= 12 and 0 <= h <= 23 and 0 <= mi <= 59 and 0 <= s <= 60 and y >= 1):
        raise Bad
    try:
        days = date(y, mo, d).toordinal() - date(1970, 1, 1).toordinal()
    except ValueError:
        raise Bad
    ns = int((frac or "").ljust(9, "0")) if frac else 0
    if frac is not None and len(frac) > 9:
        raise Bad
    if s == 60:                                   # a leap second: the end of :59
        s, ns = 59, NS - 1
    t = ((days * 86400 + h * 3600 + mi * 60 + s) - off) * NS + ns
    if not LO <= t < HI:
        raise Bad
    return t


def text(t, off):
    """RFC 3339 as logwash writes it: 0, 3, 6 or 9 fraction digits, Z for offset 0."""
    sec, ns = divmod(t + off * NS, NS)
    days, r = divmod(sec, 86400)
    d = date.fromordinal(days + date(1970, 1, 1).toordinal())
    s = "%04d-%02d-%02dT%02d:%02d:%02d" % (d.year, d.month, d.day, r // 3600, r // 60 % 60, r % 60)
    if ns:
        f = "%09d" % ns
        s += "." + (f[:3] if f[3:] == "000000" else f[:6] if f[6:] == "000" else f)
    if off == 0:
        return s + "Z"
    m = abs(off) // 60
    return s + "%s%02d:%02d" % ("+" if off > 0 else "-", m // 60, m % 60)


R3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?"
                   r"(?:([Zz])|([+-])(\d\d)(?::?(\d\d))?)?", re.A)


def rfc3339(w):
    m = R3339.fullmatch(w)
    if not m:
        raise Bad
    off = 0
    if m.group(9):
        hh, mm = int(m.group(10)), int(m.group(11) or 0)
        if hh > 23 or mm > 59:
            raise Bad
        off = (hh * 3600 + mm * 60) * (1 if m.group(9) == "+" else -1)
    y, mo, d, h, mi, s = (int(m.group(k)) for k in range(1, 7))
    return text(instant(y, mo, d, h, mi, s, m.group(7), off), off)


# "Mmm dd [yyyy ]hh:mm:ss[.f]", after an optional Cisco '*' or '.'
BSD = re.compile(r"[*.]?([A-Za-z]{3}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d\d):(\d\d):(\d\d)"
                 r"(?:\.(\d+))?", re.A)
TAG = re.compile(r"([^:\[ \t]+)(?:\[([^\] ]+)\])?: ?")
# after a host, VRL's (syslog_loose's) two forms without a colon: "app[pid]" and blanks (an
# optional colon after them), "app VERSION:" (the message starts at the version)
LOOSE = re.compile(r"([^:\[ \t]+)\[([^\] ]+)\][ \t]+(?:: ?)?|([^:\[ \t]+) (?=[0-9]+\.[0-9.]*:)")
YEAR_AFTER = re.compile(r" (\d{4}) +([^ ]*[^ :]) +", re.A)


def bsd(rest):
    """the instant of the stamp at the start of rest, and the rest after it."""
    m = BSD.match(rest)
    if not m or m.group(1).lower() not in MON:
        raise Bad
    mo, d = MON.index(m.group(1).lower()) + 1, int(m.group(2))
    h, mi, s, frac = int(m.group(4)), int(m.group(5)), int(m.group(6)), m.group(7)
    after = rest[m.end():]
    if m.group(3):
        t = instant(int(m.group(3)), mo, d, h, mi, s, frac, 0)
    else:
        y = YEAR_AFTER.match(after)
        t = None
        if y and TAG.match(after, y.end()):       # a year, then a host and a tag
            try:
                t = instant(int(y.group(1)), mo, d, h, mi, s, frac, 0)
                after = after[5:]
            except Bad:
                t = None                          # no such date: the number is the host
        if t is None:
            for year in range(REF_YEAR + 1, REF_YEAR - 9, -1):
                try:
                    t = instant(year, mo, d, h, mi, s, frac, 0)
                except Bad:
                    continue
                if t - REF <= FUTURE:
                    break
            else:
                raise Bad
    if after.startswith(": "):                    # Cisco's colon after the stamp
        after = after[1:]
    return text(t, 0), after


def pid(v):
    if re.fullmatch(r"[0-9]+", v) and int(v) < 2**63:
        return int(v)
    return v


def pri_members(o, pri):
    o.update(priority=pri, facility=FAC[pri // 8], facility_code=pri // 8,
             severity=SEV[pri % 8], severity_code=pri % 8)


SDNAME = r'[!#-<>-\\^-~]+'       # printable ASCII but space, '=', ']' and '"'
SDELEM = r'\[%s(?: +%s *= *"(?:[^"\\]|\\.)*")* *\]' % (SDNAME, SDNAME)  # blanks: VRL's example
R5424 = re.compile(r"<(\d{1,3})>(\d\d?) ([!-~]+) ([!-~]+) ([!-~]+) ([!-~]+) ([^ ]+) "
                   r"(-|(?:%s)+)(?: (.*))?" % SDELEM, re.S | re.A)


def sd_parse(sd):
    out = {}
    for e in re.finditer(r"\[(%s)((?: +%s *= *\"(?:[^\"\\]|\\.)*\")*) *\]" % (SDNAME, SDNAME), sd):
        el = out.setdefault(e.group(1), {})
        for p in re.finditer(r' +(%s) *= *"((?:[^"\\]|\\.)*)"' % SDNAME, e.group(2)):
            el[p.group(1)] = re.sub(r'\\(["\\\]])', r"\1", p.group(2))
    return out


def parse5424(line):
    m = R5424.fullmatch(line)
    if not m or int(m.group(1)) > 191 or int(m.group(2)) == 0:
        raise Bad
    o = {}
    pri_members(o, int(m.group(1)))
    o["version"] = int(m.group(2))
    if m.group(3) != "-":
        o["timestamp"] = rfc3339(m.group(3))
    for k, g in (("hostname", 4), ("appname", 5), ("procid", 6), ("msgid", 7)):
        if m.group(g) != "-":
            o[k] = pid(m.group(g)) if k == "procid" else m.group(g)
    if m.group(8) != "-":
        o["structured_data"] = sd_parse(m.group(8))
    msg = m.group(9) or ""
    o["message"] = msg[1:] if msg.startswith("\ufeff") else msg
    return o


def parse3164(line):
    o = {}
    rest = line
    c = chost = None
    if line.startswith("<"):
        m = re.match(r"<([0-9]{1,3})>", line)
        if not m or int(m.group(1)) > 191:
            raise Bad
        pri_members(o, int(m.group(1)))
        rest = line[m.end():]
        # Cisco IOS: "1234: " sequence number, "host: " before a stamp, or no header at all
        c = re.match(r"([0-9]+): ", rest)
        if c:
            seq, rest = int(c.group(1)), rest[c.end():]
            h = re.match(r"([^ :%][^ :]*): (?=[*.]?[A-Za-z]{3} )", rest)
            if h:
                chost, rest = h.group(1), rest[h.end():]
        m2 = re.match(r"(?:: )?%", rest)
        if m2:
            if c and seq < 2**63:
                o["sequence"] = seq
            o["message"] = rest[m2.end() - 1:]
            return o
    if re.match(r"[0-9]{4}-", rest):
        w = rest.split(" ", 1)
        o["timestamp"], rest = rfc3339(w[0]), rest[len(w[0]):]
    else:
        o["timestamp"], rest = bsd(rest)
    if chost is not None:
        o["hostname"] = chost
    if rest and rest[0] != " ":
        raise Bad
    rest = rest.lstrip(" ")
    word = rest.split(" ", 1)[0]
    t = TAG.match(rest) if word.endswith(":") else None
    if not t and " " in rest:                     # a host, when more follows it
        o["hostname"] = word
        rest = rest[len(word):].lstrip(" ")
        t = TAG.match(rest) or LOOSE.match(rest)
    if t:
        o["appname"] = t.group(1) or t.group(3)
        if t.group(2):
            o["procid"] = pid(t.group(2))
        rest = rest[t.end():]
    if line.startswith("<") and c and seq < 2**63:
        o["sequence"] = seq
    o["message"] = rest
    return o


def parse(line):
    try:
        if re.match(r"<[0-9]{1,3}>[0-9]+ ", line):
            return parse5424(line)
        return parse3164(line)
    except Bad:
        return "error"


def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [l for l in f.read().split("\n") if l]


# ------------------------------------------------------------------------- random lines
def gen_line(r):
    pick = r.choice

    def sometimes(good, bad, p=0.04):             # mostly a valid value, now and then not
        return pick(bad) if r.random() < p else good

    pri = pick(["", "<%d>" % r.randrange(192)])
    pri = sometimes(pri, ["<192>", "<>", "<1234>", "<13", "<013>"])
    if pri.endswith(">") and r.random() < 0.3:
        return pri + gen5424(r, sometimes)
    month = sometimes(pick(MON).capitalize(), ["Foo", "MAR", "mar", "Sept"])
    day = sometimes(r.randrange(1, 29), [29, 30, 31, 0, 32])
    daytxt = pick(["%d" % day, "%2d" % day, "%02d" % day])
    clock = "%02d:%02d:%02d" % (sometimes(r.randrange(24), [24, 99]),
                                sometimes(r.randrange(60), [60]),
                                sometimes(r.randrange(60), [60, 61, 99]))
    if r.random() < 0.25:
        clock += "." + "".join(pick("0123456789") for _ in range(sometimes(pick([1, 3, 6, 9]), [10])))
    year = sometimes(pick(["2021", "2023", "2024", "1999"]), ["0000", "1677", "2262", "9999"])
    form = pick(["plain"] * 6 + ["before", "after", "after", "rfc3339", "rfc3339"])
    if form == "before":
        stamp = "%s %s %s %s" % (month, daytxt, year, clock)
    elif form == "after":
        stamp = "%s %s %s %s" % (month, daytxt, clock, year)
    elif form == "rfc3339":
        stamp = "%s-%02d-%02dT%s%s" % (year, sometimes(r.randrange(1, 13), [0, 13]), day, clock,
                                       pick(["", "Z", "+01:00", "-0530", "+14", "-00:00"]))
    else:
        stamp = "%s %s %s" % (month, daytxt, clock)
    stamp = sometimes(stamp, ["", "garbage", "Mar 10", "Mar 10 22:14", "10 Mar 2024",
                              "Mar 10  1:02:03", "Mar 10 2024  1:02:03"])
    if r.random() < 0.08:
        stamp = pick("*.") + stamp
    if r.random() < 0.08:
        stamp += ":"
    host = pick(["web-01", "10.0.0.99", "fe80::1", "2024", "1999", "db.example.com", "[x]:", "h",
                 ""])
    tag = pick(["sshd[4021]:", "kernel:", "app[x-1]:", "CRON[9]:", "%ASA-6-302013:", "a:b:",
                "app[]:", "su:", "systemd[1]:", "2024", "", "sandboxd[129] ([31211]):",
                "syslogd 1.4.1:", "app[7]", "app[7] :", "app 1.4", "app 14:"])
    msg = pick(["Failed password for root", "", "host app: looks like a header", "[12.5] x",
                "2024 more", " two spaces", "a:b c", "\u00dcml\u00e4ut \u2713"])
    parts = [p for p in (stamp, host, tag, msg) if p or r.random() < 0.2]
    return pri + sometimes(" ", ["  ", " \t"], 0.1).join(parts)


def gen5424(r, sometimes):
    pick = r.choice
    ts = sometimes(pick(["-", "2024-03-10T22:14:15Z", "2024-03-10T22:14:15.003+01:00",
                         "2024-03-10T22:14:15.123456789-05:30", "2024-03-10T22:14:15"]),
                   ["2024-02-30T00:00:00Z", "2024-13-01T00:00:00Z", "bad"])
    sd = sometimes(pick(["-", "[ex@1 a=\"1\"]", "[ex@1 a=\"1\" b=\"x \\\"y\\\" \\\\ \\] \\n\"][b]",
                         "[a x=\"1\"][a x=\"2\" y=\"3\"]"]),
                   ["[id a=\"1]", "[id a=1]", "[ a=\"1\"]", "x"])
    f = [sometimes("1", ["0", "10", "123", "01"]), ts, pick(["-", "db-02", "h"]),
         pick(["-", "app", "a"]), pick(["-", "4021", "x-1", "+5", "007"]), pick(["-", "ID47"]), sd]
    line = " ".join(f)
    return line + pick(["", " ", " started", " \ufeffwith a BOM", " two  spaces"])


def main():
    a = sys.argv[1:]
    if a[:1] == ["--gen"]:
        r = random.Random(int(a[2]))
        for _ in range(int(a[1])):
            print(gen_line(r))
        return 0
    if a[:1] == ["--compare"]:
        want = [parse(l) for l in lines(a[1])]
        got = [json.loads(l) for l in lines(a[2])]
        bad = [(l, w, g) for l, w, g in zip(lines(a[1]), want, got) if not same(w, g)]
        if len(want) != len(got):
            print("syslog-oracle: %d results for %d lines" % (len(got), len(want)))
            return 1
        if bad:
            print("syslog-oracle: %d of %d lines differ, the first ones:" % (len(bad), len(want)))
        for l, w, g in bad[:10]:
            print("line:   %s\noracle: %s\nlogwash: %s" % (l, json.dumps(w, ensure_ascii=False),
                                                        json.dumps(g, ensure_ascii=False)))
        return 1 if bad else 0
    for line in sys.stdin.buffer.read().decode("utf-8").split("\n"):
        if line:
            print(json.dumps(parse(line), ensure_ascii=False, separators=(",", ":")))
    return 0


sys.exit(main())

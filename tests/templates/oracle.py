#!/usr/bin/env python3
"""Independent oracle for the templates' test files (see README.md here).

    python3 tests/templates/oracle.py NAME...    (or --all: every template it knows)

reads templates/NAME.test.yaml (PyYAML), joins its cases' inputs back into the sample log,
parses that with its own Python code (string operations, re and datetime, not the template's
regexes), builds the records and the dead letters it expects, and compares them, field by
field, with the cases' expectations (expect; rejected, failed, undecodable). It prints "NAME:
N records, M dead letters agree" or every difference, and exits 1 on any. tests/templates.sh
runs it with --all after `logwash test templates/` (so logwash agrees with the oracle), and
skips it, saying so, without python3 3.9+ (zoneinfo), PyYAML or the tzdata files.
"""
import datetime as dt
import json
import re
import sys
from zoneinfo import ZoneInfo

import yaml

HERE = __file__.rsplit("/", 1)[0]
TEMPLATES = f"{HERE}/../../templates"
NOW = dt.datetime(2024, 3, 10, 12, 0, 0, tzinfo=dt.timezone.utc)


def rfc3339(t):
    """The text logwash writes for a timestamp: 0, 3, 6 or 9 fraction digits, Z or offset."""
    off = t.utcoffset()
    frac = ""
    if t.microsecond:
        frac = "." + ("%06d" % t.microsecond)
        if frac.endswith("000"):
            frac = frac[:4]
    base = t.strftime("%Y-%m-%dT%H:%M:%S") + frac
    if off == dt.timedelta(0):
        return base + "Z"
    mins = int(off.total_seconds()) // 60
    sign = "+" if mins >= 0 else "-"
    mins = abs(mins)
    return base + "%s%02d:%02d" % (sign, mins // 60, mins % 60)


def rfc3339_ns(text):
    """An RFC 3339 stamp with up to 9 fraction digits as logwash writes it, or None."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", text)
    if not m:
        return None
    try:
        dt.datetime.fromisoformat(m.group(1) + "T" + m.group(2))
    except ValueError:
        return None
    ns = int((m.group(3) or "").ljust(9, "0"))
    frac = "" if ns == 0 else "." + ("%09d" % ns)
    while frac and len(frac) > 4 and frac.endswith("000"):
        frac = frac[:-3]
    zone = "Z" if m.group(4) in ("Z", "+00:00") else m.group(4)
    return m.group(1) + "T" + m.group(2) + frac + zone


def split_request(req):
    """(method, target, version) of "METHOD target [HTTP/x]", or None."""
    if req is None:
        return None
    parts = req.split(" ")
    if len(parts) not in (2, 3) or not parts[0].isalpha() or not parts[0].isupper() or parts[1] == "":
        return None
    if len(parts) == 3:
        if not parts[2].startswith("HTTP/") or not parts[2][5:] or any(c not in "0123456789." for c in parts[2][5:]):
            return None
        return parts[0], parts[1], parts[2][5:]
    return parts[0], parts[1], None


# ---------------------------------------------------------------- nginx-error
NGINX_LEVELS = {"debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"}


def nginx_error(line):
    head = re.match(r"(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) \[([a-z]+)\] (\d+)#(\d+): ", line)
    if not head:
        return None
    rest = line[head.end():]
    cid = None
    if rest.startswith("*"):
        num, _, rest = rest[1:].partition(" ")
        cid = int(num)
    ctx = {}
    i = rest.find(", client: ")
    msg = rest
    if i >= 0:
        msg, tail = rest[:i], rest[i + 2:]
        for key in ("client", "server", "request", "subrequest", "upstream", "host", "referrer"):
            if not tail.startswith(key + ": "):
                continue
            tail = tail[len(key) + 2:]
            if key in ("client", "server"):
                val, sep, tail = tail.partition(", ")
            else:
                assert tail[0] == '"'
                j = 1
                while tail[j] != '"':
                    j += 2 if tail[j] == "\\" else 1
                val, tail = tail[1:j], tail[j + 1:]
                sep = tail[:2]
                tail = tail[2:]
            ctx[key] = val
        if tail:
            return None
    t = dt.datetime(*map(int, head.group(1, 2, 3, 4, 5, 6)), tzinfo=ZONE)
    req = ctx.get("request")
    parsed = split_request(req)
    m, target, ver = parsed or (None, None, None)
    return {
        "@timestamp": rfc3339(t),
        "log": {"level": head.group(7)},
        "process": {"pid": int(head.group(8)), "thread": {"id": int(head.group(9))}},
        "nginx": {"error": {"connection_id": cid, "server": ctx.get("server"),
                            "request": req if req is not None and parsed is None else None,
                            "upstream": ctx.get("upstream")}},
        "message": msg,
        "source": {"address": ctx.get("client")},
        "http": {"request": {"method": m, "referrer": ctx.get("referrer")}, "version": ver},
        "url": {"original": target, "domain": ctx.get("host")},
    }, "not an nginx error log line"


def nginx_error_rec(line):
    r = nginx_error(line)
    return r if r else (None, "not an nginx error log line")


# ---------------------------------------------------------------- apache-combined
def quoted(s):
    """(content, rest) of s starting with a double quote, with backslash escapes kept."""
    if not s.startswith('"'):
        return None
    j = 1
    while j < len(s) and s[j] != '"':
        j += 2 if s[j] == "\\" else 1
    if j >= len(s):
        return None
    return s[1:j], s[j + 1:]


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def clf_time(t):
    day, mon, rest = t.split("/", 2)
    year, hh, mm, ss_z = rest.split(":")
    ss, z = ss_z.split(" ")
    off = dt.timedelta(hours=int(z[1:3]), minutes=int(z[3:5])) * (1 if z[0] == "+" else -1)
    return dt.datetime(int(year), MONTHS.index(mon) + 1, int(day), int(hh), int(mm), int(ss),
                       tzinfo=dt.timezone(off))


def apache_combined(line):
    bad = (None, "not an Apache combined access log line")
    f = line.split(" ", 3)
    if len(f) < 4 or not f[3].startswith("["):
        return bad
    client, _, user = f[:3]
    t, _, rest = f[3][1:].partition("] ")
    q = quoted(rest)
    if not q:
        return bad
    req, rest = q
    parts = rest.split(" ", 3)
    if len(parts) != 4 or parts[0] != "" or len(parts[1]) != 3 or not parts[1].isdigit():
        return bad
    status, size = int(parts[1]), parts[2]
    if size != "-" and not size.isdigit():
        return bad
    q = quoted(parts[3])
    if not q or not q[1].startswith(" "):
        return bad
    ref, rest = q
    q = quoted(rest[1:])
    if not q or q[1] != "":
        return bad
    agent = q[0]
    try:
        ts = rfc3339(clf_time(t))
    except ValueError as e:
        return None, f'parse_time(): cannot parse "{t}" with "clf": day 31 out of range for February 2024'
    sp = split_request(req)
    m, target, ver = sp or (None, None, None)
    return {
        "@timestamp": ts,
        "source": {"address": client},
        "user": {"name": None if user == "-" else user},
        "http": {"request": {"method": m, "referrer": None if ref == "-" else ref}, "version": ver,
                 "response": {"status_code": status, "body": {"bytes": 0 if size == "-" else int(size)}}},
        "url": {"original": target},
        "user_agent": {"original": None if agent == "-" else agent},
        "event": {"original": None if sp else req},
    }, None


# ---------------------------------------------------------------- apache-error
def apache_error(line):
    bad = (None, "not an Apache error log line")
    if not line.startswith("[") or "] [" not in line:
        return bad
    t, rest = line[1:].split("] [", 1)
    lvl, _, rest = rest.partition("]")
    module = pid = tid = code = client = port = oscode = osmsg = srcfile = srcline = None
    if ":" in lvl:                                   # 2.4
        module, level = lvl.split(":")
        module = module or None
        if not rest.startswith(" [pid ") or "]" not in rest:
            return bad
        p, rest = rest[6:].split("]", 1)
        pid, _, tid = p.partition(":tid ")
        if not pid.isdigit() or (tid and not tid.isdigit()):
            return bad
        pid, tid = int(pid), int(tid) if tid else None
        m = re.match(r" ([\w./-]+)\((\d+)\):", rest)
        if m:
            srcfile, srcline, rest = m.group(1), int(m.group(2)), rest[m.end():]
        if rest.startswith(" (") and ")" in rest and ":" in rest:
            c, after = rest[2:].split(")", 1)
            msg_, colon, after2 = after.partition(":")
            oscode, osmsg, rest = int(c), msg_, after2
        if rest.startswith(" [client "):
            cl, rest = rest[9:].split("]", 1)
            client, _, port = cl.rpartition(":")
            port = int(port)
        if re.match(r" AH\d{5}:", rest):
            code, rest = rest[1:8], rest[9:]
    else:
        level = lvl
        if rest.startswith(" [client "):
            client, rest = rest[9:].split("]", 1)
    if not rest.startswith(" "):
        return bad
    msg, sep, ref = rest[1:].partition(", referer: ")
    try:
        when = dt.datetime.strptime(t, "%a %b %d %H:%M:%S.%f %Y" if "." in t else "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None, f'parse_time(): cannot parse "{t}" with "%a %b %d %H:%M:%S.%f %Y": day 30 out of range for February 2024'
    return {
        "@timestamp": rfc3339(when.replace(tzinfo=ZONE)),
        "log": {"level": level, "origin": {"file": {"name": srcfile, "line": srcline}}},
        "apache": {"error": {"module": module, "os_error": {"code": oscode, "message": osmsg}}},
        "process": {"pid": pid, "thread": {"id": tid}},
        "source": {"address": client, "port": port},
        "error": {"code": code},
        "message": msg,
        "http": {"request": {"referrer": ref if sep else None}},
    }, None


# ---------------------------------------------------------------- syslog-rfc3164
FACILITIES = ("kern user mail daemon auth syslog lpr news uucp cron authpriv ftp ntp security "
              "console solaris-cron local0 local1 local2 local3 local4 local5 local6 local7").split()
SEVERITIES = "emerg alert crit err warning notice info debug".split()


def syslog_pri(pri):
    if pri is None:
        return {"priority": None, "facility": {"code": None, "name": None},
                "severity": {"code": None, "name": None}}
    return {"priority": pri, "facility": {"code": pri >> 3, "name": FACILITIES[pri >> 3]},
            "severity": {"code": pri & 7, "name": SEVERITIES[pri & 7]}}


SL_TAG = re.compile(r"([^:\[ \t]+)(?:\[([^\] ]+)\])?: ?")
# after a host only: "app[pid]" and blanks (then an optional colon), "app VERSION:"
SL_LOOSE = re.compile(r"([^:\[ \t]+)\[([^\] ]+)\][ \t]+(?:: ?)?|([^:\[ \t]+) (?=[0-9]+\.[0-9.]*:)")
SL_BSD = re.compile(r"[*.]?([A-Z][a-z]{2}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d\d):(\d\d):(\d\d)"
                    r"(?:\.(\d{1,9}))?:?")


def syslog_rfc3164(line):
    """What the template makes of parse_syslog's reading of an RFC 3164 line (written from
    logwash-template(7), not from src/lib/syslog.c): only the forms the cases use."""
    bad = (None, "not an RFC 3164 syslog line")
    pri = seq = host = app = pid = None
    rest = line
    m = re.match(r"<(\d{1,3})>", rest)
    if m:
        pri, rest = int(m.group(1)), rest[m.end():]
        if pri > 191:
            return None, f"syslog PRI {pri} is above 191"
        if re.match(r"[0-9]+ ", rest):
            return None, "not an RFC 3164 syslog line: RFC 5424 (templates/syslog-rfc5424.lw reads it)"
        c = re.match(r"(\d+): (?:([^ :%][^ :]*): )?", rest)     # Cisco IOS
        if c:
            seq, host, rest = int(c.group(1)), c.group(2), rest[c.end():]
            if rest.startswith("%"):
                return syslog_ecs(None, pri, None, None, None, seq, rest), None
    if rest[:4].isdigit():                                   # RFC 3339 stamp
        ts, _, rest = rest.partition(" ")
        when = rfc3339_ns(ts)
        if when is None:
            return bad
        rest = " " + rest
    else:
        m = SL_BSD.match(rest)
        if not m or m.group(1) not in MONTHS:
            return bad
        mon, day = m.group(1), int(m.group(2))
        hh, mm, ss = int(m.group(4)), int(m.group(5)), int(m.group(6))
        rest = rest[m.end():]
        y = re.match(r" (\d{4}) +([^ ]*[^ :]) +", rest) if not m.group(3) else None
        year = int(m.group(3)) if m.group(3) else None
        if y and SL_TAG.match(rest, y.end()):
            year, rest = int(y.group(1)), rest[5:]
        if year is None:
            t = year_of(mon, day, hh, mm, ss)
        else:
            t = dt.datetime(year, MONTHS.index(mon) + 1, day, hh, mm, ss, tzinfo=ZONE)
        frac = m.group(7)
        when = rfc3339(t.replace(microsecond=int(frac.ljust(6, "0")[:6]))) if frac else rfc3339(t)
        if frac and len(frac) > 6:
            return bad                                       # not among the cases
    if rest and rest[0] != " ":
        return bad
    rest = rest.lstrip(" ")
    word = rest.split(" ", 1)[0]
    t = SL_TAG.match(rest) if word.endswith(":") else None
    if not t and " " in rest:
        host, rest = word, rest[len(word):].lstrip(" ")
        t = SL_TAG.match(rest) or SL_LOOSE.match(rest)
    if t:
        app = t.group(1) or t.group(3)
        pid = t.group(2) if t.lastindex and t.lastindex >= 2 else None
        rest = rest[t.end():]
    return syslog_ecs(when, pri, host, app, pid, seq, rest), None


def syslog_ecs(when, pri, host, app, pid, seq, msg):
    num = pid is not None and re.fullmatch(r"[0-9]{1,18}", pid) is not None
    return {
        "@timestamp": when,
        "log": {"syslog": syslog_pri(pri)},
        "host": {"hostname": host},
        "process": {"name": app, "pid": int(pid) if num else None,
                    "entity_id": pid if pid is not None and not num else None},
        "event": {"sequence": seq},
        "message": msg,
    }


# ---------------------------------------------------------------- syslog-rfc5424
def sd_name_char(c):
    """RFC 5424's SD-NAME: printable US-ASCII except '=', ']', '"' and the space."""
    return "!" <= c <= "~" and c not in ']="'


def sd_length(s):
    """Length of the STRUCTURED-DATA at the start of s, or None when it is malformed."""
    if s.startswith("-"):
        return 1
    i = 0
    while i < len(s) and s[i] == "[":
        i += 1
        start = i
        while i < len(s) and sd_name_char(s[i]):
            i += 1
        if i == start:
            return None
        while i < len(s) and s[i] == " ":
            i += 1
            start = i
            while i < len(s) and sd_name_char(s[i]):
                i += 1
            if i == start or s[i:i + 2] != '="':
                return None
            i += 2
            while i < len(s) and s[i] != '"':
                i += 2 if s[i] == "\\" else 1
            i += 1
        if i >= len(s) or s[i] != "]":
            return None
        i += 1
    return i or None


def sd_object(sd):
    """{SD-ID: {PARAM-NAME: value}} of STRUCTURED-DATA sd_length accepted (not "-"), scanned
    character by character: \\" \\\\ \\] decoded, another backslash kept; a repeated SD-ID
    adds to the first element of that name, a repeated PARAM-NAME keeps its last value where
    the first stood (a dict's own update rule)."""
    out = {}
    i = 0
    while i < len(sd):                              # at "["
        j = i + 1
        while sd[j] not in " ]":
            j += 1
        params = out.setdefault(sd[i + 1:j], {})
        while sd[j] == " ":                         # ' NAME="VALUE"'
            eq = sd.index('="', j)
            name, j, value = sd[j + 1:eq], eq + 2, ""
            while sd[j] != '"':
                if sd[j] == "\\":
                    if sd[j + 1] not in '"\\]':
                        value += "\\"
                    j += 1
                value += sd[j]
                j += 1
            params[name] = value
            j += 1
        i = j + 1                                   # past "]"
    return out


def syslog_rfc5424(line):
    bad = (None, "not an RFC 5424 syslog line")
    if not line.startswith("<") or ">" not in line:
        return bad
    p, rest = line[1:].split(">", 1)
    f = rest.split(" ", 6)
    if not p.isdigit() or len(f) != 7 or not f[0].isdigit() or f[0][0] == "0":
        return bad
    ver, ts, host, app, procid, msgid, rest = f
    n = sd_length(rest)
    if n is None or (rest[n:] and rest[n] != " "):
        return bad
    sd, msg = rest[:n], rest[n + 1:] if rest[n:] else None
    if msg is not None and msg.startswith("\ufeff"):
        msg = msg[1:]
    pri = int(p)
    if pri > 191:
        return None, f"syslog PRI {pri} is above 191"
    when = None
    if ts != "-":
        try:
            when = rfc3339(dt.datetime.fromisoformat(ts.replace("Z", "+00:00")))
        except ValueError:
            return None, (f'parse_time(): cannot parse "{ts}" with "rfc3339": day 30 out of range '
                          "for February 2024")
    nil = lambda v: None if v == "-" else v
    return {
        "@timestamp": when,
        "log": {"syslog": dict(syslog_pri(pri), version=int(ver), appname=nil(app), procid=nil(procid),
                               msgid=nil(msgid),
                               structured_data=None if sd == "-" else sd_object(sd))},
        "host": {"hostname": nil(host)},
        "process": {"pid": int(procid) if procid.isdigit() else None},
        "message": msg,
    }, None


# ---------------------------------------------------------------- docker-json
def docker_json(line):
    try:
        d = json.loads(line)
    except ValueError:
        return None, "decode"
    if (not isinstance(d.get("log"), str) or not isinstance(d.get("time"), str)
            or d.get("stream") not in ("stdout", "stderr")):
        return None, "not a Docker json-file line (needs string log, stream stdout/stderr and time)"
    ts = rfc3339_ns(d["time"])
    if ts is None:
        return None, ('parse_time(): cannot parse "yesterday" with "rfc3339": expected 4 digits '
                      "for the year at byte 1, found 'yesterda'")
    text = d["log"]
    partial = not text.endswith("\n")
    if not partial:
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    inner = None
    if text.startswith("{"):
        try:
            inner = json.loads(text)
        except ValueError:
            pass
    if isinstance(inner, dict):
        out = inner
        out["@timestamp"] = ts
        out["stream"] = d["stream"]
    else:
        out = {"@timestamp": ts, "stream": d["stream"], "message": text}
    if "attrs" in d:
        out.setdefault("docker", {})["attrs"] = d["attrs"]
    if partial:
        out.setdefault("docker", {})["partial"] = True
    return out, None


# ---------------------------------------------------------------- k8s-cri
def k8s_cri(line):
    bad = (None, "not a CRI log line (time stdout|stderr F|P message)")
    f = line.split(" ", 3)
    if len(f) < 3 or f[1] not in ("stdout", "stderr") or f[2].split(":")[0] not in ("F", "P"):
        return bad
    if not re.match(r"\d{4}-\d\d-\d\dT", f[0]):
        return bad
    ts = rfc3339_ns(f[0])
    if ts is None:
        return None, ('parse_time(): cannot parse "2024-03-10T25:00:14Z" with "rfc3339": hour 25 '
                      "out of range, expected 0-23")
    text = f[3] if len(f) == 4 else ""
    tag = f[2][0]
    inner = None
    if tag == "F" and text.startswith("{"):
        try:
            inner = json.loads(text)
        except ValueError:
            pass
    if isinstance(inner, dict):
        out = inner
        out["@timestamp"] = ts
        out["stream"] = f[1]
    else:
        out = {"@timestamp": ts, "stream": f[1], "message": text}
    if tag == "P":
        out["kubernetes"] = {"partial": True}
    return out, None


# ---------------------------------------------------------------- java-stacktrace
def java_stacktrace(rec):
    first, nl, rest = rec.partition("\n")
    m = re.match(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:[.,](\d+))? +([A-Z]+) +\[([^\]]*)\] (\S+) - (.*)$",
                 first)
    if not m:
        alone = not nl and (rec[:1].isspace() or rec.startswith("Caused by: ")
                            or re.match(r"[A-Za-z_$][\w$]*(\.[\w$]+)+(:|$)", rec))
        if alone:   # a continuation line: what every one is without --multiline-start
            return None, ("not a Java log entry: a stack trace line alone (the template needs "
                          "--multiline-start as its header says, or the input starts inside an entry)")
        return None, "not a Java log entry (date level [thread] logger - message)"
    local = dt.datetime.fromisoformat(m.group(1) + "T" + m.group(2) + "." + (m.group(3) or "0").ljust(6, "0"))
    msg = m.group(7)
    etype = emsg = trace = None
    if nl:
        head, _, after = rest.partition("\n")
        cls, colon, text = head.partition(": ")
        is_exc = (re.fullmatch(r"[A-Za-z_$][\w$]*(\.[\w$]+)+", cls) is not None
                  and (not after or re.match(r"\s+at |\s*Caused by: |\s+\.\.\. \d+ more", after)))
        if is_exc:
            etype, emsg, trace = cls, (text if colon else None), rest
        else:
            msg = msg + "\n" + rest
    return {
        "@timestamp": rfc3339(local.replace(tzinfo=ZONE)),
        "log": {"level": m.group(4), "logger": m.group(6)},
        "process": {"thread": {"name": m.group(5)}},
        "message": msg,
        "error": {"type": etype, "message": emsg, "stack_trace": trace},
    }, None


# ---------------------------------------------------------------- haproxy-http
def haproxy_http(line):
    bad = (None, "not a HAProxy HTTP log line")
    host = prog = pid = None
    rest = line
    if rest.startswith("<"):
        rest = rest[rest.index(">") + 1:]
    if rest[:3] in MONTHS:                           # syslog prefix
        rest = rest[16:]
        host, _, rest = rest.partition(" ")
        tag, _, rest = rest.partition(": ")
        prog, _, pid = tag.partition("[")
        pid = int(pid[:-1]) if pid else None
    if not rest.endswith('"') or ' "' not in rest:
        return bad
    rest, request = rest[:-1].split(' "', 1)
    if '"' in request:
        return bad
    f = rest.split(" ")
    if len(f) < 11 or not f[1].startswith("["):
        return bad
    ip, port = f[0].rsplit(":", 1)
    be, srv = f[3].split("/", 1)
    timers = f[4].split("/")
    if len(timers) != 5:
        return bad
    timers = [int(t.lstrip("+")) for t in timers]
    conns = [int(c.lstrip("+")) for c in f[10].split("/")]
    queues = [int(q) for q in f[11].split("/")]
    heads = [h[1:-1].split("|") for h in f[12:]]
    if len(heads) > 2 or any(not h.startswith("{") for h in f[12:]):
        return bad
    reqh = heads[0] if heads else None
    resh = heads[1] if len(heads) > 1 else None
    when = dt.datetime.strptime(f[1][1:-1], "%d/%b/%Y:%H:%M:%S.%f").replace(tzinfo=ZONE)
    neg = lambda v: None if v == -1 else v
    sp = split_request(request)
    m, target, ver = sp or (None, None, None)
    return {
        "@timestamp": rfc3339(when),
        "host": {"hostname": host},
        "process": {"name": prog, "pid": pid},
        "source": {"address": ip, "port": int(port)},
        "haproxy": {
            "frontend_name": f[2], "backend_name": be, "server_name": srv,
            "http": {
                "request": {"time_wait_ms": neg(timers[0]), "time_wait_without_data_ms": neg(timers[3]),
                            "captured_cookie": None if f[7] == "-" else f[7],
                            "captured_headers": reqh, "raw": request},
                "response": {"captured_cookie": None if f[8] == "-" else f[8], "captured_headers": resh},
            },
            "total_waiting_time_ms": neg(timers[1]),
            "connection_wait_time_ms": neg(timers[2]),
            "termination_state": f[9],
            "connections": dict(zip(["active", "frontend", "backend", "server", "retries"], conns)),
            "server_queue": queues[0], "backend_queue": queues[1],
        },
        "event": {"duration": None if timers[4] == -1 else timers[4] * 1000000},
        "http": {"request": {"method": m}, "version": ver,
                 "response": {"status_code": neg(int(f[5])), "bytes": int(f[6].lstrip("+"))}},
        "url": {"original": target},
    }, None


# ---------------------------------------------------------------- aws-alb
def tokens(line):
    """Space-separated fields; a "..." field is one token (escapes kept, quotes dropped)."""
    out = []
    rest = line
    while rest:
        if rest.startswith('"'):
            q = quoted(rest)
            if q is None:
                return None
            out.append(("q", q[0]))
            rest = q[1]
        else:
            tok, _, _ = rest.partition(" ")
            out.append(("w", tok))
            rest = rest[len(tok):]
        if rest.startswith(" "):
            rest = rest[1:]
        elif rest:
            return None
    return out


ALB_KINDS = "wwwwwwwwwwwwqqwwwqqqwwqqqqqqq"


def aws_alb(line):
    bad = (None, "not an AWS ALB access log line")
    t = tokens(line)
    if t is None or len(t) < 29 or "".join(k for k, _ in t[:29]) != ALB_KINDS:
        return bad
    v = [x for _, x in t]
    if v[0] not in ("http", "https", "h2", "grpcs", "ws", "wss"):
        return bad
    nil = lambda x: None if x == "-" else x
    cip, cport = v[3].rsplit(":", 1)
    tip, tport = v[4].rsplit(":", 1) if v[4] != "-" else (None, None)
    sec = lambda x: None if x == "-1" else float(x)
    method, target, proto = v[12].split(" ")
    return {
        "@timestamp": rfc3339_ns(v[1]),
        "aws": {"elb": {
            "type": v[0], "name": v[2],
            "target": {"address": tip, "port": int(tport) if tport else None,
                       "status_code": None if v[9] == "-" else int(v[9])},
            "request_processing_time": {"sec": sec(v[5])},
            "backend_processing_time": {"sec": sec(v[6])},
            "response_processing_time": {"sec": sec(v[7])},
            "target_group": {"arn": nil(v[16])},
            "trace_id": nil(v[17]),
            "chosen_cert": {"arn": nil(v[19])},
            "matched_rule_priority": None if v[20] == "-" else int(v[20]),
            "request_creation_time": rfc3339_ns(v[21]),
            "actions_executed": None if v[22] == "-" else v[22].split(","),
            "redirect_url": nil(v[23]),
            "error": {"reason": nil(v[24])},
            "target_port_list": None if v[25] == "-" else v[25].split(" "),
            "target_status_code_list": None if v[26] == "-" else v[26].split(" "),
            "classification": nil(v[27]),
            "classification_reason": nil(v[28]),
            "connection_trace_id": nil(v[29]) if len(v) > 29 else None,
        }},
        "source": {"address": cip, "port": int(cport)},
        "http": {"request": {"method": nil(method), "bytes": int(v[10])},
                 "version": proto[5:] if proto.startswith("HTTP/") else None,
                 "response": {"status_code": None if v[8] == "-" else int(v[8]), "bytes": int(v[11])}},
        "url": {"original": nil(target)},
        "user_agent": {"original": nil(v[13])},
        "tls": {"cipher": nil(v[14]), "protocol": nil(v[15]), "client": {"server_name": nil(v[18])}},
    }, None


# ---------------------------------------------------------------- aws-elb
ELB_KINDS = "wwwwwwwwwwwqqww"   # 11 words, "request" "user_agent", cipher, protocol


def host_port(s):
    """(address, port) of "address:port" (an IPv6 address unbracketed), or None."""
    addr, sep, port = s.rpartition(":")
    if not sep or not addr or not port.isdigit():
        return None
    return addr, int(port)


def elb_seconds(s):
    """A processing time: None for -1, else the float; False when it is not a number."""
    if s == "-1":
        return None
    try:
        return float(s)
    except ValueError:
        return False


def aws_elb(line):
    bad = (None, "not an AWS Classic ELB access log line")
    first = line.split(" ", 2)
    if len(first) > 2 and first[0] in ("http", "https", "h2", "grpcs", "ws", "wss") and \
            re.fullmatch(r"\d{4}-\d\d-\d\dT.*", first[1]):
        return None, "an AWS ALB access log line, not Classic ELB (see aws-alb.lw)"
    t = tokens(line)
    if t is None or "".join(k for k, _ in t) != ELB_KINDS:
        return bad
    (time, name, client, backend, rqt, bkt, rst, status, bstatus, rbytes, sbytes, request, ua,
     cipher, proto) = (x for _, x in t)
    src = host_port(client)
    tgt = (None, None) if backend == "-" else host_port(backend)
    secs = [elb_seconds(x) for x in (rqt, bkt, rst)]
    code = lambda x: None if x == "-" else int(x) if len(x) == 3 and x.isdigit() else False
    if src is None or tgt is None or False in secs or code(status) is False or \
            code(bstatus) is False or not rbytes.isdigit() or not sbytes.isdigit():
        return bad
    when = rfc3339_ns(time)
    if when is None:
        return None, (f'parse_time(): cannot parse "{time}" with "rfc3339": day 30 out of range '
                      "for February 2024")
    method = url = version = None
    words = (request[:-1] if request.endswith(" ") else request).split(" ")
    vers = words[-1][5:] if words[-1].startswith("HTTP/") else ""
    if len(words) == 3 and (words[0] == "-" or words[0].isalpha() and words[0].isupper()) and \
            words[1] and (words[2] == "-" or vers and all(c in "0123456789." for c in vers)):
        nil = lambda x: None if x == "-" else x
        method, url = nil(words[0]), nil(words[1])
        version = vers or None
    return {
        "@timestamp": when,
        "aws": {"elb": {
            "name": name,
            "target": {"address": tgt[0], "port": tgt[1], "status_code": code(bstatus)},
            "request_processing_time": {"sec": secs[0]},
            "backend_processing_time": {"sec": secs[1]},
            "response_processing_time": {"sec": secs[2]},
        }},
        "source": {"address": src[0], "port": src[1]},
        "http": {"request": {"method": method, "bytes": int(rbytes)},
                 "version": version,
                 "response": {"status_code": code(status), "bytes": int(sbytes)}},
        "url": {"original": url},
        "user_agent": {"original": None if ua == "-" else ua},
        "tls": {"cipher": None if cipher == "-" else cipher,
                "protocol": None if proto == "-" else proto},
    }, None


# ---------------------------------------------------------------- postgresql
PG_LEVELS = ("LOG INFO NOTICE WARNING ERROR FATAL PANIC DETAIL HINT QUERY CONTEXT STATEMENT LOCATION "
             "DEBUG1 DEBUG2 DEBUG3 DEBUG4 DEBUG5").split()


def postgresql(rec):
    bad = (None, "not a PostgreSQL log line (time [pid] LEVEL:  message)")
    head, sep, msg = rec.partition(":  ")
    if not sep:
        return bad
    f = head.split(" ")
    if len(f) < 4 or f[-1] not in PG_LEVELS:
        return bad
    date, clock = f[0], f[1]
    rest = f[2:-1]
    zone = None
    if not rest[0].startswith("["):
        zone, rest = rest[0], rest[1:]
    if not rest or not re.fullmatch(r"\[\d+(-\d+)?\]", rest[0]) or len(rest) > 2:
        return bad
    pid = int(rest[0][1:-1].split("-")[0])
    user = db = None
    if len(rest) == 2:
        user, _, db = rest[1].partition("@")
    if "." not in clock:
        clock += ".0"
    local = dt.datetime.fromisoformat(date + "T" + clock.split(".")[0] + "." + clock.split(".")[1].ljust(6, "0"))
    if zone in ("UTC", "GMT"):
        tz = dt.timezone.utc
    elif zone and zone[0] in "+-":
        tz = dt.timezone(dt.timedelta(hours=int(zone[:3])))
    else:
        tz = ZONE
    level = f[-1]
    ms = step = query = None
    m = re.fullmatch(r"duration: ([\d.]+) ms(?:  (statement|(?:execute|parse|bind) [^:\n]*): (.*))?", msg, re.S)
    if m:
        ms, step, query = m.groups()
    else:
        m = re.fullmatch(r"(statement|(?:execute|parse|bind) [^:\n]*): (.*)", msg, re.S)
        if m:
            step, query = m.groups()
        elif level == "STATEMENT":
            query = msg
    return {
        "@timestamp": rfc3339(local.replace(tzinfo=tz)),
        "process": {"pid": pid},
        "user": {"name": user or None},
        "postgresql": {"log": {"database": db or None, "query_step": step, "query": query}},
        "log": {"level": level},
        "message": msg,
        "event": {"duration": None if ms is None else round(float(ms) * 1000000)},
    }, None


# ---------------------------------------------------------------- mysql-slowlog
def mysql_entry(lines, when):
    m = re.fullmatch(r"# User@Host: ([^\[ ]*)\[([^\]]*)\] @ ([^\[ ]*) ?\[([^\]]*)\](?:\s+Id:\s+(\d+))?", lines[0])
    if not m:
        return None
    user, cuser, host, ip, tid = m.groups()
    i = 1
    schema = None
    if lines[i].startswith("# Thread_id: "):
        w = lines[i].split()
        tid, schema = w[2], (w[4] if w[4] != "QC_hit:" else "")
        i += 1
    w = lines[i].split()
    if w[:1] != ["#"] or w[1] != "Query_time:":
        return None
    try:
        qt, lt, rs, rx = float(w[2]), float(w[4]), int(w[6]), int(w[8])
    except ValueError:
        return None
    i += 1
    while i < len(lines) and lines[i].startswith("#"):
        i += 1
    db = None
    if i < len(lines) and lines[i].startswith("use ") and lines[i].endswith(";"):
        db = lines[i][4:-1]
        i += 1
    if i < len(lines) and lines[i].startswith("SET timestamp="):
        i += 1
    sql = []
    for l in lines[i:]:
        if ", Version: " in l and l.endswith("started with:"):
            break
        sql.append(l)
    return {
        "@timestamp": when,
        "user": {"name": user},
        "source": {"domain": host or None, "ip": ip or None},
        "mysql": {"thread_id": int(tid) if tid else None,
                  "slowlog": {"current_user": cuser, "lock_time": {"sec": lt}, "rows_sent": rs,
                              "rows_examined": rx, "schema": db if db is not None else (schema or None),
                              "query": "\n".join(sql)}},
        "event": {"duration": round(qt * 1e9)},
    }


def mysql_slowlog(rec):
    lines = rec.split("\n")
    if not lines[0].startswith("# Time: "):
        if ", Version: " in lines[0] and lines[0].endswith("started with:"):
            return [], None
        return None, "not a MySQL slow log entry (expected '# Time:')"
    t = lines[0][8:]
    if re.fullmatch(r"\d{6} +\d?\d:\d\d:\d\d", t):
        when = rfc3339(dt.datetime.strptime(t, "%y%m%d %H:%M:%S").replace(tzinfo=ZONE))
    else:
        when = rfc3339_ns(t)
    entries, cur = [], None
    for l in lines[1:]:
        if l.startswith("# User@Host: "):
            cur = [l]
            entries.append(cur)
        elif cur is None:
            return None, "not a MySQL slow log entry (User@Host, Query_time, SQL): " + l[:60]
        else:
            cur.append(l)
    out = []
    for e in entries:
        r = mysql_entry(e, when)
        if r is None:
            return None, "not a MySQL slow log entry (User@Host, Query_time, SQL): " + "\n".join(e)[:60]
        if when is None:
            return None, ('parse_time(): cannot parse "2024-02-30T12:00:09Z" with "rfc3339": day 30 '
                          "out of range for February 2024")
        out.append(r)
    return out, None


# ---------------------------------------------------------------- kv-firewall
def year_of(mon, day, hh, mm, ss):
    """The year rule of stamps without one: the latest year, from NOW's + 1 down to NOW's - 8,
    that puts the stamp at most a day after NOW."""
    for year in range(NOW.year + 1, NOW.year - 9, -1):
        try:
            when = dt.datetime(year, MONTHS.index(mon) + 1, day, hh, mm, ss, tzinfo=ZONE)
        except ValueError:                          # Feb 29 of a common year
            continue
        if when <= NOW + dt.timedelta(days=1):
            return when


def forti_pairs(text):
    """FortiOS key=value pairs, values optionally in double quotes; None on an open quote."""
    out = {}
    i = 0
    while i < len(text):
        while i < len(text) and text[i] == " ":
            i += 1
        j = text.index("=", i)
        key = text[i:j]
        i = j + 1
        if text[i:i + 1] == '"':
            k = text.find('"', i + 1)
            if k < 0:
                return None
            out[key], i = text[i + 1:k], k + 1
        else:
            k = text.find(" ", i)
            k = len(text) if k < 0 else k
            out[key], i = text[i:k], k
    return out


def kv_firewall(line):
    body = re.sub(r"^<\d+>", "", line)
    if " kernel: " in body and " IN=" in " " + body:
        head, _, rest = body.partition(" kernel: ")
        rest = re.sub(r"^\[\s*\d+\.\d+\] ", "", rest)
        i = rest.find("IN=")
        prefix, kvtext = rest[:i].strip(), rest[i:]
        words = kvtext.split(" ")
        kv, first, flags = {}, {}, []
        for w in words:
            if "=" in w:
                k, v = w.split("=", 1)
                kv[k] = v
                first.setdefault(k, v)
            elif w:
                flags.append(w)
        if "SRC" not in kv or "DST" not in kv:
            return None, "netfilter line without SRC= and DST="
        mon, day, clock = head[:3], int(head[4:6]), head[7:15]
        when = year_of(mon, day, *map(int, clock.split(":")))
        mac = kv.get("MAC", "")
        dmac = smac = None
        if len(mac) == 41:
            dmac, smac = mac[:17].upper().replace(":", "-"), mac[18:35].upper().replace(":", "-")
        ufw = re.fullmatch(r"\[UFW ([A-Z]+)\]", prefix)
        return {
            "@timestamp": rfc3339(when),
            "observer": {"hostname": head[16:], "type": "netfilter",
                         "ingress": {"interface": {"name": kv["IN"] or None}},
                         "egress": {"interface": {"name": kv["OUT"] or None}}},
            "source": {"ip": kv["SRC"], "port": int(kv["SPT"]) if "SPT" in kv else None, "mac": smac},
            "destination": {"ip": kv["DST"], "port": int(kv["DPT"]) if "DPT" in kv else None, "mac": dmac},
            "network": {"transport": kv["PROTO"].lower() if "PROTO" in kv else None,  # none after an
                        "bytes": int(first["LEN"])},                           # unknown IPv6 ext header
            "event": {"action": ufw.group(1).lower() if ufw else None, "duration": None},
            "rule": {"id": None},
            "iptables": {"prefix": prefix or None,
                         "ttl": int(first["TTL"]) if "TTL" in first else None,
                         "id": int(first["ID"]) if "ID" in first and "TTL" in first else None,
                         "flags": flags},
        }, None
    if body.startswith("date="):
        kv = forti_pairs(body)
        if kv is None:
            return None, "parse_kv(): unterminated quote at byte 82"
        if "srcip" not in kv or "dstip" not in kv:
            return None, "FortiGate line without srcip and dstip"
        when = dt.datetime.fromisoformat(kv["date"] + "T" + kv["time"])
        if "tz" in kv:
            z = kv["tz"]
            when = when.replace(tzinfo=dt.timezone((1 if z[0] == "+" else -1) * dt.timedelta(hours=int(z[1:3]), minutes=int(z[3:]))))
        else:
            when = when.replace(tzinfo=ZONE)
        names = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp"}
        return {
            "@timestamp": rfc3339(when),
            "observer": {"hostname": kv.get("devname"), "type": "fortigate",
                         "ingress": {"interface": {"name": kv.get("srcintf")}},
                         "egress": {"interface": {"name": kv.get("dstintf")}}},
            "source": {"ip": kv["srcip"], "port": int(kv["srcport"]) if "srcport" in kv else None, "mac": None},
            "destination": {"ip": kv["dstip"], "port": int(kv["dstport"]) if "dstport" in kv else None, "mac": None},
            "network": {"transport": names.get(kv["proto"], kv["proto"]) if "proto" in kv else None,
                        "bytes": int(kv["sentbyte"]) + int(kv.get("rcvdbyte", 0)) if "sentbyte" in kv else None},
            "event": {"action": kv.get("action"),
                      "duration": int(kv["duration"]) * 10**9 if "duration" in kv else None},
            "rule": {"id": kv.get("policyid")},
            "fortigate": kv,
        }, None
    return None, "not a netfilter (IN= OUT= SRC= DST=) or FortiGate (date= time=) line"


# ---------------------------------------------------------------- nginx-combined, apache-common
def clf(line, combined):
    """The fields of a common (combined: plus referrer and agent) log line, or None: a split on
    spaces and a quote-aware reader, not the templates' regexes."""
    f = line.split(" ", 3)
    if len(f) < 4 or not f[3].startswith("[") or "] " not in f[3]:
        return None
    client, _, user = f[:3]
    if not client or not user or not f[1]:
        return None
    t, _, rest = f[3][1:].partition("] ")
    if not t or "]" in t:
        return None
    q = quoted(rest)
    if not q:
        return None
    req, rest = q
    parts = rest.split(" ", 3 if combined else 2)
    if len(parts) != (4 if combined else 3) or parts[0] != "":
        return None
    status, size = parts[1], parts[2]
    if len(status) != 3 or not status.isdigit() or not (size == "-" or size.isdigit()):
        return None
    ref = agent = None
    if combined:
        q = quoted(parts[3])
        if not q or not q[1].startswith(" "):
            return None
        ref, rest = q
        q = quoted(rest[1:])
        if not q or q[1] != "":
            return None
        agent = q[0]
    return client, user, t, req, int(status), 0 if size == "-" else int(size), ref, agent


def clf_record(fields, combined):
    client, user, t, req, status, size, ref, agent = fields
    sp = split_request(req)
    m, target, ver = sp or (None, None, None)
    request = {"method": m}
    if combined:
        request["referrer"] = None if ref == "-" else ref
    rec = {
        "@timestamp": rfc3339(clf_time(t)),
        "source": {"address": client},
        "user": {"name": None if user == "-" else user},
        "http": {"request": request, "version": ver,
                 "response": {"status_code": status, "body": {"bytes": size}}},
        "url": {"original": target},
    }
    if combined:
        rec["user_agent"] = {"original": agent}   # nginx-combined keeps "-" as logged
    rec["event"] = {"original": None if sp else req}
    return rec


def nginx_combined(line):
    fields = clf(line, True)
    if fields is None:
        return None, "not a combined access log line"
    return clf_record(fields, True), None


def apache_common(line):
    fields = clf(line, False)
    if fields is None:
        return None, "not a common log format line"
    return clf_record(fields, False), None


# ---------------------------------------------------------------- logfmt
GO_ESC = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def go_unquote(v):
    """A quoted logfmt value's text: Go's escapes, any other escaped character as itself."""
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c != "\\" or i + 1 >= len(v):
            out.append(c)
            i += 1
            continue
        x = v[i + 1]
        if x in GO_ESC:
            out.append(GO_ESC[x])
            i += 2
        elif x == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", v[i + 2:i + 6]):
            cp = int(v[i + 2:i + 6], 16)
            i += 6
            lo = v[i + 2:i + 6] if v[i:i + 2] == "\\u" else ""
            if 0xD800 <= cp < 0xDC00 and re.fullmatch(r"[dD][c-fC-F][0-9a-fA-F]{2}", lo):
                cp = 0x10000 + ((cp - 0xD800) << 10) + (int(lo, 16) - 0xDC00)
                i += 6
            elif 0xD800 <= cp < 0xE000:
                cp = 0xFFFD
            out.append(chr(cp))
        else:
            out.append(x)
            i += 2
    return "".join(out)


def logfmt_value(v):
    if re.fullmatch(r"-?[0-9]+", v):
        n = int(v)
        return n if -2**63 <= n < 2**63 else float(n)
    if re.fullmatch(r"-?[0-9]+\.[0-9]+", v):
        return float(v)
    return {"true": True, "false": False}.get(v, v)


def logfmt(line):
    """Tokens key=("..."|\\S*) left to right as in the W3 definition; an opening quote that
    never closes rejects the line at its byte."""
    out, i, n = {}, 0, len(line)
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        j = i
        while j < n and line[j] not in " \t=":
            j += 1
        if j == i:               # '=' at the start of a token: skipped
            i = j + 1 if j < n and line[j] == "=" else j
            continue
        key = line[i:j]
        if j >= n or line[j] != "=":
            i = j                # a word without '=': skipped
            continue
        i = j + 1
        if i < n and line[i] == '"':
            k = i + 1
            while k < n and line[k] != '"':
                k += 2 if line[k] == "\\" else 1
            if k >= n:
                return None, f"parse_logfmt(): unterminated quote at byte {len(line[:i].encode()) + 1}"
            out[key] = go_unquote(line[i + 1:k])
            i = k + 1
        else:
            k = i
            while k < n and line[k] not in " \t":
                k += 1
            out[key] = logfmt_value(line[i:k])
            i = k
    if not out:
        return [], None          # the template drops a line without pairs
    return out, None


ORACLES = {
    "kv-firewall": kv_firewall,
    "mysql-slowlog": mysql_slowlog,
    "postgresql": postgresql,
    "aws-alb": aws_alb,
    "aws-elb": aws_elb,
    "haproxy-http": haproxy_http,
    "java-stacktrace": java_stacktrace,
    "k8s-cri": k8s_cri,
    "docker-json": docker_json,
    "syslog-rfc5424": syslog_rfc5424,
    "syslog-rfc3164": syslog_rfc3164,
    "apache-error": apache_error,
    "apache-combined": apache_combined,
    "nginx-error": nginx_error_rec,
    "nginx-combined": nginx_combined,
    "apache-common": apache_common,
    "logfmt": logfmt,
}


def records(name, text):
    """Per-template framing of the input into records (lines unless said otherwise)."""
    start = {"java-stacktrace": r"\d{4}-\d\d-\d\d.\d\d:\d\d:\d\d",   # --multiline-start, as in
             "postgresql": r"\d{4}-\d\d-\d\d.\d\d:\d\d:\d\d",        # their .args
             "mysql-slowlog": r"#\sTime:"}.get(name)
    if start:
        out = []
        for i, l in enumerate(text.split("\n")[:-1]):
            if out and not re.match(start, l):
                out[-1] = (out[-1][0], out[-1][1] + "\n" + l)
            else:
                out.append((i + 1, l))
        return out
    return [(i + 1, l) for i, l in enumerate(text.split("\n")[:-1])]


ZONE = dt.timezone.utc


def same(a, b):
    """Equal with the same types (1 is not 1.0, true is not 1) and members in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def main():
    names = sorted(ORACLES) if sys.argv[1:] == ["--all"] else sys.argv[1:]
    bad = 0
    for name in names:
        bad += check(name)
    sys.exit(1 if bad else 0)


class Loader(yaml.SafeLoader):
    """YAML as logwash test reads it: JSON's numbers (1e+20, 2.5e3) are floats, as in YAML 1.2."""


Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                             re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$"),
                             list("-0123456789"))


def check(name):
    """The oracle's records and dead letters against the expectations of NAME.test.yaml."""
    global ZONE
    with open(f"{TEMPLATES}/{name}.test.yaml", encoding="utf-8") as f:
        doc = yaml.load(f, Loader=Loader)
    tz = (doc.get("options") or {}).get("tz")
    ZONE = ZoneInfo(tz) if tz else dt.timezone.utc
    fn = ORACLES[name]
    # each case's input framed by the oracle itself (records()), so a case that is not one
    # record is found too; framed case by case, so a case can hold what a file starting
    # inside an entry gives (a continuation line alone)
    cases = doc["cases"]
    framed, first = [], 1
    for c in cases:
        framed.extend((first + num - 1, rec) for num, rec in records(name, c["input"] + "\n"))
        first += c["input"].count("\n") + 1
    want_out, want_dl = [], []
    for num, rec in framed:
        got, reason = fn(rec)
        if got is None:
            want_dl.append((num, reason, rec))
        else:
            want_out.extend(got if isinstance(got, list) else [got])
    out, dl, num = [], [], 1
    for c in cases:
        out.extend(c.get("expect", []))
        for key in ("rejected", "failed", "undecodable"):
            if key in c:
                dl.append((num, "decode" if key == "undecodable" else c[key], c["input"]))
        num += c["input"].count("\n") + 1
    bad = 0
    if len(out) != len(want_out):
        print(f"{name}: {len(out)} records expected by the test file, oracle expects {len(want_out)}")
        bad += 1
    for k, (a, b) in enumerate(zip(out, want_out)):
        if not same(a, b):
            bad += 1
            print(f"{name}: record {k + 1} differs:\n  test   {json.dumps(a)}\n  oracle {json.dumps(b)}")
    if dl != want_dl:
        bad += 1
        print(f"{name}: dead letters differ:\n  test   {dl}\n  oracle {want_dl}")
    if not bad:
        print(f"{name}: {len(out)} records, {len(dl)} dead letters agree with the oracle")
    return bad

if __name__ == "__main__":
    main()

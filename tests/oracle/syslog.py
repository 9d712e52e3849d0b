#!/usr/bin/env python3
# The independent oracle of parse_syslog: regexes and datetime, written apart from src/syslog.c.
# tests/golden/fn_parse_syslog_w4.out is its output for fn_parse_syslog_w4.in (the first 1000
# lines of shared/corpus/sample/w4.log); on all 10,000 lines its output is byte-identical to
# logwash --now 2024-03-12T00:00:00Z -e "emit parse_syslog(line)". Usage: syslog.py < in > out
import json, re, sys
from datetime import datetime, timezone, timedelta

NOW = datetime(2024, 3, 12, tzinfo=timezone.utc)
FAC = "kern user mail daemon auth syslog lpr news uucp cron authpriv ftp ntp security console solaris-cron local0 local1 local2 local3 local4 local5 local6 local7".split()
SEV = "emerg alert crit err warning notice info debug".split()
R3164 = re.compile(r'^<(\d{1,3})>([A-Z][a-z]{2})  ?(\d{1,2}) (\d\d):(\d\d):(\d\d) (?:(\S+) (?=\S))?(?:([^:\[\s]+)(?:\[([^\]\s]+)\])?: ?)?(.*)$', re.S)
R5424 = re.compile(r'^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[[^\]]*(?:\\\][^\]]*)*\])+)(?: (.*))?$', re.S)
MON = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

def rfc3339(dt):
    frac = dt.microsecond
    s = dt.strftime('%Y-%m-%dT%H:%M:%S')
    if frac:
        f = '%06d' % frac
        s += '.' + (f[:3] if f[3:] == '000' else f)
    off = dt.utcoffset()
    if off == timedelta(0):
        return s + 'Z'
    m = int(off.total_seconds()) // 60
    sign = '+' if m >= 0 else '-'
    m = abs(m)
    return s + '%s%02d:%02d' % (sign, m // 60, m % 60)

def sd_parse(sd):
    out = {}
    for m in re.finditer(r'\[([^\s\]]+)((?:\s[^=\s\]]+="(?:[^"\\]|\\.)*")*)\]', sd):
        e = out.setdefault(m.group(1), {})
        for p in re.finditer(r'([^=\s]+)="((?:[^"\\]|\\.)*)"', m.group(2)):
            e[p.group(1)] = re.sub(r'\\(["\\\]])', r'\1', p.group(2))
    return out

def pid(v):
    return int(v) if v.isdigit() else v

def parse(line):
    o = {}
    m = R5424.match(line)
    if m:
        pri = int(m.group(1))
        o.update(priority=pri, facility=FAC[pri // 8], facility_code=pri // 8,
                 severity=SEV[pri % 8], severity_code=pri % 8, version=int(m.group(2)))
        if m.group(3) != '-':
            o['timestamp'] = rfc3339(datetime.fromisoformat(m.group(3).replace('Z', '+00:00')))
        for k, g in (('hostname', 4), ('appname', 5), ('procid', 6), ('msgid', 7)):
            if m.group(g) != '-':
                o[k] = pid(m.group(g)) if k == 'procid' else m.group(g)
        if m.group(8) != '-':
            o['structured_data'] = sd_parse(m.group(8))
        msg = m.group(9) or ''
        if msg.startswith('\ufeff'):
            msg = msg[1:]
        o['message'] = msg
        return o
    m = R3164.match(line)
    pri = int(m.group(1))
    o.update(priority=pri, facility=FAC[pri // 8], facility_code=pri // 8,
             severity=SEV[pri % 8], severity_code=pri % 8)
    mon = MON.index(m.group(2)) + 1
    for y in range(NOW.year + 1, NOW.year - 9, -1):
        try:
            dt = datetime(y, mon, int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6)), tzinfo=timezone.utc)
        except ValueError:
            continue
        if dt <= NOW + timedelta(days=1):
            break
    o['timestamp'] = rfc3339(dt)
    if m.group(7): o['hostname'] = m.group(7)
    if m.group(8): o['appname'] = m.group(8)
    if m.group(9): o['procid'] = pid(m.group(9))
    o['message'] = m.group(10)
    return o

for line in sys.stdin.buffer.read().decode('utf-8').split('\n'):
    if line:
        print(json.dumps(parse(line), ensure_ascii=False, separators=(',', ':')))

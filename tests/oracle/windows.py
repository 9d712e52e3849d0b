#!/usr/bin/env python3
"""An independent oracle for logwash's window statements and seen() (logwash-template(7)
WINDOWS and DEDUP), written from the man page's rules, not from src/lib/state.c.

  windows.py --gen N SEED > corpus.jsonl    an ad log: out-of-order events, retries, nulls
  windows.py --expect corpus.jsonl > want    the results and the late records the template
                                             TEMPLATE (below) must give, one JSON per line
  windows.py --compare want got late_count   compare as multisets (the order of results is
                                             logwash's own, checked across -j by the script)
"""
import datetime
import json
import random
import sys

TEMPLATE = r'''input json
let t = parse_time(.ts, "rfc3339")
if seen(.rid, 10m, t) { drop }
window tumbling 1m at t late 20s key {campaign: .cid, country: .cc} {
    imps = count()
    spend = sum(.price)
    lo = min(.lat)
    hi = max(.lat)
    mean = avg(.lat)
    first_uid = first(.uid)
    last_uid = last(.uid)
}
window sliding 5m every 1m at t late 1m key .cc { n = count(.price); s = sum(.price) }
window session 2m at t late 30s key .uid { sn = count(); ss = sum(.price); fc = first(.cc); lc = last(.cc) }
'''

NS = 1_000_000_000
T0 = int(datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc).timestamp()) * NS


def fmt(ns):
    s, rem = divmod(ns, NS)
    d = datetime.datetime.fromtimestamp(s, datetime.timezone.utc)
    text = d.strftime("%Y-%m-%dT%H:%M:%S")
    if rem:  # 3, 6 or 9 fraction digits (logwash-template(7): how values are written)
        digits = "%09d" % rem
        n = 3 if rem % 1_000_000 == 0 else 6 if rem % 1000 == 0 else 9
        text += "." + digits[:n]
    return text + "Z"


def gen(n, seed):
    rnd = random.Random(seed)
    events = []
    for i in range(n):
        t = T0 + i * 90_000_000 + rnd.randrange(0, 50_000_000)  # ~11 events a second
        ev = {
            "ts": fmt(t // 1_000_000 * 1_000_000),
            "rid": "r%d" % i,
            "cid": rnd.choice(["c1", "c2", "c3", "c4", "c5"]),
            "cc": rnd.choice(["fr", "de", "us", "jp", None]),
            "price": rnd.choice([None, rnd.randrange(0, 10**15), rnd.randrange(0, 1000)]),
            "lat": round(rnd.uniform(0.5, 900.0), rnd.choice([0, 1, 3])),
            "uid": rnd.choice([None, "u%d" % rnd.randrange(1000)]),
        }
        delay = rnd.randrange(0, 30 * NS)  # arrival: most within 30 s
        if rnd.random() < 0.02:
            delay = rnd.randrange(0, 240 * NS)  # some very late
        events.append((t + delay, i, ev))
        if rnd.random() < 0.03:  # a retry of the same request, seconds to 15 minutes later
            events.append((t + delay + rnd.randrange(NS, 900 * NS), i, dict(ev)))
    if n > 10:
        events.append((T0 + 5 * NS, -1, {"ts": "not a time", "rid": "bad"}))
    events.sort(key=lambda e: (e[0], e[1]))
    for _, _, ev in events:
        print(json.dumps(ev, separators=(",", ":")))


def parse_ts(s):
    if not isinstance(s, str) or not s.endswith("Z"):
        return None
    try:
        main, _, frac = s[:-1].partition(".")
        d = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    return int(d.timestamp()) * NS + (int((frac + "000000000")[:9]) if frac else 0)


class Agg:
    def __init__(self):
        self.n = 0
        self.isum = 0
        self.fsum = 0.0
        self.anyfloat = False
        self.mm = None


def add_num(a, v):
    if v is None:
        return
    a.n += 1
    if isinstance(v, float):
        a.fsum += v
        a.anyfloat = True
    else:
        a.isum += v


def sum_out(a):
    return float(a.isum) + a.fsum if a.anyfloat else a.isum


def expect(path):
    ttl = 600 * NS
    dedup = {}
    dmax = None
    stmts = [  # size, step, late
        dict(size=60 * NS, step=60 * NS, late=20 * NS, wm=None, open={}),
        dict(size=300 * NS, step=60 * NS, late=60 * NS, wm=None, open={}),
    ]
    out = []
    late_records = 0
    # sessions (logwash-template(7) window session): per key a list of open sessions, each
    # [start, last, count, Agg, first (seq, value), last (seq, value)]
    gap, slate = 120 * NS, 30 * NS
    sess = {}
    swm = None
    seq = 0

    def sclose(force=False):
        for key in sorted(sess):
            keep = []
            for x in sess[key]:
                if force or swm >= x[1] + gap + gap + slate:
                    k = json.loads(key)
                    r = {} if k is None else {"key": k}
                    r.update(window_start=fmt(x[0]), window_end=fmt(x[1] + gap), sn=x[2],
                             ss=sum_out(x[3]), fc=x[4][1], lc=x[5][1])
                    out.append(r)
                else:
                    keep.append(x)
            sess[key] = keep

    def close(st, idx, force=False):
        for (start, end) in sorted(st["open"]):
            if force or st["wm"] >= end + st["late"]:
                for key, acc in st["open"].pop((start, end)).items():
                    out.append(result(idx, key, start, end, acc))

    for line in open(path):
        rec = json.loads(line)
        t = parse_ts(rec.get("ts"))
        if t is None:
            continue  # parse_time fails: the record is an error, nothing counted
        k = json.dumps(rec.get("rid"), separators=(",", ":"))
        exp = dedup.get(k)
        # seen: remembered within the ttl, and not expired by the latest time before
        seen = exp is not None and t < exp and (dmax is None or dmax < exp)
        dmax = t if dmax is None else max(dmax, t)
        if seen:
            continue  # dropped before the windows
        dedup[k] = t + ttl
        any_late = False
        for idx, st in enumerate(stmts):
            if idx == 0:
                key = json.dumps({"campaign": rec.get("cid"), "country": rec.get("cc")},
                                 separators=(",", ":"))
            else:
                key = json.dumps(rec.get("cc"), separators=(",", ":"))
            st["wm"] = t if st["wm"] is None else max(st["wm"], t)
            start = t // st["step"] * st["step"]
            while start > t - st["size"]:
                end = start + st["size"]
                if st["wm"] >= end + st["late"]:
                    any_late = True
                else:
                    acc = st["open"].setdefault((start, end), {}).setdefault(key, new_acc(idx))
                    update(idx, acc, rec)
                start -= st["step"]
            close(st, idx)
        # the session statement: late when its own session [t, t + gap) is over; else it
        # merges with every open session of its key it overlaps
        seq += 1
        swm = t if swm is None else max(swm, t)
        if swm >= t + gap + slate:
            any_late = True
        else:
            key = json.dumps(rec.get("uid"), separators=(",", ":"))
            cc = rec.get("cc")
            new = [t, t, 1, Agg(), (seq, cc) if cc is not None else (None, None),
                   (seq, cc) if cc is not None else (None, None)]
            add_num(new[3], rec.get("price"))
            keep = []
            for x in sess.get(key, []):
                if x[0] < t + gap and t < x[1] + gap:  # overlap: merge into new
                    new[0], new[1], new[2] = min(new[0], x[0]), max(new[1], x[1]), new[2] + x[2]
                    new[3].n += x[3].n
                    new[3].isum += x[3].isum
                    new[3].fsum += x[3].fsum
                    new[3].anyfloat |= x[3].anyfloat
                    if x[4][0] is not None and (new[4][0] is None or x[4][0] < new[4][0]):
                        new[4] = x[4]
                    if x[5][0] is not None and (new[5][0] is None or x[5][0] > new[5][0]):
                        new[5] = x[5]
                else:
                    keep.append(x)
            sess[key] = keep + [new]
        sclose()
        late_records += any_late
    for idx, st in enumerate(stmts):
        close(st, idx, force=True)
    sclose(force=True)
    for r in out:
        print(json.dumps(r, separators=(",", ":"), sort_keys=True))
    print(json.dumps({"late_records": late_records}))


def new_acc(idx):
    if idx == 0:
        return {"imps": 0, "spend": Agg(), "lat": Agg(), "lo": None, "hi": None,
                "first": None, "last": None}
    return {"n": 0, "s": Agg()}


def update(idx, acc, rec):
    if idx == 0:
        acc["imps"] += 1
        add_num(acc["spend"], rec.get("price"))
        lat = rec.get("lat")
        add_num(acc["lat"], lat)
        if lat is not None:
            acc["lo"] = lat if acc["lo"] is None or lat < acc["lo"] else acc["lo"]
            acc["hi"] = lat if acc["hi"] is None or lat > acc["hi"] else acc["hi"]
        uid = rec.get("uid")
        if uid is not None:
            if acc["first"] is None:
                acc["first"] = uid
            acc["last"] = uid
    else:
        if rec.get("price") is not None:
            acc["n"] += 1
        add_num(acc["s"], rec.get("price"))


def result(idx, key, start, end, acc):
    k = json.loads(key)
    r = dict(k) if isinstance(k, dict) else ({} if k is None else {"key": k})
    r["window_start"] = fmt(start)
    r["window_end"] = fmt(end)
    if idx == 0:
        lat = acc["lat"]
        r.update(imps=acc["imps"], spend=sum_out(acc["spend"]), lo=acc["lo"], hi=acc["hi"],
                 mean=(sum_out(lat) / lat.n) if lat.n else None, first_uid=acc["first"],
                 last_uid=acc["last"])
    else:
        r.update(n=acc["n"], s=sum_out(acc["s"]))
    return r


def compare(want_path, got_path, late_got):
    want = [l.rstrip("\n") for l in open(want_path)]
    late_want = json.loads(want.pop())["late_records"]
    got = [json.dumps(json.loads(l), separators=(",", ":"), sort_keys=True)
           for l in open(got_path)]
    ok = True
    if sorted(want) != sorted(got):
        ws, gs = set(want), set(got)
        for l in sorted(ws - gs)[:5]:
            print("missing: " + l)
        for l in sorted(gs - ws)[:5]:
            print("unexpected: " + l)
        print("results: %d wanted, %d got" % (len(want), len(got)))
        ok = False
    if int(late_got) != late_want:
        print("late records: %d wanted, %s got" % (late_want, late_got))
        ok = False
    if ok:
        print("%d results, %d late records" % (len(want), late_want))
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "--gen":
        gen(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "--template":
        sys.stdout.write(TEMPLATE)
    elif sys.argv[1] == "--expect":
        expect(sys.argv[2])
    elif sys.argv[1] == "--compare":
        sys.exit(0 if compare(sys.argv[2], sys.argv[3], sys.argv[4]) else 1)

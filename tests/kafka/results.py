#!/usr/bin/env python3
# tests/kafka/results.py: the windowed results' checks the Kafka window tests share
# (windows.sh, winparts.sh, winlate.sh, winmulti.sh, twostage.sh).
#   results.py canon            JSON lines of stdin, each with sorted keys, the lines sorted
#   results.py union WANT GOT [only]
#                               every (window_start, window_end, key) result of WANT (one per
#                               window statement and key) is in GOT with the same
#                               values, GOT has no other result (a line without window_start is a
#                               record's own output: skipped; with `only`, an error: GOT holds
#                               results only), duplicates must be identical; prints a summary or
#                               the first errors, exit 1 on any error
import json
import sys


def canon():
    print("\n".join(sorted(json.dumps(json.loads(l), sort_keys=True) for l in sys.stdin)))
    return 0


def union(want_path, got_path, only):
    want = {}
    for line in open(want_path):
        r = json.loads(line)
        want[(r["window_start"], r["window_end"], r["key"])] = r
    seen, dups, errs = set(), 0, []
    for line in open(got_path):
        r = json.loads(line)
        if "window_start" not in r and not only:
            continue  # a record's own output
        k = (r.get("window_start"), r.get("window_end"), r.get("key"))
        if k not in want:
            errs.append("unexpected result %s" % line.strip())
        elif r != want[k]:
            errs.append("%s: got %s, want %s" % (k, json.dumps(r), json.dumps(want[k])))
        dups += k in seen
        seen.add(k)
    errs += ["missing %s" % (k,) for k in want if k not in seen]
    if errs:
        print("; ".join(errs[:4]))
        return 1
    print("%d results, %d distinct, %d duplicates identical" % (len(seen) + dups, len(seen), dups))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["canon"]:
        sys.exit(canon())
    if sys.argv[1:2] == ["union"] and len(sys.argv) in (4, 5) and sys.argv[4:] in ([], ["only"]):
        sys.exit(union(sys.argv[2], sys.argv[3], sys.argv[4:] == ["only"]))
    sys.exit("usage: results.py canon | results.py union WANT GOT [only]")

#!/usr/bin/env python3
# The reference of W2r (bench/w2r.lw): JSON events on stdin, each reshaped: user.email
# deleted, msg renamed message and request_id trace_id (null when absent), the members of the
# http object merged into the record (right wins), http and flags deleted.
import json
import sys

out = sys.stdout
for line in sys.stdin:
    r = json.loads(line)
    u = r.get("user")
    if isinstance(u, dict):
        u.pop("email", None)
    r["message"] = r.pop("msg", None)
    r["trace_id"] = r.pop("request_id", None)
    http = r.pop("http", None) or {}
    r.pop("flags", None)
    r.update(http)
    out.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")

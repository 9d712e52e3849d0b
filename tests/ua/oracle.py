#!/usr/bin/env python3
"""parse_user_agent against ua-parser's Python reference (python3-ua-parser) over the user
agents of uap-core's own test files: prints each disagreement, then a summary line; exit 1
when any. Usage: oracle.py LOGWASH REGEXES.yaml UA-FILE..."""
import json
import os
import subprocess
import sys

import yaml

logwash, regexes, files = sys.argv[1], sys.argv[2], sys.argv[3:]
os.environ["UA_PARSER_YAML"] = regexes
from ua_parser import user_agent_parser as up  # noqa: E402 (reads UA_PARSER_YAML on import)

uas = []
for f in files:
    with open(f, encoding="utf-8") as fp:
        for c in yaml.load(fp, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["test_cases"]:
            s = c.get("user_agent_string")
            if isinstance(s, str) and "\n" not in s and "\r" not in s:
                uas.append(s)
uas = list(dict.fromkeys(uas))
env = dict(os.environ, LOGWASH_UA_REGEXES=regexes)
out = subprocess.run([logwash, "-j", "1", "-e", "emit parse_user_agent(line)"],
                     input="\n".join(uas) + "\n", capture_output=True, text=True, env=env,
                     check=False)
got = out.stdout.splitlines()
if out.returncode != 0 or len(got) != len(uas):
    sys.exit("oracle: logwash exited %d with %d lines for %d user agents\n%s"
             % (out.returncode, len(got), len(uas), out.stderr))
bad = 0
for ua, line in zip(uas, got):
    want = up.Parse(ua)
    want = {k: want[k] for k in ("user_agent", "os", "device")}
    have = json.loads(line)
    if have != want:
        bad += 1
        if bad <= 20:
            print("differs: %s\n  logwash: %s\n  python:  %s" % (ua, json.dumps(have), json.dumps(want)))
print("parse_user_agent: %d user agents, %d agree with python3-ua-parser, %d differ"
      % (len(uas), len(uas) - bad, bad))
sys.exit(1 if bad else 0)

#!/usr/bin/env python3
"""Write templates/NAME.test.yaml from a log sample: one case per record, without expectations.

    python3 tools/template-tests.py NAME SAMPLE [--tz ZONE] [--multiline-start REGEX]
    python3 tools/template-tests.py --strip FILE...

Each record of SAMPLE (a line, or with --multiline-start the lines joined as logwash(1) frames
them) becomes a case named after its line in SAMPLE; `logwash test --update templates/NAME.test.yaml`
then records what the template gives now, and tests/templates/oracle.py checks that against
its own parsing. Used once to move the golden tests of tests/templates/ (NAME.in, .args) here;
kept for new templates. --strip removes the expectations from files written so (block-style
cases, keys indented by four spaces), so that after a deliberate change of the language
`logwash test --update` records them again: review the result with git diff and the oracle.
"""
import json
import re
import sys

# characters YAML does not take as they are inside a scalar (or that a reader may drop)
SPECIAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def quote(s):
    """A JSON string, which is also a YAML double-quoted scalar."""
    return SPECIAL.sub(lambda m: "\\u%04x" % ord(m.group()), json.dumps(s, ensure_ascii=False))


def block_ok(rec):
    """A multi-line record that a literal block scalar (|-) keeps exactly."""
    lines = rec.split("\n")
    return (len(lines) > 1 and not SPECIAL.search(rec) and "\r" not in rec
            and lines[0][:1] not in (" ", "") and all(l == l.rstrip(" ") and l for l in lines))


def records(text, start):
    out = []
    for i, line in enumerate(text.split("\n")[:-1]):
        if start and out and not re.search(start, line):
            out[-1] = (out[-1][0], out[-1][1] + "\n" + line)
        else:
            out.append((i + 1, line))
    return out


EXPECTATION = re.compile(r"^    (expect|expect_subset|printed|dropped|rejected|failed|undecodable):")


def strip(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, skipping = [], False
    for l in lines:
        if EXPECTATION.match(l):
            skipping = True
            continue
        if skipping and l.startswith("      "):
            continue
        skipping = False
        out.append(l)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def main():
    args = sys.argv[1:]
    if args[0] == "--strip":
        for path in args[1:]:
            strip(path)
        return
    name, sample = args[0], args[1]
    opts = dict(zip(args[2::2], args[3::2]))
    with open(sample, encoding="utf-8") as f:
        text = f.read()
    start = opts.get("--multiline-start")
    out = [f"# The cases of templates/{name}.lw: the records of a sample log, one case each, named",
           "# after the record's line in the sample. Expectations recorded by `logwash test --update`,",
           "# checked by tests/templates/oracle.py (its own parsing) in `make templates`.",
           "options:", "  now: 2024-03-10T12:00:00Z"]
    if "--tz" in opts:
        out.append(f"  tz: {opts['--tz']}")
    if start:
        out.append(f"# the records as logwash --multiline-start '{start}' frames them")
    out.append("cases:")
    for num, rec in records(text, start):
        out.append(f"  - name: line {num}")
        if block_ok(rec):
            out.append("    input: |-")
            out.extend("      " + l for l in rec.split("\n"))
        else:
            out.append(f"    input: {quote(rec)}")
    with open(f"templates/{name}.test.yaml", "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()

#!/bin/sh
# Window statements (tumbling, sliding, merging sessions) and seen() against an independent
# oracle: tests/oracle/windows.py (written
# from logwash-template(7) WINDOWS and DEDUP, apart from src/lib/state.c) generates an ad log of
# 20,000 events arriving out of order (most within 30 s, some minutes late, retries of the same
# request seconds to 15 minutes later, nulls, int sums past the int range, a bad time) and says
# which (window, key) results and how many late records its template must give; logwash must
# give the same values, and the same bytes with -j 1, 2 and 3 at several batch sizes; and
# count_distinct and percentile within their stated accuracy of exact values (sketch.py).
# Skipped (saying so) without python3.
# Usage: tests/oracle/windows.sh BIN
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v python3 >/dev/null 2>&1; then
    echo "windows-oracle: skipped: python3 is not installed"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=$here/windows.py
python3 "$py" --gen 20000 7 > "$tmp/in.jsonl" || exit 1
python3 "$py" --template > "$tmp/t.lw" || exit 1
python3 "$py" --expect "$tmp/in.jsonl" > "$tmp/want" || exit 1
fail=0
"$bin" -q -j 1 -f "$tmp/t.lw" --dead-letter "$tmp/dl" "$tmp/in.jsonl" > "$tmp/got1"
late=$(grep -c '"kind":"late"' "$tmp/dl")
if msg=$(python3 "$py" --compare "$tmp/want" "$tmp/got1" "$late"); then :; else
    echo "$msg"
    echo "windows-oracle: FAIL: logwash and tests/oracle/windows.py differ"
    fail=1
fi
for j in 2 3; do
    for b in 1 7 1000; do
        LOGWASH_BATCH=$b "$bin" -q -j $j -f "$tmp/t.lw" --dead-letter "$tmp/dl$j" \
            "$tmp/in.jsonl" > "$tmp/got$j"
        if ! cmp -s "$tmp/got1" "$tmp/got$j" || ! cmp -s "$tmp/dl" "$tmp/dl$j"; then
            echo "windows-oracle: FAIL: -j $j with batches of $b differs from -j 1"
            fail=1
        fi
    done
done
# the summarising aggregates against their stated accuracy (tests/oracle/sketch.py)
python3 "$here/sketch.py" --gen 300000 11 > "$tmp/sk.jsonl" || exit 1
python3 "$here/sketch.py" --template > "$tmp/sk.lw" || exit 1
"$bin" -q --now 2026-01-01T00:00:00Z -f "$tmp/sk.lw" "$tmp/sk.jsonl" > "$tmp/sk.out"
if skmsg=$(python3 "$here/sketch.py" --check "$tmp/sk.jsonl" "$tmp/sk.out"); then
    echo "windows-oracle: sketches: $skmsg"
else
    echo "$skmsg"
    echo "windows-oracle: FAIL: count_distinct or percentile outside its stated accuracy"
    fail=1
fi
[ $fail = 0 ] && echo "windows-oracle: ok ($msg agree with tests/oracle/windows.py; -j 2 and 3 give the bytes of -j 1)"
exit $fail

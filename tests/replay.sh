#!/bin/sh
# Replays every fuzz corpus input (seed/ and regress/) through each target's replay binary,
# built without libFuzzer, so crashes found by fuzzing stay fixed. A target with no corpus at all
# fails: it would replay nothing and still pass.
# Usage: tests/replay.sh BUILD TARGET...
set -u
build=$1
shift
dir=$(dirname "$0")/fuzz/corpus
status=0
for t in "$@"; do
    set --
    for sub in seed regress; do [ -d "$dir/$t/$sub" ] && set -- "$@" "$dir/$t/$sub"; done
    if [ $# = 0 ]; then
        echo "replay $t: FAIL: no corpus ($dir/$t/seed or regress)"
        status=1
        continue
    fi
    "$build/replay-$t" "$@" || status=1
done
exit $status

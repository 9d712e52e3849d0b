#!/bin/sh
# Replays every fuzz corpus input (seed/ and regress/) through each target's replay binary,
# built without libFuzzer, so crashes found by fuzzing stay fixed.
# Usage: tests/replay.sh BUILD TARGET...
set -u
build=$1
shift
dir=$(dirname "$0")/fuzz/corpus
status=0
for t in "$@"; do
    set --
    for sub in seed regress; do [ -d "$dir/$t/$sub" ] && set -- "$@" "$dir/$t/$sub"; done
    "$build/replay-$t" "$@" || status=1
done
exit $status

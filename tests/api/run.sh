#!/bin/sh
# tests/api/run.sh ROOT OUTDIR LIBSO - liblogwash's API tests (make api). ROOT is a staged
# `make install-lib DESTDIR=ROOT PREFIX=/usr`; every tests/api/test_*.c is built with the flags
# `pkg-config --cflags --libs logwash` gives for it (PKG_CONFIG_SYSROOT_DIR=ROOT), plus CFLAGS
# and LDFLAGS from the environment (the sanitizers), and run. LIBSO is the built shared
# library, checked to export logwash_* symbols only and to need none of librdkafka, libfyaml,
# jansson. Prints "api: N passed, M failed".
set -u
[ $# -eq 3 ] || { echo "usage: tests/api/run.sh ROOT OUTDIR LIBSO" >&2; exit 2; }
ROOT=$1 OUT=$2 SO=$3
HERE=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
mkdir -p "$OUT"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "api: FAIL: $*" >&2; fail=$((fail + 1)); }

pcdir=$(dirname "$(find "$ROOT" -name logwash.pc | head -1)")
[ -f "$pcdir/logwash.pc" ] || { echo "api: FAIL: no logwash.pc under $ROOT" >&2; exit 1; }
export PKG_CONFIG_SYSROOT_DIR="$ROOT" PKG_CONFIG_PATH="$pcdir"
flags=$(pkg-config --cflags --libs logwash) || { echo "api: FAIL: pkg-config logwash" >&2; exit 1; }
case $flags in *"-I$ROOT/usr/include"*"-L$ROOT/usr/lib"*"-llogwash"*) ok ;;
*) bad "pkg-config gave '$flags'" ;; esac
libdir=$(pkg-config --variable=libdir logwash)
libdir=$ROOT${libdir#"$ROOT"} # pkg-config may or may not add the sysroot to variables
for f in liblogwash.a liblogwash.so liblogwash.so.0 liblogwash.so.0.1.0 pkgconfig/logwash.pc; do
    if [ -e "$libdir/$f" ]; then ok; else bad "$libdir/$f not installed"; fi
done
[ -f "$ROOT/usr/include/logwash.h" ] && ok || bad "logwash.h not installed"

# exports: logwash_* only (the sanitizers' own symbols aside)
other=$(nm -D --defined-only "$SO" | awk '{ print $3 }' |
    grep -Ev '^(logwash_|__(asan|ubsan|tsan|odr_asan|sanitizer)|_(init|fini)$|_edata$|_end$|__bss_start$)')
if [ -z "$other" ]; then ok; else bad "$SO exports $(echo $other | head -c 300)"; fi
nexp=$(nm -D --defined-only "$SO" | grep -c ' logwash_')
[ "$nexp" -ge 10 ] && ok || bad "$SO exports only $nexp logwash_ symbols"
needed=$(readelf -d "$SO" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case $needed in *rdkafka* | *fyaml* | *jansson*) bad "$SO needs $needed" ;; *) ok ;; esac
readelf -d "$SO" | grep -q 'SONAME.*\[liblogwash.so.0\]' && ok || bad "soname is not liblogwash.so.0"

for src in "$HERE"/test_*.c; do
    name=$(basename "$src" .c)
    # shellcheck disable=SC2086 # flags are words
    if ! $CC ${CFLAGS:-} -o "$OUT/$name" "$src" $flags -lpthread ${LDFLAGS:-} 2>"$OUT/$name.cc"; then
        cat "$OUT/$name.cc" >&2
        bad "$name: does not build"
        continue
    fi
    # linked against the shared library of the staged root, not the build tree's
    if readelf -d "$OUT/$name" | grep -q 'NEEDED.*liblogwash.so.0'; then ok; else bad "$name: not linked with liblogwash.so.0"; fi
    LD_LIBRARY_PATH="$libdir" "$OUT/$name" >"$OUT/$name.log" 2>&1
    rc=$?
    line=$(tail -1 "$OUT/$name.log")
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
    f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
    if [ -z "$p" ] || [ $rc -ne 0 ]; then
        cat "$OUT/$name.log" >&2
        bad "$name: exit status $rc"
        [ -n "$f" ] && fail=$((fail + f))
        [ -n "$p" ] && pass=$((pass + p))
        continue
    fi
    pass=$((pass + p))
    fail=$((fail + f))
    case $line in *skipped*) echo "api: $name: $line" ;; esac
done
echo "api: $pass passed, $fail failed"
[ "$fail" = 0 ]

#!/bin/sh
# tests/layers.sh - the layers of ARCHITECTURE.md, checked on the #include lines (make layers,
# part of check):
# - the program (src/app, src/io and their headers) includes only logwash.h, the base headers
#   (arena buf diag str base64 jsonstr), its own headers and system/library headers: never
#   the language's or the template functions' (program value vm codec json timefmt tz grok...);
# - the library (src/base, src/lang, src/lib, src/api) never includes a program header;
# - src/base includes only base headers.
# Prints "layers: N passed, M failed".
set -u
cd "$(dirname "$0")/.." || exit 2
pass=0 fail=0
base="arena buf diag str base64 jsonstr"
prog="opts kstate pipeline sink source stage deadletter kafka config validate test explain_cmd patlist metrics tablewatch repl uadata rdk job"

# includes FILE: the quoted includes of FILE, one per line ("lw/vm.h", "test_int.h")
includes() { sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }
in_list() { # in_list NAME LIST
    for x in $2; do [ "$x" = "$1" ] && return 0; done
    return 1
}
check() { # check FILE ALLOWED-lw-NAMES ALLOW-logwash.h(yes/no) WHAT
    bad=
    for inc in $(includes "$1"); do
        case $inc in
        logwash.h) [ "$3" = yes ] || bad="$bad $inc" ;;
        lw/*.h)
            n=${inc#lw/}; n=${n%.h}
            in_list "$n" "$2" || bad="$bad $inc" ;;
        */*) bad="$bad $inc" ;;           # another directory's private header
        *) [ -f "$(dirname "$1")/$inc" ] || bad="$bad $inc" ;; # its own module's _int.h
        esac
    done
    if [ -z "$bad" ]; then
        pass=$((pass + 1))
    else
        echo "layers: FAIL: $1 ($4) includes$bad" >&2
        fail=$((fail + 1))
    fi
}

for f in src/app/*.c src/app/*.h src/io/*.c; do
    check "$f" "$base $prog" yes "the program"
done
for n in $prog; do
    check "include/lw/$n.h" "$base $prog" yes "a program header"
done
lib_names=$(cd include/lw && ls *.h | sed 's/\.h$//')
lib_allowed=
for n in $lib_names; do in_list "$n" "$prog" || lib_allowed="$lib_allowed $n"; done
for f in src/lang/*.c src/lang/*.h src/lib/*.c src/lib/*.h src/api/*.c; do
    [ -f "$f" ] || continue
    # ../lib/builtins_int.h: lang and lib are one layer in two directories (ARCHITECTURE.md)
    bad=
    for inc in $(includes "$f"); do
        case $inc in
        ../lib/*.h | ../lang/*.h) ;;
        logwash.h) [ "${f#src/api/}" != "$f" ] || bad="$bad $inc" ;;
        lw/*.def) ;;
        lw/*.h) n=${inc#lw/}; n=${n%.h}; in_list "$n" "$lib_allowed" || bad="$bad $inc" ;;
        */*) bad="$bad $inc" ;;
        *) [ -f "$(dirname "$f")/$inc" ] || bad="$bad $inc" ;;
        esac
    done
    if [ -z "$bad" ]; then pass=$((pass + 1)); else
        echo "layers: FAIL: $f (the library) includes$bad" >&2
        fail=$((fail + 1))
    fi
done
for f in src/base/*.c; do
    check "$f" "$base strblk" no "base"
done
for n in $base; do
    check "include/lw/$n.h" "$base" no "a base header"
done
echo "layers: $pass passed, $fail failed"
[ $fail = 0 ]

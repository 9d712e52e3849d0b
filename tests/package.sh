#!/bin/sh
# The Debian package, as an ops team gets it: built from a copy of the tree with
# `dpkg-buildpackage -b -uc -us` (no network; the test suites are make check's, so nocheck),
# lintian without errors or warnings, installed into a scratch root with `dpkg -x`. The installed
# binary then runs shipped templates by name against their test inputs, checks the demo job,
# says its version; the unit passes `systemd-analyze verify`; bash completion offers the
# shipped template names. Skipped, saying so, without dpkg-buildpackage and debhelper.
# Usage: tests/package.sh
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v dpkg-buildpackage >/dev/null 2>&1 || ! command -v dh >/dev/null 2>&1; then
    echo "package: skipped: dpkg-buildpackage or debhelper is not installed (sh tools/deps.sh installs them)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "package: FAIL: $*"; fail=$((fail + 1)); }

mkdir "$tmp/src"
(cd "$root" && tar --exclude=./build --exclude='./build-*' --exclude=./.git -cf - .) | tar -xf - -C "$tmp/src"
if ! (cd "$tmp/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -b -uc -us) >"$tmp/build.log" 2>&1; then
    bad "dpkg-buildpackage failed:"; tail -20 "$tmp/build.log"
    echo "package: $pass passed, $fail failed"; exit 1
fi
deb=$(ls "$tmp"/logwash_*.deb)
ok
if command -v lintian >/dev/null 2>&1; then
    # errors and warnings only (info and pedantic tags are advice)
    lintian --fail-on error,warning "$tmp"/*.deb >"$tmp/lintian" 2>&1
    if grep -q '^[EW]:' "$tmp/lintian"; then bad "lintian: $(grep '^[EW]:' "$tmp/lintian")"; else ok; fi
else
    echo "package: lintian skipped: not installed"
fi

r=$tmp/root
dpkg -x "$deb" "$r"
# liblogwash0 and liblogwash-dev: a program built against the installed files through
# pkg-config, run against the installed shared library
for p in liblogwash0 liblogwash-dev; do
    d=$(ls "$tmp"/${p}_*.deb 2>/dev/null)
    if [ -n "$d" ]; then dpkg -x "$d" "$r"; ok; else bad "no $p package"; fi
done
pc=$(ls "$r"/usr/lib/*/pkgconfig/logwash.pc 2>/dev/null)
if [ -n "$pc" ] && command -v pkg-config >/dev/null 2>&1 && command -v cc >/dev/null 2>&1; then
    libdir=$(dirname "$(dirname "$pc")")
    cat >"$tmp/use.c" <<'C'
#include <logwash.h>
#include <stdio.h>
#include <string.h>
int
main(void)
{
    struct logwash_error err;
    const char *t = "input json\nemit {b: .a * 2}";
    struct logwash_template *tp = logwash_compile(t, strlen(t), NULL, &err);
    if (tp == NULL) return 1;
    struct logwash_runner *r = logwash_runner_new(tp, NULL, &err);
    if (r == NULL || logwash_run(r, "{\"a\":21}", 8, NULL) != LOGWASH_OK) return 2;
    size_t n;
    const struct logwash_output *o = logwash_outputs(r, &n);
    if (n != 1) return 3;
    fwrite(o[0].data, 1, o[0].len, stdout);
    logwash_runner_free(r);
    logwash_template_free(tp);
    return 0;
}
C
    # shellcheck disable=SC2046 # pkg-config's words
    if cc -o "$tmp/use" "$tmp/use.c" $(PKG_CONFIG_SYSROOT_DIR=$r PKG_CONFIG_PATH=$libdir/pkgconfig \
        pkg-config --cflags --libs logwash) 2>"$tmp/cc.err" &&
        [ "$(LD_LIBRARY_PATH=$libdir "$tmp/use")" = '{"b":42}' ] &&
        LD_LIBRARY_PATH=$libdir ldd "$tmp/use" | grep -q "$libdir/liblogwash.so.0"; then ok; else
        bad "a program using the installed liblogwash-dev: $(cat "$tmp/cc.err")"; fi
else
    bad "liblogwash-dev: no logwash.pc (or no pkg-config, cc)"
fi
lw=$r/usr/bin/logwash
export LOGWASH_TEMPLATES="$r/usr/share/logwash/templates"
# the installed templates pass their test files (the tree's, pointed at the installed template)
for n in nginx-combined syslog-rfc5424 logfmt; do
    { echo "template: $LOGWASH_TEMPLATES/$n.lw"; cat "$root/templates/$n.test.yaml"; } >"$tmp/$n.test.yaml"
    if "$lw" test -q "$tmp/$n.test.yaml" >"$tmp/out" 2>&1; then ok; else
        bad "installed $n.lw: $(head -5 "$tmp/out")"; fi
done
# -f @NAME finds an installed template: the first case of its test file
printf '%s\n' '1.2.3.4 - - [10/Mar/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "c"' >"$tmp/in"
if (cd "$tmp" && "$lw" -f @nginx-combined <in | grep -q '"status_code":200'); then ok; else
    bad "installed logwash -f @nginx-combined: no output"; fi
if "$lw" --list-templates | grep -q '^nginx-combined  *nginx (and Apache) "combined" access log'; then ok; else
    bad "--list-templates: $("$lw" --list-templates | head -3)"; fi
[ -f "$LOGWASH_TEMPLATES/w1-access-json.lw" ] && bad "benchmark templates are installed"
for f in usr/share/man/man1/logwash.1.gz usr/share/man/man5/logwash.yaml.5.gz \
    usr/share/man/man7/logwash-template.7.gz usr/share/logwash/patterns/base \
    usr/share/bash-completion/completions/logwash usr/share/zsh/vendor-completions/_logwash \
    usr/lib/sysusers.d/logwash.conf usr/share/doc/logwash/examples/demo.yaml; do
    if [ -f "$r/$f" ]; then ok; else bad "not installed: /$f"; fi
done
if "$lw" -c "$r/usr/share/doc/logwash/examples/demo.yaml" --check 2>"$tmp/err"; then ok; else bad "demo job: $(cat "$tmp/err")"; fi
if "$lw" --version | grep -q '^pcre2 .*librdkafka'; then ok; else bad "--version: $("$lw" --version)"; fi
if ldd "$lw" | grep -q jansson; then bad "the program links jansson"; else ok; fi

unit=$r/lib/systemd/system/logwash@.service
if [ ! -f "$unit" ]; then
    bad "not installed: /lib/systemd/system/logwash@.service"
elif command -v systemd-analyze >/dev/null 2>&1; then
    # the unit as installed, but for the binary's place in the scratch root
    sed "s|/usr/bin/logwash|$lw|" "$unit" >"$tmp/logwash@.service"
    systemd-analyze verify --man=no "$tmp/logwash@.service" >"$tmp/verify" 2>&1
    if [ -s "$tmp/verify" ]; then bad "systemd-analyze verify: $(cat "$tmp/verify")"; else ok; fi
else
    echo "package: systemd-analyze skipped: not installed"
fi

if command -v bash >/dev/null 2>&1; then
    got=$(LOGWASH_DATADIR=$r/usr/share/logwash bash -c '. "$1"; COMP_WORDS=("$2" -f nginx); COMP_CWORD=2; _logwash; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
        sh "$r/usr/share/bash-completion/completions/logwash" "$lw")
    if [ "$got" = "nginx-combined nginx-error " ]; then ok; else bad "bash completion of -f nginx: '$got'"; fi
    got=$(bash -c '. "$1"; COMP_WORDS=("$2" --on-error ""); COMP_CWORD=2; _logwash; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
        sh "$r/usr/share/bash-completion/completions/logwash" "$lw")
    if [ "$got" = "abort skip warn " ]; then ok; else bad "bash completion of --on-error: '$got'"; fi
fi
if command -v zsh >/dev/null 2>&1; then
    zsh -n "$r/usr/share/zsh/vendor-completions/_logwash" && ok || bad "zsh completion: syntax"
    specs=$(LOGWASH_DATADIR=$r/usr/share/logwash zsh -c 'setopt extendedglob; _call_program() { shift; "$@" }; _arguments() { print -l -- "$@" }; words=("$2"); source "$1"' \
        sh "$r/usr/share/zsh/vendor-completions/_logwash" "$lw")
    if printf '%s\n' "$specs" | grep -q "^--input=\[.*\]:text|json:(text json)$" &&
        printf '%s\n' "$specs" | grep -q "^-f\[.*(.*nginx-combined.*)"; then ok; else bad "zsh completion specs: $(printf '%s\n' "$specs" | head -3)"; fi
else
    echo "package: zsh completion skipped: zsh is not installed"
fi
echo "package: $pass passed, $fail failed"
[ "$fail" = 0 ]

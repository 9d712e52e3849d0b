#!/bin/sh
# Installs the Debian packages that building and testing logwash need, when missing.
# libexpat1-dev: parse_xml (src/lib/fn_xml.c); libidn2-dev: parse_url's IDNA hosts (its header;
# the library is loaded at the first xn-- host). tzdata: the IANA zones (/usr/share/zoneinfo) that --tz and the zone arguments read at run
# time; python3 (optional) is the oracle of tests/tz/oracle.sh.
# libmicrohttpd-dev: the --metrics-listen HTTP server (its header; the program loads the library
# when asked for a listener); librdkafka-dev: Kafka (its header; the program loads librdkafka
# when a run first uses Kafka); curl, prometheus
# (promtool and the server) and jq: tests/metrics.sh scrapes, checks and queries the metrics
# (it says "skipped" for what is missing).
# libedit-dev: `logwash repl`'s line editing and history (its header; the program loads libedit2
# on a terminal only); python3 drives tests/repl.sh through a pty.
# uap-core: ua-parser's regexes.yaml, the rules of parse_user_agent (read by the program, only for
# a template that calls it); python3-ua-parser (optional) is the oracle of tests/ua/oracle.sh.
# Run as root (or with sudo available). Prints nothing when everything is present.
set -e
pkgs="gcc make pkg-config libc6-dev libjansson-dev libpcre2-dev libxxhash-dev libmd-dev zlib1g-dev libexpat1-dev libidn2-dev groff-base valgrind librdkafka-dev kcat libfyaml-dev tzdata"
pkgs="$pkgs libmicrohttpd-dev curl prometheus jq"
pkgs="$pkgs libedit-dev python3"
pkgs="$pkgs uap-core python3-ua-parser"
# the package test (tests/package.sh): building the .deb, lintian, the unit, zsh completion
# (build-essential: dpkg-buildpackage requires it, and slim images lack dpkg-dev's recommends)
pkgs="$pkgs build-essential dpkg-dev debhelper lintian systemd zsh"
missing=
for p in $pkgs; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing"
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing

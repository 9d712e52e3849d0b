#!/bin/bash
# bench/run.sh LOGWASH - the corpus workloads W1 W1f W2 W2r W3 W4, logwash against its peers
# (mawk, gawk, perl, jq, Miller) on the same files, one core each, best of BENCH_RUNS.
# Run by `make bench`; never by the tests. See bench/README.md.
#
# Environment:
#   BENCH_DIR        cache for corpora, reference hashes and outputs (default /tmp/logwash-bench)
#   BENCH_RUNS       runs per tool and workload; the best is kept (default 3)
#   BENCH_LINES      cut every corpus to its first N lines (quick run; default: whole corpus)
#   BENCH_WORKLOADS  default "w1 w1f w2 w2r w3 w4"
#   BENCH_PEERS      default "mawk gawk perl jq mlr"; empty for logwash alone
#   BENCH_CPU        the CPU every timed process is pinned to (default 0)
#   BENCH_CPU2       the second CPU of the `logwash -j 2` runs (default 1; "" for no -j 2 runs)
#   BENCH_SLOW       a tool whose first run takes longer than this many seconds is not run
#                    again (its one run is reported; default 30; 0 = always BENCH_RUNS runs)
#   BENCH_TIMEOUT    seconds before one run is killed (default 1800)
#   BENCH_STARTUP_RUNS  runs averaged for the start-up+exit figure (default 200)
#   BENCH_NO_INSTALL=1  never apt-get install missing peers
set -u

usage() { echo "usage: bench/run.sh PATH/TO/logwash" >&2; exit 2; }
[ $# -eq 1 ] || usage
LW=$1
case $LW in /*) ;; *) LW=$PWD/$LW ;; esac
[ -x "$LW" ] || { echo "bench: $LW is not an executable" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
if [ ! -d "$REPO/../shared/corpus" ]; then
    echo "bench: skipped: ../shared/corpus not found"
    exit 0
fi
SHARED=$(cd "$REPO/../shared" && pwd)
CORPUS=$SHARED/corpus
PEERS=$SHARED/peers
CANON=$PEERS/canon.py
if [ ! -f "$CANON" ]; then
    echo "bench: note: $PEERS not found: logwash alone, outputs not checked"
    PEERS=
fi

BENCH_DIR=${BENCH_DIR:-/tmp/logwash-bench}
RUNS=${BENCH_RUNS:-3}
NLINES=${BENCH_LINES:-}
WORKLOADS=${BENCH_WORKLOADS:-w1 w1f w2 w2r w3 w4}
PEER_LIST=${BENCH_PEERS-mawk gawk perl jq mlr}
CPU=${BENCH_CPU:-0}
CPU2=${BENCH_CPU2-1}
SLOW=${BENCH_SLOW:-30}
TIMEOUT=${BENCH_TIMEOUT:-1800}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-200}
MEASURE="python3 $HERE/measure.py"

command -v python3 >/dev/null || { echo "bench: python3 is required" >&2; exit 2; }
mkdir -p "$BENCH_DIR/corpus" "$BENCH_DIR/ref" "$BENCH_DIR/out" || exit 2

say() { echo "bench: $*" >&2; }

# Time a private copy, so that a rebuild during the (long) run cannot change what is measured.
cp "$LW" "$BENCH_DIR/logwash.bin" || exit 2
LW=$BENCH_DIR/logwash.bin

# ---------------------------------------------------------------------------- peers
have_peer() {
    case $1 in
    perl) command -v perl >/dev/null ;;
    perl-json) perl -MJSON::XS -e 1 2>/dev/null ;;
    *) command -v "$1" >/dev/null ;;
    esac
}
pkg_of() {
    case $1 in mlr) echo miller ;; perl) echo perl ;; *) echo "$1" ;; esac
}
missing=()
for p in $PEER_LIST; do
    have_peer "$p" || missing+=("$(pkg_of "$p")")
    if [ "$p" = perl ] && ! have_peer perl-json; then missing+=(libjson-xs-perl); fi
done
is_gnu_time() { [ -x /usr/bin/time ] && /usr/bin/time --version 2>&1 | grep -q GNU; }
is_gnu_time || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && [ -z "${BENCH_NO_INSTALL:-}" ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1 && apt-get install -y "${missing[@]}" >/dev/null 2>&1; } ||
            say "note: apt-get install ${missing[*]} failed"
    else
        say "note: not installing ${missing[*]} (not root, BENCH_NO_INSTALL, or no apt-get)"
    fi
fi
peers=()
for p in $PEER_LIST; do
    if have_peer "$p"; then peers+=("$p"); else say "note: $p not available: skipped"; fi
done
PERL_JSON=0
have_peer perl-json && PERL_JSON=1
if is_gnu_time; then
    MEASURE_RSS="$MEASURE --gnu-time /usr/bin/time"
else
    MEASURE_RSS=$MEASURE
    say "note: GNU time (/usr/bin/time) missing: peak RSS from wait4, which cannot drop below python's own RSS"
fi

# ---------------------------------------------------------------------------- corpora
declare -A SIZE=([w1]=1000000 [w2]=500000 [w3]=1000000 [w4]=1000000)
stamp_of() { stat -c '%s %Y' "$1"; }

corpus_full() { # w -> prints path of the verified full corpus
    local w=$1 f=$BENCH_DIR/corpus/$1.log want got
    want=$(awk -v n="$w.log" '{ f = $2; sub(/^\*/, "", f) } f == n { print $1 }' "$CORPUS/SHA256SUMS" 2>/dev/null)
    if [ -f "$f" ] && [ -f "$f.ok" ] && [ "$(cat "$f.ok")" = "$(stamp_of "$f") $want" ]; then
        echo "$f"; return 0
    fi
    if [ -f "$f" ]; then
        got=$(sha256sum "$f" | cut -d' ' -f1)
        if [ -n "$want" ] && [ "$got" = "$want" ]; then
            echo "$(stamp_of "$f") $want" >"$f.ok"; echo "$f"; return 0
        fi
        say "$w.log in $BENCH_DIR/corpus does not match SHA256SUMS: regenerating"
    fi
    say "generating $w.log (${SIZE[$w]} lines) into $BENCH_DIR/corpus"
    python3 "$CORPUS/gen.py" "$w" -n "${SIZE[$w]}" --seed 1 -o "$f.tmp" >&2 || { say "gen.py $w failed"; return 1; }
    mv "$f.tmp" "$f"
    got=$(sha256sum "$f" | cut -d' ' -f1)
    if [ -z "$want" ]; then
        say "WARNING: no SHA256SUMS entry for $w.log"
    elif [ "$got" != "$want" ]; then
        say "WARNING: $w.log checksum $got differs from SHA256SUMS $want (different gen.py/python?)"
    else
        echo "$(stamp_of "$f") $want" >"$f.ok"
    fi
    echo "$f"
}

corpus_for() { # w -> prints path of the input actually used (whole, or cut to BENCH_LINES)
    local full cut
    full=$(corpus_full "$1") || return 1
    if [ -z "$NLINES" ]; then echo "$full"; return 0; fi
    mkdir -p "$BENCH_DIR/cut-$NLINES"
    cut=$BENCH_DIR/cut-$NLINES/$1.log
    if [ ! -f "$cut" ] || [ "$full" -nt "$cut" ]; then
        head -n "$NLINES" "$full" >"$cut.tmp" && mv "$cut.tmp" "$cut"
    fi
    echo "$cut"
}

# ---------------------------------------------------------------------------- reference hashes
reference() { # wl input -> prints "LINES HASH" of the python reference, cached per input
    local wl=$1 in=$2 base=${1%f} min=0 key cache py
    [ "$wl" = w1f ] && min=400
    py=$PEERS/$base.py
    [ "$wl" = w2r ] && py=$HERE/w2r.py # W2r is ours (issue 10), not a corpus task
    cache=$BENCH_DIR/ref/$(echo "$in" | tr / _)-$wl.canon
    key="$(stamp_of "$in") $(cksum <"$py")"
    if [ -f "$cache" ] && [ "$(head -n 1 "$cache")" = "$key" ]; then
        tail -n 1 "$cache"; return 0
    fi
    say "computing the reference hash for $wl ($py)"
    local h
    h=$(MIN_STATUS=$min python3 "$py" <"$in" | python3 "$CANON") || return 1
    printf '%s\n%s\n' "$key" "$h" >"$cache"
    echo "$h"
}

# ---------------------------------------------------------------------------- commands
# set_cmd TOOL WL INPUT: sets CMD (argv), CMD_IN (stdin) and FIX (filter before canon.py);
# returns 1 when TOOL has no program for WL.
set_cmd() {
    local tool=$1 wl=$2 in=$3 base=${2%f} min=0
    [ "$wl" = w1f ] && min=400
    CMD=(); CMD_IN=/dev/null; FIX=cat
    case $tool in
    logwash | logwash-j2)
        local t j=1
        [ "$tool" = logwash-j2 ] && j=2
        case $wl in
        w1f | w2r) t=$HERE/$wl.lw ;;
        *) t=$(ls "$REPO"/templates/"$wl"-*.lw 2>/dev/null | head -n 1) ;;
        esac
        [ -f "$t" ] || return 1
        CMD=("$LW" -q -j $j -f "$t" "$in") ;;
    mawk | gawk)
        [ -f "$PEERS/$base.awk" ] || return 1
        if [ "$base" = w1 ]; then CMD=("$tool" -v min=$min -f "$PEERS/w1.awk" "$in")
        else CMD=("$tool" -f "$PEERS/$base.awk" "$in"); fi ;;
    perl)
        [ -f "$PEERS/$base.pl" ] || return 1
        [ "$base" = w2 ] && [ $PERL_JSON = 0 ] && return 1
        CMD_IN=$in
        if [ "$base" = w1 ]; then CMD=(perl "$PEERS/w1.pl" $min); else CMD=(perl "$PEERS/$base.pl"); fi ;;
    jq)
        if [ "$wl" = w2r ]; then CMD=(jq -c -f "$HERE/w2r.jq" "$in"); return 0; fi
        [ -f "$PEERS/$base.jq" ] || return 1
        case $base in
        w1) CMD=(jq -R -c --argjson min $min -f "$PEERS/w1.jq" "$in") ;;
        w2) CMD=(jq -c -f "$PEERS/w2.jq" "$in") ;;
        *) CMD=(jq -R -c -f "$PEERS/$base.jq" "$in") ;;
        esac ;;
    mlr)
        [ -f "$PEERS/$base.mlr" ] || return 1
        case $base in
        w1) CMD=(mlr --inidx --ifs tab --ojsonl put -s min=$min -f "$PEERS/w1.mlr" "$in") ;;
        w2) CMD=(mlr --ijson --ojsonl put -q -f "$PEERS/w2.mlr" "$in") ;;
        w3) CMD=(mlr --inidx --ifs tab --ojsonl --no-auto-unflatten put -f "$PEERS/w3.mlr" "$in") ;;
        w4) CMD=(mlr --inidx --ifs tab --ojsonl put -f "$PEERS/w4.mlr" "$in")
            # Miller has no null: its W4 writes pid "" where the task says null (peers/README)
            FIX=mlr_pid ;;
        esac ;;
    *) return 1 ;;
    esac
    return 0
}
mlr_pid() { sed 's/"pid": *""/"pid":null/'; }

# ---------------------------------------------------------------------------- header
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
rev=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$rev" != unknown ] && [ -n "$(git -C "$REPO" --no-optional-locks status --porcelain --untracked-files=no -- src include templates Makefile 2>/dev/null)" ]; then
    rev="$rev+dirty"
fi
echo "logwash bench  $(date -u '+%Y-%m-%d %H:%M UTC')  commit $rev"
echo "machine: ${cpu_model:-?}, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); each run pinned to CPU $CPU${CPU2:+ (logwash -j 2: CPUs $CPU,$CPU2)}"
echo "runs: best of $RUNS (a tool whose first run exceeds ${SLOW}s runs once)${NLINES:+; corpora cut to $NLINES lines}"
vers="logwash: $("$LW" --version 2>&1 | head -n 1) (binary sha256 $(sha256sum "$LW" | cut -c1-12))"
for p in "${peers[@]}"; do
    case $p in
    mawk) v=$(mawk -W version 2>&1 | head -n 1) ;;
    gawk) v=$(gawk --version | head -n 1) ;;
    perl) v="perl $(perl -e 'printf "%vd", $^V')$([ $PERL_JSON = 1 ] && perl -MJSON::XS -e 'print " JSON::XS $JSON::XS::VERSION"')" ;;
    jq) v=$(jq --version) ;;
    mlr) v=$(mlr --version) ;;
    esac
    vers="$vers; $v"
done
echo "$vers"
echo

# ---------------------------------------------------------------------------- runs
RES=$BENCH_DIR/results.tsv
: >"$RES"
lw_mismatch=0
for wl in $WORKLOADS; do
    base=${wl%f}
    [ "$wl" = w2r ] && base=w2 # the W2 corpus, reshaped (bench/w2r.lw)
    case $base in w1 | w2 | w3 | w4) ;; *) say "unknown workload $wl: skipped"; continue ;; esac
    in=$(corpus_for "$base") || { say "no corpus for $wl: skipped"; continue; }
    lines=$(wc -l <"$in")
    bytes=$(stat -c %s "$in")
    ref=
    if [ -n "$PEERS" ]; then ref=$(reference "$wl" "$in") || ref=; fi
    tools=(logwash)
    [ -n "$CPU2" ] && tools+=(logwash-j2)
    for tool in "${tools[@]}" "${peers[@]}"; do
        set_cmd "$tool" "$wl" "$in" || continue
        cpus=$CPU
        [ "$tool" = logwash-j2 ] && cpus=$CPU,$CPU2
        out=$BENCH_DIR/out/$wl-$tool.jsonl
        best= bcpu= rss=0 n=0 code=0 timed_out=0 all=
        for ((r = 1; r <= RUNS; r++)); do
            m=$($MEASURE_RSS --cpu "$cpus" --in "$CMD_IN" --out "$out" --timeout "$TIMEOUT" -- "${CMD[@]}")
            wall= kib= c= cpu=
            read -r wall kib c cpu <<<"$m"
            if [ "$wall" = timeout ]; then timed_out=1; break; fi
            case "$kib" in '' | *[!0-9-]*) say "$wl $tool: measure.py failed"; break ;; esac
            n=$((n + 1)); code=$c; all="$all $wall"
            [ "$kib" -gt "$rss" ] && rss=$kib
            if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$wall bcpu=$cpu; fi
            if [ "$r" = 1 ] && awk -v a="$wall" -v s="$SLOW" 'BEGIN { exit !(s > 0 && a > s) }'; then break; fi
        done
        if [ $n = 0 ]; then
            why=failed; [ $timed_out = 1 ] && why=timeout
            say "$wl $tool: $why"
            printf '%s\t%s\t%s\t%s\t-\t-\t0\t%s\t-\t-\n' "$wl" "$tool" "$lines" "$bytes" "$why" >>"$RES"
            case $tool in logwash*) lw_mismatch=1 ;; esac
            rm -f "$out"; continue
        fi
        check=unchecked
        if [ -n "$ref" ]; then
            got=$($FIX <"$out" | python3 "$CANON" 2>/dev/null) || got="unparseable output"
            if [ "$got" = "$ref" ]; then
                check=ok; rm -f "$out"
            else
                check=MISMATCH
                keep=$BENCH_DIR/out/MISMATCH-$wl-$tool.jsonl
                mv "$out" "$keep"
                echo "!!!!!!!! MISMATCH: $wl $tool canonical output '$got' differs from the reference '$ref' (kept in $keep)"
                case $tool in logwash*) lw_mismatch=1 ;; esac
            fi
        else
            rm -f "$out"
        fi
        say "$wl $tool: best $best s (cpu $bcpu s) of$all, peak RSS $((rss / 1024)) MiB, exit $code, $check"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$tool" "$lines" "$bytes" "$best" "$rss" "$n" "$check" "$code" "$bcpu" >>"$RES"
    done
done

# ---------------------------------------------------------------------------- start-up
STARTUP=$BENCH_DIR/startup.tsv
: >"$STARTUP"
for w in w1 w2 w3 w4; do
    t=$(ls "$REPO"/templates/"$w"-*.lw 2>/dev/null | head -n 1)
    f=$BENCH_DIR/corpus/$w.log
    [ -f "$t" ] && [ -f "$f" ] || continue
    one=$BENCH_DIR/one-$w.log
    head -n 1 "$f" >"$one"
    $MEASURE --cpu "$CPU" --repeat 10 -- "$LW" -q -f "$t" "$one" >/dev/null # warm-up
    m=$($MEASURE --cpu "$CPU" --repeat "$STARTUP_RUNS" -- "$LW" -q -f "$t" "$one")
    read -r wall kib c <<<"$m"
    printf '%s\t%s\t%s\n' "$w" "$wall" "$kib" >>"$STARTUP"
done

# ---------------------------------------------------------------------------- report
report() {
    awk -F'\t' -v startup_file="$STARTUP" -v startup_runs="$STARTUP_RUNS" '
    function commas(x,   s, neg) {
        x = sprintf("%.0f", x); neg = ""
        if (x ~ /^-/) { neg = "-"; x = substr(x, 2) }
        s = ""
        while (length(x) > 3) { s = "," substr(x, length(x) - 2) s; x = substr(x, 1, length(x) - 3) }
        return neg x s
    }
    { wl[NR] = $1; tool[NR] = $2; lines[NR] = $3; bytes[NR] = $4; wall[NR] = $5; rss[NR] = $6
      nrun[NR] = $7; chk[NR] = $8; code[NR] = $9; cpu[NR] = $10
      if ($2 == "logwash" && $5 != "-" && $5 > 0) lw[$1] = $5 }
    END {
        printf "%-4s %-10s %12s %8s %9s %8s %5s %12s %4s  %s\n", "wl", "tool", "lines/s", "MB/s", "RSS MiB", "wall s", "cpu%", "lw speedup", "runs", "output"
        for (i = 1; i <= NR; i++) {
            if (wall[i] == "-" || wall[i] <= 0) {
                printf "%-4s %-10s %12s %8s %9s %8s %5s %12s %4s  %s\n", toupper(wl[i]), tool[i], "-", "-", "-", "-", "-", "-", 0, chk[i]
                continue
            }
            sp = (tool[i] == "logwash" || !(wl[i] in lw)) ? "-" : sprintf("x%.2f", wall[i] / lw[wl[i]])
            if (tool[i] == "logwash-j2" && (wl[i] in lw)) sp = sprintf("-j1/j2 %.2f", lw[wl[i]] / wall[i])
            extra = (code[i] != 0) ? sprintf(" (exit %s)", code[i]) : ""
            printf "%-4s %-10s %12s %8.1f %9.1f %8.3f %5.0f %12s %4d  %s%s\n", toupper(wl[i]), tool[i],
                commas(lines[i] / wall[i]), bytes[i] / 1e6 / wall[i], rss[i] / 1024, wall[i],
                100 * cpu[i] / wall[i], sp, nrun[i], chk[i], extra
        }
        print ""
        print "targets (logwash):"
        tgt["w1"] = 1000000; tgt["w2"] = 500000; tgt["w2r"] = 500000; tgt["w3"] = 1000000; tgt["w4"] = 1500000
        for (i = 1; i <= NR; i++) {
            if (tool[i] == "logwash-j2" && wall[i] != "-" && wall[i] > 0 && (wl[i] in lw)) {
                q = lw[wl[i]] / wall[i]
                printf "  %-4s %-34s %18s  %s\n", toupper(wl[i]), "-j 2 >= 1.80x the lines/s of -j 1", sprintf("%.2fx", q), (q >= 1.8 ? "met" : "MISSED")
            }
            if (tool[i] != "logwash") continue
            if (wall[i] == "-" || wall[i] <= 0) { printf "  %-4s no measurement (%s)  MISSED\n", toupper(wl[i]), chk[i]; continue }
            if (wl[i] in tgt) {
                v = lines[i] / wall[i]
                note = ""
                if (v < tgt[wl[i]] && cpu[i] / wall[i] < 0.9)
                    note = sprintf(" (cpu%% %.0f: the run waited; rerun)", 100 * cpu[i] / wall[i])
                printf "  %-4s %-34s %18s  %s%s\n", toupper(wl[i]), ">= " commas(tgt[wl[i]]) " lines/s", commas(v) " lines/s", (v >= tgt[wl[i]] ? "met" : "MISSED"), note
            }
            m = rss[i] / 1024
            printf "  %-4s %-34s %18s  %s\n", toupper(wl[i]), "peak RSS <= 16 MiB", sprintf("%.1f MiB", m), (m <= 16 ? "met" : "MISSED")
        }
        while ((getline l < startup_file) > 0) {
            split(l, f, "\t"); ms = f[2] * 1000
            printf "  %-4s %-34s %18s  %s\n", toupper(f[1]), "start-up+exit <= 5 ms (1 line)", sprintf("%.2f ms", ms), (ms <= 5 ? "met" : "MISSED")
        }
        printf "\nlines/s and MB/s (1 MB = 10^6 bytes) are input lines/bytes over the best wall time;\n"
        printf "cpu%% = (user + system CPU time) / wall time of that run: well under 100 means the\n"
        printf "process waited (another process on its CPU, or I/O), so its wall time is inflated.\n"
        printf "lw speedup = peer wall time / logwash wall time; start-up is the mean of %d runs.\n", startup_runs
    }' "$RES"
}
report | tee "$BENCH_DIR/last-report.txt"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$BENCH_DIR/last-report.txt"
[ $lw_mismatch = 0 ]

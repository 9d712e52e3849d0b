# logwash: one hand-written GNU Makefile (STYLE §12).
# make            build/logwash
# make check      unit, golden, examples, man-page and fuzz-regression suites
# make asan       the same suites built with ASan+UBSan and the debug arena, in build-asan/
# make valgrind   the golden suite under valgrind
# make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each
# make bench      the four corpus workloads against mawk, jq, perl (not part of check)
# make api        liblogwash's API tests (tests/api), built through pkg-config against a
#                 staged install; make tsan runs them built with ThreadSanitizer
# make layers     the program includes only logwash.h and base headers (tests/layers.sh)
# make tsan-kafka the Kafka tests with threads, built with ThreadSanitizer (part of make tsan)

BUILD   ?= build
CC      ?= cc
PREFIX  ?= /usr/local
# shipped templates (-f NAME finds them), grok pattern files; the systemd unit's directory
DATADIR ?= $(PREFIX)/share/logwash
UNITDIR ?= $(PREFIX)/lib/systemd/system
# rdkafka (Kafka), libfyaml (job files); libxxhash (xxhash), libmd (md5, sha256), zlib (crc32):
# see src/lib/fn_hash.c; expat (parse_xml, src/lib/fn_xml.c); libidn2 (parse_url IDNA hosts) only
# for its header: src/lib/fn_parse.c loads it at the first xn-- host (dlopen), so it costs a run
# nothing unless used
# libmicrohttpd: the --metrics-listen HTTP server (src/app/metrics.c), the program only; its
# header at build time, the library loaded when a run asks for the listener (dlopen)
# librdkafka: its header only, loaded when a run first uses Kafka (src/io/rdk.c, include/lw/rdk.h)
# jansson is the JSON reader's test oracle only (unit tests, fuzzers): the program does not link it.
PROG_PKGS = libpcre2-8 libfyaml libxxhash libmd zlib expat
PROG_HDRS = libmicrohttpd libidn2 rdkafka # headers only: loaded at first use (see above)
PKGS     = jansson $(PROG_PKGS)
# liblogwash (include/logwash.h): the language and its functions alone, so it needs only these
# and -lm: never librdkafka, libfyaml or jansson.
LIB_PKGS  = libpcre2-8 libxxhash libmd zlib expat
FUZZ_SECONDS ?= 60

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(PROG_HDRS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lpcre2-8 -lfyaml -lxxhash -lmd -lz -lexpat)
PROG_LIBS  := $(shell pkg-config --libs $(PROG_PKGS) 2>/dev/null || echo -lpcre2-8 -lfyaml -lxxhash -lmd -lz -lexpat)
LIB_LIBS   := $(shell pkg-config --libs $(LIB_PKGS) 2>/dev/null || echo -lpcre2-8 -lxxhash -lmd -lz -lexpat)

WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
          -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN   += -Werror
endif
OPT     ?= -O2 -g
CFLAGS  ?=
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude $(PKG_CFLAGS) \
             $(WARN) $(OPT) $(EXTRA_CFLAGS) $(CFLAGS) -MMD -MP
LDLIBS  = $(PKG_LIBS) -lm -pthread

# src/base: arenas, buffers, diagnostics; src/lang: JSON, values, codecs, compiler, VM;
# src/lib: template functions; src/io: sources and sinks; src/app: the program
SRCS    := $(wildcard src/*/*.c)
# logwash's own grok patterns (patterns/) become a generated C file (tools/embed-patterns.sh)
PATTERN_FILES := $(sort $(wildcard patterns/*))
OBJS    := $(patsubst src/%.c,$(BUILD)/%.o,$(SRCS)) $(BUILD)/grok_builtin.o
LIBOBJS := $(filter-out $(BUILD)/app/main.o,$(OBJS))
# The program links every object, the library's too (one static link, no -fPIC): its own code
# (src/app, src/io) calls the library only through logwash.h (make layers checks the includes).
PROG_OBJS := $(OBJS)
# liblogwash: src/base, src/lang, src/lib, src/api and the embedded grok patterns. The static
# library takes the program's objects; the shared one objects of its own built with -fPIC
# and -fvisibility=hidden (only LOGWASH_API functions are exported), in $(BUILD)/pic/, so
# the program's code stays as it was (see ARCHITECTURE.md for the figures).
LIB_SRCS := $(wildcard src/base/*.c src/lang/*.c src/lib/*.c src/api/*.c)
LIB_OBJS := $(patsubst src/%.c,$(BUILD)/%.o,$(LIB_SRCS)) $(BUILD)/grok_builtin.o
PIC_OBJS := $(patsubst src/%.c,$(BUILD)/pic/%.o,$(LIB_SRCS)) $(BUILD)/pic/grok_builtin.o
LIB_VERSION := $(shell sed -n 's/^\#define LOGWASH_VERSION "\(.*\)"/\1/p' include/logwash.h)
LIB_SONAME  := liblogwash.so.$(firstword $(subst ., ,$(LIB_VERSION)))
# installed under $(PREFIX)/lib/<multiarch triplet> where the compiler names one (Debian)
MULTIARCH  ?= $(shell $(CC) -print-multiarch 2>/dev/null)
LIBDIR     ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
INCLUDEDIR ?= $(PREFIX)/include
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%.o,$(UNIT_SRCS))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(filter-out tests/fuzz/replay.c,$(wildcard tests/fuzz/fuzz_*.c)))

.PHONY: FORCE deps all lib api layers tsan tsan-kafka install-program install-lib check package cli jobs config metrics reload pipelines ltest grok templates kafka soak tz-oracle syslog-oracle windows-oracle unit golden examples replay man-check asan valgrind fuzz bench format \
        format-check headers man-lint install clean
all: $(BUILD)/logwash

$(BUILD)/logwash: $(PROG_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PROG_LIBS) -lm -pthread $(EXTRA_LDFLAGS)
# test objects linked into one build's program only (make tsan: tests/tsan/c11threads.c)
PROG_EXTRA_OBJS ?=
$(BUILD)/logwash: $(PROG_EXTRA_OBJS)
$(BUILD)/tsan/%.o: tests/tsan/%.c | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

lib: $(BUILD)/liblogwash.a $(BUILD)/liblogwash.so

$(BUILD)/liblogwash.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/pic/%.o: src/%.c | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/pic/grok_builtin.o: $(BUILD)/grok_builtin.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/liblogwash.so.$(LIB_VERSION): $(PIC_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(LIB_SONAME) -o $@ $^ $(LIB_LIBS) -lm \
	    $(EXTRA_LDFLAGS)

$(BUILD)/liblogwash.so: $(BUILD)/liblogwash.so.$(LIB_VERSION)
	ln -sf liblogwash.so.$(LIB_VERSION) $(BUILD)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $@

$(BUILD)/%.o: src/%.c | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# --version names the commit, and -f @NAME looks in DATADIR: opts.o is rebuilt when either
# changes (commit.stamp holds both); outside a git tree the commit is "unknown".
LW_COMMIT := $(shell git describe --always --dirty 2>/dev/null)
$(BUILD)/commit.stamp: FORCE | $(BUILD)
	@echo '$(LW_COMMIT) $(DATADIR)' | cmp -s - $@ || echo '$(LW_COMMIT) $(DATADIR)' > $@
$(BUILD)/app/opts.o: $(BUILD)/commit.stamp
$(BUILD)/app/opts.o: ALL_CFLAGS += $(if $(LW_COMMIT),-DLW_COMMIT='"$(LW_COMMIT)"') -DLW_DATADIR='"$(DATADIR)"'
# logwash_build_info's commit label
$(BUILD)/app/metrics.o: $(BUILD)/commit.stamp
$(BUILD)/app/metrics.o: ALL_CFLAGS += $(if $(LW_COMMIT),-DLW_COMMIT='"$(LW_COMMIT)"')
FORCE:

$(BUILD)/grok_builtin.c: $(PATTERN_FILES) tools/embed-patterns.sh | $(BUILD)
	sh tools/embed-patterns.sh patterns > $@.tmp && mv $@.tmp $@

$(BUILD)/grok_builtin.o: $(BUILD)/grok_builtin.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%.o: tests/unit/%.c | $(BUILD)/unit
	$(CC) $(ALL_CFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/unit-tests: $(UNIT_OBJS) $(LIBOBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(EXTRA_LDFLAGS)

# The JSON scanner and writer's portable paths (8-byte SWAR words, and plain bytes), which x86-64
# never takes: json.c and jsonstr.c (lw/strblk.h) built with LW_JSON_BLK=8 or 0, linked with
# everything else unchanged.
$(BUILD)/json-blk%.o: src/lang/json.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -DLW_JSON_BLK=$* -c -o $@ $<

$(BUILD)/jsonstr-blk%.o: src/base/jsonstr.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -DLW_JSON_BLK=$* -c -o $@ $<

.SECONDARY: $(BUILD)/json-blk8.o $(BUILD)/json-blk0.o $(BUILD)/jsonstr-blk8.o $(BUILD)/jsonstr-blk0.o
$(BUILD)/unit-tests-blk%: $(UNIT_OBJS) \
    $(filter-out $(BUILD)/lang/json.o $(BUILD)/base/jsonstr.o,$(LIBOBJS)) \
    $(BUILD)/json-blk%.o $(BUILD)/jsonstr-blk%.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(EXTRA_LDFLAGS)

$(BUILD)/replay-%: tests/fuzz/%.c tests/fuzz/replay.c $(LIBOBJS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(EXTRA_LDFLAGS)

$(BUILD) $(BUILD)/unit:
	mkdir -p $@

# the package test builds its own binary: once per `make check asan` is enough; the soak (a
# timed run of minutes) is not repeated under the sanitizers either (the other Kafka tests are)
PACKAGE_TEST ?= package
SOAK_TEST ?= soak
check: unit golden cli jobs config metrics reload pipelines signals ltest grok templates examples replay man-check man-lint api layers kafka $(SOAK_TEST) \
       repl \
       tz-oracle syslog-oracle windows-oracle $(PACKAGE_TEST)

# The layers of ARCHITECTURE.md on the #include lines: the program (src/app, src/io) uses only
# logwash.h and the base headers of the library; the library no program header.
layers:
	tests/layers.sh

unit: $(BUILD)/unit-tests $(BUILD)/unit-tests-blk8 $(BUILD)/unit-tests-blk0
	$(BUILD)/unit-tests
	set -e; for n in 8 0; do \
	    $(BUILD)/unit-tests-blk$$n >$(BUILD)/unit-blk$$n.log 2>&1 || { cat $(BUILD)/unit-blk$$n.log; exit 1; }; \
	    echo "LW_JSON_BLK=$$n $$(tail -1 $(BUILD)/unit-blk$$n.log)"; \
	done

golden: $(BUILD)/logwash
	tests/golden.sh $(BUILD)/logwash

cli: $(BUILD)/logwash
	tests/cli.sh $(BUILD)/logwash

jobs: $(BUILD)/logwash
	tests/jobs.sh $(BUILD)/logwash

# the job file's own features: interpolation, --no-OPTION, --validate, --print-config
config: $(BUILD)/logwash
	tests/config.sh $(BUILD)/logwash

# --metrics-listen and --metrics-file: scraped values against the run's counts, promtool, a real
# Prometheus server, hostile scrapers, examples/platform's rules (skipped, saying so, without
# curl, jq, promtool or prometheus)
metrics: $(BUILD)/logwash
	tests/metrics.sh $(BUILD)/logwash

# reloads (SIGHUP, POST /-/reload): under load with a changed template, wrong job files and
# templates, settings that need a restart, the reload metrics
reload: $(BUILD)/logwash
	tests/reload.sh $(BUILD)/logwash

# several pipelines in one process (pipelines: in the job file): shared stdout, per-pipeline
# metrics and reloads, a failing pipeline, the job file's errors
pipelines: $(BUILD)/logwash
	tests/pipelines.sh $(BUILD)/logwash

# SIGTERM while stdout or the dead-letter file is a FIFO nobody reads: the stop waits
# --flush-timeout, says what was not written, exit 4; slow readers without a signal waited for
signals: $(BUILD)/logwash
	tests/signals.sh $(BUILD)/logwash

# every shipped template's test file (templates/NAME.test.yaml) by `logwash test templates/`,
# then tests/templates/oracle.py over the same cases
templates: $(BUILD)/logwash
	tests/templates.sh $(BUILD)/logwash

# `logwash repl`: scripted sessions on a pipe, then one through a pty (python3)
.PHONY: repl
repl: $(BUILD)/logwash
	tests/repl.sh $(BUILD)/logwash

# `logwash test` itself: reports, malformed test files, --update
ltest: $(BUILD)/logwash
	tests/ltest.sh $(BUILD)/logwash

# IANA zones against Python's zoneinfo over the same tzdata (skipped, saying so, without them).
tz-oracle: $(BUILD)/logwash
	tests/tz/oracle.sh $(BUILD)/logwash

# parse_syslog against tests/oracle/syslog.py over ~31,000 lines (skipped, saying so, without
# python3).
syslog-oracle: $(BUILD)/logwash
	tests/oracle/syslog.sh $(BUILD)/logwash

# parse_user_agent against python3-ua-parser over uap-core's ~30,000 test user agents (skipped,
# saying so, without them).
.PHONY: ua-oracle
check: ua-oracle
ua-oracle: $(BUILD)/logwash
	tests/ua/oracle.sh $(BUILD)/logwash
# windows and seen() against tests/oracle/windows.py over 20,000 out-of-order ad-log events,
# and -j 2 and 3 against -j 1 (skipped, saying so, without python3)
windows-oracle: $(BUILD)/logwash
	tests/oracle/windows.sh $(BUILD)/logwash

# grok pattern libraries: ours and ../shared/grok (skipped, saying so, without ../shared)
grok: $(BUILD)/logwash
	tests/grok.sh $(BUILD)/logwash

deps:
	sh tools/deps.sh

# The Kafka test harness: librdkafka's mock cluster in a process of its own (a test tool, built
# without the sanitizers: librdkafka's internals are not ours to instrument).
RDKAFKA_CFLAGS := $(shell pkg-config --cflags rdkafka 2>/dev/null)
RDKAFKA_LIBS   := $(shell pkg-config --libs rdkafka 2>/dev/null)
# mcount.so is preloaded into logwash: built plainly (no sanitizers), like the other test tools.
$(BUILD)/mcount.so: tests/kafka/mcount.c | $(BUILD)
	$(CC) -std=c11 -O2 -Wall -Wextra -shared -fPIC -o $@ $< -ldl

$(BUILD)/committed: tests/kafka/committed.c | $(BUILD)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra $(RDKAFKA_CFLAGS) -o $@ $< \
	    $(RDKAFKA_LIBS)

$(BUILD)/mockd: tests/kafka/mockd.c | $(BUILD)
	@if [ -n "$(RDKAFKA_LIBS)" ]; then \
	    $(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra $(RDKAFKA_CFLAGS) -o $@ $< \
	        $(RDKAFKA_LIBS); \
	else echo "mockd: not built: librdkafka-dev is not installed"; fi

kafka: $(BUILD)/mockd $(BUILD)/committed $(BUILD)/mcount.so $(BUILD)/logwash
	tests/kafka/roundtrip.sh $(BUILD)/mockd
	LW_JOBS=1 tests/kafka/sidecar.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed $(BUILD)/mcount.so
	LW_JOBS=2 tests/kafka/sidecar.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed $(BUILD)/mcount.so
	LW_JOBS=2 tests/kafka/sinkfail.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=1 tests/kafka/stopblocked.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/stopblocked.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/topics.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/backpressure.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/metrics.sh $(BUILD)/logwash $(BUILD)/mockd
	LW_JOBS=2 tests/kafka/reload.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/pipelines.sh $(BUILD)/logwash $(BUILD)/mockd
	LW_JOBS=2 tests/kafka/sharedprod.sh $(BUILD)/logwash $(BUILD)/mockd
	LW_JOBS=2 tests/kafka/reloadstages.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=1 tests/kafka/windows.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/windows.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/filestate.sh $(BUILD)/logwash $(BUILD)/mockd
	LW_JOBS=1 tests/kafka/winparts.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/winparts.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=1 tests/kafka/winlate.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/winlate.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/winmulti.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/winsess.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=1 tests/kafka/wincount.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/wincount.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=1 tests/kafka/wincountbound.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/wincountbound.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/twostage.sh $(BUILD)/logwash $(BUILD)/mockd
	LW_JOBS=1 tests/kafka/kseen.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/kseen.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=1 tests/kafka/kseenbound.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/kseenbound.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/kboth.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed
	LW_JOBS=2 tests/kafka/winhold.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed

# A Kafka sidecar run of SOAK_SECONDS (default 120; about 2.5 minutes in all) with rebalances
# and broker outages, watching its RSS and open descriptors (part of check).
soak: $(BUILD)/mockd $(BUILD)/committed $(BUILD)/logwash
	LW_JOBS=2 tests/kafka/soak.sh $(BUILD)/logwash $(BUILD)/mockd $(BUILD)/committed

# liblogwash staged with `make install-lib` into $(BUILD)/api-root (PREFIX=/usr), and the
# tests built against it through pkg-config with the same compiler and sanitizer flags.
API_ROOT = $(CURDIR)/$(BUILD)/api-root
api: $(BUILD)/liblogwash.a $(BUILD)/liblogwash.so
	rm -rf $(API_ROOT)
	$(MAKE) --no-print-directory -s install-lib DESTDIR=$(API_ROOT) PREFIX=/usr
	CC="$(CC)" CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(OPT) $(EXTRA_CFLAGS)" \
	    LDFLAGS="$(EXTRA_LDFLAGS)" tests/api/run.sh $(API_ROOT) $(BUILD)/api $(BUILD)/liblogwash.so

# ThreadSanitizer (build-tsan/): the API tests, the threads test above all, and the program's
# workers: every golden case with -j 3 and a batch per record, and the -j cases of tests/jobs.sh
TSAN_FLAGS = BUILD=build-tsan OPT="-O1 -g" EXTRA_CFLAGS="-fsanitize=thread" \
             EXTRA_LDFLAGS="-fsanitize=thread"
TSAN_FLAGS += PROG_EXTRA_OBJS=build-tsan/tsan/c11threads.o
tsan:
	$(MAKE) $(TSAN_FLAGS) api build-tsan/logwash
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" GOLDEN_JOBS=3 tests/golden.sh build-tsan/logwash
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" tests/jobs.sh build-tsan/logwash
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" tests/reload.sh build-tsan/logwash
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" tests/pipelines.sh build-tsan/logwash
	$(MAKE) tsan-kafka

# The Kafka runs under ThreadSanitizer. Debian's librdkafka1 (not instrumented) starts its
# threads with C11 thrd_create and locks with mtx_*/cnd_*, which glibc 2.34+ runs on its internal
# pthread functions, past the ones ThreadSanitizer intercepts (neither gcc 12's libtsan nor
# clang 14's has C11 interceptors; google/sanitizers#1603): such a thread has no TSan state and
# crashed in the sanitizer's allocator at its first malloc (SizeClassAllocator64LocalCache::
# Allocate, cache=0x8, from __tls_get_addr). Linking librdkafka instead of dlopen, or clang's
# TSan, changes nothing. The TSan build of logwash (only it: PROG_EXTRA_OBJS) defines those
# functions over pthreads (tests/tsan/c11threads.c); librdkafka.so.1 binds to them when loaded.
# tests/tsan/kafka.sh runs the scripts with threads, fails on any report (tests/tsan.supp:
# librdkafka's own libc calls only) and prints each script's time: about 5 minutes in all.
tsan-kafka:
	$(MAKE) $(TSAN_FLAGS) build-tsan/logwash build-tsan/mockd build-tsan/committed
	tests/tsan/kafka.sh build-tsan build-tsan/tsan-kafka

examples: $(BUILD)/logwash
	tests/examples.sh $(BUILD)/logwash

# the Debian package built from a copy of the tree, lintian, installed into a scratch root and run
# (skipped, saying so, without dpkg-buildpackage)
package:
	tests/package.sh

replay: $(addprefix $(BUILD)/replay-,$(FUZZ_TARGETS))
	tests/replay.sh $(BUILD) $(FUZZ_TARGETS)

man-check: $(BUILD)/logwash
	tests/man-check.sh $(BUILD)/logwash

# Leaks inside third-party libraries are listed, with reasons, in tests/lsan.supp.
LSAN_ENV = LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp

asan:
	$(LSAN_ENV) $(MAKE) BUILD=build-asan PACKAGE_TEST= SOAK_TEST= OPT="-O1 -g -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -DLW_ARENA_DEBUG=1" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined" check

# valgrind cannot follow pcre2's JIT code (false reports inside it), so these runs use --no-jit.
VALGRIND_CMD = valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99
valgrind: $(BUILD)/logwash
	VALGRIND="$(VALGRIND_CMD)" LW_TEST_ARGS=--no-jit tests/templates.sh $(BUILD)/logwash
	VALGRIND="$(VALGRIND_CMD)" LW_TEST_ARGS=--no-jit tests/golden.sh $(BUILD)/logwash

FUZZ_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude $(PKG_CFLAGS) -O1 -g \
              -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
              -DLW_ARENA_DEBUG=1
# The targets run templates under small limits (steps, memory, output, regex budget), so no
# input should take long: a run over FUZZ_TIMEOUT seconds is a finding, like a crash.
# fuzz_compile gets a dictionary of the language (tools/fuzz-dict.sh, made from the sources).
FUZZ_TIMEOUT ?= 5
fuzz:
	mkdir -p build-fuzz
	sh tools/embed-patterns.sh patterns > build-fuzz/grok_builtin.c
	sh tools/fuzz-dict.sh > build-fuzz/fuzz_compile.dict
	set -e; for t in $(FUZZ_TARGETS); do \
	    clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o build-fuzz/$$t tests/fuzz/$$t.c \
	        $(filter-out src/app/main.c,$(SRCS)) build-fuzz/grok_builtin.c $(LDLIBS); \
	    mkdir -p tests/fuzz/corpus/$$t/regress build-fuzz/corpus-$$t; \
	    dict=; [ -f build-fuzz/$$t.dict ] && dict=-dict=build-fuzz/$$t.dict; \
	    $(LSAN_ENV) build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	        -timeout=$(FUZZ_TIMEOUT) $$dict -artifact_prefix=tests/fuzz/corpus/$$t/regress/ \
	        build-fuzz/corpus-$$t tests/fuzz/corpus/$$t/seed tests/fuzz/corpus/$$t/regress; \
	done

bench: $(BUILD)/logwash
	bench/run.sh $(BUILD)/logwash

format:
	clang-format -i $$(find src include tests -name '*.[ch]')

format-check:
	@if command -v clang-format >/dev/null; then \
	    clang-format --dry-run --Werror $$(find src include tests -name '*.[ch]') && echo "format-check: ok"; \
	else echo "format-check: skipped: clang-format is not installed"; fi

headers:
	set -e; for h in include/lw/*.h; do \
	    echo "#include \"$${h#include/}\"" | $(CC) $(ALL_CFLAGS) -x c -fsyntax-only -; done

man-lint:
	@set -e; for m in man/*.[1357]; do out=$$(groff -mdoc -ww -z $$m 2>&1); \
	    if [ -n "$$out" ]; then echo "$$m: $$out"; exit 1; fi; done

# make install [DESTDIR=...] [PREFIX=/usr/local]: the program, man pages, the ready templates and
# grok pattern files, shell completion and the systemd unit (its paths filled in from PREFIX).
install: install-program install-lib

install-program: $(BUILD)/logwash
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
	    $(DESTDIR)$(DATADIR)/templates $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions $(DESTDIR)$(UNITDIR)
	install -m 755 $(BUILD)/logwash $(DESTDIR)$(PREFIX)/bin/logwash
	install -m 644 man/logwash.1 man/logwash-test.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/logwash.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/logwash-template.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	install -m 644 $$(ls templates/*.lw | grep -v '/w[0-9]-') $(DESTDIR)$(DATADIR)/templates/
	install -d $(DESTDIR)$(DATADIR)/patterns
	install -m 644 patterns/* $(DESTDIR)$(DATADIR)/patterns/
	sed 's|@DATADIR@|$(DATADIR)|g' dist/logwash.bash \
	    > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/logwash
	sed 's|@DATADIR@|$(DATADIR)|g' dist/_logwash > $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_logwash
	sed 's|@BINDIR@|$(PREFIX)/bin|g' dist/logwash@.service > $(DESTDIR)$(UNITDIR)/logwash@.service
	chmod 644 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/logwash \
	    $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_logwash $(DESTDIR)$(UNITDIR)/logwash@.service

# liblogwash: the static and shared library (with its soname link and the link for -llogwash),
# the header, logwash(3), and logwash.pc made from dist/logwash.pc.in with the installed paths.
install-lib: $(BUILD)/liblogwash.a $(BUILD)/liblogwash.so
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 644 $(BUILD)/liblogwash.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(BUILD)/liblogwash.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf liblogwash.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/liblogwash.so
	install -m 644 include/logwash.h $(DESTDIR)$(INCLUDEDIR)/
	install -d $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 644 man/logwash.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(LIB_VERSION)|g' \
	    -e 's|@REQUIRES@|$(LIB_PKGS)|g' dist/logwash.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/logwash.pc
	chmod 644 $(DESTDIR)$(LIBDIR)/pkgconfig/logwash.pc

clean:
	rm -rf build build-asan build-tsan build-fuzz

# Dependency files are the compiler's (-MMD), never a target: without this empty rule make tries
# to remake an included one through its built-in rules (json-blk8.d from json-blk8.d.o, built
# with -DLW_JSON_BLK=8.d), which printed compiler 'error:' lines on a fresh clone.
$(BUILD)/%.d: ;
-include $(wildcard $(OBJS:.o=.d) $(PIC_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/json-blk8.d \
    $(BUILD)/json-blk0.d $(BUILD)/jsonstr-blk8.d $(BUILD)/jsonstr-blk0.d)

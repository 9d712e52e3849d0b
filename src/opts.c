/* The command line: one getopt_long table whose entries carry their help text, so --help and
 * the man-page check (tests/man-check.sh) both see every option. */
#include "lw/opts.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw/timefmt.h"

#ifndef LW_VERSION
#define LW_VERSION "0.1.0"
#endif

enum {
    O_CHECK = 256,
    O_DISASM,
    O_ON_ERROR,
    O_DEAD_LETTER,
    O_UNBUFFERED,
    O_NOW,
    O_TZ,
    O_MAX_LINE,
    O_MAX_STEPS,
    O_MATCH_LIMIT,
    O_DEPTH_LIMIT,
    O_MAX_OUTPUT,
    O_MAX_MEMORY,
    O_NO_JIT,
    O_PATTERNS,
    O_VERSION,
};

static const struct {
    struct option o;
    const char *arg, *help;
} table[] = {
    { { "file", required_argument, NULL, 'f' }, "FILE", "read the template from FILE" },
    { { "expr", required_argument, NULL, 'e' }, "TEXT", "the template itself, as an argument" },
    { { "input", required_argument, NULL, 'i' },
      "text|json",
      "decode records as text lines (default) or JSON" },
    { { "output", required_argument, NULL, 'o' },
      "json|text",
      "encode emitted records as JSON lines (default) or text" },
    { { "check", no_argument, NULL, O_CHECK }, NULL, "compile the template and exit" },
    { { "disasm", no_argument, NULL, O_DISASM },
      NULL,
      "print the bytecode with template positions and exit" },
    { { "on-error", required_argument, NULL, O_ON_ERROR },
      "warn|skip|abort",
      "for a failed record: warn on stderr (default), skip quietly, or stop" },
    { { "dead-letter", required_argument, NULL, O_DEAD_LETTER },
      "FILE",
      "write each failed record to FILE as a JSON line" },
    { { "unbuffered", no_argument, NULL, O_UNBUFFERED }, NULL, "write output after each record" },
    { { "now", required_argument, NULL, O_NOW },
      "TIME",
      "fix now() to TIME (RFC 3339, or epoch seconds)" },
    { { "tz", required_argument, NULL, O_TZ },
      "ZONE",
      "zone for time stamps without one: UTC (default) or +hh:mm" },
    { { "max-line", required_argument, NULL, O_MAX_LINE },
      "BYTES",
      "longest record (default 1048576)" },
    { { "max-steps", required_argument, NULL, O_MAX_STEPS },
      "N",
      "instructions per record (default 1000000)" },
    { { "regex-match-limit", required_argument, NULL, O_MATCH_LIMIT },
      "N",
      "pcre2 match limit per regex call (default 1000000)" },
    { { "regex-depth-limit", required_argument, NULL, O_DEPTH_LIMIT },
      "N",
      "pcre2 depth limit per regex call (default 10000)" },
    { { "max-output", required_argument, NULL, O_MAX_OUTPUT },
      "BYTES",
      "output bytes per record (default 16777216)" },
    { { "max-memory", required_argument, NULL, O_MAX_MEMORY },
      "BYTES",
      "working memory per record (default 67108864)" },
    { { "no-jit", no_argument, NULL, O_NO_JIT }, NULL, "do not JIT-compile regexes" },
    { { "patterns", required_argument, NULL, O_PATTERNS },
      "DIR",
      "grok pattern files: every file of DIR, by name; they override the built-ins" },
    { { "quiet", no_argument, NULL, 'q' }, NULL, "no warnings or summary on stderr" },
    { { "verbose", no_argument, NULL, 'v' }, NULL, "print a summary of the counters at the end" },
    { { "version", no_argument, NULL, O_VERSION }, NULL, "print the version and exit" },
    { { "help", no_argument, NULL, 'h' }, NULL, "print this help and exit" },
};
#define NOPTS (sizeof table / sizeof table[0])

static void
help(FILE *f)
{
    fprintf(f, "usage: logwash [OPTIONS] (-f TEMPLATE | -e TEXT) [FILE...]\n"
               "Run a template over each record of FILEs (or stdin) and write the results.\n\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char lhs[64];
        const struct option *o = &table[i].o;
        int n = o->val < 256 ? snprintf(lhs, sizeof lhs, "-%c, --%s", o->val, o->name)
                             : snprintf(lhs, sizeof lhs, "    --%s", o->name);
        if (table[i].arg) snprintf(lhs + n, sizeof lhs - (size_t)n, " %s", table[i].arg);
        fprintf(f, "  %-34s %s\n", lhs, table[i].help);
    }
    fprintf(f, "\nExit status: 0 ok, 1 some records failed, 2 usage error, 3 template error,\n"
               "4 I/O error. See logwash(1) and logwash-template(7).\n");
}

static int
number(const char *s, uint64_t *out, const char *name, char *err, size_t errcap)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || *s == '-' || v == 0) {
        snprintf(err, errcap, "--%s needs a positive integer, found '%s'", name, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int
parse_now(const char *s, int64_t *ns, char *err, size_t errcap)
{
    int32_t off;
    char e[128];
    size_t len = strlen(s);
    if (lw_time_parse_ref(s, len, "rfc3339", 7, 0, 1, ns, &off, e, sizeof e, NULL) == 0) return 0;
    if (lw_time_parse_ref(s, len, "epoch", 5, 0, 1, ns, &off, e, sizeof e, NULL) == 0) return 0;
    snprintf(err, errcap, "--now needs an RFC 3339 time or epoch seconds, found '%s'", s);
    return -1;
}

int
lw_opts_parse(struct lw_opts *o, int argc, char **argv, FILE *out, char *err, size_t errcap)
{
    struct option longopts[NOPTS + 1];
    char shortopts[64];
    size_t ns = 0;
    shortopts[ns++] = ':'; /* report a missing argument as ':' */
    for (size_t i = 0; i < NOPTS; i++) {
        longopts[i] = table[i].o;
        if (table[i].o.val < 256) {
            shortopts[ns++] = (char)table[i].o.val;
            if (table[i].o.has_arg) shortopts[ns++] = ':';
        }
    }
    longopts[NOPTS] = (struct option){ 0 };
    shortopts[ns] = '\0';

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *o = (struct lw_opts){
        .limits = { .steps = 1000000,
                    .match_limit = 1000000,
                    .depth_limit = 10000,
                    .max_output = 16u << 20,
                    .max_memory = 64u << 20 },
        .max_line = 1u << 20,
        .now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
    };
    uint64_t v;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "";
        switch (c) {
        case 'f':
            o->template_file = optarg;
            break;
        case 'e':
            o->template_text = optarg;
            break;
        case 'i':
            if (strcmp(optarg, "text") == 0)
                o->input = LW_IN_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->input = LW_IN_JSON;
            else {
                snprintf(err, errcap, "-i needs text or json, found '%s'", optarg);
                return -1;
            }
            break;
        case 'o':
            if (strcmp(optarg, "text") == 0)
                o->output = LW_OUT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->output = LW_OUT_JSON;
            else {
                snprintf(err, errcap, "-o needs json or text, found '%s'", optarg);
                return -1;
            }
            break;
        case O_CHECK:
            o->check = true;
            break;
        case O_DISASM:
            o->disasm = true;
            break;
        case O_ON_ERROR:
            if (strcmp(optarg, "warn") == 0)
                o->on_error = LW_ONERR_WARN;
            else if (strcmp(optarg, "skip") == 0)
                o->on_error = LW_ONERR_SKIP;
            else if (strcmp(optarg, "abort") == 0)
                o->on_error = LW_ONERR_ABORT;
            else {
                snprintf(err, errcap, "--on-error needs warn, skip or abort, found '%s'", optarg);
                return -1;
            }
            break;
        case O_DEAD_LETTER:
            o->dead_letter = optarg;
            break;
        case O_UNBUFFERED:
            o->unbuffered = true;
            break;
        case O_NOW:
            if (parse_now(optarg, &o->now_ns, err, errcap) != 0) return -1;
            break;
        case O_TZ: {
            char e[128];
            if (lw_time_zone(optarg, strlen(optarg), &o->tz_off, e, sizeof e) != 0) {
                snprintf(err, errcap, "--tz: %s", e);
                return -1;
            }
            break;
        }
        case O_MAX_LINE:
            if (number(optarg, &v, "max-line", err, errcap) != 0) return -1;
            o->max_line = v > (1u << 30) ? (1u << 30) : (size_t)v;
            break;
        case O_MAX_STEPS:
            if (number(optarg, &v, "max-steps", err, errcap) != 0) return -1;
            o->limits.steps = v;
            break;
        case O_MATCH_LIMIT:
            if (number(optarg, &v, "regex-match-limit", err, errcap) != 0) return -1;
            o->limits.match_limit = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            break;
        case O_DEPTH_LIMIT:
            if (number(optarg, &v, "regex-depth-limit", err, errcap) != 0) return -1;
            o->limits.depth_limit = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            break;
        case O_MAX_OUTPUT:
            if (number(optarg, &v, "max-output", err, errcap) != 0) return -1;
            o->limits.max_output = (size_t)v;
            break;
        case O_MAX_MEMORY:
            if (number(optarg, &v, "max-memory", err, errcap) != 0) return -1;
            o->limits.max_memory = (size_t)v;
            break;
        case O_NO_JIT:
            o->no_jit = true;
            break;
        case O_PATTERNS:
            o->patterns_dir = optarg;
            break;
        case 'q':
            o->verbosity = -1;
            break;
        case 'v':
            o->verbosity = 1;
            break;
        case O_VERSION:
            fprintf(out, "logwash %s\n", LW_VERSION);
            return 1;
        case 'h':
            help(out);
            return 1;
        case ':':
            snprintf(err, errcap, "option '%s' needs an argument", argv[optind - 1]);
            return -1;
        default:
            snprintf(err, errcap, "unknown option '%s'", name);
            return -1;
        }
    }
    if ((o->template_file == NULL) == (o->template_text == NULL)) {
        snprintf(err, errcap,
                 o->template_file ? "give the template once: -f FILE or -e TEXT"
                                  : "no template: give -f FILE or -e TEXT");
        return -1;
    }
    o->inputs = argv + optind;
    o->ninputs = argc - optind;
    return 0;
}

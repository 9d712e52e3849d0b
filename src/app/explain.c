/* `logwash explain`: run a template over a few records (arguments, else standard input's lines)
 * and print, per record, what each match(), grok() and dissect() made of it, how far a
 * non-match got, the values at each emit, and the result. Only through the public API
 * (logwash_runner_set_explain); the explaining itself is the library's (src/lang/explain.c). */
#include "lw/explain_cmd.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logwash.h"
#include "lw/opts.h"
#include "lw/tablewatch.h"
#include "lw/uadata.h"

#define MAX_RECORDS 1000    /* records explained from standard input; the rest are not read */
#define MAX_LINE    1048576 /* bytes of a record read from standard input */

static const char usage[] =
    "usage: logwash explain [OPTIONS] (-f TEMPLATE | -e TEXT) [RECORD...]\n"
    "Run the template over each RECORD (else each line of standard input, 1000 at most) and\n"
    "say what each match(), grok() and dissect() made of it, where a non-match stopped, and\n"
    "the values at each emit. See EXPLAIN in logwash(1).\n\n"
    "  -f, --file FILE       the template's file (@NAME: a shipped template)\n"
    "  -e, --expr TEXT       the template itself\n"
    "  -i, --input text|json decode records as text lines (default) or JSON\n"
    "      --patterns DIR    grok pattern files (repeatable)\n"
    "      --lib DIR         where import looks (repeatable)\n"
    "      --tz ZONE         zone for stamps without one\n"
    "      --now TIME        fix now() (RFC 3339, or epoch seconds)\n"
    "      --table NAME[:OPTION,...]=FILE\n"
    "                        a lookup table, as a run's --table (repeatable)\n"
    "  -h, --help            print this help and exit\n";

struct opts {
    const char *file, *text, *tz;
    enum logwash_input input;
    const char **patterns, **libs;
    size_t npatterns, nlibs;
    struct lw_table_spec *tables;
    int ntables;
    bool now_set;
    int64_t now_ns;
};

__attribute__((format(printf, 1, 2))) static int
bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "logwash: explain: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\ntry 'logwash explain --help'\n");
    va_end(ap);
    return -1;
}

static int
options(struct opts *o, int argc, char **argv)
{
    enum { O_PATTERNS = 256, O_LIB, O_TZ, O_NOW, O_TABLE };
    static const struct option longs[] = {
        { "file", required_argument, NULL, 'f' },
        { "expr", required_argument, NULL, 'e' },
        { "input", required_argument, NULL, 'i' },
        { "patterns", required_argument, NULL, O_PATTERNS },
        { "lib", required_argument, NULL, O_LIB },
        { "tz", required_argument, NULL, O_TZ },
        { "now", required_argument, NULL, O_NOW },
        { "table", required_argument, NULL, O_TABLE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+f:e:i:h", longs, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->file = optarg;
            break;
        case 'e':
            o->text = optarg;
            break;
        case 'i':
            if (strcmp(optarg, "text") == 0) {
                o->input = LOGWASH_INPUT_TEXT;
            } else if (strcmp(optarg, "json") == 0) {
                o->input = LOGWASH_INPUT_JSON;
            } else {
                return bad("-i takes text or json, not '%s'", optarg);
            }
            break;
        case O_PATTERNS:
            o->patterns = realloc(o->patterns, (o->npatterns + 1) * sizeof *o->patterns);
            if (o->patterns == NULL) return bad("%s", "out of memory");
            o->patterns[o->npatterns++] = optarg;
            break;
        case O_LIB:
            o->libs = realloc(o->libs, (o->nlibs + 1) * sizeof *o->libs);
            if (o->libs == NULL) return bad("%s", "out of memory");
            o->libs[o->nlibs++] = optarg;
            break;
        case O_TZ:
            o->tz = optarg;
            break;
        case O_NOW:
            /* as a run's --now (and the REPL's): RFC 3339 or epoch seconds */
            if (logwash_parse_time(optarg, strlen(optarg), &o->now_ns) != 0)
                return bad("--now takes epoch seconds or an RFC 3339 time, not '%s'", optarg);
            o->now_set = true;
            break;
        case O_TABLE: {
            struct lw_table_spec sp;
            char err[300];
            if (lw_table_spec_parse(optarg, &sp, err, sizeof err) != 0) return bad("%s", err);
            sp.cli = true;
            o->tables = realloc(o->tables, (size_t)(o->ntables + 1) * sizeof *o->tables);
            if (o->tables == NULL) return bad("%s", "out of memory");
            o->tables[o->ntables++] = sp;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            return bad("bad option '%s'", argv[optind - 1]);
        }
    }
    if ((o->file == NULL) == (o->text == NULL))
        return bad("%s", "give the template once: -f FILE or -e TEXT");
    return 0;
}

static const char *const results[] = {
    [LOGWASH_OK] = "ok",
    [LOGWASH_DROP] = "dropped",
    [LOGWASH_REJECT] = "rejected",
    [LOGWASH_ERROR] = "failed",
    [LOGWASH_UNDECODABLE] = "undecodable",
    [LOGWASH_NOMEM] = "out of memory",
};

/* The state of a template with seen() or window statements: the operations of each record
 * that ended ok or dropped are applied in order, as a run applies them, so seen() answers as
 * in a run (a failed or rejected record's key is not kept: a runner alone would keep it and
 * drop the retry that a run gives) and the windows' results and late records are said. */
struct xstate {
    struct logwash_state *s; /* NULL: the template has no state */
    struct logwash_buffer out;
    int64_t now_ns;
};

/* results_said: the window results an apply or tick appended to x->out, one a line */
static void
results_said(struct xstate *x, const char *what)
{
    if (x->out.len == 0) return; /* out.data may be NULL: no arithmetic on it */
    const char *p = x->out.data, *end = p + x->out.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) nl = end;
        printf("%s %.*s\n", what, (int)(nl - p), p);
        p = nl + 1;
    }
    x->out.len = 0;
}

/* one: explain record n (len bytes) and say its result. */
static void
one(struct logwash_runner *r, struct xstate *x, const char *name, size_t n, const char *rec,
    size_t len)
{
    printf("record %zu: %.*s%s\n", n, (int)(len > 200 ? 200 : len), rec, len > 200 ? "..." : "");
    enum logwash_result res = logwash_run(r, rec, len, NULL);
    fputs(logwash_explanation(r, NULL), stdout);
    size_t nout;
    logwash_outputs(r, &nout);
    const struct logwash_error *e = logwash_runner_error(r);
    if (res == LOGWASH_OK || res == LOGWASH_DROP) {
        printf("=> %s, %zu output%s\n", results[res], nout, nout == 1 ? "" : "s");
    } else if (e->line > 0) {
        printf("=> %s at %s:%d:%d: %s\n", results[res], name, e->line, e->col, e->message);
    } else {
        printf("=> %s: %s\n", results[res], e->message);
    }
    size_t olen = 0;
    const void *ops = x->s ? logwash_runner_state_ops(r, &olen) : NULL;
    if ((res == LOGWASH_OK || res == LOGWASH_DROP) && olen > 0) {
        size_t nres = 0;
        bool late = false;
        char msg[512];
        /* the runner is attached to the state and nothing else applies to it: its answers are
         * the state's, so 1 (a wrong answer) does not come */
        int rc =
            logwash_state_apply(x->s, ops, olen, x->now_ns, &x->out, &nres, &late, msg, sizeof msg);
        if (rc != 0) printf("   state: not applied (%s)\n", rc < 0 ? "out of memory" : "refused");
        if (late) printf("   %s (a dead letter of kind late in a run)\n", msg);
        results_said(x, "   window result:");
    }
    putchar('\n');
}

/* tables_fini: o's table specs (after the watch made of them) */
static void
tables_fini(struct opts *o)
{
    for (int i = 0; i < o->ntables; i++)
        lw_table_spec_fini(&o->tables[i]);
    free(o->tables);
    o->tables = NULL;
    o->ntables = 0;
}

int
lw_explain_main(int argc, char **argv)
{
    struct opts o = { .input = LOGWASH_INPUT_DEFAULT };
    int rc = options(&o, argc, argv);
    if (rc != 0) {
        free(o.patterns);
        free(o.libs);
        tables_fini(&o);
        return rc > 0 ? 0 : 2;
    }
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    co.pattern_dirs = o.patterns;
    co.npattern_dirs = o.npatterns;
    co.import_paths = o.libs;
    co.nimport_paths = o.nlibs;
    if (o.file == NULL) co.name = "-e";
    struct logwash_error err;
    /* -f @NAME: a shipped template, as for a run */
    struct lw_opts found = { .template_file = o.file, .libs = o.libs, .nlibs = (int)o.nlibs };
    if (o.file != NULL && lw_opts_find_template(&found, err.message, sizeof err.message) != 0) {
        fprintf(stderr, "logwash: explain: %s\n", err.message);
        free(o.patterns);
        free(o.libs);
        tables_fini(&o);
        return 2;
    }
    o.file = found.template_file;
    struct lw_uadata ua = { 0 }; /* read only if the template calls parse_user_agent */
    co.ua_rules = lw_uadata_load;
    co.ua_rules_ud = &ua;
    struct logwash_template *t = o.file ? logwash_compile_file(o.file, &co, &err)
                                        : logwash_compile(o.text, strlen(o.text), &co, &err);
    lw_uadata_fini(&ua);
    free(o.patterns);
    free(o.libs);
    const char *name = o.file ? o.file : "-e";
    if (t == NULL) {
        if (err.line > 0) {
            fprintf(stderr, "logwash: explain: %s:%d:%d: %s\n", name, err.line, err.col,
                    err.message);
        } else {
            fprintf(stderr, "logwash: explain: %s\n", err.message);
        }
        free(found.template_found);
        tables_fini(&o);
        return 3;
    }
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.input = o.input;
    ro.tz = o.tz;
    if (o.now_set) ro.now_ns = o.now_ns;
    struct logwash_runner *r = logwash_runner_new(t, &ro, &err);
    if (r == NULL || logwash_runner_set_explain(r, true) != 0) {
        fprintf(stderr, "logwash: explain: %s\n", r == NULL ? err.message : "out of memory");
        logwash_runner_free(r);
        logwash_template_free(t);
        free(found.template_found);
        tables_fini(&o);
        return 2;
    }
    /* the tables, loaded once as a run loads them (no reloads: explain reads a few records) */
    struct lw_tablewatch *tw = NULL;
    if (o.ntables > 0) {
        int badt;
        char terr[600];
        tw = lw_tablewatch_open(o.tables, o.ntables, LOGWASH_DEFAULT_MAX_STATE, -1, &badt, terr,
                                sizeof terr);
        if (tw == NULL) {
            fprintf(stderr, "logwash: explain: %s\n", terr);
            logwash_runner_free(r);
            logwash_template_free(t);
            free(found.template_found);
            tables_fini(&o);
            return 2;
        }
        logwash_runner_set_tables(r, lw_tablewatch_set(tw));
    }
    struct xstate x = { .now_ns = o.now_set ? o.now_ns : LOGWASH_NOW_CLOCK };
    if (logwash_template_uses_state(t)) {
        x.s = logwash_state_new(t, LOGWASH_DEFAULT_MAX_STATE);
        if (x.s == NULL) {
            fprintf(stderr, "logwash: explain: out of memory\n");
            logwash_runner_free(r);
            logwash_template_free(t);
            lw_tablewatch_free(tw);
            free(found.template_found);
            tables_fini(&o);
            return 2;
        }
        logwash_runner_attach_state(r, x.s);
    }
    size_t n = 0;
    if (optind < argc) {
        for (int i = optind; i < argc; i++)
            one(r, &x, name, ++n, argv[i], strlen(argv[i]));
    } else {
        /* lines of at most MAX_LINE bytes are kept; the rest of a longer one is skipped */
        char *line = malloc(MAX_LINE);
        size_t len = 0;
        bool cut = false;
        int c = 0;
        while (line != NULL && n < MAX_RECORDS && c != EOF) {
            c = getchar();
            if (c != EOF && c != '\n') {
                if (len < MAX_LINE) {
                    line[len++] = (char)c;
                } else {
                    cut = true;
                }
                continue;
            }
            if (c == EOF && len == 0 && !cut) break;
            if (len > 0 && line[len - 1] == '\r') len--;
            if (cut) printf("(record %zu is cut at %d bytes)\n", n + 1, MAX_LINE);
            one(r, &x, name, ++n, line, len);
            len = 0;
            cut = false;
        }
        free(line);
    }
    if (x.s != NULL) { /* the end of input closes every window, as in a run */
        if (logwash_state_tick(x.s, INT64_MAX, &x.out, 0) > 0) { /* no limit: all at once */
            printf("end of input:\n");
            results_said(&x, "   window result:");
        }
        logwash_state_free(x.s);
        free(x.out.data);
    }
    logwash_runner_free(r);
    logwash_template_free(t);
    lw_tablewatch_free(tw);
    tables_fini(&o);
    free(found.template_found);
    return fflush(stdout) != 0 ? 4 : 0;
}

/* `logwash test [PATH...]`: runs the cases of NAME.test.yaml files (testfile.c reads them)
 * through liblogwash's public API (include/logwash.h: compile once, a runner per case, one
 * record's outputs or none), so the program is a client of its own library here. Reports a
 * failure with a member-by-member diff at the case's file:line, as text, TAP or JUnit XML;
 * --update writes the current outcome into cases that have no expectation. Exit status: 0 all
 * passed, 1 a case failed (or a template does not compile), 2 usage or a malformed test file. */
#include "lw/test.h"
#include "lw/uadata.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "test_int.h"

/* One reported entry: a case, or a whole file that could not run (a malformed test file, a
 * template that does not compile). */
enum rkind { R_PASS, R_FAIL, R_UPDATED, R_FILE_ERROR, R_TEMPLATE_ERROR };

struct result {
    char *file, *name, *detail; /* detail: the failure's lines, or NULL */
    int line;
    enum rkind kind;
};

struct run {
    bool tap, update, verbose, quiet, no_jit;
    const char *junit;
    struct result *r;
    size_t n, cap;
    size_t files, cases, passed, failed, updated, file_errors;
    struct tcache *tc; /* the current file's tables, each loaded once */
    size_t ntc;
    struct lw_cov *cov; /* --coverage, or NULL */
    uint64_t *counts;   /* the current template's coverage counts */
    struct lw_cov_opts covopts;
};

static const char usage[] =
    "usage: logwash test [OPTION]... [PATH]...\n"
    "Run the cases of test files: NAME.test.yaml beside NAME.lw (a PATH may name either, or a\n"
    "directory of them; default: the current directory). See logwash-test(1).\n"
    "\n"
    "  -v, --verbose      name every case, passed or not\n"
    "  -q, --quiet        print failures and the summary only\n"
    "      --tap          write TAP (version 13) to stdout instead of the text report\n"
    "      --junit=FILE   also write a JUnit XML report to FILE\n"
    "      --update       write the current outputs into the cases that have no expectation\n"
    "                     (never into a case that has one)\n"
    "      --no-jit       compile regexes without pcre2's JIT\n"
    "      --coverage     report, per template, the statements run and the branch outcomes\n"
    "                     taken (if/else, ?:, ?\?, &&, ||, for-if) over every case\n"
    "      --coverage-show    also print each file annotated with its counts (like gcov)\n"
    "      --coverage-dir=DIR write that listing per template into DIR/PATH.cov\n"
    "      --coverage-min=PCT exit 1 when a file's statement or branch coverage is below PCT\n"
    "  -h, --help         print this help and exit\n"
    "\n"
    "Exit status: 0 every case passed, 1 a case failed, 2 a usage error or a malformed test "
    "file.\n";

/* clean: a copy of s safe in every report (lw_test_clean): a file name or a case's name on
 * one line, a failure's lines (lines) as lines */
static char *
clean(const char *s, bool lines)
{
    struct lw_buf b;
    lw_buf_init(&b);
    lw_test_clean(&b, s, strlen(s), lines);
    lw_buf_addc(&b, '\0');
    return b.p;
}

static void
add(struct run *u, const char *file, const char *name, int line, enum rkind kind,
    const char *detail)
{
    if (u->n == u->cap) {
        u->cap = u->cap ? 2 * u->cap : 64;
        u->r = lw_xrealloc(u->r, u->cap * sizeof *u->r);
    }
    u->r[u->n++] = (struct result){ clean(file, false), clean(name, false),
                                    detail ? clean(detail, true) : NULL, line, kind };
}

/* ---- running a case ---- */

static const char *const outcome_names[] = { "ok", "dropped", "rejected", "failed", "undecodable" };

static enum lw_toutcome
outcome_of(enum logwash_result r)
{
    switch (r) {
    case LOGWASH_OK:
        return LW_TO_OK;
    case LOGWASH_DROP:
        return LW_TO_DROP;
    case LOGWASH_REJECT:
        return LW_TO_REJECT;
    case LOGWASH_UNDECODABLE:
        return LW_TO_UNDECODABLE;
    case LOGWASH_ERROR:
    case LOGWASH_NOMEM:
        break;
    }
    return LW_TO_ERROR;
}

/* What a case's records gave: every emitted value and printed line in order, and each
 * record's outcome and message. */
struct got {
    struct lw_tv emitted, printed; /* arrays */
    struct lw_buf emitted_text;    /* the outputs' bytes, one a line, for --update */
    enum lw_toutcome *outcome;
    char **message, **where; /* where: " (TEMPLATE:LINE:COL)" or "" */
    size_t n;
};

static void
push(struct lw_arena *a, struct lw_tv *arr, const struct lw_tv *v)
{
    arr->items = lw_arena_realloc(a, arr->items, arr->n * sizeof *v, (arr->n + 1) * sizeof *v);
    arr->items[arr->n++] = *v;
}

/* emitted: one emitted value (its text, without the '\n'). */
static void
emitted(struct lw_arena *a, const char *data, size_t len, enum logwash_output_format fmt,
        struct got *g)
{
    struct lw_tv v = { .kind = LW_TV_STRING, .s = { lw_arena_dup(a, data, len), len } };
    if (fmt == LOGWASH_OUTPUT_JSON && lw_test_json(a, data, len, &v) != 0)
        v = (struct lw_tv){ .kind = LW_TV_STRING, .s = v.s }; /* cannot happen */
    push(a, &g->emitted, &v);
    if (fmt == LOGWASH_OUTPUT_JSON)
        lw_test_yaml_safe(&g->emitted_text, (struct lw_str){ data, len });
    else
        lw_test_quote(&g->emitted_text, v.s);
    lw_buf_addc(&g->emitted_text, '\n');
}

/* window_results: the results in b (one a line), emitted values as in logwash(1). */
static void
window_results(struct lw_arena *a, const struct logwash_buffer *b, enum logwash_output_format fmt,
               struct got *g)
{
    for (size_t at = 0; at < b->len;) {
        const char *nl = memchr(b->data + at, '\n', b->len - at);
        size_t len = nl ? (size_t)(nl - (b->data + at)) : b->len - at;
        emitted(a, b->data + at, len, fmt, g);
        at += len + 1;
    }
}

static void
record_outputs(struct lw_arena *a, struct logwash_runner *r, enum logwash_output_format fmt,
               struct got *g)
{
    size_t n;
    const struct logwash_output *o = logwash_outputs(r, &n);
    for (size_t i = 0; i < n; i++) {
        if (o[i].print) {
            struct lw_tv v = { .kind = LW_TV_STRING,
                               .s = { lw_arena_dup(a, o[i].data, o[i].len), o[i].len } };
            push(a, &g->printed, &v);
            continue;
        }
        emitted(a, o[i].data, o[i].len, fmt, g);
    }
}

/* A table of the current file, loaded when a case first needs it (or its error). */
struct tcache {
    int line, col; /* where it is written: one spec */
    struct logwash_table *t;
    char *err;
};

static void
tables_free(struct run *u)
{
    for (size_t i = 0; i < u->ntc; i++) {
        logwash_table_free(u->tc[i].t);
        free(u->tc[i].err);
    }
    free(u->tc);
    u->tc = NULL;
    u->ntc = 0;
}

/* case_tables: the set of o's tables (NULL without any); -1 with a message in out when one
 * does not load (at its line:col in the test file). */
static int
case_tables(struct run *u, const struct lw_tfile *f, const struct lw_topts *o,
            struct logwash_tables **set, struct lw_buf *out)
{
    *set = NULL;
    if (o->ntables == 0) return 0;
    struct logwash_tables *s = logwash_tables_new();
    if (s == NULL) {
        lw_buf_adds(out, "    out of memory for the tables\n");
        return -1;
    }
    for (size_t i = 0; i < o->ntables; i++) {
        const struct lw_ttable *sp = &o->tables[i];
        struct tcache *tc = NULL;
        for (size_t k = 0; k < u->ntc && tc == NULL; k++)
            if (u->tc[k].line == sp->line && u->tc[k].col == sp->col) tc = &u->tc[k];
        if (tc == NULL) {
            struct logwash_table_options to;
            logwash_table_options_default(&to);
            to.format = sp->format;
            to.ip = sp->ip;
            to.key = sp->key;
            to.last_wins = sp->last_wins;
            struct logwash_error e;
            u->tc = lw_xrealloc(u->tc, (u->ntc + 1) * sizeof *u->tc);
            tc = &u->tc[u->ntc++];
            *tc = (struct tcache){ sp->line, sp->col, logwash_table_load_file(sp->path, &to, &e),
                                   NULL };
            if (tc->t == NULL) tc->err = lw_xstrndup(e.message, strlen(e.message));
        }
        struct logwash_error e;
        if (tc->t == NULL || logwash_tables_add(s, sp->name, tc->t, &e) != 0) {
            lw_buf_printf(out, "    %s:%d:%d: table '%s': %s\n", f->path, sp->line, sp->col,
                          sp->name, tc->t == NULL ? tc->err : e.message);
            logwash_tables_free(s);
            return -1;
        }
    }
    *set = s;
    return 0;
}

/* case_now: processing time for windows: the case's now, else the clock. */
static int64_t
case_now(const struct lw_topts *o)
{
    if (o->has_now) return o->now_ns;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* run_case: every record of c through t; 0, or -1 with a message in out (a bad zone, a table
 * that does not load). */
static int
run_case(struct run *u, const struct logwash_template *t, const struct lw_tfile *f,
         const struct lw_tcase *c, struct lw_arena *a, struct got *g, struct lw_buf *out,
         uint64_t *counts)
{
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    const struct lw_topts *o = &c->opts;
    if (o->has_input) ro.input = o->input;
    if (o->has_output) ro.output = o->output;
    if (o->has_tz) ro.tz = o->tz;
    if (o->has_now) ro.now_ns = o->now_ns;
    struct logwash_error err;
    struct logwash_tables *set;
    if (case_tables(u, f, o, &set, out) != 0) return -1;
    struct logwash_runner *r = logwash_runner_new(t, &ro, &err);
    if (r == NULL) {
        lw_buf_printf(out, "    %s:%d:%d: %s\n", f->path, o->tz_line, o->tz_col, err.message);
        logwash_tables_free(set);
        return -1;
    }
    if (set != NULL) {
        logwash_runner_set_tables(r, set); /* the runner holds it */
        logwash_tables_free(set);
    }
    /* seen() and windows: a state per case, applied after each record as logwash(1) does (so
     * a rejected record's seen() key is not kept, and window results are emitted values) */
    struct logwash_state *st = NULL;
    struct logwash_buffer wb = { 0 };
    if (logwash_template_uses_state(t)) {
        st = logwash_state_new(t, LOGWASH_DEFAULT_MAX_STATE);
        if (st == NULL) lw_oom(0);
        logwash_state_set_output(st, ro.output);
        logwash_runner_attach_state(r, st);
    }
    g->n = c->ninputs;
    g->outcome = lw_arena_alloc(a, (g->n + 1) * sizeof *g->outcome);
    g->message = lw_arena_alloc(a, (g->n + 1) * sizeof *g->message);
    g->where = lw_arena_alloc(a, (g->n + 1) * sizeof *g->where);
    for (size_t i = 0; i < c->ninputs; i++) {
        /* meta as logwash(1) gives it for stdin: source "-", the record's number */
        struct logwash_meta m = { .kind = LOGWASH_META_FILE, .source = "-", .source_len = 1 };
        if (o->has_meta) m = o->meta;
        if (m.kind == LOGWASH_META_FILE) m.line = (o->has_meta && m.line ? m.line : 1) + i;
        if (m.kind == LOGWASH_META_KAFKA) m.offset += (int64_t)i;
        enum logwash_result res = logwash_run(r, c->inputs[i].p, c->inputs[i].len, &m);
        g->outcome[i] = outcome_of(res);
        const struct logwash_error *e = logwash_runner_error(r);
        g->message[i] = lw_arena_dup(a, e->message, strlen(e->message) + 1);
        char where[600] = "";
        if (e->line > 0)
            snprintf(where, sizeof where, " (%s:%d:%d)", logwash_template_name(t), e->line, e->col);
        g->where[i] = lw_arena_dup(a, where, strlen(where) + 1);
        record_outputs(a, r, ro.output, g);
        size_t oplen;
        const void *ops = logwash_runner_state_ops(r, &oplen);
        if (st != NULL && oplen > 0 && (res == LOGWASH_OK || res == LOGWASH_DROP)) {
            size_t nres = 0;
            bool late = false;
            wb.len = 0;
            if (logwash_state_apply(st, ops, oplen, case_now(o), &wb, &nres, &late, NULL, 0) < 0)
                lw_oom(0);
            window_results(a, &wb, ro.output, g);
        }
    }
    for (size_t n = 1; st != NULL && n > 0;) { /* the end of the case's input: every window */
        wb.len = 0;
        n = logwash_state_tick(st, INT64_MAX, &wb, 1 << 20);
        if (logwash_state_broken(st)) lw_oom(0);
        window_results(a, &wb, ro.output, g);
    }
    free(wb.data);
    logwash_state_free(st);
    if (counts != NULL) lw_cov_add(counts, t, r);
    logwash_runner_free(r);
    return 0;
}

static void
show_input(struct lw_buf *out, struct lw_str in, const char *label)
{
    struct lw_tv v = { .kind = LW_TV_STRING, .s = in };
    lw_buf_printf(out, "    %s: ", label);
    lw_test_write(out, &v, 200);
    lw_buf_addc(out, '\n');
}

/* check_outcomes: each record ended as the case says; returns the number of differences. */
static int
check_outcomes(const struct lw_tfile *f, const struct lw_tcase *c, const struct got *g,
               struct lw_buf *out)
{
    int bad = 0;
    for (size_t i = 0; i < g->n; i++) {
        char label[48];
        snprintf(label, sizeof label, "record %zu", i + 1);
        const char *rec = g->n > 1 ? label : "the record";
        const char *msg = g->message[i];
        bool same = g->outcome[i] == c->outcome;
        if (same && (c->message == NULL || strstr(msg, c->message) != NULL)) continue;
        if (bad++ < 5) {
            if (g->n > 1) show_input(out, c->inputs[i], label);
            if (!same) {
                lw_buf_printf(out, "    %s: expected %s, got %s%s%s%s\n", rec,
                              outcome_names[c->outcome], outcome_names[g->outcome[i]],
                              msg[0] ? ": " : "", msg, g->where[i]);
            } else {
                lw_buf_printf(out,
                              "    %s:%d:%d: %s: %s with \"%s\"%s, which does not contain "
                              "\"%s\"\n",
                              f->path, c->oline, c->ocol, rec, outcome_names[c->outcome], msg,
                              g->where[i], c->message);
            }
        }
    }
    if (bad > 5) lw_buf_printf(out, "    (%d more records)\n", bad - 5);
    return bad;
}

/* check_list: want (expect, expect_subset or printed) against got, item by item. */
static int
check_list(const struct lw_tfile *f, const struct lw_tv *want, const struct lw_tv *got, bool subset,
           const char *what, struct lw_buf *out)
{
    int bad = 0;
    if (want->n != got->n) {
        lw_buf_printf(out, "    %s:%d:%d: %s: expected %zu, got %zu\n", f->path, want->line,
                      want->col, what, want->n, got->n);
        bad++;
    }
    for (size_t i = 0; i < want->n || i < got->n; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%.*s %zu", (int)strlen(what) - 1, what, i + 1);
        if (i >= got->n) {
            lw_buf_printf(out, "    %s:%d:%d: %s: missing: ", f->path, want->items[i].line,
                          want->items[i].col, prefix);
            lw_test_write(out, &want->items[i], 300);
            lw_buf_addc(out, '\n');
            continue;
        }
        if (i >= want->n) {
            lw_buf_printf(out, "    %s: unexpected: ", prefix);
            lw_test_write(out, &got->items[i], 300);
            lw_buf_addc(out, '\n');
            continue;
        }
        int d = lw_test_diff(&want->items[i], &got->items[i], subset, f->path, prefix, out);
        if (d > 0 && (got->items[i].kind == LW_TV_OBJECT || got->items[i].kind == LW_TV_ARRAY)) {
            lw_buf_printf(out, "      got %s: ", prefix);
            lw_test_write(out, &got->items[i], 600);
            lw_buf_addc(out, '\n');
        }
        bad += d;
    }
    return bad;
}

/* ---- --update ---- */

/* expectation: the YAML that records what the case's records gave, or NULL with the reason
 * in why (records that ended differently). */
static int
expectation(const struct lw_tcase *c, const struct got *g, struct lw_buf *y, struct lw_buf *why)
{
    for (size_t i = 1; i < g->n; i++) {
        if (g->outcome[i] != g->outcome[0]) {
            lw_buf_printf(why,
                          "    cannot record: record 1 is %s and record %zu %s; split the case "
                          "so that its records end alike\n",
                          outcome_names[g->outcome[0]], i + 1, outcome_names[g->outcome[i]]);
            return -1;
        }
    }
    int in = c->indent;
    enum lw_toutcome oc = g->n ? g->outcome[0] : LW_TO_OK;
    if (oc >= LW_TO_REJECT) {
        struct lw_str m = lw_str_c(g->message[0]);
        lw_buf_printf(y, "%*s%s: ", in, "", outcome_names[oc]);
        lw_test_quote(y, m);
        lw_buf_addc(y, '\n');
        return 0;
    }
    if (oc == LW_TO_DROP) lw_buf_printf(y, "%*sdropped: true\n", in, "");
    if (g->emitted.n == 0 && g->printed.n == 0) lw_buf_printf(y, "%*sexpect: []\n", in, "");
    if (g->emitted.n > 0) {
        lw_buf_printf(y, "%*sexpect:\n", in, "");
        const char *p = g->emitted_text.p, *end = p + g->emitted_text.len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            lw_buf_printf(y, "%*s  - %.*s\n", in, "", (int)(nl - p), p);
            p = nl + 1;
        }
    }
    if (g->printed.n > 0) {
        lw_buf_printf(y, "%*sprinted:\n", in, "");
        for (size_t i = 0; i < g->printed.n; i++) {
            lw_buf_printf(y, "%*s  - ", in, "");
            lw_test_quote(y, g->printed.items[i].s);
            lw_buf_addc(y, '\n');
        }
    }
    return 0;
}

struct insert {
    size_t off;
    char *text;
    size_t index; /* of the case */
};

static bool
fresh_left(const struct lw_tfile *f, const struct insert *ins, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (f->cases[ins[i].index].fresh) return true;
    return false;
}

/* write_update: the file with each insertion made, checked to still read as a test file
 * before it replaces the old one. */
static int
write_update(struct lw_tfile *f, struct insert *ins, size_t n, struct lw_buf *why)
{
    struct lw_buf b;
    lw_buf_init(&b);
    size_t from = 0;
    const char *nl1 = memchr(f->text.p, '\n', f->text.len); /* CRLF: its first line says */
    bool crlf = nl1 != NULL && nl1 > f->text.p && nl1[-1] == '\r';
    for (size_t i = 0; i < n; i++) { /* in file order: cases are */
        /* after the end of the case's last line: a block scalar's end mark can lie in the
         * indentation of the next line, which is then where the case ended */
        size_t off = ins[i].off, back = off;
        while (back > 0 && (f->text.p[back - 1] == ' ' || f->text.p[back - 1] == '\t'))
            back--;
        if (back == 0 || f->text.p[back - 1] == '\n') {
            off = back;
        } else {
            while (off < f->text.len && f->text.p[off] != '\n')
                off++;
            if (off < f->text.len) off++;
        }
        lw_buf_add(&b, f->text.p + from, off - from);
        if (b.len > 0 && b.p[b.len - 1] != '\n') lw_buf_adds(&b, crlf ? "\r\n" : "\n");
        for (const char *p = ins[i].text; *p; p++) { /* the file's line ends */
            if (*p == '\n' && crlf) lw_buf_addc(&b, '\r');
            lw_buf_addc(&b, *p);
        }
        from = off;
    }
    lw_buf_add(&b, f->text.p + from, f->text.len - from);
    struct lw_buf tmp;
    lw_buf_init(&tmp);
    lw_buf_printf(&tmp, "%s~.test.yaml", f->path); /* the name lw_test_load wants */
    lw_buf_addc(&tmp, '\0');
    FILE *fp = fopen(tmp.p, "w");
    int rc = -1;
    if (fp == NULL || fwrite(b.p, 1, b.len, fp) != b.len || fclose(fp) != 0) {
        lw_buf_printf(why, "%s: error: cannot write %s: %s\n", f->path, tmp.p, strerror(errno));
    } else {
        struct lw_tfile check;
        char err[1024];
        if (lw_test_load(&check, tmp.p, err, sizeof err) != 0) {
            lw_buf_printf(why,
                          "%s: error: --update would make the file unreadable, left as it "
                          "was (%s)\n",
                          f->path, err);
        } else if (check.ncases != f->ncases || fresh_left(&check, ins, n)) {
            lw_buf_printf(why,
                          "%s: error: --update did not read back as written, left as it "
                          "was\n",
                          f->path);
        } else if (rename(tmp.p, f->path) != 0) {
            lw_buf_printf(why, "%s: error: cannot replace it: %s\n", f->path, strerror(errno));
        } else {
            rc = 0;
        }
        lw_test_free(&check); /* also after a failed load: freeing twice is harmless */
    }
    if (rc != 0) remove(tmp.p);
    lw_buf_fini(&tmp);
    lw_buf_fini(&b);
    return rc;
}

/* ---- one file ---- */

static void say(struct run *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct run *u, const char *fmt, ...)
{
    if (u->tap) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
}

static void
one_case(struct run *u, struct lw_tfile *f, const struct logwash_template *t,
         const struct lw_tcase *c, struct lw_buf *ins_text, bool *insert)
{
    struct lw_arena a;
    lw_arena_init(&a, 64 * 1024);
    struct got g = { 0 };
    lw_buf_init(&g.emitted_text);
    g.emitted.kind = g.printed.kind = LW_TV_ARRAY;
    struct lw_buf out;
    lw_buf_init(&out);
    *insert = false;
    int bad = run_case(u, t, f, c, &a, &g, &out, u->counts) != 0;
    enum rkind kind = R_PASS;
    if (!bad && c->fresh && u->update) {
        bad = c->flow ? 1 : 0;
        if (c->flow)
            lw_buf_adds(&out, "    cannot record: the case is written in flow style ({...}); "
                              "--update writes block-style cases only\n");
        else if (expectation(c, &g, ins_text, &out) != 0)
            bad = 1;
        else
            kind = R_UPDATED, *insert = true;
    } else if (!bad && c->fresh) {
        lw_buf_printf(&out,
                      "    no expectation: run `logwash test --update %s` to record what "
                      "it gives now\n",
                      f->path);
        bad = 1;
    } else if (!bad) {
        bad += check_outcomes(f, c, &g, &out);
        if (c->has_expect) bad += check_list(f, &c->expect, &g.emitted, false, "outputs", &out);
        if (c->has_subset) bad += check_list(f, &c->subset, &g.emitted, true, "outputs", &out);
        if (c->has_printed) bad += check_list(f, &c->printed, &g.printed, false, "lines", &out);
    }
    if (bad) {
        kind = R_FAIL;
        struct lw_buf d;
        lw_buf_init(&d);
        if (c->ninputs == 1) show_input(&d, c->inputs[0], "input");
        lw_buf_add(&d, out.p, out.len);
        lw_buf_addc(&d, '\0');
        add(u, f->path, c->name, c->line, kind, d.p);
        say(u, "FAIL %s:%d:%d: %s\n%s", u->r[u->n - 1].file, c->line, c->col, c->name,
            u->r[u->n - 1].detail);
        lw_buf_fini(&d);
        u->failed++;
    } else {
        add(u, f->path, c->name, c->line, kind, NULL);
        if (kind == R_UPDATED) u->updated++;
        if (kind == R_PASS) u->passed++;
        if (kind == R_UPDATED && !u->quiet)
            say(u, "  recorded %s:%d: %s\n", f->path, c->line, c->name);
        else if (u->verbose)
            say(u, "  ok %s:%d: %s\n", f->path, c->line, c->name);
    }
    u->cases++;
    lw_buf_fini(&out);
    lw_buf_fini(&g.emitted_text);
    lw_arena_fini(&a);
}

/* every_error: a compile error of the template, its lines indented into the lw_buf ud, and
 * after the last a line counting them. */
static void
every_error(void *ud, const struct logwash_compile_error *e)
{
    struct lw_buf *b = ud;
    for (const char *p = e->text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        lw_buf_adds(b, "    ");
        lw_buf_add(b, p, n);
        p += n;
    }
    if (e->index + 1 < e->count || (e->count == 1 && !e->more)) return;
    char line[128];
    if (e->more)
        snprintf(line, sizeof line, "    too many errors: stopped after %u\n", e->count);
    else
        snprintf(line, sizeof line, "    %u errors\n", e->count);
    lw_buf_adds(b, line);
}

static void
one_file(struct run *u, const char *path)
{
    struct lw_tfile f;
    char err[1024];
    u->files++;
    if (lw_test_load(&f, path, err, sizeof err) != 0) {
        fprintf(stderr, "logwash: %s\n", err);
        add(u, path, "(test file)", 0, R_FILE_ERROR, err);
        u->file_errors++;
        return;
    }
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    co.jit = !u->no_jit;
    co.pattern_dirs = f.patterns;
    co.npattern_dirs = f.npatterns;
    co.import_paths = f.libs;
    co.nimport_paths = f.nlibs;
    struct lw_buf all;
    lw_buf_init(&all);
    co.on_error = every_error;
    co.on_error_ud = &all;
    co.coverage = u->cov != NULL;
    struct lw_uadata ua = { 0 }; /* read only if the template calls parse_user_agent */
    co.ua_rules = lw_uadata_load;
    co.ua_rules_ud = &ua;
    struct logwash_error e;
    struct logwash_template *t = logwash_compile_file(f.template_path, &co, &e);
    lw_uadata_fini(&ua);
    if (t == NULL) {
        if (e.line > 0)
            snprintf(err, sizeof err, "%s:%d:%d: error: %s", f.template_path, e.line, e.col,
                     e.message);
        else if (f.tline > 0)
            snprintf(err, sizeof err, "%s:%d:%d: error: %s", path, f.tline, f.tcol, e.message);
        else
            snprintf(err, sizeof err, "%s: error: %s", path, e.message);
        lw_buf_addc(&all, '\0');
        const char *cs = f.ncases == 1 ? "" : "s";
        if (e.line > 0 && all.len > 1) { /* every error, with its source line */
            say(u, "FAIL %s: the template does not compile, %zu case%s not run\n%s", path, f.ncases,
                cs, all.p);
        } else {
            say(u, "FAIL %s: the template does not compile, %zu case%s not run\n    %s\n", path,
                f.ncases, cs, err);
        }
        add(u, path, "(template)", 0, R_TEMPLATE_ERROR, err);
        u->failed++;
        lw_buf_fini(&all);
        lw_test_free(&f);
        return;
    }
    lw_buf_fini(&all);
    u->counts = u->cov != NULL ? lw_cov_counts(u->cov, t) : NULL;
    struct insert *ins = lw_xcalloc(f.ncases + 1, sizeof *ins);
    size_t nins = 0, before = u->failed;
    for (size_t i = 0; i < f.ncases; i++) {
        struct lw_buf y;
        lw_buf_init(&y);
        bool insert;
        one_case(u, &f, t, &f.cases[i], &y, &insert);
        if (insert) {
            lw_buf_addc(&y, '\0');
            ins[nins++] = (struct insert){ f.cases[i].insert_off, lw_xstrndup(y.p, y.len), i };
        }
        lw_buf_fini(&y);
    }
    struct lw_buf why;
    lw_buf_init(&why);
    if (nins > 0 && write_update(&f, ins, nins, &why) != 0) {
        lw_buf_addc(&why, '\0');
        fprintf(stderr, "logwash: %s", why.p);
        add(u, path, "(--update)", 0, R_FILE_ERROR, why.p);
        u->file_errors++;
    }
    lw_buf_fini(&why);
    if (!u->verbose && !u->quiet && u->failed == before)
        say(u, "ok   %s: %zu case%s\n", path, f.ncases, f.ncases == 1 ? "" : "s");
    for (size_t i = 0; i < nins; i++)
        free(ins[i].text);
    free(ins);
    logwash_template_free(t);
    tables_free(u);
    lw_test_free(&f);
}

/* ---- paths ---- */

static bool
ends(const char *s, const char *suffix)
{
    size_t l = strlen(s), sl = strlen(suffix);
    return l >= sl && strcmp(s + l - sl, suffix) == 0;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* directory: every NAME.test.yaml in dir, in name order; a template there without one is
 * named on stderr (not an error: not every template needs to be tested here). */
static int
directory(struct run *u, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "logwash: test: cannot read %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!ends(de->d_name, ".test.yaml") && !ends(de->d_name, ".lw")) continue;
        names = lw_xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = lw_xstrndup(de->d_name, strlen(de->d_name));
    }
    closedir(d);
    if (n > 1) qsort(names, n, sizeof *names, by_name);
    struct lw_buf p, untested;
    lw_buf_init(&p);
    lw_buf_init(&untested);
    const char *sep = ends(dir, "/") ? "" : "/";
    for (size_t i = 0; i < n; i++) {
        p.len = 0;
        lw_buf_printf(&p, "%s%s%s", dir, sep, names[i]);
        if (ends(names[i], ".test.yaml")) {
            lw_buf_addc(&p, '\0');
            one_file(u, p.p);
        } else {
            lw_buf_printf(&p, "%s", "");
            p.len -= 3;
            lw_buf_adds(&p, ".test.yaml");
            lw_buf_addc(&p, '\0');
            struct stat st;
            if (stat(p.p, &st) != 0)
                lw_buf_printf(&untested, "%s%s", untested.len ? ", " : "", names[i]);
        }
        free(names[i]);
    }
    free(names);
    if (untested.len > 0 && !u->quiet && !u->tap)
        fprintf(stderr, "logwash: test: %s: no test file for %.*s\n", dir, (int)untested.len,
                untested.p);
    lw_buf_fini(&p);
    lw_buf_fini(&untested);
    return 0;
}

static int
path_arg(struct run *u, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return directory(u, path);
    if (ends(path, ".lw")) {
        size_t l = strlen(path) - 3;
        char *t = lw_xmalloc(l + sizeof ".test.yaml");
        memcpy(t, path, l);
        memcpy(t + l, ".test.yaml", sizeof ".test.yaml");
        int rc = 0;
        if (stat(t, &st) != 0) {
            fprintf(stderr, "logwash: test: %s has no test file %s\n", path, t);
            rc = -1;
        } else {
            one_file(u, t);
        }
        free(t);
        return rc;
    }
    if (stat(path, &st) != 0) {
        fprintf(stderr, "logwash: test: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    one_file(u, path);
    return 0;
}

/* ---- reports ---- */

/* tap_desc: s in a TAP description: a '#' starts a directive (# TODO would excuse a failure),
 * so it is \#, and a backslash is \\ (a name ending in a backslash made "\\#", which TAP
 * reads as a backslash and a directive) */
static void
tap_desc(const char *s)
{
    for (const char *p = s; *p; p++)
        fputs(*p == '#' ? "\\#" : *p == '\\' ? "\\\\" : (char[]){ *p, '\0' }, stdout);
}

static void
tap(struct run *u)
{
    printf("TAP version 13\n1..%zu\n", u->n);
    for (size_t i = 0; i < u->n; i++) {
        struct result *r = &u->r[i];
        bool ok = r->kind == R_PASS || r->kind == R_UPDATED;
        printf("%s %zu - ", ok ? "ok" : "not ok", i + 1);
        tap_desc(r->file);
        if (r->line > 0) printf(":%d", r->line);
        printf(": ");
        tap_desc(r->name);
        printf("%s\n", r->kind == R_UPDATED ? " # recorded by --update" : "");
        for (const char *p = r->detail; p && *p;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            printf("# %.*s\n", (int)len, p);
            p += len + (nl != NULL);
        }
    }
}

/* xml: s (made clean by add(): valid UTF-8, XML's characters, no control but tab and
 * newline) as XML text or an attribute's value (where a newline or tab is a reference, as an
 * attribute's own would become a space) */
static void
xml(FILE *fp, const char *s, bool attr)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (attr && (ch == '\n' || ch == '\t'))
            fprintf(fp, "&#%d;", ch);
        else if (ch == '&')
            fputs("&amp;", fp);
        else if (ch == '<')
            fputs("&lt;", fp);
        else if (ch == '>')
            fputs("&gt;", fp);
        else if (ch == '"')
            fputs("&quot;", fp);
        else
            fputc(ch, fp);
    }
}

static int
junit(struct run *u)
{
    FILE *fp = fopen(u->junit, "w");
    if (fp == NULL) {
        fprintf(stderr, "logwash: test: cannot write %s: %s\n", u->junit, strerror(errno));
        return -1;
    }
    size_t fails = 0, errors = 0;
    for (size_t i = 0; i < u->n; i++) {
        fails += u->r[i].kind == R_FAIL || u->r[i].kind == R_TEMPLATE_ERROR;
        errors += u->r[i].kind == R_FILE_ERROR;
    }
    fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(fp,
            "<testsuites name=\"logwash test\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n",
            u->n, fails, errors);
    for (size_t i = 0; i < u->n;) {
        size_t j = i, nf = 0, ne = 0;
        for (; j < u->n && strcmp(u->r[j].file, u->r[i].file) == 0; j++) {
            nf += u->r[j].kind == R_FAIL || u->r[j].kind == R_TEMPLATE_ERROR;
            ne += u->r[j].kind == R_FILE_ERROR;
        }
        fputs("  <testsuite name=\"", fp);
        xml(fp, u->r[i].file, true);
        fprintf(fp, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n", j - i, nf, ne);
        for (; i < j; i++) {
            struct result *r = &u->r[i];
            fputs("    <testcase classname=\"", fp);
            xml(fp, r->file, true);
            fputs("\" name=\"", fp);
            xml(fp, r->name, true);
            fputs("\" file=\"", fp);
            xml(fp, r->file, true);
            fprintf(fp, "\" line=\"%d\"", r->line);
            if (r->kind == R_PASS || r->kind == R_UPDATED) {
                fputs("/>\n", fp);
                continue;
            }
            const char *tag = r->kind == R_FILE_ERROR ? "error" : "failure";
            fprintf(fp, ">\n      <%s message=\"", tag);
            /* the message: the first difference (after the input's line), unindented */
            const char *m = r->detail;
            if (strncmp(m, "    input: ", 11) == 0 && strchr(m, '\n') && strchr(m, '\n')[1])
                m = strchr(m, '\n') + 1;
            m += strspn(m, " ");
            const char *nl = strchr(m, '\n');
            char first[300];
            snprintf(first, sizeof first, "%.*s", (int)(nl ? (size_t)(nl - m) : strlen(m)), m);
            xml(fp, first, true);
            fputs("\">", fp);
            xml(fp, r->detail, false);
            fprintf(fp, "</%s>\n    </testcase>\n", tag);
        }
        fputs("  </testsuite>\n", fp);
    }
    fputs("</testsuites>\n", fp);
    if (fclose(fp) != 0) {
        fprintf(stderr, "logwash: test: cannot write %s: %s\n", u->junit, strerror(errno));
        return -1;
    }
    return 0;
}

static int
options(struct run *u, int argc, char **argv)
{
    enum { O_TAP = 256, O_JUNIT, O_UPDATE, O_NO_JIT, O_COV, O_COV_SHOW, O_COV_DIR, O_COV_MIN };
    static const struct option longs[] = {
        { "verbose", no_argument, NULL, 'v' },
        { "quiet", no_argument, NULL, 'q' },
        { "tap", no_argument, NULL, O_TAP },
        { "junit", required_argument, NULL, O_JUNIT },
        { "update", no_argument, NULL, O_UPDATE },
        { "no-jit", no_argument, NULL, O_NO_JIT },
        { "help", no_argument, NULL, 'h' },
        { "coverage", no_argument, NULL, O_COV },
        { "coverage-show", no_argument, NULL, O_COV_SHOW },
        { "coverage-dir", required_argument, NULL, O_COV_DIR },
        { "coverage-min", required_argument, NULL, O_COV_MIN },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    optind = 1;
    u->covopts.min = -1;
    int c;
    while ((c = getopt_long(argc, argv, "vqh", longs, NULL)) != -1) { /* options after paths too */
        switch (c) {
        case 'v':
            u->verbose = true;
            break;
        case 'q':
            u->quiet = true;
            break;
        case O_TAP:
            u->tap = true;
            break;
        case O_JUNIT:
            u->junit = optarg;
            break;
        case O_UPDATE:
            u->update = true;
            break;
        case O_NO_JIT:
            u->no_jit = true;
            break;
        case O_COV:
            u->cov = u->cov ? u->cov : lw_cov_new();
            break;
        case O_COV_SHOW:
            u->cov = u->cov ? u->cov : lw_cov_new();
            u->covopts.show = true;
            break;
        case O_COV_DIR:
            u->cov = u->cov ? u->cov : lw_cov_new();
            u->covopts.dir = optarg;
            break;
        case O_COV_MIN: {
            char *end;
            errno = 0;
            double v = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || errno != 0 || !(v >= 0 && v <= 100)) {
                fprintf(stderr,
                        "logwash: test: --coverage-min wants a percentage from 0 to 100, not "
                        "'%s'\n",
                        optarg);
                fprintf(stderr, "try 'logwash test --help'\n");
                return -1;
            }
            u->cov = u->cov ? u->cov : lw_cov_new();
            u->covopts.min = v;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            if (optopt == O_JUNIT || (optopt == 0 && strncmp(argv[optind - 1], "--junit", 7) == 0))
                fprintf(stderr, "logwash: test: --junit needs a file name\n");
            else if (optopt == O_COV_DIR || optopt == O_COV_MIN)
                fprintf(stderr, "logwash: test: %s needs a value\n", argv[optind - 1]);
            else
                fprintf(stderr, "logwash: test: unknown option '%s'\n", argv[optind - 1]);
            fprintf(stderr, "try 'logwash test --help'\n");
            return -1;
        }
    }
    return 0;
}

int
lw_test_main(int argc, char **argv)
{
    struct run u = { 0 };
    int rc = options(&u, argc, argv);
    if (rc != 0) {
        lw_cov_free(u.cov);
        return rc > 0 ? 0 : 2;
    }
    int bad_paths = 0;
    if (optind >= argc) bad_paths += path_arg(&u, ".") != 0;
    for (int i = optind; i < argc; i++)
        bad_paths += path_arg(&u, argv[i]) != 0;
    if (u.tap) tap(&u);
    if (u.junit && junit(&u) != 0) bad_paths++;
    int covrc = 0;
    if (u.cov != NULL) {
        u.covopts.tap = u.tap;
        covrc = lw_cov_report(u.cov, &u.covopts, stdout);
        lw_cov_free(u.cov);
    }
    if (!u.tap) {
        printf("logwash test: %zu file%s, %zu case%s: %zu passed, %zu failed", u.files,
               u.files == 1 ? "" : "s", u.cases, u.cases == 1 ? "" : "s", u.passed, u.failed);
        if (u.updated) printf(", %zu recorded", u.updated);
        if (u.file_errors) printf(", %zu malformed", u.file_errors);
        printf("\n");
    }
    if (u.files == 0 && bad_paths == 0) {
        fprintf(stderr, "logwash: test: no test files (NAME.test.yaml) found\n");
        bad_paths++;
    }
    for (size_t i = 0; i < u.n; i++) {
        free(u.r[i].file);
        free(u.r[i].name);
        free(u.r[i].detail);
    }
    free(u.r);
    if (bad_paths || u.file_errors || covrc == 2) return 2;
    return u.failed || covrc ? 1 : 0;
}

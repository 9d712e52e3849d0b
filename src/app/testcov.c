/* `logwash test --coverage`: the counts of each template's coverage points (liblogwash's
 * logwash_template_coverage, logwash_runner_coverage), added up over every case of the run,
 * then reported per source file: a summary line (statements and branch outcomes reached) and,
 * on request, an annotated listing in the manner of gcov. The format is in logwash-test(1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_int.h"

struct covfile {
    char *name;
    char *text;
    size_t len;
};

/* One template: its points (copied), their counts added up, and its files' names and texts. */
struct covtpl {
    char *name;
    struct logwash_coverage_point *pts;
    uint64_t *count;
    size_t n;
    struct covfile *files;
    unsigned nfiles;
};

struct lw_cov {
    struct covtpl *t;
    size_t n;
};

struct lw_cov *
lw_cov_new(void)
{
    return lw_xcalloc(1, sizeof(struct lw_cov));
}

void
lw_cov_free(struct lw_cov *c)
{
    if (c == NULL) return;
    for (size_t i = 0; i < c->n; i++) {
        struct covtpl *t = &c->t[i];
        for (unsigned f = 0; f < t->nfiles; f++) {
            free(t->files[f].name);
            free(t->files[f].text);
        }
        free(t->files);
        free(t->pts);
        free(t->count);
        free(t->name);
    }
    free(c->t);
    free(c);
}

uint64_t *
lw_cov_counts(struct lw_cov *c, const struct logwash_template *tpl)
{
    size_t n;
    const struct logwash_coverage_point *pts = logwash_template_coverage(tpl, &n);
    const char *name = logwash_template_name(tpl);
    for (size_t i = 0; i < c->n; i++) { /* the same template again (named twice) */
        if (strcmp(c->t[i].name, name) == 0 && c->t[i].n == n) return c->t[i].count;
    }
    c->t = lw_xrealloc(c->t, (c->n + 1) * sizeof *c->t);
    struct covtpl *t = &c->t[c->n++];
    *t = (struct covtpl){ .name = lw_xstrndup(name, strlen(name)), .n = n };
    t->pts = lw_xcalloc(n + 1, sizeof *t->pts);
    if (n > 0) memcpy(t->pts, pts, n * sizeof *pts);
    t->count = lw_xcalloc(n + 1, sizeof *t->count);
    const char *fname, *text;
    size_t len;
    while ((fname = logwash_template_file(tpl, t->nfiles, &text, &len)) != NULL) {
        t->files = lw_xrealloc(t->files, (t->nfiles + 1) * sizeof *t->files);
        t->files[t->nfiles++] =
            (struct covfile){ lw_xstrndup(fname, strlen(fname)), lw_xstrndup(text, len), len };
    }
    return t->count;
}

void
lw_cov_add(uint64_t *acc, const struct logwash_template *tpl, const struct logwash_runner *r)
{
    size_t n;
    logwash_template_coverage(tpl, &n);
    const uint64_t *c = logwash_runner_coverage(r);
    for (size_t i = 0; c != NULL && i < n; i++)
        acc[i] += c[i];
}

/* ---- the report ---- */

struct tally {
    size_t stmts, stmts_hit, branches, branches_hit, excluded;
};

/* nocover: point i was never reached and its line says why it cannot be ("# nocover: WHY"):
 * it counts neither way */
static bool
nocover(const struct covtpl *t, size_t i)
{
    const struct logwash_coverage_point *q = &t->pts[i];
    if (t->count[i] > 0 || q->file >= t->nfiles) return false;
    const struct covfile *cf = &t->files[q->file];
    const char *p = cf->text, *end = cf->text + cf->len;
    for (int line = 1; line < q->line && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    const char *e = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((e ? e : end) - p);
    static const char mark[] = "# nocover:";
    for (size_t k = 0; k + sizeof mark - 1 <= n; k++)
        if (memcmp(p + k, mark, sizeof mark - 1) == 0) return true;
    return false;
}

static struct tally
tally(const struct covtpl *t, unsigned file)
{
    struct tally y = { 0 };
    for (size_t i = 0; i < t->n; i++) {
        if (t->pts[i].file != file) continue;
        if (nocover(t, i)) {
            y.excluded++;
            continue;
        }
        bool hit = t->count[i] > 0;
        if (t->pts[i].kind == LOGWASH_COVERAGE_STATEMENT) {
            y.stmts++;
            y.stmts_hit += hit;
        } else {
            y.branches++;
            y.branches_hit += hit;
        }
    }
    return y;
}

static void
fraction(struct lw_buf *b, const char *what, size_t hit, size_t all)
{
    if (all == 0)
        lw_buf_printf(b, "%s 0/0", what);
    else
        lw_buf_printf(b, "%s %zu/%zu (%.1f%%)", what, hit, all, 100.0 * (double)hit / (double)all);
}

/* below: whether hit/all is under pct percent (nothing to cover is never under) */
static bool
below(size_t hit, size_t all, double pct)
{
    return all > 0 && 100.0 * (double)hit < pct * (double)all;
}

static const char *const labels[][2] = {
    [LOGWASH_COVERAGE_IF] = { "else", "then" },
    [LOGWASH_COVERAGE_CONDITIONAL] = { "else", "then" },
    [LOGWASH_COVERAGE_DEFAULT] = { "default", "value" },
    [LOGWASH_COVERAGE_AND] = { "false", "true" },
    [LOGWASH_COVERAGE_OR] = { "false", "true" },
    [LOGWASH_COVERAGE_FILTER] = { "left out", "kept" },
};
static const char *const kind_names[] = {
    [LOGWASH_COVERAGE_IF] = "if",      [LOGWASH_COVERAGE_CONDITIONAL] = "?:",
    [LOGWASH_COVERAGE_DEFAULT] = "??", [LOGWASH_COVERAGE_AND] = "&&",
    [LOGWASH_COVERAGE_OR] = "||",      [LOGWASH_COVERAGE_FILTER] = "for-if",
};

static void
count_text(char *out, size_t n, uint64_t c, bool excluded)
{
    if (c == 0)
        snprintf(out, n, "#####%s", excluded ? " (nocover)" : "");
    else
        snprintf(out, n, "%llu", (unsigned long long)c);
}

/* listing: file f of t, each line prefixed with its count (the most any statement starting on
 * it ran; "#####" never, "-" no statement starts there), each branch under its line with the
 * count of both outcomes. */
static void
listing(struct lw_buf *b, const struct covtpl *t, unsigned f)
{
    const struct covfile *cf = &t->files[f];
    lw_buf_printf(b, "%9s:%5d:Source:%s\n", "-", 0, cf->name);
    const char *p = cf->text, *end = cf->text + cf->len;
    for (int line = 1; p < end || line == 1; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        bool any = false, excluded = true;
        uint64_t most = 0;
        for (size_t i = 0; i < t->n; i++) {
            const struct logwash_coverage_point *q = &t->pts[i];
            if (q->file != f || q->line != line || q->kind != LOGWASH_COVERAGE_STATEMENT) continue;
            any = true;
            excluded = excluded && nocover(t, i);
            if (t->count[i] > most) most = t->count[i];
        }
        char cnt[32] = "-";
        if (any) count_text(cnt, sizeof cnt, most, false);
        if (any && most == 0 && excluded) snprintf(cnt, sizeof cnt, "=====");
        lw_buf_printf(b, "%9s:%5d:%.*s\n", cnt, line, (int)(e - p), p);
        for (size_t i = 0; i + 1 < t->n; i++) {
            const struct logwash_coverage_point *q = &t->pts[i];
            if (q->file != f || q->line != line || q->kind == LOGWASH_COVERAGE_STATEMENT ||
                q->outcome != 1)
                continue;
            /* a branch's two outcomes are adjacent: then/value (1), else/default (0) */
            char c1[32], c0[32];
            count_text(c1, sizeof c1, t->count[i], nocover(t, i));
            count_text(c0, sizeof c0, t->count[i + 1], nocover(t, i + 1));
            lw_buf_printf(b, "%9s %5s branch %s at %d:%d: %s %s, %s %s\n", "", "",
                          kind_names[q->kind], q->line, q->col, labels[q->kind][1], c1,
                          labels[q->kind][0], c0);
        }
        if (nl == NULL) break;
        p = nl + 1;
    }
}

/* mangled: a path as a file name, '/' made '#' (as gcov -p) */
static void
mangled(struct lw_buf *b, const char *path)
{
    for (const char *s = path; *s; s++)
        lw_buf_addc(b, *s == '/' ? '#' : *s);
}

int
lw_cov_report(struct lw_cov *c, const struct lw_cov_opts *o, FILE *out)
{
    int rc = 0;
    const char *pre = o->tap ? "# " : "";
    struct lw_buf b, why;
    lw_buf_init(&b);
    lw_buf_init(&why);
    for (size_t i = 0; i < c->n; i++) {
        const struct covtpl *t = &c->t[i];
        for (unsigned f = 0; f < t->nfiles; f++) {
            struct tally y = tally(t, f);
            if (f > 0 && y.stmts == 0 && y.branches == 0) continue; /* nothing of it is code */
            b.len = 0;
            lw_buf_printf(&b, "%scoverage: %s%s%s: ", pre, f > 0 ? "  " : "", t->files[f].name,
                          f > 0 ? " (imported)" : "");
            fraction(&b, "statements", y.stmts_hit, y.stmts);
            lw_buf_adds(&b, ", ");
            fraction(&b, "branches", y.branches_hit, y.branches);
            if (y.excluded > 0) lw_buf_printf(&b, ", %zu not coverable (# nocover)", y.excluded);
            fprintf(out, "%.*s\n", (int)b.len, b.p);
            if (o->min >= 0 && (below(y.stmts_hit, y.stmts, o->min) ||
                                below(y.branches_hit, y.branches, o->min))) {
                lw_buf_printf(&why, "%s%s", why.len ? ", " : "", t->files[f].name);
            }
        }
    }
    if (o->show) {
        for (size_t i = 0; i < c->n; i++) {
            for (unsigned f = 0; f < c->t[i].nfiles; f++) {
                b.len = 0;
                listing(&b, &c->t[i], f);
                for (const char *p = b.p, *end = b.p + b.len; p < end;) {
                    const char *nl = memchr(p, '\n', (size_t)(end - p));
                    fprintf(out, "%s%.*s\n", pre, (int)(nl - p), p);
                    p = nl + 1;
                }
            }
        }
    }
    for (size_t i = 0; o->dir != NULL && i < c->n; i++) {
        struct lw_buf path;
        lw_buf_init(&path);
        lw_buf_printf(&path, "%s/", o->dir);
        mangled(&path, c->t[i].name);
        lw_buf_adds(&path, ".cov");
        lw_buf_addc(&path, '\0');
        b.len = 0;
        for (unsigned f = 0; f < c->t[i].nfiles; f++)
            listing(&b, &c->t[i], f);
        FILE *fp = fopen(path.p, "w");
        bool ok = fp != NULL && fwrite(b.p, 1, b.len, fp) == b.len;
        if (fp != NULL && fclose(fp) != 0) ok = false;
        if (!ok) {
            fprintf(stderr, "logwash: test: cannot write %s: %s\n", path.p, strerror(errno));
            rc = 2;
        }
        lw_buf_fini(&path);
    }
    if (why.len > 0) {
        fprintf(out, "%scoverage: below %g%% (--coverage-min): %.*s\n", pre, o->min, (int)why.len,
                why.p);
        if (rc == 0) rc = 1;
    }
    lw_buf_fini(&b);
    lw_buf_fini(&why);
    return rc;
}

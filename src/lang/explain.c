/* Explaining a record: for each match(), grok() and dissect() the VM reaches, whether it
 * matched and, when not, how far it got; at each emit or print, the value and the variables in
 * scope. Runs only when vm->explain is set (the VM's hooks), with match data of its own and the
 * VM's per-call limits; the text is for people (logwash(1) EXPLAIN), not for parsing. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "lw/explain.h"

#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/dissect.h"
#include "lw/grok.h"

#define SHOW_BEFORE 60 /* bytes of the subject shown before the caret */
#define SHOW_AFTER  20 /* ... and after it */

struct lw_explain *
lw_explain_new(void)
{
    struct lw_explain *x = calloc(1, sizeof *x);
    if (x == NULL) return NULL;
    lw_buf_init(&x->text);
    x->mctx = pcre2_match_context_create(NULL);
    if (x->mctx == NULL) {
        lw_explain_free(x);
        return NULL;
    }
    return x;
}

void
lw_explain_free(struct lw_explain *x)
{
    if (x == NULL) return;
    pcre2_match_context_free(x->mctx);
    lw_buf_fini(&x->text);
    free(x);
}

void
lw_explain_reset(struct lw_explain *x)
{
    x->text.len = 0;
    lw_buf_addc(&x->text, '\0');
    x->text.len = 0;
    x->nsites = x->skipped = x->probes = x->misses = 0;
    x->cut = false;
}

void
lw_explain_finish(struct lw_explain *x)
{
    if (x->skipped > 0) {
        x->cut = false; /* this note is always written */
        char note[96];
        snprintf(note, sizeof note, "(%u more sites not explained: at most %d per record)\n",
                 x->skipped, LW_EXPLAIN_MAX_SITES);
        lw_buf_adds(&x->text, note);
    } else if (x->cut) {
        char note[64];
        snprintf(note, sizeof note, "(explanation cut at %d bytes)\n", LW_EXPLAIN_MAX_TEXT);
        lw_buf_adds(&x->text, note);
    }
    lw_buf_addc(&x->text, '\0');
    x->text.len--;
}

/* say: append to the text, up to LW_EXPLAIN_MAX_TEXT. */
__attribute__((format(printf, 2, 3))) static void
say(struct lw_explain *x, const char *fmt, ...)
{
    if (x->cut) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (x->text.len + len > LW_EXPLAIN_MAX_TEXT) {
        x->cut = true;
        return;
    }
    lw_buf_add(&x->text, line, len);
}

/* site: the heading of a site at pc ("t.lw:3:9: what: "), or false when the record has had
 * its share of sites. */
static bool
site(struct lw_vm *vm, uint32_t pc, const char *what)
{
    struct lw_explain *x = vm->explain;
    if (x->nsites == LW_EXPLAIN_MAX_SITES) {
        x->skipped++;
        return false;
    }
    x->nsites++;
    struct lw_str file;
    int line, col;
    lw_program_where(vm->prog, vm->prog->spans[pc].off, &file, &line, &col);
    say(x, "%.*s:%d:%d: %s", (int)file.len, file.p, line, col, what);
    return true;
}

/* show: the subject around byte at, with a caret under it. Control bytes show as '.', so the
 * caret lines up; UTF-8 continuation bytes take no column. */
static void
show(struct lw_explain *x, const char *s, size_t len, size_t at)
{
    size_t from = at > SHOW_BEFORE ? at - SHOW_BEFORE : 0;
    size_t to = len - at > SHOW_AFTER ? at + SHOW_AFTER : len;
    char text[4 * (SHOW_BEFORE + SHOW_AFTER) + 16], caret[SHOW_BEFORE + 16];
    size_t n = 0, cols = 0;
    if (from > 0) {
        memcpy(text, "...", 3);
        n = cols = 3;
    }
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)s[i];
        text[n++] = c < 0x20 || c == 0x7f ? '.' : (char)c;
        if (i < at && (c & 0xc0) != 0x80) cols++;
    }
    if (to < len) {
        memcpy(text + n, "...", 3);
        n += 3;
    }
    memset(caret, ' ', cols);
    caret[cols] = '^';
    say(x, "    %.*s\n    %.*s\n", (int)n, text, (int)cols + 1, caret);
}

/* value: v in JSON form, at most LW_EXPLAIN_MAX_VALUE bytes ("..." when longer). */
static void
value(struct lw_vm *vm, const struct lw_value *v, struct lw_buf *b)
{
    b->len = 0;
    if (lw_value_write_json_max(b, v, vm->arena, LW_EXPLAIN_MAX_VALUE) != 0) {
        if (b->len > LW_EXPLAIN_MAX_VALUE) b->len = LW_EXPLAIN_MAX_VALUE;
        lw_buf_adds(b, "...");
    }
}

/* matches: does code match s[0, len) with options opts under the VM's per-call limits (a probe,
 * one of the many tries of a non-match, under LW_EXPLAIN_PROBE_LIMIT at most)? 1, 2 for a
 * partial match, with the (partial) match in ov; 0 no; -1 a limit or LW_EXPLAIN_MAX_PROBES. */
static int
matches(struct lw_vm *vm, const pcre2_code *code, const char *s, size_t len, uint32_t opts,
        bool probe, size_t ov[2])
{
    struct lw_explain *x = vm->explain;
    if (x->probes == LW_EXPLAIN_MAX_PROBES) return -1;
    x->probes++;
    uint32_t limit = vm->limits.match_limit;
    if (probe && limit > LW_EXPLAIN_PROBE_LIMIT) limit = LW_EXPLAIN_PROBE_LIMIT;
    pcre2_set_match_limit(x->mctx, limit);
    pcre2_set_depth_limit(x->mctx, vm->limits.depth_limit);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    if (md == NULL) return 0;
    int rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, opts | PCRE2_NO_JIT, md, x->mctx);
    if (rc >= 0 || rc == PCRE2_ERROR_PARTIAL) {
        PCRE2_SIZE *o = pcre2_get_ovector_pointer(md);
        ov[0] = o[0];
        ov[1] = o[1];
    }
    pcre2_match_data_free(md);
    if (rc == PCRE2_ERROR_PARTIAL) return 2;
    return rc >= 0 ? 1 : rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* Regexes --------------------------------------------------------------------------------- */

/* regex_miss: the longest prefix of s that ends inside a possible match: the largest L for
 * which s[0, L) matches or ends in a partial match (PCRE2_PARTIAL_HARD). Not monotonic in L (a
 * prefix ending between two candidates has none), so L goes down from the end, over the first
 * LW_EXPLAIN_MAX_SUBJECT bytes of s. */
static void
regex_miss(struct lw_vm *vm, const struct lw_regex *re, const char *s, size_t len)
{
    struct lw_explain *x = vm->explain;
    size_t top = len > LW_EXPLAIN_MAX_SUBJECT ? LW_EXPLAIN_MAX_SUBJECT : len, l = top, ov[2];
    if (top < len) say(x, "  (the first %zu bytes of the subject are examined)\n", top);
    int rc = 0;
    while (l > 0 && (rc = matches(vm, re->code, s, l, PCRE2_PARTIAL_HARD, true, ov)) == 0)
        l--;
    if (rc < 0) {
        say(x, "  (not examined further: a match limit was reached)\n");
    } else if (l == top && top < len) {
        say(x, "  bytes %zu-%zu could all belong to a match (not examined past them)\n", ov[0],
            top);
        show(x, s, len, top);
    } else if (l == 0) {
        say(x, "  no byte of the subject can begin a match\n");
        show(x, s, len, 0);
    } else if (l == len) {
        say(x, "  the subject ends inside a possible match, which begins at byte %zu\n", ov[0]);
        show(x, s, len, len);
    } else {
        say(x, "  a match could begin at byte %zu, but byte %zu does not continue it\n", ov[0], l);
        show(x, s, len, l);
    }
}

void
lw_explain_match(struct lw_vm *vm, uint32_t pc, const struct lw_matchsite *ms,
                 const struct lw_value *s)
{
    struct lw_explain *x = vm->explain;
    const struct lw_regex *re = ms->re;
    size_t ov[2];
    if (!site(vm, pc, "match(): ")) return;
    if (s->t != LW_T_STR) {
        say(x, "the subject is %s: no match\n", lw_type_name(s->t));
        x->misses++;
        return;
    }
    int rc = matches(vm, re->code, s->u.p, s->len, 0, false, ov);
    if (rc <= 0) x->misses++;
    say(x, "/%.*s/ %s\n", (int)(re->src.len > 200 ? 200 : re->src.len), re->src.p,
        rc > 0   ? "matched"
        : rc < 0 ? "stopped by a limit"
                 : "did not match");
    if (rc > 0) {
        say(x, "  bytes %zu-%zu\n", ov[0], ov[1]);
    } else if (rc == 0) {
        regex_miss(vm, re, s->u.p, s->len);
    }
}

/* Grok -------------------------------------------------------------------------------------- */

/* prefix_match: does the pattern's prefix up to cut c (its expansion's first bytes) match s?
 * 1 with the match in ov, 0 not (or the prefix is no regex: a cut inside a group), -2 when a
 * limit stopped it. */
static int
prefix_match(struct lw_vm *vm, const struct lw_grok_alt *alt, uint32_t c, const char *s, size_t len,
             size_t ov[2])
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)alt->regex.p, alt->cuts[c].re,
                                     PCRE2_MULTILINE | PCRE2_NO_AUTO_CAPTURE, &ec, &eo, NULL);
    if (code == NULL) return 0;
    int rc = matches(vm, code, s, len, 0, true, ov);
    pcre2_code_free(code);
    return rc > 0 ? 1 : rc < 0 ? -2 : 0;
}

/* piece: the piece of pattern p starting at byte at: a %{...} reference, or the text up to the
 * next one. */
static struct lw_str
piece(struct lw_str p, size_t at)
{
    const char *s = p.p + at, *end = p.p + p.len;
    if (end - s >= 2 && s[0] == '%' && s[1] == '{') {
        const char *close = memchr(s, '}', (size_t)(end - s));
        return (struct lw_str){ s, close ? (size_t)(close - s) + 1 : (size_t)(end - s) };
    }
    const char *e = s;
    while (e < end && !(e + 1 < end && e[0] == '%' && e[1] == '{'))
        e++;
    return (struct lw_str){ s, (size_t)(e - s) };
}

/* grok_miss: the longest prefix of the pattern (cut at a top-level piece) that matches s, and
 * the piece after it, which does not match where that prefix ends. */
static void
grok_miss(struct lw_vm *vm, const struct lw_grok_alt *alt, const char *s, size_t len)
{
    struct lw_explain *x = vm->explain;
    struct lw_str pat = alt->re->src;
    uint32_t tried = 0;
    size_t ov[2] = { 0, 0 }, compiled = 0;
    int64_t best = -1;
    int rc = 0;
    for (uint32_t c = alt->ncuts; c-- > 1 && tried < LW_EXPLAIN_MAX_CUTS;) {
        tried++;
        compiled += alt->cuts[c].re;
        if (compiled > LW_EXPLAIN_MAX_COMPILE) {
            rc = -1;
            break;
        }
        if ((rc = prefix_match(vm, alt, c, s, len, ov)) == 1) {
            best = c;
            break;
        }
        if (rc == -2) break;
    }
    if (rc < 0 && best < 0) {
        say(x, "  (not examined further: a limit of explaining was reached)\n");
        return;
    }
    if (best < 0) { /* not even the first piece */
        struct lw_str p = piece(pat, 0);
        const char *q = p.p[0] == '%' ? "" : "'";
        say(x, "  %s%.*s%s matches nowhere in the subject\n", q, (int)(p.len > 80 ? 80 : p.len),
            p.p, q);
        show(x, s, len, 0);
        return;
    }
    uint32_t at = alt->cuts[best].pat;
    struct lw_str p = piece(pat, at);
    const char *q = p.p[0] == '%' ? "" : "'"; /* literal text quoted: it may be a space */
    say(x, "  %s%.*s%s did not match at byte %zu (the pattern before it matched bytes %zu-%zu)\n",
        q, (int)(p.len > 80 ? 80 : p.len), p.p, q, ov[1], ov[0], ov[1]);
    show(x, s, len, ov[1]);
}

static void
explain_grok(struct lw_vm *vm, const struct lw_value *subj, const struct lw_grok *gk)
{
    struct lw_explain *x = vm->explain;
    size_t ov[2];
    if (gk->n > 1) say(x, "%u alternatives\n", gk->n);
    for (uint32_t k = 0; k < gk->n; k++) {
        const struct lw_grok_alt *alt = &gk->alts[k];
        struct lw_str pat = alt->re->src;
        if (gk->n > 1) say(x, "  %u: ", k + 1);
        say(x, "'%.*s' ", (int)(pat.len > 200 ? 200 : pat.len), pat.p);
        int rc = matches(vm, alt->re->code, subj->u.p, subj->len, 0, false, ov);
        if (rc > 0) {
            say(x, "matched bytes %zu-%zu\n", ov[0], ov[1]);
            return;
        }
        say(x, "%s\n", rc < 0 ? "was stopped by a limit" : "did not match");
        if (rc == 0) grok_miss(vm, alt, subj->u.p, subj->len);
    }
    x->misses++; /* no alternative matched */
}

/* Dissect ----------------------------------------------------------------------------------- */

static void
explain_dissect(struct lw_vm *vm, const struct lw_value *subj, const struct lw_dissect *d)
{
    struct lw_explain *x = vm->explain;
    struct lw_str s = { subj->u.p, subj->len };
    uint32_t k;
    size_t off;
    int rc = lw_dissect_explain(d, s, &k, &off);
    if (rc == LW_DISSECT_MATCH) {
        say(x, "matched\n");
        return;
    }
    say(x, "did not match\n");
    x->misses++;
    struct lw_str f = lw_dissect_field_text(d, k), delim = d->f[k].delim;
    int fl = (int)(f.len > 80 ? 80 : f.len), dl = (int)(delim.len > 80 ? 80 : delim.len);
    if (rc == LW_DISSECT_NO_PREFIX) {
        say(x, "  the subject does not begin with \"%.*s\"\n",
            (int)(d->prefix.len > 80 ? 80 : d->prefix.len), d->prefix.p);
        size_t i = 0;
        while (i < s.len && i < d->prefix.len && s.p[i] == d->prefix.p[i])
            i++;
        show(x, s.p, s.len, i);
    } else if (rc == LW_DISSECT_NO_DELIM) {
        say(x, "  the delimiter \"%.*s\" after %.*s is not in the subject from byte %zu on\n", dl,
            delim.p, fl, f.p, off);
        show(x, s.p, s.len, off);
    } else {
        say(x, "  the subject does not end with \"%.*s\", the text after %.*s (from byte %zu)\n",
            dl, delim.p, fl, f.p, off);
        show(x, s.p, s.len, s.len);
    }
}

void
lw_explain_call(struct lw_vm *vm, uint32_t pc, uint32_t fn, const struct lw_value *args, int argc)
{
    if ((fn != LW_FN_grok && fn != LW_FN_dissect) || argc < 2) return;
    struct lw_explain *x = vm->explain;
    if (!site(vm, pc, fn == LW_FN_grok ? "grok(): " : "dissect(): ")) return;
    if (args[0].t != LW_T_STR) {
        say(x, "the subject is %s: no match\n", lw_type_name(args[0].t));
        x->misses++;
        return;
    }
    if (args[1].t != LW_T_REGEX || args[1].u.ext == NULL) {
        say(x, "no compiled pattern\n");
    } else if (fn == LW_FN_grok && (args[1].flags & LW_V_GROK)) {
        explain_grok(vm, &args[0], args[1].u.ext);
    } else if (fn == LW_FN_dissect && (args[1].flags & LW_V_DISSECT)) {
        explain_dissect(vm, &args[0], args[1].u.ext);
    }
}

/* Emits ------------------------------------------------------------------------------------- */

void
lw_explain_emit(struct lw_vm *vm, uint32_t pc, const struct lw_value *v, bool print)
{
    struct lw_explain *x = vm->explain;
    if (!site(vm, pc, print ? "print " : "emit ")) return;
    struct lw_buf b;
    lw_buf_init(&b);
    value(vm, v, &b);
    say(x, "%.*s\n", (int)b.len, b.p);
    const struct lw_program *p = vm->prog;
    const struct lw_emitscope *sc = NULL;
    for (uint32_t i = 0; i < p->nemitscopes && sc == NULL; i++) {
        if (p->emitscopes[i].pc == pc) sc = &p->emitscopes[i];
    }
    /* the variables in scope in the order declared; an inner one hides an outer of its name */
    for (uint32_t i = 0; sc != NULL && i < sc->n; i++) {
        const struct lw_scopevar *var = &p->scopevars[sc->first + i];
        bool hidden = false;
        for (uint32_t j = i + 1; j < sc->n && !hidden; j++)
            hidden = lw_str_eq(p->scopevars[sc->first + j].name, var->name);
        if (hidden) continue;
        value(vm, &vm->regs[vm->rbase + var->reg], &b);
        say(x, "  %.*s = %.*s\n", (int)var->name.len, var->name.p, (int)b.len, b.p);
    }
    lw_buf_fini(&b);
}

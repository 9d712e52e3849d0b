/* Patterns compiled with the template: regex literals (pcre2, JIT when it works, named groups
 * decoded once), their captures declared as variables, and the constant grok and dissect
 * patterns of builtins.def letter 'P'. Code generation is compile.c's. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_int.h"
#include "lw/dissect.h"
#include "lw/grok.h"
#include "lw/vm.h"

/* Regexes ------------------------------------------------------------------------------ */

/* regex_span: the template span of pattern byte off (the parser removed the '\' of '\/'). */
static struct lw_span
regex_span(struct gen *g, struct node *n, size_t off)
{
    const char *s = g->c->prog->src.p + n->span.off + 1;
    size_t i = 0, k = 0;
    while (k < off && i + 1 < n->span.len) {
        if (s[i] == '\\' && s[i + 1] == '/') i++;
        i++;
        k++;
    }
    return (struct lw_span){ n->span.off + 1 + (uint32_t)i, 1 };
}

/* regex_names: decode pcre2's name table (sorted by name) into re->names, in group order. */
static void
regex_names(struct lw_program *p, struct lw_regex *re)
{
    uint32_t count = 0, size = 0;
    PCRE2_SPTR table;
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table);
    re->names = lw_arena_alloc(&p->arena, (count + 1) * sizeof *re->names);
    for (uint32_t g = 1; g <= re->ngroups; g++) {
        for (uint32_t i = 0; i < count; i++) {
            const uint8_t *e = table + i * size;
            if ((uint32_t)(e[0] << 8 | e[1]) != g) continue;
            const char *name = (const char *)e + 2;
            size_t len = strlen(name);
            re->names[re->nnames++] =
                (struct lw_group){ { lw_arena_dup(&p->arena, name, len), len }, (uint16_t)g };
        }
    }
}

/* guess_names: the named groups of a regex that did not compile, read from its text
 * ((?<name>, (?'name', (?P<name>), so that what it would declare is declared still. */
static void
guess_names(struct lw_program *p, struct lw_regex *re)
{
    const char *s = re->src.p;
    size_t n = re->src.len;
    uint32_t cap = 0;
    for (size_t i = 0; i + 3 < n; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] != '(' || s[i + 1] != '?') continue;
        size_t k = i + 2;
        if (s[k] == 'P' && k + 1 < n) k++;
        if (s[k] != '<' && s[k] != '\'') continue;
        size_t b = ++k;
        while (k < n && (s[k] == '_' || (s[k] >= 'a' && s[k] <= 'z') ||
                         (s[k] >= 'A' && s[k] <= 'Z') || (k > b && s[k] >= '0' && s[k] <= '9')))
            k++;
        if (k == b || k >= n || (s[k] != '>' && s[k] != '\'')) continue;
        if (re->nnames == cap) {
            uint32_t nc = cap ? cap * 2 : 8;
            re->names = lw_arena_realloc(&p->arena, re->names, cap * sizeof *re->names,
                                         nc * sizeof *re->names);
            cap = nc;
        }
        re->names[re->nnames] = (struct lw_group){ { s + b, k - b }, (uint16_t)(re->nnames + 1) };
        re->nnames++;
    }
}

/* add_regex: re joins the program (its pcre2 code, once made, is freed with the program). */
static void
add_regex(struct gen *g, struct lw_regex *re)
{
    struct lw_program *p = g->c->prog;
    p->regexes = lw_arena_realloc(&p->arena, p->regexes, p->nregexes * sizeof *p->regexes,
                                  (p->nregexes + 1) * sizeof *p->regexes);
    p->regexes[p->nregexes++] = re;
}

static struct lw_regex *
regex(struct gen *g, struct node *n)
{
    struct lw_program *p = g->c->prog;
    uint32_t opts = 0;
    for (size_t i = 0; i < n->s2.len; i++) {
        switch (n->s2.p[i]) {
        case 'i':
            opts |= PCRE2_CASELESS;
            break;
        case 'm':
            opts |= PCRE2_MULTILINE;
            break;
        case 's':
            opts |= PCRE2_DOTALL;
            break;
        case 'x':
            opts |= PCRE2_EXTENDED;
            break;
        case 'u':
            opts |= PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
            break;
        default:
            lw_cerror(g->c,
                      (struct lw_span){ n->span.off + n->span.len - (uint32_t)(n->s2.len - i), 1 },
                      "unknown regex flag '%c' (known: i m s x u)", n->s2.p[i]);
        }
    }
    int err;
    PCRE2_SIZE erroff;
    /* The regex joins the program before its code is made, so the code belongs to the program
     * (freed with it) from the moment it exists, whatever fails after (lw_oom included). */
    struct lw_regex *re = lw_arena_alloc(&p->arena, sizeof *re);
    *re = (struct lw_regex){ .src = { lw_arena_dup(&p->arena, n->s.p, n->s.len), n->s.len } };
    add_regex(g, re);
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)n->s.p, n->s.len, opts, &err, &erroff, NULL);
    re->code = code;
    if (code == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        lw_cerror(g->c, regex_span(g, n, erroff), "invalid regex: %s", (char *)msg);
        guess_names(p, re);
        return re;
    }
    if (g->c->opts == NULL || g->c->opts->jit)
        re->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    uint32_t cap = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &cap);
    re->ngroups = cap;
    regex_names(p, re);
    if (cap + 1 > p->max_groups) p->max_groups = cap + 1;
    return re;
}

/* The regex of a node is compiled once: nodes are visited twice (declare, then generate). */
struct lw_regex *
lw_cg_node_regex(struct gen *g, struct node *n)
{
    if (n->c == NULL) n->c = (struct node *)(void *)regex(g, n);
    return (struct lw_regex *)(void *)n->c;
}

/* declare_captures: a match(s, /re/) in the expressions of a statement declares its named
 * groups as variables of the current block, before the statement runs. When the match may be
 * skipped (cond: under the right of && or ||, a branch of ?:, either side of ??, an elif
 * condition), a new variable is set to null here, so that it never holds a stale register. */
void
lw_cg_declare_captures_in(struct gen *g, struct node *n, bool cond)
{
    if (n == NULL) return;
    lw_cg_deeper(g, n);
    if (n->kind == N_CALL && lw_str_eq(n->s, LW_STR_LIT("match")) && n->nkids == 2 &&
        n->kids->next->kind == N_REGEX) {
        struct lw_regex *re = lw_cg_node_regex(g, n->kids->next);
        for (uint32_t i = 0; i < re->nnames; i++) {
            struct lw_str nm = re->names[i].name;
            if (lw_lex_reserved(nm)) {
                const char *src = g->c->prog->src.p, *at = NULL;
                struct lw_span sp = n->kids->next->span;
                for (uint32_t o = sp.off; o + nm.len + 3 <= sp.off + sp.len && at == NULL; o++) {
                    if (memcmp(src + o, "(?<", 3) == 0 && memcmp(src + o + 3, nm.p, nm.len) == 0 &&
                        src[o + 3 + nm.len] == '>')
                        at = src + o;
                }
                if (at != NULL) sp = (struct lw_span){ (uint32_t)(at - src) + 3, (uint32_t)nm.len };
                lw_cerror(g->c, sp,
                          "capture group '%.*s' would be a variable, and '%.*s' is reserved: "
                          "rename the group",
                          (int)nm.len, nm.p, (int)nm.len, nm.p);
                continue;
            }
            if (lw_cg_lookup(g, re->names[i].name) == NULL) {
                uint32_t reg = lw_cg_declare(g, re->names[i].name, n->kids->next->span);
                if (!lw_cg_is_assigned(g, re->names[i].name)) { /* stays a string or null */
                    g->vars[g->nvars - 1].stype = TM(LW_T_STR) | TM(LW_T_NULL);
                }
                if (cond) lw_cg_ins(g, LW_OP_LOADNULL, reg, 0, 0, n->span);
            }
        }
    }
    if (n->kind >= S_LET) { /* nested statements declare their own */
        g->rdepth--;
        return;
    }
    bool sub = cond || n->kind == N_COND || n->kind == N_DEFAULT;
    for (struct node *k = n->kids; k != NULL; k = k->next)
        lw_cg_declare_captures_in(g, k, cond);
    lw_cg_declare_captures_in(g, n->a, cond || n->kind == N_DEFAULT);
    lw_cg_declare_captures_in(g, n->b, sub || n->kind == N_AND || n->kind == N_OR);
    if (n->kind != N_REGEX) lw_cg_declare_captures_in(g, n->c, sub);
    g->rdepth--;
}

void
lw_cg_declare_captures(struct gen *g, struct node *n)
{
    lw_cg_declare_captures_in(g, n, false);
}

/* Compiled patterns (builtins.def letter 'P') ------------------------------------------- */

/* lit_span: the template span of byte off of string literal a's value, when the literal
 * holds no escapes (else the whole literal). */
static struct lw_span
lit_span(struct gen *g, struct node *a, size_t off)
{
    struct lw_span sp = a->span;
    const char *lit = g->c->prog->src.p + sp.off + 1;
    if (sp.len >= a->s.len + 2 && a->s.len > 0 && memcmp(lit, a->s.p, a->s.len) == 0) {
        if (off >= a->s.len) off = a->s.len - 1;
        return (struct lw_span){ sp.off + 1 + (uint32_t)off, 1 };
    }
    return sp;
}

/* warn: add a compile warning at span to the program's (rendered like an error, against the
 * file the span is in); a warning never stops the compilation. */
static void __attribute__((format(printf, 3, 4)))
warn(struct compiler *c, struct lw_span span, const char *fmt, ...)
{
    struct lw_diag one = { .warning = true };
    va_list ap;
    va_start(ap, fmt);
    const struct srcfile *sf = &c->files[c->nfiles > 0 ? lw_import_file(c, span.off) : 0];
    struct lw_span at = { span.off - sf->base, span.len };
    lw_diag_vset(&one, &at, fmt, ap);
    va_end(ap);
    char *text = NULL, nm[512];
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (m == NULL) lw_oom(0);
    snprintf(nm, sizeof nm, "%.*s", (int)sf->name.len, sf->name.p);
    lw_diag_print(m, nm, (struct lw_str){ c->text.p + sf->base, sf->len }, &one);
    fclose(m);
    struct lw_program *p = c->prog;
    char *all = lw_arena_alloc(&p->arena, p->warnings.len + len + 1);
    if (p->warnings.len > 0) memcpy(all, p->warnings.p, p->warnings.len);
    memcpy(all + p->warnings.len, text, len + 1);
    p->warnings = (struct lw_str){ all, p->warnings.len + len };
    free(text);
}

struct lw_value
lw_cg_grok_pattern(struct gen *g, struct node *a)
{
    struct lw_program *p = g->c->prog;
    const struct lw_grok_lib *lib = g->c->opts ? g->c->opts->grok : NULL;
    if (lib == NULL) {
        if (g->grok == NULL) {
            g->grok = lw_arena_alloc(&g->c->ca, sizeof *g->grok);
            lw_grok_lib_init(g->grok, &g->c->ca);
            char err[256];
            if (lw_grok_lib_builtin(g->grok, err, sizeof err) != 0)
                lw_cfail(g->c, a->span, "internal error: %s", err); /* tests/grok.sh guards */
        }
        lib = g->grok;
    }
    bool jit = g->c->opts == NULL || g->c->opts->jit;
    struct node *one = a->kind == N_STR ? a : a->kids;
    uint32_t n = a->kind == N_STR ? 1 : a->nkids;
    struct lw_grok *gk = lw_arena_alloc(&p->arena, sizeof *gk);
    *gk = (struct lw_grok){ n, lw_arena_alloc(&p->arena, n * sizeof *gk->alts) };
    for (uint32_t i = 0; i < n; i++, one = one->next) {
        char err[400];
        size_t off = 0;
        struct lw_str pat = { one->s.p ? one->s.p : "", one->s.len };
        struct lw_regex *re = lw_arena_alloc(&p->arena, sizeof *re);
        *re = (struct lw_regex){ 0 };
        add_regex(g, re);
        if (lw_grok_compile_alt(lib, pat, jit, &p->arena, re, &gk->alts[i], err, sizeof err,
                                &off) != 0) {
            lw_cfail(g->c, lit_span(g, one, off), "grok(): %s", err);
        }
        if (err[0] != '\0') warn(g->c, lit_span(g, one, off), "grok(): %s", err);
        if (re->ngroups + 1 > p->max_groups) p->max_groups = re->ngroups + 1;
    }
    return (struct lw_value){ .t = LW_T_REGEX, .flags = LW_V_GROK, .u.ext = gk };
}

struct lw_value
lw_cg_dissect_pattern(struct gen *g, struct node *a)
{
    char err[256];
    size_t off = 0;
    struct lw_str pat = { a->s.p ? a->s.p : "", a->s.len };
    const struct lw_dissect *ds =
        lw_dissect_compile(pat, &g->c->prog->arena, err, sizeof err, &off);
    if (ds == NULL) lw_cfail(g->c, lit_span(g, a, off), "dissect(): %s", err);
    return (struct lw_value){ .t = LW_T_REGEX, .flags = LW_V_DISSECT, .u.ext = ds };
}

/* check_pattern: a 'P' argument must be a constant the compiler can compile once. */
void
lw_cg_check_pattern(struct gen *g, struct node *a, int f)
{
    bool ok = a->kind == N_STR;
    if (f == LW_FN_grok && a->kind == N_ARRAY && a->nkids > 0) {
        ok = true;
        for (struct node *k = a->kids; k != NULL; k = k->next)
            ok &= k->kind == N_STR;
    }
    if (!ok) {
        lw_cfail(g->c, a->span, "%s() needs a constant pattern (%s) so it is compiled once",
                 lw_builtins[f].name,
                 f == LW_FN_grok ? "a string literal or an array of them" : "a string literal");
    }
}

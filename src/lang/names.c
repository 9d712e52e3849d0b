/* Names for the code generator: variables in scope (declare, lookup), template functions by
 * name, and the "did you mean" of an undefined variable or an unknown function (other tools'
 * names too: fn_aliases.def). Code generation is compile.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_int.h"
#include "lw/vm.h"

/* Variables ---------------------------------------------------------------------------- */

struct var *
lw_cg_lookup(struct gen *g, struct lw_str name)
{
    for (uint32_t i = g->nvars; i-- > 0;) {
        if (lw_str_eq(g->vars[i].name, name) && g->vars[i].kind != V_BROKEN) return &g->vars[i];
    }
    return NULL;
}

/* lw_cg_ghost: name, reported undefined or declared by a statement that failed, is found from
 * now on in this block (with any type), so it is not reported again. It gets no register of
 * its own: a program with errors is never run. */
void
lw_cg_ghost(struct gen *g, struct lw_str name)
{
    if (g->nvars == MAXVARS) return;
    g->vars[g->nvars++] = (struct var){ name, 0, V_GHOST, g->depth, 0 };
}

/* lw_cg_broken: statement n (S_ERROR) did not parse; the names in its text may have been
 * declared by it, so they are not reported undefined in its block. */
void
lw_cg_broken(struct gen *g, struct node *n)
{
    if (g->nvars == MAXVARS) return;
    struct lw_str text = { g->c->prog->src.p + n->span.off, n->span.len };
    g->vars[g->nvars++] = (struct var){ text, 0, V_BROKEN, g->depth, 0 };
}

/* Bytes of broken statements' text searched for names, per compilation: past it, every
 * undefined name is taken as one a broken statement may have declared. */
#define MAX_BROKEN_SCAN (64u << 20)

static bool
is_word(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* in_broken: a statement in scope that did not parse holds name as a word. */
static bool
in_broken(struct gen *g, struct lw_str name)
{
    for (uint32_t i = 0; i < g->nvars; i++) {
        struct lw_str t = g->vars[i].name;
        if (g->vars[i].kind != V_BROKEN || t.len < name.len) continue;
        if (g->scanned > MAX_BROKEN_SCAN) return true;
        g->scanned += t.len;
        for (size_t k = 0; k + name.len <= t.len; k++) {
            if (memcmp(t.p + k, name.p, name.len) == 0 && (k == 0 || !is_word(t.p[k - 1])) &&
                (k + name.len == t.len || !is_word(t.p[k + name.len])))
                return true;
        }
    }
    return false;
}

uint32_t
lw_cg_declare(struct gen *g, struct lw_str name, struct lw_span sp)
{
    if (g->nvars == MAXVARS) lw_cfail(g->c, sp, "too many variables (%d at most)", MAXVARS);
    uint32_t r = lw_cg_reg_alloc(g, sp);
    g->vars[g->nvars++] = (struct var){ name, (uint8_t)r, V_REAL, g->depth, 0 };
    return r;
}

/* grow: arr of n elements of size bytes in the program arena, room for more; the capacity is
 * the next power of two of n (16 at least), so none is kept. */
static void *
grow(struct lw_arena *a, void *arr, uint32_t n, uint32_t more, size_t size)
{
    uint32_t cap = 0, want = 16;
    if (n > 0) {
        for (cap = 16; cap < n; cap *= 2)
            ;
    }
    if (n + more <= cap) return arr;
    while (want < n + more)
        want *= 2;
    return lw_arena_realloc(a, arr, cap * size, want * size);
}

void
lw_cg_note_scope(struct gen *g, uint32_t pc)
{
    if (g->fn != NULL) return; /* functions cannot emit */
    struct lw_program *p = g->c->prog;
    p->emitscopes = grow(&p->arena, p->emitscopes, p->nemitscopes, 1, sizeof *p->emitscopes);
    p->scopevars = grow(&p->arena, p->scopevars, p->nscopevars, g->nvars, sizeof *p->scopevars);
    p->emitscopes[p->nemitscopes++] = (struct lw_emitscope){ pc, p->nscopevars, g->nvars };
    for (uint32_t i = 0; i < g->nvars; i++) {
        struct lw_str nm = g->vars[i].name;
        p->scopevars[p->nscopevars++] =
            (struct lw_scopevar){ { lw_arena_dup(&p->arena, nm.p, nm.len), nm.len },
                                  g->vars[i].reg };
    }
}

/* near: a name d edits from another is worth suggesting: equal in another case, or at most 2
 * edits and not more than half the name ("cuont" is count, "foo" is not now). */
static bool
near(size_t d, size_t len)
{
    return d == 0 || (d <= 2 && 2 * d <= len);
}

/* undefined_var: report variable n, which is not declared. */
static void
undefined_var(struct gen *g, struct node *n)
{
    int nl = (int)n->s.len;
    int f = lw_cg_find_builtin(n->s);
    if (f >= 0) {
        lw_cerror(g->c, n->span, "undefined variable '%.*s': %.*s is a function, write %.*s(%s)",
                  nl, n->s.p, nl, n->s.p, nl, n->s.p, lw_builtins[f].max == 0 ? "" : "...");
        return;
    }
    struct lw_str best = { 0 };
    size_t bd = 99;
    for (uint32_t i = 0; i < g->nvars; i++) {
        if (g->vars[i].kind != V_REAL) continue;
        size_t d = lw_str_distance(n->s, g->vars[i].name);
        if (d < bd) {
            bd = d;
            best = g->vars[i].name;
        }
    }
    if (best.p != NULL && near(bd, n->s.len)) {
        lw_cerror(g->c, n->span, "undefined variable '%.*s' (did you mean '%.*s'?)", nl, n->s.p,
                  (int)best.len, best.p);
    } else if (g->fn != NULL) {
        lw_cerror(g->c, n->span,
                  "undefined variable '%.*s': a function sees only its parameters and its own "
                  "variables",
                  nl, n->s.p);
    } else {
        lw_cerror(g->c, n->span,
                  "undefined variable '%.*s': declare it with 'let %.*s = ...', or write .%.*s for "
                  "the record's field",
                  nl, n->s.p, nl, n->s.p, nl, n->s.p);
    }
}

struct var *
lw_cg_var(struct gen *g, struct node *n)
{
    struct var *v = lw_cg_lookup(g, n->s);
    if (v != NULL) return v;
    if (!in_broken(g, n->s)) undefined_var(g, n);
    lw_cg_ghost(g, n->s);
    v = lw_cg_lookup(g, n->s);
    if (v != NULL) return v;
    g->spare = (struct var){ .kind = V_GHOST }; /* MAXVARS reached: that is reported */
    return &g->spare;
}

bool
lw_cg_maybe_declared(struct gen *g, struct lw_str name)
{
    return in_broken(g, name);
}

/* What other tools call our functions (include/lw/fn_aliases.def), for suggestions. */
static const struct {
    const char *name, *ours;
} fn_aliases[] = {
#define ALIAS(name, ours) { name, ours },
#include "lw/fn_aliases.def"
#undef ALIAS
};

/* unknown_function: the nearest of our names, or of the names other tools use (suggesting
 * what we write instead), else where the functions are listed. Not reported when an import
 * failed (the missing file may define it). */
void
lw_cg_unknown_function(struct gen *g, struct node *n)
{
    if (g->c->import_failed) return;
    static const char *const aggs[] = { "count",          "avg",        "first", "last",
                                        "count_distinct", "percentile", "top" };
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++) {
        if (lw_str_eq(n->s, lw_str_c(aggs[i]))) {
            lw_cerror(g->c, (struct lw_span){ n->span.off, (uint32_t)n->s.len },
                      "%s() is an aggregate: it belongs in a window statement's block "
                      "(window tumbling 1m { n = %s(...) })",
                      aggs[i], aggs[i]);
            return;
        }
    }
    const char *best = NULL;
    size_t bd = 99;
    for (int i = 0; i < LW_FN_N; i++) {
        size_t d = lw_str_distance(n->s, lw_str_c(lw_builtins[i].name));
        if (d < bd) {
            bd = d;
            best = lw_builtins[i].name;
        }
    }
    char own[64];
    for (uint32_t i = 0; i < g->c->nfuncs; i++) {
        struct lw_str u = g->c->funcs[i].def->s;
        size_t d = lw_str_distance(n->s, u);
        if (d < bd && u.len < sizeof own) {
            bd = d;
            snprintf(own, sizeof own, "%.*s", (int)u.len, u.p);
            best = own;
        }
    }
    for (size_t i = 0; i < sizeof fn_aliases / sizeof fn_aliases[0]; i++) {
        size_t d = lw_str_distance(n->s, lw_str_c(fn_aliases[i].name));
        if (d < bd) {
            bd = d;
            best = fn_aliases[i].ours;
        }
    }
    struct lw_span sp = { n->span.off, (uint32_t)n->s.len };
    if (best != NULL && near(bd, n->s.len)) {
        lw_cerror(g->c, sp, "unknown function '%.*s' (did you mean '%s'?)", (int)n->s.len, n->s.p,
                  best);
    } else {
        lw_cerror(g->c, sp, "unknown function '%.*s' (see FUNCTIONS in logwash-template(7))",
                  (int)n->s.len, n->s.p);
    }
}

int
lw_cg_find_func(struct gen *g, struct lw_str name)
{
    for (uint32_t i = 0; i < g->c->nfuncs; i++) {
        if (lw_str_eq(name, g->c->funcs[i].def->s)) return (int)i;
    }
    return -1;
}

int
lw_cg_find_builtin(struct lw_str name)
{
    for (int i = 0; i < LW_FN_N; i++) {
        if (lw_str_eq(name, lw_str_c(lw_builtins[i].name))) return i;
    }
    return -1;
}

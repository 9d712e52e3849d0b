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
        if (lw_str_eq(g->vars[i].name, name)) return &g->vars[i];
    }
    return NULL;
}

uint32_t
lw_cg_declare(struct gen *g, struct lw_str name, struct lw_span sp)
{
    if (g->nvars == MAXVARS) lw_cfail(g->c, sp, "too many variables (%d at most)", MAXVARS);
    uint32_t r = lw_cg_reg_alloc(g, sp);
    g->vars[g->nvars++] = (struct var){ name, (uint8_t)r, g->depth, 0 };
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

_Noreturn void
lw_cg_undefined_var(struct gen *g, struct node *n)
{
    int nl = (int)n->s.len;
    int f = lw_cg_find_builtin(n->s);
    if (f >= 0) {
        lw_cfail(g->c, n->span, "undefined variable '%.*s': %.*s is a function, write %.*s(%s)", nl,
                 n->s.p, nl, n->s.p, nl, n->s.p, lw_builtins[f].max == 0 ? "" : "...");
    }
    struct lw_str best = { 0 };
    size_t bd = 99;
    for (uint32_t i = 0; i < g->nvars; i++) {
        size_t d = lw_str_distance(n->s, g->vars[i].name);
        if (d < bd) {
            bd = d;
            best = g->vars[i].name;
        }
    }
    if (best.p != NULL && near(bd, n->s.len)) {
        lw_cfail(g->c, n->span, "undefined variable '%.*s' (did you mean '%.*s'?)", nl, n->s.p,
                 (int)best.len, best.p);
    }
    if (g->fn != NULL) {
        lw_cfail(g->c, n->span,
                 "undefined variable '%.*s': a function sees only its parameters and its own "
                 "variables",
                 nl, n->s.p);
    }
    lw_cfail(g->c, n->span,
             "undefined variable '%.*s': declare it with 'let %.*s = ...', or write .%.*s for the "
             "record's field",
             nl, n->s.p, nl, n->s.p, nl, n->s.p);
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
 * what we write instead), else where the functions are listed. */
_Noreturn void
lw_cg_unknown_function(struct gen *g, struct node *n)
{
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
        lw_cfail(g->c, sp, "unknown function '%.*s' (did you mean '%s'?)", (int)n->s.len, n->s.p,
                 best);
    }
    lw_cfail(g->c, sp, "unknown function '%.*s' (see FUNCTIONS in logwash-template(7))",
             (int)n->s.len, n->s.p);
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

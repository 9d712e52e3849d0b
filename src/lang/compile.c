/* The compiler's back half (with names.c, types.c and patterns.c): name resolution,
 * compile-time checks and code generation from the AST (parse.c) to a struct lw_program.
 * Registers are allocated as a stack: locals below, temporaries above, freed at the end of each
 * expression. Checks that need no record (unknown function, arity, undefined variable, regex
 * syntax, operations on literal types that can never work) fail at compile time, before any
 * record is read. lw_compile's setjmp ends the compilation; each statement (here, and in
 * parse.c and import.c) has a recovery point of its own, so every error is reported (up to
 * a limit) and one error is reported once. Names are names.c's, static types
 * and argument checks types.c's, regexes and compiled patterns patterns.c's; this file walks the
 * tree and emits the code. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <assert.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdlib.h>

#include "compile_int.h"
#include "lw/dissect.h"
#include "lw/grok.h"
#include "lw/json.h"
#include "lw/timefmt.h"
#include "lw/useragent.h"
#include "lw/vm.h"

#include "../lib/builtins_int.h"

/* deeper: one more level of recursion over the tree; a long operator chain such as
 * 1+1+...+1 makes a deep tree that the parser built without recursing, so walks check. */
void
lw_cg_deeper(struct gen *g, struct node *n)
{
    if (++g->rdepth > MAX_RDEPTH) {
        lw_cfail(g->c, n->span, "expression too deeply nested (%d levels at most)", MAX_RDEPTH);
    }
}

/* record: keep the error at span, unless one is kept at the same place already; past
 * c->maxerrs the compilation ends. */
static void
record(struct compiler *c, struct lw_span span, const char *fmt, va_list ap)
{
    for (uint32_t i = 0; i < c->nerrs; i++) {
        if (c->errs[i].span.off == span.off) return;
    }
    if (c->nerrs == c->maxerrs) {
        c->more = true;
        longjmp(c->jb, 2);
    }
    struct cerr *e = &c->errs[c->nerrs++];
    e->span = span;
    e->has_span = true;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

_Noreturn void
lw_cfail(struct compiler *c, struct lw_span span, const char *fmt, ...)
{
    if (!c->parsing || !c->stmt_bad) {
        va_list ap;
        va_start(ap, fmt);
        record(c, span, fmt, ap);
        va_end(ap);
    }
    c->stmt_bad = true;
    longjmp(*c->recover, 2); /* 1 is lw_oom's */
}

void
lw_cerror(struct compiler *c, struct lw_span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(c, span, fmt, ap);
    va_end(ap);
    c->stmt_bad = true;
}

int32_t
lw_cg_ins(struct gen *g, enum lw_op op, uint32_t a, uint32_t b, int32_t cc, struct lw_span sp)
{
    if (g->ncode == g->capcode) { /* spans grow with the code, one per instruction */
        uint32_t cap = g->capcode ? g->capcode * 2 : 64;
        g->code = lw_arena_realloc(&g->c->ca, g->code, g->capcode * sizeof *g->code,
                                   cap * sizeof *g->code);
        g->spans = lw_arena_realloc(&g->c->ca, g->spans, g->capcode * sizeof *g->spans,
                                    cap * sizeof *g->spans);
        g->capcode = cap;
    }
    if (op == LW_OP_EMIT || op == LW_OP_EMITTO || op == LW_OP_PRINT) lw_cg_note_scope(g, g->ncode);
    g->code[g->ncode] =
        (struct lw_ins){ .op = (uint8_t)op, .a = (uint8_t)a, .b = (uint16_t)b, .c = cc };
    g->spans[g->ncode] = sp;
    return (int32_t)g->ncode++;
}

/* patch: make the jump at pc land on the next instruction to be emitted. */
static void
patch(struct gen *g, int32_t pc)
{
    g->code[pc].c = (int32_t)g->ncode - (pc + 1);
}

static void
jump_back(struct gen *g, int32_t target, struct lw_span sp)
{
    int32_t pc = lw_cg_ins(g, LW_OP_JMP, 0, 0, 0, sp);
    g->code[pc].c = target - (pc + 1);
}

static uint32_t
konst(struct gen *g, struct lw_value v, struct lw_span sp)
{
    if (g->nk >= 65535) lw_cfail(g->c, sp, "too many constants in one template (65535 at most)");
    if (v.t == LW_T_STR && v.len > 0) v.u.p = lw_arena_dup(&g->c->prog->arena, v.u.p, v.len);
    GROW(g, g->k, g->nk, g->capk);
    g->k[g->nk] = v;
    return g->nk++;
}

static uint32_t
kstr(struct gen *g, struct lw_str s, struct lw_span sp)
{
    return konst(g, lw_strv(s.p ? s.p : "", s.len), sp);
}

uint32_t
lw_cg_reg_alloc(struct gen *g, struct lw_span sp)
{
    if (g->freereg >= MAXREGS) {
        lw_cfail(g->c, sp, "template too complex: more than %d live values", MAXREGS);
    }
    uint32_t r = g->freereg++;
    if (g->freereg > g->maxreg) g->maxreg = g->freereg;
    return r;
}

/* coverage: with opts->coverage, a COV instruction counting point (kind, outcome) at span
 * here; nothing otherwise, so a program not compiled for coverage is unchanged. */
static bool
coverage_on(const struct gen *g)
{
    return g->c->opts != NULL && g->c->opts->coverage;
}

/* coverage_point: a new point (kind, outcome) at span, its index; -1 without coverage. */
static int32_t
coverage_point(struct gen *g, enum lw_covkind kind, int outcome, struct lw_span sp)
{
    if (!coverage_on(g)) return -1;
    if (g->ncovs == LW_MAX_COVPOINTS) { /* said once: the program is not made */
        if (g->cov_full) return -1;
        g->cov_full = true;
        lw_cfail(g->c, sp,
                 "template too large for coverage (%d statements and branch outcomes "
                 "at most)",
                 LW_MAX_COVPOINTS);
    }
    GROW(g, g->covs, g->ncovs, g->capcovs);
    g->covs[g->ncovs] = (struct lw_covpoint){ sp, (uint8_t)kind, (uint8_t)outcome };
    return (int32_t)g->ncovs++;
}

/* coverage_count: the COV instruction of point i, here (nothing for -1) */
static void
coverage_count(struct gen *g, int32_t i)
{
    if (i >= 0) lw_cg_ins(g, LW_OP_COV, 0, (uint32_t)i, 0, g->covs[i].span);
}

/* coverage_branch: a branch's two points, adjacent (outcome 1, then 0), counted where each
 * outcome's code starts (coverage_count of the index returned, and of it + 1); -1 without. */
static int32_t
coverage_branch(struct gen *g, enum lw_covkind kind, struct lw_span sp)
{
    int32_t i = coverage_point(g, kind, 1, sp);
    if (i >= 0) coverage_point(g, kind, 0, sp);
    return i;
}

static int32_t
coverage_else(int32_t i)
{
    return i >= 0 ? i + 1 : -1;
}

/* Code generation ------------------------------------------------------------------------ */

static void expr_to(struct gen *g, struct node *n, uint32_t dst);
static void block(struct gen *g, struct node *n);
static void no_record(struct gen *g, struct node *n);

static uint32_t
expr_any(struct gen *g, struct node *n)
{
    if (n->kind == N_VAR) return lw_cg_var(g, n)->reg;
    uint32_t r = lw_cg_reg_alloc(g, n->span);
    expr_to(g, n, r);
    return r;
}

static uint32_t
add_path(struct gen *g, struct node *n)
{
    struct lw_program *p = g->c->prog;
    struct lw_path path = { .n = n->nsegs, .top = -1, .base = -1 };
    path.seg = lw_arena_alloc(&p->arena, n->nsegs * sizeof *path.seg + 1);
    for (uint32_t i = 0; i < n->nsegs; i++) {
        path.seg[i] = n->segs[i];
        path.seg[i].reg = -1;
        if (n->segs[i].key.p != NULL) {
            path.seg[i].key.p = lw_arena_dup(&p->arena, n->segs[i].key.p, n->segs[i].key.len);
        }
    }
    if (n->nsegs > 0 && path.seg[0].key.p != NULL) {
        uint32_t t;
        for (t = 0; t < p->ntopkeys; t++) {
            if (lw_str_eq(p->topkeys[t], path.seg[0].key)) break;
        }
        if (t == p->ntopkeys) {
            p->topkeys = lw_arena_realloc(&p->arena, p->topkeys, t * sizeof *p->topkeys,
                                          (t + 1) * sizeof *p->topkeys);
            p->topkeys[p->ntopkeys++] = path.seg[0].key;
        }
        path.top = (int32_t)t;
    }
    if (g->npaths >= 65535) lw_cfail(g->c, n->span, "too many record paths");
    GROW(g, g->paths, g->npaths, g->cappaths);
    g->paths[g->npaths] = path;
    return g->npaths++;
}

/* plain_key: does key need no escaping in JSON (every byte ASCII, printable, not '"' or '\\')?
 * A member a path with such a key adds to an object is then written as it is (lw_obj's plain). */
static bool
plain_key(struct lw_str key)
{
    for (size_t i = 0; i < key.len; i++) {
        unsigned char c = (unsigned char)key.p[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return false;
    }
    return true;
}

/* lvalue: target n of a write, del() or exists(): a record path or a variable, with members
 * and indexes after it (.a[i].b, v.a, v[k]). Computed parts are evaluated now, into registers
 * the caller frees after its SETPATH, DELPATH or EXISTS. Returns the path's index. */
static uint32_t
lvalue(struct gen *g, struct node *n, const char *what, bool write)
{
    struct node *chain[64], *b = n;
    uint32_t k = 0;
    while (b->kind == N_GET || b->kind == N_INDEX) {
        if (k == 64) lw_cfail(g->c, n->span, "path too long (64 parts at most)");
        chain[k++] = b;
        b = b->a;
    }
    struct lw_path path = { .top = -1, .base = -1 };
    uint32_t nbase = 0;
    if (b->kind == N_PATH) {
        no_record(g, b);
        nbase = b->nsegs;
        if (write) g->c->prog->writes_root = true;
    } else if (b->kind == N_VAR) {
        struct var *v = lw_cg_lookup(g, b->s);
        if (v == NULL) {
            if (!lw_cg_maybe_declared(g, b->s)) {
                lw_cerror(g->c, b->span,
                          "%s undeclared variable '%.*s': use 'let %.*s = ...' first", what,
                          (int)b->s.len, b->s.p, (int)b->s.len, b->s.p);
            }
            lw_cg_ghost(g, b->s);
        }
        path.base = v != NULL ? v->reg : 0;
    } else if (b->kind == N_LINE || b->kind == N_META) {
        lw_cfail(g->c, b->span, "%s '%s': it cannot be changed; copy it into a variable first",
                 what, b->kind == N_LINE ? "line" : "meta");
    } else {
        lw_cfail(g->c, n->span, "%s this: expected a variable or a path like .a.b, v.a or v[k]",
                 what);
    }
    if (nbase + k > 64) lw_cfail(g->c, n->span, "path too long (64 parts at most)");
    struct lw_program *p = g->c->prog;
    path.n = nbase + k;
    path.seg = lw_arena_alloc(&p->arena, path.n * sizeof *path.seg + 1);
    for (uint32_t i = 0; i < path.n; i++) {
        struct lw_pathseg *sg = &path.seg[i];
        *sg = (struct lw_pathseg){ .reg = -1 };
        struct node *e = i < nbase ? NULL : chain[k - 1 - (i - nbase)];
        struct lw_str key = i < nbase          ? b->segs[i].key
                            : e->kind == N_GET ? e->s
                                               : (struct lw_str){ 0 };
        if (i < nbase && key.p == NULL) sg->index = b->segs[i].index;
        if (e != NULL && e->kind == N_INDEX) {
            struct node *x = e->b;
            if (x->kind == N_INT && !x->big) {
                sg->index = x->i;
            } else if (x->kind == N_STR) {
                key = x->s.p ? x->s : (struct lw_str){ "", 0 };
            } else {
                int t = lw_cg_single(lw_cg_stype(g, x));
                if (t >= 0 && t != LW_T_STR && t != LW_T_INT) {
                    lw_cfail(g->c, x->span, "a path's part must be a string or an int, found %s",
                             lw_type_name((enum lw_type)t));
                }
                sg->reg = (int32_t)expr_any(g, x);
            }
        }
        if (key.p != NULL)
            sg->key = (struct lw_str){ lw_arena_dup(&p->arena, key.p, key.len), key.len };
        if (key.p != NULL && key.len == 0) sg->key.p = "";
        sg->plain = key.p != NULL && plain_key(key);
    }
    if (g->npaths >= 65535) lw_cfail(g->c, n->span, "too many record paths");
    GROW(g, g->paths, g->npaths, g->cappaths);
    g->paths[g->npaths] = path;
    return g->npaths++;
}

/* no_record: inside a function, n (a path, line or meta) cannot be read or written: a
 * function sees its parameters, its own variables and other functions only. */
static void
no_record(struct gen *g, struct node *n)
{
    if (g->fn == NULL) return;
    const char *what = n->kind == N_LINE ? "line" : n->kind == N_META ? "meta" : "the record";
    lw_cfail(g->c, n->span,
             "a function cannot use %s: pass what it needs as an argument (f(.a), or f(.) for "
             "the whole record)",
             what);
}

/* args_base: where a call's arguments go: from dst when dst is a temporary on top of the
 * stack, else fresh registers; never a variable's register, which an argument may still read.
 * Every register from the base up is free, so a user function's window may start there. */
static uint32_t
args_base(struct gen *g, struct node *n, uint32_t dst)
{
    bool dst_is_var = false;
    for (uint32_t i = 0; i < g->nvars; i++)
        dst_is_var |= g->vars[i].reg == dst;
    uint32_t base = dst + 1 == g->freereg && !dst_is_var ? dst : g->freereg;
    if (base != dst || n->nkids == 0) {
        if (base == g->freereg) lw_cg_reg_alloc(g, n->span);
    }
    return base;
}

/* args_only: a call that is not compiled (an error was reported): its arguments are still
 * checked, all but literal regexes and strings (patterns of a function not known). */
static void
args_only(struct gen *g, struct node *n, uint32_t dst)
{
    uint32_t save = g->freereg;
    for (struct node *a = n->kids; a != NULL; a = a->next) {
        if (a->kind == N_REGEX || a->kind == N_STR) continue;
        expr_to(g, a, lw_cg_reg_alloc(g, a->span));
        g->freereg = save;
    }
    lw_cg_ins(g, LW_OP_LOADNULL, dst, 0, 0, n->span);
}

/* ucall: a call of user function u: FCALL gives it a register window at the arguments. */
static void
ucall(struct gen *g, struct node *n, int u, uint32_t dst)
{
    struct node *def = g->c->funcs[u].def;
    if (def->broken) { /* its header did not parse */
        args_only(g, n, dst);
        return;
    }
    if (n->nkids != def->nkids) {
        lw_cerror(g->c, n->span, "%.*s() takes %u argument%s, found %u", (int)n->s.len, n->s.p,
                  def->nkids, def->nkids == 1 ? "" : "s", n->nkids);
        args_only(g, n, dst);
        return;
    }
    uint32_t save = g->freereg;
    uint32_t base = args_base(g, n, dst), i = 0;
    for (struct node *a = n->kids; a != NULL; a = a->next, i++) {
        if (base + i >= g->freereg) lw_cg_reg_alloc(g, a->span);
        expr_to(g, a, base + i);
    }
    lw_cg_ins(g, LW_OP_FCALL, base, (uint32_t)u, (int32_t)n->nkids, n->span);
    if (base != dst) lw_cg_ins(g, LW_OP_MOVE, dst, base, 0, n->span);
    g->freereg = save;
}

static void
call(struct gen *g, struct node *n, uint32_t dst)
{
    int u = lw_cg_find_func(g, n->s);
    if (u >= 0) {
        ucall(g, n, u, dst);
        return;
    }
    int f = lw_cg_find_builtin(n->s);
    if (f < 0 && !lw_cg_maybe_declared(g, n->s)) lw_cg_unknown_function(g, n);
    if (f < 0 || !lw_cg_check_args(g, n, f)) {
        args_only(g, n, dst);
        return;
    }
    uint32_t save = g->freereg;
    if (f == LW_FN_seen) g->c->prog->uses_seen = true;
    if (f == LW_FN_exists) {
        struct node *t = n->kids, *b = t;
        while (b->kind == N_GET || b->kind == N_INDEX)
            b = b->a;
        if (t->kind == N_PATH) {
            no_record(g, t);
            lw_cg_ins(g, LW_OP_EXISTS, dst, add_path(g, t), 0, n->span);
        } else if (b != t && (b->kind == N_PATH || b->kind == N_VAR)) { /* .[k], .a[i].b, v.a */
            uint32_t pi = lvalue(g, t, "exists() cannot look into", false);
            g->paths[pi].top = LW_PATH_WALK; /* walked by path_found, not path_get */
            lw_cg_ins(g, LW_OP_EXISTS, dst, pi, 0, n->span);
        } else {
            lw_cfail(g->c, t->span, "exists() takes a path like .a.b, .a[i], v.a or v[k]");
        }
        g->freereg = save;
        return;
    }
    if (f == LW_FN_del) {
        struct node *t = n->kids;
        if (t->kind == N_VAR || (t->kind == N_PATH && t->nsegs == 0)) {
            lw_cfail(
                g->c, t->span,
                "del() removes a member or an element: write del(.a.b), del(v.k) or del(v[i])");
        }
        uint32_t pi = lvalue(g, t, "cannot delete from", true);
        lw_cg_ins(g, LW_OP_DELPATH, dst, pi, 0, n->span);
        g->freereg = save;
        return;
    }
    if (f == LW_FN_match && n->kids->next->kind == N_REGEX) {
        struct lw_regex *re = lw_cg_node_regex(g, n->kids->next);
        struct lw_program *p = g->c->prog;
        uint32_t subj = expr_any(g, n->kids);
        struct lw_matchsite site = { .re = re };
        site.group = lw_arena_alloc(&p->arena, (re->nnames + 1) * sizeof *site.group);
        site.reg = lw_arena_alloc(&p->arena, re->nnames + 1);
        for (uint32_t i = 0; i < re->nnames; i++) {
            struct var *v = lw_cg_lookup(g, re->names[i].name);
            if (v == NULL) continue; /* a reserved name: reported by declare_captures */
            site.group[site.n] = re->names[i].group;
            site.reg[site.n++] = v->reg;
        }
        GROW(g, g->sites, g->nsites, g->capsites);
        g->sites[g->nsites] = site;
        lw_cg_ins(g, LW_OP_MATCH, dst, subj, (int32_t)g->nsites++, n->span);
        g->freereg = save;
        return;
    }
    if (f == LW_FN_match) {
        lw_cfail(g->c, n->kids->next->span,
                 "match() needs a regex literal like /(?<name>...)/ so it is compiled once");
    }
    uint32_t base = args_base(g, n, dst), i = 0;
    for (struct node *a = n->kids; a != NULL; a = a->next, i++) {
        if (base + i >= g->freereg) lw_cg_reg_alloc(g, a->span);
        if (lw_builtin_argtype(&lw_builtins[f], (int)i) == 'P') {
            struct lw_value pv =
                f == LW_FN_grok ? lw_cg_grok_pattern(g, a) : lw_cg_dissect_pattern(g, a);
            lw_cg_ins(g, LW_OP_LOADK, base + i, konst(g, pv, a->span), 0, a->span);
        } else if (a->kind == N_REGEX) {
            struct lw_value rv = { .t = LW_T_REGEX, .u.re = lw_cg_node_regex(g, a) };
            lw_cg_ins(g, LW_OP_LOADK, base + i, konst(g, rv, a->span), 0, a->span);
        } else {
            expr_to(g, a, base + i);
        }
    }
    lw_cg_ins(g, LW_OP_CALL, base, (uint32_t)f, (int32_t)n->nkids, n->span);
    if (base != dst) lw_cg_ins(g, LW_OP_MOVE, dst, base, 0, n->span);
    g->freereg = save;
}

static void
binary(struct gen *g, struct node *n, uint32_t dst)
{
    static const enum lw_op ops[] = {
        [T_PLUS] = LW_OP_ADD,  [T_MINUS] = LW_OP_SUB,   [T_STAR] = LW_OP_MUL,
        [T_SLASH] = LW_OP_DIV, [T_PERCENT] = LW_OP_MOD, [T_FLOORDIV] = LW_OP_IDIV,
        [T_EQ] = LW_OP_EQ,     [T_NE] = LW_OP_NE,       [T_LT] = LW_OP_LT,
        [T_LE] = LW_OP_LE,     [T_GT] = LW_OP_GT,       [T_GE] = LW_OP_GE,
    };
    if (n->op <= T_GE) lw_cg_check_capture_cmp(g, n); /* comparisons and arithmetic */
    if (n->op >= T_LT && n->op <= T_GE) {
        int ta = lw_cg_single(lw_cg_stype(g, n->a)), tb = lw_cg_single(lw_cg_stype(g, n->b)), r;
        if (ta >= 0 && tb >= 0) {
            struct lw_value x = lw_cg_sample((enum lw_type)ta), y = lw_cg_sample((enum lw_type)tb);
            if (lw_value_compare(&x, &y, &r, &g->c->ca) != 0) {
                lw_cerror(g->c, n->span, "cannot compare %s with %s", lw_type_name(x.t),
                          lw_type_name(y.t));
            }
        }
    } else if (n->op < T_EQ) {
        lw_cg_arith_type(g, n, true);
    }
    uint32_t save = g->freereg;
    uint32_t b = expr_any(g, n->a);
    uint32_t c = expr_any(g, n->b);
    lw_cg_ins(g, ops[n->op], dst, b, (int32_t)c, n->span);
    g->freereg = save;
}

static void
logic(struct gen *g, struct node *n, uint32_t dst)
{
    bool and = n->kind == N_AND;
    expr_to(g, n->a, dst);
    lw_cg_ins(g, LW_OP_TRUTH, dst, dst, 0, n->a->span);
    int32_t j = lw_cg_ins(g, and? LW_OP_JMPF : LW_OP_JMPT, dst, 0, 0, n->span);
    /* coverage: the left side true or false, at the operator; the side that runs on is
     * counted where it starts, the other where the jump lands */
    struct lw_span op = { (uint32_t)n->i, 2 };
    int32_t cv = coverage_branch(g, and? LW_COV_AND : LW_COV_OR, op);
    coverage_count(g, and? cv : coverage_else(cv));
    expr_to(g, n->b, dst);
    lw_cg_ins(g, LW_OP_TRUTH, dst, dst, 0, n->b->span);
    if (cv >= 0) {
        int32_t je = lw_cg_ins(g, LW_OP_JMP, 0, 0, 0, n->span);
        patch(g, j);
        coverage_count(g, and? coverage_else(cv) : cv);
        j = je;
    }
    patch(g, j);
}

/* shape: the keys of object literal n, checked distinct, with their JSON text. */
static uint32_t
shape(struct gen *g, struct node *n)
{
    struct lw_program *p = g->c->prog;
    struct lw_shape sh = { .n = n->nkids };
    struct lw_buf b;
    sh.keys = lw_arena_alloc(&p->arena, (n->nkids + 1) * sizeof *sh.keys);
    sh.json = lw_arena_alloc(&p->arena, (n->nkids + 1) * sizeof *sh.json);
    lw_buf_init(&b);
    uint32_t i = 0;
    for (struct node *k = n->kids; k != NULL; k = k->next, i++) {
        for (struct node *o = n->kids; o != k; o = o->next) {
            if (lw_str_eq(o->s, k->s)) {
                lw_buf_fini(&b);
                lw_cfail(g->c, k->span, "duplicate key '%.*s' in object", (int)k->s.len, k->s.p);
            }
        }
        sh.keys[i] =
            (struct lw_str){ lw_arena_dup(&p->arena, k->s.p ? k->s.p : "", k->s.len), k->s.len };
        b.len = 0;
        lw_json_write_string(&b, k->s.p ? k->s.p : "", k->s.len);
        lw_buf_addc(&b, ':');
        sh.json[i] = (struct lw_str){ lw_arena_dup(&p->arena, b.p, b.len), b.len };
    }
    lw_buf_fini(&b);
    if (g->nshapes >= 65535) lw_cfail(g->c, n->span, "too many object literals");
    GROW(g, g->shapes, g->nshapes, g->capshapes);
    g->shapes[g->nshapes] = sh;
    return g->nshapes++;
}

/* const_array: an array literal of constants as one program constant (built once, loaded by
 * LOADK), or false. Containers are copied before any write (vm.c owned()), so sharing it
 * between records is safe. */
static bool
const_array(struct gen *g, struct node *n, uint32_t dst)
{
    struct lw_program *p = g->c->prog;
    for (struct node *k = n->kids; k != NULL; k = k->next) {
        if (k->kind != N_NULL && k->kind != N_BOOL && k->kind != N_INT && k->kind != N_FLOAT &&
            k->kind != N_STR)
            return false;
        if (k->kind == N_INT && k->big) return false; /* reported when compiled normally */
    }
    struct lw_value a = lw_arr_new(&p->arena, n->nkids);
    for (struct node *k = n->kids; k != NULL; k = k->next) {
        struct lw_value v =
            k->kind == N_NULL   ? LW_NULL
            : k->kind == N_BOOL ? lw_bool(k->i != 0)
            : k->kind == N_INT  ? lw_int(k->i)
            : k->kind == N_FLOAT
                ? lw_float(k->f)
                : lw_strv(lw_arena_dup(&p->arena, k->s.p ? k->s.p : "", k->s.len), k->s.len);
        lw_arr_push(&p->arena, &a, v);
    }
    a.u.a->shared = true; /* the program's: a write copies it */
    lw_cg_ins(g, LW_OP_LOADK, dst, konst(g, a, n->span), 0, n->span);
    return true;
}

static void
container(struct gen *g, struct node *n, uint32_t dst)
{
    uint32_t save = g->freereg;
    if (n->kind == N_ARRAY && n->nkids > 0 && const_array(g, n, dst)) return;
    if (n->kind == N_ARRAY) {
        lw_cg_ins(g, LW_OP_NEWARR, dst, n->nkids, 0, n->span);
        for (struct node *k = n->kids; k != NULL; k = k->next) {
            lw_cg_ins(g, LW_OP_APPEND, dst, expr_any(g, k), 0, k->span);
            g->freereg = save;
        }
        return;
    }
    lw_cg_ins(g, LW_OP_NEWOBJ, dst, shape(g, n), 0, n->span);
    for (struct node *k = n->kids; k != NULL; k = k->next) {
        uint32_t v = expr_any(g, k->a);
        lw_cg_ins(g, LW_OP_ADDV, dst, v, 0, k->span);
        g->freereg = save;
    }
}

/* comprehension: [e for v in xs if c] and {k: e for ...} compile to a loop that appends to
 * (or sets members of) a new container in dst: no closure, no call; the loop's variables
 * belong to the comprehension. */
static void
comprehension(struct gen *g, struct node *n, uint32_t dst)
{
    uint32_t save = g->freereg, savevars = g->nvars;
    bool arr = n->op == T_LBRACK;
    if (arr) {
        lw_cg_ins(g, LW_OP_NEWARR, dst, 0, 0, n->span);
    } else {
        struct node empty = { .kind = N_OBJECT, .span = n->span };
        lw_cg_ins(g, LW_OP_NEWOBJ, dst, shape(g, &empty), 0, n->span);
        int t = lw_cg_single(lw_cg_stype(g, n->a));
        if (t >= 0 && t != LW_T_STR) {
            lw_cfail(g->c, n->a->span, "an object's keys are strings, found %s: write str(...)",
                     lw_type_name((enum lw_type)t));
        }
    }
    uint32_t cont = expr_any(g, n->kids);
    uint32_t slot = g->niter++;
    if (g->niter > g->maxiter) g->maxiter = g->niter;
    if (slot > 255) lw_cfail(g->c, n->span, "loops nested too deep");
    lw_cg_ins(g, LW_OP_ITER, slot, cont, 0, n->kids->span);
    g->depth++;
    uint32_t kreg = lw_cg_declare(g, n->i ? n->s2 : LW_STR_LIT(" key"), n->span);
    lw_cg_declare(g, n->s, n->span);
    if (n->i && lw_str_eq(n->s, n->s2)) {
        lw_cfail(g->c, n->span, "the key and value variables need different names");
    }
    uint32_t body = g->freereg;
    int32_t start = lw_cg_ins(g, LW_OP_NEXT, kreg, slot, 0, n->span);
    int32_t jf = -1, cv = -1;
    if (n->c != NULL) {
        uint32_t r = expr_any(g, n->c);
        jf = lw_cg_ins(g, LW_OP_JMPF, r, 0, 0, n->c->span);
        cv = coverage_branch(g, LW_COV_FILTER, n->c->span);
        if (cv < 0) g->code[jf].c = start - (jf + 1); /* left out: the next element */
        coverage_count(g, cv);
        g->freereg = body;
    }
    if (arr) {
        lw_cg_ins(g, LW_OP_APPEND, dst, expr_any(g, n->a), 0, n->a->span);
    } else {
        uint32_t k = expr_any(g, n->a);
        uint32_t v = expr_any(g, n->b);
        struct lw_program *p = g->c->prog;
        struct lw_path path = { .n = 1, .top = -1, .base = (int32_t)dst };
        path.seg = lw_arena_alloc(&p->arena, sizeof *path.seg);
        *path.seg = (struct lw_pathseg){ .reg = (int32_t)k };
        if (g->npaths >= 65535) lw_cfail(g->c, n->span, "too many record paths");
        GROW(g, g->paths, g->npaths, g->cappaths);
        g->paths[g->npaths] = path;
        lw_cg_ins(g, LW_OP_SETPATH, v, g->npaths++, 0, n->a->span);
    }
    g->freereg = body;
    jump_back(g, start, n->span);
    if (cv >= 0) { /* coverage: an element left out is counted, then the next one */
        patch(g, jf);
        coverage_count(g, coverage_else(cv));
        jump_back(g, start, n->span);
    }
    patch(g, start);
    g->depth--;
    g->niter--;
    g->nvars = savevars;
    g->freereg = save;
}

static void
interp(struct gen *g, struct node *n, uint32_t dst)
{
    uint32_t save = g->freereg, base = g->freereg;
    for (uint32_t i = 0; i < n->nkids; i++)
        lw_cg_reg_alloc(g, n->span);
    uint32_t i = 0;
    for (struct node *k = n->kids; k != NULL; k = k->next, i++) {
        if (lw_cg_stype(g, k) == TM(LW_T_REGEX))
            lw_cfail(g->c, k->span, "a regex has no text form");
        expr_to(g, k, base + i);
    }
    lw_cg_ins(g, LW_OP_CONCAT, dst, base, (int32_t)n->nkids, n->span);
    g->freereg = save;
}

static void
expr_to(struct gen *g, struct node *n, uint32_t dst)
{
    uint32_t save = g->freereg;
    lw_cg_deeper(g, n);
    switch (n->kind) {
    case N_NULL:
        lw_cg_ins(g, LW_OP_LOADNULL, dst, 0, 0, n->span);
        break;
    case N_BOOL:
        lw_cg_ins(g, LW_OP_LOADK, dst, konst(g, lw_bool(n->i != 0), n->span), 0, n->span);
        break;
    case N_INT:
        if (n->big) {
            lw_cfail(g->c, n->span, "integer literal out of range: the largest int is %lld",
                     (long long)INT64_MAX);
        }
        lw_cg_ins(g, LW_OP_LOADK, dst, konst(g, lw_int(n->i), n->span), 0, n->span);
        break;
    case N_FLOAT:
        lw_cg_ins(g, LW_OP_LOADK, dst, konst(g, lw_float(n->f), n->span), 0, n->span);
        break;
    case N_STR:
        lw_cg_ins(g, LW_OP_LOADK, dst, kstr(g, n->s, n->span), 0, n->span);
        break;
    case N_INTERP:
        interp(g, n, dst);
        break;
    case N_REGEX:
        lw_cfail(g->c, n->span,
                 "a regex literal can only be an argument of match, contains, split, replace "
                 "or captures");
    case N_ARRAY:
    case N_OBJECT:
        container(g, n, dst);
        break;
    case N_COMP:
        comprehension(g, n, dst);
        break;
    case N_VAR: {
        struct var *v = lw_cg_var(g, n);
        if (v->reg != dst) lw_cg_ins(g, LW_OP_MOVE, dst, v->reg, 0, n->span);
        break;
    }
    case N_ERROR: /* reported by the parser */
        lw_cg_ins(g, LW_OP_LOADNULL, dst, 0, 0, n->span);
        break;
    case N_LINE:
        no_record(g, n);
        lw_cg_ins(g, LW_OP_LINE, dst, 0, 0, n->span);
        break;
    case N_META:
        no_record(g, n);
        lw_cg_ins(g, LW_OP_META, dst, 0, 0, n->span);
        g->c->prog->uses_meta = true;
        break;
    case N_PATH:
        no_record(g, n);
        if (n->nsegs == 0)
            lw_cg_ins(g, LW_OP_ROOT, dst, 0, 0, n->span);
        else
            lw_cg_ins(g, LW_OP_PATH, dst, add_path(g, n), 0, n->span);
        break;
    case N_GET: {
        uint32_t b = expr_any(g, n->a);
        lw_cg_ins(g, LW_OP_GETK, dst, b, (int32_t)kstr(g, n->s, n->span), n->span);
        break;
    }
    case N_INDEX: {
        uint32_t b = expr_any(g, n->a);
        uint32_t c = expr_any(g, n->b);
        lw_cg_ins(g, LW_OP_INDEX, dst, b, (int32_t)c, n->span);
        break;
    }
    case N_CALL:
        call(g, n, dst);
        break;
    case N_UNARY: {
        if (n->op == T_MINUS) {
            int t = lw_cg_single(lw_cg_stype(g, n->a));
            if (t >= 0 && t != LW_T_INT && t != LW_T_FLOAT) {
                lw_cerror(g->c, n->span, "cannot negate %s", lw_type_name((enum lw_type)t));
            }
        }
        uint32_t b = expr_any(g, n->a);
        lw_cg_ins(g, n->op == T_NOT ? LW_OP_NOT : LW_OP_NEG, dst, b, 0, n->span);
        break;
    }
    case N_BINARY:
        binary(g, n, dst);
        break;
    case N_AND:
    case N_OR:
        logic(g, n, dst);
        break;
    case N_COND: {
        expr_to(g, n->a, dst);
        int32_t jf = lw_cg_ins(g, LW_OP_JMPF, dst, 0, 0, n->a->span);
        int32_t cv = coverage_branch(g, LW_COV_COND, n->a->span);
        coverage_count(g, cv);
        expr_to(g, n->b, dst);
        int32_t je = lw_cg_ins(g, LW_OP_JMP, 0, 0, 0, n->span);
        patch(g, jf);
        coverage_count(g, coverage_else(cv));
        expr_to(g, n->c, dst);
        patch(g, je);
        break;
    }
    case N_DEFAULT: {
        if (++g->ntry > g->maxtry) g->maxtry = g->ntry;
        int32_t t = lw_cg_ins(g, LW_OP_TRY, 0, 0, 0, n->span);
        expr_to(g, n->a, dst);
        lw_cg_ins(g, LW_OP_ENDTRY, 0, 0, 0, n->span);
        g->ntry--;
        int32_t jn = lw_cg_ins(g, LW_OP_JMPNN, dst, 0, 0, n->span);
        patch(g, t);
        int32_t cv = coverage_branch(g, LW_COV_DEFAULT, n->span);
        coverage_count(g, coverage_else(cv));
        expr_to(g, n->b, dst);
        if (cv >= 0) { /* the left side's value: counted on its way out */
            int32_t je = lw_cg_ins(g, LW_OP_JMP, 0, 0, 0, n->span);
            patch(g, jn);
            coverage_count(g, cv);
            jn = je;
        }
        patch(g, jn);
        break;
    }
    default:
        lw_cfail(g->c, n->span, "internal error: statement where an expression belongs");
    }
    g->freereg = save;
    g->rdepth--;
}

/* assign: compute into the variable's register. Forms that write their destination before
 * reading all their operands go through a temporary, so 'x = y && x' reads the old x. */
static void
assign(struct gen *g, struct node *val, uint32_t reg)
{
    switch (val->kind) {
    case N_AND:
    case N_OR:
    case N_COND:
    case N_DEFAULT:
    case N_INTERP:
    case N_ARRAY:
    case N_OBJECT:
    case N_COMP: {
        uint32_t save = g->freereg, t = lw_cg_reg_alloc(g, val->span);
        expr_to(g, val, t);
        if (t != reg) lw_cg_ins(g, LW_OP_MOVE, reg, t, 0, val->span); /* t == reg: a new variable */
        g->freereg = save;
        break;
    }
    default:
        expr_to(g, val, reg);
    }
}

static void
if_stmt(struct gen *g, struct node *n)
{
    uint32_t save = g->freereg;
    uint32_t r = expr_any(g, n->a);
    int32_t jf = lw_cg_ins(g, LW_OP_JMPF, r, 0, 0, n->a->span);
    g->freereg = save;
    int32_t cv = coverage_branch(g, LW_COV_IF, n->a->span);
    coverage_count(g, cv);
    block(g, n->b);
    if (n->c == NULL && !coverage_on(g)) {
        patch(g, jf);
        return;
    }
    int32_t je = lw_cg_ins(g, LW_OP_JMP, 0, 0, 0, n->span);
    patch(g, jf);
    coverage_count(g, coverage_else(cv));
    if (n->c != NULL && n->c->kind == S_IF) {
        lw_cg_declare_captures(g, n->c->a);
        if_stmt(g, n->c);
    } else if (n->c != NULL) {
        block(g, n->c);
    }
    patch(g, je);
}

static void
for_stmt(struct gen *g, struct node *n)
{
    uint32_t save = g->freereg, savevars = g->nvars;
    uint32_t cont = expr_any(g, n->a);
    uint32_t slot = g->niter++;
    if (g->niter > g->maxiter) g->maxiter = g->niter;
    if (slot > 255) lw_cfail(g->c, n->span, "loops nested too deep");
    lw_cg_ins(g, LW_OP_ITER, slot, cont, 0, n->a->span);
    g->depth++;
    struct lw_str keyname = n->i ? n->s2 : LW_STR_LIT(" key");
    uint32_t kreg = lw_cg_declare(g, keyname, n->span);
    lw_cg_declare(g, n->s, n->span);
    if (n->i && lw_str_eq(n->s, n->s2)) {
        lw_cfail(g->c, n->span, "the key and value variables need different names");
    }
    struct loop lp = { .outer = g->loop };
    lp.start = lw_cg_ins(g, LW_OP_NEXT, kreg, slot, 0, n->span);
    g->loop = &lp;
    block(g, n->b);
    jump_back(g, lp.start, n->span);
    patch(g, lp.start);
    for (uint32_t i = 0; i < lp.nbreaks; i++)
        patch(g, lp.breaks[i]);
    g->loop = lp.outer;
    g->depth--;
    g->niter--;
    g->nvars = savevars;
    g->freereg = save;
}

/* in_fn_only: statements a function cannot hold, and return outside one. */
static void
check_place(struct gen *g, struct node *n)
{
    static const char *const words[] = {
        [S_EMIT] = "emit", [S_PRINT] = "print", [S_DROP] = "drop", [S_REJECT] = "reject"
    };
    if (n->kind == S_RETURN && g->fn == NULL) {
        lw_cfail(g->c, n->span, "'return' outside a function");
    }
    if (g->fn != NULL &&
        (n->kind == S_EMIT || n->kind == S_PRINT || n->kind == S_DROP || n->kind == S_REJECT)) {
        lw_cfail(g->c, n->span,
                 "'%s' belongs in the template, not in a function: a function returns a value "
                 "(return ...)",
                 words[n->kind]);
    }
}

/* window: a window statement's definition (prog->windows) and its contribution: the key, the
 * event time and each aggregate's argument in consecutive registers, then WINDOW. Not inlined:
 * inlined into guarded(), gcc -O1 (the asan build) warns that its locals may be clobbered by
 * the longjmp of a compile error (-Wclobbered), though none is used after one. */
static __attribute__((noinline)) void
window(struct gen *g, struct node *n)
{
    static const char *const aggs[] = { "count",      "sum",   "min",  "max",
                                        "avg",        "first", "last", "count_distinct",
                                        "percentile", "top" };
    struct lw_program *p = g->c->prog;
    if (g->fn != NULL)
        lw_cfail(g->c, n->span, "'window' belongs in the template, not in a function");
    if (g->loop != NULL) {
        lw_cfail(g->c, n->span,
                 "'window' inside a loop: a record contributes once to a window statement "
                 "(gather the loop's values first)");
    }
    if (n->nkids > LW_MAX_AGGS) lw_cfail(g->c, n->span, "more than %d aggregates", LW_MAX_AGGS);
    bool count = lw_str_eq(n->s, LW_STR_LIT("count"));
    struct lw_windef d = { .kind = count                                    ? LW_WIN_COUNT
                                   : lw_str_eq(n->s, LW_STR_LIT("session")) ? LW_WIN_SESSION
                                   : lw_str_eq(n->s, LW_STR_LIT("sliding")) ? LW_WIN_SLIDING
                                                                            : LW_WIN_TUMBLING,
                           .event_time = n->a != NULL,
                           .has_key = n->b != NULL,
                           .size_ns = n->i,
                           .step_ns = count ? n->i : (int64_t)n->f,
                           .count_n = count ? (uint64_t)n->f : 0,
                           .late_ns = n->c->i,
                           .span_off = n->span.off,
                           .naggs = n->nkids };
    struct node *to = n->c->a;
    if (to != NULL && to->kind != N_STR) { /* one topic per statement: replays give the same */
        lw_cfail(g->c, to->span,
                 "a window's 'to' takes a string literal, the topic of all its results: "
                 "to \"topic\"");
    }
    if (to != NULL && to->s.len == 0) lw_cfail(g->c, to->span, "the topic is empty");
    if (to != NULL)
        d.to = (struct lw_str){ lw_arena_dup(&p->arena, to->s.p, to->s.len), to->s.len };
    d.aggs = lw_arena_alloc(&p->arena, (n->nkids ? n->nkids : 1) * sizeof *d.aggs);
    uint32_t i = 0;
    for (struct node *k = n->kids; k != NULL; k = k->next, i++) {
        int kind = -1;
        for (int j = 0; j < (int)(sizeof aggs / sizeof aggs[0]); j++)
            if (lw_str_eq(k->s, lw_str_c(aggs[j]))) kind = j;
        struct lw_span nsp = { k->span.off, (uint32_t)k->s.len };
        if (kind < 0) {
            lw_cfail(g->c, nsp,
                     "unknown aggregate '%.*s' (known: count sum min max avg first last "
                     "count_distinct percentile top)",
                     (int)k->s.len, k->s.p);
        }
        uint32_t want = kind == LW_AGG_COUNT ? 0 : 1;
        double arg = 0;
        if (kind == LW_AGG_PERCENTILE) {
            struct node *pn = k->kids ? k->kids->next : NULL;
            if (k->nkids != 2 || pn == NULL || (pn->kind != N_INT && pn->kind != N_FLOAT)) {
                lw_cfail(g->c, k->span,
                         "percentile() takes a value and a number from 0 to 100: "
                         "percentile(.ms, 95)");
            }
            arg = pn->kind == N_INT ? (double)pn->i : pn->f;
            if (!(arg >= 0 && arg <= 100))
                lw_cfail(g->c, pn->span, "the percentile must be from 0 to 100");
            arg /= 100;
        } else if (kind == LW_AGG_TOP) {
            struct node *kn = k->kids ? k->kids->next : NULL;
            if (k->nkids != 2 || kn == NULL || kn->kind != N_INT || kn->i < 1 || kn->i > 1000) {
                lw_cfail(g->c, k->span,
                         "top() takes a value and how many, an int literal from 1 to 1000: "
                         "top(.url, 10)");
            }
            arg = (double)kn->i;
        } else if (k->nkids > 1 || (kind != LW_AGG_COUNT && k->nkids != 1)) {
            lw_cfail(g->c, k->span, "%s() takes %s argument%s, found %u", aggs[kind],
                     want ? "one" : "at most one", want ? "" : "", k->nkids);
        }
        struct lw_span name_sp = { (uint32_t)k->i, (uint32_t)k->s2.len };
        if (lw_str_eq(k->s2, LW_STR_LIT("window_start")) ||
            lw_str_eq(k->s2, LW_STR_LIT("window_end"))) {
            lw_cfail(g->c, name_sp,
                     "'%.*s' is a member of every window result: name the aggregate otherwise",
                     (int)k->s2.len, k->s2.p);
        }
        for (uint32_t j = 0; j < i; j++) {
            if (lw_str_eq(d.aggs[j].name, k->s2))
                lw_cfail(g->c, name_sp, "result name '%.*s' given twice", (int)k->s2.len, k->s2.p);
        }
        char *nm = lw_arena_dup(&p->arena, k->s2.p, k->s2.len);
        d.aggs[i] = (struct lw_winagg){
            .kind = (uint8_t)kind, .has_arg = k->nkids > 0, .arg = arg, .name = { nm, k->s2.len }
        };
    }
    /* a key object's members go into every result beside window_start, window_end and the
     * aggregates: a literal's names are checked here (one made at run time is the author's) */
    for (struct node *m = n->b && n->b->kind == N_OBJECT ? n->b->kids : NULL; m; m = m->next) {
        struct lw_span msp = { m->span.off, (uint32_t)m->s.len };
        if (lw_str_eq(m->s, LW_STR_LIT("window_start")) ||
            lw_str_eq(m->s, LW_STR_LIT("window_end"))) {
            lw_cfail(g->c, msp,
                     "'%.*s' is a member of every window result: name the key member otherwise",
                     (int)m->s.len, m->s.p);
        }
        for (uint32_t j = 0; j < d.naggs; j++) {
            if (lw_str_eq(d.aggs[j].name, m->s))
                lw_cfail(g->c, msp,
                         "key member '%.*s' has the name of an aggregate of this window: each "
                         "result would hold it twice",
                         (int)m->s.len, m->s.p);
        }
    }
    uint32_t w = p->nwindows;
    struct lw_windef *ws = lw_arena_alloc(&p->arena, (w + 1) * sizeof *ws);
    if (w) memcpy(ws, p->windows, w * sizeof *ws);
    ws[w] = d;
    p->windows = ws;
    p->nwindows = w + 1;
    uint32_t base = lw_cg_reg_alloc(g, n->span);
    for (uint32_t r = 1; r < 2 + d.naggs; r++)
        lw_cg_reg_alloc(g, n->span);
    struct node *src[2] = { n->b, n->a };
    for (uint32_t r = 0; r < 2; r++) {
        if (src[r] == NULL)
            lw_cg_ins(g, LW_OP_LOADK, base + r, (uint32_t)konst(g, LW_NULL, n->span), 0, n->span);
        else
            expr_to(g, src[r], base + r);
    }
    i = 0;
    for (struct node *k = n->kids; k != NULL; k = k->next, i++) {
        if (k->kids == NULL)
            lw_cg_ins(g, LW_OP_LOADK, base + 2 + i, (uint32_t)konst(g, LW_NULL, k->span), 0,
                      k->span);
        else
            expr_to(g, k->kids, base + 2 + i);
    }
    lw_cg_ins(g, LW_OP_WINDOW, base, w, 0, n->span);
}

static void
stmt(struct gen *g, struct node *n)
{
    uint32_t save = g->freereg;
    if (n->kind == S_ERROR) { /* reported by the parser */
        lw_cg_broken(g, n);
        return;
    }
    check_place(g, n);
    if (n->kind == S_FN && n->broken) lw_cg_broken(g, n); /* calls to it are not reported */
    if (n->kind == S_FN || n->kind == S_IMPORT) return;   /* collect() took them */
    if (n->kind != S_BLOCK) coverage_count(g, coverage_point(g, LW_COV_STMT, 0, n->span));
    lw_cg_declare_captures(g, n->a);
    /* the captures of elif conditions are variables of this block too, null when not reached */
    for (struct node *e = n->kind == S_IF ? n->c : NULL; e != NULL && e->kind == S_IF; e = e->c)
        lw_cg_declare_captures_in(g, e->a, true);
    save = g->freereg; /* captures declared above stay allocated */
    switch (n->kind) {
    case S_LET: {
        if (lw_str_eq(n->s, LW_STR_LIT("line"))) {
            lw_cfail(g->c, n->span, "'line' is the record's text and cannot be redeclared");
        }
        if (lw_str_eq(n->s, LW_STR_LIT("meta"))) {
            lw_cfail(g->c, n->span, "'meta' is the record's metadata and cannot be redeclared");
        }
        struct var *v = lw_cg_lookup(g, n->s);
        uint32_t reg;
        if (v != NULL && v->depth == g->depth) {
            reg = v->reg; /* let again in the same block: a new value, the same variable */
        } else {
            uint32_t t = lw_cg_reg_alloc(g, n->span); /* evaluate before the name is visible */
            g->freereg = t;
            assign(g, n->a, t);
            g->freereg = t;
            reg = lw_cg_declare(g, n->s, n->span);
            save = g->freereg;
            break;
        }
        assign(g, n->a, reg);
        break;
    }
    case S_ASSIGN: {
        struct var *v = lw_cg_lookup(g, n->s);
        if (v == NULL) {
            if (!lw_cg_maybe_declared(g, n->s)) {
                lw_cerror(g->c, n->span,
                          "assignment to undeclared variable '%.*s': use 'let %.*s = ...' first",
                          (int)n->s.len, n->s.p, (int)n->s.len, n->s.p);
            }
            lw_cg_ghost(g, n->s);
            v = lw_cg_lookup(g, n->s);
            if (v == NULL) break;
        }
        struct node *x = n->a;
        if (x->kind == N_CALL && x->nkids == 2 && lw_str_eq(x->s, LW_STR_LIT("push")) &&
            x->kids->kind == N_VAR && lw_str_eq(x->kids->s, n->s)) {
            /* v = push(v, x): appended in place, unless v's array is shared */
            lw_cg_check_args(g, x, LW_FN_push);
            lw_cg_ins(g, LW_OP_PUSH, v->reg, expr_any(g, x->kids->next), 0, x->span);
            break;
        }
        assign(g, n->a, v->reg);
        break;
    }
    case S_SETPATH: {
        uint32_t r = expr_any(g, n->a);
        lw_cg_ins(g, LW_OP_SETPATH, r, lvalue(g, n->b, "cannot assign to", true), 0, n->span);
        break;
    }
    case S_IF:
        if_stmt(g, n);
        break;
    case S_FOR:
        for_stmt(g, n);
        break;
    case S_BREAK:
    case S_CONTINUE:
        if (g->loop == NULL) {
            lw_cfail(g->c, n->span, "'%s' outside a loop",
                     n->kind == S_BREAK ? "break" : "continue");
        }
        if (n->kind == S_CONTINUE) {
            jump_back(g, g->loop->start, n->span);
        } else {
            struct loop *lp = g->loop;
            GROW(g, lp->breaks, lp->nbreaks, lp->cap);
            lp->breaks[lp->nbreaks++] = lw_cg_ins(g, LW_OP_JMP, 0, 0, 0, n->span);
        }
        break;
    case S_EMIT: {
        uint32_t r = lw_cg_reg_alloc(g, n->span);
        if (n->a)
            expr_to(g, n->a, r);
        else
            lw_cg_ins(g, LW_OP_ROOT, r, 0, 0, n->span);
        /* emit f(...): a null result (a dissect() or grok() that did not match) is an error
         * naming f, so the record reaches the dead-letter path instead of a "null" output */
        int32_t who = n->a && n->a->kind == N_CALL ? (int32_t)kstr(g, n->a->s, n->a->span) + 1 : 0;
        if (n->b == NULL && n->c == NULL && n->kids == NULL) {
            lw_cg_ins(g, LW_OP_EMIT, r, 0, who, n->span);
            break;
        }
        struct node *route[3] = { n->b, n->c, n->kids }; /* R[r+1..r+3]: topic, key, headers */
        for (int i = 0; i < 3; i++) {
            uint32_t ri = lw_cg_reg_alloc(g, n->span);
            if (route[i] == NULL)
                lw_cg_ins(g, LW_OP_LOADK, ri, (uint32_t)konst(g, LW_NULL, n->span), 0, n->span);
            else
                expr_to(g, route[i], ri);
        }
        lw_cg_ins(g, LW_OP_EMITTO, r, 0, who, n->span);
        break;
    }
    case S_PRINT:
    case S_REJECT: {
        uint32_t r = expr_any(g, n->a);
        lw_cg_ins(g, n->kind == S_PRINT ? LW_OP_PRINT : LW_OP_REJECT, r, 0, 0, n->span);
        break;
    }
    case S_DROP:
        lw_cg_ins(g, LW_OP_DROP, 0, 0, 0, n->span);
        break;
    case S_WINDOW:
        window(g, n);
        break;
    case S_EXPR: {
        uint32_t r = lw_cg_reg_alloc(g, n->span);
        expr_to(g, n->a, r);
        break;
    }
    case S_BLOCK:
        block(g, n);
        break;
    case S_RETURN: {
        uint32_t r = n->a ? expr_any(g, n->a) : lw_cg_reg_alloc(g, n->span);
        if (n->a == NULL) lw_cg_ins(g, LW_OP_LOADNULL, r, 0, 0, n->span);
        lw_cg_ins(g, LW_OP_RET, r, 0, 0, n->span);
        break;
    }
    default:
        lw_cfail(g->c, n->span, "internal error: expression where a statement belongs");
    }
    g->freereg = save;
}

/* State of the code generator a failed statement may leave changed. */
struct gsave {
    uint32_t freereg, nvars, niter, ntry, rdepth;
    uint16_t depth;
    struct loop *loop;
};

static struct gsave
gsave(struct gen *g)
{
    return (struct gsave){ g->freereg, g->nvars, g->niter, g->ntry, g->rdepth, g->depth, g->loop };
}

/* grestore: back to sv after an error; the variables the statement declared in this block
 * (its captures) stay, those of blocks it opened go. */
static void
grestore(struct gen *g, const struct gsave *sv)
{
    uint32_t n = sv->nvars;
    for (uint32_t i = sv->nvars; i < g->nvars; i++) {
        if (g->vars[i].depth <= sv->depth) g->vars[n++] = g->vars[i];
    }
    g->nvars = n;
    g->freereg = sv->freereg;
    g->niter = sv->niter;
    g->ntry = sv->ntry;
    g->rdepth = sv->rdepth;
    g->depth = sv->depth;
    g->loop = sv->loop;
}

/* guarded: statement n, or, when it fails, its error recorded and the next one compiled; a
 * let that failed declares its variable still (as a ghost: no use of it is reported). */
static void
guarded(struct gen *g, struct node *n)
{
    jmp_buf jb;
    jmp_buf *outer = g->c->recover;
    struct gsave sv = gsave(g);
    g->c->recover = &jb;
    if (setjmp(jb) == 0) {
        stmt(g, n);
    } else {
        grestore(g, &sv);
        struct var *v = n->kind == S_LET ? lw_cg_lookup(g, n->s) : NULL;
        if (n->kind == S_LET && (v == NULL || v->depth != g->depth)) lw_cg_ghost(g, n->s);
    }
    g->c->recover = outer;
}

static void
block(struct gen *g, struct node *n)
{
    uint32_t savevars = g->nvars, save = g->freereg;
    g->depth++;
    for (struct node *s = n->kids; s != NULL; s = s->next)
        guarded(g, s);
    g->depth--;
    g->nvars = savevars;
    g->freereg = save;
}

static bool
has_output(struct node *n)
{
    for (; n != NULL; n = n->next) {
        if (n->kind == S_EMIT || n->kind == S_PRINT || n->kind == S_WINDOW) return true;
        if (n->kind >= S_LET && (has_output(n->kids) || has_output(n->b) || has_output(n->c)))
            return true;
    }
    return false;
}

/* collect: every file's functions into the one namespace (a name defined twice, or hiding a
 * built-in function, is an error naming both places); an imported file holds nothing else. */
static void
collect(struct compiler *c)
{
    c->funcs = lw_arena_alloc(&c->ca, MAXFUNCS * sizeof *c->funcs);
    bool full = false;
    for (uint32_t f = 0; f < c->nfiles; f++) {
        for (struct node *s = c->files[f].root->kids; s != NULL; s = s->next) {
            if (s->kind == S_IMPORT || (s->kind == S_ERROR && f > 0)) continue;
            if (s->kind != S_FN) {
                if (f == 0) continue;
                lw_cerror(c, s->span,
                          "an imported file holds only functions (fn) and imports: move this "
                          "statement into a function or into the template");
                continue;
            }
            int b = lw_cg_find_builtin(s->s);
            if (b >= 0) {
                lw_cerror(c, s->span,
                          "function '%.*s' would hide the built-in function %s(): choose another "
                          "name",
                          (int)s->s.len, s->s.p, lw_builtins[b].name);
                continue;
            }
            bool twice = false;
            for (uint32_t k = 0; k < c->nfuncs && !twice; k++) {
                struct node *o = c->funcs[k].def;
                if (!lw_str_eq(o->s, s->s)) continue;
                struct srcfile *of = &c->files[c->funcs[k].file];
                int line, col;
                lw_diag_linecol((struct lw_str){ c->text.p + of->base, of->len },
                                o->span.off - of->base, &line, &col);
                lw_cerror(c, s->span, "function '%.*s' is defined twice: here and at %.*s:%d:%d",
                          (int)s->s.len, s->s.p, (int)of->name.len, of->name.p, line, col);
                twice = true;
            }
            if (twice) continue;
            if (c->nfuncs == MAXFUNCS) { /* said once, at the first one too many */
                if (!full) lw_cerror(c, s->span, "too many functions (%d at most)", MAXFUNCS);
                full = true;
                continue;
            }
            c->funcs[c->nfuncs++] = (struct ufunc){ .def = s, .file = f };
        }
    }
}

/* function: the code of user function i, after the template's: its parameters are its first
 * registers, its registers, iterators and handlers are counted apart (the VM gives each call
 * a window), and it returns null when its end is reached. */
static void
function(struct gen *g, uint32_t i, struct lw_func *out)
{
    struct ufunc *u = &g->c->funcs[i];
    struct node *d = u->def;
    if (d->broken) return; /* its header did not parse: reported */
    g->fn = u;
    g->freereg = g->maxreg = g->nvars = 0;
    g->depth = 0;
    g->ntry = g->maxtry = g->niter = g->maxiter = 0;
    g->loop = NULL;
    *out = (struct lw_func){ .entry = g->ncode, .nparams = d->nkids, .span = d->span };
    struct lw_program *p = g->c->prog;
    out->name = (struct lw_str){ lw_arena_dup(&p->arena, d->s.p, d->s.len), d->s.len };
    for (struct node *a = d->kids; a != NULL; a = a->next)
        lw_cg_declare(g, a->s, a->span);
    g->nassigned = 0;
    lw_cg_assigned(g, d->b->kids);
    block(g, d->b);
    struct lw_span end = { d->b->span.off, 1 };
    lw_cg_ins(g, LW_OP_LOADNULL, 0, 0, 0, end);
    lw_cg_ins(g, LW_OP_RET, 0, 0, 0, end);
    out->end = g->ncode;
    out->nregs = g->maxreg + 1;
    out->niters = g->maxiter;
    out->ntry = g->maxtry;
    g->fn = NULL;
}

static void
finish(struct gen *g, struct node *root)
{
    struct lw_program *p = g->c->prog;
    p->implicit_emit = !has_output(root->kids);
    if (p->implicit_emit) {
        uint32_t r = lw_cg_reg_alloc(g, root->span);
        lw_cg_ins(g, LW_OP_ROOT, r, 0, 0, root->span);
        lw_cg_ins(g, LW_OP_EMIT, r, 0, 0, root->span);
    }
    lw_cg_ins(g, LW_OP_HALT, 0, 0, 0, (struct lw_span){ g->c->files[0].len, 0 });
    p->nregs = g->maxreg + 1;
    p->ntry = g->maxtry;
    p->niters = g->maxiter;
    p->nfuncs = g->c->nfuncs;
    p->funcs = lw_arena_alloc(&p->arena, (p->nfuncs + 1) * sizeof *p->funcs);
    for (uint32_t i = 0; i < p->nfuncs; i++) {
        jmp_buf jb; /* an error outside the function's statements (its parameters) */
        jmp_buf *outer = g->c->recover;
        g->c->recover = &jb;
        if (setjmp(jb) == 0) function(g, i, &p->funcs[i]);
        g->c->recover = outer;
    }
    p->code = lw_arena_dup(&p->arena, g->code, g->ncode * sizeof *g->code);
    p->spans = lw_arena_dup(&p->arena, g->spans, g->ncode * sizeof *g->spans);
    p->ncode = g->ncode;
    p->k = lw_arena_dup(&p->arena, g->k, g->nk * sizeof *g->k);
    p->nk = g->nk;
    p->paths = lw_arena_dup(&p->arena, g->paths, g->npaths * sizeof *g->paths);
    p->npaths = g->npaths;
    p->sites = lw_arena_dup(&p->arena, g->sites, g->nsites * sizeof *g->sites);
    p->nsites = g->nsites;
    p->shapes = lw_arena_dup(&p->arena, g->shapes, g->nshapes * sizeof *g->shapes);
    p->nshapes = g->nshapes;
    p->covs = lw_arena_dup(&p->arena, g->covs, g->ncovs * sizeof *g->covs);
    p->ncovs = g->ncovs;
    p->nfiles = g->c->nfiles;
    p->files = lw_arena_alloc(&p->arena, p->nfiles * sizeof *p->files);
    for (uint32_t i = 0; i < p->nfiles; i++) {
        struct srcfile *f = &g->c->files[i];
        p->files[i] = (struct lw_srcfile){
            .name = { lw_arena_dup(&p->arena, f->name.p, f->name.len), f->name.len },
            .base = f->base,
            .len = f->len,
        };
    }
}

/* report: the errors into d, in source order: the first as d->msg and d->span (a place in the
 * template: an error in an imported file is put at the template's import that brought the
 * file in), and, when there are several or an imported file is involved, all of them rendered
 * in d->text, each against its own file, then a line counting them. Each also goes to the
 * caller's opts->each. */
static void __attribute__((format(printf, 3, 4)))
setd(struct lw_diag *d, struct lw_span sp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_diag_vset(d, &sp, fmt, ap);
    va_end(ap);
}

static void
sort_errors(struct compiler *c)
{
    for (uint32_t i = 1; i < c->nerrs; i++) { /* stable: one place has one error */
        struct cerr e = c->errs[i];
        uint32_t k = i;
        for (; k > 0 && c->errs[k - 1].span.off > e.span.off; k--)
            c->errs[k] = c->errs[k - 1];
        c->errs[k] = e;
    }
}

/* render: error e as lw_diag_print writes it, against its own file; a C string or NULL. */
static char *
render(struct compiler *c, const struct cerr *e, struct lw_compile_error *out)
{
    struct srcfile *sf = &c->files[c->nfiles > 0 ? lw_import_file(c, e->span.off) : 0];
    struct lw_str src = { c->text.p + sf->base, sf->len };
    struct lw_diag one = { 0 };
    setd(&one, (struct lw_span){ e->span.off - sf->base, e->span.len }, "%s", e->msg);
    char nm[512];
    snprintf(nm, sizeof nm, "%.*s", (int)sf->name.len, sf->name.p);
    *out = (struct lw_compile_error){ .file = sf->name, .msg = e->msg };
    lw_diag_place(src, e->span.off - sf->base, &out->line, &out->col);
    char *text = NULL;
    size_t len;
    FILE *m = open_memstream(&text, &len);
    if (m == NULL) return NULL;
    lw_diag_print(m, nm, src, &one);
    if (fclose(m) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static void
report(struct compiler *c)
{
    struct lw_diag *d = c->d;
    if (c->nerrs == 0 || d->set) {
        if (!d->set) lw_diag_setf(d, "out of memory");
        return;
    }
    sort_errors(c);
    struct cerr *e = &c->errs[0];
    uint32_t f = c->nfiles > 0 ? lw_import_file(c, e->span.off) : 0;
    if (f == 0) {
        setd(d, e->span, "%s", e->msg);
    } else {
        uint32_t t = f;
        while (c->files[t].parent > 0)
            t = (uint32_t)c->files[t].parent;
        struct srcfile *sf = &c->files[f];
        int line, col;
        lw_diag_place((struct lw_str){ c->text.p + sf->base, sf->len }, e->span.off - sf->base,
                      &line, &col);
        setd(d, c->files[t].at, "in %.*s:%d:%d: %s", (int)sf->name.len, sf->name.p, line, col,
             e->msg);
    }
    bool all = c->nerrs > 1 || f != 0 || c->more; /* else the caller prints d */
    size_t len;
    FILE *m = all ? open_memstream(&d->text, &len) : NULL;
    for (uint32_t i = 0; i < c->nerrs; i++) {
        struct lw_compile_error ce;
        char *text = render(c, &c->errs[i], &ce);
        if (m != NULL && text != NULL) fputs(text, m);
        if (c->opts != NULL && c->opts->each != NULL) {
            ce.text = text != NULL ? text : "";
            ce.index = i;
            ce.count = c->nerrs;
            ce.more = c->more;
            c->opts->each(c->opts->each_ud, &ce);
        }
        free(text);
    }
    if (m == NULL) return;
    struct lw_str nm = c->files[0].name;
    if (c->more) {
        fprintf(m, "%.*s: too many errors: stopped after %u\n", (int)nm.len, nm.p, c->nerrs);
    } else if (c->nerrs > 1) {
        fprintf(m, "%.*s: %u errors\n", (int)nm.len, nm.p, c->nerrs);
    }
    fclose(m);
}

struct lw_program *
lw_compile(struct lw_str name, struct lw_str src, const struct lw_compile_opts *o,
           struct lw_diag *d)
{
    struct compiler c = { .d = d, .opts = o };
    struct lw_program *p = lw_xcalloc(1, sizeof *p);
    lw_arena_init(&p->arena, 16 * 1024);
    p->max_groups = 1;
    c.prog = p;
    c.recover = &c.jb;
    c.maxerrs = o != NULL && o->max_errors > 0 ? o->max_errors : MAXERRORS;
    if (c.maxerrs > 1000) c.maxerrs = 1000;
    lw_arena_init(&c.ca, 64 * 1024);
    /* Inside a library call, running out of memory is a compile error too: lw_oom comes
     * here, and what the compilation made is freed as after any other error. */
    jmp_buf *oom_exit = lw_oom_jmp;
    int why;
    switch (setjmp(c.jb)) {
    case 0:
        why = 0;
        break;
    case 1: /* lw_oom */
        why = 1;
        break;
    default: /* too many errors, or one with no recovery point */
        why = 2;
    }
    if (why != 0) {
        lw_oom_jmp = oom_exit;
        if (why == 1) c.nerrs = 0; /* out of memory: that is the error to report */
        report(&c);
        lw_arena_fini(&c.ca);
        lw_program_free(p);
        return NULL;
    }
    if (oom_exit != NULL) lw_oom_jmp = &c.jb;
    c.errs = lw_arena_alloc(&c.ca, c.maxerrs * sizeof *c.errs);
    p->name = (struct lw_str){ lw_arena_dup(&p->arena, name.p, name.len), name.len };
    c.text = (struct lw_str){ lw_arena_dup(&c.ca, src.p, src.len), src.len };
    c.files = lw_arena_alloc(&c.ca, MAXFILES * sizeof *c.files);
    lw_import_load(&c);
    p->src = (struct lw_str){ lw_arena_dup(&p->arena, c.text.p, c.text.len), c.text.len };
    c.text = p->src;
    c.parsing = true;
    for (uint32_t f = 0; f < c.nfiles; f++) {
        c.file = f;
        lw_lex_init(&c.lx, p->src, c.files[f].base, c.files[f].base + c.files[f].len);
        c.files[f].root = lw_parse(&c);
    }
    c.parsing = false;
    collect(&c);
    struct gen *g = lw_arena_alloc(&c.ca, sizeof *g);
    *g = (struct gen){ .c = &c };
    struct node *root = c.files[0].root;
    lw_cg_assigned(g, root->kids);
    block(g, root);
    finish(g, root);
    lw_oom_jmp = oom_exit;
    if (c.nerrs > 0) { /* errors recovered from: the program is not made */
        report(&c);
        lw_arena_fini(&c.ca);
        lw_program_free(p);
        return NULL;
    }
    lw_arena_fini(&c.ca);
    return p;
}

void
lw_program_free(struct lw_program *p)
{
    if (p == NULL) return;
    for (uint32_t i = 0; i < p->nregexes; i++)
        pcre2_code_free(p->regexes[i]->code);
    for (uint32_t i = 0; i < p->nzones; i++)
        lw_tz_free(p->zones[i]);
    lw_uarules_unref(p->ua);
    lw_arena_fini(&p->arena);
    free(p);
}

void
lw_program_where(const struct lw_program *p, uint32_t off, struct lw_str *file, int *line, int *col)
{
    uint32_t f = 0;
    for (uint32_t i = 1; i < p->nfiles; i++) {
        if (p->files[i].base <= off) f = i;
    }
    if (p->nfiles == 0) {
        *file = p->name;
        lw_diag_linecol(p->src, off, line, col);
        return;
    }
    const struct lw_srcfile *sf = &p->files[f];
    *file = f == 0 ? p->name : sf->name;
    lw_diag_linecol((struct lw_str){ p->src.p + sf->base, sf->len }, off - sf->base, line, col);
}

/* Static types and compile-time checks for the code generator: the type mask of an expression
 * where the AST shows it, arithmetic on literal types that can never work, a call's arity and
 * argument types, constant arguments checked before any record is read (time formats, zones,
 * lw_fn_check_const). Code generation is compile.c's. */
#include <stdlib.h>
#include <string.h>

#include "compile_int.h"
#include "lw/timefmt.h"
#include "lw/tz.h"
#include "lw/useragent.h"
#include "lw/vm.h"

#include "../lib/builtins_int.h"

/* Static types ------------------------------------------------------------------------- */

/* letter_mask: the types a builtins.def type letter stands for (lw_type_accepts decides). */
static uint32_t
letter_mask(char l)
{
    uint32_t m = 0;
    for (int t = 0; t < LW_T_N; t++) {
        if (lw_type_accepts(l, (enum lw_type)t)) m |= TM(t);
    }
    return m;
}

struct lw_value
lw_cg_sample(enum lw_type t)
{
    switch (t) {
    case LW_T_INT:
        return lw_int(1);
    case LW_T_FLOAT:
        return lw_float(1);
    case LW_T_STR:
        return lw_strv("", 0);
    case LW_T_BOOL:
        return lw_bool(true);
    case LW_T_TIME:
        return lw_time(0, 0);
    default:
        return (struct lw_value){ .t = (uint8_t)t };
    }
}

int
lw_cg_single(uint32_t m)
{
    return m != 0 && (m & (m - 1)) == 0 ? __builtin_ctz(m) : -1;
}

uint32_t
lw_cg_arith_type(struct gen *g, struct node *n, bool check)
{
    uint32_t a = lw_cg_stype(g, n->a), b = lw_cg_stype(g, n->b);
    int ta = lw_cg_single(a), tb = lw_cg_single(b);
    if (ta >= 0 && tb >= 0 && ta != LW_T_ARR && ta != LW_T_OBJ && tb != LW_T_ARR &&
        tb != LW_T_OBJ) {
        struct lw_value x = lw_cg_sample((enum lw_type)ta), y = lw_cg_sample((enum lw_type)tb), r;
        char err[128];
        static const char ops[] = {
            [T_PLUS] = '+',  [T_MINUS] = '-',   [T_STAR] = '*',
            [T_SLASH] = '/', [T_PERCENT] = '%', [T_FLOORDIV] = LW_ARITH_FLOORDIV
        };
        if (lw_value_arith(ops[n->op], &x, &y, &r, &g->c->ca, err, sizeof err) != 0) {
            if (check) lw_cerror(g->c, n->span, "%s", err);
            return TM_ANY;
        }
        return TM(r.t);
    }
    if ((a | b) & ~TM_NUM) return TM_ANY;
    if (n->op == T_SLASH) return TM(LW_T_FLOAT); /* '/' of numbers is always a float */
    return (a == TM(LW_T_INT) && b == TM(LW_T_INT)) ? TM(LW_T_INT) : TM_NUM;
}

static uint32_t stype1(struct gen *g, struct node *n);

/* stype: the set of types n can have. Cached in the node: without the cache, checks that ask
 * for the types of subtrees at every level made compiling a chain of operators exponential. */
uint32_t
lw_cg_stype(struct gen *g, struct node *n)
{
    if (n->stype != 0) return n->stype;
    lw_cg_deeper(g, n);
    uint32_t t = stype1(g, n);
    g->rdepth--;
    n->stype = t ? t : TM_ANY;
    return n->stype;
}

static uint32_t
stype1(struct gen *g, struct node *n)
{
    switch (n->kind) {
    case N_NULL:
        return TM(LW_T_NULL);
    case N_BOOL:
    case N_AND:
    case N_OR:
        return TM(LW_T_BOOL);
    case N_INT:
        return TM(LW_T_INT);
    case N_FLOAT:
        return TM(LW_T_FLOAT);
    case N_STR:
    case N_INTERP:
    case N_LINE:
        return TM(LW_T_STR);
    case N_META:
        return TM(LW_T_OBJ);
    case N_REGEX:
        return TM(LW_T_REGEX);
    case N_ARRAY:
        return TM(LW_T_ARR);
    case N_OBJECT:
        return TM(LW_T_OBJ);
    case N_COMP:
        return n->op == T_LBRACK ? TM(LW_T_ARR) : TM(LW_T_OBJ);
    case N_UNARY:
        if (n->op == T_NOT) return TM(LW_T_BOOL);
        return lw_cg_stype(g, n->a) & TM_NUM ? lw_cg_stype(g, n->a) & TM_NUM
                                             : TM_ANY; /* cached: once */
    case N_BINARY:
        if (n->op >= T_EQ && n->op <= T_GE) return TM(LW_T_BOOL);
        return lw_cg_arith_type(g, n, false);
    case N_COND:
        return lw_cg_stype(g, n->b) | lw_cg_stype(g, n->c);
    case N_DEFAULT:
        return (lw_cg_stype(g, n->a) & ~TM(LW_T_NULL)) | lw_cg_stype(g, n->b);
    case N_VAR: {
        struct var *v = lw_cg_lookup(g, n->s);
        return v != NULL && v->stype != 0 ? v->stype : TM_ANY;
    }
    case N_CALL: {
        int f = lw_cg_find_builtin(n->s);
        if (f < 0) return TM_ANY;
        char r = lw_builtins[f].ret;
        if (r == 'n') {
            uint32_t t = n->kids ? lw_cg_stype(g, n->kids) : TM_NUM;
            return t & TM_NUM ? t & TM_NUM : TM_NUM;
        }
        return letter_mask(r);
    }
    default:
        return TM_ANY;
    }
}

/* A constant zone argument is loaded once, here, so a bad name is a compile error and records
 * find the zone by name in prog->zones (lw_vm_zone). */
static void
const_zone(struct gen *g, struct node *a)
{
    struct lw_program *p = g->c->prog;
    const char *name = a->s.p ? a->s.p : "";
    for (uint32_t i = 0; i < p->nzones; i++) {
        if (p->zones[i]->namelen == a->s.len && memcmp(p->zones[i]->name, name, a->s.len) == 0) {
            return;
        }
    }
    char err[300];
    /* room first: once loaded, the zone belongs to the program at once (lw_oom may come) */
    p->zones = lw_arena_realloc(&p->arena, p->zones, p->nzones * sizeof *p->zones,
                                (p->nzones + 1) * sizeof *p->zones);
    struct lw_tz *z = lw_tz_load(name, a->s.len, err, sizeof err);
    if (z == NULL) lw_cfail(g->c, a->span, "%s", err);
    p->zones[p->nzones++] = z;
}

/* check_table: a table's name (builtins.def letter T) is a string literal and, when the
 * compile options declare the tables, one of them. */
static void
check_table(struct gen *g, struct node *a, const char *fn)
{
    if (a->kind != N_STR) {
        lw_cfail(g->c, a->span,
                 "%s() needs the table's name as a string literal, like %s(\"geo\", ...)", fn, fn);
    }
    const struct lw_compile_opts *o = g->c->opts;
    if (o == NULL || o->tables == NULL) return;
    struct lw_str name = { a->s.p ? a->s.p : "", a->s.len };
    const char *best = NULL;
    size_t bd = 99;
    for (size_t i = 0; i < o->ntables; i++) {
        if (lw_str_eq(name, lw_str_c(o->tables[i]))) return;
        size_t d = lw_str_distance(name, lw_str_c(o->tables[i]));
        if (d < bd) {
            bd = d;
            best = o->tables[i];
        }
    }
    int nl = (int)(name.len > 64 ? 64 : name.len);
    if (best != NULL && bd <= 2 && 2 * bd <= name.len) {
        lw_cfail(g->c, a->span, "%s(): no table named '%.*s' (did you mean '%s'?)", fn, nl, name.p,
                 best);
    }
    if (o->ntables == 0) {
        lw_cfail(g->c, a->span, "%s(): no table named '%.*s': no tables are declared", fn, nl,
                 name.p);
    }
    char list[300];
    size_t len = 0;
    list[0] = '\0';
    for (size_t i = 0; i < o->ntables && len + 1 < sizeof list; i++) {
        int w = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", o->tables[i]);
        if (w < 0) break;
        len += (size_t)w;
    }
    lw_cfail(g->c, a->span, "%s(): no table named '%.*s' (tables: %s)", fn, nl, name.p, list);
}

/* ua_rules: the first parse_user_agent of the template gets the rules from the compile
 * options' loader; the program holds them and sizes the VM's match data for them. */
static void
ua_rules(struct gen *g, struct node *n)
{
    struct lw_program *p = g->c->prog;
    if (p->ua != NULL) return;
    const struct lw_compile_opts *o = g->c->opts;
    if (o == NULL || o->ua == NULL) {
        lw_cfail(g->c, n->span,
                 "parse_user_agent() needs ua-parser's rules, and this compiler was given none "
                 "(logwash_compile_options.ua_rules)");
    }
    char msg[400] = "";
    struct lw_uarules *r = o->ua(o->ua_ud, msg, sizeof msg);
    if (r == NULL) lw_cfail(g->c, n->span, "%s", msg[0] ? msg : "parse_user_agent(): no rules");
    lw_uarules_ref(r);
    p->ua = r;
    p->ua_jit = o->jit;
    if (lw_uarules_max_groups(r) > p->max_groups) p->max_groups = lw_uarules_max_groups(r);
}

bool
lw_cg_check_args(struct gen *g, struct node *n, int f)
{
    const struct lw_builtin *b = &lw_builtins[f];
    if ((int)n->nkids < b->min || (int)n->nkids > b->max) {
        if (b->min == b->max) {
            lw_cerror(g->c, n->span, "%s() takes %d argument%s, found %u", b->name, b->min,
                      b->min == 1 ? "" : "s", n->nkids);
        } else {
            lw_cerror(g->c, n->span, "%s() takes %d to %d arguments, found %u", b->name, b->min,
                      b->max, n->nkids);
        }
        return false;
    }
    if (f == LW_FN_parse_user_agent) ua_rules(g, n);
    uint32_t before = g->c->nerrs;
    int i = 0;
    for (struct node *a = n->kids; a != NULL; a = a->next, i++) {
        char want = lw_builtin_argtype(b, i);
        if (want == 'P') {
            lw_cg_check_pattern(g, a, f);
            continue;
        }
        if (want == 'T') {
            check_table(g, a, b->name);
            continue;
        }
        uint32_t t = lw_cg_stype(g, a);
        if (want == 'R' && a->kind != N_REGEX) {
            lw_cerror(g->c, a->span, "%s() needs a regex literal like /(?<name>...)/ here",
                      b->name);
            continue;
        }
        if ((f == LW_FN_parse_time || f == LW_FN_format_time) && i == 1 && a->kind == N_STR) {
            char err[256];
            size_t off = SIZE_MAX; /* stays: the message is about the whole format */
            if (lw_time_fmt_check(a->s.p ? a->s.p : "", a->s.len, err, sizeof err, &off) != 0) {
                struct lw_span sp = a->span;
                const char *lit = g->c->prog->src.p + sp.off + 1;
                if (off != SIZE_MAX && sp.len >= a->s.len + 2 &&
                    memcmp(lit, a->s.p, a->s.len) == 0) {
                    sp = (struct lw_span){ sp.off + 1 + (uint32_t)off, off + 1 < a->s.len ? 2 : 1 };
                }
                lw_cerror(g->c, sp, "%s(): %s", b->name, err);
            }
        }
        if ((f == LW_FN_parse_time || f == LW_FN_format_time) && i == 2 && a->kind == N_STR) {
            const_zone(g, a);
        }
        if (a->kind == N_STR) {
            const char *e = lw_fn_check_const(f, i, a->s);
            if (e != NULL) lw_cerror(g->c, a->span, "%s(): %s", b->name, e);
        }
        if (t == TM(LW_T_REGEX) && want != 'r' && want != 'R' && want != 'q') {
            lw_cerror(g->c, a->span, "%s() does not take a regex as argument %d", b->name, i + 1);
            continue;
        }
        int st = lw_cg_single(t);
        if (st >= 0 && st != LW_T_REGEX && !lw_type_accepts(want, (enum lw_type)st)) {
            lw_cerror(g->c, a->span, "%s() cannot take %s as argument %d", b->name,
                      lw_type_name((enum lw_type)st), i + 1);
        }
    }
    return g->c->nerrs == before;
}

/* Captures' types ------------------------------------------------------------------------ */

static void
add_assigned(struct gen *g, struct lw_str name)
{
    if (name.p == NULL || lw_cg_is_assigned(g, name)) return;
    GROW(g, g->assigned, g->nassigned, g->capassigned);
    g->assigned[g->nassigned++] = name;
}

/* lw_cg_assigned: note every name that statements under n assign, declare with let or loop
 * over, so a capture of that name is not known to stay a string. */
void
lw_cg_assigned(struct gen *g, struct node *n)
{
    if (g->rdepth >= MAX_RDEPTH) return; /* code generation reports the depth */
    for (; n != NULL; n = n->next) {
        g->rdepth++;
        switch (n->kind) {
        case S_ASSIGN:
        case S_LET:
            add_assigned(g, n->s);
            break;
        case S_FOR:
        case N_COMP:
            add_assigned(g, n->s);
            if (n->i) add_assigned(g, n->s2);
            break;
        case S_SETPATH: {
            struct node *b = n->b;
            while (b->kind == N_GET || b->kind == N_INDEX)
                b = b->a;
            if (b->kind == N_VAR) add_assigned(g, b->s);
            break;
        }
        default:
            break;
        }
        if (n->kind != S_FN) {
            lw_cg_assigned(g, n->a);
            lw_cg_assigned(g, n->b);
            lw_cg_assigned(g, n->c);
            if (n->kind != N_PATH) lw_cg_assigned(g, n->kids);
        }
        g->rdepth--;
    }
}

bool
lw_cg_is_assigned(struct gen *g, struct lw_str name)
{
    for (uint32_t i = 0; i < g->nassigned; i++) {
        if (lw_str_eq(g->assigned[i], name)) return true;
    }
    return false;
}

/* lw_cg_check_capture_cmp: comparing a capture (a string or null) with a number never does
 * what was meant (< fails at run time, == is always false), and arithmetic with one fails on
 * every record (`bytes / 1024`): say how to convert it. */
void
lw_cg_check_capture_cmp(struct gen *g, struct node *n)
{
    const uint32_t cap = TM(LW_T_STR) | TM(LW_T_NULL);
    bool cmp = n->op >= T_EQ && n->op <= T_GE;
    for (int side = 0; side < 2; side++) {
        struct node *v = side ? n->b : n->a, *o = side ? n->a : n->b;
        if (v->kind != N_VAR || lw_cg_stype(g, v) != cap) continue;
        uint32_t t = lw_cg_stype(g, o);
        if ((t & TM_NUM) == 0 || (t & ~TM_NUM) != 0) continue;
        const char *conv = t == TM(LW_T_FLOAT) ? "float" : "int";
        const char *src = g->c->prog->src.p;
        struct lw_str ot = { src + o->span.off, o->span.len };
        struct lw_str op = { src + n->a->span.off + n->a->span.len,
                             n->b->span.off - (n->a->span.off + n->a->span.len) };
        while (op.len > 0 && (*op.p == ' ' || *op.p == '\t')) {
            op.p++;
            op.len--;
        }
        while (op.len > 0 && (op.p[op.len - 1] == ' ' || op.p[op.len - 1] == '\t'))
            op.len--;
        char what[200];
        if (cmp) {
            snprintf(what, sizeof what, "cannot compare the capture '%.*s' with a number",
                     (int)v->s.len, v->s.p);
        } else {
            snprintf(what, sizeof what, "cannot compute with the capture '%.*s' and a number",
                     (int)v->s.len, v->s.p);
        }
        if (ot.len > 40 || op.len > 3) {
            lw_cerror(g->c, n->span, "%s: a capture is a string or null; convert it with %s(%.*s)",
                      what, conv, (int)v->s.len, v->s.p);
        } else if (side == 0) {
            lw_cerror(g->c, n->span,
                      "%s: a capture is a string or null; write '%s(%.*s) %.*s %.*s'", what, conv,
                      (int)v->s.len, v->s.p, (int)op.len, op.p, (int)ot.len, ot.p);
        } else {
            lw_cerror(g->c, n->span,
                      "%s: a capture is a string or null; write '%.*s %.*s %s(%.*s)'", what,
                      (int)ot.len, ot.p, (int)op.len, op.p, conv, (int)v->s.len, v->s.p);
        }
        return;
    }
}

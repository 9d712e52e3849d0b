/* The compiler back half: name resolution, compile-time checks and code generation from the
 * AST (parse.c) to a struct lw_program. Registers are allocated as a stack: locals below,
 * temporaries above, freed at the end of each expression. Checks that need no record (unknown
 * function, arity, undefined variable, regex syntax, operations on literal types that can
 * never work) fail here, before any record is read. It holds the compiler's only setjmp.
 * Deviation from STYLE §2: name checks and code generation share this file (check.c would
 * duplicate the walk); the split can come when the checker grows flow analysis. */
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
#include "lw/vm.h"

#include "../lib/builtins_int.h"

#define MAXREGS 250
#define MAXVARS 256

/* Static type masks: one bit per enum lw_type. */
#define TM(t)  (1u << (t))
#define TM_ANY ((1u << LW_T_N) - 1 - TM(LW_T_REGEX))
#define TM_NUM (TM(LW_T_INT) | TM(LW_T_FLOAT))

struct var {
    struct lw_str name;
    uint8_t reg;
    uint16_t depth;
};

struct loop {
    int32_t start;   /* pc of NEXT (continue target) */
    int32_t *breaks; /* jumps to patch to the loop's exit */
    uint32_t nbreaks, cap;
    struct loop *outer;
};

struct gen {
    struct compiler *c;
    struct lw_ins *code;
    struct lw_span *spans;
    uint32_t ncode, capcode;
    struct lw_value *k;
    uint32_t nk, capk;
    struct lw_path *paths;
    uint32_t npaths, cappaths;
    struct lw_matchsite *sites;
    uint32_t nsites, capsites;
    struct lw_shape *shapes;
    uint32_t nshapes, capshapes;
    struct var vars[MAXVARS];
    uint32_t nvars;
    uint16_t depth;   /* block depth */
    uint32_t freereg; /* first free register */
    uint32_t maxreg;
    uint32_t ntry, maxtry;
    uint32_t niter, maxiter;
    struct loop *loop;
    uint32_t rdepth;          /* recursion depth of the tree walks, bounded (see deeper) */
    struct lw_grok_lib *grok; /* the built-in patterns, loaded at the first grok() without opts */
};

#define MAX_RDEPTH 1000

/* deeper: one more level of recursion over the tree; a long operator chain such as
 * 1+1+...+1 makes a deep tree that the parser built without recursing, so walks check. */
static void
deeper(struct gen *g, struct node *n)
{
    if (++g->rdepth > MAX_RDEPTH) {
        lw_cfail(g->c, n->span, "expression too deeply nested (%d levels at most)", MAX_RDEPTH);
    }
}

_Noreturn void
lw_cfail(struct compiler *c, struct lw_span span, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_diag_vset(c->d, &span, fmt, ap);
    va_end(ap);
    longjmp(c->jb, 1);
}

#define GROW(g, arr, n, cap)                                                                       \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            uint32_t ncap_ = (cap) ? (cap)*2 : 16;                                                 \
            (arr) = lw_arena_realloc(&(g)->c->ca, (arr), (cap) * sizeof *(arr),                    \
                                     ncap_ * sizeof *(arr));                                       \
            (cap) = ncap_;                                                                         \
        }                                                                                          \
    } while (0)

static int32_t
ins(struct gen *g, enum lw_op op, uint32_t a, uint32_t b, int32_t cc, struct lw_span sp)
{
    if (g->ncode == g->capcode) { /* spans grow with the code, one per instruction */
        uint32_t cap = g->capcode ? g->capcode * 2 : 64;
        g->code = lw_arena_realloc(&g->c->ca, g->code, g->capcode * sizeof *g->code,
                                   cap * sizeof *g->code);
        g->spans = lw_arena_realloc(&g->c->ca, g->spans, g->capcode * sizeof *g->spans,
                                    cap * sizeof *g->spans);
        g->capcode = cap;
    }
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
    int32_t pc = ins(g, LW_OP_JMP, 0, 0, 0, sp);
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

static uint32_t
reg_alloc(struct gen *g, struct lw_span sp)
{
    if (g->freereg >= MAXREGS) {
        lw_cfail(g->c, sp, "template too complex: more than %d live values", MAXREGS);
    }
    uint32_t r = g->freereg++;
    if (g->freereg > g->maxreg) g->maxreg = g->freereg;
    return r;
}

/* Variables ---------------------------------------------------------------------------- */

static struct var *
lookup(struct gen *g, struct lw_str name)
{
    for (uint32_t i = g->nvars; i-- > 0;) {
        if (lw_str_eq(g->vars[i].name, name)) return &g->vars[i];
    }
    return NULL;
}

static uint32_t
declare(struct gen *g, struct lw_str name, struct lw_span sp)
{
    if (g->nvars == MAXVARS) lw_cfail(g->c, sp, "too many variables (%d at most)", MAXVARS);
    uint32_t r = reg_alloc(g, sp);
    g->vars[g->nvars++] = (struct var){ name, (uint8_t)r, g->depth };
    return r;
}

static int find_builtin(struct lw_str name);

/* near: a name d edits from another is worth suggesting: equal in another case, or at most 2
 * edits and not more than half the name ("cuont" is count, "foo" is not now). */
static bool
near(size_t d, size_t len)
{
    return d == 0 || (d <= 2 && 2 * d <= len);
}

static _Noreturn void
undefined_var(struct gen *g, struct node *n)
{
    int nl = (int)n->s.len;
    int f = find_builtin(n->s);
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
static _Noreturn void
unknown_function(struct gen *g, struct node *n)
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
            lw_cfail(g->c,
                     (struct lw_span){ n->span.off + n->span.len - (uint32_t)(n->s2.len - i), 1 },
                     "unknown regex flag '%c' (known: i m s x u)", n->s2.p[i]);
        }
    }
    int err;
    PCRE2_SIZE erroff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)n->s.p, n->s.len, opts, &err, &erroff, NULL);
    if (code == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        lw_cfail(g->c, regex_span(g, n, erroff), "invalid regex: %s", (char *)msg);
    }
    bool jit = false;
    if (g->c->opts == NULL || g->c->opts->jit)
        jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    struct lw_regex *re = lw_arena_alloc(&p->arena, sizeof *re);
    uint32_t cap = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &cap);
    *re = (struct lw_regex){ .code = code,
                             .ngroups = cap,
                             .jit = jit,
                             .src = { lw_arena_dup(&p->arena, n->s.p, n->s.len), n->s.len } };
    regex_names(p, re);
    p->regexes = lw_arena_realloc(&p->arena, p->regexes, p->nregexes * sizeof *p->regexes,
                                  (p->nregexes + 1) * sizeof *p->regexes);
    p->regexes[p->nregexes++] = re;
    if (cap + 1 > p->max_groups) p->max_groups = cap + 1;
    return re;
}

/* The regex of a node is compiled once: nodes are visited twice (declare, then generate). */
static struct lw_regex *
node_regex(struct gen *g, struct node *n)
{
    if (n->c == NULL) n->c = (struct node *)(void *)regex(g, n);
    return (struct lw_regex *)(void *)n->c;
}

/* declare_captures: a match(s, /re/) in the expressions of a statement declares its named
 * groups as variables of the current block, before the statement runs. When the match may be
 * skipped (cond: under the right of && or ||, a branch of ?:, either side of ??, an elif
 * condition), a new variable is set to null here, so that it never holds a stale register. */
static void
declare_captures_in(struct gen *g, struct node *n, bool cond)
{
    if (n == NULL) return;
    deeper(g, n);
    if (n->kind == N_CALL && lw_str_eq(n->s, LW_STR_LIT("match")) && n->nkids == 2 &&
        n->kids->next->kind == N_REGEX) {
        struct lw_regex *re = node_regex(g, n->kids->next);
        for (uint32_t i = 0; i < re->nnames; i++) {
            if (lookup(g, re->names[i].name) == NULL) {
                uint32_t reg = declare(g, re->names[i].name, n->kids->next->span);
                if (cond) ins(g, LW_OP_LOADNULL, reg, 0, 0, n->span);
            }
        }
    }
    if (n->kind >= S_LET) { /* nested statements declare their own */
        g->rdepth--;
        return;
    }
    bool sub = cond || n->kind == N_COND || n->kind == N_DEFAULT;
    for (struct node *k = n->kids; k != NULL; k = k->next)
        declare_captures_in(g, k, cond);
    declare_captures_in(g, n->a, cond || n->kind == N_DEFAULT);
    declare_captures_in(g, n->b, sub || n->kind == N_AND || n->kind == N_OR);
    if (n->kind != N_REGEX) declare_captures_in(g, n->c, sub);
    g->rdepth--;
}

static void
declare_captures(struct gen *g, struct node *n)
{
    declare_captures_in(g, n, false);
}

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

static int
find_builtin(struct lw_str name)
{
    for (int i = 0; i < LW_FN_N; i++) {
        if (lw_str_eq(name, lw_str_c(lw_builtins[i].name))) return i;
    }
    return -1;
}

static uint32_t stype(struct gen *g, struct node *n);

static struct lw_value
sample(enum lw_type t)
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

static int
single(uint32_t m)
{
    return m != 0 && (m & (m - 1)) == 0 ? __builtin_ctz(m) : -1;
}

static uint32_t
arith_type(struct gen *g, struct node *n, bool check)
{
    uint32_t a = stype(g, n->a), b = stype(g, n->b);
    int ta = single(a), tb = single(b);
    if (ta >= 0 && tb >= 0 && ta != LW_T_ARR && ta != LW_T_OBJ && tb != LW_T_ARR &&
        tb != LW_T_OBJ) {
        struct lw_value x = sample((enum lw_type)ta), y = sample((enum lw_type)tb), r;
        char err[128];
        static const char ops[] = {
            [T_PLUS] = '+', [T_MINUS] = '-', [T_STAR] = '*', [T_SLASH] = '/', [T_PERCENT] = '%'
        };
        if (lw_value_arith(ops[n->op], &x, &y, &r, &g->c->ca, err, sizeof err) != 0) {
            if (check) lw_cfail(g->c, n->span, "%s", err);
            return TM_ANY;
        }
        return TM(r.t);
    }
    if ((a | b) & ~TM_NUM) return TM_ANY;
    return (a == TM(LW_T_INT) && b == TM(LW_T_INT)) ? TM(LW_T_INT) : TM_NUM;
}

static uint32_t stype1(struct gen *g, struct node *n);

/* stype: the set of types n can have. Cached in the node: without the cache, checks that ask
 * for the types of subtrees at every level made compiling a chain of operators exponential. */
static uint32_t
stype(struct gen *g, struct node *n)
{
    if (n->stype != 0) return n->stype;
    deeper(g, n);
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
    case N_UNARY:
        if (n->op == T_NOT) return TM(LW_T_BOOL);
        return stype(g, n->a) & TM_NUM ? stype(g, n->a) & TM_NUM : TM_ANY; /* cached: once */
    case N_BINARY:
        if (n->op >= T_EQ && n->op <= T_GE) return TM(LW_T_BOOL);
        return arith_type(g, n, false);
    case N_COND:
        return stype(g, n->b) | stype(g, n->c);
    case N_DEFAULT:
        return (stype(g, n->a) & ~TM(LW_T_NULL)) | stype(g, n->b);
    case N_CALL: {
        int f = find_builtin(n->s);
        if (f < 0) return TM_ANY;
        char r = lw_builtins[f].ret;
        if (r == 'n') {
            uint32_t t = n->kids ? stype(g, n->kids) : TM_NUM;
            return t & TM_NUM ? t & TM_NUM : TM_NUM;
        }
        return letter_mask(r);
    }
    default:
        return TM_ANY;
    }
}

/* Code generation ------------------------------------------------------------------------ */

static void expr_to(struct gen *g, struct node *n, uint32_t dst);
static void block(struct gen *g, struct node *n);

static uint32_t
expr_any(struct gen *g, struct node *n)
{
    if (n->kind == N_VAR) {
        struct var *v = lookup(g, n->s);
        if (v == NULL) undefined_var(g, n);
        return v->reg;
    }
    uint32_t r = reg_alloc(g, n->span);
    expr_to(g, n, r);
    return r;
}

static uint32_t
add_path(struct gen *g, struct node *n)
{
    struct lw_program *p = g->c->prog;
    struct lw_path path = { .n = n->nsegs, .top = -1 };
    path.seg = lw_arena_alloc(&p->arena, n->nsegs * sizeof *path.seg + 1);
    for (uint32_t i = 0; i < n->nsegs; i++) {
        path.seg[i] = n->segs[i];
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
    struct lw_tz *z = lw_tz_load(name, a->s.len, err, sizeof err);
    if (z == NULL) lw_cfail(g->c, a->span, "%s", err);
    p->zones = lw_arena_realloc(&p->arena, p->zones, p->nzones * sizeof *p->zones,
                                (p->nzones + 1) * sizeof *p->zones);
    p->zones[p->nzones++] = z;
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

static void
add_regex(struct gen *g, struct lw_regex *re)
{
    struct lw_program *p = g->c->prog;
    p->regexes = lw_arena_realloc(&p->arena, p->regexes, p->nregexes * sizeof *p->regexes,
                                  (p->nregexes + 1) * sizeof *p->regexes);
    p->regexes[p->nregexes++] = re;
    if (re->ngroups + 1 > p->max_groups) p->max_groups = re->ngroups + 1;
}

static struct lw_value
grok_pattern(struct gen *g, struct node *a)
{
    struct lw_program *p = g->c->prog;
    const struct lw_grok_lib *lib = g->c->opts ? g->c->opts->grok : NULL;
    if (lib == NULL) {
        if (g->grok == NULL) {
            g->grok = lw_arena_alloc(&g->c->ca, sizeof *g->grok);
            lw_grok_lib_init(g->grok, &g->c->ca);
            lw_grok_lib_builtin(g->grok);
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
        if (lw_grok_compile_alt(lib, pat, jit, &p->arena, &gk->alts[i], err, sizeof err, &off) !=
            0) {
            lw_cfail(g->c, lit_span(g, one, off), "grok(): %s", err);
        }
        add_regex(g, gk->alts[i].re);
    }
    return (struct lw_value){ .t = LW_T_REGEX, .flags = LW_V_GROK, .u.ext = gk };
}

static struct lw_value
dissect_pattern(struct gen *g, struct node *a)
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
static void
check_pattern(struct gen *g, struct node *a, int f)
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

static void
check_args(struct gen *g, struct node *n, int f)
{
    const struct lw_builtin *b = &lw_builtins[f];
    if ((int)n->nkids < b->min || (int)n->nkids > b->max) {
        if (b->min == b->max) {
            lw_cfail(g->c, n->span, "%s() takes %d argument%s, found %u", b->name, b->min,
                     b->min == 1 ? "" : "s", n->nkids);
        }
        lw_cfail(g->c, n->span, "%s() takes %d to %d arguments, found %u", b->name, b->min, b->max,
                 n->nkids);
    }
    int i = 0;
    for (struct node *a = n->kids; a != NULL; a = a->next, i++) {
        char want = lw_builtin_argtype(b, i);
        if (want == 'P') {
            check_pattern(g, a, f);
            continue;
        }
        uint32_t t = stype(g, a);
        if (want == 'R' && a->kind != N_REGEX) {
            lw_cfail(g->c, a->span, "%s() needs a regex literal like /(?<name>...)/ here", b->name);
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
                lw_cfail(g->c, sp, "%s(): %s", b->name, err);
            }
        }
        if ((f == LW_FN_parse_time || f == LW_FN_format_time) && i == 2 && a->kind == N_STR) {
            const_zone(g, a);
        }
        if (a->kind == N_STR) {
            const char *e = lw_fn_check_const(f, i, a->s);
            if (e != NULL) lw_cfail(g->c, a->span, "%s(): %s", b->name, e);
        }
        if (t == TM(LW_T_REGEX) && want != 'r' && want != 'R') {
            lw_cfail(g->c, a->span, "%s() does not take a regex as argument %d", b->name, i + 1);
        }
        int st = single(t);
        if (st >= 0 && st != LW_T_REGEX && !lw_type_accepts(want, (enum lw_type)st)) {
            lw_cfail(g->c, a->span, "%s() cannot take %s as argument %d", b->name,
                     lw_type_name((enum lw_type)st), i + 1);
        }
    }
}

static void
call(struct gen *g, struct node *n, uint32_t dst)
{
    int f = find_builtin(n->s);
    if (f < 0) unknown_function(g, n);
    check_args(g, n, f);
    uint32_t save = g->freereg;
    if (f == LW_FN_exists) {
        if (n->kids->kind != N_PATH) {
            lw_cfail(g->c, n->kids->span, "exists() takes a record path like .a.b");
        }
        ins(g, LW_OP_EXISTS, dst, add_path(g, n->kids), 0, n->span);
        return;
    }
    if (f == LW_FN_match && n->kids->next->kind == N_REGEX) {
        struct lw_regex *re = node_regex(g, n->kids->next);
        struct lw_program *p = g->c->prog;
        uint32_t subj = expr_any(g, n->kids);
        struct lw_matchsite site = { .re = re };
        site.group = lw_arena_alloc(&p->arena, (re->nnames + 1) * sizeof *site.group);
        site.reg = lw_arena_alloc(&p->arena, re->nnames + 1);
        for (uint32_t i = 0; i < re->nnames; i++) {
            struct var *v = lookup(g, re->names[i].name);
            assert(v != NULL); /* declare_captures ran first */
            site.group[site.n] = re->names[i].group;
            site.reg[site.n++] = v->reg;
        }
        GROW(g, g->sites, g->nsites, g->capsites);
        g->sites[g->nsites] = site;
        ins(g, LW_OP_MATCH, dst, subj, (int32_t)g->nsites++, n->span);
        g->freereg = save;
        return;
    }
    if (f == LW_FN_match) {
        lw_cfail(g->c, n->kids->next->span,
                 "match() needs a regex literal like /(?<name>...)/ so it is compiled once");
    }
    /* Arguments go to fresh registers, or start at dst when dst is a temporary on top of the
     * stack; never at a variable's register, which an argument may still read. */
    bool dst_is_var = false;
    for (uint32_t i = 0; i < g->nvars; i++)
        dst_is_var |= g->vars[i].reg == dst;
    uint32_t base = dst + 1 == g->freereg && !dst_is_var ? dst : g->freereg;
    if (base != dst || n->nkids == 0) {
        if (base == g->freereg) reg_alloc(g, n->span);
    }
    uint32_t i = 0;
    for (struct node *a = n->kids; a != NULL; a = a->next, i++) {
        if (base + i >= g->freereg) reg_alloc(g, a->span);
        if (lw_builtin_argtype(&lw_builtins[f], (int)i) == 'P') {
            struct lw_value pv = f == LW_FN_grok ? grok_pattern(g, a) : dissect_pattern(g, a);
            ins(g, LW_OP_LOADK, base + i, konst(g, pv, a->span), 0, a->span);
        } else if (a->kind == N_REGEX) {
            struct lw_value rv = { .t = LW_T_REGEX, .u.re = node_regex(g, a) };
            ins(g, LW_OP_LOADK, base + i, konst(g, rv, a->span), 0, a->span);
        } else {
            expr_to(g, a, base + i);
        }
    }
    ins(g, LW_OP_CALL, base, (uint32_t)f, (int32_t)n->nkids, n->span);
    if (base != dst) ins(g, LW_OP_MOVE, dst, base, 0, n->span);
    g->freereg = save;
}

static void
binary(struct gen *g, struct node *n, uint32_t dst)
{
    static const enum lw_op ops[] = {
        [T_PLUS] = LW_OP_ADD,    [T_MINUS] = LW_OP_SUB, [T_STAR] = LW_OP_MUL, [T_SLASH] = LW_OP_DIV,
        [T_PERCENT] = LW_OP_MOD, [T_EQ] = LW_OP_EQ,     [T_NE] = LW_OP_NE,    [T_LT] = LW_OP_LT,
        [T_LE] = LW_OP_LE,       [T_GT] = LW_OP_GT,     [T_GE] = LW_OP_GE,
    };
    if (n->op >= T_LT && n->op <= T_GE) {
        int ta = single(stype(g, n->a)), tb = single(stype(g, n->b)), r;
        if (ta >= 0 && tb >= 0) {
            struct lw_value x = sample((enum lw_type)ta), y = sample((enum lw_type)tb);
            if (lw_value_compare(&x, &y, &r, &g->c->ca) != 0) {
                lw_cfail(g->c, n->span, "cannot compare %s with %s", lw_type_name(x.t),
                         lw_type_name(y.t));
            }
        }
    } else if (n->op < T_EQ) {
        arith_type(g, n, true);
    }
    uint32_t save = g->freereg;
    uint32_t b = expr_any(g, n->a);
    uint32_t c = expr_any(g, n->b);
    ins(g, ops[n->op], dst, b, (int32_t)c, n->span);
    g->freereg = save;
}

static void
logic(struct gen *g, struct node *n, uint32_t dst)
{
    expr_to(g, n->a, dst);
    ins(g, LW_OP_TRUTH, dst, dst, 0, n->a->span);
    int32_t j = ins(g, n->kind == N_AND ? LW_OP_JMPF : LW_OP_JMPT, dst, 0, 0, n->span);
    expr_to(g, n->b, dst);
    ins(g, LW_OP_TRUTH, dst, dst, 0, n->b->span);
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
    ins(g, LW_OP_LOADK, dst, konst(g, a, n->span), 0, n->span);
    return true;
}

static void
container(struct gen *g, struct node *n, uint32_t dst)
{
    uint32_t save = g->freereg;
    if (n->kind == N_ARRAY && n->nkids > 0 && const_array(g, n, dst)) return;
    if (n->kind == N_ARRAY) {
        ins(g, LW_OP_NEWARR, dst, n->nkids, 0, n->span);
        for (struct node *k = n->kids; k != NULL; k = k->next) {
            ins(g, LW_OP_APPEND, dst, expr_any(g, k), 0, k->span);
            g->freereg = save;
        }
        return;
    }
    ins(g, LW_OP_NEWOBJ, dst, shape(g, n), 0, n->span);
    for (struct node *k = n->kids; k != NULL; k = k->next) {
        uint32_t v = expr_any(g, k->a);
        ins(g, LW_OP_ADDV, dst, v, 0, k->span);
        g->freereg = save;
    }
}

static void
interp(struct gen *g, struct node *n, uint32_t dst)
{
    uint32_t save = g->freereg, base = g->freereg;
    for (uint32_t i = 0; i < n->nkids; i++)
        reg_alloc(g, n->span);
    uint32_t i = 0;
    for (struct node *k = n->kids; k != NULL; k = k->next, i++) {
        if (stype(g, k) == TM(LW_T_REGEX)) lw_cfail(g->c, k->span, "a regex has no text form");
        expr_to(g, k, base + i);
    }
    ins(g, LW_OP_CONCAT, dst, base, (int32_t)n->nkids, n->span);
    g->freereg = save;
}

static void
expr_to(struct gen *g, struct node *n, uint32_t dst)
{
    uint32_t save = g->freereg;
    deeper(g, n);
    switch (n->kind) {
    case N_NULL:
        ins(g, LW_OP_LOADNULL, dst, 0, 0, n->span);
        break;
    case N_BOOL:
        ins(g, LW_OP_LOADK, dst, konst(g, lw_bool(n->i != 0), n->span), 0, n->span);
        break;
    case N_INT:
        if (n->big) {
            lw_cfail(g->c, n->span, "integer literal out of range: the largest int is %lld",
                     (long long)INT64_MAX);
        }
        ins(g, LW_OP_LOADK, dst, konst(g, lw_int(n->i), n->span), 0, n->span);
        break;
    case N_FLOAT:
        ins(g, LW_OP_LOADK, dst, konst(g, lw_float(n->f), n->span), 0, n->span);
        break;
    case N_STR:
        ins(g, LW_OP_LOADK, dst, kstr(g, n->s, n->span), 0, n->span);
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
    case N_VAR: {
        struct var *v = lookup(g, n->s);
        if (v == NULL) undefined_var(g, n);
        if (v->reg != dst) ins(g, LW_OP_MOVE, dst, v->reg, 0, n->span);
        break;
    }
    case N_LINE:
        ins(g, LW_OP_LINE, dst, 0, 0, n->span);
        break;
    case N_META:
        ins(g, LW_OP_META, dst, 0, 0, n->span);
        g->c->prog->uses_meta = true;
        break;
    case N_PATH:
        if (n->nsegs == 0)
            ins(g, LW_OP_ROOT, dst, 0, 0, n->span);
        else
            ins(g, LW_OP_PATH, dst, add_path(g, n), 0, n->span);
        break;
    case N_GET: {
        uint32_t b = expr_any(g, n->a);
        ins(g, LW_OP_GETK, dst, b, (int32_t)kstr(g, n->s, n->span), n->span);
        break;
    }
    case N_INDEX: {
        uint32_t b = expr_any(g, n->a);
        uint32_t c = expr_any(g, n->b);
        ins(g, LW_OP_INDEX, dst, b, (int32_t)c, n->span);
        break;
    }
    case N_CALL:
        call(g, n, dst);
        break;
    case N_UNARY: {
        if (n->op == T_MINUS) {
            int t = single(stype(g, n->a));
            if (t >= 0 && t != LW_T_INT && t != LW_T_FLOAT) {
                lw_cfail(g->c, n->span, "cannot negate %s", lw_type_name((enum lw_type)t));
            }
        }
        uint32_t b = expr_any(g, n->a);
        ins(g, n->op == T_NOT ? LW_OP_NOT : LW_OP_NEG, dst, b, 0, n->span);
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
        int32_t jf = ins(g, LW_OP_JMPF, dst, 0, 0, n->a->span);
        expr_to(g, n->b, dst);
        int32_t je = ins(g, LW_OP_JMP, 0, 0, 0, n->span);
        patch(g, jf);
        expr_to(g, n->c, dst);
        patch(g, je);
        break;
    }
    case N_DEFAULT: {
        if (++g->ntry > g->maxtry) g->maxtry = g->ntry;
        int32_t t = ins(g, LW_OP_TRY, 0, 0, 0, n->span);
        expr_to(g, n->a, dst);
        ins(g, LW_OP_ENDTRY, 0, 0, 0, n->span);
        g->ntry--;
        int32_t jn = ins(g, LW_OP_JMPNN, dst, 0, 0, n->span);
        patch(g, t);
        expr_to(g, n->b, dst);
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
    case N_OBJECT: {
        uint32_t save = g->freereg, t = reg_alloc(g, val->span);
        expr_to(g, val, t);
        if (t != reg) ins(g, LW_OP_MOVE, reg, t, 0, val->span); /* t == reg: a new variable */
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
    int32_t jf = ins(g, LW_OP_JMPF, r, 0, 0, n->a->span);
    g->freereg = save;
    block(g, n->b);
    if (n->c == NULL) {
        patch(g, jf);
        return;
    }
    int32_t je = ins(g, LW_OP_JMP, 0, 0, 0, n->span);
    patch(g, jf);
    if (n->c->kind == S_IF) {
        declare_captures(g, n->c->a);
        if_stmt(g, n->c);
    } else {
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
    ins(g, LW_OP_ITER, slot, cont, 0, n->a->span);
    g->depth++;
    struct lw_str keyname = n->i ? n->s2 : LW_STR_LIT(" key");
    uint32_t kreg = declare(g, keyname, n->span);
    declare(g, n->s, n->span);
    if (n->i && lw_str_eq(n->s, n->s2)) {
        lw_cfail(g->c, n->span, "the key and value variables need different names");
    }
    struct loop lp = { .outer = g->loop };
    lp.start = ins(g, LW_OP_NEXT, kreg, slot, 0, n->span);
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

static void
stmt(struct gen *g, struct node *n)
{
    uint32_t save = g->freereg;
    declare_captures(g, n->a);
    /* the captures of elif conditions are variables of this block too, null when not reached */
    for (struct node *e = n->kind == S_IF ? n->c : NULL; e != NULL && e->kind == S_IF; e = e->c)
        declare_captures_in(g, e->a, true);
    save = g->freereg; /* captures declared above stay allocated */
    switch (n->kind) {
    case S_LET: {
        if (lw_str_eq(n->s, LW_STR_LIT("line"))) {
            lw_cfail(g->c, n->span, "'line' is the record's text and cannot be redeclared");
        }
        if (lw_str_eq(n->s, LW_STR_LIT("meta"))) {
            lw_cfail(g->c, n->span, "'meta' is the record's metadata and cannot be redeclared");
        }
        struct var *v = lookup(g, n->s);
        uint32_t reg;
        if (v != NULL && v->depth == g->depth) {
            reg = v->reg; /* let again in the same block: a new value, the same variable */
        } else {
            uint32_t t = reg_alloc(g, n->span); /* evaluate before the name is visible */
            g->freereg = t;
            assign(g, n->a, t);
            g->freereg = t;
            reg = declare(g, n->s, n->span);
            save = g->freereg;
            break;
        }
        assign(g, n->a, reg);
        break;
    }
    case S_ASSIGN: {
        struct var *v = lookup(g, n->s);
        if (v == NULL) {
            lw_cfail(g->c, n->span,
                     "assignment to undeclared variable '%.*s': use 'let %.*s = ...' first",
                     (int)n->s.len, n->s.p, (int)n->s.len, n->s.p);
        }
        assign(g, n->a, v->reg);
        break;
    }
    case S_SETPATH: {
        uint32_t r = expr_any(g, n->a);
        ins(g, LW_OP_SETPATH, r, add_path(g, n), 0, n->span);
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
            lp->breaks[lp->nbreaks++] = ins(g, LW_OP_JMP, 0, 0, 0, n->span);
        }
        break;
    case S_EMIT: {
        uint32_t r = reg_alloc(g, n->span);
        if (n->a)
            expr_to(g, n->a, r);
        else
            ins(g, LW_OP_ROOT, r, 0, 0, n->span);
        if (n->b == NULL && n->c == NULL && n->kids == NULL) {
            ins(g, LW_OP_EMIT, r, 0, 0, n->span);
            break;
        }
        struct node *route[3] = { n->b, n->c, n->kids }; /* R[r+1..r+3]: topic, key, headers */
        for (int i = 0; i < 3; i++) {
            uint32_t ri = reg_alloc(g, n->span);
            if (route[i] == NULL)
                ins(g, LW_OP_LOADK, ri, (uint32_t)konst(g, LW_NULL, n->span), 0, n->span);
            else
                expr_to(g, route[i], ri);
        }
        ins(g, LW_OP_EMITTO, r, 0, 0, n->span);
        break;
    }
    case S_PRINT:
    case S_REJECT: {
        uint32_t r = expr_any(g, n->a);
        ins(g, n->kind == S_PRINT ? LW_OP_PRINT : LW_OP_REJECT, r, 0, 0, n->span);
        break;
    }
    case S_DROP:
        ins(g, LW_OP_DROP, 0, 0, 0, n->span);
        break;
    case S_EXPR: {
        uint32_t r = reg_alloc(g, n->span);
        expr_to(g, n->a, r);
        break;
    }
    case S_BLOCK:
        block(g, n);
        break;
    default:
        lw_cfail(g->c, n->span, "internal error: expression where a statement belongs");
    }
    g->freereg = save;
}

static void
block(struct gen *g, struct node *n)
{
    uint32_t savevars = g->nvars, save = g->freereg;
    g->depth++;
    for (struct node *s = n->kids; s != NULL; s = s->next)
        stmt(g, s);
    g->depth--;
    g->nvars = savevars;
    g->freereg = save;
}

static bool
has_output(struct node *n)
{
    for (; n != NULL; n = n->next) {
        if (n->kind == S_EMIT || n->kind == S_PRINT) return true;
        if (n->kind >= S_LET && (has_output(n->kids) || has_output(n->b) || has_output(n->c)))
            return true;
    }
    return false;
}

static void
finish(struct gen *g, struct node *root)
{
    struct lw_program *p = g->c->prog;
    p->implicit_emit = !has_output(root->kids);
    if (p->implicit_emit) {
        uint32_t r = reg_alloc(g, root->span);
        ins(g, LW_OP_ROOT, r, 0, 0, root->span);
        ins(g, LW_OP_EMIT, r, 0, 0, root->span);
    }
    ins(g, LW_OP_HALT, 0, 0, 0, (struct lw_span){ (uint32_t)p->src.len, 0 });
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
    p->nregs = g->maxreg + 1;
    p->ntry = g->maxtry;
    p->niters = g->maxiter;
}

struct lw_program *
lw_compile(struct lw_str name, struct lw_str src, const struct lw_compile_opts *o,
           struct lw_diag *d)
{
    struct compiler c = { .d = d, .opts = o };
    struct lw_program *p = lw_xcalloc(1, sizeof *p);
    lw_arena_init(&p->arena, 16 * 1024);
    p->name = (struct lw_str){ lw_arena_dup(&p->arena, name.p, name.len), name.len };
    p->src = (struct lw_str){ lw_arena_dup(&p->arena, src.p, src.len), src.len };
    p->max_groups = 1;
    c.prog = p;
    lw_arena_init(&c.ca, 64 * 1024);
    /* volatile: read after longjmp */
    struct gen *volatile g = lw_arena_alloc(&c.ca, sizeof *g);
    *g = (struct gen){ .c = &c };
    if (setjmp(c.jb) != 0) {
        lw_arena_fini(&c.ca);
        lw_program_free(p);
        return NULL;
    }
    lw_lex_init(&c.lx, p->src, 0, p->src.len);
    struct node *root = lw_parse(&c);
    block(g, root);
    finish(g, root);
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
    lw_arena_fini(&p->arena);
    free(p);
}

/* Internal to the compiler (lex.c, parse.c, and the back half: compile.c, names.c, types.c,
 * patterns.c): tokens, the AST, the compiler state, and the code generator's state (struct gen)
 * with the functions those four files share (lw_cg_*). All of it lives in the compile arena
 * and dies at the end of lw_compile. */
#ifndef LW_COMPILE_INT_H
#define LW_COMPILE_INT_H

#include <setjmp.h>
#include <stdbool.h>

#include "lw/program.h"

enum tok {
    T_EOF,
    T_IDENT,
    T_INT,
    T_FLOAT,
    T_STRING,   /* "..." with escapes and ${} */
    T_RAWSTR,   /* '...' verbatim */
    T_REGEX,    /* /.../flags */
    T_DURATION, /* 10m, 1h30m, 250ms: a duration literal (the string of its text) */
    T_DOT,
    T_LBRACE,
    T_RBRACE,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_COLON,
    T_SEMI,
    T_QUESTION,
    T_DEFAULT, /* ?? */
    T_ASSIGN,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_PERCENT,
    T_FLOORDIV, /* // */
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NOT,
    T_ERROR, /* a malformed token, already reported by the lexer */
    /* keywords */
    T_LET,
    T_IF,
    T_ELIF,
    T_ELSE,
    T_FOR,
    T_IN,
    T_BREAK,
    T_CONTINUE,
    T_EMIT,
    T_DROP,
    T_REJECT,
    T_PRINT,
    T_TRUE,
    T_FALSE,
    T_NULL,
    T_INPUT,
    T_FN,
    T_RETURN,
    T_IMPORT,
};

struct token {
    enum tok t;
    bool nl_before; /* a newline separates it from the previous token */
    uint32_t depth; /* brackets ( [ { open before it (for the parser's recovery) */
    struct lw_span span;
};

enum node_kind {
    /* expressions */
    N_NULL,
    N_BOOL,
    N_INT,
    N_FLOAT,
    N_STR,    /* constant string (already unescaped) */
    N_INTERP, /* "a${x}b": list of parts in kids */
    N_REGEX,
    N_ARRAY,
    N_OBJECT, /* kids are N_PAIR */
    N_PAIR,   /* s = key, a = value */
    N_VAR,
    N_LINE,
    N_META,
    N_PATH, /* .a.b[0]; path segments in segs */
    N_GET,  /* a.s */
    N_INDEX,
    N_CALL, /* s = name, kids = args */
    N_UNARY,
    N_BINARY,
    N_AND,
    N_OR,
    N_COND,
    N_DEFAULT,
    N_COMP,  /* [a for s2, s in kids if c] (b NULL), {a: b for ...}: s = value var, s2 = key var
               (i = 1 when there is one), kids = the iterable, c = the condition or NULL;
               op is T_LBRACK or T_LBRACE */
    N_ERROR, /* an expression that did not parse or lex (reported): any type */
    /* statements */
    S_LET,
    S_ASSIGN,  /* s = name, a = value */
    S_SETPATH, /* b = target (a path, or a variable with members and indexes), a = value */
    S_IF,      /* a = cond, b = then block, c = else (block or S_IF) */
    S_FOR,     /* s = value var, s2 = key var (or none), a = iterable, b = block */
    S_BREAK,
    S_CONTINUE,
    S_EMIT, /* a = value or NULL (emit .); b, c, kids: to, key, headers clauses or NULL */
    S_DROP,
    S_REJECT,
    S_PRINT,
    S_EXPR,
    S_BLOCK,  /* kids */
    S_FN,     /* s = name, kids = the parameters (N_VAR), b = the body; top level only */
    S_RETURN, /* a = value or NULL */
    S_IMPORT, /* s = the file name as written; top level only */
    S_WINDOW, /* window KIND SIZE [every STEP] [at a] [late L] [key b] [to T] { NAME = AGG(ARG) ...
                 }: s = KIND, i = size in ns, f = step in ns, c = an N_INT whose i is the lateness
                 in ns and whose a is the `to` topic or NULL, kids = the aggregates (N_CALL: s =
                 AGG, s2 = NAME, kids = its args) */
    S_ERROR,  /* a statement that did not parse (reported): its span is the text skipped */
};

struct node {
    enum node_kind kind;
    enum tok op; /* N_UNARY, N_BINARY */
    struct lw_span span;
    struct node *a, *b, *c;
    struct node *kids; /* list through next */
    struct node *next;
    struct lw_str s, s2;
    int64_t i;
    double f;
    uint32_t nkids;
    struct lw_pathseg *segs;
    uint32_t nsegs;
    bool big;       /* N_INT: the literal 9223372036854775808, valid only after a minus */
    bool broken;    /* S_FN whose header did not parse: calls to it are not checked */
    uint32_t stype; /* static type mask, computed once (compile.c), 0 until then */
};

struct lexer {
    struct lw_str src;
    size_t pos;
    struct token tok, prev;
    uint32_t depth;  /* brackets open after tok */
    uint64_t braces; /* bit d % 64: the bracket that opened depth d + 1 is a '{' */
    bool quiet;      /* malformed tokens are not reported (import.c's scan; the parser will) */
    bool ml_kw;      /* the token is `multiline` at the start of a statement */
    bool ml_word;    /* ... and `start` or `continue` after it: a '/' next starts a regex */
};

/* A file of the template: the template itself (0) and each imported file, in the order found.
 * All texts are one buffer (prog->src), file i at [base, base + len): spans are offsets in it. */
struct srcfile {
    struct lw_str name; /* as messages show it: the template's name, or DIR/NAME of an import */
    struct lw_str dir;  /* where its own imports are looked up first; {NULL,0}: nowhere */
    uint32_t base, len;
    int32_t parent;    /* the file that imported it first, -1 for the template */
    struct lw_span at; /* the import's name in the parent */
    uint64_t dev, ino; /* identity, for cycles and files imported twice */
    bool loading;      /* its imports are being loaded: importing it again is a cycle */
    struct node *root; /* its statements, once parsed */
};

/* A user function (fn), in the one namespace of the template and everything it imports. */
struct ufunc {
    struct node *def; /* S_FN */
    uint32_t file;
};

#define MAXFILES  64
#define MAXFUNCS  1024
#define MAXPARAMS 32
#define MAXERRORS 20 /* default of lw_compile_opts.max_errors */

/* A compile error, kept until every error of the template is known. */
struct cerr {
    struct lw_span span;
    bool has_span;
    char msg[512];
};

struct compiler {
    jmp_buf jb;       /* lw_compile's: the end of the compilation (and out of memory) */
    jmp_buf *recover; /* where lw_cfail goes: jb, or a statement's recovery point */
    struct cerr *errs;
    uint32_t nerrs, maxerrs;
    bool more;          /* an error past maxerrs ended the compilation */
    bool parsing;       /* the parser runs: stmt_bad applies */
    bool stmt_bad;      /* the statement being parsed had an error: what fails next is quiet */
    bool import_failed; /* an import failed: a function it may define is not called unknown */
    struct lw_str let_name, fn_name; /* the let or fn being parsed, once its name is read */
    uint32_t in_sub;                 /* "${...}" parts being parsed, nested */
    bool esc_told;                   /* the string literal being decoded had a bad escape */
    struct lexer outer;              /* the lexer of the file, while in_sub > 0 */
    struct lw_str text;              /* every file's text (prog->src once all files are read) */
    struct lw_diag *d;
    struct lw_arena ca; /* compile arena */
    struct lexer lx;
    uint32_t nesting;  /* parser recursion depth, bounded so no template can exhaust the stack */
    uint32_t brackets; /* open ( [ { of expressions: inside them a newline ends nothing */
    char pattern_arg;  /* parsing a call's argument that is a grok pattern ('g') or regex ('r') */
    struct lw_program *prog;
    const struct lw_compile_opts *opts;
    struct srcfile *files;
    uint32_t nfiles;
    uint32_t file; /* the file being parsed */
    struct ufunc *funcs;
    uint32_t nfuncs;
};

/* Errors. lw_cfail records an error at span and longjmps to c->recover: the recovery point of
 * the statement being parsed or compiled (which skips it and goes on with the next one), or
 * the end of lw_compile. lw_cerror records one and returns, where the caller can go on as if
 * the code were right. Neither records a second error at the same place, nor (lw_cfail) one
 * in a statement whose parse already failed (a follow-on error). Past c->maxerrs errors,
 * both end the compilation. */
_Noreturn void lw_cfail(struct compiler *c, struct lw_span span, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lw_cerror(struct compiler *c, struct lw_span span, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* lw_lex_reserved: name is a keyword, or line or meta: no variable can have it. */
bool lw_lex_reserved(struct lw_str name);
void lw_lex_init(struct lexer *lx, struct lw_str src, size_t start, size_t end);
/* lw_lex_next: advance c->lx.tok to the next token. */
void lw_lex_next(struct compiler *c, struct lexer *lx);

/* lw_parse: the whole file c->file (lexer already set on its text) as an S_BLOCK. */
struct node *lw_parse(struct compiler *c);

/* import.c: read the files the template imports (recursively) into c->files and prog->src,
 * before anything is parsed. */
void lw_import_load(struct compiler *c);
/* lw_import_file: the file that holds byte off of prog->src. */
uint32_t lw_import_file(const struct compiler *c, uint32_t off);

/* ---- the code generator (compile.c) and the files it calls: names.c, types.c, patterns.c ---- */

#define MAXREGS 250
#define MAXVARS 256

/* Static type masks: one bit per enum lw_type. */
#define TM(t)  (1u << (t))
#define TM_ANY ((1u << LW_T_N) - 1 - TM(LW_T_REGEX))
#define TM_NUM (TM(LW_T_INT) | TM(LW_T_FLOAT))

enum var_kind {
    V_REAL,   /* a variable */
    V_GHOST,  /* a name reported undefined, or whose let failed: found, so not reported again */
    V_BROKEN, /* name is the text of a statement that did not parse: a name in it is not
                 reported undefined in its scope (it may have declared it) */
};

struct var {
    struct lw_str name;
    uint8_t reg;
    uint8_t kind; /* enum var_kind */
    uint16_t depth;
    uint32_t stype; /* static type mask when known (a capture never assigned: string or null) */
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
    uint32_t rdepth;         /* recursion depth of the tree walks, bounded (see deeper) */
    struct ufunc *fn;        /* the function being compiled, NULL for the template's code */
    struct lw_str *assigned; /* names assigned anywhere in the code being compiled */
    uint32_t nassigned, capassigned;
    struct lw_grok_lib *grok; /* the built-in patterns, loaded at the first grok() without opts */
    uint64_t scanned;         /* bytes of broken statements searched for names (names.c) */
    struct var spare;         /* lw_cg_var's answer when no ghost fits in vars */
    struct lw_covpoint *covs; /* coverage points (opts->coverage) */
    uint32_t ncovs, capcovs;
    bool cov_full; /* LW_MAX_COVPOINTS reached (reported once) */
};
#define MAX_RDEPTH 1000
#define GROW(g, arr, n, cap)                                                                       \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            uint32_t ncap_ = (cap) ? (cap)*2 : 16;                                                 \
            (arr) = lw_arena_realloc(&(g)->c->ca, (arr), (cap) * sizeof *(arr),                    \
                                     ncap_ * sizeof *(arr));                                       \
            (cap) = ncap_;                                                                         \
        }                                                                                          \
    } while (0)

/* compile.c: instructions, registers, the recursion bound of tree walks */
uint32_t lw_cg_reg_alloc(struct gen *g, struct lw_span sp);
void lw_cg_deeper(struct gen *g, struct node *n);
int32_t lw_cg_ins(struct gen *g, enum lw_op op, uint32_t a, uint32_t b, int32_t cc,
                  struct lw_span sp);
/* names.c: variables, template functions by name, "did you mean" */
int lw_cg_find_builtin(struct lw_str name);
int lw_cg_find_func(struct gen *g, struct lw_str name);
uint32_t lw_cg_declare(struct gen *g, struct lw_str name, struct lw_span sp);
/* lw_cg_note_scope: keep the variables in scope at the emit or print about to be emitted at pc
 * (prog->emitscopes, for explain.c). */
void lw_cg_note_scope(struct gen *g, uint32_t pc);
struct var *lw_cg_lookup(struct gen *g, struct lw_str name);
/* lw_cg_var: variable n (N_VAR); an undefined one is reported (unless a broken statement in
 * scope may have declared it) and becomes a ghost of any type, so compiling goes on. */
struct var *lw_cg_var(struct gen *g, struct node *n);
void lw_cg_ghost(struct gen *g, struct lw_str name);
/* lw_cg_maybe_declared: a statement in scope that did not parse mentions name. */
bool lw_cg_maybe_declared(struct gen *g, struct lw_str name);
void lw_cg_broken(struct gen *g, struct node *n);
void lw_cg_unknown_function(struct gen *g, struct node *n);
/* types.c: static types, the compile-time checks of a call's arguments */
uint32_t lw_cg_arith_type(struct gen *g, struct node *n, bool check);
/* lw_cg_check_args: false when an error was reported (the call is then not compiled). */
bool lw_cg_check_args(struct gen *g, struct node *n, int f);
struct lw_value lw_cg_sample(enum lw_type t);
int lw_cg_single(uint32_t m);
uint32_t lw_cg_stype(struct gen *g, struct node *n);
void lw_cg_assigned(struct gen *g, struct node *n);
bool lw_cg_is_assigned(struct gen *g, struct lw_str name);
void lw_cg_check_capture_cmp(struct gen *g, struct node *n);
/* patterns.c: regex literals, their captures as variables, grok and dissect patterns */
void lw_cg_check_pattern(struct gen *g, struct node *a, int f);
void lw_cg_declare_captures(struct gen *g, struct node *n);
void lw_cg_declare_captures_in(struct gen *g, struct node *n, bool cond);
struct lw_value lw_cg_dissect_pattern(struct gen *g, struct node *a);
struct lw_value lw_cg_grok_pattern(struct gen *g, struct node *a);
struct lw_regex *lw_cg_node_regex(struct gen *g, struct node *n);

#endif

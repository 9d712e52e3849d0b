/* Internal to the compiler (lex.c, parse.c, compile.c): tokens, the AST and the compiler state.
 * All of it lives in the compile arena and dies at the end of lw_compile. */
#ifndef LW_COMPILE_INT_H
#define LW_COMPILE_INT_H

#include <setjmp.h>

#include "lw/program.h"

enum tok {
    T_EOF,
    T_IDENT,
    T_INT,
    T_FLOAT,
    T_STRING, /* "..." with escapes and ${} */
    T_RAWSTR, /* '...' verbatim */
    T_REGEX,  /* /.../flags */
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
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NOT,
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
};

struct token {
    enum tok t;
    bool nl_before; /* a newline separates it from the previous token */
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
    /* statements */
    S_LET,
    S_ASSIGN,  /* s = name, a = value */
    S_SETPATH, /* path segs, a = value */
    S_IF,      /* a = cond, b = then block, c = else (block or S_IF) */
    S_FOR,     /* s = value var, s2 = key var (or none), a = iterable, b = block */
    S_BREAK,
    S_CONTINUE,
    S_EMIT, /* a = value or NULL (emit .); b, c, kids: to, key, headers clauses or NULL */
    S_DROP,
    S_REJECT,
    S_PRINT,
    S_EXPR,
    S_BLOCK, /* kids */
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
    uint32_t stype; /* static type mask, computed once (compile.c), 0 until then */
};

struct lexer {
    struct lw_str src;
    size_t pos;
    struct token tok, prev;
    int depth; /* bracket nesting */
};

struct compiler {
    jmp_buf jb;
    struct lw_diag *d;
    struct lw_arena ca; /* compile arena */
    struct lexer lx;
    uint32_t nesting;  /* parser recursion depth, bounded so no template can exhaust the stack */
    uint32_t brackets; /* open ( [ { of expressions: inside them a newline ends nothing */
    char pattern_arg;  /* parsing a call's argument that is a grok pattern ('g') or regex ('r') */
    struct lw_program *prog;
    const struct lw_compile_opts *opts;
};

/* fail: record the error at span and longjmp out of lw_compile (the one setjmp). */
_Noreturn void lw_cfail(struct compiler *c, struct lw_span span, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void lw_lex_init(struct lexer *lx, struct lw_str src, size_t start, size_t end);
/* lw_lex_next: advance c->lx.tok to the next token. */
void lw_lex_next(struct compiler *c, struct lexer *lx);

/* lw_parse: the whole template as an S_BLOCK. */
struct node *lw_parse(struct compiler *c);

#endif

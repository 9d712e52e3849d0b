/* The compiled template: bytecode, constants, record paths, regexes and a source span per
 * instruction. Shared by compile.c (writes it), vm.c (runs it) and disasm.c (prints it).
 * A program is immutable after lw_compile and may be run by any number of VMs. */
#ifndef LW_PROGRAM_H
#define LW_PROGRAM_H

#include <stdbool.h>
#include <stdint.h>

#include "lw/arena.h"
#include "lw/diag.h"
#include "lw/state.h"
#include "lw/tz.h"
#include "lw/value.h"

enum lw_op {
#define OP(name, fmt, syn) LW_OP_##name,
#include "lw/ops.def"
#undef OP
};

struct lw_ins {    /* 8 bytes, no bit packing; the VM is register based */
    uint8_t op, a; /* opcode, destination register */
    uint16_t b;    /* register, constant, path or function index */
    int32_t c;     /* register, constant, count, or jump offset from the next instruction */
};

/* A path: .a.b[0] of the record, or v.a[i] of a variable (written by SETPATH and DELPATH).
 * Segment 0 of a record path PATH reads is looked up in the record's top-level member table
 * when the decoder filled one (top >= 0), so a JSON record is scanned once for all paths. */
struct lw_pathseg {
    struct lw_str key; /* member name, or {NULL,0} for an index */
    int64_t index;
    int32_t reg; /* >= 0: computed, R[reg] is the name (a string) or the index (an int) */
    bool plain;  /* key is ASCII with nothing to escape: a member it adds is written as it is */
};
/* lw_path.top of an exists() path with computed parts or a variable base (compile.c lvalue):
 * the VM walks it from its base (vm.c path_found), not by path_get. */
#define LW_PATH_WALK (-2)
struct lw_path {
    uint32_t n;
    int32_t top;  /* index into lw_program.topkeys of segment 0, or -1; LW_PATH_WALK: exists() */
    int32_t base; /* -1: the record; else the register of the variable the path starts at */
    struct lw_pathseg *seg;
};

/* A named capture group of a regex. */
struct lw_group {
    struct lw_str name;
    uint16_t group;
};

/* A regex compiled once (pcre2, JIT when available). */
struct lw_regex {
    void *code; /* pcre2_code_8 * */
    uint32_t ngroups;
    uint32_t nnames;
    struct lw_group *names; /* named groups in the pattern's order, decoded once */
    bool jit;               /* JIT-compiled: matched with pcre2_jit_match (the fast path) */
    struct lw_str src;
};

/* A match site: a regex and where its named captures go. */
struct lw_matchsite {
    const struct lw_regex *re;
    uint32_t n;
    uint16_t *group; /* capture group numbers */
    uint8_t *reg;    /* destination registers */
};

enum lw_informat { LW_IN_DEFAULT, LW_IN_TEXT, LW_IN_JSON };

/* A user function (fn): its code is prog->code[entry, end); a call gives it a register window
 * (its R[0] is the caller's R[A]), its own iterator slots and ?? handlers. */
struct lw_func {
    struct lw_str name;
    uint32_t entry, end;
    uint32_t nparams, nregs, niters, ntry;
    struct lw_span span; /* its name in its file */
};

/* A source file: the template (0) or a file it imports. prog->src holds all their texts, file
 * i at [base, base + len); a span is an offset in prog->src. */
struct lw_srcfile {
    struct lw_str name;
    uint32_t base, len;
};

/* The variables in scope at an emit or print instruction (pc), for explaining it (explain.c):
 * scopevars[first, first + n), in the order declared. */
struct lw_scopevar {
    struct lw_str name;
    uint32_t reg;
};
struct lw_emitscope {
    uint32_t pc, first, n;
};

/* A coverage point of a program compiled with lw_compile_opts.coverage: a statement, or one
 * outcome of a branch (if/else, ?:, ??, && and ||, a comprehension's if), counted by the COV
 * instruction placed where it runs (vm->cov[index], logwash test --coverage). outcome: 1 the then
 * side (if, ?:) or the left side's value (??), 0 the else side or the default; 0 for a statement.
 */
enum lw_covkind {
    LW_COV_STMT,
    LW_COV_IF,
    LW_COV_COND,
    LW_COV_DEFAULT,
    LW_COV_AND,
    LW_COV_OR,
    LW_COV_FILTER
};
struct lw_covpoint {
    struct lw_span span; /* the statement, the condition, or the ?? expression */
    uint8_t kind, outcome;
};
#define LW_MAX_COVPOINTS 65535

/* The deepest nesting of function calls (a recursion that does not end stops here). */
#define LW_MAX_CALL_DEPTH 200

struct lw_program {
    struct lw_arena arena; /* everything below lives here, except pcre2 code */
    struct lw_str name;    /* template file name, for messages */
    struct lw_str src;     /* template text (a copy), then the text of each imported file */
    struct lw_ins *code;
    struct lw_span *spans; /* one per instruction */
    uint32_t ncode;
    struct lw_value *k;
    uint32_t nk;
    struct lw_path *paths;
    uint32_t npaths;
    struct lw_matchsite *sites;
    uint32_t nsites;
    struct lw_shape *shapes;
    uint32_t nshapes;
    struct lw_regex **regexes;
    uint32_t nregexes;
    struct lw_tz **zones; /* constant zone arguments, loaded once (owned, lw_tz_free) */
    uint32_t nzones;
    struct lw_str *topkeys; /* distinct first segments of every path the template reads */
    uint32_t ntopkeys;
    uint32_t nregs;
    uint32_t max_groups;
    uint32_t ntry;   /* deepest nesting of ?? */
    uint32_t niters; /* deepest nesting of for */
    struct lw_func *funcs;
    uint32_t nfuncs;
    struct lw_srcfile *files; /* files[0] is the template */
    uint32_t nfiles;
    enum lw_informat input; /* declared by `input json` in the template */
    /* framing declared by `multiline start|continue /RE/` or `multiline indent` (the regex as
     * text, NUL-terminated, flags made inline), the default of --multiline-* */
    const char *ml_start, *ml_continue;
    bool ml_indent;
    bool implicit_emit; /* no emit or print statement: emit . at the end */
    bool uses_meta;     /* reads meta: the pipeline builds it per record */
    bool writes_root;   /* writes into the record (SETPATH, DELPATH on a record path) */
    struct lw_emitscope *emitscopes; /* by pc (explain.c) */
    uint32_t nemitscopes;
    struct lw_scopevar *scopevars;
    uint32_t nscopevars;
    struct lw_covpoint *covs; /* coverage points (lw_compile_opts.coverage), else none */
    uint32_t ncovs;
    struct lw_windef *windows; /* window statements (state.h), by WINDOW's B operand */
    uint32_t nwindows;
    bool uses_seen;         /* calls seen(): runners keep state (state.h) */
    struct lw_str warnings; /* compile warnings rendered as diagnostics (file:line:col: warning:
                               ..., source line, caret), empty when none; the caller prints them */
    struct lw_uarules *ua;  /* parse_user_agent's rules (useragent.h), held; NULL when unused */
    bool ua_jit;            /* ... matched with their JIT code (the compile option jit) */
};

struct lw_grok_lib;
struct lw_uarules;
/* A compile error, as lw_compile_opts.each is given it; valid during the call only. */
struct lw_compile_error {
    struct lw_str file;    /* the template's name, or the imported file's as messages name it */
    int line, col;         /* 1-based, in that file */
    const char *msg;       /* C string, lowercase, no final period */
    const char *text;      /* C string: the error as lw_diag_print writes it (caret and all) */
    uint32_t index, count; /* error index (from 0) of count */
    bool more;             /* the compilation stopped at max_errors: there are more */
};

struct lw_compile_opts {
    bool jit;                       /* pcre2 JIT (default on) */
    const struct lw_grok_lib *grok; /* grok patterns (--patterns); NULL: the built-in set */
    const char *path;       /* the template's file, whose directory imports are looked up in first;
                               NULL (text from -e or the API): only the lib directories */
    const char *const *lib; /* --lib directories, searched in order after that */
    size_t nlib;
    uint32_t max_errors; /* errors looked for before the compilation stops; 0: 20 */
    /* each: when not NULL, a failed lw_compile calls it with every error, in source order */
    void (*each)(void *ud, const struct lw_compile_error *e);
    void *each_ud;
    /* The names of the tables the program will run with (C strings), so a lookup() of
     * another one is a compile error with a suggestion; NULL: not known, a lookup of a table
     * the VM lacks is a runtime error. */
    const char *const *tables;
    size_t ntables;
    /* coverage: put a COV instruction at every statement and branch outcome (prog->covs) */
    bool coverage;
    /* parse_user_agent's rules: called at the template's first parse_user_agent, returns
     * rules the program takes its own hold on (useragent.h), or NULL with a message in msg
     * (the compile error at the call). NULL: the template cannot use parse_user_agent. */
    struct lw_uarules *(*ua)(void *ud, char *msg, size_t msgsize);
    void *ua_ud;
};

/* lw_compile: compile template text src (named name in messages) to a program. On error
 * returns NULL with d set: d->msg and d->span are the first error, at a place in src (an error
 * in an imported file is reported at the import, its message naming the file's line:col);
 * d->text, when not NULL, holds every error rendered with its own file (lw_diag_print prints
 * it; lw_diag_fini frees it). The program keeps its own copy of name and src. */
struct lw_program *lw_compile(struct lw_str name, struct lw_str src,
                              const struct lw_compile_opts *o, struct lw_diag *d);
void lw_program_free(struct lw_program *p);

/* lw_program_where: the file, line and column of byte off of p->src. */
void lw_program_where(const struct lw_program *p, uint32_t off, struct lw_str *file, int *line,
                      int *col);

/* lw_disasm: print the bytecode, one instruction per line with its template line:column. */
void lw_disasm(const struct lw_program *p, FILE *f);

/* Operand formats for disasm and checks. */
enum lw_fmt {
    LW_FMT_NONE,
    LW_FMT_A,
    LW_FMT_AB,
    LW_FMT_AK,
    LW_FMT_AP,
    LW_FMT_ABC,
    LW_FMT_ABK,
    LW_FMT_AJ,
    LW_FMT_J,
    LW_FMT_ACALL,
    LW_FMT_ABM,
    LW_FMT_IB,
    LW_FMT_AIJ,
    LW_FMT_AS,
    LW_FMT_AN,
    LW_FMT_ABN,
    LW_FMT_CV
};

#endif

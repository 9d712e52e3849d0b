/* The bytecode interpreter. A VM runs one program over one record at a time; everything it
 * allocates for a record lives in the record arena the caller resets after the record.
 * The VM knows nothing of sources, sinks or Kafka: output goes through the out callback. */
#ifndef LW_VM_H
#define LW_VM_H

#include <stdint.h>
#include <time.h>

#include "lw/program.h"

struct lw_json_member; /* json.h */
struct lw_tableset;

struct lw_vm;

/* The decoded record the VM reads. */
struct lw_record {
    struct lw_str line;          /* the raw record bytes (without the line terminator) */
    struct lw_value root;        /* the record . (an object for text input: empty) */
    const struct lw_str *topval; /* raw JSON of program->topkeys[i], p == NULL when absent */
    struct lw_value meta;        /* `meta`: built by the pipeline when program->uses_meta */
    /* Every top-level member of an object record, when the template writes into the record
     * (program->writes_root): its copy is made from these without walking the text again.
     * NULL otherwise (then the copy walks it). In the record arena. */
    const struct lw_json_member *members;
    uint32_t nmembers;
};

struct lw_limits {
    uint64_t steps;        /* instructions per record */
    uint32_t match_limit;  /* pcre2 match limit per match call */
    uint32_t depth_limit;  /* pcre2 depth limit per match call */
    size_t max_output;     /* bytes of output per record */
    size_t max_memory;     /* bytes of record arena per record */
    uint64_t regex_budget; /* regex work of a record: bytes searched and pcre2 match-limit
                              units beyond a small allowance per call (lw_vm_regex_match) */
};

enum lw_vm_result { LW_VM_OK, LW_VM_DROP, LW_VM_REJECT, LW_VM_ERROR };

/* The index of the raw JSON object read last: its members' key and value slices, so reading
 * several members of one object (.user.id, .user.name; item.price, item.qty) scans it once.
 * Valid for one record only (record buffers are reused). */
#define LW_OBJINDEX_MAX 32
struct lw_objindex {
    const char *p; /* the object's text, NULL when empty */
    uint32_t len, n;
    bool usable; /* false: too many members or escaped keys; look members up directly */
    struct lw_str k[LW_OBJINDEX_MAX], v[LW_OBJINDEX_MAX];
};

struct lw_iterslot {
    struct lw_value c; /* the container, kept alive for the iterator */
    struct lw_iter it;
};

/* A call of a user function: where its caller resumes, and the caller's windows. */
struct lw_frame {
    uint32_t ret_pc, rbase, ibase, func;
};

struct lw_vm {
    const struct lw_program *prog;
    struct lw_arena *arena; /* record arena */
    struct lw_value *regs;  /* every frame's registers: the running one's start at rbase */
    struct lw_iterslot *iters;
    int32_t *handlers; /* ?? handler stack: pc to resume at */
    uint32_t *hdepth;  /* ... and the call depth of the frame that pushed it */
    uint32_t nhandlers;
    uint32_t regcap, itercap, hcap;
    struct lw_frame *frames; /* LW_MAX_CALL_DEPTH of them when the program has functions */
    uint32_t depth, rbase, ibase;
    struct lw_objindex *objindex;
    struct lw_buf scratch; /* text being built (interpolation, reject reasons), reused */
    void *match_data;      /* pcre2_match_data_8 *, sized for the largest regex */
    void *match_ctx;       /* pcre2_match_context_8 * with the limits */
    const size_t *ovector; /* match_data's (PCRE2_SIZE is size_t) */
    struct lw_limits limits;
    int64_t now_ns;            /* now(); fixed by --now; LW_NOW_UNREAD: read it (lw_vm_now) */
    const struct lw_tz *tz;    /* default zone for zone-less stamps (--tz, borrowed) */
    struct lw_tzcache tzcache; /* zones named by records at run time */
    /* lookup()/lookup_ip()'s tables (table.h), borrowed: whoever sets it keeps a reference
     * until the VM stops using it (a runner, a -j batch) and changes it only between records.
     * NULL: none. */
    const struct lw_tableset *tables;
    struct lw_uacache *uacache; /* parse_user_agent's last results (useragent.c), or NULL */
    /* seen() and window statements' log and the runner's keys (state.h), or NULL: the
     * program keeps no state */
    struct lw_vmstate *state;
    /* out: called for each emitted record (print = false) or printed line (print = true).
     * route is NULL, or for `emit v to T key K headers H` the values T, K, H (null where the
     * clause is absent), which the VM does not interpret. Returns 0, or -1 with a message in
     * vm->err (e.g. the output size limit, a bad topic). */
    int (*out)(void *ud, struct lw_vm *vm, const struct lw_value *v, const struct lw_value *route,
               bool print);
    void *out_ud;
    /* explain: NULL (the run's hot path tests only this), or the explainer whose hooks the VM
     * calls before each match(), grok(), dissect(), emit and print (explain.h) */
    struct lw_explain *explain;
    /* cov: the counts of the program's coverage points (prog->ncovs of them, added to by the
     * COV instructions over every record run), or NULL when the program has none */
    uint64_t *cov;
    uint64_t steps_left; /* of limits.steps when the last lw_vm_run returned */
    /* per record */
    const struct lw_record *rec;
    uint64_t regex_left; /* what is left of limits.regex_budget */
    uint64_t cmp_left;   /* values containers compared may still visit (limits.steps) */
    struct lw_value root;
    bool root_owned; /* root is the VM's copy (written): paths read it, not the decoder's table */
    bool fatal;      /* the error may not be caught by ?? (a budget ran out) */
    uint32_t err_pc; /* instruction of the error */
    char err[512];   /* runtime error or reject reason */
};

/* lw_vm_init/fini: a VM for program p (borrowed; must outlive the VM). */
void lw_vm_init(struct lw_vm *vm, const struct lw_program *p, struct lw_arena *record_arena,
                const struct lw_limits *lim);
/* lw_vm_fini: free what lw_vm_init made; also after lw_oom interrupted lw_vm_init, when vm
 * was zeroed first (lw_vm_init's first store), so a half-made VM is freed too. */
void lw_vm_fini(struct lw_vm *vm);

/* lw_vm_set_limits: the limits of the records that follow (allocates nothing). */
void lw_vm_set_limits(struct lw_vm *vm, const struct lw_limits *lim);

/* lw_vm_run: run the program over rec. Returns LW_VM_OK, LW_VM_DROP, LW_VM_REJECT (reason in
 * vm->err) or LW_VM_ERROR (message in vm->err, instruction in vm->err_pc, whose span is
 * prog->spans[vm->err_pc]). Output may have been passed to out before a reject or error: the
 * caller discards it (the pipeline truncates its buffer). */
enum lw_vm_result lw_vm_run(struct lw_vm *vm, const struct lw_record *rec);

/* lw_vm_error: set vm->err (used by builtins); always returns -1. */
int lw_vm_error(struct lw_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* lw_vm_regex_match: match re against s from byte start with the VM's match data and limits
 * (pcre2_jit_match when the regex was JIT-compiled). Returns pcre2's result code, or
 * LW_VM_REGEX_BUDGET when the record's regex budget is spent: each call costs the bytes it
 * searched, from start to the end of the match or to the end of s when there is none, plus
 * the match limits of its attempts beyond the first (vm.c). */
#define LW_VM_REGEX_BUDGET (-10000) /* below every pcre2 error code */
int lw_vm_regex_match(struct lw_vm *vm, const struct lw_regex *re, const char *s, size_t len,
                      size_t start);

/* lw_vm_regex_error: a message for a negative result rc of lw_vm_regex_match (limits named);
 * returns -1. */
int lw_vm_regex_error(struct lw_vm *vm, int rc);

/* lw_vm_room: the bytes the record may still allocate under --max-memory, at most UINT32_MAX
 * (the longest string). A function that builds a value checks its projected size against it
 * before it allocates. */
size_t lw_vm_room(const struct lw_vm *vm);

/* lw_vm_charge: count units of container work (members copied or scanned, elements sorted)
 * against the record's budget (--max-steps, shared with container comparisons); -1 after
 * lw_vm_error, flagged fatal (?? does not catch it), when it runs out. */
int lw_vm_charge(struct lw_vm *vm, uint64_t units);

/* lw_vm_too_big: the error of a result that would pass --max-memory: what ("replace()") and
 * its size when known (0: a builder that stopped at lw_vm_room). Returns -1. */
int lw_vm_too_big(struct lw_vm *vm, const char *what, size_t need);

/* Template functions: fn(vm, args, argc, ret) returns 0, or -1 after lw_vm_error. */
struct lw_builtin {
    const char *name;
    int min, max;
    const char *argtypes;
    char ret;
    const char *synopsis;
    int (*fn)(struct lw_vm *vm, struct lw_value *args, int argc, struct lw_value *ret);
};
enum lw_fn_id {
#define FN(name, min, max, args, ret, syn) LW_FN_##name,
#include "lw/builtins.def"
#undef FN
    LW_FN_N
};
extern const struct lw_builtin lw_builtins[LW_FN_N];

/* lw_vm_zone: the zone named name (len bytes) for a function's zone argument: one the program
 * loaded at compile time, else from the VM's bounded cache (loaded on first use). Valid until
 * the next call. NULL after lw_vm_error(vm, "fn(): ...") when it cannot be loaded. */
const struct lw_tz *lw_vm_zone(struct lw_vm *vm, const char *fn, const char *name, size_t len);

/* lw_type_accepts: does type letter `want` (builtins.def: an argument's, or a result's) accept
 * value type t? The one table of what the letters mean, for the VM's argument checks and the
 * compiler's static types. */
bool lw_type_accepts(char want, enum lw_type t);

/* lw_builtin_argtype: the type letter of argument i (from 0) of b: its letter in argtypes, the
 * last one for extra arguments, 'a' when it has none. */
char lw_builtin_argtype(const struct lw_builtin *b, int i);

/* LW_NOW_UNREAD: vm->now_ns of a record whose processing time is the clock, not read yet
 * (LOGWASH_NOW_CLOCK's value: no fixed time is it). lw_vm_now: the record's processing time,
 * the clock read at its first use in the record (a clock read costs tens of nanoseconds: a
 * record that never asks, most, pays nothing), the same value at every later use. */
#define LW_NOW_UNREAD INT64_MIN
static inline int64_t
lw_vm_now(struct lw_vm *vm)
{
    if (vm->now_ns == LW_NOW_UNREAD) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        vm->now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
    return vm->now_ns;
}

#endif

/* parse_user_agent(): browser, OS and device from ua-parser's rules (useragent.h). Each
 * section runs its rules in order with the VM's regex limits (lw_vm_regex_match: every call
 * costs the bytes it searched, so a long hostile string runs out of --regex-budget instead of
 * running ~1000 regexes over it unbounded). The fast path is a per-VM cache of the last 512
 * distinct user agents (log lines repeat a few browsers; 4-way sets, least recently used
 * replaced; at most 1 MiB): a hit costs a hash, a compare and the copy of the result. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lw/program.h"
#include "lw/useragent.h"
#include "lw/vm.h"

#include "builtins_int.h"

struct uarule {
    struct lw_regex re;
    char *repl[LW_UA_MAXREPL]; /* NULL: absent */
};

struct lw_uarules {
    atomic_uint refs;
    struct uarule *r[LW_UA_NSECTIONS];
    size_t n[LW_UA_NSECTIONS], cap[LW_UA_NSECTIONS];
    uint32_t max_groups;
};

struct lw_uarules *
lw_uarules_new(void)
{
    struct lw_uarules *r = calloc(1, sizeof *r);
    if (r != NULL) atomic_init(&r->refs, 1);
    return r;
}

int
lw_uarules_add(struct lw_uarules *r, enum lw_ua_section sec, const char *regex, size_t len,
               bool icase, const char *const repl[LW_UA_MAXREPL], char *err, size_t errsize)
{
    if ((unsigned)sec >= LW_UA_NSECTIONS) {
        snprintf(err, errsize, "unknown section %d", (int)sec);
        return -1;
    }
    if (r->n[sec] == r->cap[sec]) {
        size_t nc = r->cap[sec] ? 2 * r->cap[sec] : 64;
        struct uarule *nr = realloc(r->r[sec], nc * sizeof *nr);
        if (nr == NULL) {
            snprintf(err, errsize, "out of memory");
            return -1;
        }
        r->r[sec] = nr;
        r->cap[sec] = nc;
    }
    struct uarule *u = &r->r[sec][r->n[sec]];
    *u = (struct uarule){ 0 };
    int ec;
    PCRE2_SIZE eo;
    /* bytes, not UTF: any record can be searched, \d \w \s are ASCII (ua-parser's regexes are
     * written for ASCII user agents) */
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)regex, len, icase ? PCRE2_CASELESS : 0, &ec, &eo, NULL);
    if (code == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errsize, "invalid regex at byte %zu: %s", (size_t)eo + 1, (char *)msg);
        return -1;
    }
    u->re.code = code;
    u->re.jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    uint32_t cap = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &cap);
    u->re.ngroups = cap;
    for (int i = 0; i < LW_UA_MAXREPL; i++) {
        if (repl == NULL || repl[i] == NULL || repl[i][0] == '\0') continue;
        u->repl[i] = strdup(repl[i]);
        if (u->repl[i] == NULL) {
            for (int j = 0; j < i; j++)
                free(u->repl[j]);
            pcre2_code_free(code);
            snprintf(err, errsize, "out of memory");
            return -1;
        }
    }
    if (cap + 1 > r->max_groups) r->max_groups = cap + 1;
    r->n[sec]++;
    return 0;
}

size_t
lw_uarules_count(const struct lw_uarules *r, enum lw_ua_section sec)
{
    return (unsigned)sec < LW_UA_NSECTIONS ? r->n[sec] : 0;
}

uint32_t
lw_uarules_max_groups(const struct lw_uarules *r)
{
    return r->max_groups;
}

void
lw_uarules_ref(struct lw_uarules *r)
{
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

void
lw_uarules_unref(struct lw_uarules *r)
{
    if (r == NULL || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1) return;
    for (int s = 0; s < LW_UA_NSECTIONS; s++) {
        for (size_t i = 0; i < r->n[s]; i++) {
            pcre2_code_free(r->r[s][i].re.code);
            for (int j = 0; j < LW_UA_MAXREPL; j++)
                free(r->r[s][i].repl[j]);
        }
        free(r->r[s]);
    }
    free(r);
}

/* Matching ---------------------------------------------------------------------------------- */

/* The 12 results: user_agent family major minor patch, os family major minor patch
 * patch_minor, device family brand model. A field is null (off == NONE), a slice of the
 * subject (subj), or bytes of vm->scratch. */
#define NF      12
#define NONE    UINT32_MAX
#define NOFIELD ((struct field){ NONE, 0, false })
static const uint8_t base[LW_UA_NSECTIONS] = { 0, 4, 9 }, width[LW_UA_NSECTIONS] = { 4, 5, 3 };

struct field {
    uint32_t off, len;
    bool subj;
};

struct res {
    struct field f[NF];
};

static bool
set(const struct field *f)
{
    return f->off != NONE;
}

static bool
truthy(const struct field *f)
{
    return f->off != NONE && f->len > 0;
}

/* group: capture k of the last match as a field (null when unset or past the regex's). */
static struct field
group(const struct lw_vm *vm, const struct uarule *u, uint32_t k)
{
    if (k > u->re.ngroups || vm->ovector[2 * k] == PCRE2_UNSET) return NOFIELD;
    size_t a = vm->ovector[2 * k], b = vm->ovector[2 * k + 1];
    return (struct field){ (uint32_t)a, (uint32_t)(b - a), true };
}

static void
put_group(struct lw_buf *b, const struct lw_vm *vm, const struct uarule *u, const char *s,
          uint32_t k)
{
    struct field g = group(vm, u, k);
    if (set(&g)) lw_buf_add(b, s + g.off, g.len);
}

static bool
space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* multi: ua-parser's MultiReplace: each $D (one digit) becomes group D ("" when unset; $0 the
 * last group, as Python's negative index reads it), then surrounding spaces are trimmed and
 * an empty result is null. */
static struct field
multi(struct lw_vm *vm, const struct uarule *u, const char *s, const char *t)
{
    struct lw_buf *b = &vm->scratch;
    size_t start = b->len;
    for (; *t != '\0'; t++) {
        if (t[0] == '$' && t[1] >= '0' && t[1] <= '9') {
            uint32_t d = (uint32_t)(t[1] - '0');
            if (d == 0) d = u->re.ngroups;
            if (d >= 1 && d <= u->re.ngroups) put_group(b, vm, u, s, d);
            t++;
            continue;
        }
        lw_buf_addc(b, *t);
    }
    size_t a = start, e = b->len;
    while (a < e && space(b->p[a]))
        a++;
    while (e > a && space(b->p[e - 1]))
        e--;
    if (a == e) return NOFIELD;
    return (struct field){ (uint32_t)a, (uint32_t)(e - a), false };
}

/* agent_family: family_replacement with each "$1" replaced by group 1 (the only placeholder
 * ua-parser substitutes in that section). */
static struct field
agent_family(struct lw_vm *vm, const struct uarule *u, const char *s, const char *t)
{
    if (strstr(t, "$1") == NULL) {
        struct lw_buf *b = &vm->scratch;
        size_t start = b->len;
        lw_buf_adds(b, t);
        return (struct field){ (uint32_t)start, (uint32_t)(b->len - start), false };
    }
    struct lw_buf *b = &vm->scratch;
    size_t start = b->len;
    for (; *t != '\0'; t++) {
        if (t[0] == '$' && t[1] == '1') {
            put_group(b, vm, u, s, 1);
            t++;
            continue;
        }
        lw_buf_addc(b, *t);
    }
    return (struct field){ (uint32_t)start, (uint32_t)(b->len - start), false };
}

static struct field
nonempty(struct field f)
{
    return f.off != NONE && f.len > 0 ? f : NOFIELD;
}

/* eval: the fields of section sec from rule u's match (rc from pcre2: the highest group
 * set, plus one, is Python's lastindex for these regexes). */
static void
eval(struct lw_vm *vm, enum lw_ua_section sec, const struct uarule *u, const char *s, int rc,
     struct field *f)
{
    uint32_t last = rc > 0 ? (uint32_t)rc - 1 : 0;
    switch (sec) {
    case LW_UA_AGENT:
        f[0] = u->repl[0] ? agent_family(vm, u, s, u->repl[0]) : group(vm, u, 1);
        for (uint32_t k = 1; k <= 3; k++) {
            struct field *v = &f[k];
            if (k < 3 && u->repl[k]) {
                struct lw_buf *b = &vm->scratch;
                size_t start = b->len;
                lw_buf_adds(b, u->repl[k]);
                *v = (struct field){ (uint32_t)start, (uint32_t)(b->len - start), false };
            } else {
                *v = last >= k + 1 ? nonempty(group(vm, u, k + 1)) : NOFIELD;
            }
        }
        break;
    case LW_UA_OS:
        for (uint32_t k = 0; k < 5; k++) {
            if (u->repl[k]) {
                f[k] = multi(vm, u, s, u->repl[k]);
            } else {
                f[k] = last >= k + 1 ? group(vm, u, k + 1) : NOFIELD;
            }
        }
        break;
    default:
        f[0] = u->repl[0] ? multi(vm, u, s, u->repl[0]) : group(vm, u, 1);
        f[1] = u->repl[1] ? multi(vm, u, s, u->repl[1]) : NOFIELD;
        f[2] = u->repl[2] ? multi(vm, u, s, u->repl[2]) : u->re.ngroups ? group(vm, u, 1) : NOFIELD;
        break;
    }
}

/* section: run sec's rules over s until one gives a family (ua-parser keeps the fields of the
 * last rule tried when none does). 0, or -1 after lw_vm_error. */
static int
section(struct lw_vm *vm, const struct lw_uarules *r, enum lw_ua_section sec, const char *s,
        size_t len, struct field *f)
{
    int w = width[sec];
    for (int k = 0; k < w; k++)
        f[k] = NOFIELD;
    for (size_t i = 0; i < r->n[sec]; i++) {
        const struct uarule *u = &r->r[sec][i];
        struct lw_regex re = u->re;
        re.jit = re.jit && vm->prog->ua_jit; /* the rules are shared: --no-jit is the program's */
        int rc = lw_vm_regex_match(vm, &re, s, len, 0);
        if (rc == PCRE2_ERROR_NOMATCH) {
            for (int k = 0; k < w; k++)
                f[k] = NOFIELD;
            continue;
        }
        if (rc < 0) return lw_vm_regex_error(vm, rc);
        eval(vm, sec, u, s, rc, f);
        if (truthy(&f[0])) break;
    }
    return 0;
}

/* The cache --------------------------------------------------------------------------------- */

#define CACHE_WAYS 4
#define CACHE_SETS 128
#define CACHE_KEY  512  /* longer user agents are not cached */
#define CACHE_BLOB 2048 /* nor results of more bytes, key included: at most 1 MiB per VM */

struct centry {
    char *blob; /* the key, then the fields' bytes; NULL: empty slot */
    uint64_t hash;
    uint32_t klen, used;
    uint16_t off[NF], len[NF];
    uint16_t nulls; /* bit k: field k is null */
};

struct lw_uacache {
    struct centry e[CACHE_SETS][CACHE_WAYS];
    uint32_t clock;
};

void
lw_uacache_free(struct lw_uacache *c)
{
    if (c == NULL) return;
    for (int i = 0; i < CACHE_SETS; i++) {
        for (int j = 0; j < CACHE_WAYS; j++)
            free(c->e[i][j].blob);
    }
    free(c);
}

static struct centry *
cache_find(struct lw_uacache *c, uint64_t h, const char *s, size_t len)
{
    struct centry *ways = c->e[h % CACHE_SETS];
    for (int j = 0; j < CACHE_WAYS; j++) {
        struct centry *e = &ways[j];
        if (e->blob != NULL && e->hash == h && e->klen == len && memcmp(e->blob, s, len) == 0) {
            e->used = ++c->clock;
            return e;
        }
    }
    return NULL;
}

/* cache_put: remember res for s in the least recently used way of its set (nothing when the
 * memory is not there: the cache is only a speed-up). */
static void
cache_put(struct lw_uacache *c, uint64_t h, const char *s, size_t len, const struct res *res,
          const char *scratch)
{
    size_t total = len;
    for (int k = 0; k < NF; k++)
        total += set(&res->f[k]) ? res->f[k].len : 0;
    if (total > CACHE_BLOB) return;
    struct centry *ways = c->e[h % CACHE_SETS], *e = &ways[0];
    for (int j = 1; j < CACHE_WAYS && e->blob != NULL; j++) {
        if (ways[j].blob == NULL || ways[j].used < e->used) e = &ways[j];
    }
    char *blob = malloc(total ? total : 1);
    if (blob == NULL) return;
    free(e->blob);
    *e = (struct centry){ .blob = blob, .hash = h, .klen = (uint32_t)len, .used = ++c->clock };
    memcpy(blob, s, len);
    size_t at = len;
    for (int k = 0; k < NF; k++) {
        const struct field *f = &res->f[k];
        if (!set(f)) {
            e->nulls |= (uint16_t)(1u << k);
            continue;
        }
        memcpy(blob + at, f->subj ? s + f->off : scratch + f->off, f->len);
        e->off[k] = (uint16_t)at;
        e->len[k] = (uint16_t)f->len;
        at += f->len;
    }
}

/* The function ------------------------------------------------------------------------------ */

static const char *const names[NF] = { "family",      "major",  "minor", "patch",
                                       "family",      "major",  "minor", "patch",
                                       "patch_minor", "family", "brand", "model" };
static const char *const sections[LW_UA_NSECTIONS] = { "user_agent", "os", "device" };
static const char *const other = "Other";

/* build: the result object; each field's bytes come from at(k) (subject slices stay in the
 * record, other bytes are copied to the arena). */
static void
build(struct lw_vm *vm, struct lw_value *r, const struct lw_value vals[NF])
{
    *r = lw_obj_new(vm->arena, LW_UA_NSECTIONS);
    for (int s = 0; s < LW_UA_NSECTIONS; s++) {
        struct lw_value o = lw_obj_new(vm->arena, width[s]);
        for (int k = 0; k < width[s]; k++) {
            struct lw_value v = vals[base[s] + k];
            if (k == 0 && v.t == LW_T_NULL) v = lw_strv(other, strlen(other));
            lw_obj_set(vm->arena, &o, lw_str_c(names[base[s] + k]), v);
        }
        lw_obj_set(vm->arena, r, lw_str_c(sections[s]), o);
    }
}

/* ROOM: what the three objects and their members may take besides the strings' bytes */
#define ROOM 2048

int
fn_parse_user_agent(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    (void)n;
    const struct lw_uarules *rules = vm->prog->ua;
    if (rules == NULL) return lw_vm_error(vm, "parse_user_agent(): no rules were loaded");
    const char *s = a[0].u.p ? a[0].u.p : "";
    size_t len = a[0].len;
    struct lw_value vals[NF];
    uint64_t h = 0;
#ifdef LW_UA_NOCACHE /* bench/useragent.sh's build of the rules without the fast path */
    bool cacheable = false;
#else
    bool cacheable = len <= CACHE_KEY;
#endif
    if (cacheable) {
        if (vm->uacache == NULL) vm->uacache = calloc(1, sizeof *vm->uacache);
        h = XXH3_64bits(s, len);
        struct centry *e = vm->uacache ? cache_find(vm->uacache, h, s, len) : NULL;
        if (e != NULL) {
            size_t need = ROOM;
            for (int k = 0; k < NF; k++)
                need += e->len[k];
            if (lw_vm_room(vm) < need) return lw_vm_too_big(vm, "parse_user_agent()", need);
            for (int k = 0; k < NF; k++) {
                vals[k] = (e->nulls >> k) & 1
                              ? LW_NULL
                              : lw_strv(lw_arena_dup(vm->arena, e->blob + e->off[k], e->len[k]),
                                        e->len[k]);
            }
            build(vm, r, vals);
            return 0;
        }
    }
    struct res res;
    vm->scratch.len = 0;
    for (int sec = 0; sec < LW_UA_NSECTIONS; sec++) {
        if (section(vm, rules, (enum lw_ua_section)sec, s, len, &res.f[base[sec]]) != 0) return -1;
    }
    /* device: ua-parser makes only a null family "Other"; the others turn "" into "Other"
     * too (a null or empty family never ends the search) */
    for (int sec = 0; sec < 2; sec++) {
        if (!truthy(&res.f[base[sec]])) res.f[base[sec]] = NOFIELD;
    }
    if (lw_vm_room(vm) < ROOM + vm->scratch.len) {
        return lw_vm_too_big(vm, "parse_user_agent()", ROOM + vm->scratch.len);
    }
    const char *sc = vm->scratch.p;
    char *copy = vm->scratch.len ? lw_arena_dup(vm->arena, sc, vm->scratch.len) : NULL;
    for (int k = 0; k < NF; k++) {
        const struct field *f = &res.f[k];
        vals[k] = !set(f) ? LW_NULL : lw_strv(f->subj ? s + f->off : copy + f->off, f->len);
    }
    if (cacheable && vm->uacache != NULL) cache_put(vm->uacache, h, s, len, &res, sc);
    build(vm, r, vals);
    return 0;
}

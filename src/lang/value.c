/* The value rules: containers (raw JSON or materialised), equality, ordering, arithmetic with
 * checked integer overflow, and the JSON and text forms of every value. The JSON byte-level work
 * (scanning, unescaping, escaping) is json.c's; time formatting is timeformat.c's. */
#include "lw/value.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lw/json.h"
#include "lw/timefmt.h"

const char *
lw_type_name(enum lw_type t)
{
    static const char *const names[LW_T_N] = { "null",  "bool",   "int",       "float", "string",
                                               "array", "object", "timestamp", "regex" };
    return t < LW_T_N ? names[t] : "?";
}

struct lw_value
lw_value_from_json(struct lw_str raw, struct lw_arena *a)
{
    int64_t i;
    double d;

    /* a number (the most common scalar after strings): lw_json_number tells an integer from
     * a real itself, without lw_json_kind's walk of the digits first */
    if (raw.len > 0 && (raw.p[0] == '-' || (raw.p[0] >= '0' && raw.p[0] <= '9'))) {
        if (lw_json_number(raw, &i, &d) == LW_JSON_INT) return lw_int(i);
        return lw_float(d);
    }
    switch (lw_json_kind(raw)) {
    case LW_JSON_NULL:
        return LW_NULL;
    case LW_JSON_FALSE:
        return lw_bool(false);
    case LW_JSON_TRUE:
        return lw_bool(true);
    case LW_JSON_INT:
    case LW_JSON_REAL:
        if (lw_json_number(raw, &i, &d) == LW_JSON_INT) return lw_int(i);
        return lw_float(d);
    case LW_JSON_STRING:
        if (!lw_json_str_has_escape(raw)) {
            struct lw_value v = lw_strv(raw.p + 1, raw.len - 2);
            v.flags = LW_V_PLAIN;
            return v;
        }
        {
            char *dst = lw_arena_alloc(a, raw.len);
            size_t n = lw_json_unescape(raw, dst);
            return lw_strv(dst, n);
        }
    case LW_JSON_ARRAY:
        return (struct lw_value){
            .t = LW_T_ARR, .flags = LW_V_RAW, .len = (uint32_t)raw.len, .u.p = raw.p
        };
    case LW_JSON_OBJECT:
        return (struct lw_value){
            .t = LW_T_OBJ, .flags = LW_V_RAW, .len = (uint32_t)raw.len, .u.p = raw.p
        };
    }
    return LW_NULL;
}

struct lw_value
lw_value_json_key(struct lw_str tok, bool kesc, struct lw_arena *a)
{
    if (!kesc) {
        struct lw_value v = lw_strv(tok.p + 1, tok.len - 2);
        v.flags = LW_V_PLAIN;
        return v;
    }
    char *dst = lw_arena_alloc(a, tok.len);
    size_t n = lw_json_unescape(tok, dst);
    return lw_strv(dst, n);
}

static struct lw_str
rawstr(const struct lw_value *v)
{
    return (struct lw_str){ v->u.p, v->len };
}

uint32_t
lw_value_count(const struct lw_value *v)
{
    if (v->t != LW_T_ARR && v->t != LW_T_OBJ) return 0;
    if (v->flags & LW_V_RAW) return (uint32_t)lw_json_count(rawstr(v));
    return v->t == LW_T_ARR ? v->u.a->n : v->u.o->n;
}

struct lw_value
lw_value_get(const struct lw_value *obj, struct lw_str key, struct lw_arena *a)
{
    if (obj->t != LW_T_OBJ) return LW_NULL;
    if (obj->flags & LW_V_RAW) {
        struct lw_str val;
        if (lw_json_get(rawstr(obj), key.p, key.len, &val) != 1) return LW_NULL;
        return lw_value_from_json(val, a);
    }
    const struct lw_obj *o = obj->u.o;
    for (uint32_t i = 0; i < o->n; i++) {
        if (lw_str_eq(o->k[i], key)) return o->v[i];
    }
    return LW_NULL;
}

struct lw_value
lw_value_at(const struct lw_value *arr, int64_t i, struct lw_arena *a)
{
    if (arr->t != LW_T_ARR) return LW_NULL;
    int64_t n = lw_value_count(arr);
    if (i < 0) i += n;
    if (i < 0 || i >= n) return LW_NULL;
    if (arr->flags & LW_V_RAW) {
        struct lw_str val;
        if (lw_json_at(rawstr(arr), (size_t)i, &val) != 1) return LW_NULL;
        return lw_value_from_json(val, a);
    }
    return arr->u.a->v[i];
}

void
lw_iter_init(struct lw_iter *it, const struct lw_value *c)
{
    *it = (struct lw_iter){ .c = c };
    if ((c->t == LW_T_ARR || c->t == LW_T_OBJ) && (c->flags & LW_V_RAW)) {
        lw_json_iter_init(&it->j, rawstr(c));
    }
}

int
lw_iter_next(struct lw_iter *it, struct lw_value *key, struct lw_value *val, struct lw_arena *a)
{
    const struct lw_value *c = it->c;
    if (c->t != LW_T_ARR && c->t != LW_T_OBJ) return 0;
    if (c->flags & LW_V_RAW) {
        struct lw_str k, v;
        bool kesc;
        if (lw_json_iter_next_esc(&it->j, &k, &v, &kesc) != 1) return 0;
        *val = lw_value_from_json(v, a);
        *key = c->t == LW_T_OBJ ? lw_value_json_key(k, kesc, a) : lw_int(it->i);
        it->i++;
        return 1;
    }
    if (c->t == LW_T_ARR) {
        if (it->i >= c->u.a->n) return 0;
        *key = lw_int(it->i);
        *val = c->u.a->v[it->i++];
        return 1;
    }
    if (it->i >= c->u.o->n) return 0;
    *key = lw_strv(c->u.o->k[it->i].p, c->u.o->k[it->i].len);
    *val = c->u.o->v[it->i++];
    return 1;
}

struct lw_value
lw_arr_new(struct lw_arena *a, uint32_t cap)
{
    struct lw_arr *arr = lw_arena_alloc(a, sizeof *arr);
    arr->n = 0;
    arr->cap = cap;
    arr->shared = false;
    arr->v = cap ? lw_arena_alloc(a, cap * sizeof *arr->v) : NULL;
    return (struct lw_value){ .t = LW_T_ARR, .u.a = arr };
}

void
lw_arr_push(struct lw_arena *a, struct lw_value *arr, struct lw_value v)
{
    struct lw_arr *r = arr->u.a;
    if (r->n == r->cap) {
        uint32_t cap = r->cap ? r->cap * 2 : 4;
        r->v = lw_arena_realloc(a, r->v, r->cap * sizeof *r->v, cap * sizeof *r->v);
        r->cap = cap;
    }
    r->v[r->n++] = v;
}

struct lw_value
lw_obj_new(struct lw_arena *a, uint32_t cap)
{
    struct lw_obj *o = lw_arena_alloc(a, sizeof *o);
    o->n = 0;
    o->cap = cap;
    o->k = cap ? lw_arena_alloc(a, cap * sizeof *o->k) : NULL;
    o->v = cap ? lw_arena_alloc(a, cap * sizeof *o->v) : NULL;
    o->shape = NULL;
    o->shared = false;
    o->plain = 0;
    return (struct lw_value){ .t = LW_T_OBJ, .u.o = o };
}

/* own_keys: o's key array made o's own before a key is moved: an object made from a literal
 * starts with its shape's keys, which belong to the program. */
static inline __attribute__((always_inline)) void
own_keys(struct lw_arena *a, struct lw_obj *o)
{
    if (o->shape == NULL || o->k != o->shape->keys) return;
    struct lw_str *k = lw_arena_alloc(a, (o->cap + 1) * sizeof *k);
    if (o->n > 0) memcpy(k, o->k, o->n * sizeof *k);
    o->k = k;
}

static inline void append(struct lw_arena *a, struct lw_obj *o, struct lw_str key,
                          struct lw_value v);

struct lw_value *
lw_obj_slot(struct lw_arena *a, struct lw_value *obj, struct lw_str key, bool add, bool *added)
{
    struct lw_obj *o = obj->u.o;
    *added = false;
    for (uint32_t i = o->n; i-- > 0;) { /* the last duplicate wins, as when reading */
        const struct lw_str *k = &o->k[i];
        if (k->len == key.len && (key.len == 0 || (k->p[0] == key.p[0] && lw_str_eq(*k, key))))
            return &o->v[i];
    }
    if (!add) return NULL;
    append(a, o, key, LW_NULL);
    *added = true;
    return &o->v[o->n - 1];
}

void
lw_obj_del(struct lw_arena *a, struct lw_value *obj, uint32_t i)
{
    struct lw_obj *o = obj->u.o;
    own_keys(a, o);
    memmove(o->k + i, o->k + i + 1, (o->n - i - 1) * sizeof *o->k);
    memmove(o->v + i, o->v + i + 1, (o->n - i - 1) * sizeof *o->v);
    o->n--;
    if (i < 64) { /* the keys after i move down one: so do their bits (a 0 comes in at 63) */
        uint64_t low = ((uint64_t)1 << i) - 1;
        o->plain = (o->plain & low) | ((o->plain >> 1) & ~low);
    }
    if (o->shape != NULL && i < o->shape->n) o->shape = NULL; /* its keys moved */
}

static struct lw_value materialize(const struct lw_value *v, uint32_t n, struct lw_arena *a);

struct lw_value
lw_value_copy(const struct lw_value *v, struct lw_arena *a)
{
    if (v->flags & LW_V_RAW) return lw_value_materialize(v, a);
    return lw_value_copy_room(v, 0, a);
}

struct lw_value
lw_value_copy_room(const struct lw_value *v, uint32_t extra, struct lw_arena *a)
{
    struct lw_value c;
    /* an empty container may have no member arrays (NULL): memcpy from NULL is undefined even
     * for 0 bytes (UBSan, tests/fuzz/corpus/fuzz_compile/regress/root-set-then-member-crash.lw) */
    if (v->t == LW_T_OBJ) {
        c = lw_obj_new(a, v->u.o->n + 1 + extra);
        if (v->u.o->n > 0) {
            memcpy(c.u.o->k, v->u.o->k, v->u.o->n * sizeof *c.u.o->k);
            memcpy(c.u.o->v, v->u.o->v, v->u.o->n * sizeof *c.u.o->v);
        }
        c.u.o->n = v->u.o->n;
        c.u.o->shape = v->u.o->shape; /* same keys, same order */
        c.u.o->plain = v->u.o->plain;
    } else {
        c = lw_arr_new(a, v->u.a->n + 1 + extra);
        if (v->u.a->n > 0) memcpy(c.u.a->v, v->u.a->v, v->u.a->n * sizeof *c.u.a->v);
        c.u.a->n = v->u.a->n;
    }
    uint32_t n = v->t == LW_T_OBJ ? c.u.o->n : c.u.a->n;
    struct lw_value *m = v->t == LW_T_OBJ ? c.u.o->v : c.u.a->v;
    for (uint32_t i = 0; i < n; i++)
        lw_value_share(&m[i]);
    return c;
}

/* append: key, not in o, with v at the end. */
static inline __attribute__((always_inline)) void
append(struct lw_arena *a, struct lw_obj *o, struct lw_str key, struct lw_value v)
{
    if (o->n == o->cap) {
        uint32_t cap = o->cap ? o->cap * 2 : 8;
        o->k = lw_arena_realloc(a, o->k, o->cap * sizeof *o->k, cap * sizeof *o->k);
        o->v = lw_arena_realloc(a, o->v, o->cap * sizeof *o->v, cap * sizeof *o->v);
        o->cap = cap;
    }
    own_keys(a, o); /* a literal's keys are the program's: never written */
    o->k[o->n] = key;
    o->v[o->n++] = v;
}

void
lw_obj_set(struct lw_arena *a, struct lw_value *obj, struct lw_str key, struct lw_value v)
{
    struct lw_obj *o = obj->u.o;
    for (uint32_t i = 0; i < o->n; i++) { /* length and first byte rule out most keys */
        const struct lw_str *k = &o->k[i];
        if (k->len == key.len && (key.len == 0 || (k->p[0] == key.p[0] && lw_str_eq(*k, key)))) {
            o->v[i] = v;
            return;
        }
    }
    append(a, o, key, v);
}

struct lw_value
lw_value_materialize(const struct lw_value *v, struct lw_arena *a)
{
    if (!(v->flags & LW_V_RAW) || (v->t != LW_T_ARR && v->t != LW_T_OBJ)) return *v;
    struct lw_json_member items[LW_LIST_MAX];
    size_t n = lw_json_list(rawstr(v), items, LW_LIST_MAX);
    if (n <= LW_LIST_MAX) return lw_value_from_list(v, items, (uint32_t)n, a);
    return materialize(v, (uint32_t)n, a);
}

static inline __attribute__((always_inline)) void build(struct lw_arena *a, struct lw_value *obj,
                                                        struct lw_value kv, struct lw_value v,
                                                        uint64_t *seen);

/* lw_value_from_member: told whether a string has an escape (the walk that listed it knows),
 * it needs no look for one. */
struct lw_value
lw_value_from_member(const struct lw_json_member *m, struct lw_arena *a)
{
    int64_t i;
    double d;
    struct lw_str raw = m->val;
    switch (raw.p[0]) {
    case 'n':
        return LW_NULL;
    case 'f':
        return lw_bool(false);
    case 't':
        return lw_bool(true);
    case '"':
        if (!m->vesc) {
            struct lw_value v = lw_strv(raw.p + 1, raw.len - 2);
            v.flags = LW_V_PLAIN;
            return v;
        } else {
            char *dst = lw_arena_alloc(a, raw.len);
            size_t n = lw_json_unescape(raw, dst);
            return lw_strv(dst, n);
        }
    case '[':
        return (struct lw_value){
            .t = LW_T_ARR, .flags = LW_V_RAW, .len = (uint32_t)raw.len, .u.p = raw.p
        };
    case '{':
        return (struct lw_value){
            .t = LW_T_OBJ, .flags = LW_V_RAW, .len = (uint32_t)raw.len, .u.p = raw.p
        };
    }
    if (lw_json_number(raw, &i, &d) == LW_JSON_INT) return lw_int(i);
    return lw_float(d);
}

struct lw_value
lw_value_from_list(const struct lw_value *v, const struct lw_json_member *items, uint32_t n,
                   struct lw_arena *a)
{
    if (v->t == LW_T_ARR) {
        struct lw_value out = lw_arr_new(a, n);
        for (uint32_t i = 0; i < n; i++) {
            out.u.a->v[i] = lw_value_from_member(&items[i], a);
            lw_raw_gapless(&out.u.a->v[i], v->flags);
        }
        out.u.a->n = n;
        return out;
    }
    struct lw_value out = lw_obj_new(a, n);
    uint64_t seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct lw_value x = lw_value_from_member(&items[i], a);
        lw_raw_gapless(&x, v->flags);
        struct lw_value k = lw_value_json_key(items[i].key, items[i].kesc, a);
        build(a, &out, k, x, &seen);
    }
    return out;
}

struct lw_value
lw_value_copy_counted(const struct lw_value *v, uint32_t n, struct lw_arena *a)
{
    if (v->flags & LW_V_RAW) return materialize(v, n, a);
    return lw_value_copy(v, a);
}

static inline __attribute__((always_inline)) void
build(struct lw_arena *a, struct lw_value *obj, struct lw_value kv, struct lw_value v,
      uint64_t *seen)
{
    struct lw_obj *o = obj->u.o;
    struct lw_str key = { kv.u.p, kv.len };
    uint64_t bit =
        (uint64_t)1 << ((key.len == 0 ? 0 : (unsigned char)key.p[0] * 7u + key.len) & 63);
    if ((*seen & bit) != 0 || o->n == o->cap || o->shape != NULL) {
        *seen |= bit;
        lw_obj_set(a, obj, key, v); /* may repeat a key: set, so the last one wins */
        return;
    }
    *seen |= bit;
    if (o->n < 64 && (kv.flags & LW_V_PLAIN)) o->plain |= (uint64_t)1 << o->n;
    o->k[o->n] = key;
    o->v[o->n++] = v;
}

void
lw_obj_build(struct lw_arena *a, struct lw_value *obj, struct lw_value kv, struct lw_value v,
             uint64_t *seen)
{
    build(a, obj, kv, v, seen);
}

/* materialize: raw container v of n members (lw_value_count's) built in arena a. */
static struct lw_value
materialize(const struct lw_value *v, uint32_t n, struct lw_arena *a)
{
    struct lw_value out = v->t == LW_T_ARR ? lw_arr_new(a, n) : lw_obj_new(a, n);
    struct lw_iter it;
    struct lw_value k, x;
    uint64_t seen = 0;
    lw_iter_init(&it, v);
    while (lw_iter_next(&it, &k, &x, a) == 1) {
        if (v->t == LW_T_ARR)
            lw_arr_push(a, &out, x);
        else
            lw_obj_build(a, &out, k, x, &seen);
    }
    return out;
}

static bool
is_num(const struct lw_value *v)
{
    return v->t == LW_T_INT || v->t == LW_T_FLOAT;
}

static double
num(const struct lw_value *v)
{
    return v->t == LW_T_INT ? (double)v->u.i : v->u.f;
}

/* cmp_int_float: i against f exactly (converting i to double would round above 2^53, so
 * 2^53 + 1 would equal 2^53). f is not NaN. */
static int
cmp_int_float(int64_t i, double f)
{
    if (f >= 9223372036854775808.0) return -1;
    if (f < -9223372036854775808.0) return 1;
    double t = trunc(f); /* now exactly representable as int64_t */
    int64_t ti = (int64_t)t;
    if (i != ti) return i < ti ? -1 : 1;
    return (t < f) ? -1 : (t > f); /* same integer part: the fraction decides */
}

/* cmp_num: order two numbers, neither of them NaN. */
static int
cmp_num(const struct lw_value *a, const struct lw_value *b)
{
    if (a->t == LW_T_INT && b->t == LW_T_INT) return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    if (a->t == LW_T_INT) return cmp_int_float(a->u.i, b->u.f);
    if (b->t == LW_T_INT) return -cmp_int_float(b->u.i, a->u.f);
    double x = a->u.f, y = b->u.f;
    return (x > y) - (x < y);
}

static bool
is_nan(const struct lw_value *v)
{
    return v->t == LW_T_FLOAT && isnan(v->u.f);
}

static int
cmp_bytes(const char *p, size_t n, const char *q, size_t m)
{
    size_t k = n < m ? n : m;
    int c = k ? memcmp(p, q, k) : 0;
    if (c != 0) return c < 0 ? -1 : 1;
    return (n > m) - (n < m);
}

static bool equal(const struct lw_value *a, const struct lw_value *b, struct lw_arena *ar,
                  int depth, uint64_t *left);

static bool
equal_containers(const struct lw_value *a, const struct lw_value *b, struct lw_arena *ar, int depth,
                 uint64_t *left)
{
    /* One unit of *left per container and element compared; at 0 the answer is false at once,
     * so containers that share their elements (exponentially many paths) cost at most *left. */
    if (*left == 0) return false;
    --*left;
    /* one container held twice (b = a, [o, o]) is equal to itself, at any depth and without a
     * walk: a value holding itself twice per level has exponentially many paths */
    bool ra = a->flags & LW_V_RAW, rb = b->flags & LW_V_RAW;
    if (ra && rb && a->u.p == b->u.p && a->len == b->len) return true;
    if (!ra && !rb && (a->t == LW_T_ARR ? a->u.a == b->u.a : a->u.o == b->u.o)) return true;
    if (depth >= LW_JSON_MAX_DEPTH) return false; /* see lw_value_equal */
    if (lw_value_count(a) != lw_value_count(b)) return false;
    struct lw_iter ia, ib;
    struct lw_value ka, va, kb, vb;
    lw_iter_init(&ia, a);
    if (a->t == LW_T_ARR) {
        lw_iter_init(&ib, b);
        while (lw_iter_next(&ia, &ka, &va, ar) == 1) {
            if (*left == 0) return false;
            --*left;
            if (lw_iter_next(&ib, &kb, &vb, ar) != 1) return false;
            if (!equal(&va, &vb, ar, depth + 1, left)) return false;
        }
        return true;
    }
    while (lw_iter_next(&ia, &ka, &va, ar) == 1) {
        if (*left == 0) return false;
        --*left;
        vb = lw_value_get(b, (struct lw_str){ ka.u.p, ka.len }, ar);
        if (!equal(&va, &vb, ar, depth + 1, left)) return false;
    }
    return true;
}

bool
lw_value_equal(const struct lw_value *a, const struct lw_value *b, struct lw_arena *ar)
{
    uint64_t left = UINT64_MAX;
    return equal(a, b, ar, 0, &left);
}

int
lw_value_equal_max(const struct lw_value *a, const struct lw_value *b, struct lw_arena *ar,
                   uint64_t *left)
{
    bool eq = equal(a, b, ar, 0, left);
    return *left == 0 ? -1 : eq;
}

static bool
equal(const struct lw_value *a, const struct lw_value *b, struct lw_arena *ar, int depth,
      uint64_t *left)
{
    if (is_num(a) && is_num(b)) return !is_nan(a) && !is_nan(b) && cmp_num(a, b) == 0;
    if (a->t != b->t) return false;
    switch ((enum lw_type)a->t) {
    case LW_T_NULL:
        return true;
    case LW_T_BOOL:
        return a->u.b == b->u.b;
    case LW_T_STR:
        return a->len == b->len && cmp_bytes(a->u.p, a->len, b->u.p, b->len) == 0;
    case LW_T_TIME:
        return a->u.i == b->u.i;
    case LW_T_ARR:
    case LW_T_OBJ:
        return equal_containers(a, b, ar, depth, left);
    case LW_T_REGEX:
        return a->u.re == b->u.re;
    case LW_T_INT:
    case LW_T_FLOAT:
    case LW_T_N:
        break;
    }
    return false;
}

int
lw_value_compare(const struct lw_value *a, const struct lw_value *b, int *res, struct lw_arena *ar)
{
    (void)ar;
    if (is_num(a) && is_num(b)) {
        if (is_nan(a) || is_nan(b)) return -1;
        *res = cmp_num(a, b);
        return 0;
    }
    if (a->t != b->t) return -1;
    switch (a->t) {
    case LW_T_STR:
        *res = cmp_bytes(a->u.p, a->len, b->u.p, b->len);
        return 0;
    case LW_T_TIME:
        *res = (a->u.i > b->u.i) - (a->u.i < b->u.i);
        return 0;
    case LW_T_BOOL:
        *res = (int)a->u.b - (int)b->u.b;
        return 0;
    }
    return -1;
}

/* opname: the operator as written in the template. */
static const char *
opname(int op)
{
    switch (op) {
    case '+':
        return "+";
    case '-':
        return "-";
    case '*':
        return "*";
    case '/':
        return "/";
    case '%':
        return "%";
    }
    return "//";
}

static int
arith_int(int op, int64_t x, int64_t y, int64_t *r, char *err, size_t errcap)
{
    bool ovf = false;
    switch (op) {
    case '+':
        ovf = __builtin_add_overflow(x, y, r);
        break;
    case '-':
        ovf = __builtin_sub_overflow(x, y, r);
        break;
    case '*':
        ovf = __builtin_mul_overflow(x, y, r);
        break;
    case LW_ARITH_FLOORDIV:
    case '%':
        if (y == 0) {
            snprintf(err, errcap, "%s by zero", op == '%' ? "modulo" : "division");
            return -1;
        }
        if (x == INT64_MIN && y == -1) {
            ovf = op != '%';
            *r = 0;
            break;
        }
        *r = op == '%' ? x % y : x / y - ((x % y != 0) && ((x < 0) != (y < 0)));
        break;
    }
    if (ovf) {
        snprintf(err, errcap, "integer overflow in %" PRId64 " %s %" PRId64, x, opname(op), y);
        return -1;
    }
    return 0;
}

static int
arith_float(int op, double x, double y, double *r, char *err, size_t errcap)
{
    switch (op) {
    case '+':
        *r = x + y;
        break;
    case '-':
        *r = x - y;
        break;
    case '*':
        *r = x * y;
        break;
    case '/':
    case LW_ARITH_FLOORDIV:
    case '%':
        if (y == 0) {
            snprintf(err, errcap, "%s by zero", op == '%' ? "modulo" : "division");
            return -1;
        }
        *r = op == '/' ? x / y : op == '%' ? fmod(x, y) : floor(x / y);
        break;
    }
    if (!isfinite(*r) && isfinite(x) && isfinite(y)) { /* like integer overflow, not null */
        snprintf(err, errcap, "float overflow in %g %s %g", x, opname(op), y);
        return -1;
    }
    return 0;
}

int
lw_value_arith(int op, const struct lw_value *a, const struct lw_value *b, struct lw_value *out,
               struct lw_arena *ar, char *err, size_t errcap)
{
    if (a->t == LW_T_INT && b->t == LW_T_INT && op != '/') {
        out->t = LW_T_INT;
        out->flags = 0;
        return arith_int(op, a->u.i, b->u.i, &out->u.i, err, errcap);
    }
    if (is_num(a) && is_num(b)) {
        /* out may be a or b (the VM computes R[A] = R[A] * R[B]): read both first */
        double x = num(a), y = num(b), f = 0;
        if (arith_float(op, x, y, &f, err, errcap) != 0) return -1;
        *out = lw_float(f);
        return 0;
    }
    if (op == '+' && a->t == LW_T_STR && b->t == LW_T_STR) {
        size_t n = (size_t)a->len + b->len;
        char *p = lw_arena_alloc(ar, n ? n : 1);
        if (a->len) memcpy(p, a->u.p, a->len);
        if (b->len) memcpy(p + a->len, b->u.p, b->len);
        *out = lw_strv(p, n);
        return 0;
    }
    if (a->t == LW_T_TIME && b->t == LW_T_TIME && op == '-') {
        /* The difference of two timestamps is in seconds, as a float. */
        *out = lw_float((double)(a->u.i - b->u.i) / 1e9);
        return 0;
    }
    if (a->t == LW_T_TIME && is_num(b) && (op == '+' || op == '-')) {
        double ns = num(b) * 1e9;
        if (!(fabs(ns) < 9.2e18)) {
            snprintf(err, errcap, "timestamp out of range");
            return -1;
        }
        int64_t r;
        if (arith_int(op, a->u.i, (int64_t)ns, &r, err, errcap) != 0) return -1;
        *out = lw_time(r, (int32_t)a->len);
        return 0;
    }
    static const char *const verbs[] = { ['+'] = "add",
                                         ['-'] = "subtract",
                                         ['*'] = "multiply",
                                         ['/'] = "divide",
                                         [LW_ARITH_FLOORDIV] = "floor-divide",
                                         ['%'] = "take the remainder of" };
    snprintf(err, errcap, "cannot %s %s %s %s", verbs[op], lw_type_name(a->t),
             op == '+'   ? "and"
             : op == '-' ? "from"
                         : "by",
             lw_type_name(b->t));
    if (op == '-') {
        snprintf(err, errcap, "cannot subtract %s from %s", lw_type_name(b->t), lw_type_name(a->t));
    }
    return -1;
}

static int write_json(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar, int depth,
                      size_t max);

int
lw_value_write_json(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar)
{
    return write_json(b, v, ar, 0, SIZE_MAX);
}

int
lw_value_write_json_max(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar, size_t max)
{
    if (b->len > max) return LW_WRITE_TOO_LONG;
    int rc = write_json(b, v, ar, 0, max);
    return rc == 0 && b->len > max ? LW_WRITE_TOO_LONG : rc;
}

/* write_json: v's JSON after b; LW_WRITE_TOO_LONG as soon as b would hold more than max bytes.
 * Every value visited writes at least one byte, so the bytes bound the work as well: containers
 * that share their elements (a = [a, a] in a loop) stop at max instead of growing
 * exponentially. b->len is checked before each container, which writes at least 2 bytes, so
 * a shared container is written again only while there is room; a string or raw slice is
 * refused before it is written when its bytes alone would pass max. What passes max (the
 * escapes of a string, a container's scalars) passes it once, by a bounded amount, and the
 * next check sees it. */
static int write_json(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar, int depth,
                      size_t max);

/* write_plain: the members of an object some of whose keys were read from JSON without
 * escapes (o->plain): those are written as read; '{' is written, '}' is the caller's. */
static int
write_plain(struct lw_buf *b, const struct lw_obj *o, struct lw_arena *ar, int depth, size_t max)
{
    uint64_t plain = o->plain; /* bit 0: the current key's */
    for (uint32_t i = 0; i < o->n; i++, plain >>= 1) {
        if (i) lw_buf_addc(b, ',');
        if (plain & 1) {
            size_t n = o->k[i].len;
            char *d = lw_buf_grow(b, n + 3);
            d[0] = '"';
            lw_copy_small(d + 1, o->k[i].p, n);
            d[n + 1] = '"';
            d[n + 2] = ':';
            b->len += n + 3;
        } else {
            lw_json_write_string(b, o->k[i].p, o->k[i].len);
            lw_buf_addc(b, ':');
        }
        int rc = write_json(b, &o->v[i], ar, depth + 1, max);
        if (rc != 0) return rc;
    }
    lw_buf_addc(b, '}');
    return 0;
}

static int
write_json(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar, int depth, size_t max)
{
    switch ((enum lw_type)v->t) {
    case LW_T_NULL:
        lw_buf_add(b, "null", 4);
        return 0;
    case LW_T_BOOL:
        if (v->u.b)
            lw_buf_add(b, "true", 4);
        else
            lw_buf_add(b, "false", 5);
        return 0;
    case LW_T_INT:
        lw_json_write_int(b, v->u.i);
        return 0;
    case LW_T_FLOAT:
        lw_json_write_double(b, v->u.f);
        return 0;
    case LW_T_STR:
        if (b->len + v->len > max) return LW_WRITE_TOO_LONG;
        if (v->flags & LW_V_PLAIN) { /* as read: nothing to escape */
            char *d = lw_buf_grow(b, (size_t)v->len + 2);
            d[0] = '"';
            lw_copy_small(d + 1, v->u.p, v->len);
            d[v->len + 1] = '"';
            b->len += (size_t)v->len + 2;
            return 0;
        }
        lw_json_write_string(b, v->u.p, v->len);
        return 0;
    case LW_T_TIME:
        lw_buf_addc(b, '"');
        lw_time_rfc3339(b, v->u.i, (int32_t)v->len);
        lw_buf_addc(b, '"');
        return 0;
    case LW_T_ARR:
    case LW_T_OBJ:
        break;
    case LW_T_REGEX:
    case LW_T_N:
        return -1;
    }
    if (v->flags & LW_V_RAW) {
        if (b->len + v->len > max) return LW_WRITE_TOO_LONG;
        if (v->flags & LW_V_PLAIN) /* compact already (LW_V_PLAIN on a raw container) */
            lw_buf_add(b, v->u.p, v->len);
        else
            lw_json_write_compact(b, rawstr(v));
        return 0;
    }
    /* A template can nest values without bound (a = [a] in a loop); recursing that deep
     * would overflow the stack, and no JSON reader would take the text back. */
    if (depth >= LW_JSON_MAX_DEPTH) return -1;
    if (b->len > max) return LW_WRITE_TOO_LONG;
    if (v->t == LW_T_ARR) {
        lw_buf_addc(b, '[');
        for (uint32_t i = 0; i < v->u.a->n; i++) {
            if (i) lw_buf_addc(b, ',');
            int rc = write_json(b, &v->u.a->v[i], ar, depth + 1, max);
            if (rc != 0) return rc;
        }
        lw_buf_addc(b, ']');
        return 0;
    }
    lw_buf_addc(b, '{');
    const struct lw_obj *o = v->u.o;
    uint32_t shaped = o->shape ? o->shape->n : 0;
    if (o->plain != 0 && shaped == 0) return write_plain(b, o, ar, depth, max);
    for (uint32_t i = 0; i < o->n; i++) {
        if (i) lw_buf_addc(b, ',');
        if (i < shaped) {
            lw_buf_add(b, o->shape->json[i].p, o->shape->json[i].len);
        } else {
            lw_json_write_string(b, o->k[i].p, o->k[i].len);
            lw_buf_addc(b, ':');
        }
        int rc = write_json(b, &o->v[i], ar, depth + 1, max);
        if (rc != 0) return rc;
    }
    lw_buf_addc(b, '}');
    return 0;
}

int
lw_value_write_text(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar)
{
    return lw_value_write_text_max(b, v, ar, SIZE_MAX);
}

int
lw_value_write_text_max(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar, size_t max)
{
    if (b->len > max) return LW_WRITE_TOO_LONG;
    switch (v->t) {
    case LW_T_STR:
        if (b->len + v->len > max) return LW_WRITE_TOO_LONG;
        lw_buf_add(b, v->u.p, v->len);
        return 0;
    case LW_T_TIME:
        lw_time_rfc3339(b, v->u.i, (int32_t)v->len);
        return b->len > max ? LW_WRITE_TOO_LONG : 0;
    }
    return lw_value_write_json_max(b, v, ar, max);
}

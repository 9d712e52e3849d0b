/* struct lw_value: the template language's values, copied by value (16 bytes), never refcounted.
 * Strings are views into the record or the record arena. Arrays and objects are either
 * materialised in an arena or still a raw slice of validated JSON text (LW_V_RAW): the lazy
 * reader hands out raw slices and nothing is parsed until a template looks inside.
 * This file owns the value rules: conversion, equality, ordering, arithmetic, string form. */
#ifndef LW_VALUE_H
#define LW_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "lw/arena.h"
#include "lw/buf.h"
#include "lw/json.h"
#include "lw/str.h"

enum lw_type {
    LW_T_NULL,
    LW_T_BOOL,
    LW_T_INT,
    LW_T_FLOAT,
    LW_T_STR,
    LW_T_ARR,
    LW_T_OBJ,
    LW_T_TIME,
    LW_T_REGEX, /* only as a function argument; cannot be stored in output */
    LW_T_N
};

#define LW_V_RAW 0x01 /* LW_T_ARR/LW_T_OBJ: p/len is a validated JSON text slice */
/* LW_T_REGEX constants that are other compiled patterns (u.ext), made by compile.c for the
 * 'P' arguments of builtins.def: */
#define LW_V_GROK    0x02 /* u.ext is a struct lw_grok (grok.h) */
#define LW_V_DISSECT 0x04 /* u.ext is a struct lw_dissect (dissect.h) */
/* LW_T_STR: the bytes of a validated JSON string that had no escape, so its JSON text is
 * them between quotes (no byte needs escaping; they are valid UTF-8). Only lw_value_from_json
 * sets it; a value with other bytes is a new value (flags 0). */
#define LW_V_PLAIN 0x08
/* LW_V_PLAIN on a raw container (LW_V_RAW): its text has no whitespace or NUL outside its
 * strings, so it is written as it is (no compaction); set on a record read compact
 * (lw_json_scan_members' gapless) and passed on to the raw values sliced from it
 * (lw_raw_gapless). */

struct lw_arr;
struct lw_obj;
struct lw_regex;

struct lw_value {
    uint8_t t;     /* enum lw_type */
    uint8_t flags; /* LW_V_* */
    uint16_t pad;
    uint32_t len; /* STR/raw: byte length; TIME: UTC offset in seconds (as int32) */
    union {
        bool b;
        int64_t i; /* INT; TIME: nanoseconds since the epoch; NULL: 0, or the pc + 1 of
                    * the call (CALL, DELPATH, FCALL) that returned it, so emit names it */
        double f;
        const char *p;
        struct lw_arr *a;
        struct lw_obj *o;
        const struct lw_regex *re;
        const void *ext; /* LW_V_GROK, LW_V_DISSECT */
    } u;
};

/* shared: more than one holder (variable, register, container, the record) may see this
 * container, so a write copies it first (copy on write); a container with one holder is
 * changed in place. Set by lw_value_share wherever a value is copied, never cleared; the
 * compiler sets it on the containers it makes constants (the program is never written). */
struct lw_arr {
    uint32_t n, cap;
    struct lw_value *v;
    bool shared;
};

/* A shape: the keys of an object literal, known at compile time, with their JSON text
 * ("key":) encoded once, so emitting the object never escapes a key again. */
struct lw_shape {
    uint32_t n;
    struct lw_str *keys;
    struct lw_str *json;
};

struct lw_obj {
    uint32_t n, cap;
    struct lw_str *k;
    struct lw_value *v;
    const struct lw_shape *shape; /* keys [0, shape->n) are shape->keys, or NULL */
    bool shared;                  /* as lw_arr's */
    uint64_t plain; /* bit i (i < 64): key i was read from JSON without escapes (LW_V_PLAIN) */
};

#define LW_NULL ((struct lw_value){ .t = LW_T_NULL })

static inline struct lw_value
lw_int(int64_t i)
{
    return (struct lw_value){ .t = LW_T_INT, .u.i = i };
}
static inline struct lw_value
lw_float(double f)
{
    return (struct lw_value){ .t = LW_T_FLOAT, .u.f = f };
}
static inline struct lw_value
lw_bool(bool b)
{
    return (struct lw_value){ .t = LW_T_BOOL, .u.b = b };
}
static inline struct lw_value
lw_strv(const char *p, size_t len)
{
    return (struct lw_value){ .t = LW_T_STR, .len = (uint32_t)len, .u.p = p };
}
static inline struct lw_value
lw_time(int64_t ns, int32_t off)
{
    return (struct lw_value){ .t = LW_T_TIME, .len = (uint32_t)off, .u.i = ns };
}

/* lw_type_name: "null", "bool", "int", "float", "string", "array", "object", "timestamp". */
const char *lw_type_name(enum lw_type t);

/* lw_value_from_json: turn a validated raw JSON value slice into a value: scalars are decoded,
 * strings are unescaped into a (zero-copy when they hold no escape), arrays and objects stay
 * raw slices. Called only for values a template reads, so unused data is never decoded. */
struct lw_value lw_value_from_json(struct lw_str raw, struct lw_arena *a);
/* lw_value_json_key: lw_value_from_json of key token tok (a string), told whether it has an
 * escape (kesc, as the scan or walk that found it knows). */
struct lw_value lw_value_json_key(struct lw_str tok, bool kesc, struct lw_arena *a);

/* Containers: these accept both materialised and raw values. */
uint32_t lw_value_count(const struct lw_value *v);
/* lw_value_get: member named key of an object (last duplicate wins), or null. */
struct lw_value lw_value_get(const struct lw_value *obj, struct lw_str key, struct lw_arena *a);
/* lw_value_at: element i of an array (negative counts from the end), or null. */
struct lw_value lw_value_at(const struct lw_value *arr, int64_t i, struct lw_arena *a);

/* Iteration over arrays and objects, raw or not. *key is null for arrays. */
struct lw_iter {
    const struct lw_value *c;
    uint32_t i;
    struct lw_json_iter j; /* cursor over a raw container */
};
void lw_iter_init(struct lw_iter *it, const struct lw_value *c);
/* 1 item, 0 end. For objects *key is the member name (unescaped into a when needed). */
int lw_iter_next(struct lw_iter *it, struct lw_value *key, struct lw_value *val,
                 struct lw_arena *a);

/* lw_value_materialize: an arena copy of a raw array or object (one level; children stay raw),
 * so it can be modified. Materialised values are returned as they are. */
struct lw_value lw_value_materialize(const struct lw_value *v, struct lw_arena *a);

/* lw_raw_gapless: when v is a raw container, mark it gapless when plain (the LW_V_PLAIN flag of
 * the raw value it was sliced from) is. */
static inline void
lw_raw_gapless(struct lw_value *v, uint8_t plain)
{
    if (v->flags & LW_V_RAW) v->flags |= plain & LW_V_PLAIN;
}

/* lw_value_share: v is now held in one more place: a materialised container of it is marked
 * shared, so neither holder changes it in place (raw ones never change). Writes nothing when
 * the mark is there already, so constants of the program are never written. */
static inline void
lw_value_share(const struct lw_value *v)
{
    if ((unsigned)v->t - LW_T_ARR > LW_T_OBJ - LW_T_ARR || (v->flags & LW_V_RAW)) return;
    if (v->t == LW_T_ARR) {
        if (!v->u.a->shared) v->u.a->shared = true;
    } else if (!v->u.o->shared) {
        v->u.o->shared = true;
    }
}

/* lw_value_is_shared: a container that must be copied before it is changed (raw or shared). */
static inline bool
lw_value_is_shared(const struct lw_value *v)
{
    return (v->flags & LW_V_RAW) || (v->t == LW_T_ARR && v->u.a->shared) ||
           (v->t == LW_T_OBJ && v->u.o->shared);
}

/* lw_value_copy: a copy of container v (raw or not) that may be changed in place, in arena a,
 * with room for one more member; the members are shared between v and the copy (marked so).
 * The caller checks the size (lw_value_count) against its limits first. */
struct lw_value lw_value_copy(const struct lw_value *v, struct lw_arena *a);
/* lw_value_copy_room: lw_value_copy of a materialised container with room for extra more. */
struct lw_value lw_value_copy_room(const struct lw_value *v, uint32_t extra, struct lw_arena *a);
/* lw_obj_build: lw_obj_set for an object being built member after member (from JSON text,
 * which may repeat a key): a key that cannot have been seen (by *seen, a bit per hash of the
 * keys so far, 0 at first) is appended without a search. key is a string value, LW_V_PLAIN
 * when read without escapes (lw_value_json_key). */
void lw_obj_build(struct lw_arena *a, struct lw_value *obj, struct lw_value key, struct lw_value v,
                  uint64_t *seen);

/* lw_value_from_list: the materialised copy of raw container v (what lw_value_materialize
 * makes of it, with room for n members) from the list of all its n members or elements
 * (lw_json_list, or the decoder's list of a record's members), without walking its text again. */
struct lw_value lw_value_from_list(const struct lw_value *v, const struct lw_json_member *items,
                                   uint32_t n, struct lw_arena *a);
/* lw_value_from_member: lw_value_from_json of a listed member's (or element's) value. */
struct lw_value lw_value_from_member(const struct lw_json_member *m, struct lw_arena *a);
/* lw_obj_plain_last: the last member of materialised object obj, just added, has key k: when k
 * is LW_V_PLAIN (lw_value_json_key), it is written as read (struct lw_obj's plain). */
static inline void
lw_obj_plain_last(struct lw_value *obj, struct lw_value k)
{
    struct lw_obj *o = obj->u.o;
    if ((k.flags & LW_V_PLAIN) && o->n <= 64 && o->shape == NULL)
        o->plain |= (uint64_t)1 << (o->n - 1);
}
/* How many members a caller lists on its stack (lw_json_list) before it falls back to counting
 * and then copying a raw container (two walks). */
#define LW_LIST_MAX 64

/* lw_value_copy_counted: lw_value_copy when the caller has n = lw_value_count(v) already (a
 * raw container is then not walked twice). */
struct lw_value lw_value_copy_counted(const struct lw_value *v, uint32_t n, struct lw_arena *a);

/* Building. New containers live in arena a. */
struct lw_value lw_arr_new(struct lw_arena *a, uint32_t cap);
void lw_arr_push(struct lw_arena *a, struct lw_value *arr, struct lw_value v);
struct lw_value lw_obj_new(struct lw_arena *a, uint32_t cap);
/* lw_obj_set: set member key (replaces an existing one in place, keeping its position). */
void lw_obj_set(struct lw_arena *a, struct lw_value *obj, struct lw_str key, struct lw_value v);
/* lw_obj_slot: the value of member key of materialised object obj, added as null at the end
 * when absent (*added set) if add, else NULL when absent. */
struct lw_value *lw_obj_slot(struct lw_arena *a, struct lw_value *obj, struct lw_str key, bool add,
                             bool *added);
/* lw_obj_del: remove member i of materialised object obj (the later ones move up). */
void lw_obj_del(struct lw_arena *a, struct lw_value *obj, uint32_t i);

/* The rules (documented in logwash-template.7):
 * truthiness: null and false are false, every other value is true;
 * equality: ints and floats compare numerically, other types only equal to their own type,
 *   arrays and objects deep (object member order does not matter; a container is equal to
 *   itself at once; other containers nested deeper than LW_JSON_MAX_DEPTH, which only a
 *   template loop can build, compare unequal);
 * ordering: numbers with numbers, strings bytewise, timestamps, bools; else an error. */
static inline bool
lw_value_truthy(const struct lw_value *v) /* inline: every jump on a condition asks it */
{
    return !(v->t == LW_T_NULL || (v->t == LW_T_BOOL && !v->u.b));
}
bool lw_value_equal(const struct lw_value *a, const struct lw_value *b, struct lw_arena *ar);
/* lw_value_equal_max: the same, counting one unit of *left per container and element
 * compared: 1 equal, 0 not, -1 when *left ran out first (it is then 0). */
int lw_value_equal_max(const struct lw_value *a, const struct lw_value *b, struct lw_arena *ar,
                       uint64_t *left);
/* lw_value_compare: -1/0/1 in *res, or -1 return (incomparable types). */
int lw_value_compare(const struct lw_value *a, const struct lw_value *b, int *res,
                     struct lw_arena *ar);

/* Arithmetic. op is one of '+', '-', '*', '/', '%' or LW_ARITH_FLOORDIV ('//'). '/' of two
 * numbers is always a float (7 / 2 is 3.5); '//' floors (int // int is an int, -7 // 2 is -4;
 * with a float operand a float: floor(x / y)); '%' of ints keeps the sign of the dividend.
 * Returns 0, or -1 with a message in err (errcap bytes): integer overflow, float overflow (an
 * infinite result from finite operands), division by zero, bad operand types. */
#define LW_ARITH_FLOORDIV 'F'
int lw_value_arith(int op, const struct lw_value *a, const struct lw_value *b, struct lw_value *out,
                   struct lw_arena *ar, char *err, size_t errcap);

/* lw_value_write_json: compact JSON for v (timestamps as RFC 3339 strings). Fails (-1) only
 * for values that have no JSON form: a regex, or containers nested deeper than
 * LW_JSON_MAX_DEPTH (a template loop can build them). b may then hold a partial text. */
int lw_value_write_json(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar);

/* lw_value_write_text: the string form used by str() and "${...}": strings as they are,
 * numbers and bools as in JSON, null as "null", timestamps as RFC 3339, containers as JSON. */
int lw_value_write_text(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar);

/* lw_value_write_json_max, lw_value_write_text_max: the same, but they stop and return
 * LW_WRITE_TOO_LONG as soon as b would hold more than max bytes (b->len counts, so max is
 * where the caller's text may end, not a length of its own). The work done is bounded by
 * the bytes written, so a value whose containers share their elements, whose text would be
 * exponentially long, costs at most max bytes of work. b may then hold up to about 6 * max
 * bytes (one string's escapes), which the caller discards. */
#define LW_WRITE_TOO_LONG (-2)
int lw_value_write_json_max(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar,
                            size_t max);
int lw_value_write_text_max(struct lw_buf *b, const struct lw_value *v, struct lw_arena *ar,
                            size_t max);

#endif

/* Differential fuzzer for json.c: lw_json_scan must accept exactly what jansson's json_loadb
 * accepts with the flags of ACCEPT (\u0000 in strings, integers of any size that fit a double),
 * but for one case jansson cannot represent (\u0000 in an object key), and on valid input every
 * slice json.c hands out (scan, get, at, iter) must mean what jansson's tree says: same kinds,
 * numbers, unescaped strings and member counts. The input also exercises the writer: its bytes as a
 * string, an int64 and a double. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "lw/buf.h"
#include "lw/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond)                                                                                 \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_jsondiff: %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The tree compared with json.c's slices keeps integers as integers, unless one is beyond int64:
 * then it is ACCEPT's, with every integer a real. */
#define EXACT (JSON_DECODE_ANY | JSON_ALLOW_NUL)

static json_t *
reparse(struct lw_str v, struct lw_buf *b, size_t flags)
{
    json_error_t e;
    b->len = 0;
    lw_json_write_compact(b, v);
    json_t *j = json_loadb(b->p, b->len, flags, &e);
    MUST(j != NULL);
    return j;
}

static void same(json_t *j, struct lw_str v, struct lw_buf *b);

static void
same_string(json_t *j, struct lw_str v)
{
    MUST(lw_json_kind(v) == LW_JSON_STRING && v.len >= 2);
    char *dst = malloc(v.len);
    size_t n = lw_json_unescape(v, dst);
    MUST(n == json_string_length(j) && memcmp(dst, json_string_value(j), n) == 0);
    if (!lw_json_str_has_escape(v)) MUST(n == v.len - 2 && memcmp(dst, v.p + 1, n) == 0);
    free(dst);
}

/* lw_json_list of container v (up to 8 kept) gives what the iterator gives, with vesc. */
static void
same_list(struct lw_str v)
{
    struct lw_json_member li[8];
    size_t n = lw_json_list(v, li, 8), i = 0;
    MUST(n == lw_json_count(v));
    struct lw_json_iter it;
    struct lw_str k, x;
    bool kesc;
    lw_json_iter_init(&it, v);
    for (; i < n && i < 8 && lw_json_iter_next_esc(&it, &k, &x, &kesc); i++) {
        MUST(li[i].key.p == k.p && li[i].key.len == k.len && li[i].kesc == kesc);
        MUST(li[i].val.p == x.p && li[i].val.len == x.len);
        MUST(li[i].vesc == (lw_json_kind(x) == LW_JSON_STRING && lw_json_str_has_escape(x)));
    }
    MUST(i == (n < 8 ? n : 8));
}

static void
same_array(json_t *j, struct lw_str v, struct lw_buf *b)
{
    MUST(lw_json_kind(v) == LW_JSON_ARRAY);
    same_list(v);
    MUST(lw_json_count(v) == json_array_size(j));
    struct lw_json_iter it;
    struct lw_str k, x, y;
    size_t i = 0;
    lw_json_iter_init(&it, v);
    while (lw_json_iter_next(&it, &k, &x)) {
        MUST(k.p == NULL && i < json_array_size(j));
        MUST(lw_json_at(v, i, &y) == 1 && y.p == x.p && y.len == x.len);
        same(json_array_get(j, i), x, b);
        i++;
    }
    MUST(i == json_array_size(j) && lw_json_at(v, i, &y) == 0);
}

static void
same_object(json_t *j, struct lw_str v, struct lw_buf *b)
{
    MUST(lw_json_kind(v) == LW_JSON_OBJECT);
    same_list(v);
    struct lw_json_iter it;
    struct lw_str k, x, y, k2, x2;
    size_t n = 0, last = 0;
    lw_json_iter_init(&it, v);
    while (lw_json_iter_next(&it, &k, &x)) {
        n++;
        MUST(lw_json_kind(k) == LW_JSON_STRING);
        char *key = malloc(k.len);
        size_t klen = lw_json_unescape(k, key);
        json_t *jv = json_object_getn(j, key, klen);
        MUST(jv != NULL);
        MUST(lw_json_get(v, key, klen, &y) == 1);
        /* is this the last member with this key? then it is the one jansson kept */
        struct lw_json_iter it2 = it;
        bool later = false;
        while (lw_json_iter_next(&it2, &k2, &x2)) {
            char *key2 = malloc(k2.len);
            size_t klen2 = lw_json_unescape(k2, key2);
            later |= klen2 == klen && memcmp(key, key2, klen) == 0;
            free(key2);
        }
        if (!later) {
            MUST(y.p == x.p && y.len == x.len);
            last++;
        }
        free(key);
    }
    MUST(n == lw_json_count(v) && last == json_object_size(j));
    const char *key;
    json_t *jv;
    json_object_foreach(j, key, jv)
    {
        MUST(lw_json_get(v, key, strlen(key), &y) == 1);
        same(jv, y, b);
    }
}

/* v is a value slice that must mean the same as j. */
static void
same(json_t *j, struct lw_str v, struct lw_buf *b)
{
    int64_t i;
    double d;
    MUST(v.len > 0 && lw_json_skip(v.p, v.p + v.len) == v.len);
    switch (json_typeof(j)) {
    case JSON_NULL:
        MUST(lw_json_kind(v) == LW_JSON_NULL && v.len == 4);
        break;
    case JSON_TRUE:
        MUST(lw_json_kind(v) == LW_JSON_TRUE && v.len == 4);
        break;
    case JSON_FALSE:
        MUST(lw_json_kind(v) == LW_JSON_FALSE && v.len == 5);
        break;
    case JSON_INTEGER:
        MUST(lw_json_kind(v) == LW_JSON_INT);
        MUST(lw_json_number(v, &i, &d) == LW_JSON_INT && i == json_integer_value(j));
        break;
    case JSON_REAL: {
        double jd = json_real_value(j);
        if (lw_json_kind(v) == LW_JSON_INT) { /* the ACCEPT tree: an integer read as a real */
            int r = lw_json_number(v, &i, &d);
            MUST((r == LW_JSON_INT && (double)i == jd) || (r == LW_JSON_REAL && d == jd));
            break;
        }
        MUST(lw_json_kind(v) == LW_JSON_REAL);
        MUST(lw_json_number(v, &i, &d) == LW_JSON_REAL);
        MUST(memcmp(&d, &jd, sizeof d) == 0);
        b->len = 0;
        lw_json_write_double(b, d);
        json_error_t e;
        json_t *back = json_loadb(b->p, b->len, JSON_DECODE_ANY, &e);
        MUST(back != NULL && json_is_real(back));
        jd = json_real_value(back);
        MUST(memcmp(&d, &jd, sizeof d) == 0);
        json_decref(back);
        break;
    }
    case JSON_STRING:
        same_string(j, v);
        break;
    case JSON_ARRAY:
        same_array(j, v, b);
        break;
    case JSON_OBJECT:
        same_object(j, v, b);
        break;
    }
}

/* The top-level object: lw_json_scan with jansson's keys (plus one absent) returns the slices
 * lw_json_get finds. */
static void
scan_keys(json_t *j, const char *p, size_t size, struct lw_str top)
{
    size_t n = json_object_size(j) + 1, i = 0;
    struct lw_str *keys = calloc(n, sizeof *keys), *vals = calloc(n, sizeof *vals);
    const char *key;
    json_t *jv;
    json_object_foreach(j, key, jv)
    {
        keys[i++] = lw_str_c(key);
    }
    keys[i] = LW_STR_LIT("no such key\x01");
    struct lw_json_err err;
    MUST(lw_json_scan(p, size, keys, n, vals, &err) == 0);
    /* the decoder's list of the members: the same as lw_json_list's of the object */
    struct lw_json_member all[8], li[8];
    size_t nall = 0, nli = lw_json_list(top, li, 8);
    MUST(lw_json_scan_members(p, size, NULL, 0, NULL, all, 8, &nall, NULL, &err) == 0 &&
         nall == nli);
    for (size_t m = 0; m < nall && m < 8; m++) {
        MUST(all[m].key.p == li[m].key.p && all[m].key.len == li[m].key.len);
        MUST(all[m].val.p == li[m].val.p && all[m].val.len == li[m].val.len);
        MUST(all[m].kesc == li[m].kesc && all[m].vesc == li[m].vesc);
    }
    for (i = 0; i < n; i++) {
        struct lw_str y;
        if (lw_json_get(top, keys[i].p, keys[i].len, &y)) {
            MUST(vals[i].p == y.p && vals[i].len == y.len);
        } else {
            MUST(vals[i].p == NULL && json_object_getn(j, keys[i].p, keys[i].len) == NULL);
        }
    }
    free(keys);
    free(vals);
}

static bool
has_fffd(const char *s, size_t len)
{
    for (size_t i = 0; i + 3 <= len; i++) {
        if (memcmp(s + i, "\xef\xbf\xbd", 3) == 0) return true;
    }
    return false;
}

static void
writer(const uint8_t *data, size_t size, struct lw_buf *b)
{
    json_error_t e;
    b->len = 0;
    lw_json_write_string(b, (const char *)data, size);
    json_t *j = json_loadb(b->p, b->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    MUST(j != NULL && json_is_string(j));
    json_t *ref = json_stringn_nocheck((const char *)data, size);
    json_t *checked = json_stringn((const char *)data, size); /* NULL when not UTF-8 */
    if (checked != NULL) {
        MUST(json_equal(j, ref));
    } else {
        MUST(has_fffd(json_string_value(j), json_string_length(j)));
    }
    json_decref(checked);
    json_decref(ref);
    json_decref(j);
    if (size >= 8) {
        int64_t i;
        double d;
        memcpy(&i, data, 8);
        memcpy(&d, data, 8);
        b->len = 0;
        lw_json_write_int(b, i);
        j = json_loadb(b->p, b->len, JSON_DECODE_ANY, &e);
        MUST(j != NULL && json_is_integer(j) && json_integer_value(j) == i);
        json_decref(j);
        b->len = 0;
        lw_json_write_double(b, d);
        j = json_loadb(b->p, b->len, JSON_DECODE_ANY, &e);
        MUST(j != NULL);
        if (isfinite(d)) {
            double back = json_is_real(j) ? json_real_value(j) : NAN;
            MUST(memcmp(&back, &d, sizeof d) == 0 || (d == 0 && back == 0));
        } else {
            MUST(json_is_null(j));
        }
        json_decref(j);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    json_error_t e;
    struct lw_json_err err = { 0 };
    struct lw_buf b;
    lw_buf_init(&b);
    bool nul_key;
    json_t *j = accept_load(p, size, &e, &nul_key);
    int r = lw_json_validate(p, size, &err);
    if (nul_key) { /* acceptance compared (accept.h); the tree has \u0001 in those keys */
        MUST((j != NULL) == (r == 0));
        json_decref(j);
        writer(data, size, &b);
        lw_buf_fini(&b);
        return 0;
    }
    if ((j != NULL) != (r == 0)) {
        fprintf(stderr, "fuzz_jsondiff: jansson %s (%s at %d), lw_json %s (%s at %zu)\n",
                j ? "accepts" : "rejects", j ? "-" : e.text, j ? -1 : e.position,
                r == 0 ? "accepts" : "rejects", r == 0 ? "-" : err.msg, err.off);
        abort();
    }
    if (j == NULL) {
        MUST(err.off <= size && err.msg[0] != '\0');
    } else {
        const char *s = p;
        while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
            s++;
        }
        struct lw_str top = { s, lw_json_skip(s, end) };
        size_t flags = EXACT;
        json_t *exact = json_loadb(p, size, EXACT, &e);
        if (exact != NULL) {
            json_decref(j);
            j = exact;
        } else {
            flags = ACCEPT;
        }
        same(j, top, &b);
        json_t *again = reparse(top, &b, flags);
        MUST(json_equal(j, again));
        json_decref(again);
        /* gapless (the encoder then copies the container's slices as they are): exactly when
         * compacting it changes nothing */
        if (top.len > 0 && (top.p[0] == '{' || top.p[0] == '[')) {
            struct lw_json_member all[8];
            size_t nall;
            bool gapless = false;
            MUST(lw_json_scan_members(p, size, NULL, 0, NULL, all, 8, &nall, &gapless, &err) == 0);
            b.len = 0;
            lw_json_write_compact(&b, top);
            MUST(gapless == (b.len == top.len && memcmp(b.p, top.p, top.len) == 0));
        }
        if (json_is_object(j)) scan_keys(j, p, size, top);
        json_decref(j);
    }
    writer(data, size, &b);
    lw_buf_fini(&b);
    return 0;
}

/* Splitting key=value / logfmt text into pairs, and the typing of scalar values (W3).
 * The splitter follows the W3 reference regex (see lw/kv.h for where it differs on garbage);
 * it never allocates: values point into the input or, when unescaped, into the caller's
 * scratch. Building records from the pairs is the decoder's job. */
#include "lw/kv.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw/json.h"

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Byte classes of the splitter's table: one lookup per byte in the scanning loops. */
enum { C_SEP = 1, C_KV = 2 };

/* The splitter's view of the options. */
struct kv {
    const char *s;
    size_t len;
    const struct lw_kv_opts *o;
    bool ws; /* field_sep ' ': any whitespace run separates */
    uint8_t cls[256];
};

/* at_long: at() when a separator is longer than one byte: it must follow whole. */
static size_t
at_long(const struct kv *k, size_t i, unsigned c)
{
    const struct lw_kv_opts *o = k->o;
    if ((c & C_SEP) && (o->field_len <= 1 || (k->len - i >= o->field_len &&
                                              memcmp(k->s + i, o->field_str, o->field_len) == 0)))
        return o->field_len > 1 ? o->field_len : 1;
    if ((c & C_KV) && (o->kv_len <= 1 ||
                       (k->len - i >= o->kv_len && memcmp(k->s + i, o->kv_str, o->kv_len) == 0)))
        return o->kv_len > 1 ? o->kv_len : 1;
    return 0;
}

/* at: the length of the separator of class want (C_SEP, C_KV or both) that starts at s[i],
 * or 0: one table lookup per byte, whatever the separators. */
static inline size_t
at(const struct kv *k, bool long_seps, size_t i, unsigned want)
{
    unsigned c = k->cls[(unsigned char)k->s[i]] & want;
    if (c == 0) return 0;
    return long_seps ? at_long(k, i, c) : 1;
}

/* classes: fill k->cls from the options. */
static void
classes(struct kv *k)
{
    memset(k->cls, 0, sizeof k->cls);
    if (k->ws) {
        for (const char *w = " \t\n\r\f\v"; *w; w++)
            k->cls[(unsigned char)*w] |= C_SEP;
    } else {
        k->cls[(unsigned char)k->o->field_sep] |= C_SEP;
    }
    k->cls[(unsigned char)k->o->kv_sep] |= C_KV;
}

static bool
is_quote(const struct kv *k, char c)
{
    return (k->o->quote != 0 && c == k->o->quote) || (k->o->quote2 != 0 && c == k->o->quote2);
}

/* Strip blanks from both ends of [*b, *e) when the options ask for it. */
static void
trim(const struct kv *k, size_t *b, size_t *e)
{
    if (k->ws || !k->o->trim) return;
    while (*b < *e && is_blank(k->s[*b])) {
        ++*b;
    }
    while (*e > *b && is_blank(k->s[*e - 1])) {
        --*e;
    }
}

/* The quoted value opening at s[q]: sets *end to its closing quote, or returns false. */
static bool
close_quote(const struct kv *k, size_t q, size_t *end, bool *escaped)
{
    char want = k->s[q];
    *escaped = false;
    for (size_t i = q + 1; i < k->len; i++) {
        /* Jump to the next quote; a backslash before it means the slow walk. */
        const char *p = memchr(k->s + i, want, k->len - i);
        if (p == NULL) return false;
        size_t at = (size_t)(p - k->s);
        if (memchr(k->s + i, '\\', at - i) == NULL) {
            *end = at;
            return true;
        }
        for (; i < k->len; i++) {
            if (k->s[i] == want) {
                *end = i;
                return true;
            }
            if (k->s[i] == '\\') {
                *escaped = true;
                i++; /* the escaped byte, even a quote, is text */
            }
        }
        return false;
    }
    return false;
}

/* escape: with o->escapes, the byte \X at s[i] stands for (\uXXXX: a code point, a surrogate
 * pair as one, a lone surrogate as U+FFFD); writes it at out, returns its length, and sets *used
 * to the input bytes after the backslash. 0 when X is not one of them. */
static size_t
escape(const char *s, size_t i, size_t e, char *out, size_t *used)
{
    static const char ctl[128] = {
        ['n'] = '\n', ['t'] = '\t', ['r'] = '\r', ['b'] = '\b', ['f'] = '\f'
    };
    unsigned char x = (unsigned char)s[i];
    if (x < 128 && ctl[x]) {
        *out = ctl[x];
        *used = 1;
        return 1;
    }
    unsigned long c;
    size_t u = x == 'u' ? lw_json_u_escape(s + i + 1, s + e, &c) : 0;
    if (u == 0) return 0;
    *used = 1 + u;
    if (c >= 0xD800 && c < 0xE000) c = 0xFFFD;
    return lw_utf8_put(out, c);
}

/* Unescape s[b..e) into scratch at offset b; returns the value. It never grows: each escape is
 * at least as long as what it stands for (\uXXXX: 6 bytes for at most 3; a pair: 12 for 4). */
static struct lw_str
unescape(const struct kv *k, char *scratch, size_t b, size_t e)
{
    char *out = scratch + b;
    size_t n = 0;
    char q = b > 0 ? k->s[b - 1] : 0; /* the opening quote */
    for (size_t i = b; i < e; i++) {
        if (k->s[i] == '\\' && i + 1 < e && k->o->keep_backslash && k->s[i + 1] != q &&
            k->s[i + 1] != '\\') {
            out[n++] = k->s[i]; /* parse_kv: a backslash that escapes nothing stays */
            continue;
        }
        if (k->s[i] == '\\' && i + 1 < e) {
            size_t used, w = k->o->escapes ? escape(k->s, i + 1, e, out + n, &used) : 0;
            if (w > 0) {
                n += w;
                i += used;
                continue;
            }
            i++;
        }
        out[n++] = k->s[i];
    }
    return (struct lw_str){ out, n };
}

const char *
lw_kv_seps_check(struct lw_str field, struct lw_str kv)
{
    if (field.len == 0 || field.len > LW_KV_SEP_MAX)
        return "the field separator must be 1 to 16 bytes";
    if (kv.len == 0 || kv.len > LW_KV_SEP_MAX) return "the key separator must be 1 to 16 bytes";
    size_t n = field.len < kv.len ? field.len : kv.len;
    if (memcmp(field.p, kv.p, n) == 0) {
        return field.len == kv.len ? "the field and key separators are the same"
                                   : "one separator starts with the other";
    }
    return NULL;
}

/* next_sep: the offset of the next field separator at or after i, or the end. */
static size_t
next_sep(const struct kv *k, bool long_seps, size_t i)
{
    while (i < k->len && at(k, long_seps, i, C_SEP) == 0)
        i++;
    return i;
}

/* quoted_key: the key quoted at s[*i] (unescaped into scratch when it holds a backslash);
 * *i after its closing quote. -1 when the quote is not closed. */
static int
quoted_key(const struct kv *k, char *scratch, size_t *i, struct lw_str *key)
{
    size_t end;
    bool escaped;
    if (!close_quote(k, *i, &end, &escaped)) return -1;
    *key = (struct lw_str){ k->s + *i + 1, end - *i - 1 };
    if (escaped) *key = unescape(k, scratch, *i + 1, end);
    *i = end + 1;
    return 0;
}

/* joined: a quoted value val (closing quote just before *i) with the text after it up to the
 * next field separator appended (trailing blanks trimmed), in scratch at val's offset: the
 * two never take more room than the span they come from. *i moves to that separator. */
static struct lw_str
joined(const struct kv *k, bool long_seps, char *scratch, struct lw_str val, size_t *i)
{
    size_t t = next_sep(k, long_seps, *i), te = t;
    while (te > *i && is_blank(k->s[te - 1]))
        te--;
    if (te > *i) {
        size_t off = (size_t)(k->s + *i - 1 - val.len - k->s); /* a plain value's offset */
        char *d = val.p >= scratch && val.p < scratch + k->len ? (char *)val.p : scratch + off;
        if (d != val.p) memmove(d, val.p, val.len);
        memmove(d + val.len, k->s + *i, te - *i);
        val = (struct lw_str){ d, val.len + te - *i };
    }
    *i = t;
    return val;
}

/* split: the loop of lw_kv_parse, inlined twice so that with one-byte separators (long_seps
 * false, a constant) the byte loops are only the table lookups. */
static inline __attribute__((always_inline)) int
split(const struct kv *kp, char *scratch,
      int (*cb)(void *ud, struct lw_str key, struct lw_str val, bool quoted), void *ud,
      size_t *erroff, const bool long_seps)
{
    const struct kv k = *kp; /* a copy the compiler keeps in registers (measured: fewer
                              * instructions than reading through kp) */
    const char *s = k.s;
    size_t len = k.len;
    size_t i = 0;
    while (i < len) {
        size_t l = at(&k, long_seps, i, C_SEP | C_KV);
        if (l > 0 && k.o->strict_keys && at(&k, long_seps, i, C_KV) > 0) {
            i = next_sep(&k, long_seps, i + l); /* "=x": no key, so no pair */
            continue;
        }
        if (l > 0) {
            i += l; /* a kv_sep cannot start a key: the reference rescans after it */
            continue;
        }
        size_t kb = i, ke;
        struct lw_str key;
        if (k.o->quoted_keys && is_quote(&k, s[i])) {
            int q = quoted_key(&k, scratch, &i, &key);
            if (q < 0) {
                if (erroff != NULL) *erroff = kb;
                return -1;
            }
        } else {
            for (;; i++) { /* the byte loop as for one-byte separators; at_long only on a hit */
                while (i < len && !(k.cls[(unsigned char)s[i]] & (C_SEP | C_KV))) {
                    i++;
                }
                if (i == len || !long_seps || at_long(&k, i, k.cls[(unsigned char)s[i]]) != 0) {
                    break;
                }
            }
            ke = i;
            trim(&k, &kb, &ke);
            key = (struct lw_str){ s + kb, ke - kb };
        }
        if (k.o->lenient || k.o->quoted_keys) { /* "a = b", "\"k\" =v" */
            size_t j = i;
            while (j < len && is_blank(s[j]))
                j++;
            if (j < len && at(&k, long_seps, j, C_KV) > 0 && (k.o->lenient || j == i)) i = j;
        }
        l = i < len ? at(&k, long_seps, i, C_KV) : 0;
        if (l == 0) {
            if (key.len > 0 && cb(ud, key, (struct lw_str){ NULL, 0 }, false) != 0) return 0;
            continue;
        }
        i += l;
        if ((!k.ws && k.o->trim) || k.o->lenient) {
            while (i < len && is_blank(s[i])) {
                i++;
            }
        }
        if (i < len && is_quote(&k, s[i])) {
            size_t end;
            bool escaped;
            if (!close_quote(&k, i, &end, &escaped)) {
                if (erroff != NULL) *erroff = i;
                return -1;
            }
            struct lw_str val = { s + i + 1, end - i - 1 };
            if (escaped) {
                assert(scratch != NULL);
                val = unescape(&k, scratch, i + 1, end);
            }
            i = end + 1;
            if (k.o->join_after_quote && !k.ws) val = joined(&k, long_seps, scratch, val, &i);
            if (key.len > 0 && cb(ud, key, val, true) != 0) return 0;
            continue;
        }
        size_t vb = i, ve;
        for (;; i++) {
            while (i < len && !(k.cls[(unsigned char)s[i]] & C_SEP)) {
                i++;
            }
            if (i == len || !long_seps || at_long(&k, i, C_SEP) != 0) break;
        }
        ve = i;
        trim(&k, &vb, &ve);
        if (key.len > 0 && cb(ud, key, (struct lw_str){ s + vb, ve - vb }, false) != 0) return 0;
    }
    return 0;
}

int
lw_kv_parse(const char *s, size_t len, const struct lw_kv_opts *o, char *scratch,
            int (*cb)(void *ud, struct lw_str key, struct lw_str val, bool quoted), void *ud,
            size_t *erroff)
{
    const struct lw_kv_opts logfmt = LW_KV_OPTS_LOGFMT;
    struct kv k = { .s = s, .len = len, .o = o != NULL ? o : &logfmt };
    k.ws = k.o->field_sep == ' ' && k.o->field_len <= 1;
    classes(&k);
    if (k.o->field_len > 1 || k.o->kv_len > 1) return split(&k, scratch, cb, ud, erroff, true);
    return split(&k, scratch, cb, ud, erroff, false);
}

/* Length of the run of digits at p[i..n). */
static size_t
run_digits(const char *p, size_t i, size_t n)
{
    size_t j = i;
    while (j < n && is_digit(p[j])) {
        j++;
    }
    return j - i;
}

enum lw_kv_type
lw_kv_classify(struct lw_str v)
{
    if ((v.len == 4 && memcmp(v.p, "true", 4) == 0) ||
        (v.len == 5 && memcmp(v.p, "false", 5) == 0)) {
        return LW_KV_BOOL;
    }
    size_t i = v.len > 0 && v.p[0] == '-';
    size_t d = run_digits(v.p, i, v.len);
    if (d == 0) return LW_KV_STRING;
    i += d;
    if (i == v.len) {
        int64_t x;
        if (lw_parse_int(v, &x) == 0) return LW_KV_INT;
        return v.len < 64 ? LW_KV_FLOAT : LW_KV_STRING;
    }
    if (v.p[i] != '.') return LW_KV_STRING;
    d = run_digits(v.p, i + 1, v.len);
    if (d == 0 || i + 1 + d != v.len || v.len >= 64) return LW_KV_STRING;
    return LW_KV_FLOAT;
}

int
lw_parse_int(struct lw_str v, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (v.len > 0 && (v.p[0] == '-' || v.p[0] == '+')) {
        neg = v.p[0] == '-';
        i = 1;
    }
    if (i == v.len) return -1;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, x = 0;
    for (; i < v.len; i++) {
        unsigned d = (unsigned)(unsigned char)v.p[i] - '0';
        if (d > 9 || x > (lim - d) / 10) return -1;
        x = x * 10 + d;
    }
    if (!neg) {
        *out = (int64_t)x;
    } else {
        *out = x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x;
    }
    return 0;
}

int
lw_parse_float(struct lw_str v, double *out)
{
    char buf[64];
    if (v.len == 0 || v.len >= sizeof buf) return -1;
    /* check the shape first: strtod alone would take spaces, hex, inf and nan */
    size_t i = v.p[0] == '-' || v.p[0] == '+';
    size_t whole = run_digits(v.p, i, v.len), frac = 0;
    i += whole;
    if (i < v.len && v.p[i] == '.') {
        frac = run_digits(v.p, i + 1, v.len);
        i += 1 + frac;
    }
    if (whole + frac == 0) return -1;
    if (i < v.len && (v.p[i] == 'e' || v.p[i] == 'E')) {
        i++;
        if (i < v.len && (v.p[i] == '-' || v.p[i] == '+')) i++;
        size_t e = run_digits(v.p, i, v.len);
        if (e == 0) return -1;
        i += e;
    }
    if (i != v.len) return -1;
    memcpy(buf, v.p, v.len);
    buf[v.len] = '\0';
    double d = strtod(buf, NULL);
    if (isinf(d)) return -1;
    *out = d;
    return 0;
}

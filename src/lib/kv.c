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

/* Byte classes of the splitter's table: one lookup per byte in the scanning loops. C_QUOTE
 * marks quote and quote2, so that "is this a quote" is the same lookup. */
enum { C_SEP = 1, C_KV = 2, C_QUOTE = 4 };

/* The table of LW_KV_OPTS_LOGFMT (and of parse_kv's default separators and quote), built
 * once at compile time rather than per call (W3: 10000 calls). */
static const uint8_t logfmt_cls[256] = {
    [' '] = C_SEP,  ['\t'] = C_SEP, ['\n'] = C_SEP, ['\r'] = C_SEP,
    ['\f'] = C_SEP, ['\v'] = C_SEP, ['='] = C_KV,   ['"'] = C_QUOTE,
};

/* The splitter's view of the options. */
struct kv {
    const char *s;
    size_t len;
    const struct lw_kv_opts *o;
    bool ws;            /* field_sep ' ': any whitespace run separates */
    const uint8_t *cls; /* the byte classes: logfmt_cls or a table of lw_kv_parse's */
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

/* scan: the first offset at or after i (i <= len) whose byte has a class in want, or len.
 * Eight bytes per round with one bound check: the scanning is most of the splitter's work,
 * and a byte costs a load and a test instead of the five or six of a plain loop (W3). */
static inline __attribute__((always_inline)) size_t
scan(const uint8_t *cls, const char *s, size_t i, size_t len, unsigned want)
{
    const unsigned char *u = (const unsigned char *)s;
    for (; len - i >= 8; i += 8) {
        if (cls[u[i]] & want) return i;
        if (cls[u[i + 1]] & want) return i + 1;
        if (cls[u[i + 2]] & want) return i + 2;
        if (cls[u[i + 3]] & want) return i + 3;
        if (cls[u[i + 4]] & want) return i + 4;
        if (cls[u[i + 5]] & want) return i + 5;
        if (cls[u[i + 6]] & want) return i + 6;
        if (cls[u[i + 7]] & want) return i + 7;
    }
    while (i < len && !(cls[u[i]] & want)) {
        i++;
    }
    return i;
}

/* find: the offset of the next separator of class want (whole, when long_seps) at or after i,
 * or len. */
static inline __attribute__((always_inline)) size_t
find(const struct kv *k, bool long_seps, size_t i, unsigned want)
{
    for (;; i++) { /* the byte loop as for one-byte separators; at_long only on a hit */
        i = scan(k->cls, k->s, i, k->len, want);
        if (i == k->len || !long_seps) return i;
        if (at_long(k, i, k->cls[(unsigned char)k->s[i]] & want) != 0) return i;
    }
}

/* classes: fill cls from the options. */
static void
classes(const struct kv *k, uint8_t *cls)
{
    memset(cls, 0, 256);
    if (k->ws) {
        for (const char *w = " \t\n\r\f\v"; *w; w++)
            cls[(unsigned char)*w] |= C_SEP;
    } else {
        cls[(unsigned char)k->o->field_sep] |= C_SEP;
    }
    cls[(unsigned char)k->o->kv_sep] |= C_KV;
    if (k->o->quote != 0) cls[(unsigned char)k->o->quote] |= C_QUOTE;
    if (k->o->quote2 != 0) cls[(unsigned char)k->o->quote2] |= C_QUOTE;
}

/* Strip blanks from both ends of [*b, *e). */
static void
trim(const char *s, size_t *b, size_t *e)
{
    while (*b < *e && is_blank(s[*b])) {
        ++*b;
    }
    while (*e > *b && is_blank(s[*e - 1])) {
        --*e;
    }
}

/* The quoted value opening at s[q]: sets *end to its closing quote, or returns false. A
 * backslash makes the byte after it text, even a quote: each round looks for the first
 * backslash before the next quote (memchr), and the quote is looked for again only once it
 * has been passed, so that the whole costs one pass whatever the backslashes. */
static bool
close_quote(const struct kv *k, size_t q, size_t *end, bool *escaped)
{
    const char *s = k->s;
    char want = s[q];
    size_t i = q + 1, at = 0;
    bool have = false; /* at: the first quote at or after i */
    *escaped = false;
    for (;;) {
        if (!have || at < i) {
            const char *p = i < k->len ? memchr(s + i, want, k->len - i) : NULL;
            if (p == NULL) return false;
            at = (size_t)(p - s);
            have = true;
        }
        const char *b = memchr(s + i, '\\', at - i);
        if (b == NULL) {
            *end = at;
            return true;
        }
        *escaped = true;
        i = (size_t)(b - s) + 2; /* the escaped byte, even a quote, is text */
    }
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
 * at least as long as what it stands for (\uXXXX: 6 bytes for at most 3; a pair: 12 for 4).
 * The text between backslashes moves as a whole (memmove: scratch may be s itself). */
static struct lw_str
unescape(const struct kv *k, char *scratch, size_t b, size_t e)
{
    const char *s = k->s;
    char *out = scratch + b;
    size_t n = 0;
    char q = b > 0 ? s[b - 1] : 0; /* the opening quote */
    bool keep = k->o->keep_backslash, escapes = k->o->escapes;
    for (size_t i = b; i < e;) {
        const char *p = memchr(s + i, '\\', e - i);
        size_t j = p != NULL ? (size_t)(p - s) : e;
        memmove(out + n, s + i, j - i);
        n += j - i;
        if (j + 1 >= e) { /* no backslash, or one at the very end: that byte stays */
            if (j < e) out[n++] = '\\';
            break;
        }
        char x = s[j + 1];
        if (keep && x != q && x != '\\') {
            out[n++] = '\\'; /* parse_kv: a backslash that escapes nothing stays */
            i = j + 1;
            continue;
        }
        size_t used, w = escapes ? escape(s, j + 1, e, out + n, &used) : 0;
        if (w > 0) {
            n += w;
            i = j + 1 + used;
            continue;
        }
        out[n++] = x;
        i = j + 2;
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
    size_t t = find(k, long_seps, *i, C_SEP), te = t;
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

/* quoted_val: the quoted value at s[*i] (unescaped into scratch when it holds a backslash,
 * joined with the text after it when the options ask); *i after it. -1 when the quote is not
 * closed. */
static int
quoted_val(const struct kv *k, bool long_seps, char *scratch, size_t *i, struct lw_str *val)
{
    size_t end;
    bool escaped;
    if (!close_quote(k, *i, &end, &escaped)) return -1;
    *val = (struct lw_str){ k->s + *i + 1, end - *i - 1 };
    if (escaped) {
        assert(scratch != NULL);
        *val = unescape(k, scratch, *i + 1, end);
    }
    *i = end + 1;
    if (k->o->join_after_quote && !k->ws) *val = joined(k, long_seps, scratch, *val, i);
    return 0;
}

/* split: the loop of lw_kv_parse, inlined three times so that the byte loops are only the
 * table lookups with one-byte separators (long_seps false, a constant), and so that with
 * plain (whitespace-separated, one-byte separators, none of parse_kv's own readings: logfmt,
 * W3) the tests of those options are not made per pair either. */
static inline __attribute__((always_inline)) int
split(const struct kv *kp, char *scratch,
      int (*cb)(void *ud, struct lw_str key, struct lw_str val, bool quoted), void *ud,
      size_t *erroff, const bool long_seps, const bool plain)
{
    const struct kv k = *kp; /* a copy the compiler keeps in registers (measured: fewer
                              * instructions than reading through kp) */
    const char *s = k.s;
    size_t len = k.len;
    const uint8_t *cls = k.cls;
    const bool strict = !plain && k.o->strict_keys;
    const bool qkeys = !plain && k.o->quoted_keys;
    const bool lenient = !plain && k.o->lenient;
    const bool trimmed = !plain && !k.ws && k.o->trim; /* blanks around keys and values */
    size_t i = 0;
    while (i < len) {
        size_t l = at(&k, long_seps, i, C_SEP | C_KV);
        if (l > 0) {
            if (strict && at(&k, long_seps, i, C_KV) > 0) {
                i = find(&k, long_seps, i + l, C_SEP); /* "=x": no key, so no pair */
            } else {
                i += l; /* a kv_sep cannot start a key: the reference rescans after it */
            }
            continue;
        }
        struct lw_str key;
        if (qkeys && (cls[(unsigned char)s[i]] & C_QUOTE)) {
            size_t kb = i;
            if (quoted_key(&k, scratch, &i, &key) < 0) {
                if (erroff != NULL) *erroff = kb;
                return -1;
            }
        } else {
            size_t kb = i, ke = i = find(&k, long_seps, i, C_SEP | C_KV);
            if (trimmed) trim(s, &kb, &ke);
            key = (struct lw_str){ s + kb, ke - kb };
        }
        if (lenient || qkeys) { /* "a = b", "\"k\" =v" */
            size_t j = i;
            while (j < len && is_blank(s[j]))
                j++;
            if (j < len && at(&k, long_seps, j, C_KV) > 0 && (lenient || j == i)) i = j;
        }
        l = i < len ? at(&k, long_seps, i, C_KV) : 0;
        if (l == 0) {
            if (key.len > 0 && cb(ud, key, (struct lw_str){ NULL, 0 }, false) != 0) return 0;
            continue;
        }
        i += l;
        if (trimmed || lenient) {
            while (i < len && is_blank(s[i])) {
                i++;
            }
        }
        if (i < len && (cls[(unsigned char)s[i]] & C_QUOTE)) {
            size_t q = i;
            struct lw_str val;
            if (quoted_val(&k, long_seps, scratch, &i, &val) < 0) {
                if (erroff != NULL) *erroff = q;
                return -1;
            }
            if (key.len > 0 && cb(ud, key, val, true) != 0) return 0;
            continue;
        }
        size_t vb = i, ve = i = find(&k, long_seps, i, C_SEP);
        if (trimmed) trim(s, &vb, &ve);
        if (key.len > 0 && cb(ud, key, (struct lw_str){ s + vb, ve - vb }, false) != 0) return 0;
    }
    return 0;
}

int
lw_kv_parse(const char *s, size_t len, const struct lw_kv_opts *o, char *scratch,
            int (*cb)(void *ud, struct lw_str key, struct lw_str val, bool quoted), void *ud,
            size_t *erroff)
{
    static const struct lw_kv_opts logfmt = LW_KV_OPTS_LOGFMT;
    struct kv k = { .s = s, .len = len, .o = o != NULL ? o : &logfmt, .cls = logfmt_cls };
    o = k.o;
    k.ws = o->field_sep == ' ' && o->field_len <= 1;
    bool long_seps = o->field_len > 1 || o->kv_len > 1;
    uint8_t cls[256];
    if (!k.ws || long_seps || o->kv_sep != '=' || o->quote != '"' || o->quote2 != 0) {
        classes(&k, cls);
        k.cls = cls;
    }
    if (long_seps) return split(&k, scratch, cb, ud, erroff, true, false);
    if (k.ws && !o->strict_keys && !o->quoted_keys && !o->lenient) {
        return split(&k, scratch, cb, ud, erroff, false, true);
    }
    return split(&k, scratch, cb, ud, erroff, false, false);
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

/* The JSON reader and writer: lw_json_scan validates a record in one iterative pass and picks
 * out wanted top-level members; the walkers (get, at, iter, skip) trust validated text and only
 * look for brackets and quotes; the writer escapes strings and formats numbers. No DOM, no
 * allocation on the read path. Turning slices into values is value.c's job.
 *
 * Notes: validity mirrors jansson 2.14's json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL |
 * JSON_DECODE_INT_AS_REAL), checked by tests/fuzz/fuzz_jsondiff.c. Its rules, some surprising:
 * - every value counts one level of nesting, scalars included: "[[1]]" is depth 3, and more than
 *   LW_JSON_MAX_DEPTH levels is an error;
 * - no number may round to infinity (tiny reals become 0); an integer beyond int64 (a uint64 id,
 *   a 30-digit number) is valid: passed through, its text is kept exactly, and read, it is a
 *   float (lw_json_number), so a record is never undecodable for a number it does not read;
 * - strings must be valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF), with no
 *   raw byte below 0x20 and only properly paired \u surrogates; \u0000 is a NUL byte (RFC 8259
 *   allows it, and the writer writes NUL so); DEL is fine;
 * - whitespace is space, tab, CR and LF only; a UTF-8 BOM is an error;
 * - one NUL byte right after a number or literal is ignored ("1\0" and "[true\0]" are valid):
 *   jansson's lexer pushes back the byte that ends the token, and a pushed-back NUL is lost. */
#include "lw/json.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/strblk.h"

/* isplain, the block helpers (special_blk...) and utf8_seq: lw/strblk.h, shared with the
 * string writer (src/base/jsonstr.c). */

static inline bool
isdig(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool
isws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* The first byte at or after s that is not plain (or e): a block at a time, bytes in the tail. */
static inline const char *
plain_end(const char *s, const char *e)
{
    for (; BLK && e - s >= BLK; s += BLK) {
        uint64_t m = special_blk(s);
        if (m != 0) return s + first_blk(m);
    }
    while (s < e && isplain(*s)) {
        s++;
    }
    return s;
}

/* The first '"' or '\\' at or after s (or e). */
static inline const char *
quote_end(const char *s, const char *e)
{
    for (; BLK && e - s >= BLK; s += BLK) {
        uint64_t m = quote_blk(s);
        if (m != 0) return s + first_blk(m);
    }
    while (s < e && *s != '"' && *s != '\\') {
        s++;
    }
    return s;
}

/* The end of the whitespace at s. Most bytes are above ' ', so one compare usually decides. */
static inline const char *
skipws(const char *s, const char *end)
{
    while (s < end && (unsigned char)*s <= ' ' && isws(*s)) {
        s++;
    }
    return s;
}

/* skipws, noting in *gap that there was whitespace (set only in the loop: compact text pays
 * nothing for it) */
static inline const char *
skipws_gap(const char *s, const char *end, bool *gap)
{
    while (s < end && (unsigned char)*s <= ' ' && isws(*s)) {
        s++;
        *gap = true;
    }
    return s;
}

size_t
lw_json_u_escape(const char *s, const char *end, unsigned long *cp)
{
    long hi = lw_hex4(s, end);
    if (hi < 0) return 0;
    *cp = (unsigned long)hi;
    if (hi >= 0xd800 && hi <= 0xdbff && end - s >= 10 && s[4] == '\\' && s[5] == 'u') {
        long lo = lw_hex4(s + 6, end);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            *cp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) + ((unsigned long)lo - 0xdc00);
            return 10;
        }
    }
    return 4;
}

/* Decode the validated escape at s (a backslash) into out (up to 4 bytes); returns the byte
 * after it and the decoded length in *n. */
static const char *
unescape1(const char *s, const char *end, char *out, size_t *n)
{
    static const char simple[256] = { ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
                                      ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t' };
    if (s[1] != 'u') {
        out[0] = simple[(unsigned char)s[1]];
        *n = 1;
        return s + 2;
    }
    unsigned long cp;
    s += 2 + lw_json_u_escape(s + 2, end, &cp);
    *n = lw_utf8_put(out, cp);
    return s;
}

/* ---- validation ---- */

__attribute__((format(printf, 4, 5))) static int
fail(struct lw_json_err *err, const char *base, const char *at, const char *fmt, ...)
{
    if (err == NULL) return -1;
    va_list ap;
    va_start(ap, fmt);
    err->off = (size_t)(at - base);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* A byte as an error message shows it: 'x' when printable, else its hex value. */
static const char *
showc(char buf[16], const char *at, const char *end)
{
    unsigned char c = at < end ? (unsigned char)*at : 0;
    if (at >= end) {
        snprintf(buf, 16, "end of input");
    } else if (c > 0x20 && c < 0x7f) {
        snprintf(buf, 16, "'%c'", c);
    } else {
        snprintf(buf, 16, "byte 0x%02x", c);
    }
    return buf;
}

/* The \u escape at s (after "\u" has been seen at s - 2); returns the byte after it (and after
 * the low surrogate of a pair) or NULL with *err set. */
static const char *
scan_u(const char *s, const char *end, const char *base, struct lw_json_err *err)
{
    const char *esc = s - 2;
    unsigned long cp;
    size_t used = lw_json_u_escape(s, end, &cp);
    if (used == 0) {
        fail(err, base, esc, "invalid \\u escape: expected 4 hex digits");
        return NULL;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
        fail(err, base, esc, "unpaired unicode surrogate '\\u%04lx'", cp);
        return NULL;
    }
    return s + used;
}

/* Validate the string whose opening quote is at s - 1. Returns the byte after the closing quote,
 * or NULL with *err set. *esc becomes true when the string has an escape. */
static const char *
scan_string(const char *s, const char *end, const char *base, bool *esc, struct lw_json_err *err)
{
    for (;;) {
        s = plain_end(s, end);
        if (s >= end) {
            fail(err, base, end, "unexpected end of input in string");
            return NULL;
        }
        unsigned char c = (unsigned char)*s;
        if (c == '"') return s + 1;
        if (c == '\\') {
            *esc = true;
            char e = s + 1 < end ? s[1] : 0;
            if (e == 'u') {
                s = scan_u(s + 2, end, base, err);
                if (s == NULL) return NULL;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                s += 2;
            } else if (s + 1 >= end) {
                fail(err, base, end, "unexpected end of input in string");
                return NULL;
            } else if (e > 0x20 && e < 0x7f) {
                fail(err, base, s, "invalid escape '\\%c'", e);
                return NULL;
            } else {
                fail(err, base, s, "invalid escape: '\\' followed by byte 0x%02x",
                     (unsigned char)e);
                return NULL;
            }
        } else if (c < 0x20) {
            fail(err, base, s, "control character 0x%02x in string", c);
            return NULL;
        } else {
            int n = utf8_seq((const unsigned char *)s, (const unsigned char *)end);
            if (n < 0) {
                fail(err, base, s, "invalid utf-8 in string");
                return NULL;
            }
            s += n;
        }
    }
}

/* scan_string, with a shortcut for the common plain string (no escape, no byte outside ASCII). */
static inline const char *
scan_str(const char *s, const char *end, const char *base, bool *esc, struct lw_json_err *err)
{
    for (; BLK && end - s >= BLK; s += BLK) {
        uint64_t m = special_blk(s);
        if (m == 0) continue; /* plain strings of any length are followed here, without a call */
        s += first_blk(m);
        if (*s == '"') return s + 1;
        break; /* an escape, a control or non-ASCII byte: scan_string goes on from it */
    }
    return scan_string(s, end, base, esc, err);
}

/* 2^1024 - 2^970, the smallest decimal that rounds to infinity (ties go to even, away from
 * DBL_MAX): strtod overflows exactly at or above it. */
static const char dbl_limit[] =
    "17976931348623158079372897140530341507993413271003782693617377898044496829276475094664901797"
    "75872070963302864166928879109465555478519404026306574886715058206819089020007083836762738548"
    "45817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711"
    "559699508093042880177904174497792";

/* Does the real with integer digits [ip, ie), fraction digits [fp, fe) (empty when fp == fe) and
 * decimal exponent exp (saturated) round to infinity? Decided without strtod: only reals in
 * [1e308, 1e309) need a digit-by-digit comparison with dbl_limit. */
static bool
real_overflows(const char *ip, const char *ie, const char *fp, const char *fe, long long exp)
{
    const char *first = ip;
    long long e10;
    bool in_int = *ip != '0'; /* is the first significant digit in the integer part? */
    if (in_int) {
        e10 = exp + (ie - ip) - 1;
    } else {
        first = fp;
        while (first < fe && *first == '0') {
            first++;
        }
        if (first == fe) return false; /* zero */
        e10 = exp - (first - fp) - 1;
    }
    if (e10 != 308) return e10 > 308;
    const char *s = first, *lim = in_int ? ie : fe;
    for (size_t k = 0; k < sizeof dbl_limit - 1; k++, s++) {
        if (s == ie && in_int) { /* on to the fraction digits, if any */
            s = fp;
            lim = fe;
            in_int = false;
        }
        if (s == lim) return false; /* a prefix of the limit, whose tail is not all zeros */
        if (*s != dbl_limit[k]) return *s > dbl_limit[k];
    }
    return true;
}

/* Validate the number at s; returns the byte after it or NULL with *err set. */
static const char *
scan_number(const char *s, const char *end, const char *base, struct lw_json_err *err)
{
    const char *start = s;
    bool neg = *s == '-';
    if (neg) s++;
    if (s == end || !isdig(*s)) {
        fail(err, base, start, "invalid number: expected a digit after '-'");
        return NULL;
    }
    const char *ip = s;
    if (*s == '0') {
        s++;
        if (s < end && isdig(*s)) {
            fail(err, base, start, "invalid number: leading zero");
            return NULL;
        }
    } else {
        while (s < end && isdig(*s)) {
            s++;
        }
    }
    const char *ie = s, *fp = s, *fe = s;
    bool real = false;
    long long exp = 0;
    if (s < end && *s == '.') {
        fp = ++s;
        if (s == end || !isdig(*s)) {
            fail(err, base, start, "invalid number: expected a digit after '.'");
            return NULL;
        }
        while (s < end && isdig(*s)) {
            s++;
        }
        fe = s;
        real = true;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        bool eneg = s < end && *s == '-';
        if (s < end && (*s == '-' || *s == '+')) s++;
        if (s == end || !isdig(*s)) {
            fail(err, base, start, "invalid number: expected a digit in the exponent");
            return NULL;
        }
        for (; s < end && isdig(*s); s++) {
            if (exp < 100000000000000000LL) exp = exp * 10 + (*s - '0');
        }
        if (eneg) exp = -exp;
        real = true;
    }
    if (!real) {
        /* beyond int64 it is read as a float: only one past DBL_MAX is out of range */
        if (ie - ip >= 309 && real_overflows(ip, ie, ie, ie, 0)) {
            fail(err, base, start, "number out of range");
            return NULL;
        }
    } else if (real_overflows(ip, ie, fp, fe, exp)) {
        fail(err, base, start, "number out of range");
        return NULL;
    }
    return s;
}

/* Validate the number or literal that should be at s; returns the byte after it or NULL with
 * *err set. */
static inline const char *
scan_word(const char *s, const char *end, const char *base, struct lw_json_err *err)
{
    char cb[16];
    switch (*s) {
    case 't':
        if (end - s >= 4 && memcmp(s, "true", 4) == 0) return s + 4;
        fail(err, base, s, "invalid literal: expected 'true'");
        return NULL;
    case 'f':
        if (end - s >= 5 && memcmp(s, "false", 5) == 0) return s + 5;
        fail(err, base, s, "invalid literal: expected 'false'");
        return NULL;
    case 'n':
        if (end - s >= 4 && memcmp(s, "null", 4) == 0) return s + 4;
        fail(err, base, s, "invalid literal: expected 'null'");
        return NULL;
    default:
        if (*s == '-' || isdig(*s)) return scan_number(s, end, base, err);
        fail(err, base, s, "expected a value, found %s", showc(cb, s, end));
        return NULL;
    }
}

/* Does the key token [k, kend) (quotes included, escapes in it) name want? */
static bool
esckey_eq(const char *k, const char *kend, const char *want, size_t wlen)
{
    const char *s = k + 1, *e = kend - 1, *w = want, *wend = want + wlen;
    while (s < e) {
        if (*s != '\\') {
            if (w == wend || *w != *s) return false;
            w++;
            s++;
            continue;
        }
        char tmp[4];
        size_t n;
        s = unescape1(s, e, tmp, &n);
        if ((size_t)(wend - w) < n || memcmp(w, tmp, n) != 0) return false;
        w += n;
    }
    return w == wend;
}

static inline bool
key_eq(const char *k, const char *kend, bool esc, const char *want, size_t wlen)
{
    if (esc) return esckey_eq(k, kend, want, wlen);
    /* the first byte usually decides, and is cheaper to test than to call memcmp */
    return (size_t)(kend - k - 2) == wlen &&
           (wlen == 0 || (k[1] == want[0] && memcmp(k + 1, want, wlen) == 0));
}

/* Which keys a scan wants, for a quick "surely not wanted" test before comparing names; and,
 * when all is not NULL, where every top-level member goes (lw_json_scan_members). */
struct want {
    const struct lw_str *keys;
    struct lw_str *vals;
    size_t nkeys;
    uint64_t bloom; /* a bit per (first byte, length) hash of the plain keys */
    /* per hash: 1 + the index of the one key with it, or AT_MANY (several, or an index past
     * it): a plain member key is then compared with that key alone */
    unsigned char at[64];
};
#define AT_MANY 255

/* Where every top-level member goes (lw_json_scan_members); gap: whether the value's text has
 * whitespace or a NUL outside its strings (before and after it do not count). */
struct members {
    struct lw_json_member *all;
    size_t cap, n;
    bool gap;
};

static inline unsigned
khash(const char *name, size_t len)
{
    return (unsigned)(len == 0 ? 0 : (unsigned char)name[0] * 7u + len) & 63;
}

/* The top-level member with key token [k, kend) and value [v, vend) has ended: keep its value
 * for every key that names it. Callers first rule out most members with maybe_wanted. */
static void
store(const struct want *w, const char *k, const char *kend, bool kesc, const char *v,
      const char *vend)
{
    if (!kesc) {
        unsigned at = w->at[khash(k + 1, (size_t)(kend - k - 2))];
        if (at != AT_MANY) { /* not 0: the bloom had the hash */
            const struct lw_str *want = &w->keys[at - 1];
            if (key_eq(k, kend, false, want->p, want->len))
                w->vals[at - 1] = (struct lw_str){ v, (size_t)(vend - v) };
            return;
        }
    }
    for (size_t i = 0; i < w->nkeys; i++) {
        if (key_eq(k, kend, kesc, w->keys[i].p, w->keys[i].len)) {
            w->vals[i] = (struct lw_str){ v, (size_t)(vend - v) };
        }
    }
}

static inline bool
maybe_wanted(const struct want *w, const char *k, const char *kend, bool kesc)
{
    return kesc || (w->bloom >> khash(k + 1, (size_t)(kend - k - 2)) & 1);
}

/* ended: the top-level member [k, kend): [v, vend) has ended. m is NULL or not at compile
 * time (scan is inlined in both callers), so the common scan has no trace of it. */
static inline __attribute__((always_inline)) void
ended(const struct want *w, struct members *m, const char *k, const char *kend, bool kesc,
      const char *v, const char *vend, bool vesc)
{
    if (maybe_wanted(w, k, kend, kesc)) store(w, k, kend, kesc, v, vend);
    if (m != NULL) {
        if (m->n < m->cap) {
            m->all[m->n] = (struct lw_json_member){
                { k, (size_t)(kend - k) }, { v, (size_t)(vend - v) }, kesc, *v == '"' && vesc
            };
        }
        m->n++;
    }
}

/* The bit of open container number d (0-based) in stack: set for an object. */
#define IS_OBJ(d) (stack[(d) >> 3] >> ((d)&7) & 1)

/* One iterative pass; like the VM's dispatch loop it stays one function (a state machine on
 * labels) because it is the hot path. stack holds one bit per open container; obj caches the
 * innermost one's.
 * Label value expects a value (at nesting level depth + 1), member a key, and done runs right
 * after any value; word_done first drops the NUL that jansson ignores after a number or
 * literal. Nesting is checked when a container opens: one at the limit must be empty. */
static __attribute__((noinline)) int
scan(const char *p, size_t len, const struct lw_str *keys, size_t nkeys, struct lw_str *vals,
     struct members *m, struct lw_json_err *err)
{
    const char *s = p, *end = p + len, *k = NULL, *kend = NULL, *v = NULL;
    unsigned char stack[LW_JSON_MAX_DEPTH / 8];
    size_t depth = 0;
    bool obj = false, kesc = false, esc = false, gap = false;
    struct want w; /* at[] is cleared only for a scan that wants keys (the decoder's) */
    w.keys = keys;
    w.vals = vals;
    w.nkeys = nkeys;
    w.bloom = 0;
    if (nkeys > 0) memset(w.at, 0, sizeof w.at);
    char cb[16];

    for (size_t i = 0; i < nkeys; i++) {
        unsigned h = khash(keys[i].p, keys[i].len);
        vals[i] = (struct lw_str){ NULL, 0 };
        w.bloom |= (uint64_t)1 << h;
        w.at[h] = w.at[h] == 0 && i + 1 < AT_MANY ? (unsigned char)(i + 1) : AT_MANY;
    }
    s = skipws(s, end); /* before the value: not a gap in it */
    goto value_at;
value:
    s = skipws_gap(s, end, &gap);
value_at:
    if (s == end) return fail(err, p, s, "unexpected end of input");
value_in: /* s < end */
    switch (*s) {
    case '{':
    case '[':
        if (depth == LW_JSON_MAX_DEPTH) return fail(err, p, s, "nesting too deep");
        obj = *s == '{';
        if (obj) {
            stack[depth >> 3] |= (unsigned char)(1u << (depth & 7));
        } else {
            stack[depth >> 3] &= (unsigned char)~(1u << (depth & 7));
        }
        depth++;
        s++;
        s = skipws_gap(s, end, &gap);
        if (s < end && *s == (obj ? '}' : ']')) {
            s++;
            goto close;
        }
        if (depth == LW_JSON_MAX_DEPTH) return fail(err, p, s, "nesting too deep");
        if (obj) goto member_at;
        goto value_at;
    case '"':
        s = scan_str(s + 1, end, p, &esc, err);
        if (s == NULL) return -1;
        goto done;
    default:
        s = scan_word(s, end, p, err);
        if (s == NULL) return -1;
        goto word_done;
    }
member:
    s = skipws_gap(s, end, &gap);
member_at:
    if (s == end) return fail(err, p, s, "unexpected end of input");
member_in: /* s < end */
    if (*s != '"') return fail(err, p, s, "expected string key, found %s", showc(cb, s, end));
    if (depth == 1) {
        /* a top-level member: remember it for store() when its value ends */
        kesc = false;
        kend = scan_str(s + 1, end, p, &kesc, err);
        k = s;
        s = kend;
    } else {
        s = scan_str(s + 1, end, p, &esc, err);
    }
    if (s == NULL) return -1;
    if (end - s >= 2 && *s == ':' && (unsigned char)s[1] > ' ') {
        s++; /* compact text: the value right after the ':' */
        if (depth == 1) {
            v = s;
            esc = false;
        }
        goto value_in;
    }
    s = skipws_gap(s, end, &gap);
    if (s == end) return fail(err, p, s, "unexpected end of input");
    if (*s != ':') return fail(err, p, s, "expected ':' after object key");
    s++;
    s = skipws_gap(s, end, &gap);
    if (depth == 1) { /* a top-level member's value: esc then says whether a string has one */
        v = s;
        esc = false;
    }
    goto value_at;
close:
    depth--;
    obj = depth > 0 && IS_OBJ(depth - 1);
done:
    if (depth == 1 && k != NULL) ended(&w, m, k, kend, kesc, v, s, esc);
    goto sep;
word_done:
    if (depth == 1 && k != NULL) ended(&w, m, k, kend, kesc, v, s, esc);
    if (s < end && *s == '\0') { /* jansson loses this byte (see the notes on top) */
        s++;
        gap = true;
    }
sep:
    if (depth > 0 && end - s >= 2 && *s == ',' && (unsigned char)s[1] > ' ') {
        s++; /* compact text: the next member or element right after the ',' */
        if (obj) goto member_in;
        goto value_in;
    }
    if (depth == 0) { /* after the value: not a gap in it */
        if (m != NULL) m->gap = gap;
        s = skipws(s, end);
        if (s != end) return fail(err, p, s, "trailing characters after value");
        return 0;
    }
    s = skipws_gap(s, end, &gap);
    if (s == end) return fail(err, p, s, "unexpected end of input");
    if (*s == ',') {
        s++;
        if (obj) goto member;
        goto value;
    }
    if (*s == (obj ? '}' : ']')) {
        s++;
        goto close;
    }
    if (obj) return fail(err, p, s, "expected ',' or '}' after object member");
    return fail(err, p, s, "expected ',' or ']' after array element");
}

int
lw_json_scan(const char *p, size_t len, const struct lw_str *keys, size_t nkeys,
             struct lw_str *vals, struct lw_json_err *err)
{
    return scan(p, len, keys, nkeys, vals, NULL, err);
}

int
lw_json_scan_members(const char *p, size_t len, const struct lw_str *keys, size_t nkeys,
                     struct lw_str *vals, struct lw_json_member *all, size_t cap, size_t *nall,
                     bool *gapless, struct lw_json_err *err)
{
    struct members m = { all, cap, 0, true };
    int rc = scan(p, len, keys, nkeys, vals, &m, err);
    *nall = m.n;
    if (gapless != NULL) *gapless = rc == 0 && !m.gap;
    return rc;
}

int
lw_json_validate(const char *p, size_t len, struct lw_json_err *err)
{
    return lw_json_scan(p, len, NULL, 0, NULL, err);
}

/* ---- walking validated text ---- */

/* Byte classes for walking validated text: what can lie between tokens (whitespace, the NUL
 * jansson ignores, ',' and ':'), what can be in a number, and what matters inside a container. */
enum { W_GAP = 1, W_NUM = 2, W_QUOTE = 4, W_OPEN = 8, W_CLOSE = 16 };
static const unsigned char wcls[256] = {
    [' '] = W_GAP,   ['\t'] = W_GAP,  ['\n'] = W_GAP,  ['\r'] = W_GAP, ['\0'] = W_GAP,
    [','] = W_GAP,   [':'] = W_GAP,   ['-'] = W_NUM,   ['+'] = W_NUM,  ['.'] = W_NUM,
    ['e'] = W_NUM,   ['E'] = W_NUM,   ['0'] = W_NUM,   ['1'] = W_NUM,  ['2'] = W_NUM,
    ['3'] = W_NUM,   ['4'] = W_NUM,   ['5'] = W_NUM,   ['6'] = W_NUM,  ['7'] = W_NUM,
    ['8'] = W_NUM,   ['9'] = W_NUM,   ['"'] = W_QUOTE, ['{'] = W_OPEN, ['['] = W_OPEN,
    ['}'] = W_CLOSE, [']'] = W_CLOSE,
};

/* The byte after the closing quote of the validated string whose opening quote is at s - 1;
 * *esc becomes true when it has an escape. */
static const char *
skip_string(const char *s, const char *end, bool *esc)
{
    for (;;) {
        s = quote_end(s, end);
        if (s >= end) return end;
        if (*s == '"') return s + 1;
        *esc = true;
        if (end - s < 2) return end;
        s += 2; /* a \u escape goes on with hex digits, which are plain */
    }
}

enum lw_json_kind
lw_json_kind(struct lw_str v)
{
    if (v.len == 0) return LW_JSON_NULL;
    switch (v.p[0]) {
    case 'n':
        return LW_JSON_NULL;
    case 'f':
        return LW_JSON_FALSE;
    case 't':
        return LW_JSON_TRUE;
    case '"':
        return LW_JSON_STRING;
    case '[':
        return LW_JSON_ARRAY;
    case '{':
        return LW_JSON_OBJECT;
    default:
        for (size_t i = 0; i < v.len; i++) {
            if (v.p[i] == '.' || v.p[i] == 'e' || v.p[i] == 'E') return LW_JSON_REAL;
        }
        return LW_JSON_INT;
    }
}

/* skip_container: lw_json_skip of the object or array at p */
static size_t
skip_container(const char *p, const char *end)
{
    const char *s = p;
    bool esc;
    size_t depth = 0;
    while (s < end) {
        unsigned c = wcls[(unsigned char)*s++];
        if (c & W_QUOTE) {
            s = skip_string(s, end, &esc);
        } else if (c & W_OPEN) {
            depth++;
        } else if ((c & W_CLOSE) && --depth == 0) {
            break;
        }
    }
    return (size_t)(s - p);
}

/* skip_value: lw_json_skip, inline in the walks (a call per member or element otherwise) */
static inline __attribute__((always_inline)) size_t
skip_value(const char *p, const char *end)
{
    const char *s = p;
    bool esc;
    if (s >= end) return 0;
    switch (*s) {
    case '"':
        return (size_t)(skip_string(s + 1, end, &esc) - p);
    case 't':
    case 'n':
        return 4;
    case 'f':
        return 5;
    case '{':
    case '[':
        return skip_container(p, end);
    default:
        while (s < end && (wcls[(unsigned char)*s] & W_NUM)) {
            s++;
        }
        return (size_t)(s - p);
    }
}

size_t
lw_json_skip(const char *p, const char *end)
{
    return skip_value(p, end);
}

void
lw_json_iter_init(struct lw_json_iter *it, struct lw_str c)
{
    it->p = it->end = c.p;
    it->obj = false;
    if (c.len >= 2 && (c.p[0] == '{' || c.p[0] == '[')) {
        it->obj = c.p[0] == '{';
        it->p = c.p + 1;
        it->end = c.p + c.len - 1; /* the closing bracket */
    }
}

/* lw_json_iter_next that also says whether the key has an escape. In validated text, a run of
 * gap bytes is exactly what separates a key from its value or an item from the next. */
static int
iter_next(struct lw_json_iter *it, struct lw_str *key, struct lw_str *val, bool *kesc)
{
    const char *s = it->p, *end = it->end;
    while (s < end && (wcls[(unsigned char)*s] & W_GAP)) {
        s++;
    }
    if (s >= end) {
        it->p = end;
        return 0;
    }
    *key = (struct lw_str){ NULL, 0 };
    if (it->obj) {
        const char *k = s;
        s = skip_string(s + 1, end, kesc);
        *key = (struct lw_str){ k, (size_t)(s - k) };
        while (s < end && (wcls[(unsigned char)*s] & W_GAP)) {
            s++;
        }
    }
    size_t n = skip_value(s, end);
    *val = (struct lw_str){ s, n };
    it->p = s + n;
    return 1;
}

int
lw_json_iter_next(struct lw_json_iter *it, struct lw_str *key, struct lw_str *val)
{
    bool kesc;
    return iter_next(it, key, val, &kesc);
}

int
lw_json_iter_next_esc(struct lw_json_iter *it, struct lw_str *key, struct lw_str *val, bool *kesc)
{
    *kesc = false;
    return iter_next(it, key, val, kesc);
}

int
lw_json_get(struct lw_str obj, const char *key, size_t keylen, struct lw_str *val)
{
    if (obj.len == 0 || obj.p[0] != '{') return 0;
    struct lw_json_iter it;
    struct lw_str k, v;
    int found = 0;
    bool kesc = false;
    lw_json_iter_init(&it, obj);
    while (iter_next(&it, &k, &v, &kesc)) {
        if (key_eq(k.p, k.p + k.len, kesc, key, keylen)) {
            *val = v;
            found = 1;
        }
        kesc = false;
    }
    return found;
}

int
lw_json_at(struct lw_str arr, size_t index, struct lw_str *val)
{
    if (arr.len == 0 || arr.p[0] != '[') return 0;
    struct lw_json_iter it;
    struct lw_str k;
    lw_json_iter_init(&it, arr);
    for (size_t i = 0; lw_json_iter_next(&it, &k, val); i++) {
        if (i == index) return 1;
    }
    return 0;
}

size_t
lw_json_count(struct lw_str v)
{
    struct lw_json_iter it;
    struct lw_str k, x;
    size_t n = 0;
    lw_json_iter_init(&it, v);
    while (lw_json_iter_next(&it, &k, &x)) {
        n++;
    }
    return n;
}

size_t
lw_json_list(struct lw_str c, struct lw_json_member *out, size_t cap)
{
    struct lw_json_iter it;
    size_t n = 0;
    lw_json_iter_init(&it, c);
    const char *s = it.p, *end = it.end;
    for (;;) {
        while (s < end && (wcls[(unsigned char)*s] & W_GAP)) {
            s++;
        }
        if (s >= end) return n;
        struct lw_json_member m = { { NULL, 0 }, { NULL, 0 }, false, false };
        if (it.obj) {
            const char *k = s;
            s = skip_string(s + 1, end, &m.kesc);
            m.key = (struct lw_str){ k, (size_t)(s - k) };
            while (s < end && (wcls[(unsigned char)*s] & W_GAP)) {
                s++;
            }
        }
        const char *v = s;
        if (s < end && *s == '"') {
            s = skip_string(s + 1, end, &m.vesc);
        } else {
            s += lw_json_skip(s, end);
        }
        m.val = (struct lw_str){ v, (size_t)(s - v) };
        if (n < cap) out[n] = m;
        n++;
    }
}

bool
lw_json_str_has_escape(struct lw_str tok)
{
    return tok.len > 2 && memchr(tok.p + 1, '\\', tok.len - 2) != NULL;
}

size_t
lw_json_unescape(struct lw_str tok, char *dst)
{
    if (tok.len < 2) return 0;
    const char *s = tok.p + 1, *e = tok.p + tok.len - 1;
    char *d = dst;
    while (s < e) {
        const char *bs = memchr(s, '\\', (size_t)(e - s));
        if (bs == NULL) bs = e;
        memcpy(d, s, (size_t)(bs - s));
        d += bs - s;
        if (bs == e) break;
        size_t n;
        s = unescape1(bs, e, d, &n);
        d += n;
    }
    return (size_t)(d - dst);
}

/* Decimal digits [s, e) as a magnitude no larger than max, or -1 when not digits or too big. */
static int
magnitude(const char *s, const char *e, uint64_t max, uint64_t *out)
{
    uint64_t u = 0;
    if (s == e) return -1;
    for (; s < e; s++) {
        if (!isdig(*s)) return -1;
        unsigned dig = (unsigned)(*s - '0');
        if (u > (max - dig) / 10) return -1;
        u = u * 10 + dig;
    }
    *out = u;
    return 0;
}

/* Clinger's fast path: a real whose digits form an integer m <= 2^53 and whose decimal exponent
 * is within +-22 is m * 10^e or m / 10^-e, each of them exact operands and one correctly rounded
 * operation, so the result is strtod's. Returns false for the others. */
static bool
fast_real(const char *s, const char *e, double *out)
{
    static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    bool neg = *s == '-', frac = false;
    uint64_t m = 0;
    long scale = 0, exp = 0;
    for (s += neg; s < e; s++) {
        if (*s == '.' && !frac) {
            frac = true;
            continue;
        }
        if (!isdig(*s)) break;
        if (m > ((uint64_t)1 << 53) / 10) return false;
        m = m * 10 + (uint64_t)(*s - '0');
        scale -= frac;
    }
    if (s < e) { /* the exponent */
        if (*s != 'e' && *s != 'E') return false;
        bool eneg = ++s < e && *s == '-';
        if (s < e && (*s == '-' || *s == '+')) s++;
        if (s == e) return false;
        for (; s < e && isdig(*s) && exp < 1000; s++) {
            exp = exp * 10 + (*s - '0');
        }
        if (s < e) return false;
        scale += eneg ? -exp : exp;
    }
    /* with extended-precision arithmetic (x87) the operation would round twice */
    if (FLT_EVAL_METHOD != 0 || m > (uint64_t)1 << 53 || scale < -22 || scale > 22) return false;
    double v = (double)m;
    v = scale < 0 ? v / pow10[-scale] : v * pow10[scale];
    *out = neg ? -v : v;
    return true;
}

int
lw_json_number(struct lw_str tok, int64_t *i, double *d)
{
    if (tok.len == 0 || !(tok.p[0] == '-' || isdig(tok.p[0]))) return -1;
    /* the common integer of at most 18 digits (no overflow possible): one walk of its digits */
    const char *s = tok.p + (tok.p[0] == '-'), *e = tok.p + tok.len;
    if (s < e && e - s <= 18) {
        uint64_t u = 0;
        const char *q = s;
        while (q < e && isdig(*q)) {
            u = u * 10 + (uint64_t)(*q++ - '0');
        }
        if (q == e) {
            *i = s > tok.p ? -(int64_t)u : (int64_t)u;
            return LW_JSON_INT;
        }
        if (*q == '.' || *q == 'e' || *q == 'E') goto real; /* lw_json_kind's LW_JSON_REAL */
    }
    if (lw_json_kind(tok) == LW_JSON_INT) {
        bool neg = tok.p[0] == '-';
        uint64_t u;
        if (magnitude(tok.p + neg, tok.p + tok.len, (uint64_t)INT64_MAX + neg, &u) == 0) {
            *i = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u) : (int64_t)u;
            return LW_JSON_INT;
        } /* beyond int64: a float, as a real of the same digits (strtod below) */
    }
real:
    if (fast_real(tok.p, tok.p + tok.len, d)) return LW_JSON_REAL;
    /* strtod needs a terminated copy; only absurdly long reals do not fit on the stack */
    char tmp[128], *t = tok.len < sizeof tmp ? tmp : lw_xmalloc(tok.len + 1), *ep;
    memcpy(t, tok.p, tok.len);
    t[tok.len] = '\0';
    errno = 0;
    double v = strtod(t, &ep);
    bool bad = ep != t + tok.len || ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE);
    if (t != tmp) free(t);
    if (bad) return -1;
    *d = v;
    return LW_JSON_REAL;
}

/* ---- writing ---- */

/* The first byte of validated text [s, e) that lies outside every string and is whitespace
 * or a NUL (or e): a block at a time, inside strings and between them (one call for a slice of
 * many short strings), then the bytes of the tail. */
static const char *
first_gap(const char *s, const char *e)
{
    bool esc;
#ifdef LW_GAP_MASKS
    /* 16 bytes at a time: which bytes are inside a string is the running parity of the quotes
     * before them (a prefix XOR), as long as a block has no backslash; one that has is followed
     * a string at a time, as below. in: s is inside a string (past its opening quote). */
    bool in = false;
    while (e - s >= 16) {
        uint32_t q, bs, g;
        gap_masks(s, &q, &bs, &g);
        if (bs != 0) { /* to the end of the string this backslash is in */
            if (!in) {
                if (q == 0) break; /* (not in validated text: a backslash is in a string) */
                uint32_t before = g & ((q & -q) - 1);
                if (before != 0) return s + first_blk(before);
                s += first_blk(q) + 1;
            }
            s = skip_string(s, e, &esc);
            in = false;
            continue;
        }
        uint32_t inside = q;
        inside ^= inside << 1;
        inside ^= inside << 2;
        inside ^= inside << 4;
        inside ^= inside << 8;
        inside &= 0xffff;
        if (in) inside ^= 0xffff;
        uint32_t out = g & ~inside;
        if (out != 0) return s + first_blk(out);
        in = inside >> 15;
        s += 16;
    }
    if (in) s = skip_string(s, e, &esc);
#endif
    while (BLK && e - s >= BLK) {
        uint64_t m = gap_blk(s);
        if (m == 0) {
            s += BLK;
            continue;
        }
        s += first_blk(m);
        if (*s != '"') return s;
        s++; /* in a string: to the byte after its closing quote */
        for (;;) {
            if (!BLK || e - s < BLK) {
                s = skip_string(s, e, &esc);
                break;
            }
            uint64_t q = quote_blk(s);
            if (q == 0) {
                s += BLK;
                continue;
            }
            s += first_blk(q);
            if (*s == '"') {
                s++;
                break;
            }
            s += 2; /* an escape; a \u escape goes on with hex digits, which are plain */
        }
    }
    for (;;) {
        while (s < e && *s != '"' && (unsigned char)*s > ' ') {
            s++;
        }
        if (s >= e || *s != '"') return s;
        s = skip_string(s + 1, e, &esc);
    }
}

void
lw_json_write_compact(struct lw_buf *b, struct lw_str v)
{
    char *d = lw_buf_grow(b, v.len);
    const char *s = v.p, *e = v.p + v.len;
    /* most slices have no gap at all (compact input): they are copied in one go */
    const char *gap = first_gap(s, e);
    memcpy(d, s, (size_t)(gap - s));
    d += gap - s;
    s = gap;
    while (s < e) {
        char c = *s;
        if (c == '"') {
            bool esc;
            const char *q = skip_string(s + 1, e, &esc);
            memcpy(d, s, (size_t)(q - s));
            d += q - s;
            s = q;
        } else {
            if (!isws(c) && c != '\0') *d++ = c;
            s++;
        }
    }
    b->len = (size_t)(d - b->p);
}

void
lw_json_write_int(struct lw_buf *b, int64_t i)
{
    char tmp[24], *t = tmp + sizeof tmp;
    uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    do {
        *--t = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (i < 0) *--t = '-';
    lw_buf_add(b, t, (size_t)(tmp + sizeof tmp - t));
}

/* write_short_decimal: the fast path of lw_json_write_double, for 1e-4 <= |d| < 1e15, the
 * range where %g writes fixed notation. Finds the least k such that m = d * 10^k is an integer
 * below 1e15 and m / 10^k == d (exact operands, and IEEE division rounds correctly, so this
 * proves that the decimal text reads back as d). A decimal of at most 15 significant digits
 * names one double only, so the text is the one "%.15g" gives, without snprintf and strtod.
 * Returns false when the fast path does not apply. */
static bool
write_short_decimal(struct lw_buf *b, double d)
{
    static const double p10[] = { 1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
    double a = fabs(d);
    if (!(a >= 1e-4 && a < 1e15)) return false;
    for (int k = 0; k < 16; k++) {
        double m = a * p10[k];
        if (m >= 1e15) return false;
        /* 0 <= m < 1e15: its integer part fits an int64, and converting is floor() without
         * the libm call */
        if (m != (double)(int64_t)m || m / p10[k] != a) continue;
        char digits[24], *e = digits + sizeof digits, *q = e;
        uint64_t v = (uint64_t)m;
        int nd = 0;
        while (k > 0 && v % 10 == 0) { /* a*10^k may be integral first at a longer k */
            v /= 10;
            k--;
        }
        do {
            *--q = (char)('0' + v % 10);
            v /= 10;
            nd++;
        } while (v != 0 || nd <= k); /* at least one digit before the point */
        char *out = lw_buf_grow(b, (size_t)(e - q) + 4), *o = out;
        if (d < 0) *o++ = '-';
        size_t intlen = (size_t)(e - q) - (size_t)k;
        memcpy(o, q, intlen);
        o += intlen;
        *o++ = '.';
        if (k == 0) {
            *o++ = '0';
        } else {
            memcpy(o, q + intlen, (size_t)k);
            o += k;
        }
        b->len += (size_t)(o - out);
        return true;
    }
    return false;
}

void
lw_json_write_double(struct lw_buf *b, double d)
{
    if (!isfinite(d)) {
        lw_buf_add(b, "null", 4);
        return;
    }
    if (write_short_decimal(b, d)) return;
    char tmp[40];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) break;
    }
    lw_buf_add(b, tmp, (size_t)n);
    if (strpbrk(tmp, ".e") == NULL) lw_buf_add(b, ".0", 2);
}

/* JSON without a DOM: one validating pass over a record that also picks out the raw slices of
 * wanted top-level members, then cheap non-validating walks into those slices on demand, and
 * the JSON writer (strings, numbers, compact re-emission). Values stay slices of the input;
 * strings are unescaped only when used. Validity agrees exactly with jansson's
 * json_loadb(p, len, JSON_DECODE_ANY, &e), quirks included (see the notes atop json.c). */
#ifndef LW_JSON_H
#define LW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw/buf.h"
#include "lw/jsonstr.h"
#include "lw/str.h"

/* Deepest nesting jansson accepts: every value, scalar or container, counts one level. */
#define LW_JSON_MAX_DEPTH 2048

/* Where and why a text is not JSON: off is a byte offset into the scanned text, msg is
 * lowercase with no final period ("invalid utf-8 in string"). */
struct lw_json_err {
    size_t off;
    char msg[96];
};

enum lw_json_kind {
    LW_JSON_NULL,
    LW_JSON_FALSE,
    LW_JSON_TRUE,
    LW_JSON_INT,
    LW_JSON_REAL,
    LW_JSON_STRING,
    LW_JSON_ARRAY,
    LW_JSON_OBJECT
};

/* lw_json_scan: validate one whole JSON text p[0..len) (a single value of any kind with optional
 * whitespace around it) and, when it is an object, set vals[i] to the raw slice of the value of
 * the member named keys[i] (keys are unescaped names; the last duplicate wins; {NULL, 0} when
 * absent or when the text is not an object). nkeys may be 0 (keys and vals may then be NULL).
 * The slices point into p and live as long as it. Never allocates.
 * Returns 0 when valid, -1 with *err filled (err may be NULL; vals are then unspecified). */
int lw_json_scan(const char *p, size_t len, const struct lw_str *keys, size_t nkeys,
                 struct lw_str *vals, struct lw_json_err *err);

/* A top-level member of an object: its key token (quotes included) and its value's slice. */
struct lw_json_member {
    struct lw_str key, val;
    bool kesc; /* the key has an escape */
    bool vesc; /* the value is a string with an escape (lw_json_str_has_escape of val) */
};

/* lw_json_scan_members: lw_json_scan that also puts every top-level member of an object text,
 * in text order (duplicates included), in all[0..cap); *nall is how many there are (more
 * than cap: the rest were not kept). *gapless (gapless may be NULL): the value has no
 * whitespace or NUL outside its strings (whitespace before and after it aside), so its text
 * and every slice of it are compact JSON already. */
int lw_json_scan_members(const char *p, size_t len, const struct lw_str *keys, size_t nkeys,
                         struct lw_str *vals, struct lw_json_member *all, size_t cap, size_t *nall,
                         bool *gapless, struct lw_json_err *err);

/* lw_json_validate: lw_json_scan without keys. */
int lw_json_validate(const char *p, size_t len, struct lw_json_err *err);

/* Everything below works on validated text only (from lw_json_scan or lw_json_validate) and does
 * not check it again. A "value slice" starts at the first byte of a value and ends right after
 * it, with no whitespace around it; a "string token" is a value slice of a string, quotes
 * included. Results point into the argument's bytes. */

/* lw_json_kind: the kind of a value slice, from its first bytes (LW_JSON_NULL for an empty one). */
enum lw_json_kind lw_json_kind(struct lw_str v);

/* lw_json_skip: the length of the value that starts at p (end bounds the text it lies in). */
size_t lw_json_skip(const char *p, const char *end);

/* lw_json_get: find the member named key[0..keylen) (unescaped) in the object slice obj and set
 * *val to its value slice. The last duplicate wins. Returns 1 when found, 0 when absent or when
 * obj is not an object. */
int lw_json_get(struct lw_str obj, const char *key, size_t keylen, struct lw_str *val);

/* lw_json_at: set *val to element index of the array slice arr. Returns 1 when found, 0 when out
 * of range or when arr is not an array. */
int lw_json_at(struct lw_str arr, size_t index, struct lw_str *val);

/* lw_json_count: the number of elements of an array or members of an object (duplicates
 * included), 0 for any other value. */
size_t lw_json_count(struct lw_str v);

/* A cursor over the members of an object or the elements of an array; the caller embeds it. */
struct lw_json_iter {
    const char *p, *end;
    bool obj;
};

/* lw_json_iter_init: start iterating container (a value slice); any other kind iterates nothing. */
void lw_json_iter_init(struct lw_json_iter *it, struct lw_str container);

/* lw_json_iter_next: the next member or element, in text order (duplicates included). *key is
 * the raw key token including its quotes for objects and {NULL, 0} for arrays; *val is the value
 * slice. Returns 1 for an item, 0 at the end. */
int lw_json_iter_next(struct lw_json_iter *it, struct lw_str *key, struct lw_str *val);
/* lw_json_iter_next_esc: lw_json_iter_next that also says whether the key has an escape
 * (*kesc; false for arrays), as lw_json_str_has_escape would. */
int lw_json_iter_next_esc(struct lw_json_iter *it, struct lw_str *key, struct lw_str *val,
                          bool *kesc);

/* lw_json_list: the members of the object or elements of the array container (a value slice)
 * in one walk, in text order (duplicates included), as lw_json_iter_next_esc gives them (key
 * {NULL, 0} for elements), with vesc: up to cap of them in out. Returns how many there are
 * (more than cap: the rest were not kept); 0 for any other value. */
size_t lw_json_list(struct lw_str container, struct lw_json_member *out, size_t cap);

/* lw_json_str_has_escape: true when the string token tok contains a backslash escape, i.e.
 * when its content differs from the bytes between its quotes. */
bool lw_json_str_has_escape(struct lw_str tok);

/* lw_json_unescape: write the decoded UTF-8 content of the string token tok (without quotes) to
 * dst, which has room for tok.len bytes (always enough). Returns the decoded length. */
size_t lw_json_unescape(struct lw_str tok, char *dst);

/* lw_json_number: convert a number token. Returns LW_JSON_INT with *i set (a token without '.',
 * 'e' or 'E', within int64; "-0" is 0) or LW_JSON_REAL with *d set (strtod's correctly rounded
 * value; tiny values underflow to 0 as in jansson; an integer beyond int64 is a real too).
 * Returns -1 when tok is not a number or rounds to infinity: validated text never has one. May
 * allocate (and free) a temporary copy of a real longer than 127 bytes. */
int lw_json_number(struct lw_str tok, int64_t *i, double *d);

/* lw_json_u_escape: the code point of the \u escape whose 4 hex digits start at s (just after
 * "\u"), a high surrogate joined with the "\uXXXX" low surrogate that follows it. Returns the
 * bytes read from s (4, or 10 with a pair), or 0 when s does not start with 4 hex digits; *cp is
 * a surrogate (0xd800 to 0xdfff) when it is unpaired: JSON refuses it, key=value text replaces
 * it. JSON strings, parse_json and parse_kv's escapes all read \u with this. */
size_t lw_json_u_escape(const char *s, const char *end, unsigned long *cp);

/* lw_utf8_valid, lw_json_write_string, lw_json_string_fit: lw/jsonstr.h (base). */

/* lw_json_write_compact: append the validated value slice v with all whitespace outside strings
 * removed; string and number tokens are copied unchanged. */
void lw_json_write_compact(struct lw_buf *b, struct lw_str v);

/* lw_json_write_int: append i in decimal. */
void lw_json_write_int(struct lw_buf *b, int64_t i);

/* lw_json_write_double: append the shortest of %.15g, %.16g, %.17g that reads back as d, with
 * ".0" added when it would otherwise read back as an integer (1.0 -> "1.0"). NaN and infinities
 * have no JSON form and are written as null. */
void lw_json_write_double(struct lw_buf *b, double d);

#endif

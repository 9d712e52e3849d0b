/* key=value and logfmt splitting, and the typing of scalar text (int, float, bool, string).
 * The splitter only cuts a line into key and value strings; what to do with repeated keys,
 * flag keys and types is up to the caller (the W3 task in shared/corpus/README.md). */
#ifndef LW_KV_H
#define LW_KV_H

#include <stdbool.h>
#include <stdint.h>

#include "lw/str.h"

struct lw_kv_opts {
    char field_sep; /* between pairs; ' ' means any run of ASCII whitespace (logfmt) */
    char kv_sep;    /* between key and value, '=' */
    /* Separators of more than one byte (field_sep, kv_sep are then their first bytes): NULL or
     * the whole separator, *_len bytes (at most LW_KV_SEP_MAX). */
    const char *field_str, *kv_str;
    uint8_t field_len, kv_len;
    char quote;   /* opens and closes a quoted value, '"'; 0: no quoting */
    char quote2;  /* a second quote character such as '\'', 0 for none */
    bool trim;    /* field_sep other than ' ': strip blanks around keys and unquoted values */
    bool escapes; /* in quoted values \n \t \r \b \f and \uXXXX mean what they mean in Go
                   * and JSON (logfmt writers quote that way); else, and for any other byte,
                   * a backslash and the byte after it are that byte */
    /* parse_kv's reading, where the W3 reference and logfmt read otherwise (all false there): */
    bool keep_backslash;   /* in a quoted value only \QUOTE and \\ are escapes; another
                            * backslash stays (C:\Windows keeps its backslash) */
    bool quoted_keys;      /* a key may be quoted: "my key"=v gives the key my key */
    bool strict_keys;      /* a token that starts with kv_sep has no key: it is skipped up to
                            * the next separator, rather than read again after the kv_sep */
    bool join_after_quote; /* field_sep not ' ': text after a closing quote up to the next
                            * separator is part of the value ("tom" test gives tom test), not
                            * a new key */
    bool lenient;          /* blanks around kv_sep are allowed even when field_sep is ' ' */
};

/* Options for logfmt: pairs apart by whitespace, '=', double quotes, Go escapes. */
#define LW_KV_OPTS_LOGFMT                                                                          \
    ((struct lw_kv_opts){ .field_sep = ' ', .kv_sep = '=', .quote = '"', .escapes = true })

#define LW_KV_SEP_MAX 16

/* lw_kv_seps_check: NULL when field and kv are usable separators for parse_kv (1 to
 * LW_KV_SEP_MAX bytes each, not the same, neither one a prefix of the other), else why not. */
const char *lw_kv_seps_check(struct lw_str field, struct lw_str kv);

/* lw_kv_parse: split s (len bytes) into pairs and call cb for each, left to right.
 *
 * With field_sep ' ' this gives the same strings as the W3 reference, the Python regex
 * `([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)` applied with findall, then the quotes stripped and
 * unescaped:
 * - A key runs to the first kv_sep or separator: it may hold quotes, never kv_sep.
 * - After kv_sep, a value that starts with quote (or quote2) runs to the same quote character;
 *   inside it a backslash and the byte after it stand for that byte (\" is ", \\ is \, \n is
 *   n), and a separator or kv_sep is plain text. Scanning goes on right after the closing quote,
 *   so k="a"b=c gives k=a and b=c. Any other value runs to the next separator and is taken as
 *   it is (it may hold kv_sep and quotes: a=b=c gives a and "b=c"); k= gives an empty value.
 * - A token without kv_sep (a logfmt "flag") is passed with val.p == NULL, val.len 0; an empty
 *   value from k= has val.p != NULL. The W3 reference drops flags, so its callers skip them.
 * - kv_sep bytes that begin a token are skipped, as the reference's rescan does: "=x=y" gives
 *   x=y and "=x" the flag x.
 * - An opening quote with no closing quote (k="abc, or k="abc\" whose quote is escaped) stops
 *   the parse: it returns -1 with *erroff (may be NULL) at the opening quote, after calling cb
 *   for the pairs before it. The reference instead keeps the raw text "abc; we report it.
 * - Only ASCII whitespace separates; the reference's Python also splits at Unicode spaces such
 *   as U+00A0, which we keep inside values.
 * With another field_sep, pairs are apart by that one byte, a value runs to it (spaces
 * included), and empty tokens (",,") are skipped; trim strips spaces and tabs around keys and
 * unquoted values and before an opening quote. A pair whose key is empty after trimming is
 * dropped.
 *
 * key and val point into s, except a quoted value holding a backslash, which is unescaped into
 * scratch at the same offset it has in s (so values never overlap and live as long as scratch).
 * scratch must hold len bytes; it may be s itself when s is writable. quoted tells whether the
 * value was quoted. o NULL means LW_KV_OPTS_LOGFMT. cb returning non-zero stops the parse, which
 * then returns 0. Returns 0, or -1 on an unterminated quote as above. */
int lw_kv_parse(const char *s, size_t len, const struct lw_kv_opts *o, char *scratch,
                int (*cb)(void *ud, struct lw_str key, struct lw_str val, bool quoted), void *ud,
                size_t *erroff);

enum lw_kv_type {
    LW_KV_STRING,
    LW_KV_INT,   /* -?[0-9]+ that fits int64_t: lw_parse_int succeeds */
    LW_KV_FLOAT, /* -?[0-9]+\.[0-9]+, or -?[0-9]+ too big for int64_t: lw_parse_float succeeds */
    LW_KV_BOOL,  /* exactly "true" or "false" */
};

/* lw_kv_classify: the type an unquoted logfmt value takes (W3 typing). Leading zeros are fine
 * ("007" is INT 7). An integer too big for int64_t is FLOAT, as in jq, where the reference's
 * Python keeps a big integer. Text of 64 bytes or more is never FLOAT (lw_parse_float would
 * refuse it), so a FLOAT or INT answer always parses. Quoted values stay strings: do not ask. */
enum lw_kv_type lw_kv_classify(struct lw_str v);

/* lw_parse_int: the whole of v as a decimal int64_t: an optional '-' or '+', then one or more
 * digits, nothing else (no spaces, no "0x"). Returns 0 with *out set, or -1 when v is not such
 * an integer or does not fit int64_t. */
int lw_parse_int(struct lw_str v, int64_t *out);

/* lw_parse_float: the whole of v as a decimal double: [+-](digits[.digits]|.digits), then an
 * optional exponent e[+-]digits. Rejects spaces, hex, inf and nan, values that overflow to
 * infinity, and text of 64 bytes or more; a value too small for a double becomes 0 or a
 * subnormal. Uses strtod on a stack copy, which assumes the C locale for LC_NUMERIC (logwash
 * never calls setlocale). Returns 0 with *out set, or -1. */
int lw_parse_float(struct lw_str v, double *out);

#endif

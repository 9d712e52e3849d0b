/* Dissect: Logstash-style delimiter extraction ("%{a} - %{b} [%{ts}]"), no regex and no
 * backtracking: each delimiter is searched once, left to right, and the text after the last
 * field must end the subject. The pattern is parsed once at
 * template compile time (lw_dissect_compile); dissect() in src/lib/dissect.c runs it per record. */
#ifndef LW_DISSECT_H
#define LW_DISSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw/arena.h"
#include "lw/str.h"
#include "lw/value.h"

enum lw_dissect_kind {
    LW_DIS_FIELD, /* %{name} */
    LW_DIS_SKIP,  /* %{}, %{?name} not used as a key */
    LW_DIS_KEY,   /* %{?name} or %{*name} named by a %{&name} */
    LW_DIS_VALUE, /* %{&name} */
};

/* One %{...} and the delimiter that ends it (empty for a last field: the rest of the text). */
struct lw_dissect_field {
    struct lw_str delim;
    uint8_t kind; /* enum lw_dissect_kind */
    bool pad;     /* %{name->}: repeated delimiters after it are skipped */
};

/* One output member: its name and the fields joined into it (more than one when appended with
 * %{+name}, in /N order), or for a reference pair, the key and value fields. */
struct lw_dissect_out {
    struct lw_str name;
    uint16_t nparts;
    uint16_t *parts; /* field indices; for a key/value pair: parts[0] key, parts[1] value */
    bool pair;
    uint8_t npath; /* a name [a][b] is a path of npath > 1 keys (nested objects) */
    struct lw_str *path;
};

struct lw_dissect {
    struct lw_str prefix; /* text before the first field: the subject must start with it */
    uint32_t n;
    struct lw_dissect_field *f;
    uint32_t nout;
    struct lw_dissect_out *out;
    bool pairs;            /* some output is a %{?k}=%{&k} pair (its name comes from the record) */
    bool nested;           /* some output name is a path [a][b] */
    bool simple;           /* no pairs, no paths, no appends: output k is field out[k].parts[0] */
    struct lw_shape shape; /* without pairs: the result's keys, JSON-encoded once */
};

#define LW_DISSECT_MAX 255 /* fields in one pattern */

/* lw_dissect_compile: parse pattern pat into arena a (pat is copied). NULL on error, with a
 * message in err (errcap bytes) and *erroff the byte offset in pat it concerns. */
const struct lw_dissect *lw_dissect_compile(struct lw_str pat, struct lw_arena *a, char *err,
                                            size_t errcap, size_t *erroff);

/* lw_dissect_split: find the fields of d in s: vals[i] (d->n of them) are slices of s.
 * Returns 0, or -1 when a delimiter is missing (the dissection fails). */
int lw_dissect_split(const struct lw_dissect *d, struct lw_str s, struct lw_str *vals);

/* lw_dissect_explain: why s does not fit d (explain.c): LW_DISSECT_NO_PREFIX (s does not start
 * with d->prefix), LW_DISSECT_NO_DELIM (the delimiter after field *k is not in s from byte
 * *off on), LW_DISSECT_NO_END (s does not end with the last field *k's trailing text, the field
 * starting at *off), or LW_DISSECT_MATCH (it fits: lw_dissect_split succeeds). */
enum { LW_DISSECT_MATCH, LW_DISSECT_NO_PREFIX, LW_DISSECT_NO_DELIM, LW_DISSECT_NO_END };
int lw_dissect_explain(const struct lw_dissect *d, struct lw_str s, uint32_t *k, size_t *off);

/* lw_dissect_field_text: field k's "%{...}" as written in the pattern (d's memory). */
struct lw_str lw_dissect_field_text(const struct lw_dissect *d, uint32_t k);

#endif

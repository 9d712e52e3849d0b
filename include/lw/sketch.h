/* Summaries for window aggregates (sketch.c): count_distinct over value hashes (exact, then a
 * HyperLogLog) and percentile (a DDSketch). Pure: malloc'd memory only, no other state; each
 * function that changes memory returns how many bytes it took or gave back. */
#ifndef LW_SKETCH_H
#define LW_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw/buf.h"

/* count_distinct: exact (64-bit hashes of the values' JSON) up to this many distinct values,
 * then a HyperLogLog of 2^14 one-byte registers: standard error 1.04 / 128 = 0.81%. */
#define LW_DISTINCT_EXACT 2048
/* percentile: the value returned is within 1% (relative) of a value of the asked rank while no
 * bucket was collapsed; at most this many buckets per sign (values from 1e-9 up keep the
 * bound over 2048 * 0.02 = 40 orders of magnitude). */
#define LW_DD_ALPHA       0.01
#define LW_DD_MAX_BUCKETS 2048

struct lw_distinct;
/* lw_distinct_add: hash h into *d (NULL: made). Returns the bytes it grew by. */
size_t lw_distinct_add(struct lw_distinct **d, uint64_t h);
uint64_t lw_distinct_count(const struct lw_distinct *d);
/* lw_distinct_free: free d (NULL: nothing); returns the bytes it held. */
size_t lw_distinct_free(struct lw_distinct *d);
/* lw_distinct_merge: *from's values into *d (the larger of the two kept); *from freed and
 * NULL. Returns the bytes it grew by (negative: gave back). The same as adding them one by
 * one, in any order. */
ptrdiff_t lw_distinct_merge(struct lw_distinct **d, struct lw_distinct **from);

struct lw_ddsketch;
/* lw_dd_add: x (finite) into *d (NULL: made). Returns the bytes it grew by. */
size_t lw_dd_add(struct lw_ddsketch **d, double x);
/* lw_dd_quantile: the value at rank q (0 to 1) of the values added into *out; false when none */
bool lw_dd_quantile(const struct lw_ddsketch *d, double q, double *out);
size_t lw_dd_free(struct lw_ddsketch *d);
/* lw_dd_merge: as lw_distinct_merge, the bucket counts added (the same as one by one) */
ptrdiff_t lw_dd_merge(struct lw_ddsketch **d, struct lw_ddsketch **from);

/* top(x, k): exact counts up to this many distinct values, then Space-Saving over that many
 * counters (a count may be over by at most n / LW_TOP_EXACT). */
#define LW_TOP_EXACT 1024

struct lw_top;
/* lw_top_add: one value (its JSON, len bytes at val, with its hash) into *t (NULL: made).
 * Returns the bytes it grew by. */
size_t lw_top_add(struct lw_top **t, uint64_t hash, const char *val, uint32_t len);
/* lw_top_write: the k most counted values as a JSON array of {"value": v, "count": n}, most
 * counted first, ties by the values' JSON (t is sorted). */
void lw_top_write(struct lw_top *t, uint32_t k, struct lw_buf *out);
size_t lw_top_free(struct lw_top *t);
/* lw_top_merge: as lw_distinct_merge, the counts added (exact while the values together are
 * at most LW_TOP_EXACT; past it the least counted give their place, as Space-Saving does) */
ptrdiff_t lw_top_merge(struct lw_top **t, struct lw_top **from);

#endif

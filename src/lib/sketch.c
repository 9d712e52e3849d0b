/* The window aggregates that summarise instead of keeping every value (sketch.h):
 * count_distinct, exact over 64-bit hashes up to LW_DISTINCT_EXACT values and then a
 * HyperLogLog of 2^14 registers; percentile, a DDSketch of relative accuracy LW_DD_ALPHA (dense
 * logarithmic buckets, the lowest collapsed past LW_DD_MAX_BUCKETS). Both are deterministic:
 * the same values in the same order give the same bytes. Memory is malloc'd and reported to
 * the caller, which counts it against --max-state. */
#include "lw/sketch.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/str.h"

#define HLL_P 14
#define HLL_M (1u << HLL_P)

struct lw_distinct {
    bool hll;
    uint32_t n, cap; /* exact: values held, slots (a power of two; 0 marks an empty slot) */
    uint64_t *slots; /* exact */
    uint8_t *reg;    /* hll: HLL_M registers */
};

static size_t
distinct_bytes(const struct lw_distinct *d)
{
    return sizeof *d + (d->hll ? HLL_M : (size_t)d->cap * 8);
}

static void
hll_add(struct lw_distinct *d, uint64_t h)
{
    uint32_t i = (uint32_t)(h >> (64 - HLL_P));
    uint64_t rest = h << HLL_P;
    uint8_t rank = rest == 0 ? (uint8_t)(64 - HLL_P + 1) : (uint8_t)(__builtin_clzll(rest) + 1);
    if (rank > d->reg[i]) d->reg[i] = rank;
}

static void
exact_put(struct lw_distinct *d, uint64_t h)
{
    uint32_t m = d->cap - 1;
    for (uint32_t i = (uint32_t)h & m;; i = (i + 1) & m) {
        if (d->slots[i] == h) return;
        if (d->slots[i] == 0) {
            d->slots[i] = h;
            d->n++;
            return;
        }
    }
}

size_t
lw_distinct_add(struct lw_distinct **dp, uint64_t h)
{
    struct lw_distinct *d = *dp;
    size_t before = d ? distinct_bytes(d) : 0;
    if (h == 0) h = 1; /* 0 marks an empty slot */
    if (d == NULL) {
        d = *dp = lw_xcalloc(1, sizeof *d);
        d->cap = 16;
        d->slots = lw_xcalloc(d->cap, 8);
    }
    if (d->hll) {
        hll_add(d, h);
        return 0;
    }
    exact_put(d, h);
    if (d->n * 2 > d->cap && d->n <= LW_DISTINCT_EXACT) { /* grow */
        uint64_t *old = d->slots;
        uint32_t ocap = d->cap;
        d->cap *= 2;
        d->slots = lw_xcalloc(d->cap, 8);
        d->n = 0;
        for (uint32_t i = 0; i < ocap; i++)
            if (old[i]) exact_put(d, old[i]);
        free(old);
    }
    if (d->n > LW_DISTINCT_EXACT) { /* past exact: the registers take every hash so far */
        d->reg = lw_xcalloc(HLL_M, 1);
        for (uint32_t i = 0; i < d->cap; i++)
            if (d->slots[i]) hll_add(d, d->slots[i]);
        free(d->slots);
        d->slots = NULL;
        d->hll = true;
    }
    return distinct_bytes(d) - before;
}

uint64_t
lw_distinct_count(const struct lw_distinct *d)
{
    if (d == NULL) return 0;
    if (!d->hll) return d->n;
    double sum = 0;
    uint32_t zeros = 0;
    for (uint32_t i = 0; i < HLL_M; i++) {
        sum += ldexp(1.0, -d->reg[i]);
        zeros += d->reg[i] == 0;
    }
    double m = HLL_M, alpha = 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros > 0) e = m * log(m / zeros); /* linear counting, small range */
    return (uint64_t)llround(e);
}

size_t
lw_distinct_free(struct lw_distinct *d)
{
    if (d == NULL) return 0;
    size_t n = distinct_bytes(d);
    free(d->slots);
    free(d->reg);
    free(d);
    return n;
}

ptrdiff_t
lw_distinct_merge(struct lw_distinct **dp, struct lw_distinct **fp)
{
    struct lw_distinct *a = *dp, *b = *fp;
    *fp = NULL;
    if (b == NULL) return 0;
    if (a == NULL) {
        *dp = b;
        return 0;
    }
    ptrdiff_t before = (ptrdiff_t)(distinct_bytes(a) + distinct_bytes(b));
    if (!a->hll && (b->hll || b->n > a->n)) { /* the larger takes the smaller */
        struct lw_distinct *t = a;
        a = b;
        b = t;
    }
    if (b->hll) { /* both: a register is the largest of the two */
        for (uint32_t i = 0; i < HLL_M; i++)
            if (b->reg[i] > a->reg[i]) a->reg[i] = b->reg[i];
    } else {
        for (uint32_t i = 0; i < b->cap; i++)
            if (b->slots[i]) lw_distinct_add(&a, b->slots[i]);
    }
    lw_distinct_free(b);
    *dp = a;
    return (ptrdiff_t)distinct_bytes(a) - before;
}

/* ---- DDSketch ---- */

struct ddstore {
    int32_t lo; /* the index of c[0] */
    uint32_t n; /* buckets held */
    uint64_t *c;
};

struct lw_ddsketch {
    struct ddstore pos, neg; /* |x| of positive and negative values */
    uint64_t zeros, total;
    bool collapsed; /* the lowest buckets were merged: said nowhere, the bound holds above */
};

static double
ln_gamma(void)
{
    return log((1 + LW_DD_ALPHA) / (1 - LW_DD_ALPHA));
}

static size_t
dd_bytes(const struct lw_ddsketch *d)
{
    return sizeof *d + ((size_t)d->pos.n + d->neg.n) * 8;
}

/* store_add: one value in bucket i of st (growing the dense range, the lowest buckets merged
 * into one past LW_DD_MAX_BUCKETS); store_addn: cnt values. */
static void store_addn(struct lw_ddsketch *d, struct ddstore *st, int32_t i, uint64_t cnt);

static void
store_add(struct lw_ddsketch *d, struct ddstore *st, int32_t i)
{
    store_addn(d, st, i, 1);
}

static void
store_addn(struct lw_ddsketch *d, struct ddstore *st, int32_t i, uint64_t cnt)
{
    if (st->n == 0) {
        st->c = lw_xcalloc(1, 8);
        st->lo = i;
        st->n = 1;
    }
    if (i < st->lo) {
        uint32_t grow = (uint32_t)(st->lo - i);
        uint64_t *c = lw_xcalloc(st->n + grow, 8);
        memcpy(c + grow, st->c, st->n * 8);
        free(st->c);
        st->c = c;
        st->n += grow;
        st->lo = i;
    } else if (i >= st->lo + (int32_t)st->n) {
        uint32_t nn = (uint32_t)(i - st->lo) + 1;
        st->c = lw_xrealloc(st->c, nn * 8);
        memset(st->c + st->n, 0, (nn - st->n) * 8);
        st->n = nn;
    }
    st->c[i - st->lo] += cnt;
    if (st->n > LW_DD_MAX_BUCKETS) { /* collapse the lowest into one */
        uint32_t cut = st->n - LW_DD_MAX_BUCKETS;
        uint64_t low = 0;
        for (uint32_t k = 0; k <= cut; k++)
            low += st->c[k];
        memmove(st->c, st->c + cut, LW_DD_MAX_BUCKETS * 8);
        st->c[0] = low;
        st->n = LW_DD_MAX_BUCKETS;
        st->lo += (int32_t)cut;
        d->collapsed = true;
    }
}

size_t
lw_dd_add(struct lw_ddsketch **dp, double x)
{
    struct lw_ddsketch *d = *dp;
    /* before the allocation: the sketch's own struct is counted here, as lw_dd_free gives it
     * back (counted after, every window closed took sizeof *d off the state's bytes, which
     * wrapped below 0 and read as past any --max-state) */
    size_t before = d ? dd_bytes(d) : 0;
    if (d == NULL) d = *dp = lw_xcalloc(1, sizeof *d);
    d->total++;
    double a = fabs(x);
    if (a < 1e-9) { /* below the smallest bucket kept apart: zero */
        d->zeros++;
    } else {
        double li = ceil(log(a) / ln_gamma());
        int32_t i = li < -1e6 ? -1000000 : li > 1e6 ? 1000000 : (int32_t)li;
        store_add(d, x > 0 ? &d->pos : &d->neg, i);
    }
    return dd_bytes(d) - before;
}

static double
value_of(int32_t i)
{
    double g = (1 + LW_DD_ALPHA) / (1 - LW_DD_ALPHA);
    double v = 2 * pow(g, i) / (g + 1);
    if (isfinite(v)) return v;
    /* the buckets of values near the largest double: 2 * g^i overflowed (a percentile of
     * 1e308 was infinite, written as null); the bucket's value is at most its largest */
    v = pow(g, i) * (2 / (g + 1));
    return isfinite(v) ? v : DBL_MAX;
}

bool
lw_dd_quantile(const struct lw_ddsketch *d, double q, double *out)
{
    if (d == NULL || d->total == 0) return false;
    double rank = q * (double)(d->total - 1);
    uint64_t seen = 0;
    for (uint32_t k = d->neg.n; k-- > 0;) { /* the most negative first */
        seen += d->neg.c[k];
        if ((double)seen > rank) {
            *out = -value_of(d->neg.lo + (int32_t)k);
            return true;
        }
    }
    seen += d->zeros;
    if ((double)seen > rank) {
        *out = 0;
        return true;
    }
    for (uint32_t k = 0; k < d->pos.n; k++) {
        seen += d->pos.c[k];
        if ((double)seen > rank) {
            *out = value_of(d->pos.lo + (int32_t)k);
            return true;
        }
    }
    *out = value_of(d->pos.lo + (int32_t)d->pos.n - 1);
    return true;
}

size_t
lw_dd_free(struct lw_ddsketch *d)
{
    if (d == NULL) return 0;
    size_t n = dd_bytes(d);
    free(d->pos.c);
    free(d->neg.c);
    free(d);
    return n;
}

ptrdiff_t
lw_dd_merge(struct lw_ddsketch **dp, struct lw_ddsketch **fp)
{
    struct lw_ddsketch *a = *dp, *b = *fp;
    *fp = NULL;
    if (b == NULL) return 0;
    if (a == NULL) {
        *dp = b;
        return 0;
    }
    ptrdiff_t before = (ptrdiff_t)(dd_bytes(a) + dd_bytes(b));
    if (b->pos.n + b->neg.n > a->pos.n + a->neg.n) { /* the larger takes the smaller */
        struct lw_ddsketch *t = a;
        a = b;
        b = t;
    }
    for (uint32_t k = 0; k < b->pos.n; k++)
        if (b->pos.c[k]) store_addn(a, &a->pos, b->pos.lo + (int32_t)k, b->pos.c[k]);
    for (uint32_t k = 0; k < b->neg.n; k++)
        if (b->neg.c[k]) store_addn(a, &a->neg, b->neg.lo + (int32_t)k, b->neg.c[k]);
    a->zeros += b->zeros;
    a->total += b->total;
    a->collapsed |= b->collapsed;
    lw_dd_free(b);
    *dp = a;
    return (ptrdiff_t)dd_bytes(a) - before;
}

/* ---- top: exact counts up to LW_TOP_EXACT distinct values, then Space-Saving ---- */

struct topent {
    uint64_t count, hash;
    uint32_t len;
    char *val; /* the value's JSON */
};

struct lw_top {
    struct topent *e;
    uint32_t n, cap;
    bool approx; /* a value was replaced: counts may be over by the count it took over */
};

static size_t
top_bytes(const struct lw_top *t)
{
    size_t n = sizeof *t + (size_t)t->cap * sizeof *t->e;
    for (uint32_t i = 0; i < t->n; i++)
        n += t->e[i].len + 16;
    return n;
}

size_t
lw_top_add(struct lw_top **tp, uint64_t hash, const char *val, uint32_t len)
{
    struct lw_top *t = *tp;
    size_t before = t ? top_bytes(t) : 0; /* before the allocation, as lw_dd_add */
    if (t == NULL) t = *tp = lw_xcalloc(1, sizeof *t);
    for (uint32_t i = 0; i < t->n; i++) {
        if (t->e[i].hash == hash && t->e[i].len == len && memcmp(t->e[i].val, val, len) == 0) {
            t->e[i].count++;
            return 0;
        }
    }
    if (t->n < LW_TOP_EXACT) {
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 8;
            t->e = lw_xrealloc(t->e, t->cap * sizeof *t->e);
        }
        char *v = lw_xmalloc(len ? len : 1);
        memcpy(v, val, len);
        t->e[t->n++] = (struct topent){ 1, hash, len, v };
        return top_bytes(t) - before;
    }
    uint32_t m = 0; /* Space-Saving: the value counted least gives its place, plus one */
    for (uint32_t i = 1; i < t->n; i++)
        if (t->e[i].count < t->e[m].count) m = i;
    free(t->e[m].val);
    char *v = lw_xmalloc(len ? len : 1);
    memcpy(v, val, len);
    t->e[m] = (struct topent){ t->e[m].count + 1, hash, len, v };
    t->approx = true;
    size_t after = top_bytes(t);
    return after > before ? after - before : 0;
}

static int
top_cmp(const void *a, const void *b)
{
    const struct topent *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    size_t l = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->val, y->val, l);
    return c != 0 ? c : (x->len < y->len ? -1 : x->len > y->len);
}

void
lw_top_write(struct lw_top *t, uint32_t k, struct lw_buf *out)
{
    lw_buf_addc(out, '[');
    if (t != NULL) {
        qsort(t->e, t->n, sizeof *t->e, top_cmp);
        for (uint32_t i = 0; i < t->n && i < k; i++) {
            char num[24];
            int nl = snprintf(num, sizeof num, "%llu", (unsigned long long)t->e[i].count);
            if (i > 0) lw_buf_addc(out, ',');
            lw_buf_add(out, "{\"value\":", 9);
            lw_buf_add(out, t->e[i].val, t->e[i].len);
            lw_buf_add(out, ",\"count\":", 9);
            lw_buf_add(out, num, (size_t)nl);
            lw_buf_addc(out, '}');
        }
    }
    lw_buf_addc(out, ']');
}

size_t
lw_top_free(struct lw_top *t)
{
    if (t == NULL) return 0;
    size_t n = top_bytes(t);
    for (uint32_t i = 0; i < t->n; i++)
        free(t->e[i].val);
    free(t->e);
    free(t);
    return n;
}

ptrdiff_t
lw_top_merge(struct lw_top **tp, struct lw_top **fp)
{
    struct lw_top *a = *tp, *b = *fp;
    *fp = NULL;
    if (b == NULL) return 0;
    if (a == NULL) {
        *tp = b;
        return 0;
    }
    ptrdiff_t before = (ptrdiff_t)(top_bytes(a) + top_bytes(b));
    if (b->n > a->n) { /* the larger takes the smaller */
        struct lw_top *t = a;
        a = b;
        b = t;
    }
    for (uint32_t j = 0; j < b->n; j++) {
        struct topent *y = &b->e[j];
        uint32_t i = 0;
        while (i < a->n && !(a->e[i].hash == y->hash && a->e[i].len == y->len &&
                             memcmp(a->e[i].val, y->val, y->len) == 0))
            i++;
        if (i < a->n) {
            a->e[i].count += y->count;
            continue;
        }
        if (a->n < LW_TOP_EXACT) {
            if (a->n == a->cap) {
                a->cap = a->cap ? a->cap * 2 : 8;
                a->e = lw_xrealloc(a->e, a->cap * sizeof *a->e);
            }
            a->e[a->n++] = *y;
        } else { /* Space-Saving: the value counted least gives its place, plus y's count */
            uint32_t m = 0;
            for (uint32_t k = 1; k < a->n; k++)
                if (a->e[k].count < a->e[m].count) m = k;
            free(a->e[m].val);
            a->e[m] = (struct topent){ a->e[m].count + y->count, y->hash, y->len, y->val };
            a->approx = true;
        }
        y->val = NULL; /* moved into a */
    }
    a->approx |= b->approx;
    lw_top_free(b);
    *tp = a;
    return (ptrdiff_t)top_bytes(a) - before;
}

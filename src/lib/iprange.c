/* IP addresses as 128-bit numbers and the range index of lookup_ip tables (iprange.h). The
 * index is built by one sweep over the ranges' ends with a heap of the ranges open there, the
 * narrowest on top; the segments between consecutive ends then each have one winner. */
#include "lw/iprange.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
lw_ip_cmp(struct lw_ip a, struct lw_ip b)
{
    if (a.hi != b.hi) return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo) return a.lo < b.lo ? -1 : 1;
    return 0;
}

static struct lw_ip
sub(struct lw_ip a, struct lw_ip b)
{
    struct lw_ip r = { a.hi - b.hi, a.lo - b.lo };
    if (a.lo < b.lo) r.hi--;
    return r;
}

static struct lw_ip
add1(struct lw_ip a)
{
    struct lw_ip r = { a.hi, a.lo + 1 };
    if (r.lo == 0) r.hi++;
    return r;
}

static const struct lw_ip ip_max = { UINT64_MAX, UINT64_MAX };

static int
parse_v4(const char *s, size_t len, uint32_t *out)
{
    uint32_t v = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.') return -1;
            i++;
        }
        size_t d0 = i;
        unsigned n = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - d0 < 3)
            n = n * 10 + (unsigned)(s[i++] - '0');
        size_t nd = i - d0;
        if (nd == 0 || n > 255 || (nd > 1 && s[d0] == '0')) return -1;
        v = v << 8 | n;
    }
    if (i != len) return -1;
    *out = v;
    return 0;
}

int
lw_ip_parse(const char *s, size_t len, struct lw_ip *ip, bool *v4)
{
    uint32_t a;
    if (parse_v4(s, len, &a) == 0) {
        *ip = (struct lw_ip){ 0, 0xffff00000000ULL | a };
        *v4 = true;
        return 0;
    }
    char buf[INET6_ADDRSTRLEN + 1];
    unsigned char b[16];
    if (len == 0 || len >= sizeof buf || memchr(s, '%', len) || memchr(s, '\0', len)) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, b) != 1) return -1;
    *ip = (struct lw_ip){ 0, 0 };
    for (int i = 0; i < 8; i++) {
        ip->hi = ip->hi << 8 | b[i];
        ip->lo = ip->lo << 8 | b[i + 8];
    }
    *v4 = false;
    return 0;
}

const char *
lw_ip_text(struct lw_ip ip, char *buf)
{
    if (ip.hi == 0 && ip.lo >> 32 == 0xffff) {
        uint32_t a = (uint32_t)ip.lo;
        snprintf(buf, 46, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
        return buf;
    }
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(ip.hi >> (56 - 8 * i));
        b[i + 8] = (unsigned char)(ip.lo >> (56 - 8 * i));
    }
    if (inet_ntop(AF_INET6, b, buf, 46) == NULL) snprintf(buf, 46, "?");
    return buf;
}

/* mask: the address with its low `host` bits (0-128) set to 0 (clear) or 1. */
static struct lw_ip
mask(struct lw_ip a, int host, bool set)
{
    uint64_t mlo = host >= 64 ? UINT64_MAX : host == 0 ? 0 : (UINT64_C(1) << host) - 1;
    uint64_t mhi = host <= 64 ? 0 : host >= 128 ? UINT64_MAX : (UINT64_C(1) << (host - 64)) - 1;
    if (set) return (struct lw_ip){ a.hi | mhi, a.lo | mlo };
    return (struct lw_ip){ a.hi & ~mhi, a.lo & ~mlo };
}

int
lw_cidr_parse(const char *s, size_t len, struct lw_ip *lo, struct lw_ip *hi, bool *v4, char *err,
              size_t errcap)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    int shown = (int)(len > 60 ? 60 : len);
    if (lw_ip_parse(s, alen, lo, v4) != 0) {
        snprintf(err, errcap, "\"%.*s\"%s is not an IP address or CIDR", shown, s,
                 len > 60 ? "..." : "");
        return -1;
    }
    int bits = *v4 ? 32 : 128, prefix = bits;
    if (slash != NULL) {
        size_t i = alen + 1;
        if (i == len) {
            snprintf(err, errcap, "\"%.*s\": no prefix length after '/'", shown, s);
            return -1;
        }
        prefix = 0;
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9' || prefix > 1000) {
                snprintf(err, errcap, "\"%.*s\": the prefix length is not a number", shown, s);
                return -1;
            }
            prefix = prefix * 10 + (s[i] - '0');
        }
        if (prefix > bits) {
            snprintf(err, errcap, "\"%.*s\": prefix length %d is over %d", shown, s, prefix, bits);
            return -1;
        }
    }
    struct lw_ip net = mask(*lo, bits - prefix, false);
    if (lw_ip_cmp(net, *lo) != 0) {
        char b[46];
        snprintf(err, errcap, "\"%.*s\" has host bits set (the network is %s/%d)", shown, s,
                 lw_ip_text(net, b), prefix);
        return -1;
    }
    *hi = mask(*lo, bits - prefix, true);
    return 0;
}

/* The sweep ---------------------------------------------------------------------------- */

struct sweep {
    const struct lw_iprange *r;
    uint32_t *heap, nheap;
};

/* better: range a wins over range b where both hold an address. */
static bool
better(const struct sweep *s, uint32_t a, uint32_t b)
{
    int c = lw_ip_cmp(sub(s->r[a].hi, s->r[a].lo), sub(s->r[b].hi, s->r[b].lo));
    return c < 0 || (c == 0 && s->r[a].row > s->r[b].row);
}

static void
push(struct sweep *s, uint32_t v)
{
    uint32_t i = s->nheap++;
    while (i > 0 && better(s, v, s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = v;
}

static void
pop(struct sweep *s)
{
    uint32_t v = s->heap[--s->nheap], i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= s->nheap) break;
        if (c + 1 < s->nheap && better(s, s->heap[c + 1], s->heap[c])) c++;
        if (!better(s, s->heap[c], v)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->nheap > 0) s->heap[i] = v;
}

static int
by_lo(const void *a, const void *b)
{
    return lw_ip_cmp(((const struct lw_iprange *)a)->lo, ((const struct lw_iprange *)b)->lo);
}

static int
ip_order(const void *a, const void *b)
{
    return lw_ip_cmp(*(const struct lw_ip *)a, *(const struct lw_ip *)b);
}

int
lw_ipindex_build(struct lw_ipindex *x, const struct lw_iprange *r, uint32_t n, size_t max,
                 size_t *bytes)
{
    *x = (struct lw_ipindex){ 0 };
    *bytes = 0;
    if (n == 0) return 0;
    size_t npts = 0;
    struct lw_iprange *sorted = malloc(n * sizeof *sorted);
    struct lw_ip *pts = malloc(2 * (size_t)n * sizeof *pts);
    struct sweep s = { .r = sorted, .heap = malloc(n * sizeof *s.heap) };
    *bytes = 2 * (size_t)n * sizeof *x->seg;
    x->seg = *bytes <= max ? malloc(*bytes) : NULL;
    int rc = -1;
    if (sorted == NULL || pts == NULL || s.heap == NULL || x->seg == NULL) goto out;
    memcpy(sorted, r, n * sizeof *sorted);
    for (uint32_t i = 0; i < n; i++) {
        pts[npts++] = r[i].lo;
        if (lw_ip_cmp(r[i].hi, ip_max) != 0) pts[npts++] = add1(r[i].hi);
    }
    qsort(sorted, n, sizeof *sorted, by_lo);
    qsort(pts, npts, sizeof *pts, ip_order);
    uint32_t next = 0;
    for (size_t k = 0; k < npts; k++) {
        if (k > 0 && lw_ip_cmp(pts[k], pts[k - 1]) == 0) continue;
        struct lw_ip p = pts[k];
        while (next < n && lw_ip_cmp(sorted[next].lo, p) <= 0)
            push(&s, next++);
        while (s.nheap > 0 && lw_ip_cmp(sorted[s.heap[0]].hi, p) < 0)
            pop(&s);
        if (s.nheap == 0) continue;
        size_t k2 = k + 1;
        while (k2 < npts && lw_ip_cmp(pts[k2], p) == 0)
            k2++;
        struct lw_ip end = k2 < npts ? sub(pts[k2], (struct lw_ip){ 0, 1 }) : ip_max;
        uint32_t row = sorted[s.heap[0]].row;
        struct lw_iprange *prev = x->n ? &x->seg[x->n - 1] : NULL;
        if (prev && prev->row == row && lw_ip_cmp(add1(prev->hi), p) == 0) {
            prev->hi = end;
        } else {
            x->seg[x->n++] = (struct lw_iprange){ p, end, row };
        }
    }
    rc = 0;
out:
    free(sorted);
    free(pts);
    free(s.heap);
    if (rc != 0) {
        free(x->seg);
        *x = (struct lw_ipindex){ 0 };
    }
    return rc;
}

int64_t
lw_ipindex_find(const struct lw_ipindex *x, struct lw_ip ip)
{
    uint32_t lo = 0, hi = x->n; /* the first segment whose lo is above ip is at hi */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (lw_ip_cmp(x->seg[mid].lo, ip) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || lw_ip_cmp(ip, x->seg[lo - 1].hi) > 0) return -1;
    return x->seg[lo - 1].row;
}

void
lw_ipindex_fini(struct lw_ipindex *x)
{
    free(x->seg);
    *x = (struct lw_ipindex){ 0 };
}

/* IP addresses and the range index of lookup_ip tables. Addresses are 128-bit numbers: IPv6 as
 * they are, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so one index serves both families and a
 * mapped address finds its IPv4 range. Ranges may overlap: the narrowest range containing an
 * address wins (longest-prefix match for CIDRs), and of equally wide ones the later (higher
 * row). The index turns them into sorted disjoint segments, so a lookup is a binary search. */
#ifndef LW_IPRANGE_H
#define LW_IPRANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lw_ip {
    uint64_t hi, lo;
};

/* lw_ip_parse: s[0..len) as an IPv4 dotted quad (no leading zeros) or IPv6 text (RFC 4291,
 * with an embedded dotted quad allowed, no zone). Returns 0 and sets *ip (*v4 when IPv4), or
 * -1 when s is not an address. */
int lw_ip_parse(const char *s, size_t len, struct lw_ip *ip, bool *v4);

/* lw_cidr_parse: "ADDRESS/PREFIX", or an address alone (/32 or /128), to the range lo..hi.
 * Returns 0, or -1 with why in err (errcap bytes): not an address, a prefix over 32 (IPv4) or
 * 128 (IPv6), host bits set (the message names the network). */
int lw_cidr_parse(const char *s, size_t len, struct lw_ip *lo, struct lw_ip *hi, bool *v4,
                  char *err, size_t errcap);

/* lw_ip_cmp: -1, 0 or 1 as a is below, equal to or above b. */
int lw_ip_cmp(struct lw_ip a, struct lw_ip b);

/* lw_ip_text: the text form of ip (an IPv4-mapped address as a dotted quad) in buf (at least
 * 46 bytes). */
const char *lw_ip_text(struct lw_ip ip, char *buf);

struct lw_iprange {
    struct lw_ip lo, hi; /* inclusive */
    uint32_t row;
};

struct lw_ipindex {
    struct lw_iprange *seg; /* disjoint, in order; row: the winner there */
    uint32_t n;
};

/* lw_ipindex_build: the index of ranges r[0..n) (lo <= hi each; r[i].row is its priority among
 * equally wide ones, the higher winning). Allocates with malloc; returns 0, or -1 when memory
 * runs out or the index would take more than max bytes (*bytes: what it takes or would). */
int lw_ipindex_build(struct lw_ipindex *x, const struct lw_iprange *r, uint32_t n, size_t max,
                     size_t *bytes);

/* lw_ipindex_find: the row of the winning range containing ip, or -1 when none does. */
int64_t lw_ipindex_find(const struct lw_ipindex *x, struct lw_ip ip);

void lw_ipindex_fini(struct lw_ipindex *x);

#endif

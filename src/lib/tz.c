/* Time zones: fixed offsets, and IANA zones from TZif files (RFC 8536, versions 1-4) with the
 * POSIX TZ footer that continues them after their last transition. Loading reads one file
 * once; offsets at an instant are a binary search, or a few rule dates for the footer. What
 * a stamp looks like in a zone is timeparse.c's and timeformat.c's business. */
#include "lw/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw/str.h"
#include "lw/timefmt.h"

#define DAY_S     86400
#define MAX_FILE  (1u << 20) /* real TZif files are a few KiB */
#define ZONEINFO  "/usr/share/zoneinfo"
#define TIME_LIM  ((int64_t)1 << 40) /* +-34,000 years: clamps keep rule arithmetic in range */
#define NAME_HELP "expected an IANA name like Europe/Paris, UTC or an offset like +02:00"

void
lw_tz_fixed(struct lw_tz *z, int32_t off)
{
    *z = (struct lw_tz){ .fixed = true, .fixed_off = off };
}

void
lw_tz_free(struct lw_tz *z)
{
    if (z == NULL) return;
    free(z->name);
    free(z->trans);
    free(z->idx);
    free(z->types);
    free(z->chars);
    free(z);
}

/* ---- the POSIX TZ footer ----------------------------------------------------------------- */

struct rd {
    const char *s;
    size_t len, pos;
};

static bool
at_digit(const struct rd *r)
{
    return r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9';
}

static int
num(struct rd *r, int max, int *v)
{
    if (!at_digit(r)) return -1;
    int x = 0;
    while (at_digit(r)) {
        x = x * 10 + (r->s[r->pos++] - '0');
        if (x > max) return -1;
    }
    *v = x;
    return 0;
}

/* An abbreviation: 3+ letters, or <...> of letters, digits, '+' and '-'. */
static int
abbr(struct rd *r, char *out)
{
    size_t n = 0;
    if (r->pos < r->len && r->s[r->pos] == '<') {
        r->pos++;
        while (r->pos < r->len && r->s[r->pos] != '>') {
            char c = r->s[r->pos++];
            bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '-';
            if (!ok || n >= 15) return -1;
            out[n++] = c;
        }
        if (r->pos >= r->len) return -1;
        r->pos++;
    } else {
        while (r->pos < r->len && ((r->s[r->pos] >= 'A' && r->s[r->pos] <= 'Z') ||
                                   (r->s[r->pos] >= 'a' && r->s[r->pos] <= 'z'))) {
            if (n >= 15) return -1;
            out[n++] = r->s[r->pos++];
        }
    }
    if (n < 3) return -1;
    out[n] = '\0';
    return 0;
}

/* [+-]hh[:mm[:ss]] with hh up to maxh; seconds. */
static int
hms(struct rd *r, int maxh, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (r->pos < r->len && (r->s[r->pos] == '+' || r->s[r->pos] == '-')) {
        sign = r->s[r->pos++] == '-' ? -1 : 1;
    }
    if (num(r, maxh, &h) != 0) return -1;
    if (r->pos < r->len && r->s[r->pos] == ':') {
        r->pos++;
        if (num(r, 59, &m) != 0) return -1;
        if (r->pos < r->len && r->s[r->pos] == ':') {
            r->pos++;
            if (num(r, 59, &s) != 0) return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int
rule_date(struct rd *r, struct lw_tz_date *d)
{
    if (r->pos >= r->len || r->s[r->pos] != ',') return -1;
    r->pos++;
    *d = (struct lw_tz_date){ .time = 7200 };
    if (r->pos < r->len && r->s[r->pos] == 'J') {
        r->pos++;
        d->kind = 'J';
        if (num(r, 365, &d->a) != 0 || d->a < 1) return -1;
    } else if (r->pos < r->len && r->s[r->pos] == 'M') {
        r->pos++;
        d->kind = 'M';
        if (num(r, 12, &d->a) != 0 || d->a < 1) return -1;
        if (r->pos >= r->len || r->s[r->pos++] != '.' || num(r, 5, &d->b) != 0 || d->b < 1) {
            return -1;
        }
        if (r->pos >= r->len || r->s[r->pos++] != '.' || num(r, 6, &d->c) != 0) return -1;
    } else {
        d->kind = 'n';
        if (num(r, 365, &d->a) != 0) return -1;
    }
    if (r->pos < r->len && r->s[r->pos] == '/') {
        r->pos++;
        if (hms(r, 167, &d->time) != 0) return -1;
    }
    return 0;
}

/* std offset [dst [offset] [,start[/time],end[/time]]]; POSIX offsets count west, ours east. */
static int
footer(struct lw_tz *z, const char *s, size_t len)
{
    struct rd r = { s, len, 0 };
    int32_t o;
    if (abbr(&r, z->std_abbr) != 0 || hms(&r, 24, &o) != 0) return -1;
    z->std_off = -o;
    z->has_rule = true;
    if (r.pos == len) return 0;
    if (abbr(&r, z->dst_abbr) != 0) return -1;
    z->dst_off = z->std_off + 3600;
    if (r.pos < len && r.s[r.pos] != ',') {
        if (hms(&r, 24, &o) != 0) return -1;
        z->dst_off = -o;
    }
    /* no rule: POSIX leaves it to the implementation; tzcode uses the US rules */
    if (r.pos == len) {
        z->start = (struct lw_tz_date){ 'M', 3, 2, 0, 7200 };
        z->end = (struct lw_tz_date){ 'M', 11, 1, 0, 7200 };
    } else if (rule_date(&r, &z->start) != 0 || rule_date(&r, &z->end) != 0) {
        return -1;
    }
    z->has_dst = true;
    return r.pos == len ? 0 : -1;
}

/* The local midnight (seconds, as if UTC) of rule date d in year y, plus its time. */
static int64_t
date_in(const struct lw_tz_date *d, int64_t y)
{
    int64_t jan1 = lw_time_days_from_civil(y, 1, 1), day;
    bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    if (d->kind == 'J') {
        day = jan1 + d->a - 1 + (leap && d->a >= 60);
    } else if (d->kind == 'n') {
        day = jan1 + d->a;
    } else {
        int64_t first = lw_time_days_from_civil(y, d->a, 1);
        int wday = (int)(((first % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
        int64_t next = d->a == 12 ? lw_time_days_from_civil(y + 1, 1, 1)
                                  : lw_time_days_from_civil(y, d->a + 1, 1);
        day = first + (d->c - wday + 7) % 7 + 7 * (d->b - 1);
        while (day >= next) {
            day -= 7;
        }
    }
    return day * DAY_S + d->time;
}

/* The footer's offset at UTC instant t: the latest rule transition at or before t, among those
 * of the years around t, decides (a start wins a tie, so "all year DST" rules work). */
static int32_t
rule_off(const struct lw_tz *z, int64_t t, const char **ab)
{
    bool dst = false;
    if (z->has_dst) {
        int64_t y, best = INT64_MIN;
        int m, d;
        lw_time_civil_from_days((t + z->std_off) / DAY_S - ((t + z->std_off) % DAY_S < 0), &y, &m,
                                &d);
        for (int64_t yy = y - 1; yy <= y + 1; yy++) {
            int64_t st = date_in(&z->start, yy) - z->std_off; /* written in standard time */
            int64_t en = date_in(&z->end, yy) - z->dst_off;   /* written in daylight time */
            if (en <= t && en > best) {
                best = en;
                dst = false;
            }
            if (st <= t && st >= best) {
                best = st;
                dst = true;
            }
        }
        if (best == INT64_MIN) dst = false;
    }
    if (ab != NULL) *ab = dst ? z->dst_abbr : z->std_abbr;
    return dst ? z->dst_off : z->std_off;
}

/* ---- TZif -------------------------------------------------------------------------------- */

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct hdr {
    uint32_t isut, isstd, leap, time, type, chars;
};

static int
header(const unsigned char *p, size_t len, struct hdr *h, int *version)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return -1;
    *version = p[4] == 0 ? 1 : p[4] - '0';
    if (*version < 1 || *version > 9) return -1;
    h->isut = be32(p + 20);
    h->isstd = be32(p + 24);
    h->leap = be32(p + 28);
    h->time = be32(p + 32);
    h->type = be32(p + 36);
    h->chars = be32(p + 40);
    if (h->type == 0 || h->type > 256 || h->chars == 0 || h->time > 100000 || h->chars > 65536 ||
        h->leap > 100000 || (h->isut != 0 && h->isut != h->type) ||
        (h->isstd != 0 && h->isstd != h->type)) {
        return -1;
    }
    return 0;
}

static size_t
block_len(const struct hdr *h, int tsize)
{
    return (size_t)h->time * (size_t)tsize + h->time + h->type * 6u + h->chars +
           (size_t)h->leap * (size_t)(tsize + 4) + h->isstd + h->isut;
}

/* Copy the data block at p (tsize-byte times) into z. */
static int
block(struct lw_tz *z, const struct hdr *h, const unsigned char *p, int tsize, char *err,
      size_t errcap)
{
    if (h->leap != 0) {
        return lw_errf(err, errcap, "it has leap seconds (a right/ zone), which are not supported");
    }
    z->ntrans = h->time;
    z->ntypes = h->type;
    z->trans = malloc((h->time ? h->time : 1) * sizeof *z->trans);
    z->idx = malloc(h->time ? h->time : 1);
    z->types = malloc(h->type * sizeof *z->types);
    z->chars = malloc(h->chars + 1);
    if (!z->trans || !z->idx || !z->types || !z->chars)
        return lw_errf(err, errcap, "out of memory");
    for (uint32_t i = 0; i < h->time; i++, p += tsize) {
        z->trans[i] = tsize == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
        if (i > 0 && z->trans[i] <= z->trans[i - 1]) {
            return lw_errf(err, errcap, "its transition times are not in order");
        }
    }
    for (uint32_t i = 0; i < h->time; i++) {
        z->idx[i] = *p++;
        if (z->idx[i] >= h->type) return lw_errf(err, errcap, "a transition names a missing type");
    }
    for (uint32_t i = 0; i < h->type; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off <= -DAY_S || off >= DAY_S || p[5] >= h->chars) {
            return lw_errf(err, errcap, "local time type %u is out of range", i);
        }
        z->types[i] = (struct lw_tz_type){ off, p[4], p[5] };
    }
    memcpy(z->chars, p, h->chars);
    z->chars[h->chars] = '\0'; /* an abbreviation running off the end still ends */
    return 0;
}

struct lw_tz *
lw_tz_parse_tzif(const unsigned char *p, size_t len, const char *name, size_t namelen, char *err,
                 size_t errcap)
{
    struct hdr h;
    int version;
    if (header(p, len, &h, &version) != 0) {
        lw_errf(err, errcap, "not a TZif file (bad header)");
        return NULL;
    }
    size_t need = 44 + block_len(&h, 4);
    const unsigned char *data = p + 44;
    int tsize = 4;
    if (version >= 2) {
        if (len < need || header(p + need, len - need, &h, &version) != 0) {
            lw_errf(err, errcap, "not a TZif file (bad second header)");
            return NULL;
        }
        data = p + need + 44;
        need += 44 + block_len(&h, 8);
        tsize = 8;
    }
    if (len < need) {
        lw_errf(err, errcap, "not a TZif file (truncated)");
        return NULL;
    }
    struct lw_tz *z = calloc(1, sizeof *z);
    if (z == NULL) return NULL;
    if (block(z, &h, data, tsize, err, errcap) != 0) goto bad;
    if (tsize == 8) {
        const unsigned char *f = p + need, *e = p + len;
        const unsigned char *nl =
            f < e && *f == '\n' ? memchr(f + 1, '\n', (size_t)(e - f - 1)) : 0;
        if (nl == NULL) {
            lw_errf(err, errcap, "its footer is missing");
            goto bad;
        }
        if (nl > f + 1 && footer(z, (const char *)f + 1, (size_t)(nl - f - 1)) != 0) {
            lw_errf(err, errcap, "its TZ footer '%.*s' is not understood", (int)(nl - f - 1),
                    (const char *)f + 1);
            goto bad;
        }
    }
    z->name = malloc(namelen + 1);
    if (z->name == NULL) goto bad;
    memcpy(z->name, name, namelen);
    z->name[namelen] = '\0';
    z->namelen = namelen;
    return z;
bad:
    lw_tz_free(z);
    return NULL;
}

bool
lw_tz_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > 255 || name[0] == '/') return false;
    size_t comp = 0; /* bytes in the current component */
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? name[i] : '/';
        if (c == '/') {
            if (comp == 0) return false;
            if (name[i - comp] == '.') return false; /* ".", "..", hidden files */
            comp = 0;
            continue;
        }
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '+' || c == '-' || c == '.';
        if (!ok) return false;
        comp++;
    }
    return true;
}

static struct lw_tz *
load_file(const char *name, size_t len, char *err, size_t errcap)
{
    const char *dir = getenv("TZDIR");
    if (dir == NULL || dir[0] == '\0') dir = ZONEINFO;
    char path[4096];
    snprintf(path, sizeof path, "%s/%.*s", dir, (int)len, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            lw_errf(err, errcap, "unknown time zone '%.*s' (no file %s), " NAME_HELP, (int)len,
                    name, path);
        } else {
            lw_errf(err, errcap, "cannot open time zone file %s: %s", path, strerror(errno));
        }
        return NULL;
    }
    unsigned char *buf = malloc(MAX_FILE);
    size_t n = 0;
    ssize_t got = 0;
    while (buf != NULL && n < MAX_FILE && (got = read(fd, buf + n, MAX_FILE - n)) > 0) {
        n += (size_t)got;
    }
    int e = errno;
    close(fd);
    struct lw_tz *z = NULL;
    char why[160];
    if (buf == NULL) {
        lw_errf(err, errcap, "out of memory");
    } else if (got < 0) {
        lw_errf(err, errcap, "cannot read time zone file %s: %s", path, strerror(e));
    } else if ((z = lw_tz_parse_tzif(buf, n, name, len, why, sizeof why)) == NULL) {
        lw_errf(err, errcap, "time zone '%.*s': %s is not usable: %s", (int)len, name, path, why);
    }
    free(buf);
    return z;
}

struct lw_tz *
lw_tz_load(const char *name, size_t len, char *err, size_t errcap)
{
    int32_t off;
    char e[160];
    if (lw_time_zone(name, len, &off, e, sizeof e) == 0) {
        struct lw_tz *z = calloc(1, sizeof *z);
        char *nm = malloc(len + 1);
        if (z == NULL || nm == NULL) {
            free(z);
            free(nm);
            lw_errf(err, errcap, "out of memory");
            return NULL;
        }
        lw_tz_fixed(z, off);
        memcpy(nm, name, len);
        nm[len] = '\0';
        z->name = nm;
        z->namelen = len;
        return z;
    }
    bool numeric =
        len > 0 && (name[0] == '+' || name[0] == '-' || (name[0] >= '0' && name[0] <= '9'));
    if (numeric) {
        lw_errf(err, errcap, "%s", e);
        return NULL;
    }
    if (!lw_tz_name_ok(name, len)) {
        char shown[48];
        size_t k = 0;
        for (size_t i = 0; i < len && k + 5 < sizeof shown; i++) {
            unsigned char c = (unsigned char)name[i];
            k +=
                (size_t)(c < 0x20 || c == 0x7f ? snprintf(shown + k, sizeof shown - k, "\\x%02x", c)
                                               : snprintf(shown + k, sizeof shown - k, "%c", c));
        }
        lw_errf(err, errcap, "bad time zone name '%s', " NAME_HELP, shown);
        return NULL;
    }
    return load_file(name, len, err, errcap);
}

/* ---- offsets ----------------------------------------------------------------------------- */

int32_t
lw_tz_off_at(const struct lw_tz *z, int64_t t, const char **ab)
{
    if (z->fixed) {
        if (ab != NULL) *ab = NULL;
        return z->fixed_off;
    }
    const struct lw_tz_type *ty;
    t = t > TIME_LIM ? TIME_LIM : t < -TIME_LIM ? -TIME_LIM : t;
    if (z->ntrans == 0 || t < z->trans[0]) {
        if (z->ntrans == 0 && z->has_rule) return rule_off(z, t, ab);
        ty = &z->types[0]; /* before the first transition: type 0 (RFC 8536 3.2) */
    } else if (t >= z->trans[z->ntrans - 1] && z->has_rule) {
        return rule_off(z, t, ab);
    } else {
        uint32_t lo = 0, hi = z->ntrans; /* the last transition <= t is in [lo, hi) */
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (z->trans[mid] <= t) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        ty = &z->types[z->idx[lo]];
    }
    if (ab != NULL) *ab = z->chars + ty->abbr;
    return ty->off;
}

int32_t
lw_tz_off_local(const struct lw_tz *z, int64_t local)
{
    if (z->fixed) return z->fixed_off;
    local = local > TIME_LIM ? TIME_LIM : local < -TIME_LIM ? -TIME_LIM : local;
    /* the offsets two days either side bound any one transition near local */
    int32_t before = lw_tz_off_at(z, local - 2 * DAY_S, NULL);
    int32_t after = lw_tz_off_at(z, local + 2 * DAY_S, NULL);
    if (lw_tz_off_at(z, local - before, NULL) == before) return before;
    if (lw_tz_off_at(z, local - after, NULL) == after) return after;
    return before; /* in a gap */
}

/* ---- the cache --------------------------------------------------------------------------- */

const struct lw_tz *
lw_tzcache_get(struct lw_tzcache *c, const char *name, size_t len, char *err, size_t errcap)
{
    for (uint32_t i = 0; i < c->n; i++) {
        struct lw_tz *z = c->z[i];
        if (z->namelen == len && memcmp(z->name, name, len) == 0) return z;
    }
    for (uint32_t i = 0; i < LW_TZCACHE_BAD; i++) {
        if (c->bad[i].len == len && memcmp(c->bad[i].name, name, len) == 0) {
            snprintf(err, errcap, "%s", c->bad[i].err);
            return NULL;
        }
    }
    struct lw_tz *z = lw_tz_load(name, len, err, errcap);
    if (z == NULL) {
        if (len > 0 && len <= sizeof c->bad[0].name) {
            uint32_t b = c->next_bad;
            c->next_bad = (b + 1) % LW_TZCACHE_BAD;
            c->bad[b].len = (uint8_t)len;
            memcpy(c->bad[b].name, name, len);
            snprintf(c->bad[b].err, sizeof c->bad[b].err, "%s", err);
        }
        return NULL;
    }
    if (c->n < LW_TZCACHE_N) {
        c->z[c->n++] = z;
    } else {
        lw_tz_free(c->z[c->next]);
        c->z[c->next] = z;
        c->next = (c->next + 1) % LW_TZCACHE_N;
    }
    return z;
}

void
lw_tzcache_fini(struct lw_tzcache *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        lw_tz_free(c->z[i]);
    }
    *c = (struct lw_tzcache){ 0 };
}

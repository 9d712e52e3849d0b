/* Timestamp text: parsing with strftime-style formats and the named forms, formatting, zones.
 * The calendar is our own (days-from-civil and back, proleptic Gregorian), so results do not
 * depend on libc, TZ or the locale. What each directive accepts is documented in lw/timefmt.h;
 * choosing a format and looking up zone names is left to callers. */
#include "lw/timefmt.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lw/buf.h"
#include "lw/str.h"
#include "lw/tz.h"

#define NS_PER_S  1000000000LL
#define DAY_S     86400
#define RANGE_MSG "(1677-09-21 to 2262-04-11)"

static const char *const month_names[12] = { "January",   "February", "March",    "April",
                                             "May",       "June",     "July",     "August",
                                             "September", "October",  "November", "December" };
static const char *const day_names[7] = { "Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday" };

/* The formats callers may name instead of writing directives. */
enum named { N_NONE, N_RFC3339, N_EPOCH_S, N_EPOCH_MS, N_EPOCH_US, N_EPOCH_NS, N_RFC3164, N_CLF };

static const struct {
    const char *name;
    enum named kind;
} named_forms[] = {
    { "rfc3339", N_RFC3339 },   { "iso8601", N_RFC3339 },   { "epoch", N_EPOCH_S },
    { "epoch_s", N_EPOCH_S },   { "epoch_ms", N_EPOCH_MS }, { "epoch_us", N_EPOCH_US },
    { "epoch_ns", N_EPOCH_NS }, { "rfc3164", N_RFC3164 },   { "clf", N_CLF },
};

#define FMT_RFC3164 "%b %e %H:%M:%S"
#define FMT_CLF     "%d/%b/%Y:%H:%M:%S %z"

/* Names other tools give these formats (Logstash's date filter, Elasticsearch, syslog RFCs),
 * only for the suggestion in lw_time_fmt_check's message. */
static const struct {
    const char *name, *ours;
} foreign_forms[] = {
    { "unix", "epoch" },           { "unix_s", "epoch_s" },   { "unix_ms", "epoch_ms" },
    { "unix_us", "epoch_us" },     { "unix_ns", "epoch_ns" }, { "epoch_millis", "epoch_ms" },
    { "epoch_second", "epoch_s" }, { "iso", "iso8601" },      { "rfc5424", "rfc3339" },
    { "syslog", "rfc3164" },
};

/* ASCII case-insensitive: true when s (len bytes) is the lowercase name n. */
static bool
name_is(const char *n, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + ('a' - 'A')) : s[i];
        if (n[i] == '\0' || n[i] != c) return false;
    }
    return n[len] == '\0';
}

/* Named formats are matched in any case: users bring "ISO8601" and "RFC3339" from other
 * tools, and no strftime format is a bare name. */
static enum named
named(const char *fmt, size_t fmtlen)
{
    if (fmtlen < 3 || fmtlen > 8 || memchr(fmt, '%', fmtlen) != NULL) return N_NONE;
    for (size_t i = 0; i < sizeof named_forms / sizeof named_forms[0]; i++) {
        if (name_is(named_forms[i].name, fmt, fmtlen)) return named_forms[i].kind;
    }
    return N_NONE;
}

/* ---- calendar ---------------------------------------------------------------------------- */

static bool
is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int
month_days(int64_t y, int m)
{
    static const unsigned char n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

/* Days from 1970-01-01 to y-m-d. Years start in March here, so the leap day ends a year and the
 * month lengths repeat in a 153-day pattern; 400-year eras make negative years work. */
int64_t
lw_time_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
void
lw_time_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int32_t
norm_off(int32_t off)
{
    if (off <= -DAY_S || off >= DAY_S) return 0;
    return off;
}

/* sec + nsec/1e9 (0 <= nsec < 1e9) as nanoseconds; -1 when outside int64. */
static int
to_ns(int64_t sec, int64_t nsec, int64_t *out)
{
    const int64_t max_s = INT64_MAX / NS_PER_S, min_s = INT64_MIN / NS_PER_S;

    if (sec > max_s || sec < min_s - 1) return -1;
    if (sec == min_s - 1) {
        /* sec * 1e9 itself is below INT64_MIN; only a large enough nsec brings it back */
        int64_t base = min_s * NS_PER_S, back = NS_PER_S - nsec;
        if (back > base - INT64_MIN) return -1;
        *out = base - back;
        return 0;
    }
    int64_t t = sec * NS_PER_S;
    if (t > 0 && nsec > INT64_MAX - t) return -1;
    *out = t + nsec;
    return 0;
}

/* A stamp broken down in its local time. */
struct civil {
    int64_t year, epoch; /* epoch: UTC seconds, rounded down */
    int mon, mday, yday, wday, hour, min, sec;
    int32_t nsec, off;
    const char *abbr; /* %Z: the zone's abbreviation, NULL for a fixed offset */
};

static void
breakdown(int64_t ns, int32_t off, struct civil *c)
{
    c->off = norm_off(off);
    c->abbr = NULL;
    int64_t rem = ns % NS_PER_S;
    c->epoch = ns / NS_PER_S - (rem < 0);
    c->nsec = (int32_t)(rem < 0 ? rem + NS_PER_S : rem);
    int64_t local = c->epoch + c->off;
    int64_t days = local / DAY_S - (local % DAY_S < 0);
    int64_t secs = local - days * DAY_S;
    c->hour = (int)(secs / 3600);
    c->min = (int)(secs / 60 % 60);
    c->sec = (int)(secs % 60);
    lw_time_civil_from_days(days, &c->year, &c->mon, &c->mday);
    c->yday = (int)(days - lw_time_days_from_civil(c->year, 1, 1)) + 1;
    c->wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
}

/* ---- formatting -------------------------------------------------------------------------- */

/* Append v in decimal, padded with pad to at least width characters. */
static void
put_num(struct lw_buf *b, int64_t v, int width, char pad)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    while (n < width) {
        tmp[n++] = pad;
    }
    if (v < 0) tmp[n++] = '-';
    while (n > 0) {
        lw_buf_addc(b, tmp[--n]);
    }
}

/* Append the first digits (1-9) digits of the nanoseconds nsec. */
static void
put_frac(struct lw_buf *b, int32_t nsec, int digits)
{
    int32_t v = nsec;
    for (int i = digits; i < 9; i++) {
        v /= 10;
    }
    put_num(b, v, digits, '0');
}

/* 0, 3, 6 or 9: the fraction digits nsec needs. */
static int
frac_digits(int32_t nsec)
{
    if (nsec == 0) return 0;
    if (nsec % 1000000 == 0) return 3;
    if (nsec % 1000 == 0) return 6;
    return 9;
}

static void
put_off(struct lw_buf *b, int32_t off, bool colon)
{
    lw_buf_addc(b, off < 0 ? '-' : '+');
    int32_t a = off < 0 ? -off : off;
    put_num(b, a / 3600, 2, '0');
    if (colon) lw_buf_addc(b, ':');
    put_num(b, a / 60 % 60, 2, '0');
    if (a % 60 != 0) { /* local mean time of old stamps: +hh:mm:ss, as Python writes it */
        if (colon) lw_buf_addc(b, ':');
        put_num(b, a % 60, 2, '0');
    }
}

static void fmt_walk(struct lw_buf *b, const struct civil *c, const char *f, size_t flen);

/* The numeric directives: sets the value and its width; false for any other directive. */
static bool
num_field(const struct civil *c, char d, int64_t *v, int *width)
{
    *width = 2;
    switch (d) {
    case 'Y':
        *v = c->year;
        *width = 4;
        return true;
    case 'y':
        *v = c->year % 100;
        return true;
    case 'm':
        *v = c->mon;
        return true;
    case 'd':
    case 'e':
        *v = c->mday;
        return true;
    case 'j':
        *v = c->yday;
        *width = 3;
        return true;
    case 'H':
        *v = c->hour;
        return true;
    case 'I':
        *v = c->hour % 12 == 0 ? 12 : c->hour % 12;
        return true;
    case 'M':
        *v = c->min;
        return true;
    case 'S':
        *v = c->sec;
        return true;
    case 's':
        *v = c->epoch;
        *width = 0;
        return true;
    default:
        return false;
    }
}

/* Append directive d (with width for %Nf, colon for %:z); false if d is not a directive. */
static bool
fmt_one(struct lw_buf *b, const struct civil *c, char d, int width, bool colon)
{
    int64_t v;
    int w;
    if (num_field(c, d, &v, &w)) {
        put_num(b, v, w, d == 'e' ? ' ' : '0');
        return true;
    }
    switch (d) {
    case 'f':
        put_frac(b, c->nsec, width ? width : 6);
        break;
    case 'p':
        lw_buf_adds(b, c->hour < 12 ? "AM" : "PM");
        break;
    case 'b':
    case 'h':
        lw_buf_add(b, month_names[c->mon - 1], 3);
        break;
    case 'B':
        lw_buf_adds(b, month_names[c->mon - 1]);
        break;
    case 'a':
        lw_buf_add(b, day_names[c->wday], 3);
        break;
    case 'A':
        lw_buf_adds(b, day_names[c->wday]);
        break;
    case 'z':
        put_off(b, c->off, colon);
        break;
    case 'Z':
        if (c->abbr != NULL) {
            lw_buf_adds(b, c->abbr);
        } else if (c->off == 0) {
            lw_buf_adds(b, "UTC");
        } else {
            put_off(b, c->off, true);
        }
        break;
    case 'T':
        fmt_walk(b, c, "%H:%M:%S", 8);
        break;
    case 'F':
        fmt_walk(b, c, "%Y-%m-%d", 8);
        break;
    case 'D':
        fmt_walk(b, c, "%m/%d/%y", 8);
        break;
    case 'R':
        fmt_walk(b, c, "%H:%M", 5);
        break;
    case 'n':
        lw_buf_addc(b, '\n');
        break;
    case 't':
        lw_buf_addc(b, '\t');
        break;
    case '%':
        lw_buf_addc(b, '%');
        break;
    default:
        return false;
    }
    return true;
}

/* Length of the directive at f[0] == '%' (flen >= 2): 3 for %Nf, %:z and %Ez, else 2. */
static size_t
dir_len(const char *f, size_t flen)
{
    if (flen >= 3 && f[1] >= '1' && f[1] <= '9' && f[2] == 'f') return 3;
    if (flen >= 3 && (f[1] == ':' || f[1] == 'E') && f[2] == 'z') return 3;
    return 2;
}

static void
fmt_walk(struct lw_buf *b, const struct civil *c, const char *f, size_t flen)
{
    size_t i = 0;
    while (i < flen) {
        if (f[i] != '%' || i + 1 == flen) {
            lw_buf_addc(b, f[i++]);
            continue;
        }
        size_t n = dir_len(f + i, flen - i);
        int width = n == 3 && f[i + 1] != ':' && f[i + 1] != 'E' ? f[i + 1] - '0' : 0;
        if (!fmt_one(b, c, f[i + n - 1], width, n == 3 && width == 0)) lw_buf_add(b, f + i, n);
        i += n;
    }
}

/* Append ns / 10^(9 - scale) as a decimal: the integer rounded down, or for scale 0 (seconds)
 * the exact signed value with 0, 3, 6 or 9 fraction digits. */
static void
put_epoch(struct lw_buf *b, int64_t ns, int scale)
{
    int64_t unit = 1;
    for (int i = scale; i < 9; i++) {
        unit *= 10;
    }
    if (scale > 0) {
        put_num(b, ns / unit - (ns % unit < 0), 0, '0');
        return;
    }
    uint64_t mag = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
    if (ns < 0) lw_buf_addc(b, '-');
    put_num(b, (int64_t)(mag / NS_PER_S), 0, '0');
    int32_t frac = (int32_t)(mag % NS_PER_S);
    int digits = frac_digits(frac);
    if (digits > 0) {
        lw_buf_addc(b, '.');
        put_frac(b, frac, digits);
    }
}

/* Write v (0-99) as two digits at o; returns the byte after them. */
static char *
two(char *o, int v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

void
lw_time_rfc3339(struct lw_buf *b, int64_t ns, int32_t off)
{
    /* the hot path of JSON output: one fixed buffer, one append */
    char out[40], *o = out;
    struct civil c;
    breakdown(ns, off, &c);
    o = two(o, (int)(c.year / 100)); /* always 1677-2262 */
    o = two(o, (int)(c.year % 100));
    *o++ = '-';
    o = two(o, c.mon);
    *o++ = '-';
    o = two(o, c.mday);
    *o++ = 'T';
    o = two(o, c.hour);
    *o++ = ':';
    o = two(o, c.min);
    *o++ = ':';
    o = two(o, c.sec);
    int digits = frac_digits(c.nsec);
    if (digits > 0) {
        *o++ = '.';
        int32_t v = digits == 3 ? c.nsec / 1000000 : digits == 6 ? c.nsec / 1000 : c.nsec;
        for (int i = digits; i > 0; i--, v /= 10) {
            o[i - 1] = (char)('0' + v % 10);
        }
        o += digits;
    }
    if (c.off == 0) {
        *o++ = 'Z';
    } else {
        int32_t a = c.off < 0 ? -c.off : c.off;
        *o++ = c.off < 0 ? '-' : '+';
        o = two(o, a / 3600);
        *o++ = ':';
        o = two(o, a / 60 % 60);
        if (a % 60 != 0) {
            *o++ = ':';
            o = two(o, a % 60);
        }
    }
    lw_buf_add(b, out, (size_t)(o - out));
}

/* floor(ns / 1e9) */
static int64_t
floor_s(int64_t ns)
{
    return ns / NS_PER_S - (ns % NS_PER_S < 0);
}

void
lw_time_format(struct lw_buf *b, int64_t ns, int32_t off, const char *fmt, size_t fmtlen)
{
    lw_time_format_zone(b, ns, off, NULL, fmt, fmtlen);
}

void
lw_time_format_zone(struct lw_buf *b, int64_t ns, int32_t off, const struct lw_tz *zone,
                    const char *fmt, size_t fmtlen)
{
    struct civil c;
    const char *abbr = NULL;
    if (zone != NULL) off = lw_tz_off_at(zone, floor_s(ns), &abbr);
    switch (named(fmt, fmtlen)) {
    case N_RFC3339:
        lw_time_rfc3339(b, ns, off);
        return;
    case N_EPOCH_S:
        put_epoch(b, ns, 0);
        return;
    case N_EPOCH_MS:
        put_epoch(b, ns, 3);
        return;
    case N_EPOCH_US:
        put_epoch(b, ns, 6);
        return;
    case N_EPOCH_NS:
        put_num(b, ns, 0, '0');
        return;
    case N_RFC3164:
        fmt = FMT_RFC3164;
        fmtlen = strlen(FMT_RFC3164);
        break;
    case N_CLF:
        fmt = FMT_CLF;
        fmtlen = strlen(FMT_CLF);
        break;
    case N_NONE:
        break;
    }
    breakdown(ns, off, &c);
    c.abbr = abbr;
    fmt_walk(b, &c, fmt, fmtlen);
}

/* ---- parsing ----------------------------------------------------------------------------- */

/* Parser state: the input, the error slot, and the fields read so far. */
struct tp {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errcap, erroff;
    const char *dname; /* the directive being read, for messages ("%d", "the month") */
    int dlen;
    bool strict; /* rfc3339: 2-digit fields take exactly 2 */
    int64_t year, epoch;
    int mon, mday, yday, hour, hour12, min, sec;
    int32_t nsec, off;
    bool has_year, has_mon, has_mday, has_yday, has_hour12, pm, has_off, has_epoch;
    size_t year_at, mday_at, yday_at, epoch_at;
};

/* Name what is being read, for messages: a directive ("%d") or a part ("the month"). */
static void
set_name(struct tp *p, const char *name, size_t len)
{
    p->dname = name;
    p->dlen = (int)len;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Copy up to max bytes of s into out (cap bytes) for a message: stop before whitespace after
 * the first byte when word is set, finish a cut UTF-8 sequence, escape control bytes. */
static const char *
show(char *out, size_t cap, const char *s, size_t len, size_t max, bool word)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        bool cont = (c & 0xc0) == 0x80;
        if (i >= max && !cont) break;
        if (i > 0 && word && is_space((char)c)) break;
        if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return out;
}

static int fail(struct tp *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct tp *p, size_t at, const char *fmt, ...)
{
    if (p->errcap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errcap, fmt, ap);
        va_end(ap);
    }
    p->erroff = at;
    return -1;
}

/* The failure for "expected what at p->pos": either the input ended or it holds something else. */
static int
fail_expected(struct tp *p, const char *what)
{
    char buf[64];
    if (p->pos >= p->len) return fail(p, p->pos, "input ends before %.*s", p->dlen, p->dname);
    return fail(p, p->pos, "expected %s for %.*s at byte %zu, found '%s'", what, p->dlen, p->dname,
                p->pos, show(buf, sizeof buf, p->s + p->pos, p->len - p->pos, 8, true));
}

/* Read min to max digits into *v. */
static int
digits(struct tp *p, int min, int max, int64_t *v)
{
    size_t at = p->pos;
    int64_t x = 0;
    int n = 0;
    while (n < max && p->pos < p->len && is_digit(p->s[p->pos])) {
        x = x * 10 + (p->s[p->pos++] - '0');
        n++;
    }
    if (n >= min) {
        *v = x;
        return 0;
    }
    if (p->pos >= p->len && n > 0) return fail(p, at, "input ends inside %.*s", p->dlen, p->dname);
    char what[32];
    snprintf(what, sizeof what, "%d digits", max);
    p->pos = at;
    return fail_expected(p, what);
}

static int
in_range(struct tp *p, size_t at, const char *what, int64_t v, int lo, int hi)
{
    if (v >= lo && v <= hi) return 0;
    return fail(p, at, "%s %lld out of range, expected %d-%d", what, (long long)v, lo, hi);
}

/* A 1-2 digit field (exactly 2 when strict) checked against lo-hi. */
static int
field2(struct tp *p, const char *what, int lo, int hi, int *out)
{
    size_t at = p->pos;
    int64_t v = 0;
    if (digits(p, p->strict ? 2 : 1, 2, &v) != 0) return -1;
    if (in_range(p, at, what, v, lo, hi) != 0) return -1;
    *out = (int)v;
    return 0;
}

/* Fraction digits: exactly width of them, or 1-9 when width is 0. */
static int
fraction(struct tp *p, int width)
{
    size_t at = p->pos;
    int32_t v = 0;
    int n = 0, max = width ? width : 9;
    while (n < max && p->pos < p->len && is_digit(p->s[p->pos])) {
        v = v * 10 + (p->s[p->pos++] - '0');
        n++;
    }
    if (n == 0 || n < width) {
        char what[32];
        snprintf(what, sizeof what, "%d fraction digits", width);
        p->pos = at;
        return fail_expected(p, width ? what : "fraction digits");
    }
    if (width == 0 && p->pos < p->len && is_digit(p->s[p->pos])) {
        return fail(p, p->pos, "expected at most 9 fraction digits for %.*s at byte %zu", p->dlen,
                    p->dname, at);
    }
    for (; n < 9; n++) {
        v *= 10;
    }
    p->nsec = v;
    return 0;
}

/* Index of the name in names[count] at p->pos: its 3-letter abbreviation, taken with the rest of
 * the full name when that follows (every full name starts with its abbreviation). */
static int
name_at(struct tp *p, const char *const *names, int count)
{
    if (p->len - p->pos < 3) return -1;
    const char *s = p->s + p->pos;
    for (int i = 0; i < count; i++) {
        const char *n = names[i];
        if (lower(s[0]) != lower(n[0]) || lower(s[1]) != n[1] || lower(s[2]) != n[2]) continue;
        size_t k = 3;
        while (n[k] != '\0' && p->pos + k < p->len && lower(s[k]) == n[k]) {
            k++;
        }
        p->pos += n[k] == '\0' ? k : 3;
        return i;
    }
    return -1;
}

/* Z, +hh, +hhmm or +hh:mm at s[*i]; 1 if there is none there, -1 if out of range. */
static int
zone_num(const char *s, size_t len, size_t *i, int32_t *off)
{
    size_t j = *i;
    if (j < len && (s[j] == 'Z' || s[j] == 'z')) {
        *off = 0;
        *i = j + 1;
        return 0;
    }
    if (j + 3 > len || (s[j] != '+' && s[j] != '-') || !is_digit(s[j + 1]) || !is_digit(s[j + 2])) {
        return 1;
    }
    int h = (s[j + 1] - '0') * 10 + (s[j + 2] - '0'), m = 0;
    size_t k = j + 3;
    if (k < len && s[k] == ':') k++;
    if (k + 2 <= len && is_digit(s[k]) && is_digit(s[k + 1])) {
        m = (s[k] - '0') * 10 + (s[k + 1] - '0');
        k += 2;
    } else {
        k = j + 3; /* a lone ':' after +hh is not part of the zone */
    }
    if (h > 23 || m > 59) return -1;
    *off = (h * 3600 + m * 60) * (s[j] == '-' ? -1 : 1);
    *i = k;
    return 0;
}

/* s[0..2] equals the lowercase n in any case. */
static bool
ieq3(const char *s, const char *n)
{
    return lower(s[0]) == n[0] && lower(s[1]) == n[1] && lower(s[2]) == n[2];
}

static int
zone(struct tp *p, bool names)
{
    size_t at = p->pos;
    if (names && p->len - p->pos >= 3 && (ieq3(p->s + at, "utc") || ieq3(p->s + at, "gmt"))) {
        p->pos += 3;
        p->off = 0;
        p->has_off = true;
        return 0;
    }
    int r = zone_num(p->s, p->len, &p->pos, &p->off);
    if (r < 0) {
        char buf[16];
        return fail(p, at, "zone offset '%s' out of range, expected at most 23:59",
                    show(buf, sizeof buf, p->s + at, p->len - at, 6, true));
    }
    if (r > 0) return fail_expected(p, names ? "a zone like UTC or +hh:mm" : "a zone like +hh:mm");
    p->has_off = true;
    return 0;
}

/* %s: an optional '-' and digits. */
static int
epoch_secs(struct tp *p)
{
    size_t at = p->pos;
    bool neg = p->pos < p->len && p->s[p->pos] == '-';
    p->pos += neg;
    if (p->pos >= p->len || !is_digit(p->s[p->pos])) {
        p->pos = at;
        return fail_expected(p, "an integer");
    }
    int64_t v = 0;
    while (p->pos < p->len && is_digit(p->s[p->pos])) {
        if (v > INT64_MAX / NS_PER_S) {
            return fail(p, at, "epoch value out of range for %.*s " RANGE_MSG, p->dlen, p->dname);
        }
        v = v * 10 + (p->s[p->pos++] - '0');
    }
    p->epoch = neg ? -v : v;
    p->epoch_at = at;
    p->has_epoch = true;
    return 0;
}

static int walk(struct tp *p, const char *f, size_t flen);

/* Directives that read names, zones and other non-numeric text. */
static int
text_dir(struct tp *p, char d)
{
    int i;
    switch (d) {
    case 'b':
    case 'h':
    case 'B':
        if ((i = name_at(p, month_names, 12)) < 0) return fail_expected(p, "a month name");
        p->mon = i + 1;
        p->has_mon = true;
        return 0;
    case 'a':
    case 'A':
        if (name_at(p, day_names, 7) < 0) return fail_expected(p, "a weekday name");
        return 0;
    case 'p':
        if (p->len - p->pos < 2 || (lower(p->s[p->pos]) != 'a' && lower(p->s[p->pos]) != 'p') ||
            lower(p->s[p->pos + 1]) != 'm') {
            return fail_expected(p, "AM or PM");
        }
        p->pm = lower(p->s[p->pos]) == 'p';
        p->pos += 2;
        return 0;
    case 'z':
        return zone(p, false);
    case 'Z':
        return zone(p, true);
    case 's':
        return epoch_secs(p);
    case 'n':
    case 't':
        if (p->pos >= p->len || !is_space(p->s[p->pos])) return fail_expected(p, "whitespace");
        while (p->pos < p->len && is_space(p->s[p->pos])) {
            p->pos++;
        }
        return 0;
    case 'T':
        return walk(p, "%H:%M:%S", 8);
    case 'F':
        return walk(p, "%Y-%m-%d", 8);
    case 'D':
        return walk(p, "%m/%d/%y", 8);
    case 'R':
        return walk(p, "%H:%M", 5);
    case '%':
        if (p->pos >= p->len || p->s[p->pos] != '%') return fail_expected(p, "'%'");
        p->pos++;
        return 0;
    default:
        return fail(p, p->pos, "unknown directive '%.*s' in the format", p->dlen, p->dname);
    }
}

/* One directive; p->dname/dlen name it ("%d", "%3f", "%:z"). */
static int
directive(struct tp *p, char d, int width)
{
    size_t at = p->pos;
    int64_t v = 0;
    switch (d) {
    case 'Y':
        if (digits(p, 4, 4, &v) != 0) return -1;
        p->year = v;
        p->year_at = at;
        p->has_year = true;
        return 0;
    case 'y':
        if (digits(p, p->strict ? 2 : 1, 2, &v) != 0) return -1;
        p->year = v < 69 ? 2000 + v : 1900 + v;
        p->year_at = at;
        p->has_year = true;
        return 0;
    case 'm':
        p->has_mon = true;
        return field2(p, "month", 1, 12, &p->mon);
    case 'e':
        if (p->len - p->pos >= 2 && p->s[p->pos] == ' ' && is_digit(p->s[p->pos + 1])) p->pos++;
        /* fall through */
    case 'd':
        p->mday_at = p->pos;
        p->has_mday = true;
        return field2(p, "day", 1, 31, &p->mday);
    case 'j':
        if (digits(p, p->strict ? 3 : 1, 3, &v) != 0) return -1;
        if (in_range(p, at, "day of year", v, 1, 366) != 0) return -1;
        p->yday = (int)v;
        p->yday_at = at;
        p->has_yday = true;
        return 0;
    case 'H':
        p->has_hour12 = false;
        return field2(p, "hour", 0, 23, &p->hour);
    case 'I':
        p->has_hour12 = true;
        return field2(p, "hour", 1, 12, &p->hour12);
    case 'M':
        return field2(p, "minute", 0, 59, &p->min);
    case 'S':
        return field2(p, "second", 0, 60, &p->sec);
    case 'f':
        return fraction(p, width);
    default:
        return text_dir(p, d);
    }
}

/* The next thing the format wants, for "input ends before ...". */
static void
next_item(const char *f, size_t flen, const char **name, int *nlen)
{
    size_t i = 0;
    while (i < flen && f[i] == ' ') {
        i++;
    }
    if (i == flen) {
        *name = "a space", *nlen = 7;
    } else if (f[i] == '%' && i + 1 < flen) {
        *name = f + i, *nlen = (int)dir_len(f + i, flen - i);
    } else {
        *name = f + i, *nlen = 1;
    }
}

/* Match format bytes: a run of spaces, or one literal byte. */
static int
literal(struct tp *p, const char *f, size_t flen, size_t *i)
{
    char buf[64], want[8];
    if (p->pos >= p->len) {
        next_item(f + *i, flen - *i, &p->dname, &p->dlen);
        bool quote = p->dname[0] != '%' && p->dlen == 1;
        return fail(p, p->pos, "input ends before %s%.*s%s", quote ? "'" : "", p->dlen, p->dname,
                    quote ? "'" : "");
    }
    if (f[*i] == ' ') {
        if (p->s[p->pos] != ' ' && p->s[p->pos] != '\t') {
            return fail(p, p->pos, "expected a space at byte %zu, found '%s'", p->pos,
                        show(buf, sizeof buf, p->s + p->pos, p->len - p->pos, 8, true));
        }
        while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')) {
            p->pos++;
        }
        while (*i < flen && f[*i] == ' ') {
            ++*i;
        }
        return 0;
    }
    if (p->s[p->pos] != f[*i]) {
        return fail(p, p->pos, "expected '%s' at byte %zu, found '%s'",
                    show(want, sizeof want, f + *i, 1, 1, false), p->pos,
                    show(buf, sizeof buf, p->s + p->pos, p->len - p->pos, 8, true));
    }
    p->pos++;
    ++*i;
    return 0;
}

static int
walk(struct tp *p, const char *f, size_t flen)
{
    size_t i = 0;
    while (i < flen) {
        if (f[i] == '%' && i + 1 < flen) {
            size_t n = dir_len(f + i, flen - i);
            int width = n == 3 && is_digit(f[i + 1]) ? f[i + 1] - '0' : 0;
            set_name(p, f + i, n);
            if (directive(p, f[i + n - 1], width) != 0) return -1;
            i += n;
            continue;
        }
        /* ".%f": the fraction may be left out of the input altogether */
        if ((f[i] == '.' || f[i] == ',') && i + 2 < flen && f[i + 1] == '%' &&
            f[i + dir_len(f + i + 1, flen - i - 1)] == 'f' &&
            (p->pos >= p->len || p->s[p->pos] != f[i])) {
            i += 1 + dir_len(f + i + 1, flen - i - 1);
            continue;
        }
        if (literal(p, f, flen, &i) != 0) return -1;
    }
    return 0;
}

/* The stamp from the fields read, in the given year; quiet: fail without a message. */
static int
stamp(struct tp *p, int64_t year, const struct lw_tz *zone, bool quiet, int64_t *t)
{
    int mon = p->mon, mday = p->mday;
    if (p->has_yday) {
        if (p->yday == 366 && !is_leap(year)) {
            if (quiet) return -1;
            return fail(p, p->yday_at, "day of year 366 out of range for %lld", (long long)year);
        }
        int64_t y2;
        int m2, d2;
        lw_time_civil_from_days(lw_time_days_from_civil(year, 1, 1) + p->yday - 1, &y2, &m2, &d2);
        if ((p->has_mon || p->has_mday) && (m2 != mon || d2 != mday)) {
            if (quiet) return -1;
            return fail(p, p->yday_at, "day of year %d does not match %04lld-%02d-%02d", p->yday,
                        (long long)year, mon, mday);
        }
        mon = m2;
        mday = d2;
    }
    if (mday > month_days(year, mon)) {
        if (quiet) return -1;
        if (mon == 2) {
            return fail(p, p->mday_at, "day %d out of range for February %lld", mday,
                        (long long)year);
        }
        return fail(p, p->mday_at, "day %d out of range for %s", mday, month_names[mon - 1]);
    }
    int sec = p->sec;
    int64_t nsec = p->nsec;
    if (sec == 60) {
        sec = 59; /* a leap second: the end of :59 */
        nsec = NS_PER_S - 1;
    }
    int64_t s =
        lw_time_days_from_civil(year, mon, mday) * DAY_S + p->hour * 3600 + p->min * 60 + sec;
    if (to_ns(s - lw_tz_off_local(zone, s), nsec, t) == 0) return 0;
    if (quiet) return -1;
    return fail(p, p->has_year ? p->year_at : 0,
                "date %04lld-%02d-%02d is outside the range of timestamps " RANGE_MSG,
                (long long)year, mon, mday);
}

static int64_t
now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return 0;
    int64_t t;
    return to_ns(ts.tv_sec, ts.tv_nsec, &t) == 0 ? t : 0;
}

/* No year in the text: the latest year that puts the stamp at most LW_TIME_FUTURE_S after ref
 * (timefmt.h says why), from the year after ref's down to 8 years before it: Feb 29 may need
 * 8 (2096, then 2104). parse_syslog's Mmm dd stamps come here too, so there is one rule. */
static int
guess_year(struct tp *p, int64_t ref, const struct lw_tz *zone, int64_t *t)
{
    struct civil c;
    if (ref == 0) ref = now_ns();
    breakdown(ref, lw_tz_off_at(zone, floor_s(ref), NULL), &c);
    for (int64_t y = c.year + 1; y >= c.year - 8; y--) {
        int64_t cand;
        if (stamp(p, y, zone, true, &cand) != 0) continue;
        if (cand - ref > LW_TIME_FUTURE_S * NS_PER_S) continue; /* both within 10 years */
        *t = cand;
        return 0;
    }
    if (stamp(p, c.year, zone, false, t) != 0) return -1; /* fails again, with a message */
    return fail(p, 0, "no year puts the date before the reference time " RANGE_MSG);
}

/* The zone of the text's own offset when it has one, else the default zone. */
static const struct lw_tz *
text_zone(struct tp *p, const struct lw_tz *zone, struct lw_tz *own)
{
    if (!p->has_off) return zone;
    lw_tz_fixed(own, p->off);
    return own;
}

static int
finish(struct tp *p, int64_t ref, const struct lw_tz *zone, int64_t *t)
{
    struct lw_tz own;
    zone = text_zone(p, zone, &own);
    if (p->has_hour12) p->hour = p->hour12 % 12 + (p->pm ? 12 : 0);
    if (p->has_epoch) {
        if (to_ns(p->epoch, p->nsec, t) == 0) return 0;
        return fail(p, p->epoch_at, "epoch value out of range " RANGE_MSG);
    }
    if (!p->has_year && (p->has_mon || p->has_mday || p->has_yday)) {
        return guess_year(p, ref, zone, t);
    }
    return stamp(p, p->has_year ? p->year : 1970, zone, false, t);
}

/* rfc3339 / iso8601: a fixed shape with an optional fraction and zone. */
static int
parse_rfc3339(struct tp *p)
{
    static const struct {
        char d, sep;
        const char *name;
        size_t nlen;
    } parts[] = { { 'Y', '-', "the year", 8 },    { 'm', '-', "the month", 9 },
                  { 'd', 'T', "the day", 7 },     { 'H', ':', "the hour", 8 },
                  { 'M', ':', "the minute", 10 }, { 'S', 0, "the second", 10 } };
    p->strict = true;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        set_name(p, parts[i].name, parts[i].nlen);
        if (directive(p, parts[i].d, 0) != 0) return -1;
        char sep = parts[i].sep, c = p->pos < p->len ? p->s[p->pos] : 0;
        if (sep == 0) break;
        if (c == sep || (sep == 'T' && (c == 't' || c == ' '))) {
            p->pos++;
            continue;
        }
        char buf[64];
        if (p->pos >= p->len) return fail(p, p->pos, "input ends before %s", parts[i + 1].name);
        return fail(p, p->pos, "expected %s at byte %zu, found '%s'",
                    sep == 'T'   ? "'T' or a space"
                    : sep == '-' ? "'-'"
                                 : "':'",
                    p->pos, show(buf, sizeof buf, p->s + p->pos, p->len - p->pos, 8, true));
    }
    if (p->pos < p->len && (p->s[p->pos] == '.' || p->s[p->pos] == ',')) {
        p->pos++;
        set_name(p, "the fraction", 12);
        if (fraction(p, 0) != 0) return -1;
    }
    if (p->pos < p->len && p->s[p->pos] != '\0' && strchr("Zz+-", p->s[p->pos]) != NULL) {
        set_name(p, "the zone", 8);
        return zone(p, false);
    }
    return 0;
}

/* Named epoch forms: a signed decimal in units of 10^(scale - 9) seconds. */
static int
parse_epoch(struct tp *p, int scale, int64_t *t)
{
    size_t at = p->pos;
    bool neg = p->pos < p->len && p->s[p->pos] == '-';
    p->pos += neg;
    uint64_t mag = 0, unit = 1, frac = 0;
    for (int i = scale; i < 9; i++) {
        unit *= 10;
    }
    if (p->pos >= p->len || !is_digit(p->s[p->pos])) return fail_expected(p, "digits");
    for (; p->pos < p->len && is_digit(p->s[p->pos]); p->pos++) {
        if (mag > (UINT64_C(1) << 63) / 10) goto range; /* so mag * 10 + 9 cannot wrap */
        mag = mag * 10 + (uint64_t)(p->s[p->pos] - '0');
    }
    if (unit > 1 && p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        size_t f0 = p->pos;
        int n = 0;
        for (; p->pos < p->len && is_digit(p->s[p->pos]); p->pos++, n++) {
            if (n == 9 - scale) {
                return fail(p, p->pos, "expected at most %d fraction digits for %.*s at byte %zu",
                            9 - scale, p->dlen, p->dname, f0);
            }
            frac = frac * 10 + (uint64_t)(p->s[p->pos] - '0');
        }
        if (n == 0) return fail_expected(p, "fraction digits");
        for (; n < 9 - scale; n++) {
            frac *= 10;
        }
    }
    if (mag > (UINT64_C(1) << 63) / unit) goto range;
    uint64_t total = mag * unit + frac, lim = (UINT64_C(1) << 63) - !neg;
    if (total > lim) goto range;
    if (!neg) {
        *t = (int64_t)total;
    } else {
        *t = total == lim ? INT64_MIN : -(int64_t)total;
    }
    return 0;
range:
    return fail(p, at, "epoch value out of range for %.*s " RANGE_MSG, p->dlen, p->dname);
}

static int
parse_named(struct tp *p, enum named k, int64_t ref, const struct lw_tz *zone, int64_t *t)
{
    int r = 0;
    switch (k) {
    case N_RFC3339:
        r = parse_rfc3339(p);
        break;
    case N_EPOCH_S:
        return parse_epoch(p, 0, t);
    case N_EPOCH_MS:
        return parse_epoch(p, 3, t);
    case N_EPOCH_US:
        return parse_epoch(p, 6, t);
    case N_EPOCH_NS:
        return parse_epoch(p, 9, t);
    case N_RFC3164:
        r = walk(p, FMT_RFC3164, strlen(FMT_RFC3164));
        break;
    case N_CLF:
        r = walk(p, FMT_CLF, strlen(FMT_CLF));
        break;
    case N_NONE:
        break;
    }
    if (r != 0) return -1;
    return finish(p, ref, zone, t);
}

int
lw_time_parse_ref(const char *s, size_t len, const char *fmt, size_t fmtlen, int32_t default_off,
                  int64_t ref_ns, int64_t *ns, int32_t *off, char *err, size_t errcap,
                  size_t *erroff)
{
    struct lw_tz z;
    lw_tz_fixed(&z, norm_off(default_off));
    return lw_time_parse_zone(s, len, fmt, fmtlen, &z, ref_ns, ns, off, err, errcap, erroff);
}

int
lw_time_parse_zone(const char *s, size_t len, const char *fmt, size_t fmtlen,
                   const struct lw_tz *zone, int64_t ref_ns, int64_t *ns, int32_t *off, char *err,
                   size_t errcap, size_t *erroff)
{
    struct tp p = { .s = s,
                    .len = len,
                    .err = err,
                    .errcap = err ? errcap : 0,
                    .mon = 1,
                    .mday = 1,
                    .dname = "",
                    .dlen = 0 };
    enum named k = named(fmt, fmtlen);
    int64_t t = 0;
    int r;
    if (k != N_NONE) {
        set_name(&p, fmt, fmtlen);
        r = parse_named(&p, k, ref_ns, zone, &t);
    } else {
        r = walk(&p, fmt, fmtlen);
        if (r == 0) r = finish(&p, ref_ns, zone, &t);
    }
    if (r == 0 && p.pos < len) {
        char buf[64];
        r = fail(&p, p.pos, "unexpected text '%s' after the time",
                 show(buf, sizeof buf, s + p.pos, len - p.pos, 16, false));
    }
    if (r != 0) {
        if (erroff != NULL) *erroff = p.erroff;
        return -1;
    }
    *ns = t;
    *off = p.has_off ? p.off : lw_tz_off_at(zone, floor_s(t), NULL);
    return 0;
}

int
lw_time_parse(const char *s, size_t len, const char *fmt, size_t fmtlen, int32_t default_off,
              int64_t *ns, int32_t *off, char *err, size_t errcap, size_t *erroff)
{
    return lw_time_parse_ref(s, len, fmt, fmtlen, default_off, 0, ns, off, err, errcap, erroff);
}

int
lw_time_zone(const char *s, size_t len, int32_t *off, char *err, size_t errcap)
{
    char buf[64];
    if (len == 0)
        return lw_errf(err, errcap, "empty time zone, expected UTC or an offset like +02:00");
    if (len == 3 && (ieq3(s, "utc") || ieq3(s, "gmt"))) {
        *off = 0;
        return 0;
    }
    size_t i = 0;
    int32_t o;
    int r = zone_num(s, len, &i, &o);
    if (r == 0 && i == len) {
        *off = o;
        return 0;
    }
    show(buf, sizeof buf, s, len, 40, false);
    if (r < 0) {
        return lw_errf(err, errcap, "time zone offset '%s' out of range, expected at most 23:59",
                       buf);
    }
    return lw_errf(err, errcap, "bad time zone '%s', expected UTC or an offset like +02:00", buf);
}

/* The named format closest to fmt (no '%'), or NULL when none is close: within 2 edits and
 * fewer edits than fmt has bytes, or a name another tool uses for it. */
static const char *
nearest_form(const char *fmt, size_t fmtlen)
{
    for (size_t i = 0; i < sizeof foreign_forms / sizeof foreign_forms[0]; i++) {
        if (name_is(foreign_forms[i].name, fmt, fmtlen)) return foreign_forms[i].ours;
    }
    const char *best = NULL;
    size_t bd = 3;
    for (size_t i = 0; i < sizeof named_forms / sizeof named_forms[0]; i++) {
        size_t d = lw_str_distance((struct lw_str){ fmt, fmtlen }, lw_str_c(named_forms[i].name));
        if (d < bd && d < fmtlen) {
            bd = d;
            best = named_forms[i].name;
        }
    }
    return best;
}

/* A constant format without a directive is almost always a misspelled name ("rfc3399", "UNIX"):
 * parsing with it would fail on every record, formatting would write the name itself. */
static int
unknown_form(const char *fmt, size_t fmtlen, char *err, size_t errcap)
{
    char buf[64];
    const char *near = nearest_form(fmt, fmtlen);
    const char *tail = "a strftime format has % directives";
    if (fmtlen == 0) {
        return lw_errf(err, errcap,
                       "empty time format (named formats: rfc3339 iso8601 epoch epoch_s epoch_ms "
                       "epoch_us epoch_ns rfc3164 clf); %s",
                       tail);
    }
    show(buf, sizeof buf, fmt, fmtlen, 40, false);
    if (near != NULL) {
        return lw_errf(err, errcap, "unknown time format '%s' (did you mean %s?); %s", buf, near,
                       tail);
    }
    return lw_errf(err, errcap,
                   "unknown time format '%s' (named formats: rfc3339 iso8601 epoch epoch_s "
                   "epoch_ms epoch_us epoch_ns rfc3164 clf); %s",
                   buf, tail);
}

int
lw_time_fmt_check(const char *fmt, size_t fmtlen, char *err, size_t errcap, size_t *erroff)
{
    if (named(fmt, fmtlen) != N_NONE) return 0;
    if (memchr(fmt, '%', fmtlen) == NULL) return unknown_form(fmt, fmtlen, err, errcap);
    for (size_t i = 0; i < fmtlen; i++) {
        if (fmt[i] != '%') continue;
        size_t n = i + 1 < fmtlen ? dir_len(fmt + i, fmtlen - i) : 1;
        char d = n > 1 ? fmt[i + n - 1] : 0;
        if (d == 0 || strchr("YymdejHIMSsfpbhBaAzZTFDRnt%", d) == NULL) {
            char buf[16];
            if (erroff != NULL) *erroff = i;
            if (d == 0) return lw_errf(err, errcap, "format ends with a lone '%%'");
            return lw_errf(err, errcap, "unknown directive '%s' at byte %zu of the format",
                           show(buf, sizeof buf, fmt + i, n, n, false), i);
        }
        i += n - 1;
    }
    return 0;
}

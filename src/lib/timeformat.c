/* Timestamps written as text: strftime-style directives, the named formats (epoch numbers,
 * rfc3164, clf) and lw_time_rfc3339, the fixed form of JSON output (the hot path). The zone's
 * offset and abbreviation come from tz.c, the broken-down stamp from calendar.c; which format a
 * name stands for is timefmt.c's. */
#include "lw/timefmt.h"

#include <stdbool.h>
#include <string.h>

#include "lw/buf.h"
#include "lw/tz.h"

#include "timefmt_int.h"

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
    case 'L': /* Ruby's: milliseconds, 3 digits */
    case 'q':
        put_frac(b, c->nsec, 3);
        break;
    case 'p':
        lw_buf_adds(b, c->hour < 12 ? "AM" : "PM");
        break;
    case 'b':
    case 'h':
        lw_buf_add(b, lw_cal_month_names[c->mon - 1], 3);
        break;
    case 'B':
        lw_buf_adds(b, lw_cal_month_names[c->mon - 1]);
        break;
    case 'a':
        lw_buf_add(b, lw_cal_day_names[c->wday], 3);
        break;
    case 'A':
        lw_buf_adds(b, lw_cal_day_names[c->wday]);
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

static void
fmt_walk(struct lw_buf *b, const struct civil *c, const char *f, size_t flen)
{
    size_t i = 0;
    while (i < flen) {
        if (f[i] != '%' || i + 1 == flen) {
            lw_buf_addc(b, f[i++]);
            continue;
        }
        size_t n = lw_time_dir_len(f + i, flen - i);
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
    lw_cal_breakdown(ns, off, &c);
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
    if (zone != NULL) off = lw_tz_off_at(zone, lw_cal_floor_s(ns), &abbr);
    switch (lw_time_named(fmt, fmtlen)) {
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
    lw_cal_breakdown(ns, off, &c);
    c.abbr = abbr;
    fmt_walk(b, &c, fmt, fmtlen);
}

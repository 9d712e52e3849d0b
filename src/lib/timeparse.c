/* Timestamps read from text: strftime-style formats and the named forms, messages that say what
 * was expected where, the year of stamps without one (also parse_syslog's), and fixed zones
 * (lw_time_zone). Calendar arithmetic is calendar.c's, IANA zones tz.c's; which format a name
 * stands for is timefmt.c's. */
#include "lw/timefmt.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lw/str.h"
#include "lw/tz.h"

#include "timefmt_int.h"

#define RANGE_MSG "(1677-09-21 to 2262-04-11)"

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
const char *
lw_time_show(char *out, size_t cap, const char *s, size_t len, size_t max, bool word)
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
                p->pos + 1, lw_time_show(buf, sizeof buf, p->s + p->pos, p->len - p->pos, 8, true));
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
                    p->dname, at + 1);
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
                    lw_time_show(buf, sizeof buf, p->s + at, p->len - at, 6, true));
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
        if ((i = name_at(p, lw_cal_month_names, 12)) < 0) return fail_expected(p, "a month name");
        p->mon = i + 1;
        p->has_mon = true;
        return 0;
    case 'a':
    case 'A':
        if (name_at(p, lw_cal_day_names, 7) < 0) return fail_expected(p, "a weekday name");
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
    case 'L': /* Ruby's and Fluent Bit's fraction of a second */
        return fraction(p, width);
    case 'q': /* a count of milliseconds, 1-3 digits: Java's S after ':' ("35:11" is .011) */
        if (digits(p, 1, 3, &v) != 0) return -1;
        p->nsec = (int32_t)(v * 1000000);
        return 0;
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
        *name = f + i, *nlen = (int)lw_time_dir_len(f + i, flen - i);
    } else {
        *name = f + i, *nlen = 1;
    }
}

/* Match format bytes: a run of spaces, or one literal byte. */
static int
literal(struct tp *p, const char *f, size_t flen, size_t *i)
{
    char buf[64], want[8];
    if (f[*i] == ' ') { /* zero or more blanks, as strptime, Fluent Bit and VRL read a space */
        while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')) {
            p->pos++;
        }
        while (*i < flen && f[*i] == ' ') {
            ++*i;
        }
        return 0;
    }
    if (p->pos >= p->len) {
        next_item(f + *i, flen - *i, &p->dname, &p->dlen);
        bool quote = p->dname[0] != '%' && p->dlen == 1;
        return fail(p, p->pos, "input ends before %s%.*s%s", quote ? "'" : "", p->dlen, p->dname,
                    quote ? "'" : "");
    }
    if (p->s[p->pos] != f[*i]) {
        return fail(p, p->pos, "expected '%s' at byte %zu, found '%s'",
                    lw_time_show(want, sizeof want, f + *i, 1, 1, false), p->pos + 1,
                    lw_time_show(buf, sizeof buf, p->s + p->pos, p->len - p->pos, 8, true));
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
            size_t n = lw_time_dir_len(f + i, flen - i);
            int width = n == 3 && is_digit(f[i + 1]) ? f[i + 1] - '0' : 0;
            set_name(p, f + i, n);
            if (directive(p, f[i + n - 1], width) != 0) return -1;
            i += n;
            continue;
        }
        /* ".%f": the fraction may be left out of the input altogether */
        if ((f[i] == '.' || f[i] == ',') && i + 2 < flen && f[i + 1] == '%' &&
            f[i + lw_time_dir_len(f + i + 1, flen - i - 1)] == 'f' &&
            (p->pos >= p->len || p->s[p->pos] != f[i])) {
            i += 1 + lw_time_dir_len(f + i + 1, flen - i - 1);
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
        if (p->yday == 366 && !lw_cal_is_leap(year)) {
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
    if (mday > lw_cal_month_days(year, mon)) {
        if (quiet) return -1;
        if (mon == 2) {
            return fail(p, p->mday_at, "day %d out of range for February %lld", mday,
                        (long long)year);
        }
        return fail(p, p->mday_at, "day %d out of range for %s", mday, lw_cal_month_names[mon - 1]);
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
    lw_cal_breakdown(ref, lw_tz_off_at(zone, lw_cal_floor_s(ref), NULL), &c);
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
                    p->pos + 1,
                    lw_time_show(buf, sizeof buf, p->s + p->pos, p->len - p->pos, 8, true));
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
                            9 - scale, p->dlen, p->dname, f0 + 1);
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
    lw_tz_fixed(&z, lw_cal_norm_off(default_off));
    return lw_time_parse_zone(s, len, fmt, fmtlen, &z, ref_ns, ns, off, err, errcap, erroff);
}

/* two_digits: s[0..1] as a number, or -1 when they are not both digits */
static inline int
two_digits(const char *s)
{
    unsigned a = (unsigned char)s[0] - '0', b = (unsigned char)s[1] - '0';
    return a < 10 && b < 10 ? (int)(a * 10 + b) : -1;
}

/* fast_rfc3339: an rfc3339 stamp of the usual shape, YYYY-MM-DDTHH:MM:SS, an optional
 * fraction, then Z or +hh:mm ending the text, read at once; 1 for anything else (a leap
 * second, no zone, a field out of range, a date out of range...), which parse_rfc3339 then
 * reads with its messages. Every stamp read here gives what parse_rfc3339 and finish give. */
static int
fast_rfc3339(const char *s, size_t len, int64_t *ns, int32_t *off)
{
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':') return 1;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return 1;
    int y1 = two_digits(s), y2 = two_digits(s + 2), mon = two_digits(s + 5),
        mday = two_digits(s + 8), hour = two_digits(s + 11), min = two_digits(s + 14),
        sec = two_digits(s + 17);
    if ((y1 | y2) < 0 || mon < 1 || mon > 12 || mday < 1 || hour < 0 || hour > 23 || min < 0 ||
        min > 59 || sec < 0 || sec > 59)
        return 1;
    int64_t year = y1 * 100 + y2;
    if (mday > lw_cal_month_days(year, mon)) return 1;
    size_t i = 19;
    int32_t nsec = 0;
    if (s[i] == '.' || s[i] == ',') {
        int n = 0;
        for (i++; i < len && n < 9 && is_digit(s[i]); i++, n++)
            nsec = nsec * 10 + (s[i] - '0');
        if (n == 0 || (i < len && is_digit(s[i]))) return 1;
        for (; n < 9; n++)
            nsec *= 10;
    }
    int32_t o;
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
        o = 0;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int h = two_digits(s + i + 1), m = two_digits(s + i + 4);
        if (h < 0 || h > 23 || m < 0 || m > 59) return 1;
        o = (h * 3600 + m * 60) * (s[i] == '-' ? -1 : 1);
    } else {
        return 1;
    }
    int64_t sc = lw_time_days_from_civil(year, mon, mday) * DAY_S + hour * 3600 + min * 60 + sec;
    if (to_ns(sc - o, nsec, ns) != 0) return 1;
    *off = o;
    return 0;
}

int
lw_time_parse_zone(const char *s, size_t len, const char *fmt, size_t fmtlen,
                   const struct lw_tz *zone, int64_t ref_ns, int64_t *ns, int32_t *off, char *err,
                   size_t errcap, size_t *erroff)
{
    /* the named rfc3339 as templates write it: its usual stamps without the general reader */
    if (fmtlen == 7 && (memcmp(fmt, "rfc3339", 7) == 0 || memcmp(fmt, "iso8601", 7) == 0) &&
        fast_rfc3339(s, len, ns, off) == 0)
        return 0;
    struct tp p = { .s = s,
                    .len = len,
                    .err = err,
                    .errcap = err ? errcap : 0,
                    .mon = 1,
                    .mday = 1,
                    .dname = "",
                    .dlen = 0 };
    enum named k = lw_time_named(fmt, fmtlen);
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
                 lw_time_show(buf, sizeof buf, s + p.pos, len - p.pos, 16, false));
    }
    if (r != 0) {
        if (erroff != NULL) *erroff = p.erroff;
        return -1;
    }
    *ns = t;
    *off = p.has_off ? p.off : lw_tz_off_at(zone, lw_cal_floor_s(t), NULL);
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
    lw_time_show(buf, sizeof buf, s, len, 40, false);
    if (r < 0) {
        return lw_errf(err, errcap, "time zone offset '%s' out of range, expected at most 23:59",
                       buf);
    }
    return lw_errf(err, errcap, "bad time zone '%s', expected UTC or an offset like +02:00", buf);
}

/* Durations as text ("1h30m", "250ms") to nanoseconds; the unit table. Converting to the unit
 * a template asks for is fn_parse.c's job. */
#include "lw/duration.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lw/kv.h"
#include "lw/str.h"

static const struct {
    const char *name;
    double ns;
} units[] = {
    { "ns", 1 },   { "us", 1e3 },   { "\xC2\xB5s", 1e3 }, { "ms", 1e6 },     { "s", 1e9 },
    { "m", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 },     { "w", 604800e9 },
};

/* Names people write for our units ("5 sec", "2hours"), for the hint in messages only: the
 * units accepted stay the short ones above. */
static const struct {
    const char *name, *unit;
} spellings[] = {
    { "sec", "s" },           { "secs", "s" },         { "second", "s" },
    { "seconds", "s" },       { "min", "m" },          { "mins", "m" },
    { "minute", "m" },        { "minutes", "m" },      { "hr", "h" },
    { "hrs", "h" },           { "hour", "h" },         { "hours", "h" },
    { "day", "d" },           { "days", "d" },         { "wk", "w" },
    { "week", "w" },          { "weeks", "w" },        { "msec", "ms" },
    { "msecs", "ms" },        { "millis", "ms" },      { "millisecond", "ms" },
    { "milliseconds", "ms" }, { "usec", "us" },        { "usecs", "us" },
    { "micros", "us" },       { "microsecond", "us" }, { "microseconds", "us" },
    { "\xCE\xBCs", "us" },    { "nsec", "ns" },        { "nsecs", "ns" },
    { "nanos", "ns" },        { "nanosecond", "ns" },  { "nanoseconds", "ns" },
};

#define UNITS "(units: ns us ms s m h d w)"

int
lw_duration_unit(const char *p, size_t len, double *ns)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].name) == len && memcmp(units[i].name, p, len) == 0) {
            *ns = units[i].ns;
            return 0;
        }
    }
    return -1;
}

const char *
lw_duration_unit_hint(const char *p, size_t len)
{
    char low[16];
    if (len == 0 || len >= sizeof low) return NULL;
    for (size_t i = 0; i < len; i++) {
        low[i] = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] + ('a' - 'A')) : p[i];
    }
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        if (strlen(spellings[i].name) == len && memcmp(spellings[i].name, low, len) == 0) {
            return spellings[i].unit;
        }
    }
    /* "5S", "2H", "10MS" are ours in upper case; "5M" may mean months and gets no hint */
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].name) == len && memcmp(units[i].name, low, len) == 0) {
            return len == 1 && p[0] == 'M' ? NULL : units[i].name;
        }
    }
    return NULL;
}

static int fail(char *err, size_t errcap, size_t *erroff, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
fail(char *err, size_t errcap, size_t *erroff, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errcap > 0) vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
    if (erroff != NULL) *erroff = at;
    return -1;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A unit is a run of letters (and the bytes of 'µ', and of the Greek 'μ' people type for it). */
static bool
is_unit_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '\xC2' || c == '\xB5' ||
           c == '\xCE' || c == '\xBC';
}

static size_t
unit_end(const char *s, size_t len, size_t i)
{
    while (i < len && is_unit_byte(s[i])) {
        i++;
    }
    return i;
}

/* What is at s[i] for a message: a run of letters, else one character (control bytes as
 * \xNN), at most 16 bytes. */
static const char *
found(char *buf, size_t cap, const char *s, size_t len, size_t i)
{
    size_t n = unit_end(s, len, i) - i;
    if (n == 0) {
        unsigned char c = (unsigned char)s[i];
        n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (n > len - i) n = len - i;
        if (c < 0x20 || c == 0x7f) {
            snprintf(buf, cap, "\\x%02x", c);
            return buf;
        }
    }
    snprintf(buf, cap, "%.*s", (int)(n < 16 ? n : 16), s + i);
    return buf;
}

/* The number s[nb, ub) (the sign from 0 with the first part) had no unit right after it: say
 * why, with the fix when the unit is recognizable ("5 sec": write 5s). */
static int
no_unit(const char *s, size_t len, size_t nb, size_t ub, char *err, size_t errcap, size_t *erroff)
{
    int nl = ub - nb > 24 ? 24 : (int)(ub - nb);
    size_t w = ub;
    while (w < len && s[w] == ' ') {
        w++;
    }
    size_t we = unit_end(s, len, w);
    if (w == ub || we == w) {
        return fail(err, errcap, erroff, ub, "missing unit after '%.*s' at byte %zu " UNITS, nl,
                    s + nb, ub + 1);
    }
    double u;
    struct lw_str unit = { s + w, we - w };
    if (lw_duration_unit(unit.p, unit.len, &u) != 0) {
        const char *hint = lw_duration_unit_hint(unit.p, unit.len);
        if (hint == NULL) {
            return fail(err, errcap, erroff, ub,
                        "unexpected ' ' at byte %zu and unknown unit '%.*s' after it " UNITS,
                        ub + 1, (int)(unit.len < 16 ? unit.len : 16), unit.p);
        }
        unit = lw_str_c(hint);
    }
    return fail(err, errcap, erroff, ub, "unexpected ' ' at byte %zu: write %.*s%.*s " UNITS,
                ub + 1, nl, s + nb, (int)unit.len, unit.p);
}

static int
bad_unit(const char *s, size_t nb, size_t ub, size_t ue, char *err, size_t errcap, size_t *erroff)
{
    const char *unit = lw_duration_unit_hint(s + ub, ue - ub);
    int l = ue - ub < 16 ? (int)(ue - ub) : 16;
    if (unit != NULL) {
        return fail(err, errcap, erroff, ub, "unknown unit '%.*s' at byte %zu: write %.*s%s " UNITS,
                    l, s + ub, ub + 1, ub - nb > 24 ? 24 : (int)(ub - nb), s + nb, unit);
    }
    return fail(err, errcap, erroff, ub, "unknown unit '%.*s' at byte %zu " UNITS, l, s + ub,
                ub + 1);
}

/* Where a number should start at s[i] and none does. */
static int
no_number(const char *s, size_t len, size_t i, int parts, char *err, size_t errcap, size_t *erroff)
{
    char buf[24];
    if (i == len && parts == 0) {
        return fail(err, errcap, erroff, i, "expected a number after '%c' at byte %zu", s[0],
                    i + 1);
    }
    if (i == len) {
        size_t sp = i;
        while (sp > 0 && s[sp - 1] == ' ') {
            sp--;
        }
        return fail(err, errcap, erroff, sp, "unexpected ' ' at byte %zu after the last unit",
                    sp + 1);
    }
    if (parts > 0 && (s[i] == '-' || s[i] == '+')) {
        return fail(err, errcap, erroff, i,
                    "unexpected '%c' at byte %zu: only the whole duration takes a sign, as in "
                    "-1h30m",
                    s[i], i + 1);
    }
    return fail(err, errcap, erroff, i, "expected a number at byte %zu, found '%s'", i + 1,
                found(buf, sizeof buf, s, len, i));
}

int
lw_duration_parse(const char *s, size_t len, double *ns, char *err, size_t errcap, size_t *erroff)
{
    size_t i = 0;
    bool neg = false;
    if (len == 0) {
        return fail(err, errcap, erroff, 0,
                    "empty duration, expected a number and a unit like 5s " UNITS);
    }
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i++;
    }
    if (len - i == 1 && s[i] == '0') {
        *ns = 0;
        return 0;
    }
    double total = 0;
    int parts = 0;
    while (i < len || parts == 0) {
        if (parts > 0) {
            while (i < len && s[i] == ' ') {
                i++;
            }
        }
        size_t nb = i, digits = 0;
        while (i < len && (is_digit(s[i]) || s[i] == '.')) {
            digits += is_digit(s[i]);
            i++;
        }
        if (i == nb) return no_number(s, len, i, parts, err, errcap, erroff);
        double v;
        if (digits == 0 || lw_parse_float((struct lw_str){ s + nb, i - nb }, &v) != 0) {
            return fail(err, errcap, erroff, nb, "bad number '%.*s' at byte %zu",
                        i - nb > 24 ? 24 : (int)(i - nb), s + nb, nb + 1);
        }
        size_t ub = i;
        i = unit_end(s, len, i);
        double u;
        if (parts == 0) nb = 0; /* a hint writes the sign too */
        if (ub == i) return no_unit(s, len, nb, ub, err, errcap, erroff);
        if (lw_duration_unit(s + ub, i - ub, &u) != 0) {
            return bad_unit(s, nb, ub, i, err, errcap, erroff);
        }
        total += v * u;
        parts++;
    }
    if (!isfinite(total)) return fail(err, errcap, erroff, 0, "duration out of range");
    *ns = neg ? -total : total;
    return 0;
}

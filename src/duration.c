/* Durations as text ("1h30m", "250ms") to nanoseconds; the unit table. Converting to the unit
 * a template asks for is fn_parse.c's job. */
#include "lw/duration.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lw/kv.h"

static const struct {
    const char *name;
    double ns;
} units[] = {
    { "ns", 1 },   { "us", 1e3 },   { "\xC2\xB5s", 1e3 }, { "ms", 1e6 },     { "s", 1e9 },
    { "m", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 },     { "w", 604800e9 },
};

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

/* A unit is a run of letters (and the two bytes of 'µ'). */
static bool
is_unit_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '\xC2' || c == '\xB5';
}

int
lw_duration_parse(const char *s, size_t len, double *ns, char *err, size_t errcap, size_t *erroff)
{
    size_t i = 0;
    bool neg = false;
    if (len == 0) return fail(err, errcap, erroff, 0, "empty duration");
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
    while (i < len) {
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
        double v;
        if (digits == 0 || lw_parse_float((struct lw_str){ s + nb, i - nb }, &v) != 0) {
            return fail(err, errcap, erroff, nb, "expected a number");
        }
        size_t ub = i;
        while (i < len && is_unit_byte(s[i])) {
            i++;
        }
        double u;
        if (ub == i) {
            return fail(err, errcap, erroff, ub, "missing unit after '%.*s'", (int)(ub - nb),
                        s + nb);
        }
        if (lw_duration_unit(s + ub, i - ub, &u) != 0) {
            return fail(err, errcap, erroff, ub, "unknown unit '%.*s' (ns, us, ms, s, m, h, d, w)",
                        (int)(i - ub), s + ub);
        }
        total += v * u;
        parts++;
    }
    if (parts == 0) return fail(err, errcap, erroff, i, "expected a number");
    if (!isfinite(total)) return fail(err, errcap, erroff, 0, "duration out of range");
    *ns = neg ? -total : total;
    return 0;
}

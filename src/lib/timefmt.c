/* Time formats by name: the named formats (rfc3339, epoch_ms, clf, ...) and their lookup in
 * any case, and lw_time_fmt_check, which rejects a bad constant format when a template is
 * compiled (with a "did you mean" for misspelled names and other tools' names). Parsing is
 * timeparse.c's, formatting timeformat.c's, the calendar calendar.c's. */
#include "lw/timefmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lw/str.h"

#include "timefmt_int.h"

/* The formats callers may name instead of writing directives (enum named in timefmt_int.h). */
static const struct {
    const char *name;
    enum named kind;
} named_forms[] = {
    { "rfc3339", N_RFC3339 },   { "iso8601", N_RFC3339 },   { "epoch", N_EPOCH_S },
    { "epoch_s", N_EPOCH_S },   { "epoch_ms", N_EPOCH_MS }, { "epoch_us", N_EPOCH_US },
    { "epoch_ns", N_EPOCH_NS }, { "rfc3164", N_RFC3164 },   { "clf", N_CLF },
};

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
enum named
lw_time_named(const char *fmt, size_t fmtlen)
{
    if (fmtlen < 3 || fmtlen > 8 || memchr(fmt, '%', fmtlen) != NULL) return N_NONE;
    for (size_t i = 0; i < sizeof named_forms / sizeof named_forms[0]; i++) {
        if (name_is(named_forms[i].name, fmt, fmtlen)) return named_forms[i].kind;
    }
    return N_NONE;
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

/* java_form: the strftime format a Java/Joda pattern (Logstash's date filter, log4j,
 * Elasticsearch) means, into out; false when fmt does not look like one or has a letter with
 * no equivalent. A run of three or more S is the fraction, as many digits as S's; S or SS is
 * %q, the milliseconds as a count of 1 to 3 digits (Java's H:m:s:S reads "22:15:35:11" as
 * .011 s, which %1f or %2f would refuse or read as .11). */
static bool
java_form(const char *fmt, size_t fmtlen, char *out, size_t cap)
{
    static const struct {
        char c;
        int min; /* the shortest run this line is for (longest first) */
        const char *f;
    } map[] = { { 'y', 3, "%Y" }, { 'y', 2, "%y" },  { 'y', 1, "%Y" }, { 'M', 4, "%B" },
                { 'M', 3, "%b" }, { 'M', 1, "%m" },  { 'd', 1, "%d" }, { 'H', 1, "%H" },
                { 'h', 1, "%I" }, { 'm', 1, "%M" },  { 's', 1, "%S" }, { 'a', 1, "%p" },
                { 'E', 4, "%A" }, { 'E', 1, "%a" },  { 'D', 1, "%j" }, { 'Z', 2, "%:z" },
                { 'Z', 1, "%z" }, { 'X', 3, "%:z" }, { 'X', 1, "%z" }, { 'z', 1, "%Z" } };
    size_t o = 0;
    bool letters = false;
    for (size_t i = 0; i < fmtlen;) {
        char c = fmt[i];
        size_t run = 1;
        while (i + run < fmtlen && fmt[i + run] == c)
            run++;
        const char *f = NULL;
        char frac[8];
        if (c == 'S' && run < 3) {
            f = "%q";
        } else if (c == 'S') {
            snprintf(frac, sizeof frac, "%%%zuf", run > 9 ? (size_t)9 : run);
            f = frac;
        } else if (c == '\'') { /* quoted literal text; '' is a quote */
            size_t e = i + 1;
            while (e < fmtlen && fmt[e] != '\'')
                e++;
            if (e == i + 1) {
                if (o + 1 >= cap) return false;
                out[o++] = '\'';
            } else {
                if (o + (e - i - 1) >= cap) return false;
                memcpy(out + o, fmt + i + 1, e - i - 1);
                o += e - i - 1;
            }
            i = e + 1;
            continue;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            for (size_t k = 0; k < sizeof map / sizeof map[0] && f == NULL; k++) {
                if (map[k].c == c && run >= (size_t)map[k].min) f = map[k].f;
            }
            if (f == NULL) return false;
            letters = true;
        }
        if (f == NULL) {
            if (o + 2 >= cap) return false;
            if (c == '%') out[o++] = '%';
            out[o++] = c;
            i++;
            continue;
        }
        size_t fl = strlen(f);
        if (o + fl >= cap) return false;
        memcpy(out + o, f, fl);
        o += fl;
        i += run;
    }
    out[o] = '\0';
    return letters;
}

/* A constant format without a directive is almost always a misspelled name ("rfc3399", "UNIX")
 * or a Java pattern: parsing with it would fail on every record, formatting would write the
 * name itself. */
static int
unknown_form(const char *fmt, size_t fmtlen, char *err, size_t errcap)
{
    char buf[64], java[128];
    if (fmtlen > 0 && fmtlen < 64 && java_form(fmt, fmtlen, java, sizeof java)) {
        return lw_errf(err, errcap,
                       "'%s' is a Java/Joda time pattern; logwash formats are strftime's: write "
                       "'%s'",
                       lw_time_show(buf, sizeof buf, fmt, fmtlen, 63, false), java);
    }
    const char *near = nearest_form(fmt, fmtlen);
    const char *tail = "a strftime format has % directives";
    if (fmtlen == 0) {
        return lw_errf(err, errcap,
                       "empty time format (named formats: rfc3339 iso8601 epoch epoch_s epoch_ms "
                       "epoch_us epoch_ns rfc3164 clf); %s",
                       tail);
    }
    lw_time_show(buf, sizeof buf, fmt, fmtlen, 40, false);
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
    if (lw_time_named(fmt, fmtlen) != N_NONE) return 0;
    if (memchr(fmt, '%', fmtlen) == NULL) return unknown_form(fmt, fmtlen, err, errcap);
    for (size_t i = 0; i < fmtlen; i++) {
        if (fmt[i] != '%') continue;
        size_t n = i + 1 < fmtlen ? lw_time_dir_len(fmt + i, fmtlen - i) : 1;
        char d = n > 1 ? fmt[i + n - 1] : 0;
        if (d == 0 || strchr("YymdejHIMSsfLqpbhBaAzZTFDRnt%", d) == NULL) {
            char buf[16];
            if (erroff != NULL) *erroff = i;
            if (d == 0) return lw_errf(err, errcap, "format ends with a lone '%%'");
            return lw_errf(err, errcap, "unknown directive '%s' at byte %zu of the format",
                           lw_time_show(buf, sizeof buf, fmt + i, n, n, false), i + 1);
        }
        i += n - 1;
    }
    return 0;
}

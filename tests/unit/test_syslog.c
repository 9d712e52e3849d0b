/* Unit tests for syslog.c and duration.c: the RFC 3164 year rule at its edges, header parts,
 * structured-data walking with escapes, error offsets; durations and their units. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lw/duration.h"
#include "lw/syslog.h"
#include "lw/timefmt.h"
#include "lw/tz.h"
#include "unit.h"

/* utc: the zone for stamps without one (lw_syslog_parse needs a zone) */
static const struct lw_tz *
utc(void)
{
    static struct lw_tz z;
    lw_tz_fixed(&z, 0);
    return &z;
}

#define NS 1000000000LL

static int64_t
at(const char *rfc3339)
{
    int64_t ns = 0;
    int32_t off;
    lw_time_parse(rfc3339, strlen(rfc3339), "rfc3339", 7, 0, &ns, &off, NULL, 0, NULL);
    return ns;
}

static bool
stamp_is(const char *line, const char *now, const char *want)
{
    struct lw_syslog s;
    char err[200];
    if (lw_syslog_parse(line, strlen(line), at(now), utc(), &s, err, sizeof err, NULL) != 0) {
        return false;
    }
    return s.has_time && s.ns == at(want);
}

static bool
str_is(struct lw_str s, const char *want)
{
    if (want == NULL) return s.p == NULL;
    return s.p != NULL && lw_str_eq(s, lw_str_c(want));
}

static bool
fails_at(const char *line, size_t want_off, const char *want_msg)
{
    struct lw_syslog s;
    char err[200] = "";
    size_t off = 9999;
    if (lw_syslog_parse(line, strlen(line), NS, utc(), &s, err, sizeof err, &off) != -1)
        return false;
    return off == want_off && strstr(err, want_msg) != NULL;
}

static void
years(void)
{
    const char *l = "<13>Dec 31 23:59:59 h a: x";
    CHECK(stamp_is(l, "2024-01-01T00:00:00Z", "2023-12-31T23:59:59Z"));
    CHECK(stamp_is(l, "2024-12-31T00:00:00Z", "2024-12-31T23:59:59Z"));
    CHECK(stamp_is(l, "2024-12-30T23:59:59Z", "2024-12-31T23:59:59Z")); /* a day ahead */
    CHECK(stamp_is(l, "2024-12-30T23:59:58Z", "2023-12-31T23:59:59Z"));
    CHECK(stamp_is("<13>Jan  1 00:00:00 h a: x", "2024-12-31T00:00:00Z", "2025-01-01T00:00:00Z"));
    CHECK(stamp_is("<13>Feb 29 00:00:00 h a: x", "2023-06-01T00:00:00Z", "2020-02-29T00:00:00Z"));
    CHECK(stamp_is("<13>Feb 29 00:00:00 h a: x", "2024-03-01T00:00:00Z", "2024-02-29T00:00:00Z"));
    /* 2100 is not a leap year: from 2103 the latest Feb 29 is 2096, 7 years back */
    CHECK(stamp_is("<13>Feb 29 00:00:00 h a: x", "2103-01-01T00:00:00Z", "2096-02-29T00:00:00Z"));
}

static void
parts(void)
{
    struct lw_syslog s;
    char err[200];
    const char *l = "<0>1 - host - - - [a@1 k=\"v\\\"\\\\\\]\\n\"][b] m";
    CHECK(lw_syslog_parse(l, strlen(l), NS, utc(), &s, err, sizeof err, NULL) == 0);
    CHECK(s.version == 1 && !s.has_time && s.pri == 0);
    CHECK(str_is(s.host, "host") && str_is(s.app, NULL) && str_is(s.procid, NULL));
    CHECK(str_is(s.msgid, NULL) && str_is(s.msg, "m"));
    char scratch[64];
    struct lw_syslog_sd it;
    struct lw_str id, val;
    lw_syslog_sd_init(&it, s.sd);
    CHECK(lw_syslog_sd_next(&it, scratch, &id, &val) == 1 && str_is(id, "a@1") && val.p == NULL);
    CHECK(lw_syslog_sd_next(&it, scratch, &id, &val) == 1 && str_is(id, "k"));
    CHECK(val.len == 6 && memcmp(val.p, "v\"\\]\\n", 6) == 0);
    CHECK(lw_syslog_sd_next(&it, scratch, &id, &val) == 1 && str_is(id, "b") && val.p == NULL);
    CHECK(lw_syslog_sd_next(&it, scratch, &id, &val) == 0);

    l = "<13>Mar  1 00:00:00 app[9]: no host";
    CHECK(lw_syslog_parse(l, strlen(l), NS, utc(), &s, err, sizeof err, NULL) == 0);
    CHECK(str_is(s.host, NULL) && str_is(s.app, "app") && str_is(s.procid, "9"));
    CHECK(str_is(s.msg, "no host"));
    /* a file's line: no <PRI>, pri -1, the rest as with one */
    l = "Mar 10 22:14:15 web-01 sshd[4021]: m";
    CHECK(lw_syslog_parse(l, strlen(l), NS, utc(), &s, err, sizeof err, NULL) == 0);
    CHECK(s.pri == -1 && s.version == 0 && s.has_time && str_is(s.host, "web-01"));
    CHECK(str_is(s.app, "sshd") && str_is(s.procid, "4021") && str_is(s.msg, "m"));
    l = "2024-03-10T22:14:15.123+01:00 h kernel: k";
    CHECK(lw_syslog_parse(l, strlen(l), NS, utc(), &s, err, sizeof err, NULL) == 0);
    CHECK(s.pri == -1 && s.off == 3600 && str_is(s.app, "kernel") && str_is(s.msg, "k"));
    /* stamps with a year before or after the time, a fraction, Cisco's '*' and colon */
    l = "<13>Mar 10 22:14:15 2024 host app: m";
    CHECK(stamp_is(l, "2030-01-01T00:00:00Z", "2024-03-10T22:14:15Z"));
    CHECK(lw_syslog_parse(l, strlen(l), NS, utc(), &s, err, sizeof err, NULL) == 0);
    CHECK(str_is(s.host, "host") && str_is(s.app, "app") && str_is(s.msg, "m"));
    l = "<13>Mar 10 22:14:15 0000 host app: m"; /* no date in year 0: 0000 is the host */
    CHECK(lw_syslog_parse(l, strlen(l), NS, utc(), &s, err, sizeof err, NULL) == 0);
    CHECK(str_is(s.host, "0000") && str_is(s.app, NULL) && str_is(s.msg, "host app: m"));
    l = "<13>Mar 10 22:14:15 2024 app: m"; /* ambiguous: 2024 stays the host */
    CHECK(lw_syslog_parse(l, strlen(l), NS, utc(), &s, err, sizeof err, NULL) == 0);
    CHECK(str_is(s.host, "2024") && str_is(s.app, "app"));
    CHECK(stamp_is("Mar 10 2024 22:14:15 h a: m", "2030-01-01T00:00:00Z", "2024-03-10T22:14:15Z"));
    CHECK(
        stamp_is("*Mar  1 00:03:22.123: a: m", "2024-03-12T00:00:00Z", "2024-03-01T00:03:22.123Z"));
    CHECK(stamp_is(".Mar 10 22:14:15.5 h a: m", "2024-03-12T00:00:00Z", "2024-03-10T22:14:15.5Z"));
    l = "<1>Mar 10 2024 22:14:15: %ASA-6-1: m";
    CHECK(lw_syslog_parse(l, strlen(l), NS, utc(), &s, err, sizeof err, NULL) == 0);
    CHECK(str_is(s.host, NULL) && str_is(s.app, "%ASA-6-1") && str_is(s.msg, "m"));
    CHECK(strcmp(lw_syslog_facility(23), "local7") == 0);
    CHECK(strcmp(lw_syslog_severity(3), "err") == 0);
}

static void
errors(void)
{
    CHECK(fails_at("", 0, "expected '<PRI>' or a timestamp"));
    CHECK(fails_at("!x", 0, "at the start, found '!x'"));
    CHECK(fails_at("<1>!x", 3, "after the priority, found '!x'"));
    CHECK(fails_at("garbage line", 0, "or a timestamp like 'Mar 10 00:00:00' at the start"));
    CHECK(fails_at("Mar 10 00:00:99 h a: x", 13, "second 99"));
    CHECK(fails_at("Mar 10 0000 00:00:00 h a: x", 7, "outside the range"));

    CHECK(fails_at("<192>x", 1, "out of range"));
    CHECK(fails_at("<1>1 - h a p m [x a=\"1] m", 20, "unterminated"));
    CHECK(fails_at("<1>1 - h a p m [x]y m", 18, "expected a space"));
    CHECK(fails_at("<1>Mar 10 00:00:99 h a: x", 16, "second 99"));
}

static bool
dur(const char *s, double want)
{
    double ns = -1;
    return lw_duration_parse(s, strlen(s), &ns, NULL, 0, NULL) == 0 && fabs(ns - want) < 1e-6;
}

static bool
dur_fails(const char *s, size_t want_off, const char *want)
{
    double ns = -1;
    char err[200] = "";
    size_t off = 99;
    if (lw_duration_parse(s, strlen(s), &ns, err, sizeof err, &off) == 0) return false;
    if (off != want_off || strcmp(err, want) != 0) {
        fprintf(stderr, "duration \"%s\": got \"%s\" at %zu\n", s, err, off);
        return false;
    }
    return true;
}

static void
durations(void)
{
    CHECK(dur("1h30m", 5400e9));
    CHECK(dur("-1.5s", -1.5e9));
    CHECK(dur("1d 1w", 8 * 86400e9));
    CHECK(dur("\xC2\xB5s", 0) == false);
    CHECK(dur("3\xC2\xB5s", 3e3));
    CHECK(dur("0", 0));
    CHECK(!dur("", 0) && !dur("-", 0) && !dur("1", 1) && !dur("1s ", 1e9) && !dur("1S", 1e9));
    double u;
    CHECK(lw_duration_unit("ms", 2, &u) == 0 && u == 1e6);
    CHECK(lw_duration_unit("sec", 3, &u) == -1);
    /* the hint: a word for a unit, or one of ours in upper case; "M" may be months */
    CHECK(strcmp(lw_duration_unit_hint("Seconds", 7), "s") == 0);
    CHECK(strcmp(lw_duration_unit_hint("MS", 2), "ms") == 0);
    CHECK(strcmp(lw_duration_unit_hint("\xCE\xBCs", 3), "us") == 0);
    CHECK(lw_duration_unit_hint("M", 1) == NULL && lw_duration_unit_hint("x", 1) == NULL);
    CHECK(lw_duration_unit_hint("s", 0) == NULL);
    CHECK(dur_fails("5 sec", 1, "unexpected ' ' at byte 2: write 5s (units: ns us ms s m h d w)"));
    CHECK(dur_fails("5 ", 1, "missing unit after '5' at byte 2 (units: ns us ms s m h d w)"));
    CHECK(dur_fails("1s  ", 2, "unexpected ' ' at byte 3 after the last unit"));
    CHECK(dur_fails("+", 1, "expected a number after '+' at byte 2"));
    CHECK(dur_fails("1h\t5m", 2, "expected a number at byte 3, found '\\x09'"));
    CHECK(dur_fails("1h\xC3\xA9", 2, "expected a number at byte 3, found '\xC3\xA9'"));
    CHECK(dur_fails("1..s", 0, "bad number '1..' at byte 1"));
    CHECK(
        dur_fails("+1 hrs", 2, "unexpected ' ' at byte 3: write +1h (units: ns us ms s m h d w)"));
}

void
test_syslog(void)
{
    years();
    parts();
    errors();
    durations();
}

/* Unit tests for timefmt: known conversions, leap years, every directive both ways, fractions,
 * epochs, offsets, the named formats, year guessing, range limits and each error message.
 * Expected epoch values were computed with `date -u -d '...' +%s` and Python's datetime
 * ((datetime(..., tzinfo=...) - datetime(1970, 1, 1, tzinfo=utc)).total_seconds()). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lw/buf.h"
#include "lw/timefmt.h"
#include "unit.h"

#define S   1000000000LL
#define REF (1710028800LL * S) /* 2024-03-10T00:00:00Z, the reference for year-less stamps */

/* Parse s with fmt (default offset def, reference REF) and expect ns and off. */
static bool
parses_off(const char *s, const char *fmt, int32_t def, int64_t want, int32_t want_off)
{
    int64_t ns = 0;
    int32_t off = 0;
    char err[200] = "";
    size_t at = 0;
    if (lw_time_parse_ref(s, strlen(s), fmt, strlen(fmt), def, REF, &ns, &off, err, sizeof err,
                          &at) != 0) {
        fprintf(stderr, "  parse '%s' with '%s' failed at %zu: %s\n", s, fmt, at, err);
        return false;
    }
    if (ns != want || off != want_off) {
        fprintf(stderr, "  parse '%s' with '%s': got %lld %+d, want %lld %+d\n", s, fmt,
                (long long)ns, off, (long long)want, want_off);
        return false;
    }
    return true;
}

static bool
parses(const char *s, const char *fmt, int64_t want)
{
    return parses_off(s, fmt, 0, want, 0);
}

/* Parse s with fmt and expect failure with exactly the message msg at byte at. */
static bool
fails(const char *s, const char *fmt, const char *msg, size_t want_at)
{
    int64_t ns = 7;
    int32_t off = 7;
    char err[200] = "";
    size_t at = 999;
    if (lw_time_parse_ref(s, strlen(s), fmt, strlen(fmt), 0, REF, &ns, &off, err, sizeof err,
                          &at) == 0) {
        fprintf(stderr, "  parse '%s' with '%s' should fail, got %lld\n", s, fmt, (long long)ns);
        return false;
    }
    if (strcmp(err, msg) != 0 || at != want_at || ns != 7 || off != 7) {
        fprintf(stderr, "  parse '%s' with '%s': got \"%s\" at %zu, want \"%s\" at %zu\n", s, fmt,
                err, at, msg, want_at);
        return false;
    }
    return true;
}

static bool
formats(int64_t ns, int32_t off, const char *fmt, const char *want)
{
    struct lw_buf b;
    lw_buf_init(&b);
    lw_time_format(&b, ns, off, fmt, strlen(fmt));
    bool ok = b.len == strlen(want) && memcmp(b.p, want, b.len) == 0;
    if (!ok) fprintf(stderr, "  format '%s': got '%.*s', want '%s'\n", fmt, (int)b.len, b.p, want);
    lw_buf_fini(&b);
    return ok;
}

static bool
rfc3339(int64_t ns, int32_t off, const char *want)
{
    struct lw_buf b;
    lw_buf_init(&b);
    lw_time_rfc3339(&b, ns, off);
    bool ok = b.len == strlen(want) && memcmp(b.p, want, b.len) == 0;
    if (!ok) fprintf(stderr, "  rfc3339: got '%.*s', want '%s'\n", (int)b.len, b.p, want);
    lw_buf_fini(&b);
    return ok;
}

/* Format ns at off with fmt, parse it back, and expect the same instant and offset. */
static bool
round_trip(int64_t ns, int32_t off, const char *fmt)
{
    struct lw_buf b;
    lw_buf_init(&b);
    lw_time_format(&b, ns, off, fmt, strlen(fmt));
    int64_t got = 0;
    int32_t got_off = 0;
    char err[200] = "";
    int r = lw_time_parse_ref(b.p, b.len, fmt, strlen(fmt), off, REF, &got, &got_off, err,
                              sizeof err, NULL);
    bool ok = r == 0 && got == ns && got_off == off;
    if (!ok) {
        fprintf(stderr, "  round trip '%s' via '%.*s': r=%d %s got %lld %+d, want %lld %+d\n", fmt,
                (int)b.len, b.p, r, err, (long long)got, got_off, (long long)ns, off);
    }
    lw_buf_fini(&b);
    return ok;
}

static bool
zone_is(const char *s, int32_t want)
{
    int32_t off = 12345;
    char err[200] = "";
    return lw_time_zone(s, strlen(s), &off, err, sizeof err) == 0 && off == want;
}

static bool
zone_fails(const char *s, const char *msg)
{
    int32_t off = 12345;
    char err[200] = "";
    int r = lw_time_zone(s, strlen(s), &off, err, sizeof err);
    if (r == 0 || off != 12345 || strcmp(err, msg) != 0) {
        fprintf(stderr, "  zone '%s': got %d \"%s\", want \"%s\"\n", s, r, err, msg);
        return false;
    }
    return true;
}

static void
test_known(void)
{
    /* date -u -d '2000-10-10 13:55:36 -0700' +%s = 971211336 (the nginx example) */
    CHECK(parses_off("10/Oct/2000:13:55:36 -0700", "clf", 0, 971211336 * S, -7 * 3600));
    CHECK(
        parses_off("10/Oct/2000:13:55:36 -0700", "%d/%b/%Y:%H:%M:%S %z", 0, 971211336 * S, -25200));
    CHECK(parses("1970-01-01T00:00:00Z", "rfc3339", 0));
    CHECK(parses("2024-03-10T01:02:03Z", "rfc3339", 1710032523 * S));
    /* date -u -d '2024-03-10 01:02:03 +0530' +%s = 1710012723 */
    CHECK(parses_off("2024-03-10T01:02:03+05:30", "rfc3339", 0, 1710012723 * S, 19800));
    CHECK(parses_off("2024-03-10 01:02:03+0530", "iso8601", 0, 1710012723 * S, 19800));
    CHECK(parses_off("2024-03-10t01:02:03z", "rfc3339", 3600, 1710032523 * S, 0));
    CHECK(parses("1969-12-31T23:59:59Z", "rfc3339", -1 * S));
    CHECK(parses("1969-07-20 20:17:40", "%Y-%m-%d %H:%M:%S", -14182940 * S));
    CHECK(parses("1900-01-01", "%F", -2208988800 * S));
    CHECK(parses("1800-01-01", "%F", -5364662400 * S));
    CHECK(parses("2038-01-19T03:14:08Z", "rfc3339", 2147483648LL * S));
    CHECK(parses("2100-03-01", "%F", 4107542400LL * S));
    CHECK(parses("1999-12-31 23:59:59", "%F %T", 946684799 * S));
    CHECK(parses("1999-01-05 08:09:07", "%F %T", 915523747 * S));
    CHECK(parses("2023-11-14 22:13:20", "%F %T", 1700000000 * S));
    CHECK(parses("1969-12-30 23:59:59", "%F %T", -86401 * S));
    /* no zone in the text: default_off applies (2024-03-10T01:02:03 at +05:30) */
    CHECK(parses_off("2024-03-10T01:02:03", "rfc3339", 19800, 1710012723 * S, 19800));
    CHECK(parses_off("2024-03-10 01:02:03", "%F %T", 19800, 1710012723 * S, 19800));
    CHECK(parses_off("2024-03-10 01:02:03 Z", "%F %T %z", 19800, 1710032523 * S, 0));
    CHECK(parses_off("2024-03-10 01:02:03 +05", "%F %T %z", 0, 1710014523 * S, 18000));
    CHECK(parses_off("2024-03-10 01:02:03 -00:30", "%F %T %:z", 0, 1710034323 * S, -1800));
    CHECK(parses_off("2024-03-10 01:02:03 GMT", "%F %T %Z", 60, 1710032523 * S, 0));
    CHECK(parses_off("2024-03-10 01:02:03 utc", "%F %T %Z", 60, 1710032523 * S, 0));
    CHECK(parses_off("2024-03-10 01:02:03 +05:30", "%F %T %Z", 0, 1710012723 * S, 19800));
}

static void
test_leap(void)
{
    /* date -u -d '2000-02-29' +%s = 951782400 */
    CHECK(parses("2000-02-29", "%F", 951782400 * S));
    /* python: datetime(2024, 2, 29, 23, 59, 59) -> 1709251199 */
    CHECK(parses("2024-02-29 23:59:59", "%F %T", 1709251199 * S));
    CHECK(parses("2000-03-01", "%F", 951868800 * S));
    CHECK(fails("1900-02-29", "%F", "day 29 out of range for February 1900", 8));
    CHECK(fails("2023-02-29", "%F", "day 29 out of range for February 2023", 8));
    CHECK(fails("2100-02-29T00:00:00Z", "rfc3339", "day 29 out of range for February 2100", 8));
    CHECK(fails("2024-02-30", "%F", "day 30 out of range for February 2024", 8));
    CHECK(fails("2024-04-31", "%F", "day 31 out of range for April", 8));
    CHECK(fails("31 Jun 2024", "%d %b %Y", "day 31 out of range for June", 0));
    CHECK(parses("2024-12-31", "%F", 1735603200LL * S));
    /* day of year: 2024-12-31 is day 366, 2023-03-01 day 60 (python timetuple().tm_yday) */
    CHECK(parses("2024 366", "%Y %j", 1735603200LL * S));
    CHECK(parses("2023 060", "%Y %j", 1677628800LL * S));
    CHECK(fails("2023 366", "%Y %j", "day of year 366 out of range for 2023", 5));
    CHECK(parses("2024-12-31 366", "%F %j", 1735603200LL * S));
    CHECK(fails("2024-12-30 366", "%F %j", "day of year 366 does not match 2024-12-30", 11));
    /* a leap second reads as the last nanosecond of :59 (python: 2016-12-31T23:59:59 ->
     * 1483228799) */
    CHECK(parses("2016-12-31T23:59:60Z", "rfc3339", 1483228799 * S + 999999999));
    CHECK(parses("2016-12-31T23:59:60.5Z", "rfc3339", 1483228799 * S + 999999999));
}

static void
test_format(void)
{
    int64_t t = 1710028800LL * S + 123456789; /* Sun 2024-03-10 00:00:00.123456789Z */
    CHECK(formats(t, 0, "%Y-%m-%d %H:%M:%S", "2024-03-10 00:00:00"));
    CHECK(formats(t, 0, "%a %A %b %h %B %j %e %I %p", "Sun Sunday Mar Mar March 070 10 12 AM"));
    CHECK(formats(t, 0, "%D %R %y %T %F", "03/10/24 00:00 24 00:00:00 2024-03-10"));
    CHECK(formats(t, 0, "%f|%1f|%3f|%6f|%9f", "123456|1|123|123456|123456789"));
    CHECK(formats(t, 0, "%s %z %:z %Ez %Z", "1710028800 +0000 +00:00 +00:00 UTC"));
    CHECK(formats(t, 19800, "%H:%M %I %p %z %:z %Z", "05:30 05 AM +0530 +05:30 +05:30"));
    CHECK(formats(t, -25200, "%F %T %z %Z", "2024-03-09 17:00:00 -0700 -07:00"));
    CHECK(formats(t, 0, "%n%t%%|%Q|%:x|%", "\n\t%|%Q|%:x|%"));
    CHECK(formats(t, 0, "x%5f", "x12345"));
    CHECK(formats(1710072306LL * S, 0, "%I:%M:%S %p", "12:05:06 PM"));
    CHECK(formats(1710079506LL * S, 0, "%I %p %l", "02 PM %l"));
    CHECK(formats(0, 0, "%a %A %j", "Thu Thursday 001"));
    CHECK(formats(1710028800LL * S + 5 * 86400 * S, 0, "%e|%d", "15|15"));
    CHECK(formats(1709251199LL * S, 0, "%e|%d|%j", "29|29|060"));
    /* named formats */
    CHECK(formats(971211336 * S, -25200, "clf", "10/Oct/2000:13:55:36 -0700"));
    CHECK(formats(1709251199LL * S - 20 * 86400 * S, 0, "rfc3164", "Feb  9 23:59:59"));
    CHECK(formats(t, 0, "rfc3339", "2024-03-10T00:00:00.123456789Z"));
    CHECK(formats(t, 0, "iso8601", "2024-03-10T00:00:00.123456789Z"));
    CHECK(formats(t, 0, "epoch", "1710028800.123456789"));
    CHECK(formats(t, 0, "epoch_s", "1710028800.123456789"));
    CHECK(formats(t, 0, "epoch_ms", "1710028800123"));
    CHECK(formats(t, 0, "epoch_us", "1710028800123456"));
    CHECK(formats(t, 0, "epoch_ns", "1710028800123456789"));
    CHECK(formats(-1500000000, 0, "epoch", "-1.500"));
    CHECK(formats(-1500000000, 0, "epoch_ms", "-1500"));
    CHECK(formats(-1, 0, "epoch_ms", "-1"));
    CHECK(formats(-1, 0, "epoch_us", "-1"));
    CHECK(formats(-1, 0, "epoch", "-0.000000001"));
    CHECK(formats(-S, 0, "epoch", "-1"));
    CHECK(formats(-1, 0, "%s.%9f", "-1.999999999")); /* as `date -d @-0.000000001 +%s.%N` */
    CHECK(formats(-1, 0, "%F %T.%3f", "1969-12-31 23:59:59.999"));
    CHECK(formats(INT64_MIN, 0, "epoch_ns", "-9223372036854775808"));
    CHECK(formats(INT64_MIN, 0, "epoch", "-9223372036.854775808"));
    /* offsets with seconds (local mean time of IANA zones) keep them, as Python writes them;
     * beyond +-23:59:59 they become UTC */
    CHECK(formats(0, 3600 + 59, "%T %z", "01:00:59 +010059"));
    CHECK(formats(0, -(1172), "%T %:z", "23:40:28 -00:19:32"));
    CHECK(formats(0, 1172, "rfc3339", "1970-01-01T00:19:32+00:19:32"));
    CHECK(formats(0, 86400, "%T %z", "00:00:00 +0000"));
    CHECK(formats(0, -86400, "%T %Z", "00:00:00 UTC"));
}

static void
test_rfc3339(void)
{
    CHECK(rfc3339(0, 0, "1970-01-01T00:00:00Z"));
    CHECK(rfc3339(1710028800LL * S + 100000000, 0, "2024-03-10T00:00:00.100Z"));
    CHECK(rfc3339(1710028800LL * S + 120000, 0, "2024-03-10T00:00:00.000120Z"));
    CHECK(rfc3339(1710028800LL * S + 1, 0, "2024-03-10T00:00:00.000000001Z"));
    CHECK(rfc3339(1710012723LL * S, 19800, "2024-03-10T01:02:03+05:30"));
    CHECK(rfc3339(1710012723LL * S, -34200, "2024-03-09T10:02:03-09:30"));
    CHECK(rfc3339(-1, 0, "1969-12-31T23:59:59.999999999Z"));
    /* the limits of int64 nanoseconds (python: epoch + timedelta(microseconds=+-2**63 // 1000)) */
    CHECK(rfc3339(INT64_MIN, 0, "1677-09-21T00:12:43.145224192Z"));
    CHECK(rfc3339(INT64_MAX, 0, "2262-04-11T23:47:16.854775807Z"));
    CHECK(rfc3339(INT64_MAX, 60, "2262-04-11T23:48:16.854775807+00:01"));
    CHECK(rfc3339(INT64_MIN, -60, "1677-09-21T00:11:43.145224192-00:01"));
}

static void
test_fraction(void)
{
    const char *in[9] = { "1",      "12",      "123",      "1234",     "12345",
                          "123456", "1234567", "12345678", "123456789" };
    const int64_t want[9] = { 100000000, 120000000, 123000000, 123400000, 123450000,
                              123456000, 123456700, 123456780, 123456789 };
    for (int i = 0; i < 9; i++) {
        char s[64];
        snprintf(s, sizeof s, "2024-03-10 00:00:00.%s", in[i]);
        CHECK(parses(s, "%F %T.%f", 1710028800LL * S + want[i]));
        snprintf(s, sizeof s, "2024-03-10T00:00:00.%sZ", in[i]);
        CHECK(parses(s, "rfc3339", 1710028800LL * S + want[i]));
        snprintf(s, sizeof s, "1710028800.%s", in[i]);
        CHECK(parses(s, "epoch", 1710028800LL * S + want[i]));
    }
    CHECK(parses("2024-03-10 00:00:00,5", "%F %T,%f", 1710028800LL * S + 500000000));
    CHECK(parses("2024-03-10T00:00:00,5Z", "rfc3339", 1710028800LL * S + 500000000));
    /* ".%f" may be absent from the input */
    CHECK(parses("2024-03-10 00:00:00", "%F %T.%f", 1710028800LL * S));
    CHECK(parses("2024-03-10 00:00:00Z", "%F %T.%3f%z", 1710028800LL * S));
    CHECK(parses("2024-03-10 00:00:00.250Z", "%F %T.%3f%z", 1710028800LL * S + 250000000));
    CHECK(fails("2024-03-10 00:00:00.25Z", "%F %T.%3f%z",
                "expected 3 fraction digits for %3f at byte 21, found '25Z'", 20));
    CHECK(fails("2024-03-10 00:00:00.1234567890", "%F %T.%f",
                "expected at most 9 fraction digits for %f at byte 21", 29));
    CHECK(fails("2024-03-10 00:00:00.", "%F %T.%f", "input ends before %f", 20));
    CHECK(fails("2024-03-10 00:00:00.x", "%F %T.%f",
                "expected fraction digits for %f at byte 21, found 'x'", 20));
    CHECK(fails("2024-03-10T00:00:00.Z", "rfc3339",
                "expected fraction digits for the fraction at byte 21, found 'Z'", 20));
}

static void
test_epoch(void)
{
    CHECK(parses("1700000000", "epoch", 1700000000LL * S));
    CHECK(parses("1700000000.123", "epoch_s", 1700000000LL * S + 123000000));
    CHECK(parses("-1", "epoch", -S));
    CHECK(parses("-1.5", "epoch", -1500000000));
    CHECK(parses("-0.5", "epoch", -500000000));
    CHECK(parses("1700000000123", "epoch_ms", 1700000000123LL * 1000000));
    CHECK(parses("1700000000123.456", "epoch_ms", 1700000000123456000LL));
    CHECK(parses("-1500", "epoch_ms", -1500000000));
    CHECK(parses("1700000000123456", "epoch_us", 1700000000123456000LL));
    CHECK(parses("1700000000123456.7", "epoch_us", 1700000000123456700LL));
    CHECK(parses("1700000000123456789", "epoch_ns", 1700000000123456789LL));
    CHECK(parses("9223372036854775807", "epoch_ns", INT64_MAX));
    CHECK(parses("-9223372036854775808", "epoch_ns", INT64_MIN));
    CHECK(parses("9223372036.854775807", "epoch", INT64_MAX));
    CHECK(parses("-9223372036.854775808", "epoch", INT64_MIN));
    CHECK(fails("9223372036854775808", "epoch_ns",
                "epoch value out of range for epoch_ns (1677-09-21 to 2262-04-11)", 0));
    CHECK(fails("-9223372036854775809", "epoch_ns",
                "epoch value out of range for epoch_ns (1677-09-21 to 2262-04-11)", 0));
    CHECK(fails("9223372036.854775808", "epoch",
                "epoch value out of range for epoch (1677-09-21 to 2262-04-11)", 0));
    CHECK(fails("99999999999999999999999999", "epoch_ms",
                "epoch value out of range for epoch_ms (1677-09-21 to 2262-04-11)", 0));
    CHECK(fails("1.5", "epoch_ns", "unexpected text '.5' after the time", 1));
    CHECK(fails("1.1234567", "epoch_ms",
                "expected at most 6 fraction digits for epoch_ms at byte 3", 8));
    CHECK(fails("1.", "epoch", "input ends before epoch", 2));
    CHECK(fails("x", "epoch", "expected digits for epoch at byte 1, found 'x'", 0));
    CHECK(fails("", "epoch_ms", "input ends before epoch_ms", 0));
    CHECK(fails("- 1", "epoch", "expected digits for epoch at byte 2, found ' 1'", 1));
    /* %s: floor-based with %f, like `date +%s.%N` */
    CHECK(parses("1700000000", "%s", 1700000000LL * S));
    CHECK(parses("-1", "%s", -S));
    CHECK(parses("-2.5", "%s.%f", -1500000000));
    CHECK(parses("-1.999999999", "%s.%9f", -1));
    CHECK(parses_off("1700000000 +0100", "%s %z", 0, 1700000000LL * S, 3600));
    CHECK(parses("1700000000 2001-01-01", "%s %F", 1700000000LL * S));
    CHECK(parses("9223372036.854775807", "%s.%f", INT64_MAX));
    CHECK(parses("-9223372037.145224192", "%s.%f", INT64_MIN));
    CHECK(fails("-9223372037.145224191", "%s.%f",
                "epoch value out of range (1677-09-21 to 2262-04-11)", 0));
    CHECK(fails("9223372037", "%s", "epoch value out of range (1677-09-21 to 2262-04-11)", 0));
    CHECK(fails("123456789012345678901234", "%s",
                "epoch value out of range for %s (1677-09-21 to 2262-04-11)", 0));
    CHECK(fails("-", "%s", "expected an integer for %s at byte 1, found '-'", 0));
}

static void
test_named(void)
{
    /* rfc3164 has no year: the latest year that puts the stamp at most a day after REF
     * (2024-03-10) wins; `date -u -d '2023-06-15 12:00:00' +%s` and so on */
    CHECK(parses("Jun 15 12:00:00", "rfc3164", 1686830400LL * S)); /* 2023: 97 days ahead */
    CHECK(parses("Apr  9 12:00:00", "rfc3164", 1681041600LL * S)); /* 2023: 30.5 days ahead */
    CHECK(parses("Apr 11 12:00:00", "rfc3164", 1681214400LL * S)); /* 2023: 32.5 days ahead */
    CHECK(parses("Mar 11 00:00:00", "rfc3164", 1710115200LL * S)); /* 2024: a day ahead */
    CHECK(parses("Mar 11 00:00:01", "rfc3164", 1678492801LL * S)); /* 2023: a second more */
    CHECK(parses("Mar 10 01:02:03", "rfc3164", 1710032523LL * S));
    CHECK(parses("Mar  9 23:59:59", "rfc3164", 1710028799LL * S));
    CHECK(parses("Dec 31 23:59:59", "rfc3164", 1704067199LL * S));        /* 2023 */
    CHECK(parses("Jan  1 00:00:01", "rfc3164", 1704067201LL * S));        /* 2024 */
    CHECK(parses("Oct 10 13:55:36", "%b %d %H:%M:%S", 1696946136LL * S)); /* 2023 */
    CHECK(parses("Feb 29 00:00:00", "rfc3164", 1709164800LL * S));        /* 2024 */
    CHECK(parses("Mar 10 05:30:00", "rfc3164", 1710048600LL * S));
    CHECK(parses_off("Mar 10 05:30:00", "rfc3164", 19800, 1710028800LL * S, 19800));
    CHECK(parses("Mar 10 01:02:03", "%b %e %T", 1710032523LL * S));
    CHECK(parses("Mar 10 01:02:03", "%b%e %T", 1710032523LL * S));
    CHECK(parses("mar 9 23:59:59", "rfc3164", 1710028799LL * S));
    CHECK(parses("Mar 9 23:59:59", "RFC3164", 1710028799LL * S));
    CHECK(parses("2024-03-10T00:00:00Z", "ISO8601", 1710028800LL * S));
    CHECK(parses("1710028800", "EPOCH", 1710028800LL * S));
    /* the reference decides the year: Dec 31 read on 2025-01-01 is 2024; Jan 1 read on
     * 2024-12-31 is 2025 */
    int64_t ns = 0;
    int32_t off = 0;
    CHECK(lw_time_parse_ref("Dec 31 12:00:00", 15, "rfc3164", 7, 0, 1735689605LL * S, &ns, &off,
                            NULL, 0, NULL) == 0 &&
          ns == 1735646400LL * S);
    CHECK(lw_time_parse_ref("Jan  1 00:00:05", 15, "rfc3164", 7, 0, 1735646400LL * S, &ns, &off,
                            NULL, 0, NULL) == 0 &&
          ns == 1735689605LL * S);
    /* Feb 29 read in 2026 is the latest leap year's (2024); Feb 30 fits no year */
    char err[200] = "";
    CHECK(lw_time_parse_ref("Feb 29 00:00:00", 15, "rfc3164", 7, 0, 1767225600LL * S, &ns, &off,
                            NULL, 0, NULL) == 0 &&
          ns == 1709164800LL * S);
    CHECK(lw_time_parse_ref("Feb 30 00:00:00", 15, "rfc3164", 7, 0, 1767225600LL * S, &ns, &off,
                            err, sizeof err, NULL) == -1 &&
          strcmp(err, "day 30 out of range for February 2026") == 0);
    /* lw_time_parse without a reference uses the current year, and rfc3164 keeps the day */
    CHECK(lw_time_parse("Jun 15 12:00:00", 15, "rfc3164", 7, 0, &ns, &off, NULL, 0, NULL) == 0);
    struct lw_buf b;
    lw_buf_init(&b);
    lw_time_format(&b, ns, 0, "%m-%d %T", 8);
    CHECK(b.len == 14 && memcmp(b.p, "06-15 12:00:00", 14) == 0);
    lw_buf_fini(&b);
    /* clf */
    CHECK(parses_off("01/Jan/2024:00:00:01 +0000", "clf", 3600, 1704067201LL * S, 0));
    CHECK(fails("10/Oct/2000:13:55:36", "clf", "input ends before %z", 20));
    CHECK(fails("10/Oct/2000:13:55:36 PDT", "clf",
                "expected a zone like +hh:mm for %z at byte 22, found 'PDT'", 21));
    /* rfc3339 needs 2 digits per field and a time */
    CHECK(fails("2024-3-10T00:00:00Z", "rfc3339",
                "expected 2 digits for the month at byte 6, found '3-10T00:'", 5));
    CHECK(fails("2024-03-10", "rfc3339", "input ends before the hour", 10));
    CHECK(fails("2024-03-10_00:00:00", "rfc3339",
                "expected 'T' or a space at byte 11, found '_00:00:0'", 10));
    CHECK(fails("2024-03-10T00:00", "rfc3339", "input ends before the second", 16));
    CHECK(fails("2024-03-10T00:00:00+25:00", "rfc3339",
                "zone offset '+25:00' out of range, expected at most 23:59", 19));
    CHECK(fails("2024-03-10T00:00:00 Z", "rfc3339", "unexpected text ' Z' after the time", 19));
    CHECK(fails("2024-03-10T24:00:00Z", "rfc3339", "hour 24 out of range, expected 0-23", 11));
}

static void
test_directives(void)
{
    int64_t t = 1710032523LL * S; /* 2024-03-10T01:02:03Z */
    CHECK(parses("24-3-10 1:2:3", "%y-%m-%d %H:%M:%S", t));
    CHECK(parses("20240310010203", "%Y%m%d%H%M%S", t));
    CHECK(parses("Sun, 10 Mar 2024 01:02:03 GMT", "%a, %d %b %Y %T %Z", t));
    CHECK(parses("SUNDAY 10 MARCH 2024 01:02:03", "%A %d %B %Y %T", t));
    CHECK(parses("Sunday 10 Mar 2024 01:02:03", "%a %d %B %Y %T", t));
    CHECK(parses("10 September 2024", "%d %b %Y", 1725926400LL * S));
    CHECK(parses("10 sep 2024", "%d %h %Y", 1725926400LL * S));
    CHECK(parses("03/10/24 01:02", "%D %R", t - 3 * S));
    CHECK(parses("1:02:03 am 2024-03-10", "%I:%M:%S %p %F", t));
    CHECK(parses("01:02:03 PM 2024-03-10", "%I:%M:%S %p %F", t + 12 * 3600 * S));
    CHECK(parses("12:05:06 AM 2024-03-10", "%I:%M:%S %p %F", 1710029106LL * S));
    CHECK(parses("12:05:06 PM 2024-03-10", "%I:%M:%S %p %F", 1710072306LL * S));
    CHECK(parses("12:05:06 2024-03-10", "%I:%M:%S %F", 1710029106LL * S));
    CHECK(parses("13:05:06 PM 2024-03-10", "%H:%M:%S %p %F", 1710075906LL * S));
    CHECK(parses("2024\n\t 03 \t10", "%Y%n%m%t%d", 1710028800LL * S));
    CHECK(parses("100% 2024", "100%% %Y", 1704067200LL * S));
    CHECK(parses("2024-03-10   01:02:03", "%F %T", t));
    CHECK(parses("2024-03-10\t01:02:03", "%F  %T", t));
    CHECK(parses("10:00", "%H:%M", 36000 * S)); /* no date: 1970-01-01 */
    CHECK(parses("2024", "%Y", 1704067200LL * S));
    CHECK(fails("69 68", "%y", "unexpected text ' 68' after the time", 2));
    CHECK(parses("69", "%y", -31536000LL * S));
    CHECK(parses("68-12-31", "%y-%m-%d", 3124137600LL * S));
    CHECK(parses("Mar  1 2024", "%b %e %Y", 1709251200LL * S));
    CHECK(parses("Mar 1 2024", "%b %e %Y", 1709251200LL * S));
    CHECK(parses("Mar01 2024", "%b%e %Y", 1709251200LL * S));
    CHECK(parses("Mar 1 2024", "%b%e %Y", 1709251200LL * S));
}

static void
test_round_trip(void)
{
    /* every directive survives format then parse */
    static const char *const fmts[] = {
        "%Y-%m-%d %H:%M:%S.%9f %z",
        "%F %T.%9f %z",
        "%F %T.%9f%:z",
        "%F %T.%9f %Ez",
        "%a %d %b %Y %T.%9f %Z",
        "%A, %d %B %Y %I:%M:%S.%9f %p %z",
        "%e/%h/%Y %T.%9f %z",
        "%Y %j %H %M %S.%9f %z",
        "%s.%9f %z",
        "%Y%n%m%t%d %R:%S.%9f %z",
        "%%%F %T.%9f %Z",
        "rfc3339",
        "iso8601",
        "epoch",
        "epoch_ns",
    };
    const int64_t stamps[] = { 0,
                               -1,
                               1,
                               951782400 * S + 5,
                               1710028800LL * S + 123456789,
                               -14182940 * S + 42,
                               INT64_MAX - 86400 * S,
                               INT64_MIN + 86400 * S,
                               INT64_MIN,
                               INT64_MAX };
    const int32_t offs[] = { 0, 19800, -25200, -1800, 86340, -86340 };
    for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
        for (size_t i = 0; i < sizeof stamps / sizeof stamps[0]; i++) {
            for (size_t o = 0; o < sizeof offs / sizeof offs[0]; o++) {
                CHECK(round_trip(stamps[i], offs[o], fmts[f]));
            }
        }
    }
    /* %y, %D and second-precision forms round-trip for whole seconds in 1969-2068 */
    static const char *const coarse[] = {
        "%Y-%m-%d %H:%M:%S %z", "%D %T %z",     "%y%m%d %H%M%S %z", "clf", "epoch_ms", "epoch_us",
        "%F %T.%3f %z",         "%F %T.%6f %z", "%F %T.%f%:z"
    };
    const int64_t secs[] = { 0, 951782400 * S, 1710028800LL * S, 3124137600LL * S, -1 * S };
    for (size_t f = 0; f < sizeof coarse / sizeof coarse[0]; f++) {
        for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
            CHECK(round_trip(secs[i], 19800, coarse[f]));
            CHECK(round_trip(secs[i], 0, coarse[f]));
        }
    }
    CHECK(round_trip(1710028800LL * S, 0, "rfc3164"));
    CHECK(round_trip(1709251199LL * S - 20 * 86400 * S, 0, "rfc3164"));
}

static void
test_errors(void)
{
    CHECK(fails("2024-x1-10", "%Y-%m-%d", "expected 2 digits for %m at byte 6, found 'x1-10'", 5));
    CHECK(fails("2024-0x-10", "%Y-%m-%d", "month 0 out of range, expected 1-12", 5));
    CHECK(fails("2024-01-x", "%F", "expected 2 digits for %d at byte 9, found 'x'", 8));
    CHECK(fails("24-01-01", "%Y-%m-%d", "expected 4 digits for %Y at byte 1, found '24-01-01'", 0));
    CHECK(fails("2024-01-01 ", "%F %H", "input ends before %H", 11));
    CHECK(fails("2024-01-01", "%F %H", "input ends before %H", 10));
    CHECK(fails("2024-01-01", "%F:", "input ends before ':'", 10));
    CHECK(parses("2024-01-01", "%F ", 1704067200LL * S)); /* a space: zero or more blanks */
    CHECK(parses("2024-01-0110:00", "%F %R", 1704103200LL * S));
    CHECK(parses("2024-01-01 \t 10:00", "%F %R", 1704103200LL * S));
    CHECK(fails("202", "%Y", "input ends inside %Y", 0));
    CHECK(fails("2024-01-01abc", "%F", "unexpected text 'abc' after the time", 10));
    CHECK(fails("2024-01-01 12:00:00 and then some more", "%F %T",
                "unexpected text ' and then some m' after the time", 19));
    CHECK(fails("2024/01/01", "%F", "expected '-' at byte 5, found '/01/01'", 4));
    CHECK(fails("2024-01-01T10", "%F %H", "expected 2 digits for %H at byte 11, found 'T10'", 10));
    CHECK(fails("2024-13-01", "%F", "month 13 out of range, expected 1-12", 5));
    CHECK(fails("2024-00-01", "%F", "month 0 out of range, expected 1-12", 5));
    CHECK(fails("2024-01-32", "%F", "day 32 out of range, expected 1-31", 8));
    CHECK(fails("2024-01-00", "%F", "day 0 out of range, expected 1-31", 8));
    CHECK(fails("24:00:00", "%T", "hour 24 out of range, expected 0-23", 0));
    CHECK(fails("23:60:00", "%T", "minute 60 out of range, expected 0-59", 3));
    CHECK(fails("23:59:61", "%T", "second 61 out of range, expected 0-60", 6));
    CHECK(fails("13 PM", "%I %p", "hour 13 out of range, expected 1-12", 0));
    CHECK(fails("00 PM", "%I %p", "hour 0 out of range, expected 1-12", 0));
    CHECK(fails("2024 367", "%Y %j", "day of year 367 out of range, expected 1-366", 5));
    CHECK(fails("2024 000", "%Y %j", "day of year 0 out of range, expected 1-366", 5));
    CHECK(
        fails("10 Foo 2024", "%d %b %Y", "expected a month name for %b at byte 4, found 'Foo'", 3));
    CHECK(fails("Sonday", "%A", "expected a weekday name for %A at byte 1, found 'Sonday'", 0));
    CHECK(fails("10 Sept 2024", "%d %b %Y", "expected 4 digits for %Y at byte 7, found 't'", 6));
    CHECK(fails("Ma 2024", "%b %Y", "expected a month name for %b at byte 1, found 'Ma'", 0));
    CHECK(fails("Ju", "%b", "expected a month name for %b at byte 1, found 'Ju'", 0));
    CHECK(parses("wednesDAY 2024", "%a %Y", 1704067200LL * S));
    CHECK(parses("Wed 2024", "%A %Y", 1704067200LL * S));
    CHECK(fails("01 XM", "%I %p", "expected AM or PM for %p at byte 4, found 'XM'", 3));
    CHECK(
        fails("01:00 +5", "%R %z", "expected a zone like +hh:mm for %z at byte 7, found '+5'", 6));
    CHECK(fails("01:00 EST", "%R %Z",
                "expected a zone like UTC or +hh:mm for %Z at byte 7, found 'EST'", 6));
    CHECK(fails("01:00 +24", "%R %z", "zone offset '+24' out of range, expected at most 23:59", 6));
    CHECK(fails("01:00 +05:60", "%R %z",
                "zone offset '+05:60' out of range, expected at most 23:59", 6));
    CHECK(fails("01:00 +05:", "%R %z", "unexpected text ':' after the time", 9));
    CHECK(fails("2024x", "%Y%t", "expected whitespace for %t at byte 5, found 'x'", 4));
    CHECK(fails("2024 5", "%Y %%", "expected '%' for %% at byte 6, found '5'", 5));
    CHECK(fails("2024", "%Y %Q", "unknown directive '%Q' in the format", 4));
    CHECK(fails("2024 x", "%Y %Q", "unknown directive '%Q' in the format", 5));
    CHECK(fails("\x01\xc3\xa9t\xc3\xa9", "%Y",
                "expected 4 digits for %Y at byte 1, found '\\x01\xc3\xa9t\xc3\xa9'", 0));
    CHECK(fails("1500-01-01", "%F",
                "date 1500-01-01 is outside the range of timestamps (1677-09-21 to 2262-04-11)",
                0));
    CHECK(fails("2262-04-11T23:47:17Z", "rfc3339",
                "date 2262-04-11 is outside the range of timestamps (1677-09-21 to 2262-04-11)",
                0));
    CHECK(fails("1677-09-21T00:12:43.145224191Z", "rfc3339",
                "date 1677-09-21 is outside the range of timestamps (1677-09-21 to 2262-04-11)",
                0));
    CHECK(parses("1677-09-21T00:12:43.145224192Z", "rfc3339", INT64_MIN));
    CHECK(parses("2262-04-11T23:47:16.854775807Z", "rfc3339", INT64_MAX));
    CHECK(parses_off("2262-04-12T00:47:16.854775807+01:00", "rfc3339", 0, INT64_MAX, 3600));
    CHECK(fails("0000-01-01", "%F",
                "date 0000-01-01 is outside the range of timestamps (1677-09-21 to 2262-04-11)",
                0));
    CHECK(fails("9999-12-31", "%F",
                "date 9999-12-31 is outside the range of timestamps (1677-09-21 to 2262-04-11)",
                0));
    /* err may be NULL; a short err buffer is cut but stays a string */
    int64_t ns = 0;
    int32_t off = 0;
    CHECK(lw_time_parse("x", 1, "%Y", 2, 0, &ns, &off, NULL, 0, NULL) == -1);
    char small[8];
    CHECK(lw_time_parse("x", 1, "%Y", 2, 0, &ns, &off, small, sizeof small, NULL) == -1 &&
          strcmp(small, "expecte") == 0);
}

static void
test_zone(void)
{
    CHECK(zone_is("UTC", 0));
    CHECK(zone_is("utc", 0));
    CHECK(zone_is("GMT", 0));
    CHECK(zone_is("Z", 0));
    CHECK(zone_is("z", 0));
    CHECK(zone_is("+05:30", 19800));
    CHECK(zone_is("+0530", 19800));
    CHECK(zone_is("-07", -25200));
    CHECK(zone_is("-00:30", -1800));
    CHECK(zone_is("+23:59", 86340));
    /* names are tz.c's (lw_tz_load); lw_time_zone reads fixed zones only */
    CHECK(zone_fails("Europe/Paris", "bad time zone 'Europe/Paris', expected UTC or an offset "
                                     "like +02:00"));
    CHECK(zone_fails("", "empty time zone, expected UTC or an offset like +02:00"));
    CHECK(zone_fails("+24:00", "time zone offset '+24:00' out of range, expected at most 23:59"));
    CHECK(zone_fails("+05:3", "bad time zone '+05:3', expected UTC or an offset like +02:00"));
    CHECK(zone_fails("5", "bad time zone '5', expected UTC or an offset like +02:00"));
    CHECK(zone_fails("+05:30 ", "bad time zone '+05:30 ', expected UTC or an offset like +02:00"));
}

static void
test_fmt_check(void)
{
    char err[200] = "";
    size_t at = 0;
    CHECK(lw_time_fmt_check("%F %T.%3f %:z %Ez %%", 20, err, sizeof err, &at) == 0);
    CHECK(lw_time_fmt_check("epoch_ms", 8, err, sizeof err, &at) == 0);
    CHECK(lw_time_fmt_check("%F %Q", 5, err, sizeof err, &at) == -1 && at == 3 &&
          strcmp(err, "unknown directive '%Q' at byte 4 of the format") == 0);
    CHECK(lw_time_fmt_check("%:x", 3, err, sizeof err, &at) == -1 && at == 0 &&
          strcmp(err, "unknown directive '%:' at byte 1 of the format") == 0);
    CHECK(lw_time_fmt_check("%F %", 4, err, sizeof err, &at) == -1 && at == 3 &&
          strcmp(err, "format ends with a lone '%'") == 0);
    /* names in any case; a format with no directive that is not a name is refused whole */
    CHECK(lw_time_fmt_check("ISO8601", 7, err, sizeof err, &at) == 0);
    CHECK(lw_time_fmt_check("Epoch_NS", 8, err, sizeof err, &at) == 0);
    at = 77;
    CHECK(lw_time_fmt_check("rfc3399", 7, err, sizeof err, &at) == -1 && at == 77 &&
          strcmp(err, "unknown time format 'rfc3399' (did you mean rfc3339?); a strftime format "
                      "has % directives") == 0);
    CHECK(lw_time_fmt_check("CLF ", 4, err, sizeof err, &at) == -1 &&
          strstr(err, "'CLF ' (did you mean clf?)") != NULL);
    CHECK(lw_time_fmt_check("unix_ms", 7, err, sizeof err, &at) == -1 &&
          strstr(err, "(did you mean epoch_ms?)") != NULL);
    CHECK(lw_time_fmt_check("epoch_millis", 12, err, sizeof err, &at) == -1 &&
          strstr(err, "(did you mean epoch_ms?)") != NULL);
    CHECK(lw_time_fmt_check("T", 1, err, sizeof err, &at) == -1 &&
          strcmp(err, "unknown time format 'T' (named formats: rfc3339 iso8601 epoch epoch_s "
                      "epoch_ms epoch_us epoch_ns rfc3164 clf); a strftime format has % "
                      "directives") == 0);
    CHECK(lw_time_fmt_check("", 0, err, sizeof err, &at) == -1 &&
          strncmp(err, "empty time format (named formats: rfc3339 ", 42) == 0);
    CHECK(lw_time_fmt_check("ep\0ch", 5, err, sizeof err, &at) == -1);
}

/* rfc3339's fast path (fast_rfc3339, for the format written "rfc3339" or "iso8601") against
 * the general reader (the same name in capitals): stamps of the usual shape with random
 * fields and random bytes changed give the same time, offset, message and byte. */
static void
test_rfc3339_fast(void)
{
    static const char shapes[][40] = {
        "2026-03-01T00:00:04Z",
        "2024-02-29t23:59:60z",
        "1999-12-31 23:59:59+05:30",
        "2000-01-01T00:00:00.5-00:30",
        "2262-04-11T23:47:16.854775807Z",
        "1677-09-21T00:12:44Z",
        "2023-02-29T01:02:03,123456789+23:59",
    };
    static const char alphabet[] = "0123456789-:T tZz+-.,x";
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int diff = 0;
    for (int n = 0; n < 200000; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char s[48];
        const char *sh = shapes[x % (sizeof shapes / sizeof shapes[0])];
        size_t len = strlen(sh);
        memcpy(s, sh, len + 1);
        for (int k = (int)(x >> 8 & 3); k > 0; k--) { /* up to 3 bytes changed */
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            s[x % len] = alphabet[(x >> 16) % (sizeof alphabet - 1)];
        }
        if ((x >> 24 & 7) == 0) len -= (x >> 28) % 4; /* cut short */
        int64_t ns[2] = { 7, 7 };
        int32_t off[2] = { 7, 7 };
        char err[2][200] = { "", "" };
        size_t at[2] = { 999, 999 };
        int rc[2];
        for (int i = 0; i < 2; i++) {
            rc[i] = lw_time_parse_ref(s, len, i ? "RFC3339" : "rfc3339", 7, 3600, REF, &ns[i],
                                      &off[i], err[i], sizeof err[i], &at[i]);
        }
        if (rc[0] != rc[1] || ns[0] != ns[1] || off[0] != off[1] || strcmp(err[0], err[1]) != 0 ||
            (rc[0] != 0 && at[0] != at[1])) {
            if (diff++ < 5)
                fprintf(stderr,
                        "  '%.*s': fast %d %lld %+d \"%s\" %zu, general %d %lld %+d \"%s\" %zu\n",
                        (int)len, s, rc[0], (long long)ns[0], off[0], err[0], at[0], rc[1],
                        (long long)ns[1], off[1], err[1], at[1]);
        }
    }
    CHECK(diff == 0);
    CHECK(parses_off("1999-12-31 23:59:59+05:30", "iso8601", 0, 946664999 * S, 19800));
    CHECK(parses_off("2026-03-01T00:00:04.25Z", "rfc3339", 3600, 1772323204 * S + 250000000, 0));
}

void
test_time(void)
{
    test_known();
    test_leap();
    test_format();
    test_rfc3339();
    test_fraction();
    test_epoch();
    test_named();
    test_directives();
    test_round_trip();
    test_errors();
    test_zone();
    test_fmt_check();
    test_rfc3339_fast();
}

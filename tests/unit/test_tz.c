/* Unit tests for tz: POSIX TZ footers built into small TZif images (US rules, Dublin's negative
 * DST, southern hemisphere, Julian days, quoted abbreviations), transitions, the local-time
 * rules for gaps and overlaps, malformed images, zone names. Expected epochs come from
 * Python's zoneinfo (datetime(..., tzinfo=ZoneInfo(...)).timestamp()). The whole of tzdata is
 * checked against zoneinfo by tests/tz/oracle.sh. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw/tz.h"
#include "unit.h"

static size_t
put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
    return 4;
}

/* A TZif v2 image with ntrans transitions (at times[], to type idx[]) between two types
 * (offsets off0, off1, abbreviations "AAA" and "BBB") and footer tz. */
static size_t
image(unsigned char *buf, int ntrans, const int64_t *times, const unsigned char *idx, int32_t off0,
      int32_t off1, const char *tz)
{
    size_t n = 0;
    for (int v = 1; v <= 2; v++) {
        memcpy(buf + n, "TZif2", 5);
        memset(buf + n + 5, 0, 15);
        n += 20;
        n += put32(buf + n, 0);                /* isut */
        n += put32(buf + n, 0);                /* isstd */
        n += put32(buf + n, 0);                /* leap */
        n += put32(buf + n, (uint32_t)ntrans); /* time */
        n += put32(buf + n, 2);                /* type */
        n += put32(buf + n, 8);                /* chars */
        for (int i = 0; i < ntrans; i++) {
            if (v == 2) n += put32(buf + n, (uint32_t)((uint64_t)times[i] >> 32));
            n += put32(buf + n, (uint32_t)times[i]);
        }
        for (int i = 0; i < ntrans; i++) {
            buf[n++] = idx[i];
        }
        n += put32(buf + n, (uint32_t)off0);
        buf[n++] = 0, buf[n++] = 0;
        n += put32(buf + n, (uint32_t)off1);
        buf[n++] = 1, buf[n++] = 4;
        memcpy(buf + n, "AAA\0BBB\0", 8);
        n += 8;
    }
    n += (size_t)sprintf((char *)buf + n, "\n%s\n", tz);
    return n;
}

static struct lw_tz *
footer_zone(const char *tz)
{
    unsigned char buf[512];
    char err[200] = "";
    size_t n = image(buf, 0, NULL, NULL, 0, 0, tz);
    struct lw_tz *z = lw_tz_parse_tzif(buf, n, "T", 1, err, sizeof err);
    if (z == NULL) fprintf(stderr, "  footer '%s': %s\n", tz, err);
    return z;
}

static bool
off_is(const struct lw_tz *z, int64_t t, int32_t want, const char *want_abbr)
{
    const char *ab = NULL;
    int32_t got = lw_tz_off_at(z, t, &ab);
    if (got == want && (want_abbr == NULL || (ab != NULL && strcmp(ab, want_abbr) == 0))) {
        return true;
    }
    fprintf(stderr, "  at %lld: got %d %s, want %d %s\n", (long long)t, got, ab ? ab : "-", want,
            want_abbr ? want_abbr : "-");
    return false;
}

static void
footers(void)
{
    /* America/New_York's rule: 2024-03-10 02:00 EST = 07:00Z, 2024-11-03 02:00 EDT = 06:00Z */
    struct lw_tz *z = footer_zone("EST5EDT,M3.2.0,M11.1.0");
    CHECK(z != NULL);
    if (z) {
        CHECK(off_is(z, 1710054000 - 1, -18000, "EST"));
        CHECK(off_is(z, 1710054000, -14400, "EDT"));
        CHECK(off_is(z, 1730613600 - 1, -14400, "EDT"));
        CHECK(off_is(z, 1730613600, -18000, "EST"));
        /* 02:30 in the gap is 07:30Z (03:30 EDT); 01:30 in the overlap is the EDT one */
        CHECK(lw_tz_off_local(z, 1710037800) == -18000);
        CHECK(lw_tz_off_local(z, 1730597400) == -14400);
        lw_tz_free(z);
    }
    /* Europe/Dublin: IST is standard, GMT the (negative) daylight time in winter.
     * 2024-03-31 01:00Z -> IST, 2024-10-27 01:00Z -> GMT */
    z = footer_zone("IST-1GMT0,M10.5.0,M3.5.0/1");
    CHECK(z != NULL);
    if (z) {
        CHECK(off_is(z, 1711846800 - 1, 0, "GMT"));
        CHECK(off_is(z, 1711846800, 3600, "IST"));
        CHECK(off_is(z, 1729990800 - 1, 3600, "IST"));
        CHECK(off_is(z, 1729990800, 0, "GMT"));
        lw_tz_free(z);
    }
    /* Australia/Lord_Howe: 30-minute DST, southern hemisphere, quoted names.
     * 2024-04-07 02:00 +11 = 2024-04-06T15:00Z; 2024-10-06 02:00 +1030 = 2024-10-05T15:30Z */
    z = footer_zone("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
    CHECK(z != NULL);
    if (z) {
        CHECK(off_is(z, 1712415600 - 1, 39600, "+11"));
        CHECK(off_is(z, 1712415600, 37800, "+1030"));
        CHECK(off_is(z, 1728142200 - 1, 37800, "+1030"));
        CHECK(off_is(z, 1728142200, 39600, "+11"));
        CHECK(off_is(z, 1704067200, 39600, "+11")); /* 2024-01-01: summer */
        lw_tz_free(z);
    }
    /* Julian day rules: J60 is March 1 even in leap years; 59 (zero-based) is Feb 29 in them */
    z = footer_zone("AAA0BBB,J60/0,J300/0");
    CHECK(z != NULL);
    if (z) {
        CHECK(off_is(z, 1709251200 - 1, 0, "AAA")); /* 2024-03-01T00:00Z */
        CHECK(off_is(z, 1709251200, 3600, "BBB"));
        lw_tz_free(z);
    }
    z = footer_zone("AAA0BBB,59/0,300/0");
    CHECK(z != NULL);
    if (z) {
        CHECK(off_is(z, 1709164800 - 1, 0, "AAA")); /* 2024-02-29T00:00Z */
        CHECK(off_is(z, 1709164800, 3600, "BBB"));
        lw_tz_free(z);
    }
    /* no DST at all, and permanent DST written as a rule that never ends */
    z = footer_zone("<+0530>-5:30");
    CHECK(z != NULL);
    if (z) {
        CHECK(off_is(z, 1700000000, 19800, "+0530"));
        lw_tz_free(z);
    }
    z = footer_zone("EST5EDT,0/0,J365/25");
    CHECK(z != NULL);
    if (z) {
        CHECK(off_is(z, 1704067200, -14400, "EDT"));
        CHECK(off_is(z, 1719792000, -14400, "EDT"));
        lw_tz_free(z);
    }
    char err[200];
    unsigned char buf[512];
    const char *bad[] = { "E5", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0", "EST5x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = image(buf, 0, NULL, NULL, 0, 0, bad[i]);
        struct lw_tz *b = lw_tz_parse_tzif(buf, n, "T", 1, err, sizeof err);
        CHECK(b == NULL);
        lw_tz_free(b);
    }
}

static void
transitions(void)
{
    unsigned char buf[512];
    char err[200] = "";
    int64_t times[] = { -100, 1000, 5000 };
    unsigned char idx[] = { 1, 0, 1 };
    size_t n = image(buf, 3, times, idx, 3600, 7200, "");
    struct lw_tz *z = lw_tz_parse_tzif(buf, n, "T", 1, err, sizeof err);
    CHECK(z != NULL);
    if (z == NULL) return;
    CHECK(off_is(z, -101, 3600, "AAA")); /* before the first: type 0 */
    CHECK(off_is(z, -100, 7200, "BBB"));
    CHECK(off_is(z, 999, 7200, "BBB"));
    CHECK(off_is(z, 1000, 3600, "AAA"));
    CHECK(off_is(z, 5000, 7200, "BBB"));
    CHECK(off_is(z, INT64_MAX / 2, 7200, "BBB")); /* no footer: the last type goes on */
    lw_tz_free(z);

    /* malformed: every truncation, unordered times, a type index out of range */
    n = image(buf, 3, times, idx, 3600, 7200, "AAA-1");
    for (size_t cut = 0; cut < n; cut++) {
        struct lw_tz *b = lw_tz_parse_tzif(buf, cut, "T", 1, err, sizeof err);
        CHECK(b == NULL);
        lw_tz_free(b);
    }
    int64_t unordered[] = { 5, 5, 6 };
    n = image(buf, 3, unordered, idx, 0, 0, "");
    CHECK(lw_tz_parse_tzif(buf, n, "T", 1, err, sizeof err) == NULL);
    CHECK(strcmp(err, "its transition times are not in order") == 0);
    unsigned char bad_idx[] = { 0, 2, 0 };
    n = image(buf, 3, times, bad_idx, 0, 0, "");
    CHECK(lw_tz_parse_tzif(buf, n, "T", 1, err, sizeof err) == NULL);
    CHECK(strcmp(err, "a transition names a missing type") == 0);
}

static void
names(void)
{
    CHECK(lw_tz_name_ok("Europe/Paris", 12));
    CHECK(lw_tz_name_ok("America/Argentina/Buenos_Aires", 30));
    CHECK(lw_tz_name_ok("Etc/GMT+5", 9));
    CHECK(!lw_tz_name_ok("../etc/passwd", 13));
    CHECK(!lw_tz_name_ok("Europe/../../x", 14));
    CHECK(!lw_tz_name_ok("/etc/localtime", 14));
    CHECK(!lw_tz_name_ok("Europe//Paris", 13));
    CHECK(!lw_tz_name_ok("Europe/", 7));
    CHECK(!lw_tz_name_ok("Europe/.hidden", 14));
    CHECK(!lw_tz_name_ok("Euro pe", 7));
    CHECK(!lw_tz_name_ok("", 0));

    char err[300];
    struct lw_tz *z = lw_tz_load("+05:30", 6, err, sizeof err);
    CHECK(z != NULL && z->fixed && lw_tz_off_at(z, 0, NULL) == 19800);
    lw_tz_free(z);
    z = lw_tz_load("utc", 3, err, sizeof err);
    CHECK(z != NULL && z->fixed && lw_tz_off_local(z, 12345) == 0);
    lw_tz_free(z);
    CHECK(lw_tz_load("+24:00", 6, err, sizeof err) == NULL);
    CHECK(strstr(err, "out of range") != NULL);
    CHECK(lw_tz_load("a\x01z", 3, err, sizeof err) == NULL);
    CHECK(strncmp(err, "bad time zone name 'a\\x01z'", 27) == 0);

    /* a cache never holds more than LW_TZCACHE_N zones, and finds what it holds */
    struct lw_tzcache c = { 0 };
    char name[16];
    for (int i = 0; i < 3 * LW_TZCACHE_N; i++) {
        int len = snprintf(name, sizeof name, "+%02d:00", i % 20);
        const struct lw_tz *got = lw_tzcache_get(&c, name, (size_t)len, err, sizeof err);
        CHECK(got != NULL && lw_tz_off_at(got, 0, NULL) == (i % 20) * 3600);
        CHECK(c.n <= LW_TZCACHE_N);
    }
    const struct lw_tz *a = lw_tzcache_get(&c, "+19:00", 6, err, sizeof err);
    CHECK(a != NULL && a == lw_tzcache_get(&c, "+19:00", 6, err, sizeof err));

    /* a name that failed is remembered: once its file exists (TZDIR), the cache still says no
     * until LW_TZCACHE_BAD other failures push it out. The file is a copy of the zone
     * directory's UTC; without one the last check cannot run and says it is skipped. */
    char dir[] = "/tmp/lw-tzdir-XXXXXX", path[64], err2[300];
    CHECK(mkdtemp(dir) != NULL);
    char old[4096] = "", utcpath[4200];
    const char *o = getenv("TZDIR");
    snprintf(old, sizeof old, "%s", o ? o : "");
    snprintf(utcpath, sizeof utcpath, "%s/UTC", old[0] ? old : "/usr/share/zoneinfo");
    setenv("TZDIR", dir, 1);
    CHECK(lw_tzcache_get(&c, "Mars", 4, err, sizeof err) == NULL);
    snprintf(path, sizeof path, "%s/Mars", dir);
    FILE *utc = fopen(utcpath, "rb");
    char buf[4096];
    size_t n = utc ? fread(buf, 1, sizeof buf, utc) : 0;
    if (utc) fclose(utc);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(buf, 1, n, f) == n);
    if (f) fclose(f);
    CHECK(lw_tzcache_get(&c, "Mars", 4, err2, sizeof err2) == NULL && strcmp(err, err2) == 0);
    for (int i = 0; i < LW_TZCACHE_BAD; i++) {
        char other[32];
        snprintf(other, sizeof other, "Venus%d", i);
        CHECK(lw_tzcache_get(&c, other, strlen(other), err, sizeof err) == NULL);
    }
    if (n > 0) {
        CHECK(lw_tzcache_get(&c, "Mars", 4, err, sizeof err) != NULL);
    } else {
        SKIP(1, "no zone files");
    }
    remove(path);
    rmdir(dir);
    if (old[0])
        setenv("TZDIR", old, 1);
    else
        unsetenv("TZDIR");
    lw_tzcache_fini(&c);
}

void
test_tz(void)
{
    footers();
    transitions();
    names();
}

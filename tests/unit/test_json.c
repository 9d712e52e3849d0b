/* Unit tests for json.c: scanning with keys, walking raw slices, unescaping, numbers, the writer,
 * and a table of invalid texts with the message and offset each one gets. Agreement with jansson
 * on arbitrary input is the differential fuzzer's job (tests/fuzz/fuzz_jsondiff.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw/buf.h"
#include "lw/json.h"
#include "unit.h"

static bool
slice_is(struct lw_str v, const char *want)
{
    return v.p != NULL && lw_str_eq(v, lw_str_c(want));
}

/* Validate text (NUL-free, so strlen works); true when it is valid. */
static bool
valid(const char *text)
{
    struct lw_json_err err;
    return lw_json_validate(text, strlen(text), &err) == 0;
}

static void
test_scan_keys(void)
{
    const char *t = " {\"a\":1, \"b\" : {\"x\": [1, 2]} ,\"a\":\"two\",\"a\\u0062\":null,"
                    "\"n\":{\"a\":9}} ";
    struct lw_str keys[] = { LW_STR_LIT("a"),  LW_STR_LIT("b"), LW_STR_LIT("ab"),
                             LW_STR_LIT("zz"), LW_STR_LIT("x"), LW_STR_LIT("a") };
    struct lw_str vals[6];
    struct lw_json_err err;
    CHECK(lw_json_scan(t, strlen(t), keys, 6, vals, &err) == 0);
    CHECK(slice_is(vals[0], "\"two\"")); /* the last duplicate wins */
    CHECK(slice_is(vals[1], "{\"x\": [1, 2]}"));
    CHECK(slice_is(vals[2], "null")); /* escaped key */
    CHECK(vals[3].p == NULL && vals[3].len == 0);
    CHECK(vals[4].p == NULL); /* only top-level members count */
    CHECK(slice_is(vals[5], "\"two\""));
    /* keys of the same (first byte, length) hash, one of them wanted twice, and keys alone
     * under their hash: each member goes to the keys that name it, the last duplicate wins */
    const char *th = "{\"ab\":1,\"ac\":2,\"q\":3,\"ad\":4,\"ab\":5,\"qq\":6,\"r\":7}";
    struct lw_str hk[] = { LW_STR_LIT("ab"), LW_STR_LIT("ac"), LW_STR_LIT("q"),
                           LW_STR_LIT("ab"), LW_STR_LIT("r"),  LW_STR_LIT("ae") };
    struct lw_str hv[6];
    CHECK(lw_json_scan(th, strlen(th), hk, 6, hv, &err) == 0);
    CHECK(slice_is(hv[0], "5") && slice_is(hv[1], "2") && slice_is(hv[2], "3"));
    CHECK(slice_is(hv[3], "5") && slice_is(hv[4], "7") && hv[5].p == NULL);
    /* a nested member named like a wanted key does not leak out */
    const char *t2 = "{\"n\":{\"a\":1},\"m\":[{\"a\":2}]}";
    CHECK(lw_json_scan(t2, strlen(t2), keys, 1, vals, &err) == 0 && vals[0].p == NULL);
    /* not an object: no values, still valid */
    CHECK(lw_json_scan("[1]", 3, keys, 1, vals, &err) == 0 && vals[0].p == NULL);
    CHECK(lw_json_scan("{}", 2, NULL, 0, NULL, &err) == 0);
    /* every top-level member, in order, duplicates included; past cap only counted */
    struct lw_json_member all[3];
    size_t nall = 99;
    const char *t3 = "{\"a\" : 1, \"b\":{\"a\":[2]}, \"a\":\"x\",\"c\":7\0}";
    bool gapless = true;
    CHECK(lw_json_scan_members(t3, strlen(t3) + 2, keys, 1, vals, all, 3, &nall, &gapless, &err) ==
              0 &&
          !gapless);
    CHECK(nall == 4 && slice_is(all[0].key, "\"a\"") && slice_is(all[0].val, "1"));
    CHECK(slice_is(all[1].key, "\"b\"") && slice_is(all[1].val, "{\"a\":[2]}"));
    CHECK(slice_is(all[2].val, "\"x\"") && slice_is(vals[0], "\"x\""));
    CHECK(lw_json_scan_members("[{\"a\":1}]", 9, NULL, 0, NULL, all, 3, &nall, &gapless, &err) ==
              0 &&
          nall == 0 && gapless);
    CHECK(lw_json_scan_members("{\"a\":}", 6, NULL, 0, NULL, all, 3, &nall, &gapless, &err) == -1 &&
          !gapless);
    /* gapless: no whitespace or NUL outside the strings of the value (around it does not count) */
    static const struct {
        const char *t;
        bool gapless;
    } gl[] = {
        { " {\"a b\":\" \\\" \",\"c\":[1,{}]}\r\n", true },
        { "{\"a\":[1,2],\"b\":{\"c\":null}}", true },
        { "{\"a\": 1}", false },
        { "{\"a\":1 }", false },
        { "{ \"a\":1}", false },
        { "{\"a\" :1}", false },
        { "{\"a\":[1,\n2]}", false },
        { "{\"a\":[1 ,2]}", false },
        { "{\"a\":[]\t}", false },
        { "[1,{\"a\":[ ]}]", false },
    };
    for (size_t i = 0; i < sizeof gl / sizeof gl[0]; i++) {
        gapless = !gl[i].gapless;
        CHECK(lw_json_scan_members(gl[i].t, strlen(gl[i].t), NULL, 0, NULL, all, 3, &nall, &gapless,
                                   &err) == 0 &&
              gapless == gl[i].gapless);
    }
    const char nul[] = "[1\0,2]";
    CHECK(lw_json_scan_members(nul, sizeof nul - 1, NULL, 0, NULL, all, 3, &nall, &gapless, &err) ==
              0 &&
          !gapless);
    /* which top-level string values have an escape (vesc), whatever their nested strings had */
    const char *t4 = "{\"k\\n\":\"a\\\"b\",\"o\":{\"x\":\"\\n\"},\"s\":\"plain\",\"n\":1}";
    CHECK(lw_json_scan_members(t4, strlen(t4), NULL, 0, NULL, all, 3, &nall, NULL, &err) == 0);
    CHECK(nall == 4 && all[0].kesc && all[0].vesc && !all[1].kesc && !all[1].vesc);
    CHECK(!all[2].kesc && !all[2].vesc && slice_is(all[2].val, "\"plain\""));
    /* lw_json_list: the same of any container slice, in one walk of validated text */
    struct lw_json_member li[3];
    const char *t5 =
        "{ \"a\" : 1 , \"b\\u00e9\":{\"a\":[2]},\"a\":\"x\\ty\", \"c\":\"z\",\"d\":7\0}";
    CHECK(lw_json_list((struct lw_str){ t5, strlen(t5) + 2 }, li, 3) == 5);
    CHECK(slice_is(li[0].key, "\"a\"") && slice_is(li[0].val, "1") && !li[0].kesc && !li[0].vesc);
    CHECK(slice_is(li[1].key, "\"b\\u00e9\"") && li[1].kesc && slice_is(li[1].val, "{\"a\":[2]}"));
    CHECK(slice_is(li[2].val, "\"x\\ty\"") && li[2].vesc && !li[2].kesc);
    CHECK(lw_json_list(lw_str_c("[ \"\\\"\" ,[1,2],\"q\" ]"), li, 3) == 3);
    CHECK(li[0].key.p == NULL && li[0].vesc && slice_is(li[0].val, "\"\\\"\""));
    CHECK(slice_is(li[1].val, "[1,2]") && !li[1].vesc && slice_is(li[2].val, "\"q\"") &&
          !li[2].vesc);
    CHECK(lw_json_list(lw_str_c("{}"), li, 3) == 0 && lw_json_list(lw_str_c("[ ]"), li, 3) == 0);
    CHECK(lw_json_list(lw_str_c("\"ab\""), li, 3) == 0 && lw_json_list(lw_str_c("12"), li, 3) == 0);
    /* the NUL jansson ignores after a number does not end up in the slice */
    struct lw_str one = LW_STR_LIT("a");
    CHECK(lw_json_scan("{\"a\":12\0}", 9, &one, 1, vals, &err) == 0 && slice_is(vals[0], "12"));
    CHECK(lw_json_validate("1\0", 2, &err) == 0);
    CHECK(lw_json_validate("[true\0,null\0]", 13, &err) == 0);
    CHECK(lw_json_validate("1\0\0", 3, &err) == -1);
    CHECK(lw_json_validate("1 \0", 3, &err) == -1);
    CHECK(lw_json_validate("\"a\"\0", 4, &err) == -1);
    CHECK(lw_json_validate("[]\0", 3, &err) == -1);
}

static void
test_walk(void)
{
    struct lw_str doc =
        lw_str_c("{ \"user\" : {\"id\":42,\"tags\":[\"a\", \"b\\n\"]} , \"items\":"
                 "[ {\"p\":1.5,\"q\":2}, {\"p\":2,\"q\":1} ], \"e\":{},\"f\":[ ] }");
    struct lw_str v, w, k;
    CHECK(valid(doc.p));
    CHECK(lw_json_kind(doc) == LW_JSON_OBJECT && lw_json_count(doc) == 4);
    CHECK(lw_json_skip(doc.p, doc.p + doc.len) == doc.len);
    CHECK(lw_json_get(doc, "user", 4, &v) == 1);
    CHECK(lw_json_get(v, "id", 2, &w) == 1 && slice_is(w, "42"));
    CHECK(lw_json_kind(w) == LW_JSON_INT);
    CHECK(lw_json_get(v, "tags", 4, &w) == 1 && lw_json_count(w) == 2);
    CHECK(lw_json_at(w, 1, &k) == 1 && slice_is(k, "\"b\\n\""));
    CHECK(lw_json_at(w, 2, &k) == 0);
    CHECK(lw_json_get(doc, "nope", 4, &v) == 0);
    CHECK(lw_json_get(lw_str_c("[1]"), "a", 1, &v) == 0);
    CHECK(lw_json_at(doc, 0, &v) == 0);
    CHECK(lw_json_get(doc, "items", 5, &v) == 1 && lw_json_kind(v) == LW_JSON_ARRAY);
    CHECK(lw_json_at(v, 0, &w) == 1 && slice_is(w, "{\"p\":1.5,\"q\":2}"));
    CHECK(lw_json_get(w, "p", 1, &k) == 1 && lw_json_kind(k) == LW_JSON_REAL);
    CHECK(lw_json_get(doc, "e", 1, &v) == 1 && lw_json_count(v) == 0);
    CHECK(lw_json_get(doc, "f", 1, &v) == 1 && slice_is(v, "[ ]") && lw_json_count(v) == 0);
    CHECK(lw_json_count(lw_str_c("\"abc\"")) == 0 && lw_json_count(lw_str_c("7")) == 0);

    struct lw_json_iter it;
    const char *want[] = { "\"user\"", "\"items\"", "\"e\"", "\"f\"" };
    int n = 0;
    lw_json_iter_init(&it, doc);
    while (lw_json_iter_next(&it, &k, &v)) {
        CHECK(n < 4 && slice_is(k, want[n]));
        n++;
    }
    CHECK(n == 4 && lw_json_iter_next(&it, &k, &v) == 0);
    lw_json_iter_init(&it, lw_str_c("[1 ,\"x\",[2,[3]], null]"));
    const char *elems[] = { "1", "\"x\"", "[2,[3]]", "null" };
    n = 0;
    while (lw_json_iter_next(&it, &k, &v)) {
        CHECK(n < 4 && k.p == NULL && k.len == 0 && slice_is(v, elems[n]));
        n++;
    }
    CHECK(n == 4);
    lw_json_iter_init(&it, lw_str_c("\"str\""));
    CHECK(lw_json_iter_next(&it, &k, &v) == 0);

    /* strings with brackets, escaped quotes and backslashes inside containers */
    struct lw_str tricky = lw_str_c("[\"]\\\"\", \"\\\\\", {\"}\":\"{\\\\\"}]");
    CHECK(valid(tricky.p) && lw_json_count(tricky) == 3);
    CHECK(lw_json_skip(tricky.p, tricky.p + tricky.len) == tricky.len);
    CHECK(lw_json_at(tricky, 1, &v) == 1 && slice_is(v, "\"\\\\\""));
    CHECK(lw_json_at(tricky, 2, &v) == 1 && lw_json_get(v, "}", 1, &w) == 1);
    CHECK(slice_is(w, "\"{\\\\\""));

    CHECK(lw_json_kind(lw_str_c("null")) == LW_JSON_NULL);
    CHECK(lw_json_kind(lw_str_c("true")) == LW_JSON_TRUE);
    CHECK(lw_json_kind(lw_str_c("false")) == LW_JSON_FALSE);
    CHECK(lw_json_kind(lw_str_c("-3")) == LW_JSON_INT);
    CHECK(lw_json_kind(lw_str_c("1E3")) == LW_JSON_REAL);
    CHECK(lw_json_kind(lw_str_c("\"\"")) == LW_JSON_STRING);
}

/* Unescape the string token tok and compare with want[0..wlen). */
static bool
unesc_is(const char *tok, const char *want, size_t wlen)
{
    struct lw_str t = lw_str_c(tok);
    char *dst = malloc(t.len);
    size_t n = lw_json_unescape(t, dst);
    bool ok = n == wlen && memcmp(dst, want, n) == 0;
    free(dst);
    return ok && valid(tok);
}

static void
test_unescape(void)
{
    CHECK(unesc_is("\"\"", "", 0));
    CHECK(unesc_is("\"plain caf\xc3\xa9\"", "plain caf\xc3\xa9", 11));
    CHECK(unesc_is("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8));
    CHECK(unesc_is("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6));
    CHECK(unesc_is("\"\\ud83d\\ude00!\"", "\xf0\x9f\x98\x80!", 5));
    CHECK(unesc_is("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4));
    CHECK(unesc_is("\"a\\u0001b\"",
                   "a\x01"
                   "b",
                   3));
    CHECK(unesc_is("\"x\\\\u0041\"", "x\\u0041", 7));
    CHECK(lw_json_str_has_escape(lw_str_c("\"a\\nb\"")));
    CHECK(!lw_json_str_has_escape(lw_str_c("\"a/b\"")));
    CHECK(!lw_json_str_has_escape(lw_str_c("\"\"")));
}

static void
test_numbers(void)
{
    int64_t i = 0;
    double d = 0;
    CHECK(lw_json_number(lw_str_c("0"), &i, &d) == LW_JSON_INT && i == 0);
    CHECK(lw_json_number(lw_str_c("-0"), &i, &d) == LW_JSON_INT && i == 0);
    CHECK(lw_json_number(lw_str_c("-42"), &i, &d) == LW_JSON_INT && i == -42);
    /* 18 digits: the one-walk path; 19: the checked one */
    CHECK(lw_json_number(lw_str_c("999999999999999999"), &i, &d) == LW_JSON_INT &&
          i == 999999999999999999LL);
    CHECK(lw_json_number(lw_str_c("-999999999999999999"), &i, &d) == LW_JSON_INT &&
          i == -999999999999999999LL);
    CHECK(lw_json_number(lw_str_c("1000000000000000000"), &i, &d) == LW_JSON_INT &&
          i == 1000000000000000000LL);
    CHECK(lw_json_number(lw_str_c("12e1"), &i, &d) == LW_JSON_REAL && d == 120.0);
    CHECK(lw_json_number(lw_str_c("9223372036854775807"), &i, &d) == LW_JSON_INT && i == INT64_MAX);
    CHECK(lw_json_number(lw_str_c("-9223372036854775808"), &i, &d) == LW_JSON_INT &&
          i == INT64_MIN);
    /* beyond int64: a float (the text itself is kept where the value is passed through) */
    CHECK(lw_json_number(lw_str_c("9223372036854775808"), &i, &d) == LW_JSON_REAL &&
          d == 9223372036854775808.0);
    CHECK(lw_json_number(lw_str_c("-9223372036854775809"), &i, &d) == LW_JSON_REAL &&
          d == -9223372036854775808.0);
    CHECK(lw_json_number(lw_str_c("18446744073709551615"), &i, &d) == LW_JSON_REAL &&
          d == 18446744073709551616.0);
    CHECK(lw_json_number(lw_str_c("123456789012345678901234567890"), &i, &d) == LW_JSON_REAL &&
          d == 1.2345678901234568e29);
    CHECK(lw_json_number(lw_str_c("1.5"), &i, &d) == LW_JSON_REAL && d == 1.5);
    CHECK(lw_json_number(lw_str_c("-0.0"), &i, &d) == LW_JSON_REAL && d == 0 && signbit(d));
    CHECK(lw_json_number(lw_str_c("1e2"), &i, &d) == LW_JSON_REAL && d == 100);
    CHECK(lw_json_number(lw_str_c("2E-3"), &i, &d) == LW_JSON_REAL && d == 0.002);
    CHECK(lw_json_number(lw_str_c("1e-400"), &i, &d) == LW_JSON_REAL && d == 0);
    CHECK(lw_json_number(lw_str_c("1e309"), &i, &d) == -1);
    CHECK(lw_json_number(lw_str_c("abc"), &i, &d) == -1);
    CHECK(lw_json_number(lw_str_c("0.1"), &i, &d) == LW_JSON_REAL && d == 0.1);
    /* a real longer than the stack copy */
    char big[300];
    memset(big, '0', sizeof big);
    memcpy(big, "0.", 2);
    memcpy(big + sizeof big - 3, "125", 3);
    struct lw_str bs = { big, sizeof big };
    CHECK(lw_json_number(bs, &i, &d) == LW_JSON_REAL && d > 1e-297 && d < 1e-295);

    /* the fast path for short reals agrees bit for bit with strtod */
    uint64_t seed = 12345;
    int agree = 0;
    for (int n = 0; n < 20000; n++) {
        char num[48];
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        int len = snprintf(num, sizeof num, "%s%llu.%0*llue%d", (seed >> 63) ? "-" : "",
                           (unsigned long long)(seed >> 40) % 100000, (int)((seed >> 8) % 12) + 1,
                           (unsigned long long)(seed >> 20) % 1000000000000u,
                           (int)((seed >> 4) % 61) - 30);
        double want = strtod(num, NULL);
        agree += lw_json_number((struct lw_str){ num, (size_t)len }, &i, &d) == LW_JSON_REAL &&
                 memcmp(&d, &want, sizeof d) == 0;
    }
    CHECK(agree == 20000);

    /* range checks in the scanner, at the exact limits jansson uses (integers beyond int64 are
     * valid, as with jansson's JSON_DECODE_INT_AS_REAL, up to the reals' limit) */
    CHECK(valid("9223372036854775807") && valid("9223372036854775808"));
    CHECK(valid("-9223372036854775808") && valid("-9223372036854775809"));
    CHECK(valid("100000000000000000000") && valid("100000000000000000000.0"));
    CHECK(valid("1.7976931348623157e308") && valid("1.7976931348623158e308"));
    CHECK(!valid("1.7976931348623159e308") && !valid("-1e309") && !valid("1e99999999999999999999"));
    CHECK(valid("0e99999999") && valid("0.000e999999") && valid("1e-99999999999999999999"));
    CHECK(valid("0.00000000000000000000000001e334") && !valid("0.00000000000000000000000001e335"));
    /* 2^1024 - 2^970 overflows (a tie rounds away from DBL_MAX), one less does not */
    const char *lim = "17976931348623158079372897140530341507993413271003782693617377898044496829"
                      "27647509466490179775872070963302864166928879109465555478519404026306574886"
                      "71505820681908902000708383676273854845817711531764475730270069855571366959"
                      "62284291481986083493647529271907416844436551070434271155969950809304288017"
                      "7904174497792";
    char buf[400];
    snprintf(buf, sizeof buf, "%s.0", lim);
    CHECK(!valid(buf));
    snprintf(buf, sizeof buf, "%.308s1.9e0", lim); /* ...791.9 */
    CHECK(valid(buf));
    snprintf(buf, sizeof buf, "0.%s00001e309", lim);
    CHECK(!valid(buf));
    snprintf(buf, sizeof buf, "0.%.300se309", lim);
    CHECK(valid(buf));
}

static bool
buf_is(struct lw_buf *b, const char *want, size_t wlen)
{
    bool ok = b->len == wlen && memcmp(b->p, want, wlen) == 0;
    b->len = 0;
    return ok;
}

#define BUF_IS(b, lit) buf_is((b), (lit), sizeof(lit) - 1)

static bool
dbl_is(struct lw_buf *b, double d, const char *want)
{
    lw_json_write_double(b, d);
    return buf_is(b, want, strlen(want));
}

static void
test_writer(void)
{
    struct lw_buf b;
    lw_buf_init(&b);
    lw_json_write_string(&b, "", 0);
    CHECK(BUF_IS(&b, "\"\""));
    lw_json_write_string(&b, "a\"b\\c/d", 7);
    CHECK(BUF_IS(&b, "\"a\\\"b\\\\c/d\""));
    lw_json_write_string(&b, "\n\t\r\b\f\x01\x1f\x7f", 8);
    CHECK(BUF_IS(&b, "\"\\n\\t\\r\\b\\f\\u0001\\u001f\x7f\""));
    lw_json_write_string(&b, "a\0b", 3);
    CHECK(BUF_IS(&b, "\"a\\u0000b\""));
    lw_json_write_string(&b, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac", 14);
    CHECK(BUF_IS(&b, "\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\""));
    /* each maximal invalid subsequence becomes one U+FFFD */
    lw_json_write_string(&b,
                         "a\xff"
                         "b",
                         3);
    CHECK(BUF_IS(&b, "\"a\xef\xbf\xbd"
                     "b\""));
    lw_json_write_string(&b,
                         "\xe2\x82"
                         "A",
                         3);
    CHECK(BUF_IS(&b, "\"\xef\xbf\xbd"
                     "A\""));
    lw_json_write_string(&b, "\xc0\x80", 2);
    CHECK(BUF_IS(&b, "\"\xef\xbf\xbd\xef\xbf\xbd\""));
    lw_json_write_string(&b, "\xed\xa0\x80", 3); /* an encoded surrogate */
    CHECK(BUF_IS(&b, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""));
    lw_json_write_string(&b, "\xf0\x9f\x98", 3); /* truncated at the end */
    CHECK(BUF_IS(&b, "\"\xef\xbf\xbd\""));
    lw_json_write_string(&b, "\xf4\x90\x80\x80", 4); /* past U+10FFFF */
    CHECK(BUF_IS(&b, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""));
    const char *longs = "0123456789abcdef0123456789\"abcdef";
    lw_json_write_string(&b, longs, strlen(longs));
    CHECK(BUF_IS(&b, "\"0123456789abcdef0123456789\\\"abcdef\""));
    /* every length from 1 to 40 with a quote, a control byte or a 2-byte UTF-8 character at
     * every place: the tail after the last whole block is read through the block that ends the
     * string, which overlaps bytes already written */
    for (int n = 1; n <= 40; n++) {
        for (int k = 0; k < n; k++) {
            for (int kind = 0; kind < 3; kind++) {
                char in[48], want[64];
                size_t w = 0, len = (size_t)n;
                memset(in, 'x', sizeof in);
                want[w++] = '"';
                for (int i = 0; i < n; i++) {
                    if (i != k) {
                        want[w++] = 'x';
                    } else if (kind == 0) {
                        in[i] = '"';
                        want[w++] = '\\';
                        want[w++] = '"';
                    } else if (kind == 1) {
                        in[i] = '\n';
                        want[w++] = '\\';
                        want[w++] = 'n';
                    } else if (i + 1 < n) {
                        in[i] = (char)0xc3, in[i + 1] = (char)0xa9;
                        want[w++] = (char)0xc3, want[w++] = (char)0xa9;
                        i++;
                    } else {
                        in[i] = (char)0xc3; /* cut short at the end: U+FFFD */
                        memcpy(want + w, "\xef\xbf\xbd", 3);
                        w += 3;
                    }
                }
                want[w++] = '"';
                b.len = 0;
                lw_json_write_string(&b, in, len);
                CHECK(b.len == w && memcmp(b.p, want, w) == 0);
            }
        }
    }
    b.len = 0;

    struct lw_str v = lw_str_c("{ \"a\" : [ 1 , 2.5e3 , \"x y\\n\" ] ,\n\t\"b\":{ } }");
    lw_json_write_compact(&b, v);
    CHECK(BUF_IS(&b, "{\"a\":[1,2.5e3,\"x y\\n\"],\"b\":{}}"));
    lw_json_write_compact(&b, (struct lw_str){ "[1\0,true\0]", 11 });
    CHECK(BUF_IS(&b, "[1,true]"));
    /* the block paths (a gap found a block at a time, strings of any length, escapes
     * straddling a block's end): a compact text of long and short strings, and the same text
     * with a space put at each point between tokens in turn */
    {
        static const char text[] =
            "{\"k\":\"a b\",\"long key name\":[1,\"x\\\"y\\\\\",\"\\u00e9 \xc3\xa9\"],"
            "\"s\":\"0123456789abcdef0123456789 \\\"\\\\\",\"n\":-12.5e3,\"t\":true,"
            "\"o\":{\"p\":null,\"q\":\"\\\\\"},\"z\":\"\",\"l\":\"a string of no escape, { 40 "
            "bytes } \","
            "\"m\":[\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"],\"e\":\"\\\"\"}";
        size_t n = sizeof text - 1;
        char in[sizeof text + 1];
        bool instr = false, esc = false;
        int spots = 0;
        for (size_t at = 0; at <= n; at++) {
            /* can a space go before byte at? (outside a string) */
            bool gap = !instr;
            if (at < n) {
                char c = text[at];
                if (esc) {
                    esc = false;
                } else if (instr && c == '\\') {
                    esc = true;
                } else if (c == '"') {
                    instr = !instr;
                }
            }
            if (!gap) continue;
            spots++;
            memcpy(in, text, at);
            in[at] = ' ';
            memcpy(in + at + 1, text + at, n - at);
            b.len = 0;
            lw_json_write_compact(&b, (struct lw_str){ in, n + 1 });
            CHECK(b.len == n && memcmp(b.p, text, n) == 0);
        }
        CHECK(spots > 40);
        b.len = 0;
        lw_json_write_compact(&b, (struct lw_str){ text, n });
        CHECK(b.len == n && memcmp(b.p, text, n) == 0);
        b.len = 0;
    }

    lw_json_write_int(&b, 0);
    CHECK(BUF_IS(&b, "0"));
    lw_json_write_int(&b, -17);
    CHECK(BUF_IS(&b, "-17"));
    lw_json_write_int(&b, INT64_MAX);
    CHECK(BUF_IS(&b, "9223372036854775807"));
    lw_json_write_int(&b, INT64_MIN);
    CHECK(BUF_IS(&b, "-9223372036854775808"));

    CHECK(dbl_is(&b, 1.0, "1.0"));
    CHECK(dbl_is(&b, -0.0, "-0.0"));
    CHECK(dbl_is(&b, 0.1, "0.1"));
    CHECK(dbl_is(&b, 1.5, "1.5"));
    CHECK(dbl_is(&b, 0.1 + 0.2, "0.30000000000000004"));
    CHECK(dbl_is(&b, 1e300, "1e+300"));
    CHECK(dbl_is(&b, 123456789012.0, "123456789012.0"));
    CHECK(dbl_is(&b, 5e-324, "4.94065645841247e-324"));
    CHECK(dbl_is(&b, NAN, "null"));
    CHECK(dbl_is(&b, INFINITY, "null"));
    CHECK(dbl_is(&b, -INFINITY, "null"));
    double samples[] = {
        1.0 / 3, 2.0 / 3, 1e23, 9007199254740993.0, 1.7976931348623157e308, 2.2250738585072014e-308,
        53.49,   139.5095
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        lw_json_write_double(&b, samples[i]);
        lw_buf_addc(&b, '\0');
        CHECK(strtod(b.p, NULL) == samples[i] && strpbrk(b.p, ".e") != NULL);
        b.len = 0;
    }
    lw_buf_fini(&b);
}

#define DIGITS10 "0000000000"
#define DIGITS100                                                                                  \
    DIGITS10 DIGITS10 DIGITS10 DIGITS10 DIGITS10 DIGITS10 DIGITS10 DIGITS10 DIGITS10 DIGITS10

struct bad {
    const char *text;
    size_t len; /* 0: strlen(text) */
    size_t off;
    const char *msg; /* a prefix of the message */
};

static const struct bad bads[] = {
    { "", 0, 0, "unexpected end of input" },
    { "  \n", 0, 3, "unexpected end of input" },
    { "{", 0, 1, "unexpected end of input" },
    { "[1,", 0, 3, "unexpected end of input" },
    { "{\"a\":", 0, 5, "unexpected end of input" },
    { "\"abc", 0, 4, "unexpected end of input in string" },
    { "\"ab\\", 0, 4, "unexpected end of input in string" },
    { "[1,]", 0, 3, "expected a value, found ']'" },
    { "{\"a\":1,}", 0, 7, "expected string key, found '}'" },
    { "{\"a\" 1}", 0, 5, "expected ':' after object key" },
    { "{\"a\":1 \"b\":2}", 0, 7, "expected ',' or '}' after object member" },
    { "[1 2]", 0, 3, "expected ',' or ']' after array element" },
    { "{1:2}", 0, 1, "expected string key, found '1'" },
    { "1 2", 0, 2, "trailing characters after value" },
    { "{}}", 0, 2, "trailing characters after value" },
    { "\"a\"\"b\"", 0, 3, "trailing characters after value" },
    { "[1]x", 0, 3, "trailing characters after value" },
    { "01", 0, 0, "invalid number: leading zero" },
    { "-01", 0, 0, "invalid number: leading zero" },
    { "-", 0, 0, "invalid number: expected a digit after '-'" },
    { "-a", 0, 0, "invalid number: expected a digit after '-'" },
    { "1.", 0, 0, "invalid number: expected a digit after '.'" },
    { "[1.e5]", 0, 1, "invalid number: expected a digit after '.'" },
    { ".5", 0, 0, "expected a value, found '.'" },
    { "+1", 0, 0, "expected a value, found '+'" },
    { "1e", 0, 0, "invalid number: expected a digit in the exponent" },
    { "1e+", 0, 0, "invalid number: expected a digit in the exponent" },
    { "[1,-18" DIGITS100 DIGITS100 DIGITS100 "0000000]", 0, 3, "number out of range" },
    { "[1e400]", 0, 1, "number out of range" },
    { "tru", 0, 0, "invalid literal: expected 'true'" },
    { "nul", 0, 0, "invalid literal: expected 'null'" },
    { "falsy", 0, 0, "invalid literal: expected 'false'" },
    { "truex", 0, 4, "trailing characters after value" },
    { "True", 0, 0, "expected a value, found 'T'" },
    { "\"a\x01\"", 0, 2, "control character 0x01 in string" },
    { "\"a\nb\"", 0, 2, "control character 0x0a in string" },
    { "\"a\0\"", 4, 2, "control character 0x00 in string" },
    { "\"\\q\"", 0, 1, "invalid escape '\\q'" },
    { "\"\\\x01\"", 0, 1, "invalid escape: '\\' followed by byte 0x01" },
    { "\"\\u12g4\"", 0, 1, "invalid \\u escape" },
    { "\"x\\ud800\"", 0, 2, "unpaired unicode surrogate '\\ud800'" },
    { "\"\\ud800\\u0041\"", 0, 1, "unpaired unicode surrogate" },
    { "\"\\udc00\\ud800\"", 0, 1, "unpaired unicode surrogate '\\udc00'" },
    { "\"\xff\"", 0, 1, "invalid utf-8 in string" },
    { "\"ab\xc3\"", 0, 3, "invalid utf-8 in string" },
    { "\"\xc0\x80\"", 0, 1, "invalid utf-8 in string" },
    { "\"\xed\xa0\x80\"", 0, 1, "invalid utf-8 in string" },
    { "\"\xf4\x90\x80\x80\"", 0, 1, "invalid utf-8 in string" },
    { "\"\xe2\x82\"", 0, 1, "invalid utf-8 in string" },
    { "\xef\xbb\xbf{}", 0, 0, "expected a value, found byte 0xef" },
    { "\x0b"
      "1",
      0, 0, "expected a value, found byte 0x0b" },
    { "1\x0c", 0, 1, "trailing characters after value" },
    { "\0", 1, 0, "expected a value, found byte 0x00" },
    { "[\xc3\xa9]", 0, 1, "expected a value, found byte 0xc3" },
};

/* Valid since logwash reads its own output back: \u0000 (a NUL byte), and integers beyond int64
 * up to the largest that does not round to infinity (309 digits). */
static void
test_nul_and_big(void)
{
    struct lw_json_err err = { 0 };
    static const char *const ok[] = {
        "\"\\u0000\"",
        "{\"a\":\"x\\u0000y\",\"id\":18446744073709551615}",
        "[-99999999999999999999999999999999999]",
        "17" DIGITS100 DIGITS100 DIGITS100 "0000000",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK(lw_json_validate(ok[i], strlen(ok[i]), &err) == 0);
    }
    char out[8];
    CHECK(lw_json_unescape(lw_str_c("\"x\\u0000y\""), out) == 3 && memcmp(out, "x\0y", 3) == 0);
}

static void
test_invalid(void)
{
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const struct bad *t = &bads[i];
        size_t len = t->len ? t->len : strlen(t->text);
        struct lw_json_err err = { 0 };
        int r = lw_json_validate(t->text, len, &err);
        bool ok = r == -1 && err.off == t->off && strncmp(err.msg, t->msg, strlen(t->msg)) == 0;
        if (!ok)
            fprintf(stderr, "bad[%zu] %s: got %d off %zu '%s'\n", i, t->text, r, err.off, err.msg);
        CHECK(ok);
    }
}

/* Nesting: every value counts one level, scalars included, up to LW_JSON_MAX_DEPTH. */
static bool
nested_valid(size_t n, const char *inner)
{
    size_t il = strlen(inner), len = 2 * n + il;
    char *t = malloc(len);
    memset(t, '[', n);
    memcpy(t + n, inner, il);
    memset(t + n + il, ']', n);
    struct lw_json_err err = { 0 };
    int r = lw_json_validate(t, len, &err);
    if (r == 0) CHECK(lw_json_skip(t, t + len) == len);
    if (r != 0) CHECK(strcmp(err.msg, "nesting too deep") == 0);
    free(t);
    return r == 0;
}

static void
test_depth(void)
{
    CHECK(nested_valid(LW_JSON_MAX_DEPTH, ""));
    CHECK(!nested_valid(LW_JSON_MAX_DEPTH + 1, ""));
    CHECK(nested_valid(LW_JSON_MAX_DEPTH - 1, "1"));
    CHECK(!nested_valid(LW_JSON_MAX_DEPTH, "1"));
    CHECK(nested_valid(LW_JSON_MAX_DEPTH - 2, "{\"a\":[]}"));
    CHECK(!nested_valid(LW_JSON_MAX_DEPTH - 1, "{\"a\":[]}"));
    CHECK(!nested_valid(100000, ""));
}

/* The plain-byte table: exactly 0x20..0x7f but '"' and '\\' are copied as they are. */
static void
test_plain_bytes(void)
{
    struct lw_buf b;
    lw_buf_init(&b);
    for (int c = 0; c < 256; c++) {
        char ch = (char)c;
        lw_json_write_string(&b, &ch, 1);
        bool raw = b.len == 3 && b.p[1] == ch;
        CHECK(raw == (c >= 0x20 && c < 0x80 && c != '"' && c != '\\'));
        b.len = 0;
        /* the same inside longer strings, where 8 bytes are checked at once */
        for (size_t at = 0; at < 16; at += 5) {
            char in[16];
            memset(in, 'a', sizeof in);
            in[at] = ch;
            lw_json_write_string(&b, in, sizeof in);
            raw = b.len == 18 && memcmp(b.p + 1, in, 16) == 0;
            CHECK(raw == (c >= 0x20 && c < 0x80 && c != '"' && c != '\\'));
            b.len = 0;
        }
    }
    lw_buf_fini(&b);
}

/* The double writer's fast path must give exactly the text of the reference method (shortest
 * of %.15g..%.17g that reads back), for decimal-looking values and for arbitrary bit patterns. */
static void
test_double_fast_path(void)
{
    struct lw_buf b;
    char ref[48];
    uint64_t x = 88172645463325252u; /* xorshift64: deterministic */
    int differ = 0;
    lw_buf_init(&b);
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        if (i % 3 == 0) {
            memcpy(&d, &x, sizeof d);
            if (!isfinite(d)) continue;
        } else {
            static const double scale[] = { 1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7 };
            d = (double)(int64_t)(x % 20000001 - 10000000) / scale[(x >> 40) % 8];
        }
        int n = 0;
        for (int prec = 15; prec <= 17; prec++) {
            n = snprintf(ref, sizeof ref - 3, "%.*g", prec, d);
            if (strtod(ref, NULL) == d) break;
        }
        if (strpbrk(ref, ".e") == NULL) memcpy(ref + n, ".0", 3);
        b.len = 0;
        lw_json_write_double(&b, d);
        differ += b.len != strlen(ref) || memcmp(b.p, ref, b.len) != 0;
    }
    CHECK(differ == 0);
    b.len = 0;
    lw_json_write_double(&b, 599.56);
    CHECK(b.len == 6 && memcmp(b.p, "599.56", 6) == 0);
    b.len = 0;
    lw_json_write_double(&b, -0.0001);
    CHECK(b.len == 7 && memcmp(b.p, "-0.0001", 7) == 0);
    lw_buf_fini(&b);
}

/* written: the length of p[0..n) as lw_json_write_string writes it. */
static size_t
written(const char *p, size_t n)
{
    struct lw_buf b;
    lw_buf_init(&b);
    lw_json_write_string(&b, p, n);
    size_t len = b.len;
    lw_buf_fini(&b);
    return len;
}

/* lw_json_string_fit at every room: the head it keeps fits, ends on a character, and the next
 * character would not fit. */
static void
test_string_fit(void)
{
    static const char *const cases[] = {
        "plain ascii",
        "q\"u\\o\nte\x01d\x1f",
        "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\t\x7f",
        "a\xff"
        "b\xc3"
        "c\xe2\x82",
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *p = cases[k];
        size_t len = strlen(p), whole = written(p, len);
        for (size_t room = 0; room <= whole + 2; room++) {
            size_t n = lw_json_string_fit(p, len, room);
            CHECK(n <= len);
            CHECK(room < 2 ? n == 0 : written(p, n) <= room);
            /* a character starts at n: not a continuation byte of a well-formed sequence */
            bool start = n == len || ((unsigned char)p[n] & 0xc0) != 0x80 ||
                         (n > 0 && (unsigned char)p[n - 1] < 0x80);
            CHECK(start);
            if (n < len && room >= 2) {
                size_t m = n + 1;
                while (m < len && ((unsigned char)p[m] & 0xc0) == 0x80 &&
                       (unsigned char)p[m - 1] >= 0x80)
                    m++;
                CHECK(written(p, m) > room);
            }
            if (room >= whole) CHECK(n == len);
        }
    }
    CHECK(lw_json_string_fit("abc", 3, SIZE_MAX) == 3);
}

void
test_json(void)
{
    test_double_fast_path();
    test_scan_keys();
    test_walk();
    test_unescape();
    test_numbers();
    test_writer();
    test_invalid();
    test_nul_and_big();
    test_depth();
    test_plain_bytes();
    test_string_fit();
}

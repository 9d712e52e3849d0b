/* Unit tests for kv: the W3 logfmt semantics (checked against shared/peers/w3.py's regex),
 * flags, garbage and unterminated quotes, other separators, early stop, and value typing. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lw/kv.h"
#include "unit.h"

/* The pairs of one parse, written as key=value| (key=<quoted>| when quoted, key| for a flag)
 * with a callback that stops after stop_after pairs when that is not 0. */
struct got {
    char text[512];
    size_t len;
    int n, stop_after;
    struct lw_str vals[16];
};

static int
collect(void *ud, struct lw_str key, struct lw_str val, bool quoted)
{
    struct got *g = ud;
    if (g->n < 16) g->vals[g->n] = val;
    g->n++;
    int w;
    if (val.p == NULL) {
        w = snprintf(g->text + g->len, sizeof g->text - g->len, "%.*s|", (int)key.len, key.p);
    } else {
        w = snprintf(g->text + g->len, sizeof g->text - g->len, "%.*s=%s%.*s%s|", (int)key.len,
                     key.p, quoted ? "<" : "", (int)val.len, val.p, quoted ? ">" : "");
    }
    if (w > 0) g->len += (size_t)w;
    return g->stop_after != 0 && g->n == g->stop_after;
}

/* Parse s with o and expect the pairs want and the return value rc (and erroff for -1). */
static bool
splits_opts(const char *s, const struct lw_kv_opts *o, const char *want, int rc, size_t want_off)
{
    struct got g = { .len = 0 };
    char scratch[256];
    size_t off = 999;
    int r = lw_kv_parse(s, strlen(s), o, scratch, collect, &g, &off);
    bool ok = r == rc && strcmp(g.text, want) == 0 && (rc == 0 || off == want_off);
    if (!ok) {
        fprintf(stderr, "  kv '%s': got %d '%s' (off %zu), want %d '%s' (off %zu)\n", s, r, g.text,
                off, rc, want, want_off);
    }
    return ok;
}

static bool
splits(const char *s, const char *want)
{
    return splits_opts(s, NULL, want, 0, 0);
}

static void
test_logfmt(void)
{
    /* the W3 table: what the reference regex ([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*) gives */
    CHECK(splits("a=1 b=two", "a=1|b=two|"));
    CHECK(splits("level=info caller=db.go:91 msg=ok", "level=info|caller=db.go:91|msg=ok|"));
    CHECK(splits("msg=\"request completed\"", "msg=<request completed>|"));
    CHECK(
        splits("msg=\"cache miss for key=user:42\" x=1", "msg=<cache miss for key=user:42>|x=1|"));
    CHECK(splits("msg=\"user said \\\"hi\\\" and left\"", "msg=<user said \"hi\" and left>|"));
    CHECK(splits("path=\"C:\\\\tmp\\\\x\"", "path=<C:\\tmp\\x>|"));
    CHECK(splits("msg=\"\" note=", "msg=<>|note=|"));
    CHECK(splits("note= ok=true", "note=|ok=true|"));
    CHECK(splits("msg=\"multi  space   value\"", "msg=<multi  space   value>|"));
    CHECK(splits("http.route=/api/v1/items/{id} delta=-29",
                 "http.route=/api/v1/items/{id}|delta=-29|"));
    CHECK(splits("msg=\"caf\xc3\xa9 ordered \xe2\x98\x95\"",
                 "msg=<caf\xc3\xa9 ordered \xe2\x98\x95>|"));
    CHECK(splits("  a=1 \t\t b=2\r\n", "a=1|b=2|"));
    CHECK(splits("", ""));
    CHECK(splits("   ", ""));
    /* unquoted values run to whitespace, whatever they hold */
    CHECK(splits("a=b=c", "a=b=c|"));
    CHECK(splits("a=x\"y z=1", "a=x\"y|z=1|"));
    CHECK(splits("x\"y=1", "x\"y=1|"));
    /* scanning goes on right after a closing quote */
    CHECK(splits("k=\"a\"b=c", "k=<a>|b=c|"));
    CHECK(splits("k=\"a\"\"b\"", "k=<a>|\"b\"|"));
    /* logfmt's escapes are Go's: \n \t \r \b \f \uXXXX (a pair is one code point, a lone
     * surrogate U+FFFD); any other byte after a backslash stands for itself */
    CHECK(splits("k=\"a\\nb\\\\\"", "k=<a\nb\\>|"));
    CHECK(splits("k=\"a\\ b\"", "k=<a b>|"));
    CHECK(splits("k=\"\\t\\r\\b\\f\\q\\/\"", "k=<\t\r\b\fq/>|"));
    CHECK(
        splits("k=\"\\u00e9\\u20AC\\ud83d\\ude00\"", "k=<\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80>|"));
    CHECK(splits("k=\"\\ud800x\\udc00\\u12\\u12G4\"", "k=<\xef\xbf\xbdx\xef\xbf\xbdu12u12G4>|"));
    /* flags and garbage */
    CHECK(splits("flag a=1 other", "flag|a=1|other|"));
    CHECK(splits("=x=y", "x=y|"));
    CHECK(splits("=x", "x|"));
    CHECK(splits("== =", ""));
    CHECK(splits("a =b", "a|b|"));
    CHECK(splits("a= b", "a=|b|"));
}

static void
test_garbage(void)
{
    /* an unterminated quote stops the parse at the quote, after the pairs before it */
    CHECK(splits_opts("a=1 key=\"unterminated", NULL, "a=1|", -1, 8));
    CHECK(splits_opts("k=\"abc\\\"", NULL, "", -1, 2));
    CHECK(splits_opts("k=\"abc\\", NULL, "", -1, 2));
    CHECK(splits_opts("a=1 k=\"", NULL, "a=1|", -1, 6));
    /* a quote anywhere but at the start of a value is text */
    CHECK(splits("k=a\"b c=\"d\"", "k=a\"b|c=<d>|"));
    CHECK(splits("\"k=v\"", "\"k=v\"|"));
    /* erroff may be NULL */
    char scratch[16];
    CHECK(lw_kv_parse("k=\"x", 4, NULL, scratch, collect, &(struct got){ .len = 0 }, NULL) == -1);
}

static void
test_options(void)
{
    struct lw_kv_opts comma = { .field_sep = ',', .kv_sep = '=', .quote = '"', .trim = true };
    CHECK(splits_opts("a = 1, b=\"x, y\" ,c=,  d ,,e=two words", &comma,
                      "a=1|b=<x, y>|c=|d|e=two words|", 0, 0));
    CHECK(splits_opts(" , =x, k = \"v\"", &comma, "k=<v>|", 0, 0));
    struct lw_kv_opts raw = { .field_sep = ',', .kv_sep = '=', .quote = '"' };
    CHECK(splits_opts("a = 1,b=2", &raw, "a = 1|b=2|", 0, 0));
    struct lw_kv_opts amp = { .field_sep = '&', .kv_sep = '=' };
    CHECK(splits_opts("q=1&r=a b&s&t=\"x\"", &amp, "q=1|r=a b|s|t=\"x\"|", 0, 0));
    /* separators of several bytes: matched whole, a partial one is text */
    struct lw_kv_opts arrow = { .field_sep = ' ',
                                .kv_sep = '=',
                                .quote = '"',
                                .trim = true,
                                .field_str = " | ",
                                .field_len = 3,
                                .kv_str = "=>",
                                .kv_len = 2 };
    CHECK(splits_opts("x=>1 | y=>a|b | z = > 2 |w=>\"a | b\"", &arrow,
                      "x=1|y=a|b|z = > 2 |w=<a | b>|", 0, 0));      /* no " | " before w */
    CHECK(splits_opts("=>x=>1 | | | y", &arrow, "x=1|||y|", 0, 0)); /* flags "|" and "y" */
    CHECK(splits_opts("x=>1 |  | | y", &arrow, "x=1|| y|", 0, 0));  /* " | " then "| y" */
    CHECK(splits_opts("a=>\"open | b=>2", &arrow, "", -1, 3));
    struct lw_kv_opts colon = { .field_sep = ' ', .kv_sep = ':', .quote = '"', .quote2 = '\'' };
    CHECK(splits_opts("a:'x y' b:\"it's\" c:'say \"hi\"'", &colon,
                      "a=<x y>|b=<it's>|c=<say \"hi\">|", 0, 0));
    CHECK(splits_opts("a:'x", &colon, "", -1, 2));
}

static void
test_scratch(void)
{
    /* unescaped values sit in scratch at their own offsets, so all of them stay valid */
    const char *s = "a=\"x\\\"1\" b=plain c=\"y\\\\2\"";
    char scratch[64];
    struct got g = { .len = 0 };
    CHECK(lw_kv_parse(s, strlen(s), NULL, scratch, collect, &g, NULL) == 0 && g.n == 3);
    CHECK(g.vals[0].len == 3 && memcmp(g.vals[0].p, "x\"1", 3) == 0);
    CHECK(g.vals[0].p == scratch + 3);
    CHECK(g.vals[1].p == s + 11); /* not escaped: points into s */
    CHECK(g.vals[2].len == 3 && memcmp(g.vals[2].p, "y\\2", 3) == 0);
    /* unescaping in place: scratch may be s itself */
    char line[] = "k=\"a\\\"b\" z=\"\\\\\"";
    g = (struct got){ .len = 0 };
    CHECK(lw_kv_parse(line, strlen(line), NULL, line, collect, &g, NULL) == 0);
    CHECK(strcmp(g.text, "k=<a\"b>|z=<\\>|") == 0);
    /* a callback returning non-zero stops the parse, which still returns 0 */
    g = (struct got){ .len = 0, .stop_after = 2 };
    CHECK(lw_kv_parse("a=1 b=2 c=3 k=\"x", 16, NULL, scratch, collect, &g, NULL) == 0);
    CHECK(g.n == 2 && strcmp(g.text, "a=1|b=2|") == 0);
}

/* The scanning takes eight bytes a round: keys and values of every length up to 20 end at each
 * place in a round and in the bytes after the last round, with each kind of options. */
static void
test_lengths(void)
{
    struct lw_kv_opts kv = { .field_sep = ' ',
                             .kv_sep = '=',
                             .quote = '"',
                             .keep_backslash = true,
                             .quoted_keys = true,
                             .strict_keys = true,
                             .join_after_quote = true };
    struct lw_kv_opts comma = { .field_sep = ',', .kv_sep = '=', .quote = '"', .trim = true };
    struct lw_kv_opts arrow = { .field_sep = ' ',
                                .kv_sep = '=',
                                .field_str = " | ",
                                .field_len = 3,
                                .kv_str = "=>",
                                .kv_len = 2 };
    const struct lw_kv_opts *opts[] = { NULL, &kv, &comma, &arrow };
    const char *fs[] = { " ", " ", ",", " | " }, *ks[] = { "=", "=", "=", "=>" };
    for (int o = 0; o < 4; o++) {
        for (int n = 1; n <= 20; n++) {
            char k[32], v[32], s[128], want[128];
            memset(k, 'k', (size_t)n);
            memset(v, 'v', (size_t)n);
            k[n] = v[n] = '\0';
            snprintf(s, sizeof s, "%s%s%s%sx%s1%s%s", k, ks[o], v, fs[o], ks[o], fs[o], k);
            snprintf(want, sizeof want, "%s=%s|x=1|%s|", k, v, k);
            CHECK(splits_opts(s, opts[o], want, 0, 0));
        }
    }
    /* a quoted value of many escaped quotes and backslashes, unescaped in place */
    char line[200] = "k=\"", want[100] = "k=<";
    for (int i = 0; i < 30; i++) {
        strcat(line, i % 3 ? "\\\"" : "\\\\");
        strcat(want, i % 3 ? "\"" : "\\");
    }
    strcat(line, "\" z=1");
    strcat(want, ">|z=1|");
    struct got g = { .len = 0 };
    CHECK(lw_kv_parse(line, strlen(line), NULL, line, collect, &g, NULL) == 0);
    CHECK(strcmp(g.text, want) == 0);
}

static enum lw_kv_type
cls(const char *s)
{
    return lw_kv_classify((struct lw_str){ s, strlen(s) });
}

static void
test_classify(void)
{
    CHECK(cls("0") == LW_KV_INT);
    CHECK(cls("-29") == LW_KV_INT);
    CHECK(cls("007") == LW_KV_INT);
    CHECK(cls("-0") == LW_KV_INT);
    CHECK(cls("9223372036854775807") == LW_KV_INT);
    CHECK(cls("-9223372036854775808") == LW_KV_INT);
    CHECK(cls("9223372036854775808") == LW_KV_FLOAT);
    CHECK(cls("-9223372036854775809") == LW_KV_FLOAT);
    CHECK(cls("3652.366") == LW_KV_FLOAT);
    CHECK(cls("-1.5") == LW_KV_FLOAT);
    CHECK(cls("0.0") == LW_KV_FLOAT);
    CHECK(cls("true") == LW_KV_BOOL);
    CHECK(cls("false") == LW_KV_BOOL);
    CHECK(cls("True") == LW_KV_STRING);
    CHECK(cls("falsey") == LW_KV_STRING);
    CHECK(cls("+5") == LW_KV_STRING);
    CHECK(cls("") == LW_KV_STRING);
    CHECK(cls("-") == LW_KV_STRING);
    CHECK(cls("1.") == LW_KV_STRING);
    CHECK(cls(".5") == LW_KV_STRING);
    CHECK(cls("-.5") == LW_KV_STRING);
    CHECK(cls("1e5") == LW_KV_STRING);
    CHECK(cls("1.2.3") == LW_KV_STRING);
    CHECK(cls("12abc") == LW_KV_STRING);
    CHECK(cls(" 1") == LW_KV_STRING);
    CHECK(cls("--1") == LW_KV_STRING);
    CHECK(cls("fc1bfc7a212e03bd") == LW_KV_STRING);
    CHECK(lw_kv_classify((struct lw_str){ NULL, 0 }) == LW_KV_STRING);
    char big[80];
    memset(big, '9', sizeof big);
    CHECK(lw_kv_classify((struct lw_str){ big, 63 }) == LW_KV_FLOAT);
    CHECK(lw_kv_classify((struct lw_str){ big, 64 }) == LW_KV_STRING);
    big[30] = '.';
    CHECK(lw_kv_classify((struct lw_str){ big, 63 }) == LW_KV_FLOAT);
    CHECK(lw_kv_classify((struct lw_str){ big, 70 }) == LW_KV_STRING);
}

static bool
int_is(const char *s, int64_t want)
{
    int64_t v = 42;
    return lw_parse_int((struct lw_str){ s, strlen(s) }, &v) == 0 && v == want;
}

static bool
int_bad(const char *s)
{
    int64_t v = 42;
    return lw_parse_int((struct lw_str){ s, strlen(s) }, &v) == -1 && v == 42;
}

static bool
float_is(const char *s, double want)
{
    double v = 42;
    return lw_parse_float((struct lw_str){ s, strlen(s) }, &v) == 0 && v == want;
}

static bool
float_bad(const char *s)
{
    double v = 42;
    return lw_parse_float((struct lw_str){ s, strlen(s) }, &v) == -1 && v == 42;
}

static void
test_numbers(void)
{
    CHECK(int_is("0", 0));
    CHECK(int_is("-0", 0));
    CHECK(int_is("+5", 5));
    CHECK(int_is("007", 7));
    CHECK(int_is("1069801", 1069801));
    CHECK(int_is("9223372036854775807", INT64_MAX));
    CHECK(int_is("-9223372036854775808", INT64_MIN));
    CHECK(int_is("+9223372036854775807", INT64_MAX));
    CHECK(int_bad("9223372036854775808"));
    CHECK(int_bad("-9223372036854775809"));
    CHECK(int_bad("99999999999999999999999"));
    CHECK(int_bad(""));
    CHECK(int_bad("-"));
    CHECK(int_bad("+"));
    CHECK(int_bad(" 1"));
    CHECK(int_bad("1 "));
    CHECK(int_bad("0x10"));
    CHECK(int_bad("1.0"));
    CHECK(int_bad("--1"));
    int64_t v;
    CHECK(lw_parse_int((struct lw_str){ "1\0002", 3 }, &v) == -1);
    CHECK(lw_parse_int((struct lw_str){ "12345", 3 }, &v) == 0 && v == 123);

    CHECK(float_is("3652.366", 3652.366));
    CHECK(float_is("-1.5", -1.5));
    CHECK(float_is("+3", 3.0));
    CHECK(float_is("42", 42.0));
    CHECK(float_is("1e3", 1000.0));
    CHECK(float_is("1E-3", 0.001));
    CHECK(float_is("2.5e+2", 250.0));
    CHECK(float_is(".5", 0.5));
    CHECK(float_is("5.", 5.0));
    CHECK(float_is("9223372036854775808", 9223372036854775808.0));
    CHECK(float_is("1e-400", 0.0));
    CHECK(float_bad("1e400"));
    CHECK(float_bad("-1e400"));
    CHECK(float_bad("inf"));
    CHECK(float_bad("-infinity"));
    CHECK(float_bad("nan"));
    CHECK(float_bad("0x1p3"));
    CHECK(float_bad(" 1"));
    CHECK(float_bad("1 "));
    CHECK(float_bad(""));
    CHECK(float_bad("-"));
    CHECK(float_bad("."));
    CHECK(float_bad("e5"));
    CHECK(float_bad("1e"));
    CHECK(float_bad("1e+"));
    CHECK(float_bad("1.2.3"));
    double d;
    CHECK(lw_parse_float((struct lw_str){ "1.25xyz", 4 }, &d) == 0 && d == 1.25);
    char big[80];
    memset(big, '1', sizeof big);
    CHECK(lw_parse_float((struct lw_str){ big, 63 }, &d) == 0 && d > 1e62 && !isinf(d));
    CHECK(lw_parse_float((struct lw_str){ big, 64 }, &d) == -1);
}

void
test_kv(void)
{
    test_logfmt();
    test_garbage();
    test_options();
    test_scratch();
    test_lengths();
    test_classify();
    test_numbers();
}

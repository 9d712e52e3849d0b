/* logwash_runner_set_explain and logwash_explanation: off by default; on, each match(), grok()
 * and dissect() with how far a non-match got, each emit with the variables; outputs and
 * results as without it; the size bounds; off again frees it. */
#include <logwash.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static struct logwash_template *
tmpl(const char *text)
{
    struct logwash_error e;
    struct logwash_compile_options o;
    logwash_compile_options_default(&o);
    o.name = "t.lw";
    struct logwash_template *t = logwash_compile(text, strlen(text), &o, &e);
    if (t == NULL) fprintf(stderr, "compile: %d:%d: %s\n", e.line, e.col, e.message);
    return t;
}

/* has: the explanation of the last record holds sub */
static int
has(struct logwash_runner *r, const char *sub)
{
    size_t len;
    const char *x = logwash_explanation(r, &len);
    if (strlen(x) != len || strstr(x, sub) == NULL) {
        fprintf(stderr, "explanation without '%s':\n%s\n", sub, x);
        return 0;
    }
    return 1;
}

static void
test_sites(void)
{
    struct logwash_template *t = tmpl("let g = grok(line, '%{IP:client} \\[%{HTTPDATE:ts}\\]')\n"
                                      "let d = dissect(line, '%{a} [%{b}] %{rest}')\n"
                                      "if match(line, /took (?<ms>\\d+)ms/) { emit {ms: ms} }\n"
                                      "emit {g: g, d: d}\n");
    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    CHECK(t != NULL && r != NULL);
    if (r == NULL) return;
    size_t len = 1;
    const char *line = "1.2.3.4 [06/Dec/2026 10:00] took 5s";
    /* off: nothing */
    CHECK(logwash_run(r, line, strlen(line), NULL) == LOGWASH_OK);
    CHECK(strcmp(logwash_explanation(r, &len), "") == 0 && len == 0);
    size_t n0;
    const struct logwash_output *o0 = logwash_outputs(r, &n0);
    char first[256];
    snprintf(first, sizeof first, "%.*s", n0 ? (int)o0[0].len : 0, n0 ? o0[0].data : "");

    CHECK(logwash_runner_set_explain(r, true) == 0);
    CHECK(logwash_run(r, line, strlen(line), NULL) == LOGWASH_OK);
    size_t n;
    const struct logwash_output *o = logwash_outputs(r, &n);
    CHECK(n == n0 && n == 1 && o[0].len == strlen(first) && memcmp(o[0].data, first, n) == 0);
    CHECK(has(r, "t.lw:1:9: grok(): '%{IP:client} \\[%{HTTPDATE:ts}\\]' did not match\n"
                 "  %{HTTPDATE:ts} did not match at byte 9 (the pattern before it matched bytes "
                 "0-9)\n"
                 "    1.2.3.4 [06/Dec/2026 10:00] t...\n"
                 "             ^\n"));
    CHECK(has(r, "t.lw:2:9: dissect(): matched\n"));
    CHECK(has(r, "t.lw:3:4: match(): /took (?<ms>\\d+)ms/ did not match\n"
                 "  a match could begin at byte 28, but byte 34 does not continue it\n"));
    CHECK(has(r, "t.lw:4:1: emit {\"g\":null,\"d\":{\"a\":\"1.2.3.4\",\"b\":\"06/Dec/2026 "
                 "10:00\",\"rest\":\"took 5s\"}}\n  g = null\n"));
    CHECK(has(r, "  ms = null\n"));

    /* a match: the bytes, and at the emit the capture */
    line = "1.2.3.4 [06/Dec/2026:10:00:00 +0000] took 5ms";
    CHECK(logwash_run(r, line, strlen(line), NULL) == LOGWASH_OK);
    CHECK(has(r, "' matched bytes 0-36\n"));
    CHECK(has(r, "/took (?<ms>\\d+)ms/ matched\n  bytes 37-45\n"));
    CHECK(has(r, "t.lw:3:39: emit {\"ms\":\"5\"}\n"));
    CHECK(has(r, "  ms = \"5\"\n"));

    /* dissect: the missing delimiter after its field */
    line = "1.2.3.4 06/Dec";
    CHECK(logwash_run(r, line, strlen(line), NULL) == LOGWASH_OK);
    CHECK(has(r, "  the delimiter \" [\" after %{a} is not in the subject from byte 0 on\n"));
    CHECK(has(r, "  '\\[' did not match at byte 8 (the pattern before it matched bytes 0-8)\n"));

    /* off again: no explanation, same outputs */
    CHECK(logwash_runner_set_explain(r, false) == 0);
    CHECK(logwash_run(r, line, strlen(line), NULL) == LOGWASH_OK);
    CHECK(strcmp(logwash_explanation(r, NULL), "") == 0);
    logwash_runner_free(r);
    logwash_template_free(t);
}

/* a failed record keeps its explanation; sites past 100 per record are counted, not explained */
static void
test_bounds(void)
{
    struct logwash_template *t =
        tmpl("for i in split(line, \",\") { let m = match(i, /x/) }\nreject \"no\"\n");
    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    CHECK(t != NULL && r != NULL);
    if (r == NULL) return;
    CHECK(logwash_runner_set_explain(r, true) == 0);
    char rec[301];
    for (int i = 0; i < 150; i++)
        memcpy(rec + 2 * i, "a,", 2);
    CHECK(logwash_run(r, rec, 299, NULL) == LOGWASH_REJECT);
    CHECK(has(r, "t.lw:1:37: match(): /x/ did not match\n  no byte of the subject can begin"));
    CHECK(has(r, "(50 more sites not explained: at most 100 per record)\n"));
    size_t len;
    logwash_explanation(r, &len);
    CHECK(len < 65536 + 100);
    logwash_runner_free(r); /* frees the explainer too (the leak checks of make asan) */
    logwash_template_free(t);
}

/* logwash_explanation_misses: the calls that did not match, of every kind; 0 when off */
static void
test_misses(void)
{
    struct logwash_template *t = tmpl("let g = grok(line, ['%{IP:ip} x', '%{WORD:w}'])\n"
                                      "let d = dissect(line, '%{a}:%{b}')\n"
                                      "let m = match(line, /^\\d+$/)\n"
                                      "emit {g: g, d: d, m: m}\n");
    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    CHECK(t != NULL && r != NULL);
    if (r == NULL) return;
    CHECK(logwash_run(r, "a:b", 3, NULL) == LOGWASH_OK);
    CHECK(logwash_explanation_misses(r) == 0); /* off */
    CHECK(logwash_runner_set_explain(r, true) == 0);
    CHECK(logwash_run(r, "12", 2, NULL) == LOGWASH_OK); /* grok's 2nd alternative: a match */
    CHECK(logwash_explanation_misses(r) == 1);          /* dissect */
    CHECK(logwash_run(r, "a:b", 3, NULL) == LOGWASH_OK);
    CHECK(logwash_explanation_misses(r) == 1); /* match */
    CHECK(logwash_run(r, "%%", 2, NULL) == LOGWASH_OK);
    CHECK(logwash_explanation_misses(r) == 3); /* all three */
    logwash_runner_free(r);
    logwash_template_free(t);
}

int
main(void)
{
    test_misses();
    test_sites();
    test_bounds();
    return check_summary();
}

/* The parts of liblogwash a program built on it uses (logwash(1) does): compile errors rendered
 * for a terminal (report), routes kept or ignored and topics checked at the emit
 * (routes, check_topic), outputs appended to the caller's buffer (logwash_run_into, and
 * logwash_run_batch for many records) as one
 * contiguous block, output counts, the bytecode listing, zone checks and time parsing.
 * Through the public header only. Prints "N passed, M failed" last; exits 1 on a failure. */
#include <logwash.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int
eq(const char *p, size_t len, const char *s)
{
    return p != NULL && strlen(s) == len && memcmp(p, s, len) == 0;
}

static struct logwash_template *
tmpl(const char *text)
{
    struct logwash_error e;
    struct logwash_template *t = logwash_compile(text, strlen(text), NULL, &e);
    if (t == NULL) fprintf(stderr, "compile: %d:%d: %s\n", e.line, e.col, e.message);
    return t;
}

struct reported {
    int calls;
    char text[2048];
};

static void
report(void *ud, const struct logwash_compile_error *e)
{
    struct reported *r = ud;
    if (e->line == 0) return; /* not the template's: the error struct says it */
    r->calls++;
    snprintf(r->text, sizeof r->text, "%s", e->text);
}

/* on_error: the template's errors as logwash(1) prints them (name:line:col, the line, a caret);
 * an error without a place is not the template's fault. */
static void
test_report(void)
{
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    struct reported got = { 0 };
    co.on_error = report;
    co.on_error_ud = &got;
    co.name = "t.lw";
    struct logwash_error e;
    const char *bad = "emit int(line\n";
    CHECK(logwash_compile(bad, strlen(bad), &co, &e) == NULL);
    CHECK(got.calls == 1);
    CHECK(strncmp(got.text, "t.lw:1:14: error: expected ')'", 30) == 0);
    CHECK(strstr(got.text, "\n    1 | emit int(line\n") != NULL);
    CHECK(strstr(got.text, "|              ^\n") != NULL);
    CHECK(strncmp(e.message, "expected ')'", 12) == 0);
    /* a type error: the span underlined */
    got = (struct reported){ 0 };
    const char *add = "emit 1 + \"a\"\n";
    CHECK(logwash_compile(add, strlen(add), &co, &e) == NULL);
    CHECK(got.calls == 1 &&
          strstr(got.text, "t.lw:1:6: error: cannot add int and string\n") == got.text);
    CHECK(strstr(got.text, "|      ^~~~~~~\n") != NULL && e.line == 1 && e.col == 6);
    /* an unreadable file is not the template's: no report, the error says why */
    got = (struct reported){ 0 };
    co.name = NULL;
    CHECK(logwash_compile_file("/nonexistent/t.lw", &co, &e) == NULL);
    CHECK(got.calls == 0 && strncmp(e.message, "cannot read /nonexistent/t.lw", 29) == 0);
    /* a good template: not called */
    struct logwash_template *t = logwash_compile("emit line", 9, &co, &e);
    CHECK(t != NULL && got.calls == 0);
    logwash_template_free(t);
}

static const char *
no_dots(void *ud, const char *topic, size_t len)
{
    (*(int *)ud)++;
    return memchr(topic, '.', len) ? "has a dot" : NULL;
}

/* routes: kept by default; off, the clauses are ignored (and never fail the record);
 * check_topic is asked at the emit, and its refusal is the emit's error. */
static void
test_routes(void)
{
    struct logwash_template *t = tmpl("emit line to \"t-\" + line key 5 headers {h: \"v\"}\n"
                                      "emit 1 to 7\n");
    CHECK(t != NULL);
    if (t == NULL) return;
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    CHECK(ro.routes && ro.check_topic == NULL);
    struct logwash_runner *r = logwash_runner_new(t, &ro, NULL);
    /* the second emit's topic is a number: an error when routes are kept */
    CHECK(logwash_run(r, "a", 1, NULL) == LOGWASH_ERROR);
    CHECK(strstr(logwash_runner_error(r)->message, "the topic must be a string") != NULL);
    logwash_runner_free(r);
    ro.routes = false;
    r = logwash_runner_new(t, &ro, NULL);
    CHECK(logwash_run(r, "a", 1, NULL) == LOGWASH_OK);
    size_t n;
    const struct logwash_output *o = logwash_outputs(r, &n);
    CHECK(n == 2 && !o[0].has_topic && !o[0].has_key && o[0].nheaders == 0);
    CHECK(!o[1].has_topic && eq(o[1].data, o[1].len, "1"));
    logwash_runner_free(r);
    logwash_template_free(t);

    /* empty strings in a fresh runner's routes: an empty key, not none; an empty header
     * value, not a null one */
    t = tmpl("emit 1 to \"\" key \"\"");
    r = logwash_runner_new(t, NULL, NULL);
    CHECK(logwash_run(r, "a", 1, NULL) == LOGWASH_OK);
    o = logwash_outputs(r, &n);
    CHECK(n == 1 && o[0].has_topic && o[0].topic != NULL && o[0].topic_len == 0);
    CHECK(o[0].has_key && o[0].key != NULL && o[0].key_len == 0 && o[0].nheaders == 0);
    logwash_runner_free(r);
    logwash_template_free(t);
    t = tmpl("emit 1 to \"\" key \"\" headers {h: \"\", n: null}");
    r = logwash_runner_new(t, NULL, NULL);
    CHECK(logwash_run(r, "a", 1, NULL) == LOGWASH_OK);
    o = logwash_outputs(r, &n);
    CHECK(n == 1 && o[0].has_topic && o[0].topic != NULL && o[0].topic_len == 0);
    CHECK(o[0].has_key && o[0].key != NULL && o[0].key_len == 0 && o[0].nheaders == 2);
    CHECK(o[0].headers[0].value != NULL && o[0].headers[0].value_len == 0);
    CHECK(eq(o[0].headers[1].name, o[0].headers[1].name_len, "n") && !o[0].headers[1].value);
    logwash_runner_free(r);
    logwash_template_free(t);

    t = tmpl("emit line to line");
    int asked = 0;
    ro.routes = true;
    ro.check_topic = no_dots;
    ro.check_topic_ud = &asked;
    r = logwash_runner_new(t, &ro, NULL);
    CHECK(logwash_run(r, "ok", 2, NULL) == LOGWASH_OK && asked == 1);
    o = logwash_outputs(r, &n);
    CHECK(n == 1 && o[0].has_topic && eq(o[0].topic, o[0].topic_len, "ok"));
    CHECK(logwash_run(r, "a.b", 3, NULL) == LOGWASH_ERROR && asked == 2);
    const struct logwash_error *e = logwash_runner_error(r);
    CHECK(strcmp(e->message, "emit ... to: 'a.b' has a dot") == 0 && e->line == 1 && e->col == 1);
    CHECK(logwash_outputs(r, &n) == NULL && n == 0);
    logwash_runner_free(r);
    logwash_template_free(t);
}

/* logwash_run_into: outputs appended after what the buffer holds, one contiguous block; a
 * failed record leaves the length alone; counts; the caller frees the buffer. */
static void
test_run_into(void)
{
    struct logwash_template *t = tmpl("if line == \"bad\" { emit 1; reject \"no\" }\n"
                                      "emit line\nprint \"p\"\nemit {n: 2}\n");
    CHECK(t != NULL);
    if (t == NULL) return;
    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    struct logwash_buffer b = { 0 };
    CHECK(logwash_run_into(r, "x", 1, NULL, &b) == LOGWASH_OK);
    const char *want1 = "\"x\"\np\n{\"n\":2}\n";
    CHECK(eq(b.data, b.len, want1) && b.cap >= b.len);
    size_t emitted, n = logwash_output_count(r, &emitted);
    CHECK(n == 3 && emitted == 2 && logwash_output_count(r, NULL) == 3);
    size_t m;
    const struct logwash_output *o = logwash_outputs(r, &m);
    CHECK(m == 3 && o[0].data == b.data && o[1].print && !o[2].print);
    for (size_t i = 0; i + 1 < m; i++)
        CHECK(o[i].data + o[i].len + 1 == o[i + 1].data);
    CHECK(eq(o[2].data, o[2].len, "{\"n\":2}"));
    size_t len1 = b.len;
    CHECK(logwash_run_into(r, "bad", 3, NULL, &b) == LOGWASH_REJECT);
    CHECK(b.len == len1 && logwash_output_count(r, &emitted) == 0 && emitted == 0);
    CHECK(logwash_run_into(r, "y", 1, NULL, &b) == LOGWASH_OK);
    CHECK(b.len == 2 * len1 && memcmp(b.data + len1, "\"y\"\n", 4) == 0);
    o = logwash_outputs(r, &m);
    CHECK(m == 3 && o[0].data == b.data + len1);
    /* max_output counts this record's bytes only, not what the buffer held before */
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.limits.max_output = 16;
    struct logwash_runner *r2 = logwash_runner_new(t, &ro, NULL);
    CHECK(logwash_run_into(r2, "x", 1, NULL, &b) == LOGWASH_OK);
    CHECK(logwash_run_into(r2, "0123456789abcdef", 16, NULL, &b) == LOGWASH_ERROR);
    CHECK(strstr(logwash_runner_error(r2)->message, "output limit of 16 bytes") != NULL);
    /* logwash_run afterwards keeps its outputs in the runner again */
    CHECK(logwash_run(r, "z", 1, NULL) == LOGWASH_OK);
    o = logwash_outputs(r, &m);
    CHECK(m == 3 && eq(o[0].data, o[0].len, "\"z\"") &&
          !(o[0].data >= b.data && o[0].data < b.data + b.cap));
    free(b.data);
    logwash_runner_free(r2);
    logwash_runner_free(r);
    logwash_template_free(t);
}

/* logwash_run_batch: records run in order into one buffer, each one's result, counts and end;
 * it stops after a failed record (its error is the runner's), at max_len, and with routes
 * after each record with outputs (so logwash_outputs describes it); n = 0 runs nothing. */
static void
test_run_batch(void)
{
    struct logwash_template *t = tmpl("if line == \"bad\" { emit 1; reject \"no\" }\n"
                                      "if line == \"none\" { drop }\n"
                                      "emit line\nprint \"p\"\n");
    CHECK(t != NULL);
    if (t == NULL) return;
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.routes = false;
    struct logwash_runner *r = logwash_runner_new(t, &ro, NULL);
    struct logwash_record recs[] = { { "a", 1, NULL },
                                     { "none", 4, NULL },
                                     { "bb", 2, NULL },
                                     { "bad", 3, NULL },
                                     { "c", 1, NULL } };
    struct logwash_record_result res[5];
    struct logwash_buffer b = { 0 };
    CHECK(logwash_run_batch(r, recs, 0, &b, SIZE_MAX, res) == 0 && b.len == 0);
    CHECK(logwash_run_batch(r, recs, 5, &b, SIZE_MAX, res) == 4);
    CHECK(eq(b.data, b.len, "\"a\"\np\n\"bb\"\np\n"));
    CHECK(res[0].result == LOGWASH_OK && res[0].outputs == 2 && res[0].emitted == 1);
    CHECK(res[0].end == 6);
    CHECK(res[1].result == LOGWASH_DROP && res[1].outputs == 0 && res[1].end == 6);
    CHECK(res[2].result == LOGWASH_OK && res[2].end == 13);
    CHECK(res[3].result == LOGWASH_REJECT && res[3].outputs == 0 && res[3].end == 13);
    const struct logwash_error *e = logwash_runner_error(r);
    CHECK(strcmp(e->message, "no") == 0 && e->line == 1);
    /* the rest, after what the buffer holds; the last record's outputs are the runner's */
    CHECK(logwash_run_batch(r, recs + 4, 1, &b, SIZE_MAX, res) == 1);
    CHECK(res[0].result == LOGWASH_OK && res[0].end == 19 && b.len == 19);
    size_t n;
    const struct logwash_output *o = logwash_outputs(r, &n);
    CHECK(n == 2 && o[0].data == b.data + 13 && eq(o[0].data, o[0].len, "\"c\""));
    CHECK(logwash_runner_error(r)->message[0] == '\0' && logwash_runner_error(r)->line == 0);
    /* max_len: no record begins once the buffer holds that much (the first always runs) */
    b.len = 0;
    CHECK(logwash_run_batch(r, recs, 3, &b, 1, res) == 1 && b.len == 6);
    b.len = 0;
    CHECK(logwash_run_batch(r, recs, 3, &b, 7, res) == 3 && b.len == 13);
    logwash_runner_free(r);
    /* routes kept: a record with outputs ends the batch; one without does not */
    r = logwash_runner_new(t, NULL, NULL);
    b.len = 0;
    CHECK(logwash_run_batch(r, recs + 1, 2, &b, SIZE_MAX, res) == 2);
    CHECK(res[0].result == LOGWASH_DROP && res[1].result == LOGWASH_OK && res[1].outputs == 2);
    b.len = 0;
    CHECK(logwash_run_batch(r, recs, 3, &b, SIZE_MAX, res) == 1 && b.len == 6);
    o = logwash_outputs(r, &n);
    CHECK(n == 2 && !o[0].has_topic && o[0].data == b.data);
    free(b.data);
    logwash_runner_free(r);
    logwash_template_free(t);
}

static void
test_helpers(void)
{
    struct logwash_template *t = tmpl("emit line + \"!\"");
    CHECK(t != NULL);
    if (t == NULL) return;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(logwash_template_disasm(t, f) == 0);
    fclose(f);
    CHECK(len > 0 && strstr(text, "EMIT") != NULL && strstr(text, "1:1") != NULL);
    free(text);
    logwash_template_free(t);

    struct logwash_error e;
    CHECK(logwash_tz_check("UTC", &e) == 0 && logwash_tz_check("+05:30", NULL) == 0);
    CHECK(logwash_tz_check("No/Such_Zone", &e) == -1 && e.message[0] != '\0' && e.line == 0);
    CHECK(logwash_tz_check("../etc/passwd", &e) == -1);

    int64_t ns = 42;
    CHECK(logwash_parse_time("2026-03-01T12:00:00Z", 20, &ns) == 0);
    CHECK(ns == INT64_C(1772366400) * 1000000000);
    CHECK(logwash_parse_time("2026-03-01T13:00:00+01:00", 25, &ns) == 0);
    CHECK(ns == INT64_C(1772366400) * 1000000000);
    CHECK(logwash_parse_time("1772366400", 10, &ns) == 0);
    CHECK(ns == INT64_C(1772366400) * 1000000000);
    CHECK(logwash_parse_time("1772366400.5", 12, &ns) == 0);
    CHECK(ns == INT64_C(1772366400) * 1000000000 + 500000000);
    ns = 7;
    CHECK(logwash_parse_time("yesterday", 9, &ns) == -1 && ns == 7);
    CHECK(logwash_parse_time("2026-03-01T12:00:00Z", 10, &ns) == -1 && ns == 7);
    CHECK(logwash_parse_time(NULL, 0, &ns) == -1);
}

/* framing declared by the template; patterns described for people */
static void
test_framing_patterns(void)
{
    struct logwash_framing fr;
    struct logwash_template *t = tmpl("multiline start /^\\d/\nemit line");
    CHECK(t != NULL);
    if (t != NULL) {
        logwash_template_framing(t, &fr);
        CHECK(fr.start != NULL && strstr(fr.start, "^\\d") != NULL && fr.cont == NULL &&
              !fr.indent);
        logwash_template_free(t);
    }
    t = tmpl("emit line");
    CHECK(t != NULL);
    if (t != NULL) {
        logwash_template_framing(t, &fr);
        CHECK(fr.start == NULL && fr.cont == NULL && !fr.indent);
        logwash_template_free(t);
    }

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct logwash_error e;
    CHECK(logwash_patterns_describe(NULL, "IPV4", false, f, &e) == 0);
    fclose(f);
    CHECK(text != NULL && strncmp(text, "IPV4 (", 6) == 0 && strstr(text, "fields: none") != NULL);
    free(text);
    text = NULL;
    f = open_memstream(&text, &len);
    CHECK(logwash_patterns_describe(NULL, NULL, false, f, &e) == 0);
    fclose(f);
    CHECK(text != NULL && strstr(text, "\nIPV4 ") != NULL && strstr(text, "\nNUMBER ") != NULL);
    free(text);
    text = NULL;
    f = open_memstream(&text, &len);
    CHECK(logwash_patterns_describe(NULL, "IPV44", false, f, &e) == -1);
    fclose(f);
    CHECK(len == 0);
    free(text);
    CHECK(strncmp(e.message, "no grok pattern 'IPV44'", 23) == 0 &&
          strstr(e.message, "IPV4") != NULL);
    const char *dirs[] = { "/nonexistent/patterns" };
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    co.pattern_dirs = dirs;
    co.npattern_dirs = 1;
    CHECK(logwash_patterns_describe(&co, NULL, false, stdout, &e) == -1 &&
          strstr(e.message, "/nonexistent/patterns") != NULL);
}

int
main(void)
{
    test_report();
    test_routes();
    test_run_into();
    test_run_batch();
    test_helpers();
    test_framing_patterns();
    return check_summary();
}

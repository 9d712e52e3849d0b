/* logwash_compile_options.coverage, logwash_template_coverage, logwash_template_file and
 * logwash_runner_coverage: the points of statements and of both outcomes of if, ?:, ??, &&,
 * || and a comprehension's if,
 * with their places; the counts over records; a function's points in the imported file that
 * defines it; nothing without coverage; outputs as without it. */
#include <logwash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static struct logwash_template *
tmpl(const char *text, bool coverage, const char *const *lib)
{
    struct logwash_error e;
    struct logwash_compile_options o;
    logwash_compile_options_default(&o);
    o.name = "t.lw";
    o.coverage = coverage;
    if (lib != NULL) {
        o.import_paths = lib;
        o.nimport_paths = 1;
    }
    struct logwash_template *t = logwash_compile(text, strlen(text), &o, &e);
    if (t == NULL) fprintf(stderr, "compile: %d:%d: %s\n", e.line, e.col, e.message);
    return t;
}

static const char text[] = "input json\n"
                           "let s = .s ?? 0\n"
                           "if s > 1 {\n"
                           "    emit {big: s > 9 ? \"very\" : \"a bit\"}\n"
                           "}\n"
                           "emit {s: s}\n";

static void
run(struct logwash_runner *r, const char *rec)
{
    CHECK(logwash_run(r, rec, strlen(rec), NULL) == LOGWASH_OK);
}

static void
test_points(void)
{
    struct logwash_template *t = tmpl(text, true, NULL);
    CHECK(t != NULL);
    if (t == NULL) return;
    size_t n;
    const struct logwash_coverage_point *p = logwash_template_coverage(t, &n);
    /* let, ?? (2), if, if (2), emit, ?: (2), emit */
    CHECK(n == 10);
    if (n != 10) return;
    CHECK(p[0].kind == LOGWASH_COVERAGE_STATEMENT && p[0].line == 2 &&
          p[0].col == 5); /* a let's span: its name */
    CHECK(p[1].kind == LOGWASH_COVERAGE_DEFAULT && p[1].outcome == 1 && p[1].line == 2 &&
          p[1].col == 9);
    CHECK(p[2].kind == LOGWASH_COVERAGE_DEFAULT && p[2].outcome == 0);
    CHECK(p[3].kind == LOGWASH_COVERAGE_STATEMENT && p[3].line == 3);
    CHECK(p[4].kind == LOGWASH_COVERAGE_IF && p[4].outcome == 1 && p[4].line == 3 && p[4].col == 4);
    CHECK(p[5].kind == LOGWASH_COVERAGE_IF && p[5].outcome == 0);
    CHECK(p[6].kind == LOGWASH_COVERAGE_STATEMENT && p[6].line == 4 && p[6].col == 5);
    CHECK(p[7].kind == LOGWASH_COVERAGE_CONDITIONAL && p[7].outcome == 1 && p[7].line == 4 &&
          p[7].col == 16);
    CHECK(p[8].kind == LOGWASH_COVERAGE_CONDITIONAL && p[8].outcome == 0);
    CHECK(p[9].kind == LOGWASH_COVERAGE_STATEMENT && p[9].line == 6);
    for (size_t i = 0; i < n; i++)
        CHECK(p[i].file == 0);
    const char *src;
    size_t len;
    CHECK(strcmp(logwash_template_file(t, 0, &src, &len), "t.lw") == 0);
    CHECK(len == strlen(text) && memcmp(src, text, len) == 0);
    CHECK(logwash_template_file(t, 1, NULL, NULL) == NULL);

    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    CHECK(r != NULL);
    if (r == NULL) return;
    const uint64_t *c = logwash_runner_coverage(r);
    CHECK(c != NULL);
    for (size_t i = 0; c != NULL && i < n; i++)
        CHECK(c[i] == 0);
    run(r, "{\"s\": 5}");
    run(r, "{}");
    c = logwash_runner_coverage(r);
    static const uint64_t want[] = { 2, 1, 1, 2, 1, 1, 1, 0, 1, 2 };
    for (size_t i = 0; i < n; i++) {
        if (c[i] != want[i]) fprintf(stderr, "point %zu: %llu\n", i, (unsigned long long)c[i]);
        CHECK(c[i] == want[i]);
    }
    size_t no;
    const struct logwash_output *o = logwash_outputs(r, &no);
    CHECK(no == 1 && o[0].len == 7 && memcmp(o[0].data, "{\"s\":0}", 7) == 0);
    logwash_runner_free(r);

    /* without coverage: no points, no counts, the same outputs */
    struct logwash_template *u = tmpl(text, false, NULL);
    CHECK(u != NULL);
    if (u != NULL) {
        CHECK(logwash_template_coverage(u, &n) == NULL && n == 0);
        r = logwash_runner_new(u, NULL, NULL);
        CHECK(r != NULL && logwash_runner_coverage(r) == NULL);
        run(r, "{\"s\": 5}");
        o = logwash_outputs(r, &no);
        CHECK(no == 2 && o[0].len == 15 && memcmp(o[0].data, "{\"big\":\"a bit\"}", 15) == 0);
        logwash_runner_free(r);
        logwash_template_free(u);
    }
    logwash_template_free(t);
}

/* a function's points are in the file that defines it */
static void
test_import(void)
{
    char dir[] = "/tmp/lwcovXXXXXX";
    if (mkdtemp(dir) == NULL) {
        CHECK(!"mkdtemp");
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "%s/lib.lw", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL) return;
    fputs("fn half(x) {\n    return x > 1 ? x / 2 : x\n}\n", f);
    fclose(f);
    const char *lib[] = { dir };
    struct logwash_template *t =
        tmpl("import \"lib.lw\"\ninput json\nemit {h: half(.n ?? 1)}\n", true, lib);
    CHECK(t != NULL);
    if (t != NULL) {
        size_t n;
        const struct logwash_coverage_point *p = logwash_template_coverage(t, &n);
        /* the template: emit, ?? (2); lib.lw: return, ?: (2) */
        CHECK(n == 6);
        if (n == 6) {
            CHECK(p[0].file == 0 && p[0].line == 3 && p[1].file == 0 && p[2].file == 0);
            CHECK(p[3].file == 1 && p[3].line == 2 && p[3].col == 5 &&
                  p[3].kind == LOGWASH_COVERAGE_STATEMENT);
            CHECK(p[4].file == 1 && p[4].kind == LOGWASH_COVERAGE_CONDITIONAL && p[4].col == 12);
        }
        const char *name = logwash_template_file(t, 1, NULL, NULL);
        CHECK(name != NULL && strstr(name, "lib.lw") != NULL);
        struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
        if (r != NULL && n == 6) {
            run(r, "{\"n\": 8}");
            const uint64_t *c = logwash_runner_coverage(r);
            CHECK(c[0] == 1 && c[1] == 1 && c[2] == 0 && c[3] == 1 && c[4] == 1 && c[5] == 0);
        }
        logwash_runner_free(r);
        logwash_template_free(t);
    }
    remove(path);
    rmdir(dir);
}

/* && and || (at the operator: the left side true, false) and a comprehension's if (an element
 * kept, left out), counted */
static void
test_logic(void)
{
    static const char lt[] = "input json\n"
                             "emit {a: .a == 1 && .b == 2, o: .a == 1 || .b == 2,\n"
                             "      k: [x for x in [1, 2, 3] if x > .a]}\n";
    struct logwash_template *t = tmpl(lt, true, NULL);
    CHECK(t != NULL);
    if (t == NULL) return;
    size_t n;
    const struct logwash_coverage_point *p = logwash_template_coverage(t, &n);
    CHECK(n == 7);
    if (n != 7) {
        logwash_template_free(t);
        return;
    }
    CHECK(p[1].kind == LOGWASH_COVERAGE_AND && p[1].outcome == 1 && p[1].line == 2 &&
          p[1].col == 18);
    CHECK(p[2].kind == LOGWASH_COVERAGE_AND && p[2].outcome == 0);
    CHECK(p[3].kind == LOGWASH_COVERAGE_OR && p[3].outcome == 1 && p[3].col == 41);
    CHECK(p[4].kind == LOGWASH_COVERAGE_OR && p[4].outcome == 0);
    CHECK(p[5].kind == LOGWASH_COVERAGE_FILTER && p[5].outcome == 1 && p[5].line == 3 &&
          p[5].col == 35);
    CHECK(p[6].kind == LOGWASH_COVERAGE_FILTER && p[6].outcome == 0);
    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    CHECK(r != NULL);
    if (r != NULL) {
        run(r, "{\"a\": 1, \"b\": 3}"); /* && false on the right, || true: the right skipped */
        run(r, "{\"a\": 2, \"b\": 2}"); /* && short, || runs its right side */
        const uint64_t *c = logwash_runner_coverage(r);
        CHECK(c != NULL && c[1] == 1 && c[2] == 1 && c[3] == 1 && c[4] == 1);
        CHECK(c != NULL && c[5] == 3 && c[6] == 3); /* kept 2 + 1, left out 1 + 2 */
        logwash_runner_free(r);
    }
    logwash_template_free(t);
}

int
main(void)
{
    test_points();
    test_import();
    test_logic();
    return check_summary();
}

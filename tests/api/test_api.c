/* liblogwash through its public header only, built with `pkg-config --cflags --libs logwash`
 * against a staged install (tests/api/run.sh): compile errors, several outputs of a record,
 * failed records leaving no output, limits, undecodable input, meta, routing, zones and now()
 * per runner. Prints "N passed, M failed" last; exits 1 when a check failed. */
#include <logwash.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* eq: do the len bytes at p equal the C string s? */
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

static enum logwash_result
run_s(struct logwash_runner *r, const char *rec)
{
    return logwash_run(r, rec, strlen(rec), NULL);
}

static void
test_defaults(void)
{
    CHECK(strcmp(logwash_version(), LOGWASH_VERSION) == 0);
    struct logwash_limits l;
    logwash_limits_default(&l);
    CHECK(l.steps == 1000000 && l.match_limit == 10000000 && l.depth_limit == 10000);
    CHECK(l.max_output == 16777216 && l.max_memory == 67108864 && l.regex_budget == 67108864);
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    CHECK(ro.limits.steps == LOGWASH_DEFAULT_STEPS && ro.tz == NULL);
    CHECK(ro.now_ns == LOGWASH_NOW_CLOCK && ro.input == LOGWASH_INPUT_DEFAULT);
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    CHECK(co.jit && co.name == NULL && co.npattern_dirs == 0 && co.import_paths == NULL);
}

/* import_paths: `import` finds files there; an error in an imported file is put at the
 * template's import, its message naming the file's own line:col. */
static void
test_imports(struct logwash_compile_options *co, struct logwash_error *e)
{
    char dir[] = "/tmp/lw-api-lib-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char good[64], bad[64];
    snprintf(good, sizeof good, "%s/mask.lw", dir);
    snprintf(bad, sizeof bad, "%s/bad.lw", dir);
    FILE *f = fopen(good, "w");
    fputs("fn mask(s) { return \"${substr(s, 0, 2)}**\" }\n", f);
    fclose(f);
    f = fopen(bad, "w");
    fputs("# broken\nfn oops(s) { return nope }\n", f);
    fclose(f);
    logwash_compile_options_default(co);
    const char *paths[] = { dir };
    co->import_paths = paths;
    co->nimport_paths = 1;
    const char *src = "import \"mask.lw\"\nemit mask(line)";
    struct logwash_template *t = logwash_compile(src, strlen(src), co, e);
    CHECK(t != NULL);
    struct logwash_runner *r = logwash_runner_new(t, NULL, e);
    size_t n = 0;
    CHECK(r != NULL && run_s(r, "abcdef") == LOGWASH_OK);
    const struct logwash_output *o = logwash_outputs(r, &n);
    CHECK(n == 1 && eq(o[0].data, o[0].len, "\"ab**\""));
    logwash_runner_free(r);
    logwash_template_free(t);
    src = "emit 1\nimport \"bad.lw\"";
    CHECK(logwash_compile(src, strlen(src), co, e) == NULL);
    CHECK(e->line == 2 && e->col == 8);
    CHECK(strstr(e->message, "in ") == e->message && strstr(e->message, "bad.lw:2:21: ") != NULL);
    src = "import \"none.lw\"";
    CHECK(logwash_compile(src, strlen(src), co, e) == NULL && e->line == 1 &&
          strstr(e->message, "cannot find 'none.lw'") != NULL);
    unlink(good);
    unlink(bad);
    rmdir(dir);
}

static void
test_compile_errors(void)
{
    struct logwash_error e;
    const char *syn = "emit {a: 1";
    CHECK(logwash_compile(syn, strlen(syn), NULL, &e) == NULL);
    CHECK(e.line == 1 && e.col == 11);
    CHECK(strcmp(e.message, "expected '}' to close '{' at 1:6, found the end of the template") ==
          0);

    const char *fn = "emit 1\nemit nosuch(line)";
    CHECK(logwash_compile(fn, strlen(fn), NULL, &e) == NULL);
    CHECK(e.line == 2 && e.col == 6);
    CHECK(strstr(e.message, "unknown function 'nosuch'") != NULL);

    CHECK(logwash_compile_file("/nonexistent/dir/t.lw", NULL, &e) == NULL);
    CHECK(e.line == 0 && e.col == 0);
    CHECK(strcmp(e.message, "cannot read /nonexistent/dir/t.lw: No such file or directory") == 0);

    /* a template read from a file is named by its path */
    char path[] = "/tmp/logwash-api-XXXXXX";
    FILE *f = fdopen(mkstemp(path), "w");
    fputs("emit line\n", f);
    fclose(f);
    struct logwash_template *t = logwash_compile_file(path, NULL, &e);
    CHECK(t != NULL && strcmp(logwash_template_name(t), path) == 0);
    struct logwash_runner *r = logwash_runner_new(t, NULL, &e);
    size_t n = 0;
    CHECK(r != NULL && run_s(r, "abc") == LOGWASH_OK);
    const struct logwash_output *o = logwash_outputs(r, &n);
    CHECK(n == 1 && eq(o[0].data, o[0].len, "\"abc\""));
    logwash_runner_free(r);
    logwash_template_free(t);
    unlink(path);

    struct logwash_compile_options co;
    test_imports(&co, &e);
    logwash_compile_options_default(&co);
    co.name = "mine.lw";
    t = logwash_compile("emit 1", 6, &co, &e);
    CHECK(t != NULL && strcmp(logwash_template_name(t), "mine.lw") == 0);
    logwash_template_free(t);
}

/* What on_error was given (test_every_error). */
struct seen {
    int n;
    char file[8][96], msg[8][200];
    int line[8], col[8];
    unsigned count;
    bool more, text_ok;
};

static void
seen_error(void *ud, const struct logwash_compile_error *e)
{
    struct seen *s = ud;
    char head[400];
    snprintf(head, sizeof head, "%s:%d:%d: error: %s\n", e->file, e->line, e->col, e->message);
    s->text_ok = (s->n == 0 || s->text_ok) && strncmp(e->text, head, strlen(head)) == 0 &&
                 strchr(e->text + strlen(head), '^') != NULL && e->index == (unsigned)s->n;
    if (s->n < 8) {
        snprintf(s->file[s->n], sizeof s->file[0], "%s", e->file);
        snprintf(s->msg[s->n], sizeof s->msg[0], "%s", e->message);
        s->line[s->n] = e->line;
        s->col[s->n] = e->col;
    }
    s->n++;
    s->count = e->count;
    s->more = e->more;
}

/* on_error: every error, in the order of their places, each with its file, line:col and text
 * as logwash(1) prints it; the first is also the struct logwash_error; max_errors stops the
 * compilation; an error in an imported file names that file. */
static void
test_every_error(void)
{
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    CHECK(co.on_error == NULL && co.on_error_ud == NULL && co.max_errors == 0);
    struct seen s = { 0 };
    co.on_error = seen_error;
    co.on_error_ud = &s;
    co.name = "t.lw";
    struct logwash_error e;
    /* a broken let still declares x; a syntax error, an unknown function, a missing comma */
    const char *src = "let x = (1 +\nemit x\nemit nosuch(1)\nemit {a: 1 b: 2}\n";
    CHECK(logwash_compile(src, strlen(src), &co, &e) == NULL);
    CHECK(s.n == 3 && s.count == 3 && !s.more && s.text_ok);
    CHECK(s.line[0] == 2 && s.col[0] == 1 && s.line[1] == 3 && s.col[1] == 6);
    CHECK(s.line[2] == 4 && s.col[2] == 12 && strcmp(s.file[2], "t.lw") == 0);
    CHECK(strstr(s.msg[1], "unknown function 'nosuch'") == s.msg[1]);
    CHECK(strcmp(s.msg[2], "missing ',' between object members") == 0);
    CHECK(e.line == 2 && e.col == 1 && strcmp(e.message, s.msg[0]) == 0);

    memset(&s, 0, sizeof s); /* the limit */
    co.max_errors = 2;
    src = "emit a\nemit b\nemit c\n";
    CHECK(logwash_compile(src, strlen(src), &co, &e) == NULL);
    CHECK(s.n == 2 && s.count == 2 && s.more && s.line[1] == 2);

    memset(&s, 0, sizeof s); /* a template that compiles: no call */
    struct logwash_template *t = logwash_compile("emit 1", 6, &co, &e);
    CHECK(t != NULL && s.n == 0);
    logwash_template_free(t);

    char dir[] = "/tmp/lw-api-errs-XXXXXX"; /* errors in an imported file */
    CHECK(mkdtemp(dir) != NULL);
    char lib[64];
    snprintf(lib, sizeof lib, "%s/two.lw", dir);
    FILE *f = fopen(lib, "w");
    fputs("fn one(a) { return a + }\nfn two(b) { return nope }\n", f);
    fclose(f);
    const char *paths[] = { dir };
    co.import_paths = paths;
    co.nimport_paths = 1;
    co.max_errors = 0;
    memset(&s, 0, sizeof s);
    src = "import \"two.lw\"\nemit one(1) + undefined_here";
    CHECK(logwash_compile(src, strlen(src), &co, &e) == NULL);
    CHECK(s.n == 3 && s.text_ok && strcmp(s.file[0], "t.lw") == 0 && s.line[0] == 2);
    CHECK(strcmp(s.file[1], lib) == 0 && s.line[1] == 1 && s.col[1] == 24);
    CHECK(strcmp(s.file[2], lib) == 0 && s.line[2] == 2 && s.col[2] == 20);
    CHECK(e.line == 2 && e.col == 15); /* the first by place: the template's */
    unlink(lib);
    rmdir(dir);
}

static void
test_outputs(void)
{
    struct logwash_template *t = tmpl("emit {a: 1, x: .x}\nemit .x\nprint \"hello ${.x}\"");
    CHECK(t != NULL);
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.input = LOGWASH_INPUT_JSON;
    struct logwash_runner *r = logwash_runner_new(t, &ro, NULL);
    CHECK(r != NULL);
    CHECK(run_s(r, "{\"x\":\"w\"}") == LOGWASH_OK);
    size_t n;
    const struct logwash_output *o = logwash_outputs(r, &n);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(eq(o[0].data, o[0].len, "{\"a\":1,\"x\":\"w\"}") && !o[0].print);
        CHECK(o[0].data[o[0].len] == '\n');
        CHECK(eq(o[1].data, o[1].len, "\"w\"") && !o[1].print);
        CHECK(eq(o[2].data, o[2].len, "hello w") && o[2].print);
        CHECK(!o[0].has_topic && !o[0].has_key && o[0].nheaders == 0);
    }
    CHECK(logwash_runner_error(r)->message[0] == '\0');
    logwash_runner_free(r);

    /* the text encoder; drop keeps what was emitted before it, as logwash(1) does */
    struct logwash_template *t2 = tmpl("emit \"a b\"\nif line == \"d\" { drop }\nemit 2");
    ro.input = LOGWASH_INPUT_DEFAULT;
    ro.output = LOGWASH_OUTPUT_TEXT;
    r = logwash_runner_new(t2, &ro, NULL);
    CHECK(run_s(r, "x") == LOGWASH_OK);
    o = logwash_outputs(r, &n);
    CHECK(n == 2 && eq(o[0].data, o[0].len, "a b") && eq(o[1].data, o[1].len, "2"));
    CHECK(run_s(r, "d") == LOGWASH_DROP);
    o = logwash_outputs(r, &n);
    CHECK(n == 1 && eq(o[0].data, o[0].len, "a b"));
    logwash_runner_free(r);
    logwash_template_free(t2);
    logwash_template_free(t);
}

static void
test_failed_records(void)
{
    struct logwash_template *t =
        tmpl("emit 1\nemit 2\nif line == \"r\" { reject \"bad ${line}\" }\n"
             "emit 10 // len(line)\nemit line");
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.limits.max_output = 64;
    struct logwash_runner *r = logwash_runner_new(t, &ro, NULL);
    size_t n = 99;
    /* a runtime error after two emits: nothing of the record is kept */
    CHECK(run_s(r, "") == LOGWASH_ERROR);
    CHECK(logwash_outputs(r, &n) == NULL && n == 0);
    const struct logwash_error *e = logwash_runner_error(r);
    CHECK(e->line == 4 && e->col == 6 && strcmp(e->message, "division by zero") == 0);
    /* a reject */
    CHECK(run_s(r, "r") == LOGWASH_REJECT);
    logwash_outputs(r, &n);
    CHECK(n == 0);
    CHECK(e->line == 3 && strcmp(e->message, "bad r") == 0);
    /* too much output: the last emit passes max_output, the first three go too */
    char big[100];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(run_s(r, big) == LOGWASH_ERROR);
    logwash_outputs(r, &n);
    CHECK(n == 0 && e->line == 5);
    CHECK(strstr(e->message, "output limit of 64 bytes per record exceeded") != NULL);
    /* the runner goes on with a clean record */
    CHECK(run_s(r, "ab") == LOGWASH_OK);
    const struct logwash_output *o = logwash_outputs(r, &n);
    CHECK(n == 4 && eq(o[2].data, o[2].len, "5") && eq(o[3].data, o[3].len, "\"ab\""));
    CHECK(e->message[0] == '\0' && e->line == 0);
    logwash_runner_free(r);
    logwash_template_free(t);
}

static void
test_limits(void)
{
    /* 1024^3 iterations: only the step limit ends it */
    struct logwash_template *t =
        tmpl("let s = \"x\"\n"
             "for i in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] { s = s + \",\" + s }\n"
             "let a = split(s, \",\")\nlet n = 0\n"
             "for x in a { for y in a { for z in a { n = n + 1 } } }\nemit n");
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.limits.steps = 100000;
    struct logwash_runner *r = logwash_runner_new(t, &ro, NULL);
    CHECK(run_s(r, "") == LOGWASH_ERROR);
    const struct logwash_error *e = logwash_runner_error(r);
    CHECK(strstr(e->message, "step limit of 100000 instructions exceeded") != NULL);
    CHECK(e->line >= 2 && e->line <= 5);
    logwash_runner_free(r);
    logwash_template_free(t);

    t = tmpl(
        "let s = line\nfor i in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, "
        "19, 20, 21, 22] { s = s + s }\nemit len(s)");
    logwash_runner_options_default(&ro);
    ro.limits.max_memory = 100000;
    r = logwash_runner_new(t, &ro, NULL);
    CHECK(run_s(r, "x") == LOGWASH_ERROR);
    e = logwash_runner_error(r);
    CHECK(e->line == 2 && strstr(e->message, "memory limit of 100000 bytes") != NULL);
    /* the same runner with room enough */
    struct logwash_limits l;
    logwash_limits_default(&l);
    logwash_runner_set_limits(r, &l);
    size_t n;
    CHECK(run_s(r, "x") == LOGWASH_OK);
    const struct logwash_output *o = logwash_outputs(r, &n);
    CHECK(n == 1 && eq(o[0].data, o[0].len, "4194304"));
    logwash_runner_free(r);
    logwash_template_free(t);

    /* a regex that backtracks past the match limit */
    t = tmpl("if match(line, /^(a+)+$/) { emit 1 } else { emit 0 }");
    logwash_runner_options_default(&ro);
    ro.limits.match_limit = 1000;
    r = logwash_runner_new(t, &ro, NULL);
    CHECK(run_s(r, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab") == LOGWASH_ERROR);
    CHECK(strstr(logwash_runner_error(r)->message, "limit") != NULL);
    CHECK(run_s(r, "aaaa") == LOGWASH_OK);
    logwash_runner_free(r);
    logwash_template_free(t);
}

static void
test_undecodable(void)
{
    struct logwash_template *t = tmpl("input json\nemit .a");
    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    size_t n;
    CHECK(run_s(r, "{bad") == LOGWASH_UNDECODABLE);
    const struct logwash_error *e = logwash_runner_error(r);
    CHECK(e->line == 0 && strcmp(e->message, "invalid JSON at byte 2: expected string key, "
                                             "found 'b'") == 0);
    logwash_outputs(r, &n);
    CHECK(n == 0);
    CHECK(run_s(r, "{\"a\":[1,2]}") == LOGWASH_OK);
    const struct logwash_output *o = logwash_outputs(r, &n);
    CHECK(n == 1 && eq(o[0].data, o[0].len, "[1,2]"));
    logwash_runner_free(r);
    logwash_template_free(t);
}

static void
test_meta(void)
{
    struct logwash_template *t = tmpl("emit meta");
    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    size_t n;
    const struct logwash_output *o;
    struct logwash_meta m = {
        .kind = LOGWASH_META_FILE, .source = "app.log", .source_len = 7, .line = 42
    };
    CHECK(logwash_run(r, "x", 1, &m) == LOGWASH_OK);
    o = logwash_outputs(r, &n);
    CHECK(n == 1 && eq(o[0].data, o[0].len, "{\"source\":\"app.log\",\"line\":42}"));
    struct logwash_header h[2] = { { "h1", 2, "v1", 2 }, { "h2", 2, NULL, 0 } };
    m = (struct logwash_meta){ .kind = LOGWASH_META_KAFKA,
                               .topic = "in",
                               .topic_len = 2,
                               .partition = 3,
                               .offset = 77,
                               .has_key = true,
                               .key = "k1",
                               .key_len = 2,
                               .has_timestamp = true,
                               .timestamp_ms = 1704164645123,
                               .headers = h,
                               .nheaders = 2 };
    CHECK(logwash_run(r, "x", 1, &m) == LOGWASH_OK);
    o = logwash_outputs(r, &n);
    CHECK(n == 1 && eq(o[0].data, o[0].len,
                       "{\"topic\":\"in\",\"partition\":3,\"offset\":77,\"key\":\"k1\","
                       "\"timestamp\":\"2024-01-02T03:04:05.123Z\",\"headers\":{\"h1\":\"v1\","
                       "\"h2\":null}}"));
    CHECK(logwash_run(r, "x", 1, NULL) == LOGWASH_OK);
    o = logwash_outputs(r, &n);
    CHECK(n == 1 && eq(o[0].data, o[0].len, "null"));
    logwash_runner_free(r);
    logwash_template_free(t);
}

static void
test_routing(void)
{
    struct logwash_template *t =
        tmpl("input json\nemit .v to \"t\" key \"k\"\nemit 2 to .topic key 5 headers {a: \"x\", b: "
             "true, c: null}\nemit 3\nif .bad { emit 4 to 5 }");
    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    char rec[] = "{\"v\":1,\"topic\":\"routed\"}";
    CHECK(run_s(r, rec) == LOGWASH_OK);
    memset(rec, 'z', sizeof rec - 1); /* the outputs hold copies, not the record's bytes */
    size_t n;
    const struct logwash_output *o = logwash_outputs(r, &n);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(eq(o[0].data, o[0].len, "1") && o[0].has_topic &&
              eq(o[0].topic, o[0].topic_len, "t"));
        CHECK(o[0].has_key && eq(o[0].key, o[0].key_len, "k") && o[0].nheaders == 0);
        CHECK(o[1].has_topic && eq(o[1].topic, o[1].topic_len, "routed"));
        CHECK(o[1].has_key && eq(o[1].key, o[1].key_len, "5") && o[1].nheaders == 3);
        const struct logwash_header *h = o[1].headers;
        CHECK(eq(h[0].name, h[0].name_len, "a") && eq(h[0].value, h[0].value_len, "x"));
        CHECK(eq(h[1].name, h[1].name_len, "b") && eq(h[1].value, h[1].value_len, "true"));
        CHECK(eq(h[2].name, h[2].name_len, "c") && h[2].value == NULL);
        CHECK(!o[2].has_topic && !o[2].has_key && o[2].nheaders == 0 && o[2].headers == NULL);
    }
    CHECK(run_s(r, "{\"v\":1,\"topic\":\"x\",\"bad\":true}") == LOGWASH_ERROR);
    CHECK(strstr(logwash_runner_error(r)->message, "the topic must be a string") != NULL);
    logwash_outputs(r, &n);
    CHECK(n == 0);
    logwash_runner_free(r);
    logwash_template_free(t);
}

static void
test_zones_now(void)
{
    struct logwash_template *t =
        tmpl("emit format_time(parse_time(line, \"%Y-%m-%d %H:%M\"), \"rfc3339\")\n"
             "emit format_time(now(), \"rfc3339\")");
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.tz = "Europe/Paris";
    ro.now_ns = 1704164645000000000; /* 2024-01-02T03:04:05Z */
    struct logwash_error e;
    struct logwash_runner *a = logwash_runner_new(t, &ro, &e);
    ro.tz = "+05:30";
    ro.now_ns = 0;
    struct logwash_runner *b = logwash_runner_new(t, &ro, &e);
    CHECK(a != NULL && b != NULL);
    size_t n;
    const struct logwash_output *o;
    for (int i = 0; i < 2; i++) { /* interleaved: each runner keeps its own */
        CHECK(run_s(a, "2024-07-01 12:00") == LOGWASH_OK);
        o = logwash_outputs(a, &n);
        CHECK(n == 2 && eq(o[0].data, o[0].len, "\"2024-07-01T12:00:00+02:00\""));
        CHECK(n == 2 && eq(o[1].data, o[1].len, "\"2024-01-02T03:04:05Z\""));
        CHECK(run_s(b, "2024-07-01 12:00") == LOGWASH_OK);
        o = logwash_outputs(b, &n);
        CHECK(n == 2 && eq(o[0].data, o[0].len, "\"2024-07-01T12:00:00+05:30\""));
        CHECK(n == 2 && eq(o[1].data, o[1].len, "\"1970-01-01T00:00:00Z\""));
    }
    CHECK(logwash_runner_set_tz(a, "No/Such_Zone", &e) == -1 && e.message[0] != '\0');
    CHECK(run_s(a, "2024-01-01 12:00") == LOGWASH_OK); /* unchanged: winter in Paris */
    o = logwash_outputs(a, &n);
    CHECK(n == 2 && eq(o[0].data, o[0].len, "\"2024-01-01T12:00:00+01:00\""));
    CHECK(logwash_runner_set_tz(a, NULL, &e) == 0);
    logwash_runner_set_now(a, LOGWASH_NOW_CLOCK);
    CHECK(run_s(a, "2024-01-01 12:00") == LOGWASH_OK);
    o = logwash_outputs(a, &n);
    CHECK(n == 2 && eq(o[0].data, o[0].len, "\"2024-01-01T12:00:00Z\""));
    CHECK(n == 2 && o[1].len > 5 && memcmp(o[1].data, "\"20", 3) == 0); /* the clock: 20xx */
    ro.tz = "Mars/Olympus";
    CHECK(logwash_runner_new(t, &ro, &e) == NULL && strstr(e.message, "Mars/Olympus") != NULL);
    logwash_runner_free(a);
    logwash_runner_free(b);
    logwash_template_free(t);
}

/* logwash_runner_steps: instructions counted per record and summed; the same record costs
 * the same; a longer loop costs more; a record stopped by the step limit costs exactly the
 * limit; a rejected record counts its steps, an undecodable one none. */
static void
test_steps(void)
{
    struct logwash_template *t = tmpl("for x in split(line, \",\") { emit x }");
    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    CHECK(r != NULL && logwash_runner_steps(r) == 0);
    CHECK(run_s(r, "a") == LOGWASH_OK);
    uint64_t one = logwash_runner_steps(r);
    CHECK(one > 0);
    CHECK(run_s(r, "a") == LOGWASH_OK && logwash_runner_steps(r) == 2 * one);
    CHECK(run_s(r, "a,b,c,d") == LOGWASH_OK);
    uint64_t four = logwash_runner_steps(r) - 2 * one;
    CHECK(four > one);
    logwash_runner_free(r);
    logwash_template_free(t);

    t = tmpl("let s = \"x\"\n"
             "for i in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] { s = s + \",\" + s }\n"
             "let a = split(s, \",\")\nlet n = 0\n"
             "for x in a { for y in a { for z in a { n = n + 1 } } }\nemit n");
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.limits.steps = 1000;
    r = logwash_runner_new(t, &ro, NULL);
    CHECK(r != NULL && run_s(r, "") == LOGWASH_ERROR);
    CHECK(logwash_runner_steps(r) == 1000);
    CHECK(run_s(r, "") == LOGWASH_ERROR && logwash_runner_steps(r) == 2000);
    logwash_runner_free(r);
    logwash_template_free(t);

    t = tmpl("input json\nif .k == \"no\" { reject \"no\" }\nemit .");
    r = logwash_runner_new(t, NULL, NULL);
    CHECK(run_s(r, "{\"k\": \"no\"}") == LOGWASH_REJECT);
    uint64_t rej = logwash_runner_steps(r);
    CHECK(rej > 0);
    CHECK(run_s(r, "{bad") == LOGWASH_UNDECODABLE && logwash_runner_steps(r) == rej);
    logwash_runner_free(r);
    logwash_template_free(t);
}

int
main(void)
{
    test_defaults();
    test_compile_errors();
    test_every_error();
    test_outputs();
    test_failed_records();
    test_limits();
    test_undecodable();
    test_meta();
    test_routing();
    test_zones_now();
    test_steps();
    return check_summary();
}

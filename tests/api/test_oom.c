/* Out of memory inside liblogwash is an error, never an abort: this program replaces malloc,
 * calloc and realloc (the library's and pcre2's allocations come here) with glibc's own
 * behind a switch that fails the Nth allocation, and for N = 1, 2, ... compiles a template,
 * makes a runner and runs records until a pass completes without reaching N. Each failure
 * must come back as an error (compile/runner: NULL with a message; run: LOGWASH_NOMEM or
 * the record's normal result), the runner must give the right outputs on the next record,
 * and after everything is freed no allocation may be left (a leak after a longjmp).
 * Skipped under the sanitizers, which own malloc. Prints "N passed, M failed". */
#include <logwash.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
int
main(void)
{
    printf("0 passed, 0 failed (skipped: the sanitizer owns malloc)\n");
    return 0;
}
#else

#include "check.h"

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);

static long countdown; /* > 0: the allocation that brings it to 0 fails */
static long live;      /* allocations not yet freed */
static int hit;        /* the armed failure happened */

static int
fail_now(void)
{
    if (countdown <= 0) return 0;
    if (--countdown > 0) return 0;
    hit = 1;
    return 1;
}

void *
malloc(size_t n)
{
    if (fail_now()) return NULL;
    void *p = __libc_malloc(n);
    if (p) live++;
    return p;
}

void *
calloc(size_t n, size_t size)
{
    if (fail_now()) return NULL;
    void *p = __libc_calloc(n, size);
    if (p) live++;
    return p;
}

void *
realloc(void *p, size_t n)
{
    if (fail_now()) return NULL;
    void *q = __libc_realloc(p, n);
    if (q && !p) live++;
    return q;
}

void
free(void *p)
{
    if (p) live--;
    __libc_free(p);
}

static const char text[] =
    "input json\n"
    "let z = format_time(parse_time(.ts, \"%Y-%m-%d %H:%M\"), \"rfc3339\", \"Europe/Paris\")\n"
    "if match(.msg, /^(?<verb>\\w+) (?<rest>.*)$/) { emit {verb: verb, rest: upper(rest)} }\n"
    "let g = grok(.msg, \"%{WORD:w} %{GREEDYDATA:r}\")\n"
    "let parts = split(.msg, \" \")\n"
    "let s = \"\"\n"
    "for p in parts { s = s + p + \"|\" }\n"
    "emit {z: z, g: g, s: s, j: to_json(.), n: len(parts), m: meta} to \"out\" key .msg "
    "headers {a: \"b\", c: 1}\n"
    "print \"done ${s}\"\n";

static const char rec[] = "{\"ts\":\"2024-07-01 12:00\",\"msg\":\"hello big wide world of logs\","
                          "\"nested\":{\"a\":[1,2,3,{\"b\":\"c\"}]}}";

/* expected: the outputs of rec, from a run without failures; plain: their bytes, as a
 * runner without routes appends them (logwash_run_batch) */
static char expected[8192];
static char plain[8192];
static size_t plain_len;

/* batch: logwash_run_batch on three copies of rec under the armed failure: the records before
 * the last one run gave plain each; the last gave plain, or failed for memory (nothing
 * appended). Then, unarmed, the runner runs a batch right. */
static void
batch(struct logwash_runner *r, const struct logwash_meta *m, int *nomem)
{
    struct logwash_record recs[3] = { { rec, sizeof rec - 1, m },
                                      { rec, sizeof rec - 1, m },
                                      { rec, sizeof rec - 1, m } };
    struct logwash_record_result res[3];
    struct logwash_buffer b = { 0 };
    size_t ran = logwash_run_batch(r, recs, 3, &b, SIZE_MAX, res);
    CHECK(ran >= 1 && ran <= 3);
    for (size_t i = 0; i < ran; i++) {
        size_t start = i ? res[i - 1].end : 0;
        if (res[i].result == LOGWASH_OK) {
            CHECK(res[i].end - start == plain_len && memcmp(b.data + start, plain, plain_len) == 0);
            continue;
        }
        CHECK(i == ran - 1 && hit && res[i].end == start && b.len == start);
        if (res[i].result == LOGWASH_NOMEM) {
            CHECK(strcmp(logwash_runner_error(r)->message, "out of memory") == 0);
            (*nomem)++;
        } else {
            CHECK(res[i].result == LOGWASH_ERROR);
            CHECK(strstr(logwash_runner_error(r)->message, "memory") != NULL);
        }
    }
    CHECK(ran == 3 || res[ran - 1].result != LOGWASH_OK);
    countdown = 0;
    b.len = 0;
    CHECK(logwash_run_batch(r, recs, 3, &b, SIZE_MAX, res) == 3 && b.len == 3 * plain_len);
    free(b.data);
}

static size_t
render(struct logwash_runner *r, enum logwash_result res, char *buf, size_t cap)
{
    size_t n, len = (size_t)snprintf(buf, cap, "%d:", (int)res);
    const struct logwash_output *o = logwash_outputs(r, &n);
    for (size_t i = 0; i < n && len < cap; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "[%.*s|%.*s|%.*s|%zu]", (int)o[i].len,
                                o[i].data, (int)o[i].topic_len, o[i].has_topic ? o[i].topic : "",
                                (int)o[i].key_len, o[i].has_key ? o[i].key : "", o[i].nheaders);
    }
    return len;
}

/* pass: one compile, runner, three records. Returns 1 when the armed failure was reached. */
static int
pass(long n, int *nomem)
{
    struct logwash_error e = { 0 };
    char got[8192];
    struct logwash_meta m = {
        .kind = LOGWASH_META_FILE, .source = "f", .source_len = 1, .line = 1
    };
    hit = 0;
    countdown = n;
    struct logwash_template *t = logwash_compile(text, sizeof text - 1, NULL, &e);
    if (t == NULL) {
        countdown = 0;
        CHECK(hit && e.message[0] != '\0');
        if (strcmp(e.message, "out of memory") == 0) (*nomem)++;
        return 1;
    }
    struct logwash_runner *r = logwash_runner_new(t, NULL, &e);
    if (r == NULL) {
        countdown = 0;
        CHECK(hit && strcmp(e.message, "out of memory") == 0);
        (*nomem)++;
        logwash_template_free(t);
        return 1;
    }
    for (int k = 0; k < 3; k++) {
        enum logwash_result res = logwash_run(r, rec, sizeof rec - 1, &m);
        if (res == LOGWASH_NOMEM) {
            size_t no;
            CHECK(hit && logwash_outputs(r, &no) == NULL && no == 0);
            CHECK(strcmp(logwash_runner_error(r)->message, "out of memory") == 0);
            (*nomem)++;
        } else if (hit && res == LOGWASH_ERROR) {
            /* pcre2 out of memory inside a match is a runtime error of the record */
            CHECK(strstr(logwash_runner_error(r)->message, "memory") != NULL);
        } else {
            render(r, res, got, sizeof got);
            CHECK(strcmp(got, expected) == 0);
        }
    }
    long left = countdown;
    countdown = 0;
    /* the same under logwash_run_batch (its runner made unarmed, then the failure armed
     * again with what is left of the countdown) */
    if (!hit) {
        struct logwash_runner_options ro;
        logwash_runner_options_default(&ro);
        ro.routes = false;
        struct logwash_runner *rb = logwash_runner_new(t, &ro, &e);
        CHECK(rb != NULL);
        if (rb != NULL) {
            countdown = left;
            batch(rb, &m, nomem);
            logwash_runner_free(rb);
        }
    }
    countdown = 0;
    /* whatever happened, the runner still works */
    enum logwash_result res = logwash_run(r, rec, sizeof rec - 1, &m);
    render(r, res, got, sizeof got);
    CHECK(strcmp(got, expected) == 0);
    logwash_runner_free(r);
    logwash_template_free(t);
    return hit;
}

int
main(void)
{
    struct logwash_meta m = {
        .kind = LOGWASH_META_FILE, .source = "f", .source_len = 1, .line = 1
    };
    struct logwash_template *t = logwash_compile(text, sizeof text - 1, NULL, NULL);
    CHECK(t != NULL);
    if (t == NULL) return 1;
    struct logwash_runner *r = logwash_runner_new(t, NULL, NULL);
    enum logwash_result res = logwash_run(r, rec, sizeof rec - 1, &m);
    CHECK(res == LOGWASH_OK);
    render(r, res, expected, sizeof expected);
    logwash_runner_free(r);
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.routes = false;
    r = logwash_runner_new(t, &ro, NULL);
    struct logwash_buffer b = { 0 };
    CHECK(logwash_run_into(r, rec, sizeof rec - 1, &m, &b) == LOGWASH_OK);
    CHECK(b.len > 0 && b.len < sizeof plain);
    plain_len = b.len;
    memcpy(plain, b.data, b.len);
    free(b.data);
    logwash_runner_free(r);
    logwash_template_free(t);
    printf("expected: %s\n", expected); /* stdout's buffer is allocated before counting */
    long base = live, n;
    int nomem = 0, leaks = 0;
    for (n = 1; n < 100000; n++) {
        int reached = pass(n, &nomem);
        if (live != base) {
            if (leaks++ < 5) fprintf(stderr, "failing allocation %ld: %ld left\n", n, live - base);
            base = live;
        }
        if (!reached) break;
    }
    CHECK(leaks == 0);
    CHECK(n > 40);     /* the template really allocates: many points were tried */
    CHECK(nomem > 20); /* and most were out-of-memory errors, not crashes */
    printf("%ld allocation points, %d out-of-memory errors\n", n - 1, nomem);
    return check_summary();
}
#endif

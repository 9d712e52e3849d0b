/* Lookup tables through the public header only: loading from memory and files, errors, sets
 * attached to runners, compile-time checks of declared names, a reload (a new set attached
 * between records), and 4 threads reading one set, each switching to a second one half-way,
 * so the first is freed by whichever runner lets it go last (`make tsan` checks the races).
 * Prints "N passed, M failed". */
#include <logwash.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define NTHREADS 4
#define NREC     4000

static const char csv[] = "cid,name\n1,Spring\n2,\"Winter, cold\"\n";
static const char geo[] = "net,cc\n10.0.0.0/8,A\n10.1.0.0/16,B\n2001:db8::/32,V6\n";

static struct logwash_table *
load(const char *name, const char *text, bool ip)
{
    struct logwash_table_options o;
    logwash_table_options_default(&o);
    o.ip = ip;
    struct logwash_error e;
    struct logwash_table *t = logwash_table_load(name, text, strlen(text), &o, &e);
    if (t == NULL) fprintf(stderr, "load: %s\n", e.message);
    return t;
}

/* run1: the first output of rec, or the error, into buf. */
static const char *
run1(struct logwash_runner *r, const char *rec, char *buf, size_t cap)
{
    enum logwash_result res = logwash_run(r, rec, strlen(rec), NULL);
    size_t n;
    const struct logwash_output *out = logwash_outputs(r, &n);
    if (res == LOGWASH_OK && n > 0)
        snprintf(buf, cap, "%.*s", (int)out[0].len, out[0].data);
    else
        snprintf(buf, cap, "error %d:%d: %s", logwash_runner_error(r)->line,
                 logwash_runner_error(r)->col, logwash_runner_error(r)->message);
    return buf;
}

static void
basics(void)
{
    struct logwash_tables *s = logwash_tables_new();
    struct logwash_table *c = load("c.csv", csv, false), *g = load("g.csv", geo, true);
    CHECK(c != NULL && g != NULL && logwash_table_rows(c) == 2 && logwash_table_bytes(c) > 0);
    CHECK(logwash_tables_add(s, "campaigns", c, NULL) == 0);
    CHECK(logwash_tables_add(s, "geo", g, NULL) == 0);
    logwash_table_free(c); /* the set holds them */
    logwash_table_free(g);

    const char *names[] = { "campaigns", "geo" };
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    co.tables = names;
    co.ntables = 2;
    const char *text = "input json\nemit {c: lookup(\"campaigns\", .cid), g: lookup_ip(\"geo\", "
                       ".ip)}\n";
    struct logwash_error e;
    struct logwash_template *t = logwash_compile(text, strlen(text), &co, &e);
    CHECK(t != NULL);
    struct logwash_runner *r = logwash_runner_new(t, NULL, &e);
    logwash_runner_set_tables(r, s);
    char buf[640];
    CHECK(strcmp(run1(r, "{\"cid\":2,\"ip\":\"10.1.2.3\"}", buf, sizeof buf),
                 "{\"c\":{\"cid\":\"2\",\"name\":\"Winter, cold\"},\"g\":{\"net\":\"10.1.0.0/16\","
                 "\"cc\":\"B\"}}") == 0);
    CHECK(strcmp(run1(r, "{\"cid\":\"3\",\"ip\":\"2001:db8::7\"}", buf, sizeof buf),
                 "{\"c\":null,\"g\":{\"net\":\"2001:db8::/32\",\"cc\":\"V6\"}}") == 0);
    CHECK(strcmp(run1(r, "{\"cid\":1,\"ip\":\"999.1.1.1\"}", buf, sizeof buf),
                 "error 2:40: lookup_ip(): \"999.1.1.1\" is not an IPv4 or IPv6 address") == 0);
    /* the set is in use: fixed */
    struct logwash_table *x = load("x.csv", "k\n1\n", false);
    CHECK(logwash_tables_add(s, "x", x, &e) == -1 &&
          strcmp(e.message, "the set of tables is in use by a runner: make a new set") == 0);

    /* a reload: a new set between two records; the old one goes when the runner lets it go */
    struct logwash_tables *s2 = logwash_tables_new();
    struct logwash_table *c2 = load("c2.csv", "cid,name\n1,Autumn\n", false);
    CHECK(logwash_tables_add(s2, "campaigns", c2, NULL) == 0);
    logwash_table_free(c2);
    logwash_tables_free(s); /* the runner still has it */
    CHECK(strcmp(run1(r, "{\"cid\":1}", buf, sizeof buf),
                 "{\"c\":{\"cid\":\"1\",\"name\":\"Spring\"},\"g\":null}") == 0);
    logwash_runner_set_tables(r, s2); /* s is freed here */
    CHECK(strcmp(run1(r, "{\"cid\":1}", buf, sizeof buf),
                 "error 2:40: lookup_ip(): no table named 'geo' (1 table loaded)") == 0);
    CHECK(strcmp(run1(r, "{\"cid\":1,\"ip\":null}", buf, sizeof buf),
                 "error 2:40: lookup_ip(): no table named 'geo' (1 table loaded)") == 0);
    logwash_runner_set_tables(r, NULL);
    CHECK(strncmp(run1(r, "{\"cid\":1}", buf, sizeof buf),
                  "error 2:10: lookup(): no table named 'campaigns' (0 tables", 56) == 0);
    logwash_tables_free(s2);
    logwash_table_free(x);
    logwash_runner_free(r);
    logwash_template_free(t);

    /* declared names: an unknown one is a compile error with a suggestion */
    const char *bad = "emit lookup(\"campaign\", line)";
    CHECK(logwash_compile(bad, strlen(bad), &co, &e) == NULL && e.line == 1 && e.col == 13 &&
          strcmp(e.message, "lookup(): no table named 'campaign' (did you mean 'campaigns'?)") ==
              0);
    const char *nonlit = "let n = \"geo\"\nemit lookup(n, line)";
    CHECK(logwash_compile(nonlit, strlen(nonlit), NULL, &e) == NULL && e.line == 2 &&
          strcmp(e.message, "lookup() needs the table's name as a string literal, like "
                            "lookup(\"geo\", ...)") == 0);
}

static void
errors(void)
{
    struct logwash_table_options o;
    logwash_table_options_default(&o);
    struct logwash_error e;
    const char *t1 = "a,b\n1,2,3\n";
    CHECK(logwash_table_load("t.csv", t1, strlen(t1), &o, &e) == NULL &&
          strcmp(e.message, "t.csv:2: more fields than the header's 2") == 0 && e.line == 0);
    o.max_bytes = 5;
    CHECK(logwash_table_load("t.csv", t1, strlen(t1), &o, &e) == NULL &&
          strcmp(e.message, "t.csv: 10 bytes, more than the table's bound of 5 bytes") == 0);
    CHECK(logwash_table_load_file("/nonexistent/t.csv", NULL, &e) == NULL &&
          strcmp(e.message, "cannot read /nonexistent/t.csv: No such file or directory") == 0);
    o.max_bytes = 1 << 20;
    o.ip = true;
    const char *t2 = "net\n::/129\n";
    CHECK(logwash_table_load("g.csv", t2, strlen(t2), &o, &e) == NULL &&
          strcmp(e.message, "g.csv:2: \"::/129\": prefix length 129 is over 128") == 0);
    o.ip = false;
    o.last_wins = true;
    const char *t3 = "k,v\n1,a\n1,b\n";
    struct logwash_table *t = logwash_table_load("d.csv", t3, strlen(t3), &o, &e);
    CHECK(t != NULL && logwash_table_duplicates(t) == 1 && logwash_table_rows(t) == 2);
    logwash_table_free(t);
}

/* threads: each runner reads set A for half of its records, then switches to B itself. */
static struct logwash_template *tmpl;
struct job {
    struct logwash_runner *r;
    struct logwash_tables *b;
    int good;
};

static void *
worker(void *arg)
{
    struct job *j = arg;
    char rec[64], buf[640];
    for (int i = 0; i < NREC; i++) {
        if (i == NREC / 2) logwash_runner_set_tables(j->r, j->b);
        snprintf(rec, sizeof rec, "%d", i % 3);
        run1(j->r, rec, buf, sizeof buf);
        const char *want = i % 3 == 0     ? "null"
                           : i < NREC / 2 ? (i % 3 == 1 ? "\"Spring\"" : "\"Winter, cold\"")
                                          : (i % 3 == 1 ? "\"one\"" : "\"two\"");
        if (strcmp(buf, want) == 0) j->good++;
    }
    return NULL;
}

static void
threads(void)
{
    const char *text = "emit lookup(\"c\", line).name ?? null";
    struct logwash_error e;
    tmpl = logwash_compile(text, strlen(text), NULL, &e);
    CHECK(tmpl != NULL);
    struct logwash_tables *a = logwash_tables_new(), *b = logwash_tables_new();
    struct logwash_table *ta = load("a.csv", csv, false);
    struct logwash_table *tb = load("b.csv", "id,name\n1,one\n2,two\n", false);
    logwash_tables_add(a, "c", ta, NULL);
    logwash_tables_add(b, "c", tb, NULL);
    logwash_table_free(ta);
    logwash_table_free(tb);
    struct job jobs[NTHREADS];
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        jobs[i] = (struct job){ .r = logwash_runner_new(tmpl, NULL, &e), .b = b };
        logwash_runner_set_tables(jobs[i].r, a);
    }
    logwash_tables_free(a); /* only the runners hold a now: the last to switch frees it */
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    logwash_tables_free(b);
    for (int i = 0; i < NTHREADS; i++) {
        CHECK(jobs[i].good == NREC);
        logwash_runner_free(jobs[i].r);
    }
    logwash_template_free(tmpl);
}

int
main(void)
{
    basics();
    errors();
    threads();
    return check_summary();
}

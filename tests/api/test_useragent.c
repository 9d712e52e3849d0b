/* parse_user_agent's rules through the public header only: rules added by the caller (no
 * YAML in the library), the loader in the compile options called once per compilation and
 * only for a template that calls parse_user_agent, its refusal as the compile error at the
 * call, a bad regex, the rules outliving the caller's handle, two threads on one template.
 * Prints "N passed, M failed". */
#include <logwash.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

struct loader {
    struct logwash_ua_rules *rules;
    int calls;
};

static struct logwash_ua_rules *
load(void *ud, char *msg, size_t msgsize)
{
    struct loader *l = ud;
    l->calls++;
    if (l->rules == NULL) snprintf(msg, msgsize, "no rules here: see the package uap-core");
    return l->rules;
}

static const char *
run1(struct logwash_runner *r, const char *rec, char *buf, size_t cap)
{
    enum logwash_result res = logwash_run(r, rec, strlen(rec), NULL);
    size_t n;
    const struct logwash_output *out = logwash_outputs(r, &n);
    if (res == LOGWASH_OK && n > 0) {
        snprintf(buf, cap, "%.*s", (int)out[0].len, out[0].data);
    } else { /* cut to cap: the checks compare short texts */
        const char *m = logwash_runner_error(r)->message;
        size_t k = strlen(m);
        if (k > cap - 8) k = cap - 8;
        snprintf(buf, cap, "error: %.*s", (int)k, m);
    }
    return buf;
}

static struct logwash_ua_rules *
rules(void)
{
    struct logwash_ua_rules *r = logwash_ua_rules_new();
    struct logwash_error e;
    const char *fam[5] = { "My $1", NULL, NULL, NULL, NULL };
    const char *os[5] = { NULL, "$2", NULL, NULL, NULL };
    const char *dev[5] = { "Phone $1", " Acme ", NULL, NULL, NULL };
    CHECK(r != NULL);
    CHECK(logwash_ua_rules_add(r, LOGWASH_UA_USER_AGENT, "(Foo)/(\\d+)\\.(\\d+)", false, fam, &e) ==
          0);
    CHECK(logwash_ua_rules_add(r, LOGWASH_UA_USER_AGENT, "(Bar)/(\\d+)", false, NULL, &e) == 0);
    CHECK(logwash_ua_rules_add(r, LOGWASH_UA_OS, "(Linux) (\\d+)", false, os, &e) == 0);
    CHECK(logwash_ua_rules_add(r, LOGWASH_UA_DEVICE, "phone-(\\w+)", true, dev, &e) == 0);
    CHECK(logwash_ua_rules_add(r, LOGWASH_UA_OS, "(a", false, NULL, &e) == -1);
    CHECK(strcmp(e.message, "invalid regex at byte 3: missing closing parenthesis") == 0);
    CHECK(logwash_ua_rules_count(r, LOGWASH_UA_USER_AGENT) == 2);
    CHECK(logwash_ua_rules_count(r, LOGWASH_UA_OS) == 1);
    CHECK(logwash_ua_rules_count(r, LOGWASH_UA_DEVICE) == 1);
    return r;
}

struct job {
    struct logwash_runner *r;
    int good;
};

static void *
worker(void *arg)
{
    struct job *j = arg;
    char buf[512];
    for (int i = 0; i < 2000; i++) {
        const char *rec = i % 2 ? "Bar/7 Linux 5" : "Foo/1.2 PHONE-z9";
        const char *want = i % 2 ? "{\"family\":\"Bar\"" : "{\"family\":\"My Foo\"";
        if (strstr(run1(j->r, rec, buf, sizeof buf), want) != NULL) j->good++;
    }
    return NULL;
}

int
main(void)
{
    struct loader l = { rules(), 0 };
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    CHECK(co.ua_rules == NULL);
    struct logwash_error e;
    const char *src = "emit parse_user_agent(line)";
    /* no loader: the template does not compile */
    CHECK(logwash_compile(src, strlen(src), &co, &e) == NULL && e.line == 1 && e.col == 6);
    CHECK(strstr(e.message, "logwash_compile_options.ua_rules") != NULL);
    co.ua_rules = load;
    co.ua_rules_ud = &l;
    /* a template without parse_user_agent never calls the loader */
    struct logwash_template *t0 = logwash_compile("emit 1", 6, &co, &e);
    CHECK(t0 != NULL && l.calls == 0);
    logwash_template_free(t0);
    const char *two = "emit parse_user_agent(line)\nemit parse_user_agent(line).device";
    struct logwash_template *t = logwash_compile(two, strlen(two), &co, &e);
    CHECK(t != NULL && l.calls == 1);
    logwash_ua_rules_free(l.rules); /* the template holds them */
    l.rules = NULL;
    struct logwash_runner *r = logwash_runner_new(t, NULL, &e);
    char buf[512];
    CHECK(strcmp(run1(r, "Foo/1.2 PHONE-z9", buf, sizeof buf),
                 "{\"user_agent\":{\"family\":\"My Foo\",\"major\":\"1\",\"minor\":\"2\","
                 "\"patch\":null},\"os\":{\"family\":\"Other\",\"major\":null,\"minor\":null,"
                 "\"patch\":null,\"patch_minor\":null},\"device\":{\"family\":\"Phone z9\","
                 "\"brand\":\"Acme\",\"model\":\"z9\"}}") == 0);
    CHECK(strcmp(run1(r, "Bar/7 Linux 5", buf, sizeof buf),
                 "{\"user_agent\":{\"family\":\"Bar\",\"major\":\"7\",\"minor\":null,"
                 "\"patch\":null},\"os\":{\"family\":\"Linux\",\"major\":\"5\",\"minor\":null,"
                 "\"patch\":null,\"patch_minor\":null},\"device\":{\"family\":\"Other\","
                 "\"brand\":null,\"model\":null}}") == 0);
    logwash_runner_free(r);
    /* the loader's refusal is the compile error at the first call */
    const char *later = "let x = 1\nemit parse_user_agent(line)";
    CHECK(logwash_compile(later, strlen(later), &co, &e) == NULL && e.line == 2 && e.col == 6);
    CHECK(strcmp(e.message, "no rules here: see the package uap-core") == 0);
    /* two threads, a runner each, one template */
    struct job jobs[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        jobs[i] = (struct job){ logwash_runner_new(t, NULL, &e), 0 };
        CHECK(pthread_create(&th[i], NULL, worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].good == 2000);
        logwash_runner_free(jobs[i].r);
    }
    logwash_template_free(t);
    return check_summary();
}

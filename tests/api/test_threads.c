/* One compiled template run by 4 threads at once, each with its own runner, over the same
 * records in different orders: every record's result, outputs (bytes, topic, key, headers)
 * and error must equal a single-threaded run's. The template uses regex captures, grok,
 * hashes, zones named by the records (each runner's zone cache) and errors. `make tsan`
 * builds it with ThreadSanitizer. Prints "N passed, M failed". */
#include <logwash.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NREC     6000
#define NTHREADS 4

#include "check.h"

static const char template_text[] =
    "if !match(line, /^(?<ip>\\S+) (?<user>\\S+) \\[(?<ts>[^\\]]+)\\] \"(?<method>\\S+) "
    "(?<path>[^\"]*)\" (?<status>\\d+) (?<bytes>\\d+|-) (?<zone>\\S+)$/) {\n"
    "    reject \"no match\"\n"
    "}\n"
    "let t = parse_time(ts, \"%d/%b/%Y:%H:%M:%S\")\n"
    "let g = grok(path, \"/%{WORD:first}/%{INT:num}\")\n"
    "emit {ip: ip, user: user, ts: format_time(t, \"rfc3339\"),\n"
    "      local: format_time(t, \"rfc3339\", zone), method: lower(method), path: path,\n"
    "      status: int(status), kb: bytes == \"-\" ? 0 : int(bytes) // 1024, h: xxhash(path),\n"
    "      s: sha256(ip), g: g, now: now()} to \"t-\" + lower(method) key ip headers {user: user,\n"
    "      n: len(path)}\n"
    "if int(status) >= 500 { print \"error ${status} ${path}\" }\n"
    "if path == \"/div\" { emit 1 / 0 }\n";

static const char *const zones[] = { "Europe/Paris", "Asia/Tokyo",      "America/New_York",
                                     "UTC",          "+05:30",          "Australia/Sydney",
                                     "Nowhere/Land", "America/Santiago" };
static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };

static char *records[NREC];
static uint64_t expect[NREC];
static struct logwash_template *tmpl;

static void
make_records(void)
{
    uint32_t x = 12345;
    for (int i = 0; i < NREC; i++) {
        x = x * 1103515245 + 12345;
        char buf[256];
        uint32_t r = x >> 8;
        if (r % 23 == 0) {
            snprintf(buf, sizeof buf, "garbage line %d", i);
        } else {
            const char *path = r % 17 == 0 ? "/div" : r % 3 == 0 ? "/item/42" : "/static/x.css";
            snprintf(buf, sizeof buf,
                     "10.0.%u.%u u%u [%02u/Oct/2023:%02u:%02u:%02u] \"%s %s\" %u %s %s", r % 256,
                     (r >> 8) % 256, r % 7, 1 + r % 28, r % 24, r % 60, (r >> 4) % 60,
                     methods[r % 4], path, r % 5 == 0 ? 503u : 200u, r % 4 ? "2326" : "-",
                     zones[(r >> 3) % 8]);
        }
        records[i] = strdup(buf);
    }
}

static uint64_t
fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 1099511628211u;
    }
    return h;
}

/* digest: everything a record produced */
static uint64_t
digest(struct logwash_runner *r, enum logwash_result res)
{
    uint64_t h = fnv(14695981039346656037u, &res, sizeof res);
    size_t n;
    const struct logwash_output *o = logwash_outputs(r, &n);
    for (size_t i = 0; i < n; i++) {
        h = fnv(h, o[i].data, o[i].len + 1);
        h = fnv(h, &o[i].print, sizeof o[i].print);
        if (o[i].has_topic) h = fnv(h, o[i].topic, o[i].topic_len);
        if (o[i].has_key) h = fnv(h, o[i].key, o[i].key_len);
        for (size_t k = 0; k < o[i].nheaders; k++) {
            h = fnv(h, o[i].headers[k].name, o[i].headers[k].name_len);
            if (o[i].headers[k].value) h = fnv(h, o[i].headers[k].value, o[i].headers[k].value_len);
        }
    }
    const struct logwash_error *e = logwash_runner_error(r);
    h = fnv(h, e->message, strlen(e->message));
    h = fnv(h, &e->line, sizeof e->line);
    return h;
}

static struct logwash_runner *
runner(void)
{
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.tz = "Europe/Paris";
    ro.now_ns = 1704067200000000000;
    return logwash_runner_new(tmpl, &ro, NULL);
}

struct job {
    int id;
    int mismatches, ran;
};

static void *
work(void *arg)
{
    struct job *j = arg;
    struct logwash_runner *r = runner();
    if (r == NULL) return NULL;
    for (int k = 0; k < NREC; k++) {
        int i = (k * 7 + j->id * (NREC / NTHREADS)) % NREC; /* each thread its own order */
        enum logwash_result res = logwash_run(r, records[i], strlen(records[i]), NULL);
        if (digest(r, res) != expect[i]) j->mismatches++;
        j->ran++;
    }
    logwash_runner_free(r);
    return NULL;
}

int
main(void)
{
    struct logwash_error e;
    tmpl = logwash_compile(template_text, strlen(template_text), NULL, &e);
    if (tmpl == NULL) fprintf(stderr, "%d:%d: %s\n", e.line, e.col, e.message);
    CHECK(tmpl != NULL);
    if (tmpl == NULL) return 1;
    make_records();
    struct logwash_runner *r = runner();
    int count[6] = { 0 };
    for (int i = 0; i < NREC; i++) {
        enum logwash_result res = logwash_run(r, records[i], strlen(records[i]), NULL);
        count[res]++;
        expect[i] = digest(r, res);
    }
    logwash_runner_free(r);
    /* the records cover every path: outputs, rejects, runtime errors */
    CHECK(count[LOGWASH_OK] > NREC / 2);
    CHECK(count[LOGWASH_REJECT] > 0 && count[LOGWASH_ERROR] > 0);
    pthread_t th[NTHREADS];
    struct job jobs[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        jobs[i] = (struct job){ .id = i };
        CHECK(pthread_create(&th[i], NULL, work, &jobs[i]) == 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].ran == NREC);
        CHECK(jobs[i].mismatches == 0);
        if (jobs[i].mismatches)
            fprintf(stderr, "thread %d: %d mismatches\n", i, jobs[i].mismatches);
    }
    logwash_template_free(tmpl);
    for (int i = 0; i < NREC; i++)
        free(records[i]);
    return check_summary();
}

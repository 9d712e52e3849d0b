/* Fuzz target: state across records through the public API (logwash.h), as logwash(1) drives
 * it. The first byte picks a template with windows and seen() and the processing time's step;
 * the rest, split at newlines, are JSON records. Each record runs twice: on a side as -j N
 * runs it (a worker's speculative log, checked against the state, run again on the runner
 * attached to it when wrong) and on a side as -j 1 runs it (the attached runner only); both
 * states take the logs in order and tick. An odd first byte also gives each record's bytes to
 * both states as operations (logwash_state_wrong, logwash_state_apply), which must be refused
 * (1 or 2) or applied alike, never trusted, then once more with the first operation's hash
 * made its key's XXH3 (so a key's text is what decides). Bit 3 of the first byte reads the records
 * as from 3 sources (Kafka partitions: record i from source i % 3), each restored first with a time
 * and windows given per statement as a replay from a commit is (logwash_state_restore_of), and
 * every 5th record marking its source idle or not; the per-statement answers
 * (logwash_state_last_end_of, closed_of, source_time_of) must agree on both sides. Checks: no crash
 * or leak (ASan), each state within its bound, every result a JSON object with window_start and
 * window_end, the same outputs and results on both sides, no window left open after the end. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "accept.h"
#include "logwash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const templates[] = {
    "input json\nlet t = parse_time(.ts ?? \"\", \"rfc3339\") ?? now()\n"
    "window tumbling 1m at t late 5m key .k { n = count(); s = sum(.v); a = avg(.v); "
    "lo = min(.v); p = percentile(.v, 90); d = count_distinct(.u); f = first(.u); "
    "top = top(.u, 3) }",
    "input json\nlet t = parse_time(.ts ?? \"\", \"rfc3339\") ?? now()\n"
    "window sliding 2m every 30s at t late 1m key {k: .k} { n = count() }\n"
    "window session 1m at t late 30s key .u { n = count(); l = last(.v); f = first(.v); "
    "lo = min(.v); d = count_distinct(.k); p = percentile(.v, 50); tp = top(.k, 2) }",
    "input json\nlet t = parse_time(.ts ?? \"\", \"rfc3339\") ?? now()\n"
    "window count 3 timeout 1m at t key .k { n = count(); s = sum(.v) }\n"
    "if seen(.id, 2m, t) { drop }\nemit {id: .id}",
    "input json\nfor x in .a ?? [] { if !seen(x, 1h) { emit {x} } }\n"
    "window tumbling 10s key .k { n = count() }",
};
#define NT        (sizeof templates / sizeof templates[0])
#define MAX_STATE (64 << 10)

static struct logwash_template *tpl[NT];

/* results: each line of out from off a JSON object with window_start and window_end */
static void
results(const struct logwash_buffer *out, size_t off)
{
    while (off < out->len) {
        const char *p = out->data + off, *nl = memchr(p, '\n', out->len - off);
        if (nl == NULL) {
            fprintf(stderr, "a result without its newline\n");
            abort();
        }
        json_error_t e;
        bool nul_key;
        json_t *j = accept_load(p, (size_t)(nl - p), &e, &nul_key);
        if (j == NULL || !json_is_object(j) || json_object_get(j, "window_start") == NULL ||
            json_object_get(j, "window_end") == NULL) {
            fprintf(stderr, "bad result: %.*s\n", (int)(nl - p), p);
            abort();
        }
        json_decref(j);
        off = (size_t)(nl - out->data) + 1;
    }
}

static void
check_bound(const struct logwash_state *s)
{
    struct logwash_state_counts c;
    logwash_state_counts(s, &c);
    if (c.bytes > MAX_STATE) {
        fprintf(stderr, "state holds %llu bytes, over its bound %d\n", (unsigned long long)c.bytes,
                MAX_STATE);
        abort();
    }
}

/* A state and the runners that feed it: a worker's speculative log, or the attached runner's. */
struct side {
    struct logwash_runner *worker, *loop;
    struct logwash_state *s;
    struct logwash_buffer out, res; /* the last record's outputs; every result so far */
};

static void
side_new(struct side *d, const struct logwash_template *t, const struct logwash_runner_options *o)
{
    *d = (struct side){ .worker = logwash_runner_new(t, o, NULL),
                        .loop = logwash_runner_new(t, o, NULL),
                        .s = logwash_state_new(t, MAX_STATE) };
    if (d->worker == NULL || d->loop == NULL || d->s == NULL) abort();
    logwash_runner_attach_state(d->loop, d->s);
}

static void
side_free(struct side *d)
{
    free(d->out.data);
    free(d->res.data);
    logwash_state_free(d->s);
    logwash_runner_free(d->worker);
    logwash_runner_free(d->loop);
}

/* record: one record's run (speculative first when spec) and its log applied; returns the
 * result, its outputs in d->out */
static enum logwash_result
record(struct side *d, const char *p, size_t len, int64_t now, bool spec)
{
    logwash_runner_set_now(d->worker, now);
    logwash_runner_set_now(d->loop, now);
    d->out.len = 0;
    struct logwash_runner *r = spec ? d->worker : d->loop;
    enum logwash_result rc = logwash_run_into(r, p, len, NULL, &d->out);
    size_t oplen;
    const void *ops = logwash_runner_state_ops(r, &oplen);
    if (spec && (rc == LOGWASH_OK || rc == LOGWASH_DROP) && oplen > 0 &&
        logwash_state_wrong(d->s, ops, oplen)) {
        d->out.len = 0; /* the loop's rerun, attached: its answers are the state's */
        rc = logwash_run_into(d->loop, p, len, NULL, &d->out);
        ops = logwash_runner_state_ops(d->loop, &oplen);
    }
    if ((rc == LOGWASH_OK || rc == LOGWASH_DROP) && oplen > 0) {
        bool late = false;
        size_t nres = 0, before = d->res.len;
        char msg[300];
        int a = logwash_state_apply(d->s, ops, oplen, now, &d->res, &nres, &late, msg, sizeof msg);
        if (a != 0) {
            fprintf(stderr, "a runner's log refused: %d\n", a);
            abort();
        }
        results(&d->res, before);
    }
    check_bound(d->s);
    size_t before = d->res.len;
    logwash_state_tick(d->s, now, &d->res, 0);
    results(&d->res, before);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (tpl[0] == NULL) {
        for (size_t i = 0; i < NT; i++) {
            struct logwash_error err;
            tpl[i] = logwash_compile(templates[i], strlen(templates[i]), NULL, &err);
            if (tpl[i] == NULL) {
                fprintf(stderr, "template %zu: %s\n", i, err.message);
                abort();
            }
        }
    }
    if (size == 0) return 0;
    uint8_t sel = data[0];
    const struct logwash_template *t = tpl[(sel >> 1) % NT];
    bool raw_ops = sel & 1, sources = sel & 8;
    int64_t step = (int64_t)((sel >> 4) + 1) * 7000000000; /* processing time per record */
    data++;
    size--;

    struct logwash_runner_options o;
    logwash_runner_options_default(&o);
    o.limits.steps = 20000;
    o.limits.max_memory = 1 << 20;
    o.limits.max_output = 1 << 16;
    o.routes = false;
    int64_t now = 1767225600000000000; /* 2026-01-01 */
    o.now_ns = now;
    /* two sides given the same records: one as -j N runs them, one as -j 1 */
    struct side a, b;
    side_new(&a, t, &o);
    side_new(&b, t, &o);
    uint32_t nw = logwash_state_statements(a.s), k = 0;
    for (uint32_t src = 0; sources && src < 3; src++) {
        struct logwash_state *both[2] = { a.s, b.s };
        for (int i = 0; i < 2; i++) {
            logwash_state_from(both[i], src);
            for (uint32_t w = 0; w < nw; w++) /* a time and windows given minutes back */
                logwash_state_restore_of(both[i], src, w, now - (int64_t)(src + w) * 60000000000,
                                         now - (int64_t)(src + 2 * w + 1) * 90000000000);
        }
    }
    const char *p = (const char *)data, *end = p + size;
    /* an odd length: the records come from 3 sources in turn (Kafka partitions: seen() keys
     * expire by their own source's time; its horizon never goes back nor past the applied,
     * also after lw_state_seen_pass) */
    bool parted = (size & 1) && !sources; /* one way of choosing sources at a time */
    uint32_t nrec = 0;
    uint64_t hz[3] = { 0, 0, 0 };
    char *fixed = raw_ops ? malloc(size + 1) : NULL; /* a line with its first hash fixed */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        now += step;
        uint32_t src = nrec++ % 3;
        if (parted) {
            logwash_state_from(a.s, src);
            logwash_state_from(b.s, src);
        }
        /* the bytes as operations: refused or applied, never trusted; then again with the
         * first operation's hash made its key's (a log's hashes must be XXH3 of its keys, which
         * no mutation finds), so the checks of the key's text and what follows are reached */
        for (int fix = 0; raw_ops && fix < 2; fix++) {
            const char *q = p;
            if (fix) {
                size_t at = len > 0 && p[0] == 'W' ? 25 : len > 0 && p[0] == 'S' ? 30 : 0;
                uint32_t kl;
                if (at == 0 || len < at) break;
                memcpy(&kl, p + at - 4, 4);
                if (kl > len - at) break;
                memcpy(fixed, p, len);
                uint64_t h = XXH3_64bits(p + at, kl);
                memcpy(fixed + (p[0] == 'W' ? 13 : 2), &h, 8);
                q = fixed;
            }
            size_t before = a.res.len, nres = 0;
            bool late = false;
            bool wa = logwash_state_wrong(a.s, q, len), wb = logwash_state_wrong(b.s, q, len);
            int ra = logwash_state_apply(a.s, q, len, now, &a.res, &nres, &late, NULL, 0);
            int rb = logwash_state_apply(b.s, q, len, now, &b.res, &nres, &late, NULL, 0);
            if (ra < 0 || ra != rb || wa != wb || (ra != 0) != wa) {
                fprintf(stderr, "operations: apply %d and %d, wrong %d and %d\n", ra, rb, wa, wb);
                abort();
            }
            if (ra != 0 && a.res.len != before) {
                fprintf(stderr, "a refused log gave results\n");
                abort();
            }
            results(&a.res, before);
        }
        if (sources) {
            uint32_t ks = k % 3;
            logwash_state_from(a.s, ks);
            logwash_state_from(b.s, ks);
            if (k % 5 == 4) {
                logwash_state_source_idle(a.s, (ks + 1) % 3, (k / 5) % 2 == 0);
                logwash_state_source_idle(b.s, (ks + 1) % 3, (k / 5) % 2 == 0);
            }
        }
        enum logwash_result ra = record(&a, p, len, now, true);
        enum logwash_result rb = record(&b, p, len, now, false);
        for (uint32_t w = 0; sources && w < nw; w++) {
            if (logwash_state_last_end_of(a.s, w) != logwash_state_last_end_of(b.s, w) ||
                logwash_state_closed_of(a.s, w) != logwash_state_closed_of(b.s, w) ||
                logwash_state_source_time_of(a.s, k % 3, w) !=
                    logwash_state_source_time_of(b.s, k % 3, w)) {
                fprintf(stderr, "statement %u's per-statement answers differ\n", w);
                abort();
            }
        }
        k++;
        if (parted) {
            uint64_t h = logwash_state_seen_horizon(a.s, src);
            if (h < hz[src] || h > logwash_state_applied(a.s) ||
                h != logwash_state_seen_horizon(b.s, src)) {
                fprintf(stderr, "seen horizon %llu after %llu\n", (unsigned long long)h,
                        (unsigned long long)hz[src]);
                abort();
            }
            hz[src] = h;
            /* now and then the commit passes it anyway (kstate's bound): at most to the
             * records applied, the horizon never back after it, both sides alike */
            if (len > 0 && (unsigned char)p[0] % 7 == 0) {
                uint64_t to = h + (unsigned char)p[len - 1] % 5;
                logwash_state_seen_pass(a.s, src, to);
                logwash_state_seen_pass(b.s, src, to);
                uint64_t ap = logwash_state_applied(a.s), h2 = logwash_state_seen_horizon(a.s, src);
                if (h2 < (to < ap ? to : ap) || h2 > ap ||
                    h2 != logwash_state_seen_horizon(b.s, src) ||
                    logwash_state_seen_spans(a.s, src) != logwash_state_seen_spans(b.s, src)) {
                    fprintf(stderr, "seen pass to %llu: horizon %llu\n", (unsigned long long)to,
                            (unsigned long long)h2);
                    abort();
                }
                hz[src] = h2;
            }
        }
        if (ra != rb || a.out.len != b.out.len ||
            (a.out.len > 0 && memcmp(a.out.data, b.out.data, a.out.len) != 0)) {
            fprintf(stderr, "a record's outputs differ: %d and %d\n", ra, rb);
            abort();
        }
        p += len + (nl != NULL);
    }
    size_t n;
    do { /* the end of input, a piece at a time as logwash(1) writes it */
        size_t before = a.res.len;
        n = logwash_state_tick(a.s, INT64_MAX, &a.res, a.res.len + 4096);
        results(&a.res, before);
    } while (n > 0);
    logwash_state_tick(b.s, INT64_MAX, &b.res, 0);
    if (a.res.len != b.res.len || (a.res.len > 0 && memcmp(a.res.data, b.res.data, a.res.len))) {
        fprintf(stderr, "the results of -j N differ from those of -j 1\n");
        abort();
    }
    struct logwash_state_counts c;
    logwash_state_counts(a.s, &c);
    if (c.windows != 0 || c.bytes > MAX_STATE) {
        fprintf(stderr, "after the end: %llu windows open, %llu bytes\n",
                (unsigned long long)c.windows, (unsigned long long)c.bytes);
        abort();
    }
    free(fixed);
    side_free(&a);
    side_free(&b);
    return 0;
}

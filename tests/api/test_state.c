/* State across records through the public header only: seen() answered by a speculative runner
 * (its own keys) and checked against the state (a wrong answer refused, the record run again
 * on an attached runner), a window's results from logwash_state_apply and logwash_state_tick,
 * the counts, and a runner of a template without state (no operations). Prints "N passed, M
 * failed". */
#include <logwash.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char tmpl_text[] = "input json\n"
                                "let t = parse_time(.ts, \"rfc3339\")\n"
                                "if seen(.id, 10m, t) { drop }\n"
                                "window tumbling 1m at t key .k { n = count(); s = sum(.v) }\n";

/* run: one record on r; its operations applied to s when ok (1 when s refused them). */
static int
run(struct logwash_runner *r, struct logwash_state *s, const char *rec, struct logwash_buffer *out,
    size_t *nres)
{
    enum logwash_result res = logwash_run(r, rec, strlen(rec), NULL);
    if (res != LOGWASH_OK && res != LOGWASH_DROP) return -1;
    size_t len;
    const void *ops = logwash_runner_state_ops(r, &len);
    bool late = false;
    return logwash_state_apply(s, ops, len, 0, out, nres, &late, NULL, 0);
}

int
main(void)
{
    struct logwash_error e;
    struct logwash_template *t = logwash_compile(tmpl_text, strlen(tmpl_text), NULL, &e);
    CHECK(t != NULL);
    if (t == NULL) return check_summary();
    CHECK(logwash_template_uses_state(t));
    CHECK(logwash_template_uses_seen(t));
    struct logwash_state *s = logwash_state_new(t, 1 << 20);
    struct logwash_runner *attached = logwash_runner_new(t, NULL, &e);
    struct logwash_runner *spec = logwash_runner_new(t, NULL, &e);
    logwash_runner_attach_state(attached, s);
    struct logwash_buffer out = { 0 };
    size_t nres = 0;

    /* the attached runner's answers are the state's: applied */
    CHECK(run(attached, s, "{\"id\":1,\"ts\":\"2026-01-01T00:00:10Z\",\"k\":\"a\",\"v\":2}", &out,
              &nres) == 0);
    /* the speculative runner never saw id 1: it says new; the state says seen: refused */
    const char *dup = "{\"id\":1,\"ts\":\"2026-01-01T00:00:20Z\",\"k\":\"a\",\"v\":5}";
    logwash_runner_state_forget(spec);
    CHECK(logwash_run(spec, dup, strlen(dup), NULL) == LOGWASH_OK);
    size_t len;
    const void *ops = logwash_runner_state_ops(spec, &len);
    CHECK(len > 0);
    CHECK(logwash_state_wrong(s, ops, len));
    bool late = false;
    CHECK(logwash_state_apply(s, ops, len, 0, &out, &nres, &late, NULL, 0) == 1);
    /* run again attached: dropped, as one runner would */
    CHECK(logwash_run(attached, dup, strlen(dup), NULL) == LOGWASH_DROP);
    ops = logwash_runner_state_ops(attached, &len);
    CHECK(!logwash_state_wrong(s, ops, len));
    CHECK(logwash_state_apply(s, ops, len, 0, &out, &nres, &late, NULL, 0) == 0);
    /* a new key in the next minute closes the first: its result in out */
    CHECK(run(attached, s, "{\"id\":2,\"ts\":\"2026-01-01T00:01:05Z\",\"k\":\"b\",\"v\":3}", &out,
              &nres) == 0);
    CHECK(nres == 1);
    const char *want1 = "{\"key\":\"a\",\"window_start\":\"2026-01-01T00:00:00Z\","
                        "\"window_end\":\"2026-01-01T00:01:00Z\",\"n\":1,\"s\":2}\n";
    CHECK(out.len == strlen(want1) && memcmp(out.data, want1, out.len) == 0);
    /* a late record: counted as late, not in any result */
    late = false;
    const char *old = "{\"id\":3,\"ts\":\"2026-01-01T00:00:30Z\",\"k\":\"a\",\"v\":100}";
    CHECK(logwash_run(attached, old, strlen(old), NULL) == LOGWASH_OK);
    ops = logwash_runner_state_ops(attached, &len);
    char msg[300];
    CHECK(logwash_state_apply(s, ops, len, 0, &out, &nres, &late, msg, sizeof msg) == 0);
    CHECK(late && strncmp(msg, "late: ", 6) == 0);
    /* the end: the rest closes, a small limit at a time */
    out.len = 0;
    size_t n, total = 0;
    while ((n = logwash_state_tick(s, INT64_MAX, &out, 1)) > 0)
        total += n;
    CHECK(total == 1);
    const char *want2 = "{\"key\":\"b\",\"window_start\":\"2026-01-01T00:01:00Z\","
                        "\"window_end\":\"2026-01-01T00:02:00Z\",\"n\":1,\"s\":3}\n";
    CHECK(out.len == strlen(want2) && memcmp(out.data, want2, out.len) == 0);
    struct logwash_state_counts c;
    logwash_state_counts(s, &c);
    CHECK(c.results == 2 && c.late == 1 && c.windows == 0 && c.keys == 3);

    /* logwash_run_batch stops after each record with state operations: the next record would
     * empty them (a batch lost every window contribution and seen() key but its last) */
    {
        struct logwash_runner *br = logwash_runner_new(t, NULL, &e);
        const char *b0 = "{\"id\":7,\"ts\":\"2026-01-01T00:00:10Z\",\"k\":\"a\",\"v\":1}";
        const char *b1 = "{\"id\":8,\"ts\":\"2026-01-01T00:00:11Z\",\"k\":\"a\",\"v\":1}";
        struct logwash_record recs[2] = { { b0, strlen(b0), NULL }, { b1, strlen(b1), NULL } };
        struct logwash_record_result res[2];
        struct logwash_buffer bo = { 0 };
        /* the operations of b0 alone, from a runner of its own */
        struct logwash_runner *one = logwash_runner_new(t, NULL, &e);
        CHECK(logwash_run(one, b0, strlen(b0), NULL) == LOGWASH_OK);
        size_t len0;
        const void *ops0 = logwash_runner_state_ops(one, &len0);
        CHECK(logwash_run_batch(br, recs, 2, &bo, SIZE_MAX, res) == 1);
        ops = logwash_runner_state_ops(br, &len);
        CHECK(len > 0 && len == len0 && memcmp(ops, ops0, len) == 0);
        CHECK(logwash_run_batch(br, recs + 1, 1, &bo, SIZE_MAX, res) == 1);
        ops = logwash_runner_state_ops(br, &len);
        CHECK(len > 0 && !(len == len0 && memcmp(ops, ops0, len) == 0));
        logwash_runner_free(one);
        free(bo.data);
        logwash_runner_free(br);
    }

    /* a template without state: no operations, not a state user */
    struct logwash_template *plain = logwash_compile("emit 1", 6, NULL, &e);
    struct logwash_runner *pr = logwash_runner_new(plain, NULL, &e);
    CHECK(!logwash_template_uses_state(plain));
    CHECK(!logwash_template_uses_seen(plain));
    struct logwash_template *win =
        logwash_compile("window tumbling 1m key .k { n = count() }", 41, NULL, &e);
    CHECK(win != NULL && logwash_template_uses_state(win) && !logwash_template_uses_seen(win));
    logwash_template_free(win);
    CHECK(logwash_run(pr, "x", 1, NULL) == LOGWASH_OK);
    CHECK(logwash_runner_state_ops(pr, &len) == NULL && len == 0);
    logwash_runner_attach_state(pr, NULL); /* harmless */
    logwash_runner_free(pr);
    logwash_template_free(plain);

    free(out.data);
    logwash_runner_free(attached);
    logwash_runner_free(spec);
    logwash_state_free(s);
    logwash_template_free(t);
    return check_summary();
}

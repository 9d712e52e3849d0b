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
    /* its route: no topic (no `to`), its identity as the key */
    size_t nr;
    const struct logwash_output *rt = logwash_state_routes(s, &out, &nr);
    const char *key1 = "{\"window\":1,\"window_start\":\"2026-01-01T00:00:00Z\","
                       "\"window_end\":\"2026-01-01T00:01:00Z\",\"key\":\"a\"}";
    CHECK(nr == 1 && rt != NULL && rt[0].data == out.data && rt[0].len == strlen(want1) - 1 &&
          !rt[0].has_topic && rt[0].has_key && rt[0].key_len == strlen(key1) &&
          memcmp(rt[0].key, key1, rt[0].key_len) == 0);
    /* a late record: counted as late, not in any result */
    late = false;
    const char *old = "{\"id\":3,\"ts\":\"2026-01-01T00:00:30Z\",\"k\":\"a\",\"v\":100}";
    CHECK(logwash_run(attached, old, strlen(old), NULL) == LOGWASH_OK);
    ops = logwash_runner_state_ops(attached, &len);
    char msg[300];
    CHECK(logwash_state_apply(s, ops, len, 0, &out, &nres, &late, msg, sizeof msg) == 0);
    CHECK(late && strncmp(msg, "late: ", 6) == 0);
    CHECK(logwash_state_routes(s, &out, &nr) == NULL && nr == 0); /* it closed none */
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
    /* `to`: each result's topic; statements told apart in the key; no key: "key":null */
    {
        const char *tt = "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                         "window tumbling 1m at t to \"w1\" { n = count() }\n"
                         "window tumbling 1m at t key {c: .c} { n = count() }\n";
        struct logwash_template *wt = logwash_compile(tt, strlen(tt), NULL, &e);
        CHECK(wt != NULL);
        struct logwash_state *ws = wt ? logwash_state_new(wt, 1 << 20) : NULL;
        struct logwash_runner *wr = wt ? logwash_runner_new(wt, NULL, &e) : NULL;
        size_t tl = 0;
        CHECK(ws != NULL && logwash_state_topic(ws, 0, &tl) != NULL && tl == 2 &&
              memcmp(logwash_state_topic(ws, 0, &tl), "w1", 2) == 0);
        CHECK(ws != NULL && logwash_state_topic(ws, 1, &tl) == NULL && tl == 0);
        CHECK(ws != NULL && logwash_state_topic(ws, 2, &tl) == NULL);
        struct logwash_buffer wo = { 0 };
        size_t wn = 0;
        CHECK(wr && run(wr, ws, "{\"ts\":\"2026-01-01T00:00:10Z\",\"c\":\"x\"}", &wo, &wn) == 0);
        wo.len = 0;
        CHECK(wr && logwash_state_tick(ws, INT64_MAX, &wo, 0) == 2);
        const struct logwash_output *r2 = ws ? logwash_state_routes(ws, &wo, &nr) : NULL;
        const char *k1 = "{\"window\":1,\"window_start\":\"2026-01-01T00:00:00Z\","
                         "\"window_end\":\"2026-01-01T00:01:00Z\",\"key\":null}";
        const char *k2 = "{\"window\":2,\"window_start\":\"2026-01-01T00:00:00Z\","
                         "\"window_end\":\"2026-01-01T00:01:00Z\",\"key\":{\"c\":\"x\"}}";
        CHECK(nr == 2 && r2 != NULL && r2[0].has_topic && r2[0].topic_len == 2 &&
              memcmp(r2[0].topic, "w1", 2) == 0 && r2[0].key_len == strlen(k1) &&
              memcmp(r2[0].key, k1, strlen(k1)) == 0 && !r2[1].has_topic &&
              r2[1].key_len == strlen(k2) && memcmp(r2[1].key, k2, strlen(k2)) == 0 &&
              r2[1].data == r2[0].data + r2[0].len + 1 &&
              r2[1].data + r2[1].len + 1 == wo.data + wo.len);
        free(wo.data);
        logwash_runner_free(wr);
        logwash_state_free(ws);
        logwash_template_free(wt);
    }
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

/* liblogwash's state across records (logwash.h: seen() and window statements) over state.h:
 * the runner's side through api_int.h, the shared state as a struct lw_state. */
#include "api_int.h"

#include <setjmp.h>
#include <stdlib.h>
#include <time.h>

#include "lw/buf.h"
#include "lw/program.h"
#include "lw/state.h"
#include "lw/str.h"

struct logwash_state {
    struct lw_state *s;
    bool broken; /* memory ran out inside a call: every later call fails */
    bool clock;  /* a window of processing time: logwash_state_apply reads LOGWASH_NOW_CLOCK */
    struct logwash_output *routes; /* logwash_state_routes' */
    size_t caproutes;
};

/* The calls that change the state run under their own out-of-memory exit (logwash.h: the
 * library never aborts): memory running out leaves the state half changed, so it is marked
 * broken and the call fails. */
#define GUARDED(st, fail_value, body)                                                              \
    do {                                                                                           \
        if ((st)->broken) return fail_value;                                                       \
        jmp_buf jb_, *outer_ = lw_oom_jmp;                                                         \
        if (setjmp(jb_) != 0) {                                                                    \
            lw_oom_jmp = outer_;                                                                   \
            (st)->broken = true;                                                                   \
            return fail_value;                                                                     \
        }                                                                                          \
        lw_oom_jmp = &jb_;                                                                         \
        body;                                                                                      \
        lw_oom_jmp = outer_;                                                                       \
    } while (0)

bool
logwash_template_uses_state(const struct logwash_template *t)
{
    const struct lw_program *p = lw_api_template_program(t);
    return p->nwindows > 0 || p->uses_seen;
}

bool
logwash_template_uses_seen(const struct logwash_template *t)
{
    return lw_api_template_program(t)->uses_seen;
}

struct logwash_state *
logwash_state_new(const struct logwash_template *t, size_t max_bytes)
{
    struct logwash_state *volatile st = calloc(1, sizeof *st);
    if (st == NULL) return NULL;
    GUARDED(st, (free(st), NULL), st->s = lw_state_new(lw_api_template_program(t), max_bytes));
    const struct lw_program *p = lw_api_template_program(t);
    for (uint32_t i = 0; i < p->nwindows; i++)
        if (!p->windows[i].event_time) st->clock = true;
    return st;
}

void
logwash_state_free(struct logwash_state *s)
{
    if (s == NULL) return;
    if (s->s != NULL) lw_state_free(s->s);
    free(s->routes);
    free(s);
}

void
logwash_state_set_output(struct logwash_state *s, enum logwash_output_format f)
{
    lw_state_set_text(s->s, f == LOGWASH_OUTPUT_TEXT);
}

void
logwash_runner_attach_state(struct logwash_runner *r, const struct logwash_state *s)
{
    struct lw_vmstate *vs = lw_api_runner_vmstate(r);
    if (vs != NULL) lw_vmstate_attach(vs, s ? s->s : NULL);
}

void
logwash_runner_state_forget(struct logwash_runner *r)
{
    struct lw_vmstate *vs = lw_api_runner_vmstate(r);
    if (vs != NULL) lw_vmstate_forget(vs);
}

const void *
logwash_runner_state_ops(const struct logwash_runner *r, size_t *len)
{
    struct lw_vmstate *vs = lw_api_runner_vmstate((struct logwash_runner *)r);
    *len = 0;
    return vs ? lw_vmstate_log(vs, len) : NULL;
}

bool
logwash_state_wrong(const struct logwash_state *s, const void *ops, size_t len)
{
    return len > 0 && !s->broken && lw_state_wrong(s->s, ops, len);
}

bool
logwash_state_broken(const struct logwash_state *s)
{
    return s->broken;
}

/* now_of: now_ns, or for LOGWASH_NOW_CLOCK the clock when a processing-time window reads it
 * (0 otherwise: nothing in an apply reads it then) */
static __attribute__((noinline)) int64_t
now_of(const struct logwash_state *s, int64_t now_ns)
{
    if (now_ns != LOGWASH_NOW_CLOCK) return now_ns;
    struct timespec ts = { 0, 0 };
    if (s->clock) clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
logwash_state_apply(struct logwash_state *s, const void *ops, size_t len, int64_t now_ns,
                    struct logwash_buffer *out, size_t *nres, bool *late, char *late_msg,
                    size_t cap)
{
    struct lw_buf b = { out->data, out->len, out->data ? out->cap : 0 };
    char dummy[8];
    size_t n = 0;
    int rc = 0;
    const int64_t now = now_of(s, now_ns);
    GUARDED(s, (*out = (struct logwash_buffer){ b.p, b.len, b.cap }, -1),
            rc = lw_state_apply(s->s, ops, len, now, &b, &n, late, late_msg ? late_msg : dummy,
                                late_msg ? cap : sizeof dummy));
    *out = (struct logwash_buffer){ b.p, b.len, b.cap };
    *nres += n;
    return rc;
}

size_t
logwash_state_tick(struct logwash_state *s, int64_t now_ns, struct logwash_buffer *out,
                   size_t limit)
{
    struct lw_buf b = { out->data, out->len, out->data ? out->cap : 0 };
    size_t n = 0;
    GUARDED(s, (*out = (struct logwash_buffer){ b.p, b.len, b.cap }, 0),
            n = lw_state_tick(s->s, now_ns, &b, limit));
    *out = (struct logwash_buffer){ b.p, b.len, b.cap };
    return n;
}

const struct logwash_output *
logwash_state_routes(struct logwash_state *s, const struct logwash_buffer *out, size_t *n)
{
    const char *keys;
    size_t nr;
    const struct lw_state_route *rt = lw_state_routes(s->s, &nr, &keys);
    *n = 0;
    if (nr == 0 || s->broken) return NULL;
    if (nr > s->caproutes) {
        struct logwash_output *o = realloc(s->routes, nr * sizeof *o);
        if (o == NULL) return NULL; /* the library never aborts: no routes */
        s->routes = o;
        s->caproutes = nr;
    }
    const struct lw_program *p = lw_state_program(s->s);
    for (size_t i = 0; i < nr; i++) {
        const struct lw_str to = p->windows[rt[i].w].to;
        s->routes[i] = (struct logwash_output){ .data = out->data + rt[i].off,
                                                .len = rt[i].len - 1,
                                                .has_topic = to.p != NULL,
                                                .topic = to.p,
                                                .topic_len = to.len,
                                                .has_key = true,
                                                .key = keys + rt[i].key_off,
                                                .key_len = rt[i].key_len };
    }
    *n = nr;
    return s->routes;
}

const char *
logwash_state_topic(const struct logwash_state *s, uint32_t w, size_t *len)
{
    const struct lw_program *p = lw_state_program(s->s);
    *len = 0;
    if (w >= p->nwindows || p->windows[w].to.p == NULL) return NULL;
    *len = p->windows[w].to.len;
    return p->windows[w].to.p;
}

void
logwash_state_counts(const struct logwash_state *s, struct logwash_state_counts *c)
{
    struct lw_state_counts x;
    lw_state_counts(s->s, &x);
    *c = (struct logwash_state_counts){ .keys = x.keys,
                                        .evicted = x.evicted,
                                        .windows = x.windows,
                                        .results = x.results,
                                        .closed_early = x.closed_early,
                                        .late = x.late,
                                        .bytes = x.bytes };
}

uint64_t
logwash_state_horizon(const struct logwash_state *s)
{
    return lw_state_horizon(s->s);
}

uint64_t
logwash_state_applied(const struct logwash_state *s)
{
    return lw_state_applied(s->s);
}

uint64_t
logwash_state_session_horizon(const struct logwash_state *s)
{
    return lw_state_session_horizon(s->s);
}

bool
logwash_state_replay_exact(const struct logwash_state *s)
{
    return !s->broken && lw_state_replay_exact(s->s);
}

void
logwash_state_from(struct logwash_state *s, uint32_t src)
{
    GUARDED(s, , lw_state_from(s->s, src));
}

void
logwash_state_source_idle(struct logwash_state *s, uint32_t src, bool idle)
{
    if (!s->broken) lw_state_source_idle(s->s, src, idle);
}

int64_t
logwash_state_last_end(const struct logwash_state *s)
{
    return lw_state_last_end(s->s);
}

int64_t
logwash_state_source_time(const struct logwash_state *s, uint32_t src)
{
    return s->broken ? INT64_MIN : lw_state_source_time(s->s, src);
}

void
logwash_state_restore(struct logwash_state *s, uint32_t src, int64_t time, int64_t given)
{
    if (!s->broken) lw_state_restore(s->s, src, time, given);
}

int64_t
logwash_state_closed(const struct logwash_state *s)
{
    return s->broken ? INT64_MIN : lw_state_closed(s->s);
}

uint32_t
logwash_state_statements(const struct logwash_state *s)
{
    return lw_state_statements(s->s);
}

int64_t
logwash_state_last_end_of(const struct logwash_state *s, uint32_t w)
{
    return lw_state_last_end_of(s->s, w);
}

int64_t
logwash_state_closed_of(const struct logwash_state *s, uint32_t w)
{
    return s->broken ? INT64_MIN : lw_state_closed_of(s->s, w);
}

int64_t
logwash_state_source_time_of(const struct logwash_state *s, uint32_t src, uint32_t w)
{
    return s->broken ? INT64_MIN : lw_state_source_time_of(s->s, src, w);
}

void
logwash_state_restore_of(struct logwash_state *s, uint32_t src, uint32_t w, int64_t time,
                         int64_t given)
{
    if (!s->broken) lw_state_restore_of(s->s, src, w, time, given);
}

int64_t
logwash_state_seen_time(const struct logwash_state *s, uint32_t src)
{
    return s->broken ? INT64_MIN : lw_state_seen_time(s->s, src);
}

void
logwash_state_restore_seen(struct logwash_state *s, uint32_t src, int64_t time)
{
    if (!s->broken) lw_state_restore_seen(s->s, src, time);
}

uint64_t
logwash_state_seen_horizon(struct logwash_state *s, uint32_t src)
{
    return s->broken ? 0 : lw_state_seen_horizon(s->s, src);
}

uint64_t
logwash_state_seen_below(struct logwash_state *s, uint32_t src, uint64_t upto)
{
    return s->broken ? 0 : lw_state_seen_below(s->s, src, upto);
}

uint32_t
logwash_state_count_statements(const struct logwash_state *s)
{
    return lw_state_count_statements(s->s);
}

size_t
logwash_state_seen_spans(const struct logwash_state *s, uint32_t src)
{
    return s->broken ? 0 : lw_state_seen_spans(s->s, src);
}

void
logwash_state_seen_pass(struct logwash_state *s, uint32_t src, uint64_t upto)
{
    if (!s->broken) lw_state_seen_pass(s->s, src, upto);
}

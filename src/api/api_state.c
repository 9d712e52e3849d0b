/* liblogwash's state across records (logwash.h: seen() and window statements) over state.h:
 * the runner's side through api_int.h, the shared state as a struct lw_state. */
#include "api_int.h"

#include <stdlib.h>

#include "lw/buf.h"
#include "lw/program.h"
#include "lw/state.h"
#include "lw/str.h"

struct logwash_state {
    struct lw_state *s;
};

bool
logwash_template_uses_state(const struct logwash_template *t)
{
    const struct lw_program *p = lw_api_template_program(t);
    return p->nwindows > 0 || p->uses_seen;
}

struct logwash_state *
logwash_state_new(const struct logwash_template *t, size_t max_bytes)
{
    struct logwash_state *st = lw_xmalloc(sizeof *st);
    st->s = lw_state_new(lw_api_template_program(t), max_bytes);
    return st;
}

void
logwash_state_free(struct logwash_state *s)
{
    if (s == NULL) return;
    lw_state_free(s->s);
    free(s);
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
    return len > 0 && lw_state_wrong(s->s, ops, len);
}

int
logwash_state_apply(struct logwash_state *s, const void *ops, size_t len, int64_t now_ns,
                    struct logwash_buffer *out, size_t *nres, bool *late, char *late_msg,
                    size_t cap)
{
    struct lw_buf b = { out->data, out->len, out->data ? out->cap : 0 };
    char dummy[8];
    size_t n = 0;
    int rc = lw_state_apply(s->s, ops, len, now_ns, &b, &n, late, late_msg ? late_msg : dummy,
                            late_msg ? cap : sizeof dummy);
    *out = (struct logwash_buffer){ b.p, b.len, b.cap };
    *nres += n;
    return rc;
}

size_t
logwash_state_tick(struct logwash_state *s, int64_t now_ns, struct logwash_buffer *out,
                   size_t limit)
{
    struct lw_buf b = { out->data, out->len, out->data ? out->cap : 0 };
    size_t n = lw_state_tick(s->s, now_ns, &b, limit);
    *out = (struct logwash_buffer){ b.p, b.len, b.cap };
    return n;
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

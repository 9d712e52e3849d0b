/* seen() and windows (state.h): the log a record's VM writes, and the state its owner applies
 * logs to, in read order. Dedup keys sit in a chained hash table and a queue in insertion
 * order (expiry and eviction take the front); open windows are buckets (one per statement and
 * start: a binary heap by end per statement, a hash table by start, a list in the order they
 * opened) of entries (one per key, in the order keys first came) in a second hash table, so
 * no record costs more than a logarithm of the open windows, whatever its event time.
 * Everything is malloc'd and counted against the bound; results are written as JSON texts.
 * The design and the guarantees are in docs/design-state.md. */
#include "lw/state.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "builtins_int.h"
#include "lw/codec.h"
#include "lw/duration.h"
#include "lw/json.h"
#include "lw/program.h"
#include "lw/sketch.h"
#include "lw/value.h"
#include "lw/vm.h"

/* ---- the log ----
 * SEEN: 'S' u8 answer, u64 hash, i64 now, i64 ttl, u32 len, key bytes
 * WIN:  'W' u32 statement, i64 time (INT64_MIN: processing time), u64 hash, u32 len, key bytes,
 *       then per aggregate: 'n' | 'i' i64 | 'f' f64 | 'h' u64 | 'j' u32 len, JSON bytes
 *       (the key: none, compact JSON, or '#' and the 128-bit hash of a longer one) */

struct lkey { /* one of the runner's own keys */
    uint64_t hash;
    int64_t exp;
    uint32_t off, len; /* in keys */
    uint32_t slot;     /* in ltab */
};

struct lw_vmstate {
    const struct lw_program *p;
    const struct lw_state *attached;
    struct lw_buf log;
    struct lw_buf key;  /* the key being made */
    struct lw_buf keys; /* the runner's own keys' bytes */
    struct lkey *lk;
    uint32_t nlk, caplk;
    uint32_t *ltab; /* own keys by hash: 1 + the index in lk of the latest, 0: free */
    uint32_t lcap;  /* a power of 2, at least twice nlk (0: none yet) */
};

struct lw_vmstate *
lw_vmstate_new(const struct lw_program *p)
{
    struct lw_vmstate *vs = lw_xcalloc(1, sizeof *vs);
    vs->p = p;
    lw_buf_init(&vs->log);
    lw_buf_init(&vs->key);
    lw_buf_init(&vs->keys);
    return vs;
}

void
lw_vmstate_free(struct lw_vmstate *vs)
{
    if (vs == NULL) return;
    lw_buf_fini(&vs->log);
    lw_buf_fini(&vs->key);
    lw_buf_fini(&vs->keys);
    free(vs->lk);
    free(vs->ltab);
    free(vs);
}

void
lw_vmstate_forget(struct lw_vmstate *vs)
{
    for (uint32_t i = 0; i < vs->nlk; i++) /* the slots used only: forgetting is per record */
        vs->ltab[vs->lk[i].slot] = 0;
    vs->nlk = 0;
    vs->keys.len = 0;
}

void
lw_vmstate_begin(struct lw_vmstate *vs)
{
    vs->log.len = 0;
    /* attached: the state has every earlier record's keys. Alone: a bound on the own keys. */
    if (vs->attached != NULL || vs->nlk >= 65536 || vs->keys.len >= (16u << 20))
        lw_vmstate_forget(vs);
}

void
lw_vmstate_attach(struct lw_vmstate *vs, const struct lw_state *s)
{
    vs->attached = s;
    lw_vmstate_forget(vs);
}

const void *
lw_vmstate_log(const struct lw_vmstate *vs, size_t *len)
{
    *len = vs->log.len;
    return vs->log.p;
}

static void
put64(struct lw_buf *b, uint64_t v)
{
    lw_buf_add(b, &v, 8);
}

static void
put32(struct lw_buf *b, uint32_t v)
{
    lw_buf_add(b, &v, 4);
}

static uint64_t
get64(const char **p)
{
    uint64_t v;
    memcpy(&v, *p, 8);
    *p += 8;
    return v;
}

static uint32_t
get32(const char **p)
{
    uint32_t v;
    memcpy(&v, *p, 4);
    *p += 4;
    return v;
}

/* make_key: v's canonical bytes (compact JSON; members in the order written) in vs->key, or
 * their 128-bit hash past LW_KEY_HASHED bytes. Returns its 64-bit hash. */
static int
make_key(struct lw_vm *vm, struct lw_vmstate *vs, const struct lw_value *v, uint64_t *hash)
{
    vs->key.len = 0;
    if (lw_value_write_json_max(&vs->key, v, vm->arena, vm->limits.max_memory) != 0)
        return lw_vm_error(vm, "the key cannot be written as JSON (too large, or a regex)");
    if (vs->key.len > LW_KEY_HASHED) {
        XXH128_hash_t h = XXH3_128bits(vs->key.p, vs->key.len);
        vs->key.len = 0;
        lw_buf_add(&vs->key, "#", 1);
        lw_buf_add(&vs->key, &h, sizeof h);
    }
    *hash = XXH3_64bits(vs->key.p, vs->key.len);
    return 0;
}

/* ---- the shared state ---- */

/* msz: what malloc takes for n bytes (glibc: 8 bytes of header, 16-byte granules), so the bound
 * counts the memory the process holds, not only what was asked for */
static size_t
msz(size_t n)
{
    return n == 0 ? 0 : (n + 8 + 15) & ~(size_t)15;
}

struct dkey { /* a dedup key */
    struct dkey *hnext, *qnext, *qprev;
    uint64_t hash;
    int64_t exp;
    uint64_t rec; /* the apply that inserted it (lw_state_horizon) */
    uint64_t use; /* the last apply that found it live (lw_state_seen_horizon) */
    uint32_t src; /* the source that inserted it (UINT32_MAX: none): it expires by its time */
    uint32_t len;
    char key[];
};

struct agst { /* an aggregate's state */
    uint64_t n;
    __int128 isum;
    double fsum;
    bool anyfloat, has;
    bool mm_float;
    int64_t mm_i;
    double mm_f;
    char *blob; /* first/last: the value's JSON */
    uint32_t bloblen;
    void *sk; /* count_distinct: a struct lw_distinct; percentile: a struct lw_ddsketch */
};

/* sk_free: an aggregate's sketch freed; returns the bytes it held. */
static size_t
sk_free(const struct lw_winagg *g, struct agst *x)
{
    size_t n = g->kind == LW_AGG_COUNT_DISTINCT ? lw_distinct_free(x->sk)
               : g->kind == LW_AGG_PERCENTILE   ? lw_dd_free(x->sk)
               : g->kind == LW_AGG_TOP          ? lw_top_free(x->sk)
                                                : 0;
    x->sk = NULL;
    return n;
}

/* blobsz: the memory of x's first/last value */
static size_t
blobsz(const struct agst *x)
{
    return x->blob ? msz(x->bloblen ? x->bloblen : 1) : 0;
}

struct went { /* one key's results in one window */
    struct went *hnext;
    struct bucket *b;
    uint64_t hash;
    uint64_t recs; /* records counted (count windows close at count_n) */
    uint32_t len;
    struct agst *ag;
    char key[];
};

struct bucket { /* one window (statement, start) */
    uint32_t w;
    uint32_t hi; /* its place in its statement's heap */
    int64_t start, end;
    struct went **ents;
    uint32_t n, cap;
    uint32_t next;  /* ents before it were given and freed (a close cut at the output's limit) */
    uint64_t seq;   /* count and session windows: one bucket per key's window */
    uint64_t first; /* the apply that opened it: its first contributor (lw_state_horizon) */
    /* what the results say (a session grows, a count window ends at its Nth record); start
     * and end stay the bucket's place in the list until advance moves it */
    int64_t shown_start, shown_end;
    union {
        struct bucket *hnext; /* tumbling and sliding (seq 0): its slot's chain in btab */
        struct cwin *cw;      /* count windows with sources, open: count_open (NULL: none) */
    };
    struct bucket *oprev, *onext; /* in s->olist while it has results to give */
    bool listed;
    struct snode *sx; /* session windows: its set of merged sessions (session_add) */
};

/* An open count window of a source (docs/design-state.md 3d), apart from its bucket so that a
 * run without sources (files) keeps its buckets' size: the applies of its first and last
 * records, its source, its place in the source's open ones (struct dq, in the order they
 * opened). */
struct cwin {
    uint64_t first, last;
    uint32_t src;
    struct cwin *prev, *next;
};

struct wstate {
    int64_t wm;           /* the largest time seen (INT64_MIN: none) */
    int64_t closed;       /* with sources: the largest closing watermark so far (INT64_MIN: none) */
    struct bucket **heap; /* its open windows, a binary heap by (end, start, seq) */
    size_t hn, hcap;
    struct bucket *last; /* tumbling and sliding: the window bucket_get gave last, or NULL */
};

struct span { /* a key inserted by apply from and found live by apply to: no commit in (from, to] */
    uint64_t from, to;
};

/* A source's dedup keys, in insertion order, and its latest seen() time: a key expires when
 * the time of the source that inserted it reaches its expiry (docs/design-state.md 3b), so a
 * key's life depends on its own source's records only, not on how sources interleave. */
struct dq {
    struct dkey *head, *tail;
    int64_t dmax;    /* the latest seen() time of its records applied (INT64_MIN: none) */
    struct span *sp; /* the spans of its keys gone (lw_state_seen_horizon) */
    size_t nsp, capsp;
    uint64_t horizon; /* the last lw_state_seen_horizon (it never goes back) */
    uint64_t hat;     /* the logs applied when it was worked out */
    /* its count windows open, in the order they opened: no commit past the first's first
     * record; one closed leaves the span (first, last] (docs/design-state.md 3d) */
    struct cwin *chead, *ctail;
};

/* A source of logs with its own event time (a Kafka partition, docs/design-state.md 2): a
 * contribution is late when its own source's time passed its window's end plus the lateness;
 * windows close when the smallest time of the sources not idle passes it. */
struct psrc {
    struct dq dq;
    bool live, idle;
    int64_t *wm; /* per statement, INT64_MIN: none yet */
    /* per statement: its contributions to windows ending (plus lateness) at or before it are
     * dropped (lw_state_restore, lw_state_restore_of), INT64_MIN: none */
    int64_t *gw;
};

struct lw_state {
    const struct lw_program *p;
    size_t max_bytes, bytes;
    struct dkey **dtab;
    size_t dcap, dn;
    struct dq dq0; /* the keys of logs from no source (files) */
    bool text;     /* results in the text encoder's form (lw_state_set_text), else JSON */
    struct went **wtab;
    size_t wcap, wn;
    size_t nbk;                   /* open windows, in the heaps of s->ws */
    struct bucket **btab;         /* tumbling and sliding windows by (statement, start) */
    size_t bcap, bn;              /* bcap a power of 2 */
    struct bucket *ohead, *otail; /* windows with results to give, in the order they opened */
    struct wstate *ws;
    uint64_t seq;     /* of the last count window opened */
    uint64_t applied; /* logs applied (lw_state_apply returned 0): the next one's index */
    struct psrc *src; /* lw_state_from's sources (none: one source, the ws's times) */
    uint32_t nsrc;
    struct psrc *cur; /* the source of the logs applied now, NULL: none given */
    int64_t last_end; /* the latest end plus lateness the last log contributed to */
    int64_t *wlast;   /* the same per statement (lw_state_last_end_of) */
    uint64_t steps;   /* heap, hash chain and list steps taken (lw_state_steps) */
    /* session windows' cells (session_add), made at the first; ccap a power of 2 */
    struct scell **ctab;
    size_t ccap, cn;
    struct lw_state_counts c;
    struct lw_arena scratch;
    struct lw_state_route *rt; /* the last apply's or tick's results (lw_state_routes) */
    size_t nrt, caprt;
    struct lw_buf rraw;  /* their keys as kept (route_key) */
    struct lw_buf rkeys; /* their message keys, made by lw_state_routes */
    bool rkeyed;         /* ... since the last apply or tick */
};

struct lw_state *
lw_state_new(const struct lw_program *p, size_t max_bytes)
{
    struct lw_state *s = lw_xcalloc(1, sizeof *s);
    s->p = p;
    s->max_bytes = max_bytes;
    s->dcap = 1024;
    s->dtab = lw_xcalloc(s->dcap, sizeof *s->dtab);
    s->wcap = 1024;
    s->wtab = lw_xcalloc(s->wcap, sizeof *s->wtab);
    s->bcap = 64;
    s->btab = lw_xcalloc(s->bcap, sizeof *s->btab);
    s->ws = lw_xcalloc(p->nwindows ? p->nwindows : 1, sizeof *s->ws);
    s->dq0.dmax = INT64_MIN;
    for (uint32_t i = 0; i < p->nwindows; i++)
        s->ws[i].wm = s->ws[i].closed = INT64_MIN;
    s->wlast = lw_xmalloc((p->nwindows ? p->nwindows : 1) * sizeof *s->wlast);
    for (uint32_t i = 0; i < (p->nwindows ? p->nwindows : 1); i++)
        s->wlast[i] = INT64_MIN;
    s->bytes = (s->dcap + s->wcap + s->bcap) * sizeof(void *);
    lw_arena_init(&s->scratch, 4096);
    return s;
}

static void sess_drop(struct lw_state *s, struct bucket *b);
static void sess_given(struct lw_state *s, struct bucket *b);

static void
bucket_free(struct lw_state *s, struct bucket *b)
{
    const struct lw_windef *d = &s->p->windows[b->w];
    for (uint32_t i = b->next; i < b->n; i++) {
        struct went *e = b->ents[i];
        for (uint32_t a = 0; a < d->naggs; a++) {
            free(e->ag[a].blob);
            sk_free(&d->aggs[a], &e->ag[a]);
        }
        free(e->ag);
        free(e);
    }
    free(b->ents);
    if (b->seq != 0 && !b->sx) free(b->cw); /* a count window still open (count_open) */
    free(b);
}

void
lw_state_set_text(struct lw_state *s, bool text)
{
    s->text = text;
}

const struct lw_program *
lw_state_program(const struct lw_state *s)
{
    return s->p;
}

static void route_keys(struct lw_state *s);

const struct lw_state_route *
lw_state_routes(struct lw_state *s, size_t *n, const char **keys)
{
    if (!s->rkeyed) route_keys(s);
    s->rkeyed = true;
    *n = s->nrt;
    *keys = s->rkeys.p;
    return s->rt;
}

static void
routes_reset(struct lw_state *s)
{
    s->nrt = 0;
    s->rkeys.len = s->rraw.len = 0;
    s->rkeyed = false;
}

void
lw_state_free(struct lw_state *s)
{
    if (s == NULL) return;
    free(s->rt);
    lw_buf_fini(&s->rkeys);
    lw_buf_fini(&s->rraw);
    for (uint32_t i = 0; i <= s->nsrc; i++) {
        struct dq *q = i < s->nsrc ? &s->src[i].dq : &s->dq0;
        for (struct dkey *k = q->head, *nx; k != NULL; k = nx) {
            nx = k->qnext;
            free(k);
        }
        free(q->sp);
    }
    for (uint32_t w = 0; w < s->p->nwindows; w++) {
        for (size_t i = 0; i < s->ws[w].hn; i++) {
            if (s->ws[w].heap[i]->sx) sess_drop(s, s->ws[w].heap[i]);
            bucket_free(s, s->ws[w].heap[i]);
        }
        free(s->ws[w].heap);
    }
    free(s->ctab);
    free(s->btab);
    free(s->dtab);
    free(s->wtab);
    free(s->ws);
    for (uint32_t i = 0; i < s->nsrc; i++) {
        free(s->src[i].wm);
        free(s->src[i].gw);
    }
    free(s->src);
    free(s->wlast);
    lw_arena_fini(&s->scratch);
    free(s);
}

void
lw_state_from(struct lw_state *s, uint32_t src)
{
    if (src >= s->nsrc) {
        uint32_t n = src + 1 > s->nsrc * 2 ? src + 1 : s->nsrc * 2;
        s->src = lw_xrealloc(s->src, n * sizeof *s->src);
        memset(s->src + s->nsrc, 0, (n - s->nsrc) * sizeof *s->src);
        s->nsrc = n;
    }
    struct psrc *x = &s->src[src];
    if (!x->live) {
        uint32_t nw = s->p->nwindows ? s->p->nwindows : 1;
        x->wm = lw_xmalloc(nw * sizeof *x->wm);
        x->gw = lw_xmalloc(nw * sizeof *x->gw);
        for (uint32_t i = 0; i < nw; i++)
            x->wm[i] = x->gw[i] = INT64_MIN;
        x->live = true;
        x->idle = false;
        x->dq.dmax = INT64_MIN;
    }
    s->cur = x;
}

void
lw_state_source_idle(struct lw_state *s, uint32_t src, bool idle)
{
    if (src < s->nsrc && s->src[src].live) s->src[src].idle = idle;
}

int64_t
lw_state_source_time(const struct lw_state *s, uint32_t src)
{
    if (src >= s->nsrc || !s->src[src].live || s->p->nwindows == 0) return INT64_MIN;
    return s->src[src].wm[0];
}

void
lw_state_restore(struct lw_state *s, uint32_t src, int64_t time, int64_t given)
{
    if (src < s->nsrc && s->src[src].live) {
        for (uint32_t w = 0; w < s->p->nwindows; w++) {
            int64_t *wm = &s->src[src].wm[w];
            if (s->p->windows[w].event_time && time > *wm) *wm = time;
            if (given > s->src[src].gw[w]) s->src[src].gw[w] = given;
        }
    }
}

uint32_t
lw_state_statements(const struct lw_state *s)
{
    return s->p->nwindows;
}

int64_t
lw_state_source_time_of(const struct lw_state *s, uint32_t src, uint32_t w)
{
    if (src >= s->nsrc || !s->src[src].live || w >= s->p->nwindows) return INT64_MIN;
    return s->src[src].wm[w];
}

void
lw_state_restore_of(struct lw_state *s, uint32_t src, uint32_t w, int64_t time, int64_t given)
{
    if (src >= s->nsrc || !s->src[src].live || w >= s->p->nwindows) return;
    struct psrc *x = &s->src[src];
    if (s->p->windows[w].event_time && time > x->wm[w]) x->wm[w] = time;
    if (given > x->gw[w]) x->gw[w] = given;
}

int64_t
lw_state_last_end_of(const struct lw_state *s, uint32_t w)
{
    return w < s->p->nwindows ? s->wlast[w] : INT64_MIN;
}

int64_t
lw_state_closed_of(const struct lw_state *s, uint32_t w)
{
    if (w >= s->p->nwindows) return INT64_MIN;
    return s->nsrc ? s->ws[w].closed : s->ws[w].wm;
}

int64_t
lw_state_last_end(const struct lw_state *s)
{
    return s->last_end;
}

/* close_wm: the time that closes statement w's windows: its latest time, or with sources the
 * largest minimum so far of the times of the sources not idle (a source with no time yet holds
 * every window; when all are idle nothing more closes) */
static inline int64_t
close_wm(struct lw_state *s, uint32_t w)
{
    if (s->nsrc == 0) return s->ws[w].wm;
    int64_t m = INT64_MAX;
    bool any = false;
    for (uint32_t i = 0; i < s->nsrc; i++) {
        const struct psrc *x = &s->src[i];
        if (!x->live || x->idle) continue;
        any = true;
        if (x->wm[w] < m) m = x->wm[w];
    }
    if (any && m > s->ws[w].closed) s->ws[w].closed = m;
    return s->ws[w].closed;
}

int64_t
lw_state_closed(const struct lw_state *s)
{
    /* what advance closed (with sources it keeps the watermark it closed at, so a source gone
     * idle since is not counted before the windows it lets go have closed) */
    int64_t m = INT64_MAX;
    for (uint32_t w = 0; w < s->p->nwindows; w++) {
        int64_t c = s->nsrc ? s->ws[w].closed : s->ws[w].wm;
        if (c < m) m = c;
    }
    return s->p->nwindows ? m : INT64_MIN;
}

void
lw_state_counts(const struct lw_state *s, struct lw_state_counts *c)
{
    *c = s->c;
    c->keys = s->dn;
    c->windows = s->wn;
    c->bytes = s->bytes;
}

/* ---- dedup ---- */

/* dq_of: the queue of the keys of source src (UINT32_MAX: none) */
static struct dq *
dq_of(struct lw_state *s, uint32_t src)
{
    return src < s->nsrc ? &s->src[src].dq : &s->dq0;
}

static const struct dq *
dq_ofc(const struct lw_state *s, uint32_t src)
{
    return src < s->nsrc ? &s->src[src].dq : &s->dq0;
}

static struct dkey *
dfind(const struct lw_state *s, uint64_t hash, const char *key, uint32_t len)
{
    for (struct dkey *k = s->dtab[hash & (s->dcap - 1)]; k != NULL; k = k->hnext)
        if (k->hash == hash && k->len == len && memcmp(k->key, key, len) == 0) return k;
    return NULL;
}

static void
dremove(struct lw_state *s, struct dkey *k)
{
    struct dkey **pp = &s->dtab[k->hash & (s->dcap - 1)];
    while (*pp != k)
        pp = &(*pp)->hnext;
    *pp = k->hnext;
    struct dq *q = dq_of(s, k->src);
    if (k->qprev)
        k->qprev->qnext = k->qnext;
    else
        q->head = k->qnext;
    if (k->qnext)
        k->qnext->qprev = k->qprev;
    else
        q->tail = k->qprev;
    if (k->use > k->rec && k->src != UINT32_MAX && k->use >= q->horizon) {
        /* found live after its insert: a replay from between them would miss it */
        if (q->nsp == q->capsp) {
            q->capsp = q->capsp ? q->capsp * 2 : 64;
            q->sp = lw_xrealloc(q->sp, q->capsp * sizeof *q->sp);
        }
        q->sp[q->nsp++] = (struct span){ k->rec, k->use };
    }
    s->bytes -= msz(sizeof *k + k->len);
    s->dn--;
    free(k);
}

/* span_add: no commit of q's source in (from, to] (a key found live after its insert, a count
 * window's records); one wholly before the horizon never matters */
static void
span_add(struct dq *q, uint64_t from, uint64_t to)
{
    if (to <= from || to < q->horizon) return;
    if (q->nsp == q->capsp) {
        q->capsp = q->capsp ? q->capsp * 2 : 64;
        q->sp = lw_xrealloc(q->sp, q->capsp * sizeof *q->sp);
    }
    q->sp[q->nsp++] = (struct span){ from, to };
}

static void
dgrow(struct lw_state *s)
{
    size_t ncap = s->dcap * 2;
    struct dkey **t = lw_xcalloc(ncap, sizeof *t);
    for (size_t i = 0; i < s->dcap; i++) {
        for (struct dkey *k = s->dtab[i], *nx; k != NULL; k = nx) {
            nx = k->hnext;
            k->hnext = t[k->hash & (ncap - 1)];
            t[k->hash & (ncap - 1)] = k;
        }
    }
    free(s->dtab);
    s->bytes += (ncap - s->dcap) * sizeof *t;
    s->dtab = t;
    s->dcap = ncap;
}

static void
dinsert(struct lw_state *s, uint64_t hash, const char *key, uint32_t len, int64_t exp)
{
    struct dkey *old = dfind(s, hash, key, len);
    if (old != NULL) dremove(s, old); /* expired: it comes again as new */
    struct dkey *k = lw_xmalloc(sizeof *k + len);
    uint32_t src = s->cur != NULL ? (uint32_t)(s->cur - s->src) : UINT32_MAX;
    struct dq *q = dq_of(s, src);
    *k = (struct dkey){ .hash = hash,
                        .exp = exp,
                        .rec = s->applied,
                        .use = s->applied,
                        .src = src,
                        .len = len,
                        .qprev = q->tail };
    memcpy(k->key, key, len);
    size_t i = hash & (s->dcap - 1);
    k->hnext = s->dtab[i];
    s->dtab[i] = k;
    if (q->tail)
        q->tail->qnext = k;
    else
        q->head = k;
    q->tail = k;
    s->dn++;
    s->bytes += msz(sizeof *k + len);
    if (s->dn > s->dcap) dgrow(s);
}

/* dexpire: the memory of q's keys expired (their expiry at or before q's dmax) at the front of
 * its queue; the others are expired for dseen already and go when they reach the front. */
static void
dexpire(struct lw_state *s, struct dq *q)
{
    while (q->head != NULL && q->head->exp <= q->dmax)
        dremove(s, q->head);
}

/* dseen: key was remembered at a time before now within its ttl, and has not expired: the
 * latest time of the records before from the source that inserted it did not reach its expiry
 * (so with event times out of order, an old time does not bring back a key a later time
 * expired, and another source's time never expires it). */
static bool
dseen(const struct lw_state *s, uint64_t hash, const char *key, uint32_t len, int64_t now)
{
    const struct dkey *k = dfind(s, hash, key, len);
    return k != NULL && now < k->exp && dq_ofc(s, k->src)->dmax < k->exp;
}

/* own keys: the runner's, as the same questions, found through ltab (a record may call
 * seen() in a loop: a search through all of them each time made such a record quadratic) */

/* own_slot: where key is in ltab, or the free slot it would take */
static uint32_t
own_slot(const struct lw_vmstate *vs, uint64_t hash, const char *key, uint32_t len)
{
    uint32_t i = (uint32_t)hash & (vs->lcap - 1);
    for (; vs->ltab[i] != 0; i = (i + 1) & (vs->lcap - 1)) {
        const struct lkey *k = &vs->lk[vs->ltab[i] - 1];
        if (k->hash == hash && k->len == len && memcmp(vs->keys.p + k->off, key, len) == 0) break;
    }
    return i;
}

static bool
own_seen(const struct lw_vmstate *vs, uint64_t hash, const char *key, uint32_t len, int64_t now)
{
    if (vs->nlk == 0) return false;
    uint32_t i = own_slot(vs, hash, key, len);
    return vs->ltab[i] != 0 && now < vs->lk[vs->ltab[i] - 1].exp; /* the latest's expiry */
}

static void
own_put(struct lw_vmstate *vs, uint64_t hash, const char *key, uint32_t len, int64_t exp)
{
    if (vs->nlk == vs->caplk) {
        vs->caplk = vs->caplk ? vs->caplk * 2 : 64;
        vs->lk = lw_xrealloc(vs->lk, vs->caplk * sizeof *vs->lk);
    }
    if (2 * ((size_t)vs->nlk + 1) > vs->lcap) { /* grown: every key again, the latest last */
        uint32_t cap = vs->lcap ? vs->lcap * 2 : 128;
        uint32_t *t = lw_xcalloc(cap, sizeof *t);
        free(vs->ltab);
        vs->ltab = t;
        vs->lcap = cap;
        for (uint32_t j = 0; j < vs->nlk; j++) {
            struct lkey *k = &vs->lk[j];
            k->slot = own_slot(vs, k->hash, vs->keys.p + k->off, k->len);
            vs->ltab[k->slot] = j + 1;
        }
    }
    uint32_t i = own_slot(vs, hash, key, len);
    vs->lk[vs->nlk] = (struct lkey){ hash, exp, (uint32_t)vs->keys.len, len, i };
    vs->ltab[i] = ++vs->nlk;
    lw_buf_add(&vs->keys, key, len);
}

/* expiry: when a key seen at now with ttl expires (INT64_MAX past the largest time: a time
 * near year 2262 plus a ttl of up to 100 years overflows int64_t) */
static int64_t
expiry(int64_t now, int64_t ttl)
{
    int64_t exp;
    return __builtin_add_overflow(now, ttl, &exp) ? INT64_MAX : exp;
}

/* ttl_arg: seen()'s ttl: a duration string ("10m", or the literal 10m) or seconds. */
static int
ttl_arg(struct lw_vm *vm, const struct lw_value *v, int64_t *ttl)
{
    double ns;
    if (v->t == LW_T_STR) {
        char err[200];
        size_t off;
        if (lw_duration_parse(v->u.p, v->len, &ns, err, sizeof err, &off) != 0)
            return lw_vm_error(vm, "seen(): the ttl: %s", err);
    } else if (v->t == LW_T_INT) {
        ns = (double)v->u.i * 1e9;
    } else if (v->t == LW_T_FLOAT) {
        ns = v->u.f * 1e9;
    } else {
        return lw_vm_error(vm, "seen(): the ttl must be a duration such as 10m, found %s",
                           lw_type_name(v->t));
    }
    if (!(ns >= 1) || ns > (double)LW_MAX_WINDOW * 100)
        return lw_vm_error(vm, "seen(): the ttl must be more than 0 and at most 100 years");
    *ttl = (int64_t)ns;
    return 0;
}

int
fn_seen(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_vmstate *vs = vm->state;
    if (vs == NULL) return lw_vm_error(vm, "seen(): this runner keeps no state");
    int64_t ttl = 0, now = n > 2 ? 0 : lw_vm_now(vm); /* a time given: no clock read */
    if (ttl_arg(vm, &a[1], &ttl) != 0) return -1;
    if (n > 2) {
        if (a[2].t != LW_T_TIME)
            return lw_vm_error(vm, "seen(): the time must be a time, found %s",
                               lw_type_name(a[2].t));
        now = a[2].u.i;
    }
    /* null (the field absent) is never seen and kept: with it as a key, every record without
     * the field after the first would be dropped as a duplicate, without a word */
    if (a[0].t == LW_T_NULL) {
        *r = lw_bool(false);
        return 0;
    }
    uint64_t hash;
    if (make_key(vm, vs, &a[0], &hash) != 0) return -1;
    const char *key = vs->key.p;
    uint32_t len = (uint32_t)vs->key.len;
    bool ans = own_seen(vs, hash, key, len, now) ||
               (vs->attached != NULL && dseen(vs->attached, hash, key, len, now));
    if (!ans) own_put(vs, hash, key, len, expiry(now, ttl));
    lw_buf_addc(&vs->log, 'S');
    lw_buf_addc(&vs->log, ans);
    put64(&vs->log, hash);
    put64(&vs->log, (uint64_t)now);
    put64(&vs->log, (uint64_t)ttl);
    put32(&vs->log, len);
    lw_buf_add(&vs->log, key, len);
    *r = lw_bool(ans);
    return 0;
}

/* ---- the WINDOW instruction ---- */

static int
num_arg(struct lw_vm *vm, const struct lw_winagg *g, const struct lw_value *v, struct lw_buf *b)
{
    static const char *const names[] = { "count",      "sum",   "min",  "max",
                                         "avg",        "first", "last", "count_distinct",
                                         "percentile", "top" };
    if (v->t == LW_T_NULL) {
        lw_buf_addc(b, 'n');
    } else if (v->t == LW_T_INT) {
        lw_buf_addc(b, 'i');
        put64(b, (uint64_t)v->u.i);
    } else if (v->t == LW_T_FLOAT) {
        if (!isfinite(v->u.f))
            return lw_vm_error(vm, "window %s(): the value is %s", names[g->kind],
                               isnan(v->u.f) ? "NaN" : "infinite");
        lw_buf_addc(b, 'f');
        lw_buf_add(b, &v->u.f, 8);
    } else {
        return lw_vm_error(vm, "window %s(): expected a number, found %s", names[g->kind],
                           lw_type_name(v->t));
    }
    return 0;
}

/* key_fast: the usual window key, a plain string (read without escapes) or an object of the
 * template's shape whose members all are ({cid: .cid}), written at once as write_json writes
 * it; false for any other key, or one past LW_KEY_HASHED or max bytes (the general path then) */
static bool
key_fast(struct lw_buf *b, const struct lw_value *v, size_t max)
{
    if (v->t == LW_T_STR) {
        if (!(v->flags & LW_V_PLAIN) || (size_t)v->len + 2 > LW_KEY_HASHED || v->len + 2 > max)
            return false;
        char *d = lw_buf_grow(b, (size_t)v->len + 2);
        d[0] = '"';
        lw_copy_small(d + 1, v->u.p, v->len);
        d[v->len + 1] = '"';
        b->len += (size_t)v->len + 2;
        return true;
    }
    if (v->t != LW_T_OBJ || (v->flags & LW_V_RAW)) return false;
    const struct lw_obj *o = v->u.o;
    if (o->n == 0 || o->shape == NULL || o->shape->n != o->n) return false;
    size_t need = 1;
    for (uint32_t i = 0; i < o->n; i++) {
        const struct lw_value *m = &o->v[i];
        if (m->t != LW_T_STR || !(m->flags & LW_V_PLAIN)) return false;
        need += o->shape->json[i].len + m->len + 3; /* the quotes, and ',' or '}' */
    }
    if (need > LW_KEY_HASHED || need > max) return false;
    char *d = lw_buf_grow(b, need);
    *d++ = '{';
    for (uint32_t i = 0; i < o->n; i++) {
        const struct lw_value *m = &o->v[i];
        lw_copy_small(d, o->shape->json[i].p, o->shape->json[i].len);
        d += o->shape->json[i].len;
        *d++ = '"';
        lw_copy_small(d, m->u.p, m->len);
        d += m->len;
        *d++ = '"';
        *d++ = i + 1 < o->n ? ',' : '}';
    }
    b->len += need;
    return true;
}

int
lw_vm_window(struct lw_vm *vm, uint32_t w, const struct lw_value *R)
{
    struct lw_vmstate *vs = vm->state;
    const struct lw_windef *d = &vm->prog->windows[w];
    if (vs == NULL) return lw_vm_error(vm, "window: this runner keeps no state");
    int64_t t = INT64_MIN;
    if (d->event_time) {
        if (R[1].t != LW_T_TIME)
            return lw_vm_error(vm, "window: the event time (at) must be a time, found %s",
                               lw_type_name(R[1].t));
        t = R[1].u.i;
        if (t == INT64_MIN) t++;
    }
    /* the op's head, then the key made in place (make_key's bytes and hash, without their
     * copy), then the head filled in */
    struct lw_buf *b = &vs->log;
    size_t mark = b->len;
    lw_buf_grow(b, 25);
    b->len += 25;
    uint64_t hash = 0;
    uint32_t klen = 0;
    if (d->has_key) {
        size_t k0 = b->len, max = vm->limits.max_memory;
        if (!key_fast(b, &R[0], max) &&
            lw_value_write_json_max(b, &R[0], vm->arena,
                                    max > SIZE_MAX - k0 ? SIZE_MAX : k0 + max) != 0) {
            b->len = mark;
            return lw_vm_error(vm, "the key cannot be written as JSON (too large, or a regex)");
        }
        if (b->len - k0 > LW_KEY_HASHED) {
            XXH128_hash_t h = XXH3_128bits(b->p + k0, b->len - k0);
            b->len = k0;
            lw_buf_add(b, "#", 1);
            lw_buf_add(b, &h, sizeof h);
        }
        klen = (uint32_t)(b->len - k0);
        hash = XXH3_64bits(b->p + k0, klen);
    }
    char *head = b->p + mark;
    head[0] = 'W';
    memcpy(head + 1, &w, 4);
    memcpy(head + 5, &t, 8);
    memcpy(head + 13, &hash, 8);
    memcpy(head + 21, &klen, 4);
    for (uint32_t i = 0; i < d->naggs; i++) {
        const struct lw_winagg *g = &d->aggs[i];
        const struct lw_value *v = &R[2 + i];
        int rc = 0;
        switch ((enum lw_agg)g->kind) {
        case LW_AGG_COUNT:
            lw_buf_addc(b, g->has_arg && v->t == LW_T_NULL ? 'n' : 'i');
            if (!(g->has_arg && v->t == LW_T_NULL)) put64(b, 1);
            break;
        case LW_AGG_SUM:
        case LW_AGG_MIN:
        case LW_AGG_MAX:
        case LW_AGG_AVG:
        case LW_AGG_PERCENTILE:
            rc = num_arg(vm, g, v, b);
            break;
        case LW_AGG_COUNT_DISTINCT: { /* the hash of the value's JSON (its key bytes) */
            if (v->t == LW_T_NULL) {
                lw_buf_addc(b, 'n');
                break;
            }
            uint64_t h; /* the key buffer is free (the window's key was made in the log) */
            if ((rc = make_key(vm, vs, v, &h)) != 0) break;
            lw_buf_addc(b, 'h');
            put64(b, h);
            break;
        }
        case LW_AGG_FIRST:
        case LW_AGG_LAST:
        case LW_AGG_TOP: {
            if (v->t == LW_T_NULL) {
                lw_buf_addc(b, 'n');
                break;
            }
            lw_buf_addc(b, 'j');
            size_t at = b->len;
            put32(b, 0);
            size_t start = b->len;
            if (lw_value_write_json_max(b, v, vm->arena, LW_KEY_HASHED) != 0) {
                rc = lw_vm_error(vm, "window %s(): the value is longer than %d bytes as JSON",
                                 g->kind == LW_AGG_FIRST  ? "first"
                                 : g->kind == LW_AGG_LAST ? "last"
                                                          : "top",
                                 LW_KEY_HASHED);
                break;
            }
            uint32_t len = (uint32_t)(b->len - start);
            memcpy(b->p + at, &len, 4);
            break;
        }
        }
        if (rc != 0) {
            b->len = mark;
            return -1;
        }
    }
    return 0;
}

/* ---- applying a log ---- */

/* plain_str: past the string at p (p[0] == '"') when its bytes are printable ASCII without '"'
 * or '\\' (no escape, nothing to check further), else NULL */
static inline const char *
plain_str(const char *p, const char *end)
{
    static const bool plain[256] = { [' ' ... '!'] = true,
                                     ['#' ... '['] = true,
                                     [']' ... '~'] = true };
    for (p++; p < end && plain[(unsigned char)*p]; p++) {
    }
    return p < end && *p == '"' ? p + 1 : NULL;
}

/* compact: whether [p, p + len) is what lw_value_write_json writes, as far as a result
 * needs: one JSON value (its strings valid UTF-8) without whitespace or NUL around or in it
 * outside its strings, at most LW_KEY_HASHED bytes. A window's key and its first/last/top
 * values are written into results as they are in the log, so a caller's log whose bytes are
 * not JSON is refused, never written out. The usual key, a plain ASCII string or an object
 * of them ({cid: .cid}), is seen at once; anything else is scanned (json.c). */
static bool
compact(const char *p, uint32_t len)
{
    if (len == 0 || len > LW_KEY_HASHED) return false;
    const char *q = p, *end = p + len;
    if (*q == '"') {
        if (plain_str(q, end) == end) return true;
    } else if (*q == '{') { /* "name":"value" members, each followed by ',' or the '}' */
        while (++q < end && *q == '"' && (q = plain_str(q, end)) != NULL && q + 1 < end &&
               *q == ':' && q[1] == '"' && (q = plain_str(q + 1, end)) != NULL && q < end) {
            if (*q == '}') return q + 1 == end;
            if (*q != ',') break;
        }
    }
    size_t n;
    bool gapless;
    return (unsigned char)p[0] > ' ' && (unsigned char)p[len - 1] > ' ' &&
           lw_json_scan_members(p, len, NULL, 0, NULL, NULL, 0, &n, &gapless, NULL) == 0 && gapless;
}

/* key_ok: whether a window operation's key (kl bytes at k, with its hash) is one the VM
 * writes: none (no key clause), a compact JSON text, or '#' and its 128-bit hash; the hash
 * is the key's XXH3, so equal keys meet */
static bool
key_ok(const struct lw_windef *d, const char *k, uint32_t kl, uint64_t hash)
{
    if (!d->has_key) return kl == 0 && hash == 0;
    if (kl == 1 + sizeof(XXH128_hash_t) && k[0] == '#') return hash == XXH3_64bits(k, kl);
    return compact(k, kl) && hash == XXH3_64bits(k, kl);
}

/* valid: whether log is a log of the VM's: every operation whole within len, of a window
 * statement of the program with its aggregates' tags, a float finite, an event time not
 * INT64_MIN, a key and a first/last/top value compact JSON (key_ok, compact) (logwash.h: the
 * state API takes logs from its callers, so it trusts no length nor text in them). *nseen:
 * its seen() operations. */
static bool
valid(const struct lw_state *s, const char *p, size_t len, uint32_t *nseen)
{
    const char *end = p + len;
    *nseen = 0;
    while (p < end) {
        size_t left = (size_t)(end - p);
        if (*p == 'S') {
            if (left < 30) return false;
            uint32_t kl;
            uint64_t hash;
            memcpy(&hash, p + 2, 8);
            memcpy(&kl, p + 26, 4);
            if (kl > left - 30 || hash != XXH3_64bits(p + 30, kl)) return false;
            p += 30 + kl;
            (*nseen)++;
            continue;
        }
        if (*p != 'W' || left < 25) return false;
        uint32_t w, kl;
        int64_t t;
        uint64_t hash;
        memcpy(&w, p + 1, 4);
        memcpy(&t, p + 5, 8);
        memcpy(&hash, p + 13, 8);
        memcpy(&kl, p + 21, 4);
        if (w >= s->p->nwindows || kl > left - 25) return false;
        const struct lw_windef *d = &s->p->windows[w];
        if (d->event_time && t == INT64_MIN) return false;
        if (!key_ok(d, p + 25, kl, hash)) return false;
        p += 25 + kl;
        for (uint32_t i = 0; i < d->naggs; i++) {
            /* each tag the VM writes, with what follows it ('j': and the length read); 0: none */
            static const uint8_t after[256] = {
                ['n'] = 1, ['i'] = 9, ['h'] = 9, ['f'] = 9, ['j'] = 5
            };
            /* and the tags each aggregate takes (add reads a first's value only after 'j'), as
             * bits: n 1, i 2, f 4, h 8, j 16 */
            static const uint8_t bit[256] = {
                ['n'] = 1, ['i'] = 2, ['f'] = 4, ['h'] = 8, ['j'] = 16
            };
            static const uint8_t takes[] = {
                [LW_AGG_COUNT] = 1 | 2,          [LW_AGG_SUM] = 1 | 2 | 4,
                [LW_AGG_MIN] = 1 | 2 | 4,        [LW_AGG_MAX] = 1 | 2 | 4,
                [LW_AGG_AVG] = 1 | 2 | 4,        [LW_AGG_FIRST] = 1 | 16,
                [LW_AGG_LAST] = 1 | 16,          [LW_AGG_COUNT_DISTINCT] = 1 | 8,
                [LW_AGG_PERCENTILE] = 1 | 2 | 4, [LW_AGG_TOP] = 1 | 16,
            };
            if (p == end) return false;
            uint8_t n = after[(uint8_t)*p];
            if (n == 0 || (size_t)(end - p) < n || !(takes[d->aggs[i].kind] & bit[(uint8_t)*p]))
                return false;
            if (*p == 'f') {
                double f;
                memcpy(&f, p + 1, 8);
                if (!isfinite(f)) return false;
            } else if (*p == 'j') {
                uint32_t bl;
                memcpy(&bl, p + 1, 4);
                if (bl > (size_t)(end - p) - 5 || !compact(p + 5, bl)) return false;
                p += bl;
            }
            p += n;
        }
    }
    return true;
}

/* An insert of the log being checked: the latest expiry an earlier seen() of it gave key. */
struct ins {
    const char *key;
    uint32_t len;
    uint64_t hash;
    int64_t exp;
};

/* ins_at: key's slot in t (cap a power of 2, never full), or the free one it would take;
 * *steps counts the slots looked at */
static struct ins *
ins_at(struct ins *t, size_t cap, uint64_t hash, const char *key, uint32_t len, uint64_t *steps)
{
    size_t i = (size_t)hash & (cap - 1);
    for (; t[i].key != NULL; i = (i + 1) & (cap - 1)) {
        ++*steps;
        if (t[i].hash == hash && t[i].len == len && memcmp(t[i].key, key, len) == 0) break;
    }
    return &t[i];
}

/* check (and check_seen, with the log's nseen seen() operations): -1 when log is not a log of
 * the VM's (valid), 1 when a seen() answer in it is not the state's: the key was remembered (dseen)
 * or an earlier seen() of the same log inserted it, found in a table of those inserts when there
 * are more than a few (a record may call seen() in a loop), else 0. */
static __attribute__((noinline)) int
check_seen(const struct lw_state *s, const void *log, size_t len, uint32_t nseen, uint64_t *steps)
{
    size_t cap = 16;
    while (cap < 2 * (size_t)nseen)
        cap *= 2;
    struct ins small[16], *t = cap == 16 ? small : calloc(cap, sizeof *t);
    if (t == NULL) return 1; /* no memory: refused, the record runs again */
    if (t == small) memset(small, 0, sizeof small);
    int rc = 0;
    const char *p = log, *end = p + len;
    while (p < end && rc == 0) {
        char op = *p++;
        if (op == 'W') {
            uint32_t w = get32(&p);
            p += 16;
            uint32_t kl = get32(&p);
            p += kl;
            const struct lw_windef *d = &s->p->windows[w];
            for (uint32_t i = 0; i < d->naggs; i++) {
                char tag = *p++;
                if (tag == 'i' || tag == 'f' || tag == 'h') p += 8;
                if (tag == 'j') p += get32(&p);
            }
            continue;
        }
        bool ans = *p++;
        uint64_t hash = get64(&p);
        int64_t now = (int64_t)get64(&p), ttl = (int64_t)get64(&p);
        uint32_t kl = get32(&p);
        const char *key = p;
        p += kl;
        struct ins *in = ins_at(t, cap, hash, key, kl, steps);
        bool real = dseen(s, hash, key, kl, now) || (in->key != NULL && now < in->exp);
        if (real != ans) rc = 1;
        if (!ans) {
            int64_t exp = expiry(now, ttl);
            if (in->key == NULL) *in = (struct ins){ key, kl, hash, exp };
            if (exp > in->exp) in->exp = exp;
        }
    }
    if (t != small) free(t);
    return rc;
}

static int
check(const struct lw_state *s, const void *log, size_t len, uint64_t *steps)
{
    uint32_t nseen;
    if (!valid(s, log, len, &nseen)) return -1;
    return nseen == 0 ? 0 : check_seen(s, log, len, nseen, steps); /* a log of windows only */
}

/* wrong: whether a seen() answer of the log is not the state's, or the log is not one. */
bool
lw_state_wrong(const struct lw_state *s, const void *log, size_t len)
{
    uint64_t steps = 0;
    return check(s, log, len, &steps) != 0;
}

static void
put_time(struct lw_buf *out, int64_t ns, struct lw_arena *a)
{
    struct lw_value v = lw_time(ns, 0);
    lw_value_write_json(out, &v, a);
}

static void
put_i128(struct lw_buf *out, __int128 v)
{
    char buf[48];
    int n = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        buf[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    if (neg) lw_buf_addc(out, '-');
    while (n > 0)
        lw_buf_addc(out, buf[--n]);
}

static void
put_float(struct lw_buf *out, double f, struct lw_arena *a)
{
    struct lw_value v = lw_float(f);
    lw_value_write_json(out, &v, a);
}

/* route_key: a result's route (lw_state_routes): the window and the key as kept, copied. */
static void
route_key(struct lw_state *s, const struct bucket *b, const struct went *e)
{
    if (s->nrt == s->caprt) {
        s->caprt = s->caprt ? 2 * s->caprt : 16;
        s->rt = lw_xrealloc(s->rt, s->caprt * sizeof *s->rt);
    }
    size_t at = s->rraw.len;
    if (e->len > 0) lw_buf_add(&s->rraw, e->key, e->len);
    s->rt[s->nrt++] = (struct lw_state_route){
        .w = b->w, .start = b->shown_start, .end = b->shown_end, .raw_off = at, .raw_len = e->len
    };
}

/* route_keys: each route's message key, the compact JSON of its result's identity: the
 * statement's number, window_start, window_end and the key as kept (its hash as hex). */
static void
route_keys(struct lw_state *s)
{
    struct lw_buf *k = &s->rkeys;
    k->len = 0;
    for (size_t r = 0; r < s->nrt; r++) {
        struct lw_state_route *rt = &s->rt[r];
        const char *key = s->rraw.p + rt->raw_off;
        size_t at = k->len, len = rt->raw_len;
        char num[32];
        lw_arena_reset(&s->scratch);
        lw_buf_add(k, num, (size_t)snprintf(num, sizeof num, "{\"window\":%u", rt->w + 1));
        lw_buf_add(k, ",\"window_start\":", 16);
        put_time(k, rt->start, &s->scratch);
        lw_buf_add(k, ",\"window_end\":", 14);
        put_time(k, rt->end, &s->scratch);
        if (len > 0 && key[0] == '#') {
            lw_buf_add(k, ",\"key_hash\":\"", 13);
            for (size_t i = 1; i < len; i++) {
                char h[3];
                snprintf(h, sizeof h, "%02x", (unsigned char)key[i]);
                lw_buf_add(k, h, 2);
            }
            lw_buf_addc(k, '"');
        } else {
            lw_buf_add(k, ",\"key\":", 7);
            if (len > 0)
                lw_buf_add(k, key, len);
            else
                lw_buf_add(k, "null", 4);
        }
        lw_buf_addc(k, '}');
        rt->key_off = at;
        rt->key_len = k->len - at;
    }
}

/* emit: one (window, key) result: the key's members, window_start, window_end, aggregates. */
static void
emit(struct lw_state *s, const struct bucket *b, const struct went *e, struct lw_buf *out)
{
    const struct lw_windef *d = &s->p->windows[b->w];
    lw_arena_reset(&s->scratch);
    size_t at = out->len;
    route_key(s, b, e);
    lw_buf_addc(out, '{');
    if (e->len > 2 && e->key[0] == '{') {
        lw_buf_add(out, e->key + 1, e->len - 2);
        lw_buf_addc(out, ',');
    } else if (e->len > 0 && e->key[0] == '#') {
        lw_buf_add(out, "\"key_hash\":\"", 12);
        for (uint32_t i = 1; i < e->len; i++) {
            char h[3];
            snprintf(h, sizeof h, "%02x", (unsigned char)e->key[i]);
            lw_buf_add(out, h, 2);
        }
        lw_buf_add(out, "\",", 2);
    } else if (e->len > 0 && !(e->len == 2 && memcmp(e->key, "{}", 2) == 0) &&
               !(e->len == 4 && memcmp(e->key, "null", 4) == 0)) {
        lw_buf_add(out, "\"key\":", 6);
        lw_buf_add(out, e->key, e->len);
        lw_buf_addc(out, ',');
    }
    lw_buf_add(out, "\"window_start\":", 15);
    put_time(out, b->shown_start, &s->scratch);
    lw_buf_add(out, ",\"window_end\":", 14);
    put_time(out, b->shown_end, &s->scratch);
    for (uint32_t i = 0; i < d->naggs; i++) {
        const struct lw_winagg *g = &d->aggs[i];
        const struct agst *x = &e->ag[i];
        lw_buf_addc(out, ',');
        struct lw_value nm = lw_strv(g->name.p, g->name.len);
        lw_value_write_json(out, &nm, &s->scratch);
        lw_buf_addc(out, ':');
        switch ((enum lw_agg)g->kind) {
        case LW_AGG_COUNT:
            put_i128(out, (__int128)x->n);
            break;
        case LW_AGG_SUM: /* a float sum past the float range is null, as avg's then */
            if (!x->anyfloat)
                put_i128(out, x->isum);
            else if (!isfinite((double)x->isum + x->fsum))
                lw_buf_add(out, "null", 4);
            else
                put_float(out, (double)x->isum + x->fsum, &s->scratch);
            break;
        case LW_AGG_AVG:
            if (x->n == 0 || !isfinite((double)x->isum + x->fsum))
                lw_buf_add(out, "null", 4);
            else
                put_float(out, ((double)x->isum + x->fsum) / (double)x->n, &s->scratch);
            break;
        case LW_AGG_MIN:
        case LW_AGG_MAX:
            if (!x->has)
                lw_buf_add(out, "null", 4);
            else if (x->mm_float)
                put_float(out, x->mm_f, &s->scratch);
            else
                put_i128(out, x->mm_i);
            break;
        case LW_AGG_FIRST:
        case LW_AGG_LAST:
            if (x->blob == NULL)
                lw_buf_add(out, "null", 4);
            else
                lw_buf_add(out, x->blob, x->bloblen);
            break;
        case LW_AGG_COUNT_DISTINCT:
            put_i128(out, (__int128)lw_distinct_count(x->sk));
            break;
        case LW_AGG_TOP:
            lw_top_write(x->sk, (uint32_t)g->arg, out);
            break;
        case LW_AGG_PERCENTILE: {
            double q;
            if (lw_dd_quantile(x->sk, g->arg, &q))
                put_float(out, q, &s->scratch);
            else
                lw_buf_add(out, "null", 4);
            break;
        }
        }
    }
    if (!s->text) {
        lw_buf_add(out, "}\n", 2);
    } else { /* the text encoder's form of the same object */
        lw_buf_addc(out, '}');
        size_t len = out->len - at;
        char *json = lw_arena_dup(&s->scratch, out->p + at, len);
        out->len = at;
        struct lw_value v = lw_value_from_json((struct lw_str){ json, len }, &s->scratch);
        if (lw_enc_text.encode(out, &v, &s->scratch, SIZE_MAX) != 0) {
            lw_buf_add(out, json, len); /* not expected: the object has a text form */
            lw_buf_addc(out, '\n');
        }
    }
    struct lw_state_route *rt = &s->rt[s->nrt - 1];
    rt->off = at;
    rt->len = out->len - at;
    s->c.results++;
}

static void
wremove(struct lw_state *s, struct went *e)
{
    struct went **pp = &s->wtab[e->hash & (s->wcap - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    s->wn--;
}

static void unlist(struct lw_state *s, struct bucket *b);

/* drain: emit and free window b's results not given yet; with limit, stop once out holds that
 * much (*cut set). Returns the results given. */
static size_t
drain(struct lw_state *s, struct bucket *b, struct lw_buf *out, size_t limit, bool *cut)
{
    const struct lw_windef *d = &s->p->windows[b->w];
    size_t n = 0;
    while (b->next < b->n) {
        if (limit && out->len >= limit) {
            *cut = true;
            return n;
        }
        struct went *e = b->ents[b->next++];
        emit(s, b, e, out);
        n++;
        wremove(s, e);
        for (uint32_t a = 0; a < d->naggs; a++) {
            s->bytes -= blobsz(&e->ag[a]) + sk_free(&d->aggs[a], &e->ag[a]);
            free(e->ag[a].blob);
        }
        s->bytes -= msz(sizeof *e + e->len) + msz((d->naggs ? d->naggs : 1) * sizeof(struct agst));
        free(e->ag);
        free(e);
    }
    unlist(s, b); /* a count window given at its Nth record waits for its timeout, empty */
    return n;
}

/* bk_less: the order windows close in: by end, then statement, start and seq. */
static bool
bk_less(const struct bucket *a, const struct bucket *b)
{
    if (a->end != b->end) return a->end < b->end;
    if (a->w != b->w) return a->w < b->w;
    if (a->start != b->start) return a->start < b->start;
    return a->seq < b->seq;
}

static void
heap_set(struct wstate *ws, size_t i, struct bucket *b)
{
    ws->heap[i] = b;
    b->hi = (uint32_t)i;
}

/* heap_fix: bucket at i moved to its place in its statement's heap (up or down). */
static void
heap_fix(struct lw_state *s, struct wstate *ws, size_t i)
{
    struct bucket *b = ws->heap[i];
    while (i > 0 && bk_less(b, ws->heap[(i - 1) / 2])) {
        heap_set(ws, i, ws->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
        s->steps++;
    }
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ws->hn) break;
        if (c + 1 < ws->hn && bk_less(ws->heap[c + 1], ws->heap[c])) c++;
        if (!bk_less(ws->heap[c], b)) break;
        heap_set(ws, i, ws->heap[c]);
        i = c;
        s->steps++;
    }
    heap_set(ws, i, b);
}

static void
heap_push(struct lw_state *s, struct bucket *b)
{
    struct wstate *ws = &s->ws[b->w];
    if (ws->hn == ws->hcap) {
        size_t old = ws->hcap;
        ws->hcap = ws->hcap ? ws->hcap * 2 : 16;
        ws->heap = lw_xrealloc(ws->heap, ws->hcap * sizeof *ws->heap);
        s->bytes += (ws->hcap - old) * sizeof *ws->heap;
    }
    heap_set(ws, ws->hn++, b);
    heap_fix(s, ws, ws->hn - 1);
}

static void
heap_remove(struct lw_state *s, struct bucket *b)
{
    struct wstate *ws = &s->ws[b->w];
    size_t i = b->hi;
    struct bucket *last = ws->heap[--ws->hn];
    if (i == ws->hn) return;
    heap_set(ws, i, last);
    heap_fix(s, ws, i);
}

/* mix: splitmix64's finalizer: every bit of h moves the low bits that pick a slot (starts
 * are multiples of a window's step, whose low bits are 0) */
static uint64_t
mix(uint64_t h)
{
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
    return h ^ (h >> 31);
}

/* ehash: the hash of a key's entry in window w starting at start (count and session windows:
 * 0, one is open per key), so one key's entries in many windows do not share a chain */
static uint64_t
ehash(uint64_t khash, uint32_t w, int64_t start)
{
    return mix(khash ^ mix((uint64_t)start ^ ((uint64_t)w << 48)));
}

/* bslot: the slot of tumbling or sliding window (w, start) in s->btab */
static size_t
bslot(const struct lw_state *s, uint32_t w, int64_t start)
{
    return (size_t)mix((uint64_t)start ^ ((uint64_t)w << 48)) & (s->bcap - 1);
}

static void
bgrow(struct lw_state *s)
{
    size_t old = s->bcap;
    struct bucket **t = s->btab;
    s->bcap *= 2;
    s->btab = lw_xcalloc(s->bcap, sizeof *s->btab);
    for (size_t i = 0; i < old; i++) {
        for (struct bucket *b = t[i], *nx; b != NULL; b = nx) {
            nx = b->hnext;
            size_t j = bslot(s, b->w, b->start);
            b->hnext = s->btab[j];
            s->btab[j] = b;
        }
    }
    free(t);
    s->bytes += (s->bcap - old) * sizeof *s->btab;
}

/* unlist: b leaves the list of windows with results to give (its results were all given) */
static void
unlist(struct lw_state *s, struct bucket *b)
{
    if (!b->listed) return;
    if (b->oprev)
        b->oprev->onext = b->onext;
    else
        s->ohead = b->onext;
    if (b->onext)
        b->onext->oprev = b->oprev;
    else
        s->otail = b->oprev;
    b->listed = false;
}

/* count_open: count window b, just opened by a log of the current source, joins the source's
 * open count windows (docs/design-state.md 3d) */
static void
count_open(struct lw_state *s, struct bucket *b)
{
    if (s->cur == NULL) return;
    struct dq *q = &s->cur->dq;
    struct cwin *c = lw_xmalloc(sizeof *c);
    *c = (struct cwin){ b->first, b->first, (uint32_t)(s->cur - s->src), q->ctail, NULL };
    if (q->ctail)
        q->ctail->next = c;
    else
        q->chead = c;
    q->ctail = c;
    b->cw = c;
    s->bytes += msz(sizeof *c);
}

/* count_done: count window b took its last record (its count reached, timed out, or closed at
 * the end or early): it leaves its source's open ones, its records a span no commit of the
 * source may fall inside (a replay from there would start the key's window mid-way) */
static void
count_done(struct lw_state *s, struct bucket *b)
{
    struct cwin *c = b->seq != 0 && !b->sx ? b->cw : NULL;
    if (c == NULL) return;
    struct dq *q = &s->src[c->src].dq;
    if (c->prev)
        c->prev->next = c->next;
    else
        q->chead = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        q->ctail = c->prev;
    span_add(q, c->first, c->last);
    b->cw = NULL;
    s->bytes -= msz(sizeof *c);
    free(c);
}

/* close_b: emit and free open window b (see drain: a cut leaves it open, given in part). */
static size_t
close_b(struct lw_state *s, struct bucket *b, struct lw_buf *out, size_t limit, bool *cut)
{
    if (b->sx) sess_given(s, b);
    size_t n = drain(s, b, out, limit, cut);
    if (*cut) return n;
    heap_remove(s, b);
    if (b->sx) sess_drop(s, b);
    count_done(s, b);
    if (b->seq == 0) {
        struct bucket **pp = &s->btab[bslot(s, b->w, b->start)];
        while (*pp != b) {
            pp = &(*pp)->hnext;
            s->steps++;
        }
        *pp = b->hnext;
        s->bn--;
    }
    unlist(s, b);
    if (s->ws[b->w].last == b) s->ws[b->w].last = NULL;
    s->bytes -= msz(sizeof *b) + msz(b->cap * sizeof(void *));
    bucket_free(s, b);
    s->nbk--;
    return n;
}

/* bucket_get: the open window (w, start, end, seq), made if new (seq 0: tumbling and sliding
 * windows, found by statement, start and end; count and session windows give a new seq). */
static struct bucket *
bucket_get(struct lw_state *s, uint32_t w, int64_t start, int64_t end, uint64_t seq)
{
    if (seq == 0) {
        /* records in read order mostly feed the window the one before fed */
        struct bucket *c = s->ws[w].last;
        if (c != NULL && c->start == start && c->end == end) return c;
        for (struct bucket *b = s->btab[bslot(s, w, start)]; b != NULL; b = b->hnext) {
            s->steps++;
            /* the end too: near the smallest time, starts clamped to it are the same */
            if (b->w == w && b->start == start && b->end == end) return s->ws[w].last = b;
        }
    }
    struct bucket *b = lw_xcalloc(1, sizeof *b);
    *b = (struct bucket){ .w = w,
                          .start = start,
                          .end = end,
                          .seq = seq,
                          .first = s->applied,
                          .shown_start = start,
                          .shown_end = end,
                          .oprev = s->otail,
                          .listed = true };
    heap_push(s, b);
    if (s->otail)
        s->otail->onext = b;
    else
        s->ohead = b;
    s->otail = b;
    if (seq == 0) {
        size_t i = bslot(s, w, start);
        b->hnext = s->btab[i];
        s->btab[i] = b;
        if (++s->bn > s->bcap) bgrow(s);
        s->ws[w].last = b;
    }
    s->nbk++;
    s->bytes += msz(sizeof *b);
    return b;
}

/* first_over: the window that closes first among those over (all: over_all), or NULL: each
 * statement's heap gives its first, which is over when its statement's time (processing
 * time: now_proc) passed its end plus the lateness. */
static inline __attribute__((always_inline)) struct bucket *
first_over(struct lw_state *s, int64_t now_proc, bool over_all)
{
    struct bucket *best = NULL;
    for (uint32_t w = 0; w < s->p->nwindows; w++) {
        const struct wstate *ws = &s->ws[w];
        if (ws->hn == 0) continue;
        struct bucket *b = ws->heap[0];
        const struct lw_windef *d = &s->p->windows[w];
        int64_t wm = d->event_time ? close_wm(s, w) : now_proc;
        /* wm >= end + late (late >= 0) without 128 bits: the difference fits in 64 unsigned */
        bool over = over_all || (wm != INT64_MIN && wm >= b->end &&
                                 (uint64_t)wm - (uint64_t)b->end >= (uint64_t)d->late_ns);
        if (over && (best == NULL || bk_less(b, best))) best = b;
    }
    return best;
}

static void
wgrow(struct lw_state *s)
{
    size_t ncap = s->wcap * 2;
    struct went **t = lw_xcalloc(ncap, sizeof *t);
    for (size_t i = 0; i < s->wcap; i++) {
        for (struct went *e = s->wtab[i], *nx; e != NULL; e = nx) {
            nx = e->hnext;
            e->hnext = t[e->hash & (ncap - 1)];
            t[e->hash & (ncap - 1)] = e;
        }
    }
    free(s->wtab);
    s->bytes += (ncap - s->wcap) * sizeof *t;
    s->wtab = t;
    s->wcap = ncap;
}

/* key_eq: memcmp(a, b, len) == 0, without a call for the short keys of most windows */
static inline bool
key_eq(const char *a, const char *b, uint32_t len)
{
    if (len > 16 || len < 4) return memcmp(a, b, len) == 0;
    uint64_t x, y, u, v;
    if (len >= 8) {
        memcpy(&x, a, 8), memcpy(&y, b, 8), memcpy(&u, a + len - 8, 8), memcpy(&v, b + len - 8, 8);
    } else {
        uint32_t x4, y4, u4, v4;
        memcpy(&x4, a, 4), memcpy(&y4, b, 4), memcpy(&u4, a + len - 4, 4),
            memcpy(&v4, b + len - 4, 4);
        x = x4, y = y4, u = u4, v = v4;
    }
    return ((x ^ y) | (u ^ v)) == 0;
}

static struct went *
entry_get(struct lw_state *s, struct bucket *b, uint64_t khash, const char *key, uint32_t len)
{
    /* a count window's entry is found by statement and key alone: one is open per key */
    bool cnt = s->p->windows[b->w].kind >= LW_WIN_COUNT; /* count and session */
    /* a key's sessions, several open, by their seq (session_add finds them by their cells) */
    int64_t sq = s->p->windows[b->w].kind == LW_WIN_SESSION ? (int64_t)b->seq : 0;
    uint64_t h = ehash(khash, b->w, cnt ? sq : b->start);
    for (struct went *e = s->wtab[h & (s->wcap - 1)]; e != NULL; e = e->hnext) {
        s->steps++;
        if (e->hash == h && e->b == b && e->len == len && key_eq(e->key, key, len)) return e;
    }
    const struct lw_windef *d = &s->p->windows[b->w];
    struct went *e = lw_xmalloc(sizeof *e + len);
    *e = (struct went){ .b = b, .hash = h, .len = len };
    memcpy(e->key, key, len);
    e->ag = lw_xcalloc(d->naggs ? d->naggs : 1, sizeof *e->ag);
    size_t i = h & (s->wcap - 1);
    e->hnext = s->wtab[i];
    s->wtab[i] = e;
    s->wn++;
    if (b->n == b->cap) {
        size_t old = b->cap;
        b->cap = b->cap ? b->cap * 2 : 8;
        b->ents = lw_xrealloc(b->ents, b->cap * sizeof *b->ents);
        s->bytes += msz(b->cap * sizeof(void *)) - msz(old * sizeof(void *));
    }
    b->ents[b->n++] = e;
    s->bytes += msz(sizeof *e + len) + msz((d->naggs ? d->naggs : 1) * sizeof(struct agst));
    if (s->wn > s->wcap) wgrow(s);
    return e;
}

/* add: one aggregate argument (at *p, moved past it) into x. Inline: a call per aggregate
 * per record in the loop's thread otherwise. */
static inline __attribute__((always_inline)) void
add(struct lw_state *s, const struct lw_winagg *g, struct agst *x, const char **p)
{
    char tag = *(*p)++;
    int64_t i = 0;
    double f = 0;
    const char *blob = NULL;
    uint32_t bl = 0;
    if (tag == 'i' || tag == 'h') i = (int64_t)get64(p);
    if (tag == 'f') {
        memcpy(&f, *p, 8);
        *p += 8;
    }
    if (tag == 'j') {
        bl = get32(p);
        blob = *p;
        *p += bl;
    }
    if (tag == 'n') return; /* nulls count for nothing */
    switch ((enum lw_agg)g->kind) {
    case LW_AGG_COUNT_DISTINCT:
        s->bytes += lw_distinct_add((struct lw_distinct **)&x->sk, (uint64_t)i);
        return;
    case LW_AGG_PERCENTILE:
        s->bytes += lw_dd_add((struct lw_ddsketch **)&x->sk, tag == 'i' ? (double)i : f);
        return;
    case LW_AGG_TOP:
        s->bytes += lw_top_add((struct lw_top **)&x->sk, XXH3_64bits(blob, bl), blob, bl);
        return;
    case LW_AGG_COUNT:
        x->n++;
        return;
    case LW_AGG_SUM:
    case LW_AGG_AVG:
        x->n++;
        if (tag == 'i') x->isum += i;
        if (tag == 'f') {
            x->fsum += f;
            x->anyfloat = true;
        }
        return;
    case LW_AGG_MIN:
    case LW_AGG_MAX: {
        bool mx = g->kind == LW_AGG_MAX;
        bool better;
        if (!x->has)
            better = true;
        else if (tag == 'i' && !x->mm_float)
            better = mx ? i > x->mm_i : i < x->mm_i;
        else {
            double a = tag == 'i' ? (double)i : f, c = x->mm_float ? x->mm_f : (double)x->mm_i;
            better = mx ? a > c : a < c;
        }
        if (better) {
            x->has = true;
            x->mm_float = tag == 'f';
            x->mm_i = i;
            x->mm_f = f;
        }
        return;
    }
    case LW_AGG_FIRST:
    case LW_AGG_LAST:
        if (g->kind == LW_AGG_FIRST && x->blob != NULL) return;
        s->bytes -= blobsz(x);
        x->blob = lw_xrealloc(x->blob, bl ? bl : 1);
        memcpy(x->blob, blob, bl);
        x->bloblen = bl;
        s->bytes += blobsz(x);
        return;
    }
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* advance: close every window whose statement's time passed its end plus the lateness
 * (processing time: now_proc; INT64_MAX closes all), in the order of their ends. */
static size_t
advance(struct lw_state *s, int64_t now_proc, struct lw_buf *out, size_t limit)
{
    size_t n = 0;
    bool cut = false;
    struct bucket *b;
    while (!cut && (b = first_over(s, now_proc, now_proc == INT64_MAX)) != NULL) {
        s->steps++;
        if (b->shown_end > b->end && now_proc != INT64_MAX) {
            /* a session that grew: it moves to its place by its end now */
            b->end = b->shown_end;
            heap_fix(s, &s->ws[b->w], b->hi);
        } else {
            n += close_b(s, b, out, limit, &cut);
        }
    }
    return n;
}

static void
late_msg(const struct lw_state *s, uint32_t w, int64_t t, int64_t start, int64_t end, int64_t wm,
         char *msg, size_t cap)
{
    const struct lw_windef *d = &s->p->windows[w];
    int line, col;
    lw_diag_linecol(s->p->src, d->span_off, &line, &col);
    struct lw_arena a;
    lw_arena_init(&a, 256);
    struct lw_buf tb, sb, eb, wb;
    lw_buf_init(&tb);
    lw_buf_init(&sb);
    lw_buf_init(&eb);
    lw_buf_init(&wb);
    put_time(&tb, t, &a);
    put_time(&sb, start, &a);
    put_time(&eb, end, &a);
    put_time(&wb, wm, &a);
    snprintf(msg, cap,
             "late: event time %.*s is in the window %.*s to %.*s of %.*s:%d:%d, closed when the "
             "time reached %.*s",
             (int)tb.len, tb.p, (int)sb.len, sb.p, (int)eb.len, eb.p, (int)s->p->name.len,
             s->p->name.p, line, col, (int)wb.len, wb.p);
    lw_buf_fini(&tb);
    lw_buf_fini(&sb);
    lw_buf_fini(&eb);
    lw_buf_fini(&wb);
    lw_arena_fini(&a);
}

/* count_find: the open count window of statement w and key, or NULL. */
static struct went *
count_find(struct lw_state *s, uint32_t w, uint64_t khash, const char *key, uint32_t len)
{
    uint64_t h = ehash(khash, w, 0);
    for (struct went *e = s->wtab[h & (s->wcap - 1)]; e != NULL; e = e->hnext) {
        s->steps++;
        if (e->hash == h && e->b->w == w && e->len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
    return NULL;
}

/* count_add: `window count N timeout T`: the key's open window takes the record (none open: one
 * opens at t, to end at t + T); at N records it closes at once, its end the record's time. A
 * window that times out closes through advance like the others. */
static size_t
count_add(struct lw_state *s, uint32_t w, int64_t t, int64_t now, uint64_t khash, const char *key,
          uint32_t kl, const char *args, struct lw_buf *out)
{
    const struct lw_windef *d = &s->p->windows[w];
    struct wstate *ws = &s->ws[w];
    if (!d->event_time && ws->wm != INT64_MIN && t < ws->wm) t = ws->wm;
    if (ws->wm == INT64_MIN || t > ws->wm) ws->wm = t;
    /* with sources, the timeout runs on the record's own source's time (docs/design-state.md
     * 3d): a key's windows are then a function of its source's records in order */
    int64_t *pwm = d->event_time && s->cur != NULL ? &s->cur->wm[w] : &ws->wm;
    if (*pwm == INT64_MIN || t > *pwm) *pwm = t;
    size_t n = 0;
    struct went *e = count_find(s, w, khash, key, kl);
    if (e != NULL && *pwm >= e->b->end) { /* the key's window timed out: it closes first */
        n += close_b(s, e->b, out, 0, &(bool){ false });
        e = NULL;
    }
    if (e == NULL) {
        int64_t end = t > INT64_MAX - d->size_ns ? INT64_MAX : t + d->size_ns;
        struct bucket *b = bucket_get(s, w, t, end, ++s->seq);
        count_open(s, b);
        e = entry_get(s, b, khash, key, kl);
    }
    if (e->b->cw != NULL) e->b->cw->last = s->applied;
    /* held until the window's timeout has passed (closed at its count, it waits there empty) */
    if (e->b->end > s->last_end) s->last_end = e->b->end;
    if (e->b->end > s->wlast[w]) s->wlast[w] = e->b->end;
    const char *q = args;
    for (uint32_t i = 0; i < d->naggs; i++)
        add(s, &d->aggs[i], &e->ag[i], &q);
    if (++e->recs >= d->count_n) {
        /* closed by its count, ending with this record: its results now; the empty window
         * leaves the list when its timeout passes (no search and move in a long list) */
        struct bucket *b = e->b;
        b->shown_end = t;
        count_done(s, b);
        n += drain(s, b, out, 0, &(bool){ false });
    }
    return n + advance(s, now, out, 0);
}

/* ---- session windows: sessions that merge (docs/design-state.md 3a) ----
 * Each record makes a session [t, t + GAP); a key's sessions that overlap merge, so two
 * records are in one session when a chain of its records, each less than GAP from the next,
 * joins them, and records of two sessions of a key are GAP or more apart. With time cut in
 * cells of GAP, a cell holds records of at most one session of a key: a cell (statement, key,
 * floor(t / GAP)) keeps its session and the least and largest time of its records there, and
 * the sessions a record at t touches are found in t's cell and the two beside it (at most
 * three: one with a record in t's cell, one before and one after with a record less than GAP
 * from t). Merged sessions form a set (union by size, paths halved): its root knows the
 * session's entry and every cell and node of the set, freed when the session closes. So a
 * stream that keeps bridging sessions costs a near-constant number of steps a record, and
 * memory in proportion to the records of the sessions open. */

struct scell {
    struct scell *hnext;  /* its chain in s->ctab */
    struct scell *snext;  /* the next cell of its set */
    uint64_t hash;        /* ehash(key's hash, statement, cell) */
    uint32_t w;           /* its statement */
    int64_t cell, lo, hi; /* floor(t / GAP), and its records' least and largest time */
    struct snode *x;      /* its session when it was made (sfind: the set's root) */
};

struct snode {
    struct snode *up;            /* the node it merged into, NULL: a root */
    struct snode *nnext, *ntail; /* the set's nodes, from the root (ntail: the last) */
    struct scell *cells, *ctail; /* root: the set's cells */
    struct went *e;              /* root: the session's entry */
    uint64_t size;               /* root: the set's cells */
    /* root: the largest windows-given mark (psrc gw) of its contributions' sources: a session
     * ending (plus the lateness) at or before it was given before a replay's commit */
    int64_t gw;
    /* root: per aggregate, first() and last(): 1 + the apply that gave its value, 0: none */
    uint64_t at[];
};

/* sfind: the root of x's set (paths halved) */
static struct snode *
sfind(struct lw_state *s, struct snode *x)
{
    while (x->up != NULL) {
        if (x->up->up != NULL) x->up = x->up->up;
        x = x->up;
        s->steps++;
    }
    return x;
}

/* cfind: the cell of statement w, key and cell, or NULL; *hp its hash */
static struct scell *
cfind(struct lw_state *s, uint32_t w, uint64_t khash, const char *key, uint32_t kl, int64_t cell,
      uint64_t *hp)
{
    uint64_t h = ehash(khash, w, cell);
    *hp = h;
    for (struct scell *c = s->ctab[h & (s->ccap - 1)]; c != NULL; c = c->hnext) {
        s->steps++;
        if (c->hash != h || c->w != w || c->cell != cell) continue;
        const struct went *e = sfind(s, c->x)->e;
        if (e->len == kl && memcmp(e->key, key, kl) == 0) return c;
    }
    return NULL;
}

static void
cgrow(struct lw_state *s)
{
    size_t ncap = s->ccap * 2;
    struct scell **t = lw_xcalloc(ncap, sizeof *t);
    for (size_t i = 0; i < s->ccap; i++) {
        for (struct scell *c = s->ctab[i], *nx; c != NULL; c = nx) {
            nx = c->hnext;
            c->hnext = t[c->hash & (ncap - 1)];
            t[c->hash & (ncap - 1)] = c;
        }
    }
    free(s->ctab);
    s->bytes += (ncap - s->ccap) * sizeof *t;
    s->ctab = t;
    s->ccap = ncap;
}

/* sess_drop: session b's cells and nodes freed (it closes) */
static void
sess_drop(struct lw_state *s, struct bucket *b)
{
    struct snode *r = b->sx;
    size_t nsz = msz(sizeof *r + s->p->windows[b->w].naggs * sizeof(uint64_t));
    for (struct scell *c = r->cells, *nx; c != NULL; c = nx) {
        nx = c->snext;
        struct scell **pp = &s->ctab[c->hash & (s->ccap - 1)];
        while (*pp != c) {
            pp = &(*pp)->hnext;
            s->steps++;
        }
        *pp = c->hnext;
        s->cn--;
        s->bytes -= msz(sizeof *c);
        free(c);
    }
    for (struct snode *x = r, *nx; x != NULL; x = nx) {
        nx = x->nnext;
        s->bytes -= nsz;
        free(x);
    }
    b->sx = NULL;
}

/* agg_merge: y's aggregate state into x (y is freed after); ax, ay: their first()/last()
 * value's apply (snode's at) */
static void
agg_merge(struct lw_state *s, const struct lw_winagg *g, struct agst *x, struct agst *y,
          uint64_t *ax, uint64_t ay)
{
    switch ((enum lw_agg)g->kind) {
    case LW_AGG_COUNT_DISTINCT:
        s->bytes +=
            (size_t)lw_distinct_merge((struct lw_distinct **)&x->sk, (struct lw_distinct **)&y->sk);
        return;
    case LW_AGG_PERCENTILE:
        s->bytes +=
            (size_t)lw_dd_merge((struct lw_ddsketch **)&x->sk, (struct lw_ddsketch **)&y->sk);
        return;
    case LW_AGG_TOP:
        s->bytes += (size_t)lw_top_merge((struct lw_top **)&x->sk, (struct lw_top **)&y->sk);
        return;
    case LW_AGG_COUNT:
        x->n += y->n;
        return;
    case LW_AGG_SUM:
    case LW_AGG_AVG:
        x->n += y->n;
        x->isum += y->isum;
        x->fsum += y->fsum;
        x->anyfloat |= y->anyfloat;
        return;
    case LW_AGG_MIN:
    case LW_AGG_MAX: {
        if (!y->has) return;
        bool mx = g->kind == LW_AGG_MAX, better;
        if (!x->has)
            better = true;
        else if (!y->mm_float && !x->mm_float)
            better = mx ? y->mm_i > x->mm_i : y->mm_i < x->mm_i;
        else {
            double a = y->mm_float ? y->mm_f : (double)y->mm_i;
            double c = x->mm_float ? x->mm_f : (double)x->mm_i;
            better = mx ? a > c : a < c;
        }
        if (better) {
            x->has = true;
            x->mm_float = y->mm_float;
            x->mm_i = y->mm_i;
            x->mm_f = y->mm_f;
        }
        return;
    }
    case LW_AGG_FIRST:
    case LW_AGG_LAST:
        /* the value applied first (last) of the two: swapped in, y's freed with y */
        if (y->blob == NULL || (x->blob != NULL && (g->kind == LW_AGG_FIRST ? ay > *ax : ay < *ax)))
            return;
        char *bl = x->blob;
        uint32_t bll = x->bloblen;
        x->blob = y->blob;
        x->bloblen = y->bloblen;
        y->blob = bl;
        y->bloblen = bll;
        *ax = ay;
        return;
    }
}

/* sess_absorb: the session of root ra merged into root rb's (rb's was opened first: its window
 * stays, ra's goes without a result); returns the root of the joined set */
static struct snode *
sess_absorb(struct lw_state *s, struct snode *rb, struct snode *ra)
{
    struct went *eb = rb->e, *ea = ra->e;
    struct bucket *B = eb->b, *A = ea->b;
    const struct lw_windef *d = &s->p->windows[B->w];
    for (uint32_t i = 0; i < d->naggs; i++)
        agg_merge(s, &d->aggs[i], &eb->ag[i], &ea->ag[i], &rb->at[i], ra->at[i]);
    if (A->shown_start < B->shown_start) B->shown_start = A->shown_start;
    if (A->shown_end > B->shown_end) B->shown_end = A->shown_end;
    if (A->first < B->first) B->first = A->first;
    eb->recs += ea->recs;
    wremove(s, ea);
    for (uint32_t a = 0; a < d->naggs; a++) {
        s->bytes -= blobsz(&ea->ag[a]) + sk_free(&d->aggs[a], &ea->ag[a]);
        free(ea->ag[a].blob);
    }
    s->bytes -= msz(sizeof *ea + ea->len) + msz((d->naggs ? d->naggs : 1) * sizeof(struct agst));
    free(ea->ag);
    free(ea);
    A->next = A->n;
    A->sx = NULL;
    heap_remove(s, A);
    unlist(s, A);
    s->bytes -= msz(sizeof *A) + msz(A->cap * sizeof(void *));
    bucket_free(s, A);
    s->nbk--;
    /* the sets joined: the larger's root is the root */
    struct snode *big = rb->size >= ra->size ? rb : ra, *small = big == rb ? ra : rb;
    if (big != rb) memcpy(big->at, rb->at, d->naggs * sizeof *big->at);
    if (ra->gw > rb->gw) rb->gw = ra->gw;
    big->gw = rb->gw;
    small->up = big;
    big->size += small->size;
    big->ntail->nnext = small;
    big->ntail = small->ntail;
    if (small->cells != NULL) {
        if (big->cells != NULL)
            big->ctail->snext = small->cells;
        else
            big->cells = small->cells;
        big->ctail = small->ctail;
    }
    small->cells = small->ctail = NULL;
    big->e = eb;
    B->sx = big;
    s->steps++;
    return big;
}

/* sess_given: session b, closing, was given before the commit a replay started from (it ends,
 * plus the lateness, at or before the windows-given mark of a source that fed it: its records
 * from the commit on rebuilt only a part of it): its entry goes without a result */
static void
sess_given(struct lw_state *s, struct bucket *b)
{
    const struct lw_windef *d = &s->p->windows[b->w];
    if (b->sx->gw == INT64_MIN || (__int128)b->end + d->late_ns > (__int128)b->sx->gw) return;
    for (; b->next < b->n; b->next++) {
        struct went *e = b->ents[b->next];
        wremove(s, e);
        for (uint32_t a = 0; a < d->naggs; a++) {
            s->bytes -= blobsz(&e->ag[a]) + sk_free(&d->aggs[a], &e->ag[a]);
            free(e->ag[a].blob);
        }
        s->bytes -= msz(sizeof *e + e->len) + msz((d->naggs ? d->naggs : 1) * sizeof(struct agst));
        free(e->ag);
        free(e);
    }
}

/* session_add: `window session GAP`: the record's session [t, t + GAP) merges with every open
 * session of its key it overlaps (a record between two joins them); event time: a session
 * closes when the statement's closing time passes its end (its last record plus GAP) plus GAP
 * plus the lateness, and a record is late when its own session would have closed (its
 * source's time or the closing time reached t + GAP plus the lateness): so no record on time
 * reaches a session given, and the sessions are a function of the records of each source,
 * not of their interleaving (docs/design-state.md 2, 3a). Processing time: records come in
 * time order, a session closes when the clock passes its end (plus the lateness). */
static size_t
session_add(struct lw_state *s, uint32_t w, int64_t t, int64_t now, uint64_t khash, const char *key,
            uint32_t kl, const char *args, struct lw_buf *out, bool *late, char *msg, size_t cap)
{
    const struct lw_windef *d = &s->p->windows[w];
    struct wstate *ws = &s->ws[w];
    if (!d->event_time && ws->wm != INT64_MIN && t < ws->wm) t = ws->wm;
    if (ws->wm == INT64_MIN || t > ws->wm) ws->wm = t;
    int64_t *pwm = d->event_time && s->cur != NULL ? &s->cur->wm[w] : &ws->wm;
    if (*pwm == INT64_MIN || t > *pwm) *pwm = t;
    int64_t gap = d->size_ns;
    int64_t gap_end = t > INT64_MAX - gap ? INT64_MAX : t + gap;
    if (d->event_time) {
        __int128 over = (__int128)gap_end + d->late_ns;
        int64_t closed = s->nsrc ? ws->closed : INT64_MIN;
        if ((__int128)*pwm >= over || (closed != INT64_MIN && (__int128)closed >= over)) {
            if (!*late)
                late_msg(s, w, t, t, gap_end, (__int128)*pwm >= over ? *pwm : closed, msg, cap);
            *late = true;
            s->c.late++;
            return advance(s, now, out, 0);
        }
    }
    if (s->ctab == NULL) {
        s->ccap = 64;
        s->ctab = lw_xcalloc(s->ccap, sizeof *s->ctab);
        s->bytes += s->ccap * sizeof *s->ctab;
    }
    /* the open sessions of the key with a record less than GAP from t */
    int64_t k = floor_div(t, gap);
    struct snode *r[3];
    int nr = 0;
    struct scell *own = NULL;
    uint64_t own_h = 0;
    for (int dk = -1; dk <= 1; dk++) {
        if ((dk < 0 && k == INT64_MIN) || (dk > 0 && k == INT64_MAX)) continue;
        uint64_t h;
        struct scell *c = cfind(s, w, khash, key, kl, k + dk, &h);
        if (dk == 0) {
            own = c;
            own_h = h;
        }
        if (c == NULL || (dk < 0 && (__int128)c->hi <= (__int128)t - gap) ||
            (dk > 0 && (__int128)c->lo >= (__int128)t + gap))
            continue;
        struct snode *x = sfind(s, c->x);
        bool dup = false;
        for (int i = 0; i < nr; i++)
            dup |= r[i] == x;
        if (!dup) r[nr++] = x;
    }
    struct snode *root;
    if (nr == 0) {
        int64_t ek = d->event_time && gap_end <= INT64_MAX - gap ? gap_end + gap
                     : d->event_time                             ? INT64_MAX
                                                                 : gap_end;
        struct went *e = entry_get(s, bucket_get(s, w, t, ek, ++s->seq), khash, key, kl);
        size_t nsz = sizeof *root + d->naggs * sizeof(uint64_t);
        root = lw_xcalloc(1, nsz);
        root->ntail = root;
        root->gw = INT64_MIN;
        root->e = e;
        e->b->sx = root;
        e->b->shown_end = gap_end; /* its end is GAP later: when it closes */
        s->bytes += msz(nsz);
    } else { /* the session opened first takes the others */
        int m = 0;
        for (int i = 1; i < nr; i++)
            if (r[i]->e->b->seq < r[m]->e->b->seq) m = i;
        root = r[m];
        for (int i = 0; i < nr; i++)
            if (i != m) root = sess_absorb(s, root, r[i]);
    }
    if (own == NULL) { /* t's cell, new */
        own = lw_xmalloc(sizeof *own);
        *own = (struct scell){ .hash = own_h, .w = w, .cell = k, .lo = t, .hi = t, .x = root };
        size_t i = own_h & (s->ccap - 1);
        own->hnext = s->ctab[i];
        s->ctab[i] = own;
        if (root->cells != NULL)
            root->ctail->snext = own;
        else
            root->cells = own;
        root->ctail = own;
        root->size++;
        s->cn++;
        s->bytes += msz(sizeof *own);
        if (s->cn > s->ccap) cgrow(s);
    } else {
        if (t < own->lo) own->lo = t;
        if (t > own->hi) own->hi = t;
    }
    if (d->event_time && s->cur != NULL && s->cur->gw[w] > root->gw) root->gw = s->cur->gw[w];
    struct went *e = root->e;
    struct bucket *b = e->b;
    if (t < b->shown_start) b->shown_start = t;
    if (gap_end > b->shown_end) b->shown_end = gap_end;
    int64_t ek = !d->event_time                   ? b->shown_end
                 : b->shown_end > INT64_MAX - gap ? INT64_MAX
                                                  : b->shown_end + gap;
    if (ek != b->end) {
        b->end = ek;
        heap_fix(s, ws, b->hi);
    }
    const char *q = args;
    for (uint32_t i = 0; i < d->naggs; i++) {
        bool val = *q != 'n';
        add(s, &d->aggs[i], &e->ag[i], &q);
        enum lw_agg g = (enum lw_agg)d->aggs[i].kind;
        if (val && (g == LW_AGG_LAST || (g == LW_AGG_FIRST && root->at[i] == 0)))
            root->at[i] = s->applied + 1;
    }
    return advance(s, now, out, 0);
}

/* contribute: a WIN op (at *p, moved past it). */
static size_t
contribute(struct lw_state *s, const char **p, int64_t now, struct lw_buf *out, bool *late,
           char *msg, size_t cap)
{
    uint32_t w = get32(p);
    int64_t t = (int64_t)get64(p);
    uint64_t khash = get64(p);
    uint32_t kl = get32(p);
    const char *key = *p;
    *p += kl;
    const struct lw_windef *d = &s->p->windows[w];
    if (!d->event_time) t = now;
    struct wstate *ws = &s->ws[w];
    const char *args = *p;
    for (uint32_t i = 0; i < d->naggs; i++) { /* past the arguments */
        char tag = *(*p)++;
        if (tag == 'i' || tag == 'f' || tag == 'h') *p += 8;
        if (tag == 'j') *p += get32(p);
    }
    if (d->kind == LW_WIN_COUNT) return count_add(s, w, t, now, khash, key, kl, args, out);
    if (d->kind == LW_WIN_SESSION)
        return session_add(s, w, t, now, khash, key, kl, args, out, late, msg, cap);
    /* a clock set back: processing time never goes back into a window given already */
    if (!d->event_time && ws->wm != INT64_MIN && t < ws->wm) t = ws->wm;
    if (ws->wm == INT64_MIN || t > ws->wm) ws->wm = t;
    /* with sources, lateness is decided by the source's own time, and by the windows closed */
    int64_t *pwm = d->event_time && s->cur != NULL ? &s->cur->wm[w] : &ws->wm;
    if (*pwm == INT64_MIN || t > *pwm) *pwm = t;
    int64_t closed = s->nsrc ? ws->closed : INT64_MIN;
    /* the starts of t's windows, latest first, in 128 bits: near the smallest time (1677) a
     * long window's start is before it (the product overflowed int64_t): the smallest time
     * stands for it, and the window keeps its end */
    __int128 last = (__int128)floor_div(t, d->step_ns) * d->step_ns;
    bool refused = false;
    for (__int128 st0 = last; st0 > (__int128)t - d->size_ns; st0 -= d->step_ns) {
        int64_t st = st0 < (__int128)INT64_MIN + 1 ? INT64_MIN + 1 : (int64_t)st0;
        int64_t end =
            st0 > (__int128)INT64_MAX - d->size_ns ? INT64_MAX : (int64_t)(st0 + d->size_ns);
        /* a window that closed already (the latest time passed its end plus the lateness):
         * the contribution is late, refused (its results were given) */
        __int128 over = (__int128)end + d->late_ns;
        if (d->event_time &&
            ((__int128)*pwm >= over || (closed != INT64_MIN && (__int128)closed >= over))) {
            if (!*late)
                late_msg(s, w, t, st, end, (__int128)*pwm >= over ? *pwm : closed, msg, cap);
            *late = refused = true;
        } else if (d->event_time && s->cur != NULL && s->cur->gw[w] != INT64_MIN &&
                   over <= (__int128)s->cur->gw[w]) {
            /* given before the commit a replay started from: not given again */
        } else {
            int64_t fed = over > INT64_MAX ? INT64_MAX : (int64_t)over;
            if (fed > s->last_end) s->last_end = fed;
            if (fed > s->wlast[w]) s->wlast[w] = fed;
            struct bucket *b = bucket_get(s, w, st, end, 0);
            struct went *e = entry_get(s, b, khash, key, kl);
            const char *q = args;
            for (uint32_t i = 0; i < d->naggs; i++)
                add(s, &d->aggs[i], &e->ag[i], &q);
        }
    }
    if (refused) s->c.late++;
    return advance(s, now, out, 0);
}

/* bound: past max_bytes, the oldest keys go, then the windows that end first close early. */
static size_t
bound(struct lw_state *s, struct lw_buf *out)
{
    size_t n = 0;
    while (s->bytes > s->max_bytes) {
        struct dkey *old = s->dq0.head; /* the oldest inserted of every source's */
        for (uint32_t i = 0; i < s->nsrc; i++) {
            struct dkey *k = s->src[i].dq.head;
            if (k != NULL && (old == NULL || k->rec < old->rec)) old = k;
        }
        if (old == NULL) break;
        dremove(s, old);
        s->c.evicted++;
    }
    while (s->bytes > s->max_bytes && s->nbk > 0) {
        s->c.closed_early++;
        n += close_b(s, first_over(s, 0, true), out, 0, &(bool){ false });
    }
    return n;
}

int
lw_state_apply(struct lw_state *s, const void *log, size_t len, int64_t now_ns, struct lw_buf *out,
               size_t *nres, bool *late, char *msg, size_t msgcap)
{
    routes_reset(s);
    int rc = check(s, log, len, &s->steps);
    if (rc != 0) return rc < 0 ? 2 : 1;
    const char *p = log, *end = p + len;
    struct dq *q = s->cur != NULL ? &s->cur->dq : &s->dq0;
    int64_t dmax = q->dmax;
    s->last_end = INT64_MIN;
    for (uint32_t w = 0; w < s->p->nwindows; w++)
        s->wlast[w] = INT64_MIN;
    while (p < end) {
        char op = *p++;
        if (op == 'W') {
            *nres += contribute(s, &p, now_ns, out, late, msg, msgcap);
            continue;
        }
        bool ans = *p++;
        uint64_t hash = get64(&p);
        int64_t now = (int64_t)get64(&p), ttl = (int64_t)get64(&p);
        uint32_t kl = get32(&p);
        const char *key = p;
        p += kl;
        if (!ans) {
            dinsert(s, hash, key, kl, expiry(now, ttl));
        } else if (s->nsrc > 0) {
            struct dkey *k = dfind(s, hash, key, kl);
            if (k != NULL) k->use = s->applied;
        }
        if (now > dmax) dmax = now;
    }
    if (dmax > q->dmax) {
        q->dmax = dmax;
        dexpire(s, q);
    }
    *nres += bound(s, out);
    s->applied++;
    return 0;
}

bool
lw_state_replay_exact(const struct lw_state *s)
{
    const struct lw_program *p = s->p;
    if (p->nwindows == 0) return p->uses_seen; /* seen() alone: lw_state_seen_horizon (3b) */
    /* every statement an event-time tumbling, sliding or session window (sessions: each record
     * held until the session horizon passes it), each source's time and the windows given
     * restored per statement at a replay (lw_state_restore_of): a record that
     * contributes several times (to several statements, or to one more than once) is
     * exact too, each contribution's lateness being decided by its source's time for its
     * statement (docs/design-state.md 3a) */
    if (s->c.closed_early > 0) return false; /* with seen(): both commit points, 3c */
    for (uint32_t w = 0; w < p->nwindows; w++) {
        const struct lw_windef *d = &p->windows[w];
        /* count windows: lw_state_seen_horizon too (3d), whose spans seen()'s keys share */
        if (!d->event_time) return false;
    }
    return true;
}

uint32_t
lw_state_count_statements(const struct lw_state *s)
{
    uint32_t n = 0;
    for (uint32_t w = 0; w < s->p->nwindows; w++)
        n += s->p->windows[w].kind == LW_WIN_COUNT;
    return n;
}

uint64_t
lw_state_applied(const struct lw_state *s)
{
    return s->applied;
}

uint64_t
lw_state_session_horizon(const struct lw_state *s)
{
    for (uint32_t w = 0; w < s->p->nwindows; w++)
        if (s->p->windows[w].kind == LW_WIN_SESSION) return lw_state_horizon(s);
    return UINT64_MAX;
}

uint64_t
lw_state_horizon(const struct lw_state *s)
{
    uint64_t h = s->applied;
    /* keys in insertion order: the front's inserter is the oldest (an expired key behind a
     * longer-lived one keeps holding: too early a horizon, never too late) */
    for (uint32_t i = 0; i <= s->nsrc; i++) {
        const struct dkey *k = i < s->nsrc ? s->src[i].dq.head : s->dq0.head;
        if (k != NULL && k->rec < h) h = k->rec;
    }
    /* the windows with results to give, in the order they opened: the first opened first */
    if (s->ohead != NULL && s->ohead->first < h) h = s->ohead->first;
    return h;
}

size_t
lw_state_tick(struct lw_state *s, int64_t now_ns, struct lw_buf *out, size_t limit)
{
    routes_reset(s);
    return advance(s, now_ns, out, limit);
}

uint64_t
lw_state_steps(const struct lw_state *s)
{
    return s->steps;
}

int64_t
lw_state_seen_time(const struct lw_state *s, uint32_t src)
{
    return src < s->nsrc && s->src[src].live ? s->src[src].dq.dmax : INT64_MIN;
}

void
lw_state_restore_seen(struct lw_state *s, uint32_t src, int64_t time)
{
    if (src < s->nsrc && s->src[src].live && time > s->src[src].dq.dmax) {
        s->src[src].dq.dmax = time;
        dexpire(s, &s->src[src].dq);
    }
}

static int
span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from;
}

uint64_t
lw_state_seen_horizon(struct lw_state *s, uint32_t src)
{
    return lw_state_seen_below(s, src, UINT64_MAX);
}

uint64_t
lw_state_seen_below(struct lw_state *s, uint32_t src, uint64_t upto)
{
    if (src >= s->nsrc || !s->src[src].live) return s->applied < upto ? s->applied : upto;
    struct dq *q = &s->src[src].dq;
    /* sorting the spans costs n log n: at most once per n/8 logs applied (the horizon given
     * meanwhile is an earlier one, valid still), so a record pays a few steps whatever n; with
     * none applied since, worked out again (a larger upto, such as the last release's at the end
     * of input, may move it on: its callers ask at most every 64 records or 100 ms) */
    if (q->nsp > 512 && s->applied != q->hat && s->applied - q->hat < q->nsp / 8) return q->horizon;
    q->hat = s->applied;
    /* no commit past the inserter of a key still held (in insertion order: the front's), nor
     * past upto (with windows: the first record a window not given needs) */
    uint64_t h = s->applied < upto ? s->applied : upto;
    if (q->head != NULL && q->head->rec < h) h = q->head->rec;
    if (q->chead != NULL && q->chead->first < h) h = q->chead->first; /* a count window open */
    /* nor strictly inside a span of a key gone: the spans sorted by their start and merged,
     * h moves back to the start of the merged span it falls in (merged spans do not touch) */
    if (q->nsp > 0) {
        qsort(q->sp, q->nsp, sizeof *q->sp, span_cmp);
        uint64_t from = q->sp[0].from, to = q->sp[0].to, back = h;
        for (size_t i = 1; i <= q->nsp; i++) {
            if (i < q->nsp && q->sp[i].from <= to) { /* (a, b] and (b, c] share b */
                if (q->sp[i].to > to) to = q->sp[i].to;
                continue;
            }
            if (from < h && h <= to) back = from;
            if (i < q->nsp) {
                from = q->sp[i].from;
                to = q->sp[i].to;
            }
        }
        h = back;
    }
    if (h < q->horizon) h = q->horizon; /* never back: spans before it were pruned */
    q->horizon = h;
    size_t n = 0; /* the spans wholly before it never matter again */
    for (size_t i = 0; i < q->nsp; i++)
        if (q->sp[i].to >= h) q->sp[n++] = q->sp[i];
    q->nsp = n;
    return h;
}

size_t
lw_state_seen_spans(const struct lw_state *s, uint32_t src)
{
    return src < s->nsrc && s->src[src].live ? s->src[src].dq.nsp : 0;
}

void
lw_state_seen_pass(struct lw_state *s, uint32_t src, uint64_t upto)
{
    if (src >= s->nsrc || !s->src[src].live) return;
    struct dq *q = &s->src[src].dq;
    if (upto > s->applied) upto = s->applied;
    if (upto <= q->horizon) return;
    q->horizon = upto; /* a later horizon is worked out from the spans kept, never before it */
    size_t n = 0;
    for (size_t i = 0; i < q->nsp; i++)
        if (q->sp[i].to >= upto) q->sp[n++] = q->sp[i];
    q->nsp = n;
}

/* Windows exact under Kafka input: partitions as the state's sources, holds and their release
 * (kstate.h; docs/design-state.md 2 and 3a).
 *
 * Why the release is all at once: a partition's commit must stop at its first record that fed
 * a window not given yet (F), never before (a replay from an earlier record would find it on
 * time where the partition's later records had made it late, and rebuild a closed window in
 * part) and never after. With one event-time tumbling statement without lateness, every record
 * of a partition after F that fed a window fed F's window or a later one, and the windows
 * close in the order of their ends, so a replay from the F of every partition rebuilds exactly
 * the windows not given (and their lateness: the records before F had earlier times than F).
 * Releasing at one closing watermark S for every partition in the same commit keeps the
 * partitions' F consistent: a window ending at or before S had all its records committed in
 * every partition, a later one none of them. With lateness or sliding windows a record after F
 * may feed a window given already, and a replay from F must see the partition's time as it
 * was: each commit's metadata holds the partition's time there and S (the windows given), and
 * the state restores both at assignment (docs/design-state.md 3 and 3a). Sessions merge, so a
 * record's session, and when it is given, is known only when it closes: with a session
 * statement each cut also carries the state's horizon (the first record an open window needs)
 * and a record is released only below it. */
#include "lw/kstate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw/str.h"

/* A record held, or a run of consecutive records of a partition interchangeable for the release
 * (kstate_hold: windows alone, no session statement, none of them raising the largest window
 * end plus lateness fed, per statement): everything below is its last record's, but v holds the
 * largest ends fed over the run and off its first offset. A commit lands only at an entry's
 * first record (the source's limit, setlimit). */
struct kent {
    uint64_t ticket; /* of its last record: the entry is delivered when the source passed it */
    uint64_t seq;    /* the records the state had applied after it (logwash_state_applied) */
    int64_t stime;   /* its partition's seen() time after it */
    int64_t off;     /* the offset of its first record */
};

struct kpart {
    bool live;
    bool idle;
    char topic[256];
    int32_t partition;
    int64_t last_ms;  /* monotonic ms of its last record, or of its assignment */
    int64_t last_off; /* the last offset applied, -1: none */
    struct kent *q;   /* records held, in offset order */
    /* per record of q, per statement (stride 2 nw): the largest end plus lateness of the
     * windows it fed (INT64_MIN: none), then its partition's time after it */
    int64_t *v;
    /* per record of q: its index among the logs applied (-1: before any), held while the
     * goal's session horizon has not passed it (a session's records are known given only when
     * it closes) */
    int64_t *ix;
    size_t head, n, cap;
    size_t need, scan; /* q[head..need): fed windows closed at the goal; q[head..scan): idle */
    /* seen() with windows: q[head..wl) fed only windows given at the last release (idle),
     * committed as far as seen() allows (both_at) */
    size_t wl;
    /* per statement: the time as of its commit (restored and committed), INT64_MIN: none;
     * then the windows given as of its commit (the same) */
    int64_t *m;
    int64_t mseen;    /* its seen() time as of its commit (the same) */
    uint64_t seen_h;  /* seen(): records of it with seq up to it may be committed */
    uint64_t seen_at; /* logwash_state_applied when seen_h was asked */
    int64_t seen_ms;  /* and the monotonic ms then */
    uint64_t cap_at;  /* count_upto: the cap seen_h was asked for */
    size_t upto;      /* the release's end in q (need, or less with count windows) */
};

struct kcut {
    uint64_t ticket; /* the record whose operations closed the windows up to its closed */
};

struct lw_kstate {
    struct lw_source *src;
    struct logwash_state **state;
    const struct logwash_template *t;
    size_t max_state;
    enum logwash_output_format out;
    int64_t idle_ms;
    struct kpart *p;
    uint32_t np, last; /* last: the entry find() gave last */
    uint32_t nw;       /* window statements: each vector below has one time per statement */
    struct kcut *c;
    int64_t *cv; /* per cut (stride nw): every window of each statement ending (plus lateness)
                  * at or before its time had closed */
    size_t c_head, c_n, c_cap;
    int64_t *last_closed; /* of the last cut */
    int64_t *safe;        /* windows closed at or before it: their results delivered */
    int64_t *goal;        /* the release under way (when going) */
    int64_t *released;    /* the last release's */
    bool going;           /* a release is under way */
    bool reset;           /* every partition revoked: the state is made again */
    bool nowin;           /* seen() without windows: each partition released on its own */
    bool both;            /* seen() with windows but count ones: both_at's point (3c) */
    bool sees;            /* seen() with windows: its time in every commit's metadata (s=) */
    bool final;           /* the input is over: the seen() horizon asked at every release */
    /* count windows (docs/design-state.md 3d): a record is released only below its
     * partition's seen() horizon too, which holds their spans (and seen()'s keys when the
     * template has both: one span list, 3c with 3d); span_wait: the last release stopped there
     * in some partition, so the next one tries again without a new cut */
    bool counted, span_wait;
    struct lw_kseen seen; /* seen()'s commits: what they hold, its bound, the inexact ones */
    struct lw_kwin win;   /* the windows' holds: what they hold, their bound, the inexact ones */
    char stop[300];       /* why the run must stop, "" while it need not */
    /* per cut: the state's session horizon after its maker (UINT64_MAX: none); then the same
     * for safe, goal and released */
    uint64_t *ch;
    uint64_t safe_h, goal_h, released_h;
};

/* The commit metadata (docs/design-state.md 3a): "lw1 t=T1,T2,... x=X1,X2,...", per window
 * statement in the template's order the partition's time as of the committed offset and the
 * end plus lateness of the last window closed and given; one statement: "lw1 t=T x=X". A
 * single value stands for every statement (the form of one statement's commits). Fields may
 * follow, each " NAME=VALUE": kept for their readers, ignored here. */

/* meta_list: "N1,N2,..." at *s (moved past it) into v[0..nw): nw values, or one for all */
static bool
meta_list(const char **s, int64_t *v, uint32_t nw)
{
    uint32_t k = 0;
    for (;;) {
        char *end;
        if (**s != '-' && (**s < '0' || **s > '9')) return false;
        errno = 0;
        long long x = strtoll(*s, &end, 10);
        if (errno != 0 || end == *s || k == nw) return false;
        v[k++] = (int64_t)x;
        *s = end;
        if (**s != ',') break;
        ++*s;
    }
    if (k == 1)
        for (uint32_t w = 1; w < nw; w++)
            v[w] = v[0];
    return k == 1 || k == nw;
}

/* meta_parse: m[0..nw) the times, m[nw..2 nw) the windows given */
static bool
meta_parse(const char *s, int64_t *m, uint32_t nw)
{
    if (strncmp(s, "lw1 t=", 6) != 0) return false;
    s += 6;
    if (!meta_list(&s, m, nw) || strncmp(s, " x=", 3) != 0) return false;
    s += 3;
    if (!meta_list(&s, m + nw, nw)) return false;
    return *s == '\0' || (*s == ' ' && strchr(s + 1, '=') != NULL); /* a later field */
}

/* meta_put: the metadata of m (meta_parse's form) in buf */
static void
meta_put(char *buf, size_t cap, const int64_t *m, uint32_t nw)
{
    size_t n = (size_t)snprintf(buf, cap, "lw1 t=");
    for (uint32_t k = 0; k < 2 * nw && n < cap; k++) {
        if (k == nw) n += (size_t)snprintf(buf + n, cap - n, " x=");
        if (n < cap) n += (size_t)snprintf(buf + n, cap - n, "%s%" PRId64, k % nw ? "," : "", m[k]);
    }
}

/* The seen() time as of the committed offset, appended when there is one: " s=S" */
#define KMETA_SEEN " s=%" PRId64

/* meta_seen: the metadata's " s=S" (INT64_MIN when it has none); false: not that form */
static bool
meta_seen(const char *s, int64_t *sn)
{
    *sn = INT64_MIN;
    const char *at = strstr(s, " s=");
    int n = -1;
    return at == NULL || (sscanf(at, " s=%" SCNd64 "%n", sn, &n) == 1 && n >= 0 && at[n] == '\0');
}

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* win_each: the bytes of an entry held for the windows (a record or a run of them, kstate_hold):
 * struct kent, per statement two times in v, its index in ix (the source's ring keeps only the
 * records in flight: the limit, not a hold, keeps the commit back) */
static uint64_t
win_each(const struct lw_kstate *ks)
{
    return sizeof(struct kent) + (2 * (uint64_t)ks->nw + 1) * sizeof(int64_t);
}

struct lw_kstate *
lw_kstate_new(struct lw_source *src, struct logwash_state **state, const struct logwash_template *t,
              size_t max_state, enum logwash_output_format out, int64_t idle_ms)
{
    struct lw_kstate *ks = lw_xcalloc(1, sizeof *ks);
    uint32_t nw = logwash_state_statements(*state);
    *ks = (struct lw_kstate){ .src = src,
                              .state = state,
                              .t = t,
                              .max_state = max_state,
                              .out = out,
                              .idle_ms = idle_ms,
                              .nw = nw ? nw : 1 };
    ks->last_closed = lw_xmalloc(4 * ks->nw * sizeof *ks->last_closed);
    ks->safe = ks->last_closed + ks->nw;
    ks->goal = ks->safe + ks->nw;
    ks->released = ks->goal + ks->nw;
    for (uint32_t k = 0; k < 4 * ks->nw; k++)
        ks->last_closed[k] = INT64_MIN;
    ks->nowin = nw == 0;
    ks->counted = logwash_state_count_statements(*state) > 0;
    ks->sees = nw > 0 && logwash_template_uses_seen(t);
    /* seen() with count windows takes the count windows' path: their spans and seen()'s are
     * one list in the state, so count_upto's point is outside both (3d) */
    ks->both = ks->sees && !ks->counted;
    ks->safe_h = ks->goal_h = ks->released_h = 0;
    ks->seen.bound = max_state / 8;
    if (ks->seen.bound < 64 * LW_KSEEN_HELD) ks->seen.bound = 64 * LW_KSEEN_HELD;
    ks->win.bound = max_state / 8;
    if (ks->win.bound < 64 * win_each(ks)) ks->win.bound = 64 * win_each(ks);
    return ks;
}

void
lw_kstate_free(struct lw_kstate *ks)
{
    if (ks == NULL) return;
    for (uint32_t i = 0; i < ks->np; i++) {
        free(ks->p[i].q);
        free(ks->p[i].v);
        free(ks->p[i].ix);
        free(ks->p[i].m);
    }
    free(ks->p);
    free(ks->c);
    free(ks->cv);
    free(ks->ch);
    free(ks->last_closed);
    free(ks);
}

static bool
same(const struct kpart *p, const char *topic, size_t tlen, int32_t partition)
{
    return p->partition == partition && strlen(p->topic) == tlen &&
           memcmp(p->topic, topic, tlen) == 0;
}

/* find: the partition's entry; the last one found is tried first (records come in runs) */
static struct kpart *
find(struct lw_kstate *ks, const char *topic, size_t tlen, int32_t partition)
{
    if (ks->last < ks->np && same(&ks->p[ks->last], topic, tlen, partition))
        return &ks->p[ks->last];
    for (uint32_t i = 0; i < ks->np; i++) {
        if (!same(&ks->p[i], topic, tlen, partition)) continue;
        ks->last = i;
        return &ks->p[i];
    }
    return NULL;
}

/* forget: every hold dropped (the tickets are stale: their partitions were revoked) */
static void
forget(struct lw_kstate *ks)
{
    for (uint32_t i = 0; i < ks->np; i++) {
        struct kpart *p = &ks->p[i];
        p->head = p->n = p->need = p->scan = p->wl = 0;
        p->last_off = -1;
        p->seen_h = p->seen_at = p->cap_at = 0;
    }
    ks->c_head = ks->c_n = 0;
    for (uint32_t k = 0; k < 4 * ks->nw; k++)
        ks->last_closed[k] = INT64_MIN;
    ks->safe_h = ks->goal_h = ks->released_h = 0; /* the new state counts from 0 */
    ks->going = false;
}

/* restore: partition i, a source of the state, starts from its commit's times and windows
 * given, per statement */
static void
restore(struct lw_kstate *ks, uint32_t i)
{
    const int64_t *m = ks->p[i].m;
    for (uint32_t w = 0; w < ks->nw; w++)
        logwash_state_restore_of(*ks->state, i, w, m[w], m[ks->nw + w]);
    logwash_state_restore_seen(*ks->state, i, ks->p[i].mseen);
}

/* remake: a new state, every live partition a source of it holding windows back */
static void
remake(struct lw_kstate *ks)
{
    logwash_state_free(*ks->state);
    *ks->state = logwash_state_new(ks->t, ks->max_state);
    if (*ks->state == NULL) lw_oom(0);
    logwash_state_set_output(*ks->state, ks->out);
    int64_t now = mono_ms();
    for (uint32_t i = 0; i < ks->np; i++) {
        if (!ks->p[i].live) continue;
        logwash_state_from(*ks->state, i);
        restore(ks, i);
        ks->p[i].idle = false;
        ks->p[i].last_ms = now;
    }
    ks->reset = false;
}

void
lw_kstate_parted(struct lw_kstate *ks, const char *topic, int32_t partition, bool on)
{
    size_t tlen = strlen(topic);
    struct kpart *p = find(ks, topic, tlen, partition);
    if (on) {
        if (p == NULL) {
            ks->p = lw_xrealloc(ks->p, (ks->np + 1) * sizeof *ks->p);
            p = &ks->p[ks->np++];
            *p = (struct kpart){ .partition = partition };
            snprintf(p->topic, sizeof p->topic, "%s", topic);
        }
        p->live = true;
        p->idle = false;
        p->last_ms = mono_ms();
        p->last_off = -1;
        p->head = p->n = p->need = p->scan = p->wl = 0;
        if (p->m == NULL) p->m = lw_xmalloc(2 * ks->nw * sizeof *p->m);
        for (uint32_t k = 0; k < 2 * ks->nw; k++)
            p->m[k] = INT64_MIN;
        p->mseen = INT64_MIN;
        p->seen_h = p->seen_at = p->cap_at = 0;
        char meta[LW_SOURCE_META_MAX];
        if (ks->src->ops->getmeta &&
            ks->src->ops->getmeta(ks->src, topic, partition, meta, sizeof meta)) {
            if (!meta_parse(meta, p->m, ks->nw) || !meta_seen(meta, &p->mseen)) {
                for (uint32_t k = 0; k < 2 * ks->nw; k++)
                    p->m[k] = INT64_MIN;
                p->mseen = INT64_MIN;
                for (char *c = meta; *c != '\0'; c++) /* someone else's: shown printable */
                    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
                if (strncmp(meta, "lw1 ", 4) == 0) /* another template's (statements) */
                    fprintf(stderr,
                            "logwash: %s/%d: the committed offset's metadata (\"%.60s\") does "
                            "not fit the template's %u window statement%s: its windows are "
                            "rebuilt from the committed offset as if it were the first run\n",
                            topic, (int)partition, meta, ks->nw, ks->nw == 1 ? "" : "s");
                else
                    fprintf(stderr,
                            "logwash: %s/%d: the committed offset's metadata is not logwash's "
                            "(\"%.60s\"): its windows are rebuilt from the committed offset as "
                            "if it were the first run\n",
                            topic, (int)partition, meta);
            }
        }
        if (!ks->reset) {
            logwash_state_from(*ks->state, (uint32_t)(p - ks->p));
            restore(ks, (uint32_t)(p - ks->p));
        }
        return;
    }
    if (p != NULL) p->live = false;
    /* the held records of every partition stay uncommitted; the state goes with them (the next
     * owners rebuild it from the commits). Partitions kept (a cooperative rebalance, refused at
     * start: lw_validate_state) would keep windows that miss the records of the others: stop, a
     * restart rebuilds them. */
    forget(ks);
    ks->reset = true;
    uint32_t kept = ks->src->ops->parts ? ks->src->ops->parts(ks->src, NULL, 0) : 0;
    if (kept > 0 && ks->stop[0] == '\0') {
        snprintf(ks->stop, sizeof ks->stop,
                 "windows with Kafka input: a rebalance revoked %s/%d and kept %u other "
                 "partition%s (the cooperative protocol): their open windows cannot be "
                 "rebuilt without a restart: stopping, a restart rebuilds them from the "
                 "committed offsets",
                 topic, (int)partition, kept, kept == 1 ? "" : "s");
    }
}

int
lw_kstate_from(struct lw_kstate *ks, const struct lw_recpos *pos, struct lw_diag *d)
{
    if (ks->stop[0] != '\0') {
        lw_diag_setf(d, "%s", ks->stop);
        return -1;
    }
    if (ks->reset) remake(ks);
    const struct lw_msgmeta *m = pos->msg;
    struct lw_msgmeta now;
    /* a record of a partition revoked since it was read (-j N: settled after the revocation) */
    if (!ks->src->ops->locate(ks->src, pos->ticket, &now)) return 0;
    struct kpart *p = find(ks, m->topic.p, m->topic.len, m->partition);
    if (p == NULL || !p->live) return 0;
    if (m->offset <= p->last_off) {
        lw_diag_setf(d,
                     "windows with Kafka input: %s@%" PRId64 " follows %s/%d@%" PRId64
                     " without a rebalance: stopping, a restart rebuilds the open windows from "
                     "the committed offsets",
                     pos->name, m->offset, p->topic, (int)p->partition, p->last_off);
        return -1;
    }
    p->last_off = m->offset;
    uint32_t i = (uint32_t)(p - ks->p);
    if (p->idle) {
        p->idle = false;
        logwash_state_source_idle(*ks->state, i, false);
    }
    p->last_ms = mono_ms();
    logwash_state_from(*ks->state, i);
    return 1;
}

/* kent_add: room for one more entry in p's queue (moved to its start when mostly released) */
static void
kent_add(struct lw_kstate *ks, struct kpart *p)
{
    uint32_t nw = ks->nw;
    if (p->head > 0 && p->head == p->n) {
        p->head = p->n = p->need = p->scan = p->wl = 0;
    } else if (p->head > 4096 && p->head * 2 > p->n) {
        p->wl = p->wl > p->head ? p->wl - p->head : 0;
        memmove(p->q, p->q + p->head, (p->n - p->head) * sizeof *p->q);
        memmove(p->v, p->v + p->head * 2 * nw, (p->n - p->head) * 2 * nw * sizeof *p->v);
        memmove(p->ix, p->ix + p->head, (p->n - p->head) * sizeof *p->ix);
        p->n -= p->head;
        p->need -= p->head;
        p->scan -= p->head;
        p->head = 0;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 256;
        p->q = lw_xrealloc(p->q, p->cap * sizeof *p->q);
        p->v = lw_xrealloc(p->v, p->cap * 2 * nw * sizeof *p->v);
        p->ix = lw_xrealloc(p->ix, p->cap * sizeof *p->ix);
    }
}

/* join: a record with the ends nv (per statement) may join p's last entry: every decision of a
 * release is the same for both, so the commit may skip the point between them. Windows alone
 * (seen() and count windows may commit between any two records their spans allow: a point
 * before a run may be inside a span, docs/design-state.md 3d) without a session statement
 * (its hold is per record index); the entry not taken by a release under way (need) nor found
 * delivered (scan); the record raises no statement's largest end fed (the release takes an
 * entry once every end it fed is given: a record feeding a later window starts a new entry,
 * so with event time in order the entries are about one per window). */
static bool
join(const struct lw_kstate *ks, const struct kpart *p, const int64_t *nv)
{
    if (ks->nowin || ks->both || ks->counted || p->n == p->head || p->need >= p->n ||
        p->scan >= p->n)
        return false;
    if (logwash_state_session_horizon(*ks->state) != UINT64_MAX) return false;
    const int64_t *v = p->v + (p->n - 1) * 2 * ks->nw;
    for (uint32_t w = 0; w < ks->nw; w++)
        if (nv[w] > v[w]) return false;
    return true;
}

void
lw_kstate_hold(struct lw_kstate *ks, const struct lw_recpos *pos, int64_t wend)
{
    if (ks->reset) remake(ks);
    const struct lw_msgmeta *m = pos->msg;
    struct kpart *p = m ? find(ks, m->topic.p, m->topic.len, m->partition) : NULL;
    if (p == NULL || !p->live) return; /* revoked: nothing of it is committed */
    uint32_t nw = ks->nw, i = (uint32_t)(p - ks->p);
    /* per statement the windows it fed (wend INT64_MIN: none, or nothing applied: the state's
     * last ends are another record's) and its partition's time after it */
    int64_t nv[2 * LW_KSTATE_MAX_STATEMENTS];
    for (uint32_t w = 0; w < nw; w++) {
        nv[w] = wend == INT64_MIN ? INT64_MIN : logwash_state_last_end_of(*ks->state, w);
        nv[nw + w] = logwash_state_source_time_of(*ks->state, i, w);
    }
    struct kent e = { pos->ticket, logwash_state_applied(*ks->state),
                      logwash_state_seen_time(*ks->state, i), m->offset };
    /* the last log applied: this record's, or (not applied) one before it: held no shorter */
    int64_t ix = (int64_t)logwash_state_applied(*ks->state) - 1;
    if (join(ks, p, nv)) { /* the last entry grows by it: the ends fed stay, the rest is its */
        size_t j = p->n - 1;
        memcpy(p->v + j * 2 * nw + nw, nv + nw, nw * sizeof *nv);
        p->ix[j] = ix;
        e.off = p->q[j].off;
        p->q[j] = e;
    } else {
        kent_add(ks, p);
        memcpy(p->v + p->n * 2 * nw, nv, 2 * nw * sizeof *nv);
        p->ix[p->n] = ix;
        p->q[p->n++] = e;
        /* the source's commits stop at the first record held */
        if (p->n - p->head == 1) ks->src->ops->setlimit(ks->src, p->topic, p->partition, e.off);
    }
    /* windows its operations closed, in any statement: their results are its outputs */
    bool moved = false;
    for (uint32_t w = 0; w < nw; w++)
        moved |= logwash_state_closed_of(*ks->state, w) > ks->last_closed[w];
    if (moved) {
        if (ks->c_head > 0 && ks->c_head == ks->c_n) ks->c_head = ks->c_n = 0;
        if (ks->c_n == ks->c_cap) {
            ks->c_cap = ks->c_cap ? ks->c_cap * 2 : 64;
            ks->c = lw_xrealloc(ks->c, ks->c_cap * sizeof *ks->c);
            ks->cv = lw_xrealloc(ks->cv, ks->c_cap * nw * sizeof *ks->cv);
            ks->ch = lw_xrealloc(ks->ch, ks->c_cap * sizeof *ks->ch);
        }
        ks->ch[ks->c_n] = logwash_state_session_horizon(*ks->state);
        for (uint32_t w = 0; w < nw; w++) {
            int64_t c = logwash_state_closed_of(*ks->state, w);
            if (c > ks->last_closed[w]) ks->last_closed[w] = c;
            ks->cv[ks->c_n * nw + w] = ks->last_closed[w];
        }
        ks->c[ks->c_n++] = (struct kcut){ pos->ticket };
    }
}

/* fed_by: the record at q[j] of p fed only windows closed at the goal, in every statement */
static bool
fed_by(const struct lw_kstate *ks, const struct kpart *p, size_t j)
{
    const int64_t *v = p->v + j * 2 * ks->nw;
    if (p->ix[j] >= 0 && (uint64_t)p->ix[j] >= ks->goal_h) return false; /* in a session open */
    for (uint32_t w = 0; w < ks->nw; w++)
        if (v[w] > ks->goal[w]) return false;
    return true;
}

/* idle: the entry's records and every one before them delivered (the source passed them: only
 * the limit keeps their commit back), or their partition revoked */
static bool
idle(struct lw_kstate *ks, uint64_t ticket)
{
    return ks->src->ops->passed(ks->src, ticket);
}

/* seen_ok: partition p's commit may pass its record e for seen(): its keys stay rebuilt by a
 * replay from the commit (docs/design-state.md 3b); the state is asked again at most every 64
 * records or 100 ms (the answer never goes back) */
static bool
seen_ok(struct lw_kstate *ks, struct kpart *p, const struct kent *e)
{
    if (e->seq <= p->seen_h) return true;
    uint64_t applied = logwash_state_applied(*ks->state);
    int64_t now = mono_ms();
    if (applied == p->seen_at ||
        (!ks->final && applied - p->seen_at < 64 && now - p->seen_ms < 100))
        return false;
    p->seen_h = logwash_state_seen_horizon(*ks->state, (uint32_t)(p - ks->p));
    p->seen_at = applied;
    p->seen_ms = now;
    return e->seq <= p->seen_h;
}

/* let_go: p's commit goes past q[head..to) (every one idle), to the first record still held */
static void
let_go(struct lw_kstate *ks, struct kpart *p, size_t to)
{
    p->head = to;
    ks->src->ops->setlimit(ks->src, p->topic, p->partition,
                           p->head < p->n ? p->q[p->head].off : INT64_MAX);
}

/* setmeta: partition p's commit metadata, with the limit that lets its commit go past the
 * records released (let_go) */
static void
setmeta(struct lw_kstate *ks, const struct kpart *p)
{
    if (!ks->src->ops->setmeta) return;
    char meta[LW_SOURCE_META_MAX];
    meta_put(meta, sizeof meta, p->m, ks->nw);
    size_t n = strlen(meta);
    if (p->mseen != INT64_MIN && n < sizeof meta)
        snprintf(meta + n, sizeof meta - n, KMETA_SEEN, p->mseen);
    ks->src->ops->setmeta(ks->src, p->topic, p->partition, meta);
}

/* seen_bytes: what partition i holds for seen()'s commit: its records delivered and not
 * committed (q[head..scan), scan moved over the idle ones first; the records still in flight
 * after them are the producer's, bounded as without state) and its spans */
static uint64_t
seen_bytes(struct lw_kstate *ks, uint32_t i, uint64_t *held, uint64_t *spans)
{
    struct kpart *p = &ks->p[i];
    if (p->scan < p->head) p->scan = p->head;
    while (p->scan < p->n && idle(ks, p->q[p->scan].ticket))
        p->scan++;
    *held = p->scan - p->head;
    *spans = logwash_state_seen_spans(*ks->state, i);
    return *held * LW_KSEEN_HELD + *spans * 16;
}

/* seen_pass: partition p holds more than its share of seen()'s bound: its commit goes to its
 * delivered point (scan, seen_bytes: every record before it idle, nothing undelivered), past the
 * horizon; the state moves its horizon there and drops the spans before it. A replay from there may
 * let a duplicate through (logwash(1) KAFKA): counted. */
static void
seen_pass(struct lw_kstate *ks, struct kpart *p)
{
    if (p->scan == p->head) return; /* nothing delivered: what is held is in flight */
    uint32_t i = (uint32_t)(p - ks->p);
    uint64_t upto = p->q[p->scan - 1].seq;
    if (upto > p->seen_h) {
        uint64_t h = logwash_state_seen_horizon(*ks->state, i);
        if (h > p->seen_h) p->seen_h = h;
    }
    if (upto > p->seen_h) {
        logwash_state_seen_pass(*ks->state, i, upto);
        p->seen_h = upto;
        ks->seen.inexact++;
    }
    p->need = p->scan; /* a goal under way, past the delivered point, is dropped */
}

/* seen_total: what the live partitions hold for seen()'s commits, the figures kept */
static uint64_t
seen_total(struct lw_kstate *ks, uint64_t *nlive)
{
    uint64_t total = 0, held = 0, spans = 0;
    *nlive = 0;
    for (uint32_t i = 0; i < ks->np; i++) {
        if (!ks->p[i].live) continue;
        uint64_t h, sp;
        total += seen_bytes(ks, i, &h, &sp);
        held += h;
        spans += sp;
        ++*nlive;
    }
    ks->seen.held = held;
    ks->seen.spans = spans;
    ks->seen.bytes = total;
    return total;
}

/* seen_bound: past seen()'s bound, the partitions holding most pass, the largest first, until
 * what stays (their spans past the delivered point) is within it; only a partition whose
 * delivered point is past its goal can (need < scan) */
static void
seen_bound(struct lw_kstate *ks)
{
    uint64_t nlive, total = seen_total(ks, &nlive);
    while (total > ks->seen.bound) {
        struct kpart *most = NULL;
        uint64_t mb = 0, h, sp;
        for (uint32_t i = 0; i < ks->np; i++) {
            struct kpart *p = &ks->p[i];
            uint64_t b = p->live && p->need < p->scan ? seen_bytes(ks, i, &h, &sp) : 0;
            if (b > mb) most = p, mb = b;
        }
        if (most == NULL) break; /* no goal can move further: the rest is in flight */
        seen_pass(ks, most);     /* need = scan now: not a candidate again */
        /* its records held are committed by seen_release next; its spans before it dropped */
        total = total - mb + logwash_state_seen_spans(*ks->state, (uint32_t)(most - ks->p)) * 16;
    }
}

/* seen_release: seen() without windows: each partition released on its own (its keys are
 * partitioned as the input is, so no partition waits for another), exactly at the seen()
 * horizon the state gave (a point before it may be inside a key's span from its inserter to
 * a record that found it live: a replay from there would miss the key), once every record
 * before it is idle; the goal stays until then, as a window release's does. Past seen()'s
 * bound a partition commits at its delivered point instead (seen_bound). */
static void
seen_release(struct lw_kstate *ks)
{
    seen_bound(ks);
    for (uint32_t i = 0; i < ks->np; i++) {
        struct kpart *p = &ks->p[i];
        while (p->live) { /* a goal reached, then the next one if it is ready too */
            if (p->need < p->head) p->need = p->head;
            if (p->scan < p->head) p->scan = p->head;
            if (p->need == p->head) { /* no goal under way: the horizon now */
                if (p->head == p->n || !seen_ok(ks, p, &p->q[p->head])) break;
                while (p->need < p->n && p->q[p->need].seq <= p->seen_h)
                    p->need++;
            }
            while (p->scan < p->need && idle(ks, p->q[p->scan].ticket))
                p->scan++;
            if (p->scan < p->need) break;
            p->mseen = p->q[p->need - 1].stime;
            setmeta(ks, p);
            let_go(ks, p, p->need);
        }
    }
    uint64_t nlive; /* what stays after the release: the most of it kept */
    if (seen_total(ks, &nlive) > ks->seen.peak) ks->seen.peak = ks->seen.bytes;
}

/* ---- seen() with windows (docs/design-state.md 3c) ----
 * A partition's commit must be at a point of both: at most the windows' (its first record that
 * fed a window not given, released for all partitions at once with the windows given in every
 * metadata), and a point seen() allows (outside every span from a key's inserter to a record
 * that found it live, and before the inserter of every key live). Below the windows' point
 * any point is exact for the windows (its records fed only windows given, whose contributions
 * a replay drops by X); so the commit is at the largest point seen() allows at most the
 * windows' (logwash_state_seen_below), with the metadata's times and seen() time as of there.
 * From it a replay gives every record the same seen() answers, so the same contributions to
 * the windows not given. What seen() keeps back (q[head..wl)) is committed later on its own,
 * per partition, when seen() allows it (both_catchup: the windows given stay those of the
 * last release, so no other partition need move). */

/* both_at: the end of the records of p its commit may pass, among q[head..wl) */
static size_t
both_at(struct lw_kstate *ks, struct kpart *p)
{
    p->seen_at = logwash_state_applied(*ks->state);
    p->seen_ms = mono_ms();
    if (p->wl <= p->head) return p->head;
    uint64_t v = logwash_state_seen_below(*ks->state, (uint32_t)(p - ks->p), p->q[p->wl - 1].seq);
    size_t lo = p->head, hi = p->wl; /* the first record with seq past v (seq never goes down) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->q[mid].seq <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* both_commit: p's commit goes past q[head..to), every one idle: the times as of there */
static void
both_commit(struct lw_kstate *ks, struct kpart *p, size_t to)
{
    uint32_t nw = ks->nw;
    if (p->head < to) {
        for (uint32_t w = 0; w < nw; w++)
            p->m[w] = p->v[(to - 1) * 2 * nw + nw + w];
        p->mseen = p->q[to - 1].stime;
    }
    setmeta(ks, p);
    let_go(ks, p, to);
}

/* both_release: a window release (every record before need idle) in partition p: the
 * windows given are the goal's, the commit as far as seen() allows */
static void
both_release(struct lw_kstate *ks, struct kpart *p)
{
    for (uint32_t w = 0; w < ks->nw; w++)
        if (ks->goal[w] > p->m[ks->nw + w]) p->m[ks->nw + w] = ks->goal[w];
    p->wl = p->need;
    both_commit(ks, p, both_at(ks, p));
}

/* both_total: what seen() holds beyond the windows (q[head..wl), its spans), the figures kept */
static uint64_t
both_total(struct lw_kstate *ks)
{
    uint64_t held = 0, spans = 0;
    for (uint32_t i = 0; i < ks->np; i++) {
        if (!ks->p[i].live) continue;
        if (ks->p[i].wl > ks->p[i].head) held += ks->p[i].wl - ks->p[i].head;
        spans += logwash_state_seen_spans(*ks->state, i);
    }
    ks->seen.held = held;
    ks->seen.spans = spans;
    ks->seen.bytes = held * LW_KSEEN_HELD + spans * 16;
    return ks->seen.bytes;
}

/* both_catchup: past seen()'s bound, the partitions holding most commit at their windows'
 * point anyway, the largest first (seen_bound's rule; a replay from there may let a duplicate
 * through, and count it in a window: counted, logwash(1) KAFKA); then each partition's commit
 * goes as far as seen() allows now, at most every 64 records or 100 ms (each time at the end) */
static void
both_catchup(struct lw_kstate *ks)
{
    while (both_total(ks) > ks->seen.bound) {
        struct kpart *most = NULL;
        uint64_t mb = 0;
        for (uint32_t i = 0; i < ks->np; i++) {
            struct kpart *p = &ks->p[i];
            if (!p->live || p->wl <= p->head) continue;
            uint64_t b =
                (p->wl - p->head) * LW_KSEEN_HELD + logwash_state_seen_spans(*ks->state, i) * 16;
            if (b > mb) most = p, mb = b;
        }
        if (most == NULL) break; /* the rest is held by the windows */
        if (both_at(ks, most) < most->wl) {
            logwash_state_seen_pass(*ks->state, (uint32_t)(most - ks->p),
                                    most->q[most->wl - 1].seq);
            ks->seen.inexact++;
        }
        both_commit(ks, most, most->wl);
    }
    uint64_t applied = logwash_state_applied(*ks->state);
    int64_t now = mono_ms();
    for (uint32_t i = 0; i < ks->np; i++) {
        struct kpart *p = &ks->p[i];
        if (!p->live || p->wl <= p->head) continue;
        if (!ks->final && applied - p->seen_at < 64 && now - p->seen_ms < 100) continue;
        size_t to = both_at(ks, p);
        if (to > p->head) both_commit(ks, p, to);
    }
    if (both_total(ks) > ks->seen.peak) ks->seen.peak = ks->seen.bytes;
}

void
lw_kstate_seen(const struct lw_kstate *ks, struct lw_kseen *c)
{
    *c = ks->seen;
}

/* count_end: partition p's records held only by the spans of its count windows: delivered (scan
 * moved over the idle ones) and below need (they fed only windows given at the goal) */
static size_t
count_end(struct lw_kstate *ks, struct kpart *p)
{
    if (p->scan < p->head) p->scan = p->head;
    while (p->scan < p->n && idle(ks, p->q[p->scan].ticket))
        p->scan++;
    return p->scan < p->need ? p->scan : p->need;
}

/* count_total: what the live partitions hold for their count windows' commits (count_end's
 * records and the spans), the figures kept */
static uint64_t
count_total(struct lw_kstate *ks)
{
    uint64_t held = 0, spans = 0;
    for (uint32_t i = 0; i < ks->np; i++) {
        struct kpart *p = &ks->p[i];
        if (!p->live) continue;
        if (p->need < p->head) p->need = p->head;
        held += count_end(ks, p) - p->head;
        spans += logwash_state_seen_spans(*ks->state, i);
    }
    ks->seen.held = held;
    ks->seen.spans = spans;
    ks->seen.bytes = held * LW_KSEEN_HELD + spans * 16;
    return ks->seen.bytes;
}

/* count_upto: with count windows, how far partition p's release may go (it may go to need
 * for the windows): to its last record below the largest point at or below need's that no count
 * window's records contain (docs/design-state.md 3d); short of need, span_wait notes it. The
 * bound: when what p holds for its spans (count_end's records, the spans) passes share (its
 * part of --max-state/8), its commit goes to count_end's point anyway, inside a count window
 * (lw_state_seen_pass: a replay from it gives that window in part): counted. */
static size_t
count_upto(struct lw_kstate *ks, struct kpart *p, uint64_t share)
{
    if (p->need == p->head) return p->head;
    uint32_t i = (uint32_t)(p - ks->p);
    /* the point need's record stands at (its index), or past the last record held */
    uint64_t cap = p->need < p->n ? p->q[p->need].seq - 1 : p->q[p->n - 1].seq;
    uint64_t applied = logwash_state_applied(*ks->state);
    int64_t now = mono_ms();
    size_t e = count_end(ks, p);
    uint64_t bytes = (e - p->head) * LW_KSEEN_HELD + logwash_state_seen_spans(*ks->state, i) * 16;
    /* asked again at most every 64 records or 100 ms, as seen_ok does (a release stopped short
     * of need tries at every record: span_wait), and before the bound's pass: a point valid
     * once stays valid and the cap never goes back, so an older answer only commits less far */
    if ((cap != p->cap_at || applied != p->seen_at) &&
        (ks->final || bytes > share || p->cap_at == 0 || applied - p->seen_at >= 64 ||
         now - p->seen_ms >= 100)) {
        uint64_t c = logwash_state_seen_below(*ks->state, i, cap);
        p->seen_h = c < cap ? c : cap;
        p->cap_at = cap;
        p->seen_at = applied;
        p->seen_ms = now;
        bytes = (e - p->head) * LW_KSEEN_HELD + logwash_state_seen_spans(*ks->state, i) * 16;
    }
    if (bytes > share && e > p->head && p->q[e - 1].seq > p->seen_h) {
        logwash_state_seen_pass(*ks->state, i, p->q[e - 1].seq);
        p->seen_h = p->q[e - 1].seq;
        ks->seen.inexact++;
    }
    size_t lo = p->head, hi = p->need; /* the first record above it: seq grows along q */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->q[mid].seq <= p->seen_h)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < p->need) ks->span_wait = true;
    return lo;
}

/* ---- The windows' holds, bounded (docs/design-state.md 3e) ----
 * Every record settled is held until the windows it fed are given: with a long window and a
 * fast stream that is every record of the window (a tumbling 1h at 100k records/s: 360M). Past
 * --max-state/8 the partition holding most commits at its delivered point (every record before
 * it delivered, only the windows' hold left: nothing in flight is passed), with its time as of
 * there and its windows given unchanged, the largest first until what stays is within the
 * bound. Nothing changes in the run itself (the windows stay open in memory and are given
 * whole); only a replay from such a commit, after a crash, rebuilds the windows that were open
 * at it from the records after it: a partial result, counted (the commit's windows given are
 * those of the last release, so no window given is given again). */

/* win_from: the first record of p held for the windows (with seen(), q[head..wl) is seen()'s;
 * with count windows, q[head..need) is held by their spans alone: count_total's, within their
 * own bound) */
static size_t
win_from(const struct lw_kstate *ks, const struct kpart *p)
{
    if (ks->both && p->wl > p->head) return p->wl;
    if (ks->counted && p->need > p->head) return p->need < p->n ? p->need : p->n;
    return p->head;
}

/* win_total: what the live partitions hold for the windows, the figures kept */
static uint64_t
win_total(struct lw_kstate *ks)
{
    uint64_t held = 0;
    for (uint32_t i = 0; i < ks->np; i++)
        if (ks->p[i].live && ks->p[i].n > win_from(ks, &ks->p[i]))
            held += ks->p[i].n - win_from(ks, &ks->p[i]);
    ks->win.held = held;
    ks->win.bytes = held * win_each(ks);
    return ks->win.bytes;
}

/* win_scan: p's delivered point moved over its records now idle (only the windows' hold left) */
static void
win_scan(struct lw_kstate *ks, struct kpart *p)
{
    if (p->scan < p->head) p->scan = p->head;
    while (p->scan < p->n && idle(ks, p->q[p->scan].ticket))
        p->scan++;
}

/* win_pass: p's commit goes to its delivered point (q[head..scan), win_scan), nothing in flight
 * passed; counted when a record passed fed a window not given as of the partition's commit */
static void
win_pass(struct lw_kstate *ks, struct kpart *p)
{
    uint32_t nw = ks->nw, i = (uint32_t)(p - ks->p);
    size_t to = p->scan;
    bool inexact = false;
    for (size_t j = p->head; j < to && !inexact; j++) {
        const int64_t *v = p->v + j * 2 * nw;
        if (p->ix[j] >= 0 && (uint64_t)p->ix[j] >= ks->released_h) inexact = true;
        for (uint32_t w = 0; w < nw; w++)
            if (v[w] > p->m[nw + w]) inexact = true;
    }
    for (uint32_t w = 0; w < nw; w++)
        p->m[w] = p->v[(to - 1) * 2 * nw + nw + w];
    /* seen()'s floor, or the count windows' spans, move there too (their own bound's rule);
     * with count windows the point may be inside one: counted as inexact */
    if (ks->sees) p->mseen = p->q[to - 1].stime;
    if ((ks->both || ks->counted) && p->q[to - 1].seq > p->seen_h) {
        logwash_state_seen_pass(*ks->state, i, p->q[to - 1].seq);
        p->seen_h = p->q[to - 1].seq;
        if (ks->counted) inexact = true;
    }
    setmeta(ks, p);
    let_go(ks, p, to);
    if (p->wl < p->head) p->wl = p->head;
    if (p->need < p->head) p->need = p->head;
    ks->win.inexact += inexact;
}

/* win_bound: past the windows' bound, the partitions holding most pass, the largest first,
 * until what stays is within it or only records in flight are left; the most kept after it */
static void
win_bound(struct lw_kstate *ks)
{
    uint64_t each = win_each(ks);
    if (win_total(ks) > ks->win.bound) {
        for (uint32_t i = 0; i < ks->np; i++)
            if (ks->p[i].live) win_scan(ks, &ks->p[i]);
        while (win_total(ks) > ks->win.bound) {
            struct kpart *most = NULL;
            uint64_t mb = 0;
            for (uint32_t i = 0; i < ks->np; i++) {
                struct kpart *p = &ks->p[i];
                /* nothing delivered past what the windows hold: a pass would free none of it,
                 * only commit past seen()'s spans or a count window (their own bound's part) */
                if (!p->live || p->scan <= win_from(ks, p)) continue;
                uint64_t b = (p->n - win_from(ks, p)) * each;
                if (b > mb) most = p, mb = b;
            }
            if (most == NULL) break; /* the rest is in flight (the producer's bound) */
            win_pass(ks, most);
        }
    }
    if (ks->win.bytes > ks->win.peak) ks->win.peak = ks->win.bytes;
}

void
lw_kstate_win(const struct lw_kstate *ks, struct lw_kwin *c)
{
    *c = ks->win;
}

void
lw_kstate_release(struct lw_kstate *ks)
{
    if (ks->reset) return;
    if (ks->nowin) {
        seen_release(ks);
        return;
    }
    if (ks->both) both_catchup(ks);
    win_bound(ks);
    uint32_t nw = ks->nw;
    bool again = false; /* the input is over and a release stopped short: a newer goal, if any */
    for (;;) {
        while (ks->c_head < ks->c_n && idle(ks, ks->c[ks->c_head].ticket)) {
            ks->safe_h = ks->ch[ks->c_head];
            memcpy(ks->safe, ks->cv + ks->c_head++ * nw, nw * sizeof *ks->safe);
        }
        if (!ks->going) {
            if (memcmp(ks->safe, ks->released, nw * sizeof *ks->safe) == 0 &&
                ks->safe_h == ks->released_h && (!ks->span_wait || again))
                return;
            memcpy(ks->goal, ks->safe, nw * sizeof *ks->goal);
            ks->goal_h = ks->safe_h;
            ks->going = true;
        }
        bool ready = true;
        uint32_t nlive = 0; /* count windows: each partition's share of the bound */
        for (uint32_t i = 0; i < ks->np; i++)
            nlive += ks->p[i].live;
        uint64_t share = ks->seen.bound / (nlive ? nlive : 1);
        ks->span_wait = false;
        for (uint32_t i = 0; i < ks->np; i++) {
            struct kpart *p = &ks->p[i];
            if (!p->live) continue;
            if (p->need < p->head) p->need = p->head;
            if (p->scan < p->head) p->scan = p->head;
            while (p->need < p->n && fed_by(ks, p, p->need))
                p->need++;
            p->upto = ks->counted ? count_upto(ks, p, share) : p->need;
            while (p->scan < p->upto && idle(ks, p->q[p->scan].ticket))
                p->scan++;
            if (p->scan < p->upto) ready = false;
        }
        if (!ready) return;
        for (uint32_t i = 0; i < ks->np; i++) {
            struct kpart *p = &ks->p[i];
            if (!p->live) continue;
            if (ks->both) {
                both_release(ks, p);
                continue;
            }
            for (uint32_t w = 0; w < nw; w++) {
                if (p->head < p->upto) p->m[w] = p->v[(p->upto - 1) * 2 * nw + nw + w];
                if (ks->goal[w] > p->m[nw + w]) p->m[nw + w] = ks->goal[w];
            }
            if (ks->sees && p->head < p->upto) p->mseen = p->q[p->upto - 1].stime;
            setmeta(ks, p);
            let_go(ks, p, p->upto);
        }
        memcpy(ks->released, ks->goal, nw * sizeof *ks->released);
        ks->released_h = ks->goal_h;
        ks->going = false;
        /* what stays after the release: the most of it kept */
        if (ks->counted && count_total(ks) > ks->seen.peak) ks->seen.peak = ks->seen.bytes;
        if (ks->span_wait) {
            if (!ks->final) return; /* tried again at the next call, not in a loop here */
            /* at the end of input there may be no next call (the last commit follows): the
             * newest goal is released now too; each turn needs a newer one, so this ends */
            again = true;
        }
    }
}

const char *
lw_kstate_stop(const struct lw_kstate *ks)
{
    return ks->stop[0] != '\0' ? ks->stop : NULL;
}

void
lw_kstate_idle(struct lw_kstate *ks)
{
    if (ks->reset) return;
    int64_t now = mono_ms();
    for (uint32_t i = 0; i < ks->np; i++) {
        struct kpart *p = &ks->p[i];
        if (!p->live || p->idle || now - p->last_ms < ks->idle_ms) continue;
        p->idle = true;
        logwash_state_source_idle(*ks->state, i, true);
    }
}

void
lw_kstate_final(struct lw_kstate *ks)
{
    ks->final = true;
}

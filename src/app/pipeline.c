/* The record loop: source -> decode, template, encode -> sink, with the dead-letter path. For
 * each raw record: decode, run the VM, and either keep its outputs (the encoder wrote them into
 * the output buffer) and hand them to the sink, or discard them and send the record to the
 * dead-letter path (deadletter.h) with both positions. Output is written in large writes, only
 * between records. Counters feed the exit status and the summary line. The stages are chosen
 * by name (stages.c) and reached through their tables of operations only (source.h, sink.h).
 * With an acknowledging source (Kafka), a record is finished only when every output of it is
 * safe: the sinks say so per ticket (struct lw_sink_host), and the source commits its position
 * from those acknowledgements (source.h: hold/done). With -j N, worker threads run the template
 * side (work_one) over batches of records and the batches are settled in the order read, so
 * everything is as with -j 1 (see the comment above BATCH_RECS). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT: the CPUs this process may use */
#include "lw/pipeline.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logwash.h"
#include "lw/arena.h"
#include "lw/deadletter.h"
#include "lw/kafka.h"
#include "lw/kstate.h"
#include "lw/metrics.h"
#include "lw/sink.h"
#include "lw/source.h"
#include "lw/validate.h"

#define FLUSH_AT     (64 * 1024)
#define MAX_WARNINGS 100

static volatile sig_atomic_t stop; /* every run of the process (several pipelines: threads) */

void
lw_pipeline_stop(void)
{
    __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST); /* lock-free: async-signal-safe */
    lw_fd_stop(); /* a write waiting for a reader gives up after --flush-timeout */
}

bool
lw_pipeline_stopping(void)
{
    return __atomic_load_n(&stop, __ATOMIC_SEQ_CST);
}

/* The reload requests' number: a signal handler and the metrics server add one, each loop
 * compares it with the last it served. A lock-free atomic, so async-signal-safe. */
static unsigned long reload_gen;

unsigned long
lw_pipeline_reload(void)
{
    return __atomic_add_fetch(&reload_gen, 1, __ATOMIC_SEQ_CST);
}

unsigned long
lw_pipeline_reload_asked(void)
{
    return __atomic_load_n(&reload_gen, __ATOMIC_SEQ_CST);
}

/* Where the template side of records puts what they produce: the encoded outputs and, for a
 * sink of messages, each one's route (emit ... to, key, headers). The loop's own (struct
 * run.cur, whose out is the output buffer) holds the current record's; a batch's holds all of
 * its records'. */
struct outs {
    struct lw_buf *out;
    struct lw_output *pend;
    uint32_t npend, cappend;
    struct lw_header *hdrs;
    uint32_t nhdrs, caphdrs;
};

/* What running one record gave, for the loop to act on (count, keep, dead-letter). */
enum rkind { RK_OK, RK_DROP, RK_REJECT, RK_ERROR, RK_UNDECODABLE };
struct result {
    enum rkind kind;
    uint32_t nemit;    /* records emitted (kept with RK_OK and RK_DROP) */
    uint64_t steps;    /* template instructions it ran */
    size_t nbytes;     /* the bytes of its outputs (kept with RK_OK and RK_DROP) */
    const char *where; /* template position of a reject or error, else NULL */
    const char *msg;   /* why it failed */
    const void *ops;   /* its state operations (seen(), windows), opslen bytes */
    size_t opslen;
};

/* The template side of records: a runner of the template (logwash.h) that decodes, runs and
 * encodes one record, and the copy of its outputs into dst. One for the loop itself and one
 * per worker thread (-j). It reads the options and writes only to its own members and to dst:
 * never to struct run, so workers need no lock while they run. */
struct work {
    const struct lw_opts *o;
    const char *tname;              /* the template's name, for "name:line:col" */
    const struct lw_sink_ops *sink; /* the output's: whether outputs are routed, and where to */
    struct logwash_runner *runner;
    struct outs *dst;
    bool stateful;  /* the template keeps state (seen(), windows): its operations are read */
    uint64_t steps; /* logwash_runner_steps of runner after its last record */
    char where[256], err[512];
};

struct run {
    const struct logwash_template *t;
    const struct lw_opts *o;
    struct lw_stage_conf conf; /* the stages' part of o */
    struct lw_buf out;         /* encoded output not yet written (the sinks' output buffer) */
    size_t rec_start;          /* out.len when the current record began */
    struct pool *pool;         /* -j N: the workers, else NULL */
    struct work *mw;           /* the loop's own work */
    int said;                  /* how the batches settled for the source's say hook ended (GO...) */
    int settling;              /* settle_batch is running (a drain may come from a wait inside) */
    bool in_drain;             /* a drain settles the batches */
    bool loop_over;            /* what is not settled now never will be (a stop, the end) */
    struct lw_diag said_d;     /* and why, when it was an I/O error */
    struct lw_counters n;
    uint64_t warnings;
    struct lw_source src;
    bool acking; /* the source takes hold/done */
    struct lw_sink_host host;
    /* sinks[0] takes the outputs; sinks[1], when there, only dead letters (a topic while the
     * output is not Kafka) */
    struct lw_sink sinks[2];
    int nsinks;
    struct lw_dlpath dl; /* with has_dl */
    bool has_dl;
    struct outs cur;             /* the current record's outputs (cur.out is &out) */
    const struct lw_recpos *pos; /* of the record being processed */
    int64_t full_since; /* monotonic ms when the sink began to wait for room, 0: not waiting */
    bool full_said;
    int64_t next_stats;              /* monotonic ms of the next summary line */
    struct lw_metrics_pipe *metrics; /* NULL: none */
    struct lw_tablewatch *tw;        /* --table: the lookup tables, or NULL */
    uint64_t explained, unexplained; /* --explain: records explained, and those past its N */
    bool tends;                      /* some sink has a tend operation (setup) */
    struct logwash_state *state;     /* seen() and windows (logwash.h), or NULL */
    uint64_t reruns;                 /* records run again: a worker's seen() answer was wrong */
    bool seen_used; /* the template calls seen(): a worker's log may be wrong (windows alone: never)
                     */
    bool evict_said, early_said;
    bool inexact_said; /* seen()'s commit went past its horizon at its bound: said once */
    bool win_said;     /* the windows' commit went past their exact point at the bound: the same */
    const struct lw_reloader *rl; /* NULL: no reloads */
    unsigned long reload_seen;    /* the last reload request served */
    const struct lw_opts *o0;     /* the options the stages were opened with (r->conf's) */
    bool loaded;                  /* r->t and r->o came from rl->load (given back at the end) */
    /* the configurations the stages ran on before a reload opened them again: kept to the
     * end (a source may hold pointers into its configuration), given back then */
    struct retired {
        struct lw_opts *o;
        struct logwash_template *t;
    } * retired;
    int nretired;
    bool src_closed;                   /* a reload closed the source and could not open it again */
    const struct logwash_template *t0; /* the template of o0 (the framing in r->conf) */
    bool o0_loaded;                    /* o0 and t0 came from rl->load */
    int njobs;
    /* this run stops after the current record (a final failure, a write error): the other
     * pipelines of the process go on (the global stop ends them all) */
    volatile sig_atomic_t halt;
    char who[96]; /* "pipeline NAME: " in messages with several pipelines, else "" */
    /* Kafka input with state (docs/design-state.md 3a, kstate.c): each record settled is held
     * once more in the source until the windows it fed closed and their results were delivered */
    bool kstate;
    struct lw_kstate *ks;
    int64_t kwend; /* the window end the record being settled fed (INT64_MIN: none) */
};

/* stopping: a stop was asked of every run (a signal) or of this one. */
static bool
stopping(const struct run *r)
{
    return lw_pipeline_stopping() || r->halt;
}

/* io_at: an I/O error of stage (enum lw_io_stage) happened: the first one is the run's. */
static void
io_at(struct run *r, int stage)
{
    if (r->n.io_stage == LW_IO_NONE) r->n.io_stage = stage;
}

#define GROW(p, n, cap)                                                                            \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 16;                                                          \
            (p) = lw_xrealloc((p), (cap) * sizeof *(p));                                           \
        }                                                                                          \
    } while (0)

static void
say_pos(const struct lw_recpos *pos)
{
    fprintf(stderr, "logwash: %s%c%" PRIu64 ": ", pos->name, pos->msg ? '@' : ':', pos->line);
}

/* failed: count, report and route one failed record. Returns -1 under --on-error=abort. */
static int
failed(struct run *r, const struct lw_recpos *pos, struct lw_str raw, const char *kind,
       const char *where, const char *msg)
{
    if (r->has_dl) lw_dlpath_record(&r->dl, pos, raw, kind, where, msg);
    bool say = r->o->on_error == LW_ONERR_ABORT ||
               (r->o->on_error == LW_ONERR_WARN && !r->has_dl && r->o->verbosity >= 0);
    if (say && r->warnings < MAX_WARNINGS) {
        say_pos(pos);
        if (where) fprintf(stderr, "%s: ", where);
        /* The message may quote record bytes: control characters never reach the terminal. */
        for (const char *c = msg; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                fprintf(stderr, "\\x%02x", (unsigned char)*c);
            else
                fputc(*c, stderr);
        }
        fputc('\n', stderr);
    } else if (say && r->warnings == MAX_WARNINGS) { /* said once, when the first is hidden */
        fprintf(stderr, "logwash: further record errors are counted but not shown "
                        "(use --dead-letter FILE to keep them all)\n");
    }
    if (say) r->warnings++;
    return r->o->on_error == LW_ONERR_ABORT ? -1 : 0;
}

/* flush_out: the output sink's write (sink.h): 0, -1 (d set) or -2 (a quiet stop). */
static int
flush_out(struct run *r, struct lw_diag *d)
{
    struct lw_sink *s = &r->sinks[0];
    int rc = r->nsinks > 0 && s->ops->write ? s->ops->write(s, d) : 0; /* none: reopen failed */
    if (rc == -1) io_at(r, LW_IO_SINK);
    return rc;
}

/* flush_dl: write the dead letters waiting for the dead-letter file. */
static int
flush_dl(struct run *r, struct lw_diag *d)
{
    int rc = r->has_dl ? lw_dlpath_flush(&r->dl, d) : 0;
    if (rc != 0) io_at(r, LW_IO_DEAD_LETTER);
    return rc;
}

/* keep_routes: the routes of the runner's outputs (n at outs, their bytes in d->out) for a
 * sink of messages. Their strings are the runner's until its next record. */
static void
keep_routes(struct outs *d, const struct logwash_output *outs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct logwash_output *o = &outs[i];
        struct lw_output pd = { .off = (size_t)(o->data - d->out->p),
                                .len = o->len + 1,
                                .to = { o->topic, o->topic_len },
                                .has_to = o->has_topic,
                                .key = { o->key, o->key_len },
                                .has_key = o->has_key,
                                .h0 = d->nhdrs };
        for (size_t h = 0; h < o->nheaders; h++) {
            const struct logwash_header *x = &o->headers[h];
            GROW(d->hdrs, d->nhdrs, d->caphdrs);
            d->hdrs[d->nhdrs++] = (struct lw_header){ .name = { x->name, x->name_len },
                                                      .value = { x->value, x->value_len },
                                                      .null_value = x->value == NULL };
            pd.nh++;
        }
        GROW(d->pend, d->npend, d->cappend);
        d->pend[d->npend++] = pd;
    }
}

/* conclude: *x from the result res of the runner's last record (nemit emitted values among its
 * nouts outputs, nbytes of them at the end of w->dst's buffer); with a sink of messages, the
 * routes of its outputs go to w->dst. */
static inline __attribute__((always_inline)) void
conclude(struct work *w, enum logwash_result res, size_t nouts, uint32_t nemit, size_t nbytes,
         struct result *x)
{
    if (res == LOGWASH_OK || res == LOGWASH_DROP) {
        x->kind = res == LOGWASH_OK ? RK_OK : RK_DROP;
        x->nemit = nemit;
        x->nbytes = nbytes;
        if (nouts > 0 && w->sink->messages) {
            size_t n;
            const struct logwash_output *outs = logwash_outputs(w->runner, &n);
            keep_routes(w->dst, outs, n);
        }
        return;
    }
    const struct logwash_error *e = logwash_runner_error(w->runner);
    x->msg = e->message;
    if (res == LOGWASH_UNDECODABLE) return;
    x->kind = res == LOGWASH_REJECT ? RK_REJECT : RK_ERROR;
    if (e->line > 0) {
        snprintf(w->where, sizeof w->where, "%s:%d:%d", w->tname, e->line, e->col);
        x->where = w->where;
    }
}

/* too_long: *x for a record the source cut (--max-line, or its own reason). */
static void
too_long(struct work *w, const struct lw_recpos *pos, struct result *x)
{
    *x = (struct result){ .kind = RK_UNDECODABLE, .msg = w->err };
    if (pos->why != NULL) {
        x->msg = pos->why;
    } else {
        snprintf(w->err, sizeof w->err, "line longer than %zu bytes (--max-line): cut and skipped",
                 w->o->max_line);
    }
}

/* work_one: the template side of one raw record: the runner runs it on the record and the meta
 * its source made, and appends its outputs (all of them, or none after a reject or error) to
 * w->dst's buffer itself (logwash_run_into: no copy). *x says what happened; its strings live
 * in w, in the runner, or in the source's record, until the next record. */
static inline __attribute__((always_inline)) void
work_one(struct work *w, struct lw_str raw, const struct lw_recpos *pos, struct result *x)
{
    if (pos->too_long) {
        too_long(w, pos, x);
        return;
    }
    *x = (struct result){ .kind = RK_UNDECODABLE, .msg = w->err };
    struct lw_buf *b = w->dst->out;
    size_t start = b->len;
    struct logwash_buffer out = { b->p, b->len, b->cap };
    enum logwash_result res = logwash_run_into(w->runner, raw.p, raw.len, pos->meta, &out);
    *b = (struct lw_buf){ out.data, out.len, out.cap };
    size_t nemit = 0, n = 0;
    if (res <= LOGWASH_DROP) n = logwash_output_count(w->runner, &nemit);
    conclude(w, res, n, (uint32_t)nemit, out.len - start, x);
    if (w->stateful) x->ops = logwash_runner_state_ops(w->runner, &x->opslen);
    uint64_t steps = logwash_runner_steps(w->runner);
    x->steps = steps - w->steps;
    w->steps = steps;
}

static void explain(struct run *r, struct lw_str raw, const struct lw_recpos *pos,
                    const struct result *x);

/* apply: the loop's side of a record whose work is done: count it, and send a failed one to
 * the dead-letter path. Returns 0, or -1 to stop (abort policy). */
static inline __attribute__((always_inline)) int
apply(struct run *r, struct lw_str raw, const struct lw_recpos *pos, const struct result *x)
{
    r->n.in++;
    r->n.bytes_in += raw.len;
    r->n.vm_steps += x->steps;
    r->pos = pos;
    if (r->o->explain > 0 && r->pool == NULL) explain(r, raw, pos, x);
    switch (x->kind) {
    case RK_OK:
        r->n.emitted += x->nemit;
        r->n.bytes_out += x->nbytes;
        return 0;
    case RK_DROP:
        r->n.emitted += x->nemit;
        r->n.bytes_out += x->nbytes;
        r->n.dropped++;
        return 0;
    case RK_UNDECODABLE:
        r->n.undecodable++;
        return failed(r, pos, raw, "decode", NULL, x->msg);
    case RK_REJECT:
        r->n.rejected++;
        return failed(r, pos, raw, "reject", x->where, x->msg);
    case RK_ERROR:
        break;
    }
    r->n.failed++;
    return failed(r, pos, raw, "error", x->where, x->msg);
}

/* explain: --explain: a record rejected or failed, or with a match(), grok() or dissect() that
 * did not match, explained on stderr as `logwash explain` does, the first o->explain of them.
 * Runs with one worker (jobs), so the loop's runner holds the record's explanation. */
static void
explain(struct run *r, struct lw_str raw, const struct lw_recpos *pos, const struct result *x)
{
    static const char *const kinds[] = { [RK_OK] = "ok",
                                         [RK_DROP] = "dropped",
                                         [RK_UNDECODABLE] = "undecodable",
                                         [RK_REJECT] = "rejected",
                                         [RK_ERROR] = "failed" };
    struct logwash_runner *rn = r->mw->runner;
    if (x->kind == RK_UNDECODABLE ||
        (x->kind != RK_REJECT && x->kind != RK_ERROR && logwash_explanation_misses(rn) == 0))
        return;
    if (r->explained == (uint64_t)r->o->explain) {
        r->unexplained++;
        return;
    }
    r->explained++;
    fprintf(stderr, "logwash: explain: %s%c%" PRIu64 ": ", pos->name, pos->msg ? '@' : ':',
            pos->line);
    size_t n = raw.len > 200 ? 200 : raw.len; /* the record, control characters escaped */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw.p[i];
        if (c < 0x20 || c == 0x7f)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fprintf(stderr, "%s\n", raw.len > 200 ? "..." : "");
    fputs(logwash_explanation(rn, NULL), stderr);
    if (x->kind == RK_OK || x->kind == RK_DROP) {
        fprintf(stderr, "=> %s, %" PRIu32 " output%s\n\n", kinds[x->kind], x->nemit,
                x->nemit == 1 ? "" : "s");
    } else {
        fprintf(stderr, "=> %s%s%s: %s\n\n", kinds[x->kind], x->where ? " at " : "",
                x->where ? x->where : "", x->msg);
    }
}

static int settle_all(struct run *r, struct lw_diag *d);
enum { GO, STOP_ABORT, STOP_IO, STOP_QUIET, STOP_ASKED };

/* drain: finish every record handed out so far (the source is about to lose them). */
static void
drain(void *ud)
{
    struct run *r = ud;
    struct lw_diag d = { 0 };
    /* -j N: the records read ahead into batches were handed out too: settle them first (their
     * outputs are put, their dead letters written, and the waits below cover them). Not from
     * inside a settle (a wait for room brought the revocation): the records not settled yet
     * stay unfinished, so the next owner reads them again; their later acknowledgements name
     * a revoked partition and count for nothing. */
    if (r->pool && r->settling == 0 && r->said == GO && !r->loop_over) {
        r->in_drain = true;
        int st = settle_all(r, &r->said_d);
        r->in_drain = false;
        r->said = st;
        if (st != GO) r->halt = 1;
    }
    /* With a sink of messages, r->out holds only the outputs of a record being put (a wait for
     * room can bring a revocation here): they go to the sink, never written (write is NULL).
     * What was not written is released as failed; the run stops as after any write error. */
    if (flush_out(r, &d) != 0 || flush_dl(r, &d) != 0) {
        if (d.set) lw_kafka_say(&r->conf, "before revocation: %s", d.msg);
        r->halt = 1;
    }
    for (int i = 0; i < r->nsinks; i++) {
        struct lw_sink *s = &r->sinks[i];
        if (s->ops->drain && s->ops->drain(s) != 0) r->halt = 1;
    }
}

/* parted: the source's partitions (kstate.c) */
static void
parted(void *ud, const char *topic, int32_t partition, bool on)
{
    struct run *r = ud;
    lw_kstate_parted(r->ks, topic, partition, on);
    if (lw_kstate_stop(r->ks) != NULL) r->halt = 1; /* said and exit 4 after the loop */
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* publish: the counters to the metrics (metrics.h; at most every 100 ms unless the end). */
static void
publish(struct run *r, enum lw_metrics_when when)
{
    if (r->metrics == NULL) return;
    lw_metrics_publish(r->metrics, &r->n, r->has_dl ? &r->dl : NULL, &r->src, r->sinks, r->nsinks,
                       r->state, r->tw, when);
}

/* full: the Kafka sink waits for room (brokers away): keep the consumer in its group. A wait
 * longer than a second is said, and so is its end. A stop request (a signal, a final failure)
 * gives the wait up: the brokers may stay away for long. */
static bool
full(void *ud, bool waiting)
{
    struct run *r = ud;
    /* not from a revocation's drain: the consumer is inside its rebalance callback (a wait
     * there serves the producer only) */
    if (r->src.ops->wait && !r->in_drain) r->src.ops->wait(&r->src, waiting);
    if (!waiting) {
        /* the wait also ends when a stop gives it up: then there is no room, and no reading */
        if (r->full_said)
            lw_kafka_say(&r->conf, stopping(r) ? "stopping while the output queue is still full"
                                               : "output queue has room again: reading again");
        r->full_since = 0;
        r->full_said = false;
        return true;
    }
    if (stopping(r)) return false;
    if (!r->in_drain) publish(r, LW_METRICS_TICK); /* the queue's depth while brokers are away */
    int64_t t = now_ms();
    if (r->full_since == 0) r->full_since = t;
    if (!r->full_said && t - r->full_since >= 1000) {
        lw_kafka_say(&r->conf,
                     "output queue full (%" PRIu64 " records read): not reading until the "
                     "brokers take messages again",
                     r->n.in);
        r->full_said = true;
    }
    return true;
}

/* stats: the periodic one-line summary of a long-running (Kafka) stream. */
static void
stats(struct run *r, bool force)
{
    if (r->o->stats_ms == 0 || r->o->verbosity < 0) return;
    int64_t t = now_ms();
    if (!force && t < r->next_stats) return;
    r->next_stats = t + (int64_t)r->o->stats_ms;
    uint64_t delivered = 0;
    for (int i = 0; i < r->nsinks; i++)
        delivered += r->sinks[i].delivered;
    char lag[32] = "unknown";
    int64_t l = r->src.ops->lag ? r->src.ops->lag(&r->src) : -1;
    if (l >= 0) snprintf(lag, sizeof lag, "%" PRId64, l);
    lw_kafka_say_always(&r->conf,
                        "%" PRIu64 " records in, %" PRIu64 " emitted, %" PRIu64 " dropped, %" PRIu64
                        " dead (rejected, failed, undecodable), %" PRIu64 " delivered, lag %s",
                        r->n.in, r->n.emitted, r->n.dropped,
                        r->n.rejected + r->n.failed + r->n.undecodable, delivered, lag);
}

static void
summary(const struct run *r, const struct lw_opts *o)
{
    uint64_t bad = r->n.failed + r->n.rejected + r->n.undecodable;
    if (r->state != NULL && o->verbosity >= 0) {
        struct logwash_state_counts c;
        logwash_state_counts(r->state, &c);
        if (o->verbosity >= 1 || c.evicted || c.closed_early || r->n.late) {
            fprintf(stderr,
                    "logwash: state: %" PRIu64 " window results, %" PRIu64 " late, %" PRIu64
                    " windows closed early, %" PRIu64 " seen() keys evicted\n",
                    c.results, r->n.late, c.closed_early, c.evicted);
        }
        if (r->kstate && c.windows > 0) /* with Kafka input the open windows stay open */
            fprintf(stderr,
                    "logwash: state: %" PRIu64 " window result%s open at exit, not given: "
                    "the next run rebuilds them from the committed offsets (logwash(1) "
                    "KAFKA)\n",
                    c.windows, c.windows == 1 ? "" : "s");
        bool counted = logwash_state_count_statements(r->state) > 0;
        if (r->ks != NULL && (r->seen_used || counted) &&
            (o->verbosity >= 1 || r->n.seen_inexact > 0)) {
            struct lw_kseen k;
            lw_kstate_seen(r->ks, &k);
            fprintf(stderr,
                    "logwash: state: %" PRIu64 " %s commits past the exact point, at most %" PRIu64
                    " bytes of records held and spans for them (bound %" PRIu64 ")\n",
                    k.inexact,
                    !counted       ? "seen()"
                    : r->seen_used ? "seen() and count windows'"
                                   : "count windows'",
                    k.peak, k.bound);
        }
        if (r->ks != NULL && logwash_state_statements(r->state) > 0 &&
            (o->verbosity >= 1 || r->n.win_inexact > 0)) {
            struct lw_kwin k;
            lw_kstate_win(r->ks, &k);
            fprintf(stderr,
                    "logwash: state: %" PRIu64
                    " window commits past the exact point, at most %" PRIu64
                    " bytes of records held for the windows (bound %" PRIu64 ")\n",
                    k.inexact, k.peak, k.bound);
        }
        /* how often a worker's seen() answer was wrong depends on -j and the batches */
        if (o->verbosity >= 2)
            fprintf(stderr, "logwash: state: %" PRIu64 " records run again (-j)\n", r->reruns);
    }
    if (o->verbosity < 1 && (bad == 0 || o->verbosity < 0 || o->on_error == LW_ONERR_SKIP)) return;
    fprintf(stderr,
            "logwash: %" PRIu64 " records: %" PRIu64 " emitted, %" PRIu64 " dropped, %" PRIu64
            " rejected, %" PRIu64 " failed, %" PRIu64 " undecodable%s%s\n",
            r->n.in, r->n.emitted, r->n.dropped, r->n.rejected, r->n.failed, r->n.undecodable,
            r->has_dl ? "; dead letters in " : "",
            r->has_dl ? (o->dl_topic ? o->dl_topic : o->dead_letter) : "");
    if (r->tw != NULL && o->verbosity >= 1) {
        uint64_t reloads, failures;
        lw_tablewatch_counts(r->tw, &reloads, &failures);
        fprintf(stderr, "logwash: tables: %" PRIu64 " reloaded, %" PRIu64 " reloads failed\n",
                reloads, failures);
    }
}

/* finish: after the loop: write and deliver what is pending, within --flush-timeout (first:
 * an undeliverable routed output adds a dead letter), then close the dead-letter file. */
static bool
finish(struct run *r, struct lw_diag *d)
{
    bool bad = false;
    if (flush_out(r, d) == -1) bad = true;
    for (int i = 0; i < r->nsinks; i++) {
        struct lw_sink *s = &r->sinks[i];
        if (s->ops->finish && s->ops->finish(s, d) != 0) {
            io_at(r, i == 0 ? LW_IO_SINK : LW_IO_DEAD_LETTER); /* sinks[1]: dead letters only */
            bad = true;
        }
    }
    if (r->has_dl && lw_dlpath_close(&r->dl, d) != 0) {
        io_at(r, LW_IO_DEAD_LETTER);
        bad = true;
    }
    return bad;
}

/* stage_conf: the stages' part of the options. */
static void
stage_conf(const struct lw_opts *o, struct lw_stage_conf *c)
{
    *c = (struct lw_stage_conf){ .verbosity = o->verbosity,
                                 .max_line = o->max_line,
                                 .inputs = o->inputs,
                                 .ninputs = o->ninputs,
                                 .ml_start = o->ml_start,
                                 .ml_continue = o->ml_continue,
                                 .ml_indent = o->ml_indent,
                                 .ml_max_lines = o->ml_max_lines,
                                 .ml_max_bytes = o->ml_max_bytes,
                                 .ml_timeout_ms = o->ml_timeout_ms,
                                 .match_limit = o->limits.match_limit,
                                 .depth_limit = o->limits.depth_limit,
                                 .jit = !o->no_jit,
                                 .brokers = o->brokers,
                                 .group = o->group,
                                 .topics = o->topics,
                                 .ntopics = o->ntopics,
                                 .props = o->props,
                                 .nprops = o->nprops,
                                 .exit_at_eof = o->exit_at_eof,
                                 .out_topic = o->to == LW_TO_KAFKA ? o->out_topic : NULL,
                                 .flush_timeout_ms = o->flush_timeout_ms,
                                 .dl_file = o->dead_letter,
                                 .dl_topic = o->dl_topic,
                                 .pipeline = o->pipeline };
}

/* The loop's side of the sinks' acknowledgements (struct lw_sink_host). */
static void
host_hold(void *ud, uint64_t ticket)
{
    struct run *r = ud;
    r->src.ops->hold(&r->src, ticket);
}

static void
host_done(void *ud, uint64_t ticket, bool ok)
{
    struct run *r = ud;
    r->src.ops->done(&r->src, ticket, ok);
}

static bool
host_locate(void *ud, uint64_t ticket, struct lw_msgmeta *m)
{
    struct run *r = ud;
    return r->src.ops->locate && r->src.ops->locate(&r->src, ticket, m);
}

static int
host_refused(void *ud, const struct lw_sink_rec *rec, const char *kind, const char *msg)
{
    struct run *r = ud;
    r->n.failed++;
    return failed(r, rec->pos, rec->raw, kind, NULL, msg);
}

static void
host_dead(void *ud)
{
    struct run *r = ud;
    r->n.failed++;
}

static void
host_stop(void *ud)
{
    struct run *r = ud;
    r->halt = 1;
}

/* open_sink: sinks[nsinks], the sink named name. Returns as lw_sink_ops.open. */
static int
open_sink(struct run *r, const char *name, struct lw_diag *d)
{
    struct lw_sink *s = &r->sinks[r->nsinks++];
    *s = (struct lw_sink){
        .ops = lw_sink_find(name), .host = &r->host, .out = &r->out, .dl = r->has_dl ? &r->dl : NULL
    };
    assert(s->ops != NULL);
    return s->ops->open(s, &r->conf, d);
}

/* conf_of: the stages' part of o, the framing from t's `multiline` directive unless an option
 * (command line or job file) chose one. */
static void
conf_of(const struct logwash_template *t, const struct lw_opts *o, struct lw_stage_conf *c)
{
    stage_conf(o, c);
    if (c->ml_start == NULL && c->ml_continue == NULL && !c->ml_indent) {
        struct logwash_framing f;
        logwash_template_framing(t, &f);
        if (o->ml_no_indent) f.indent = false; /* turned off, the directive's as a job file's */
        c->ml_start = f.start;
        c->ml_continue = f.cont;
        c->ml_indent = f.indent;
    }
}

static int open_sinks(struct run *r, const struct lw_opts *o, struct lw_diag *d);
static int open_dl_file(struct run *r, const struct lw_opts *o, struct lw_diag *d);

static int
setup(struct run *r, const struct lw_opts *o, struct lw_diag *d)
{
    conf_of(r->t, o, &r->conf);
    r->src.ops = lw_source_find(o->from == LW_FROM_KAFKA ? "kafka" : "files");
    assert(r->src.ops != NULL);
    r->acking = r->src.ops->done != NULL;
    r->src.drain = drain;
    r->src.ud = r;
    r->host = (struct lw_sink_host){ .ud = r,
                                     .hold = r->acking ? host_hold : NULL,
                                     .done = r->acking ? host_done : NULL,
                                     .locate = host_locate,
                                     .refused = host_refused,
                                     .dead = host_dead,
                                     .full = full,
                                     .stop = host_stop };
    if (o->dead_letter != NULL && open_dl_file(r, o, d) != 0) return -1;
    return open_sinks(r, o, d);
}

/* open_dl_file: o's dead-letter file (setup, and a reload that changed it: reopen). */
static int
open_dl_file(struct run *r, const struct lw_opts *o, struct lw_diag *d)
{
    /* never one of the files this run reads or writes: the inputs, stdin, stdout, the
     * template and the job file */
    struct lw_fd_keep *keep = lw_xcalloc((size_t)o->ninputs + 5, sizeof *keep);
    int nkeep = 0;
    lw_fd_keep_fd(keep, &nkeep, 1, "the output (stdout)");
    lw_fd_keep_fd(keep, &nkeep, 2, "standard error");
    bool stdin_read = o->from != LW_FROM_KAFKA && o->ninputs == 0;
    for (int i = 0; i < o->ninputs; i++) {
        if (strcmp(o->inputs[i], "-") == 0)
            stdin_read = true;
        else
            lw_fd_keep_path(keep, &nkeep, o->inputs[i], "an input");
    }
    if (stdin_read) lw_fd_keep_fd(keep, &nkeep, 0, "the input (stdin)");
    if (o->template_file) lw_fd_keep_path(keep, &nkeep, o->template_file, "the template");
    if (o->config_file) lw_fd_keep_path(keep, &nkeep, o->config_file, "the job file");
    int rc = lw_dlpath_open_file(&r->dl, o->dead_letter, keep, nkeep, d);
    free(keep);
    if (rc != 0) return -1;
    lw_fd_stoppable(&r->dl.file, o->flush_timeout_ms); /* a FIFO nobody reads: see sink_fd.c */
    r->has_dl = true;
    return 0;
}

/* open_sinks: the output's sink, and the Kafka sink of a dead-letter topic when the output's
 * is not one (setup, and a reload that changed the sinks' settings: reopen). */
static int
open_sinks(struct run *r, const struct lw_opts *o, struct lw_diag *d)
{
    r->has_dl |= o->dl_topic != NULL;
    int rc = open_sink(r, o->to == LW_TO_KAFKA ? "kafka" : "stdout", d);
    if (rc != 0) return rc;
    if (o->dl_topic) { /* dead letters on a topic: through the Kafka sink, the output's if it is */
        struct lw_sink *k = &r->sinks[0];
        if (k->ops->letter == NULL) {
            if ((rc = open_sink(r, "kafka", d)) != 0) return rc;
            k = &r->sinks[1];
        }
        lw_dlpath_open_sink(&r->dl, k, o->dl_topic);
    }
    for (int i = 0; i < r->nsinks; i++)
        r->tends |= r->sinks[i].ops->tend != NULL;
    return 0;
}

/* settle: after a record: hand its outputs to the sink, and release the hold next() took. */
static inline __attribute__((always_inline)) int
settle(struct run *r, int rc, struct lw_str raw, const struct lw_recpos *pos, struct lw_diag *d)
{
    struct lw_sink *s = &r->sinks[0];
    struct lw_sink_rec rec = { .pos = pos,
                               .raw = raw,
                               .start = r->rec_start,
                               .outs = r->cur.pend,
                               .nouts = r->cur.npend,
                               .hdrs = r->cur.hdrs };
    if (s->ops->put(s, &rec) != 0) rc = -1;
    if (!r->acking) return rc;
    if (r->dl.buf.len && flush_dl(r, d) != 0) return -2; /* dead letters are written at once */
    /* --on-error=abort stops at this record: it stays uncommitted, so a restart reads it again */
    r->src.ops->done(&r->src, pos->ticket, rc == 0);
    return rc;
}

/* tend: the sinks' deferred work (route dead letters). Returns -1, d set, when the dead-letter
 * file failed. */
static int
tend(struct run *r, struct lw_diag *d)
{
    int rc = 0;
    for (int i = 0; i < r->nsinks; i++) {
        struct lw_sink *s = &r->sinks[i];
        if (s->ops->tend && s->ops->tend(s, d) != 0) rc = -1;
    }
    if (rc != 0) io_at(r, LW_IO_DEAD_LETTER);
    return rc;
}

/* state_now: processing time for windows: --now, else the clock. */
static int64_t
state_now(const struct run *r)
{
    if (r->o->now_text != NULL) return r->o->now_ns;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* state_said: the memory bound was reached: said once for keys and once for windows. */
static void
state_said(struct run *r)
{
    struct logwash_state_counts c;
    logwash_state_counts(r->state, &c);
    if (c.evicted > 0 && !r->evict_said && r->o->verbosity >= 0) {
        fprintf(stderr,
                "logwash: --max-state (%zu bytes) reached: the oldest seen() keys are "
                "forgotten before their ttl (counted in the summary)\n",
                r->o->max_state);
    }
    if (c.closed_early > 0 && !r->early_said && r->o->verbosity >= 0) {
        fprintf(stderr,
                "logwash: --max-state (%zu bytes) reached: the windows that end first "
                "are closed early (counted in the summary)\n",
                r->o->max_state);
    }
    r->evict_said |= c.evicted > 0;
    r->early_said |= c.closed_early > 0;
}

/* kseen_counts: seen()'s commits' figures copied for the metrics; the first commit past its
 * horizon at its bound said once (counted in the summary and the metrics) */
static void
kseen_counts(struct run *r)
{
    struct lw_kseen k;
    lw_kstate_seen(r->ks, &k);
    r->n.seen_inexact = k.inexact;
    r->n.seen_held = k.held;
    r->n.seen_spans = k.spans;
    r->n.seen_bytes = k.bytes;
    if (k.inexact > 0 && !r->inexact_said && r->o->verbosity >= 0 &&
        logwash_state_count_statements(r->state) > 0) {
        fprintf(stderr,
                "logwash: %scount windows' bound (--max-state/8: %" PRIu64 " bytes of records "
                "held and spans) reached: a partition's commit goes past a count window's "
                "records%s, where a replay gives that window in part%s (counted in the "
                "summary; logwash(1) KAFKA)\n",
                r->seen_used ? "seen()'s and " : "", k.bound,
                r->seen_used ? " or a seen() key's span" : "",
                r->seen_used ? " or lets a duplicate through" : "");
        r->inexact_said = true;
    } else if (k.inexact > 0 && !r->inexact_said && r->o->verbosity >= 0) {
        fprintf(stderr,
                "logwash: seen()'s bound (--max-state/8: %" PRIu64 " bytes of records held "
                "and spans) reached: a partition's commit goes to its delivered point, where "
                "a replay may let a duplicate through (counted in the summary; logwash(1) "
                "KAFKA)\n",
                k.bound);
        r->inexact_said = true;
    }
    struct lw_kwin w;
    lw_kstate_win(r->ks, &w);
    r->n.win_inexact = w.inexact;
    r->n.win_held = w.held;
    r->n.win_bytes = w.bytes;
    if (w.inexact > 0 && !r->win_said && r->o->verbosity >= 0) {
        fprintf(stderr,
                "logwash: the windows' bound (--max-state/8: %" PRIu64 " bytes of records "
                "held) reached: a partition's commit goes to its delivered point, from where a "
                "replay after a crash rebuilds the windows open then in part%s (counted in the "
                "summary; logwash(1) KAFKA)\n",
                w.bound, r->seen_used ? " and may let a seen() duplicate through" : "");
        r->win_said = true;
    }
}

/* state_results: window results appended to the output buffer from before (n of them): counted
 * as outputs; the state's counters copied for the summary and the metrics. */
static void
state_results(struct run *r, size_t before, size_t n)
{
    r->n.emitted += n;
    r->n.bytes_out += r->out.len - before;
    struct logwash_state_counts c;
    logwash_state_counts(r->state, &c);
    r->n.window_results = c.results;
    r->n.closed_early = c.closed_early;
    r->n.evicted = c.evicted;
    r->n.reruns = r->reruns;
}

/* state_route: a window result's route as the sink takes it: its statement's topic (`to`, else
 * the sink's default) and its identity as the message key (logwash_state_routes). */
static struct lw_output
state_route(const struct run *r, const struct logwash_output *o)
{
    return (struct lw_output){ .off = (size_t)(o->data - r->out.p),
                               .len = o->len + 1,
                               .to = { o->topic, o->topic_len },
                               .has_to = o->has_topic,
                               .key = { o->key, o->key_len },
                               .has_key = o->has_key };
}

/* state_msgs: with a sink of messages, each window result the state just appended to out is a
 * message of its own, routed by state_route. */
static void
state_msgs(struct run *r)
{
    struct logwash_buffer b = { r->out.p, r->out.len, r->out.cap };
    size_t n;
    const struct logwash_output *o = logwash_state_routes(r->state, &b, &n);
    for (size_t i = 0; i < n; i++) {
        GROW(r->cur.pend, r->cur.npend, r->cur.cappend);
        r->cur.pend[r->cur.npend++] = state_route(r, &o[i]);
    }
}

/* state_close: the windows that time now_ns ends (INT64_MAX: all) close; their results are
 * written as they come, FLUSH_AT at a time; with a sink of messages (files to Kafka: never
 * with Kafka input, whose open windows stay held) put as the outputs of no record, which the
 * producer's flush at the end delivers or says failed. Returns flush_out's 0, -1 (d set) or
 * -2, or -3: the sink's put said stop (a final delivery failure, --on-error=abort). */
static int
state_close(struct run *r, int64_t now_ns, struct lw_diag *d)
{
    for (;;) {
        struct logwash_buffer b = { r->out.p, r->out.len, r->out.cap };
        size_t before = r->out.len, n = logwash_state_tick(r->state, now_ns, &b, FLUSH_AT);
        r->out = (struct lw_buf){ b.data, b.len, b.cap };
        if (logwash_state_broken(r->state)) lw_oom(0);
        state_results(r, before, n);
        if (n == 0) return 0;
        struct lw_sink *s = &r->sinks[0];
        if (s->ops->messages) { /* each result put alone: one refused is its own dead letter */
            struct lw_buf all = { 0 };
            lw_buf_add(&all, r->out.p + before, r->out.len - before);
            struct logwash_buffer ob = { r->out.p, r->out.len, r->out.cap };
            size_t nrt;
            const struct logwash_output *rt = logwash_state_routes(r->state, &ob, &nrt);
            /* no record: a message names the result by its number among the run's */
            struct lw_recpos nopos = { .name = "window result", .line = r->n.window_results - n };
            int put = 0;
            for (size_t off = 0, i = 0; off < all.len && put == 0; i++) {
                const char *nl = memchr(all.p + off, '\n', all.len - off);
                size_t len = nl ? (size_t)(nl - (all.p + off)) + 1 : all.len - off;
                struct lw_output one = { .off = before, .len = len };
                if (i < nrt) { /* the route, before the buffer below changes */
                    one = state_route(r, &rt[i]);
                    one.off = before;
                }
                r->out.len = before; /* the sink takes a record's outputs out of the buffer */
                lw_buf_add(&r->out, all.p + off, len);
                struct lw_sink_rec rec = { .pos = &nopos,
                                           .raw = { all.p + off, len - 1 },
                                           .start = before,
                                           .outs = &one,
                                           .nouts = 1 };
                nopos.line++;
                put = s->ops->put(s, &rec);
                off += len;
            }
            lw_buf_fini(&all);
            r->out.len = before;
            if (put != 0) return -3;
            if (r->tends && tend(r, d) != 0) return -1;
            continue;
        }
        int w = flush_out(r, d);
        if (w != 0) return w;
    }
}

/* state_step: the record's state operations applied (read order: here, in the loop), the
 * results of the windows they close appended to its outputs; a contribution too late for its
 * window sends the record to the dead-letter path (kind late) as well. */
static int
state_step(struct run *r, struct result *x, struct lw_str raw, const struct lw_recpos *pos,
           struct lw_diag *d)
{
    if (r->state == NULL || x->opslen == 0 || (x->kind != RK_OK && x->kind != RK_DROP)) return 0;
    if (r->kstate && pos->msg != NULL) {
        struct logwash_state *was = r->state;
        int k = lw_kstate_from(r->ks, pos, d); /* the record's partition: its own event time */
        if (was != r->state) logwash_runner_attach_state(r->mw->runner, r->state);
        if (k <= 0) return k;
    }
    struct logwash_buffer b = { r->out.p, r->out.len, r->out.cap };
    size_t nres = 0, before = r->out.len;
    bool late = false;
    char msg[600];
    /* the clock (no --now) is read by the state only when a window runs on processing time */
    int64_t now = r->o->now_text != NULL ? r->o->now_ns : LOGWASH_NOW_CLOCK;
    if (logwash_state_apply(r->state, x->ops, x->opslen, now, &b, &nres, &late, msg, sizeof msg) <
        0) {
        lw_oom(0); /* the program's out-of-memory exit (STYLE §8) */
    }
    r->out = (struct lw_buf){ b.data, b.len, b.cap };
    if (r->kstate && !logwash_state_replay_exact(r->state)) {
        r->out.len = before; /* windows closed early at --max-state: not given */
        lw_diag_setf(d,
                     "--max-state (%zu bytes) reached: windows closed early are not exact "
                     "with Kafka input: stopping, a restart rebuilds them from the committed "
                     "offset (raise --max-state)",
                     r->o->max_state);
        return -1;
    }
    if (r->kstate) r->kwend = logwash_state_last_end(r->state);
    if (r->sinks[0].ops->messages) state_msgs(r);
    x->nemit += (uint32_t)nres;
    x->nbytes += r->out.len - before;
    state_results(r, r->out.len, 0); /* the counters only: apply() counts the outputs */
    if (late) {
        r->n.late++;
        (void)failed(r, pos, raw, "late", NULL, msg); /* not a failure: never an abort */
    }
    /* state_results copied the counters: the state asked again only when there is news */
    if ((r->n.evicted > 0 && !r->evict_said) || (r->n.closed_early > 0 && !r->early_said))
        state_said(r);
    return 0;
}

/* The loop's side of a record whose work is done (by work_one, here or in a worker): what
 * record_done says next. */
static inline __attribute__((always_inline)) int
record_done(struct run *r, const struct result *x0, struct lw_str raw, const struct lw_recpos *pos,
            struct lw_diag *d)
{
    const struct result *x = x0;
    struct result xs;
    if (r->state != NULL) { /* window results join the record's outputs */
        xs = *x0;
        r->kwend = INT64_MIN;
        if (state_step(r, &xs, raw, pos, d) != 0) return STOP_IO;
        x = &xs;
        if (r->kstate) lw_kstate_hold(r->ks, pos, r->kwend);
    }
    int rc = apply(r, raw, pos, x);
    rc = settle(r, rc, raw, pos, d);
    r->cur.npend = r->cur.nhdrs = 0;
    if (rc != -2 && r->tends && tend(r, d) != 0) rc = -2;
    if (rc == -2) return STOP_IO;
    if (r->kstate) {
        lw_kstate_release(r->ks);
        kseen_counts(r);
    }
    int w;
    if ((r->o->unbuffered || r->out.len + r->sinks[0].ext_len >= FLUSH_AT) &&
        (w = flush_out(r, d)) != 0)
        return w == -2 ? STOP_QUIET : STOP_IO; /* EPIPE is a quiet, normal stop */
    if ((r->dl.buf.len >= FLUSH_AT || (r->o->unbuffered && r->dl.buf.len)) && flush_dl(r, d) != 0)
        return STOP_IO;
    if (r->o->from == LW_FROM_KAFKA && (r->n.in & 1023) == 0) {
        stats(r, false);
        if (r->kstate) lw_kstate_idle(r->ks);
    }
    if ((r->n.in & 63) == 0) publish(r, LW_METRICS_TICK);
    return rc != 0 ? STOP_ABORT : GO;
}

/* check_topic: the output sink's bad_to, as the runner asks it (logwash.h check_topic). */
static const char *
check_topic(void *ud, const char *topic, size_t len)
{
    const struct lw_sink_ops *sink = ud;
    return sink->bad_to((struct lw_str){ topic, len });
}

/* work_init: w with a runner of r's template under the options' limits, zone and now; routes
 * kept only for a sink of messages. Returns 0, or -1 with the message in e. */
static int
work_init(struct work *w, struct run *r, const struct logwash_template *t, const struct lw_opts *o,
          struct outs *dst, struct logwash_error *e)
{
    /* the output's sink, as setup opens it (a reload may change it: its runners are made first) */
    const struct lw_sink_ops *sink = lw_sink_find(o->to == LW_TO_KAFKA ? "kafka" : "stdout");
    *w = (struct work){ .o = o, .tname = logwash_template_name(t), .sink = sink, .dst = dst };
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.limits = o->limits;
    ro.input = o->input;
    ro.output = o->output;
    ro.tz = o->tz_name;
    ro.now_ns = o->now_ns;
    /* seen()'s processing time is the clock at each record, unless --now fixes it */
    if (r->state != NULL && o->now_text == NULL) ro.now_ns = LOGWASH_NOW_CLOCK;
    ro.routes = sink->messages;
    ro.check_topic = sink->bad_to ? check_topic : NULL;
    ro.check_topic_ud = (void *)sink;
    w->runner = logwash_runner_new(t, &ro, e);
    if (w->runner != NULL && o->explain > 0 && logwash_runner_set_explain(w->runner, true) != 0) {
        logwash_runner_free(w->runner);
        w->runner = NULL;
        snprintf(e->message, sizeof e->message, "--explain: out of memory");
    }
    if (w->runner != NULL && r->tw != NULL)
        logwash_runner_set_tables(w->runner, lw_tablewatch_set(r->tw));
    /* the loop's runner reads the state (it runs in the loop's thread); a worker's answers
     * seen() from its batch's keys, and the loop checks them when it settles (settle_batch1) */
    w->stateful = r->state != NULL;
    if (w->runner != NULL && r->state != NULL && dst != NULL)
        logwash_runner_attach_state(w->runner, r->state);
    return w->runner ? 0 : -1;
}

static void
work_fini(struct work *w)
{
    logwash_runner_free(w->runner);
}

/* Parallel workers (-j N). The loop reads records into batches (where the source read them when
 * it can keep them there, lw_source_ops.retain; else copies: a source's record lives only until
 * its next call), N threads run the template over whole batches, and the batches are settled in
 * the order read, one at a time (struct pool, settle_ready): outputs, dead letters, messages and
 * counters are exactly those of -j 1, in the same order. A batch ends at BATCH_RECS records or
 * BATCH_BYTES, or when the input is quiet (a pipe waits): nothing waits in a batch for more input.
 * A worker leaves a batch's remaining records to the loop once the batch's output and copies pass
 * its share of BATCH_OUT_ALL, so a batch holds at most that plus one record's --max-output. */
#define BATCH_RECS  1024
#define BATCH_BYTES (256 * 1024)
/* All batches together hold at most BATCH_OUT_ALL of output and copies, each at least
 * BATCH_OUT_MIN and at most BATCH_OUT_MAX (plus the record that passed it) */
#define BATCH_OUT_ALL (64u << 20)
#define BATCH_OUT_MIN (256u << 10)
#define BATCH_OUT_MAX (4u << 20)
#define MAX_JOBS      256
/* The default is one worker per CPU, at most 8: one thread reads, settles and writes for all of
 * them, and past about 8 it is the limit (it does an eighth of the work); -j goes further. */
#define DEFAULT_JOBS_MAX 8

struct brec {
    struct lw_str raw; /* in a block of the source the batch retains, or in the batch's mem */
    struct lw_recpos pos;
    struct result x;
    size_t out_end;    /* its output ends at out[out_end] */
    uint32_t pend_end; /* and its Kafka outputs at outs.pend[pend_end] */
    /* a file's meta, not copied: pos.meta is NULL, brec_meta makes it from pos (the source's
     * name stays: names_stay) and srclen */
    bool fmeta;
    uint32_t srclen;
};

struct batch {
    struct lw_arena mem; /* the records, their positions' and results' strings, routes */
    struct brec *recs;
    uint32_t n, cap;
    size_t bytes;
    const char *name_in, *name; /* the last position name copied, and its copy */
    const void **blks;          /* the source's blocks retained (lw_source retain) */
    uint32_t nblks, capblks;
    struct lw_buf out;
    struct outs outs; /* outs.out is &out */
    uint32_t worked;  /* records the worker did: the loop does the others */
    size_t mem0;      /* mem.total when handed to the worker */
    size_t out_cap;   /* the worker stops past this much output and copies (the pool's) */
    bool done;
};

struct pool;
struct worker {
    struct pool *p;
    pthread_t t;
    struct work w;
};

/* -j N: workers[0] is the loop's thread's own (it runs a batch itself when every thread has one
 * waiting, pool_flush), workers[1..N-1] have a thread each: N threads in all run the template,
 * so -j 2 on 2 CPUs is 2 busy threads, not 3 taking turns. */
struct pool {
    pthread_mutex_t mu;
    pthread_cond_t todo, done;
    uint64_t submitted, settled; /* batch k is b[k % nb] */
    /* the threads' queue: the numbers of the batches submitted to them and not yet taken are
     * q[k % nb] for k in [qhead, qtail) (the loop's thread runs the others itself) */
    uint64_t *q, qhead, qtail;
    bool quit;
    int nthreads, started; /* nthreads: workers[] made (the loop's one too); started: threads */
    uint32_t batch_recs;   /* BATCH_RECS, or $LOGWASH_BATCH (tests: 1 gives every record a batch) */
    struct worker *workers;
    struct batch *b;
    uint32_t nb;
    struct lw_source *src; /* its blocks the batches retain */
    /* Settling: the batches settle in order, one at a time (settling: a thread is at it). With
     * wsettle (output straight to stdout, nothing else to serve between records: wsettle_ok),
     * the thread that finishes a batch settles it and the ones done after it (settle_ready), so
     * its output is written by the thread that made it and the loop's thread only reads; else
     * the loop's thread settles them all. A settle that stops the run leaves st and st_d. */
    struct run *r;
    bool wsettle, settling;
    int st;
    struct lw_diag st_d;
};

static const char *
keep_str(struct lw_arena *a, const char *s)
{
    return s ? lw_arena_dup(a, s, strlen(s) + 1) : NULL;
}

static struct lw_str
keep_lstr(struct lw_arena *a, struct lw_str s)
{
    return (struct lw_str){ s.len ? lw_arena_dup(a, s.p, s.len) : "", s.len };
}

/* keep_meta: a copy of the meta a source made (its strings: b's copy of the position's name
 * for a file, else copied). */
static const struct logwash_meta *
keep_meta(struct batch *b, const struct logwash_meta *m, const char *name_in)
{
    struct logwash_meta *c = lw_arena_alloc(&b->mem, sizeof *c);
    *c = *m;
    if (m->kind == LOGWASH_META_FILE) {
        /* a file's source is its position's name (src_file.c): the copy made of that */
        c->source = m->source == name_in
                        ? b->name
                        : keep_lstr(&b->mem, (struct lw_str){ m->source, m->source_len }).p;
        return c;
    }
    if (m->kind != LOGWASH_META_KAFKA) return c;
    c->topic = keep_lstr(&b->mem, (struct lw_str){ m->topic, m->topic_len }).p;
    c->key = keep_lstr(&b->mem, (struct lw_str){ m->key, m->key_len }).p;
    if (m->nheaders) {
        struct logwash_header *h = lw_arena_alloc(&b->mem, m->nheaders * sizeof *h);
        for (size_t i = 0; i < m->nheaders; i++) {
            const struct logwash_header *x = &m->headers[i];
            h[i] = (struct logwash_header){
                .name = keep_lstr(&b->mem, (struct lw_str){ x->name, x->name_len }).p,
                .name_len = x->name_len,
                .value = x->value ? keep_lstr(&b->mem, (struct lw_str){ x->value, x->value_len }).p
                                  : NULL,
                .value_len = x->value_len
            };
            b->bytes += x->name_len + x->value_len;
        }
        c->headers = h;
    }
    return c;
}

static void batch_release(struct pool *p, struct batch *b);

/* brec_meta: the meta of e's record (made in *m for a file's). */
static inline const struct logwash_meta *
brec_meta(const struct brec *e, struct logwash_meta *m)
{
    if (!e->fmeta) return e->pos.meta;
    *m = (struct logwash_meta){ .kind = LOGWASH_META_FILE,
                                .source = e->pos.name,
                                .source_len = e->srclen,
                                .line = e->pos.line };
    return m;
}

/* batch_add: a record from the source into b: where the source read it when it can keep it
 * there (src->blk, retained once per block and batch), else a copy; its position and meta
 * copied, or kept as they are where they stay valid (names_stay: a file's name, its meta made
 * again by brec_meta). */
static inline __attribute__((always_inline)) void
batch_add(struct pool *p, struct batch *b, struct lw_source *src, struct lw_str raw,
          const struct lw_recpos *pos)
{
    if (b->n == 0 && b->nblks > 0) batch_release(p, b); /* those of its last records */
    GROW(b->recs, b->n, b->cap);
    struct brec *e = &b->recs[b->n++];
    e->raw = raw; /* e->x, out_end and pend_end are the worker's (or settle_batch1's) to set */
    e->pos = *pos;
    e->fmeta = false;
    b->bytes += raw.len + 64;
    const struct logwash_meta *fm = pos->meta;
    if (src->blk != NULL && src->ops->names_stay && pos->why == NULL && pos->msg == NULL &&
        fm != NULL && fm->kind == LOGWASH_META_FILE && fm->source == pos->name &&
        fm->line == pos->line && fm->source_len <= UINT32_MAX) {
        if (b->nblks == 0 || b->blks[b->nblks - 1] != src->blk) {
            GROW(b->blks, b->nblks, b->capblks);
            b->blks[b->nblks++] = src->blk;
            src->ops->retain(src, src->blk);
        }
        e->fmeta = true;
        e->srclen = (uint32_t)fm->source_len;
        e->pos.meta = NULL;
        return;
    }
    e->raw = keep_lstr(&b->mem, raw);
    if (pos->name != b->name_in || (!src->ops->names_stay && strcmp(pos->name, b->name) != 0)) {
        /* a buffer reused */
        b->name_in = pos->name;
        b->name = keep_str(&b->mem, pos->name);
    }
    e->pos.name = b->name;
    e->pos.why = keep_str(&b->mem, pos->why);
    if (pos->meta != NULL) e->pos.meta = keep_meta(b, pos->meta, pos->name);
    if (pos->msg == NULL) return;
    /* a message's position and key: the default key, dead letters' positions */
    const struct lw_msgmeta *m = pos->msg;
    struct lw_msgmeta *c = lw_arena_alloc(&b->mem, sizeof *c);
    *c = *m;
    c->topic = keep_lstr(&b->mem, m->topic);
    c->key = keep_lstr(&b->mem, m->key);
    b->bytes += m->topic.len + m->key.len;
    e->pos.msg = c;
}

/* batch_release: the source's blocks b retained, released: from the loop's thread only (the
 * source's), when it fills b again (batch_add) or at the end. */
static void
batch_release(struct pool *p, struct batch *b)
{
    for (uint32_t i = 0; i < b->nblks; i++)
        p->src->ops->release(p->src, b->blks[i]);
    b->nblks = 0;
}

/* batch_reset: b settled, empty for the next records (its blocks stay retained until
 * batch_release). From the thread that settled it. */
static void
batch_reset(struct batch *b)
{
    lw_arena_reset(&b->mem);
    b->n = b->worked = 0;
    b->bytes = 0;
    b->name_in = b->name = NULL;
    if (b->out.cap > 4 * b->out_cap) { /* after an unusually large output: give it back */
        lw_buf_fini(&b->out);
        lw_buf_init(&b->out);
    }
    b->out.len = 0;
    b->outs.npend = b->outs.nhdrs = 0;
    b->done = false;
}

/* keep_work: the strings of e's result and of the routes of its outputs (from pend index p0)
 * copied into the batch, as the record arena and the runner's buffers are reused; its ends
 * (its output ends at out_end: a chunk's later records may follow it already). */
static void
keep_work(struct batch *b, struct brec *e, uint32_t p0, size_t out_end)
{
    if (e->x.kind != RK_OK && e->x.kind != RK_DROP) {
        e->x.where = keep_str(&b->mem, e->x.where);
        e->x.msg = keep_str(&b->mem, e->x.msg);
    }
    if (e->x.opslen > 0) e->x.ops = lw_arena_dup(&b->mem, e->x.ops, e->x.opslen);
    struct lw_str key_in = { 0 }, key = { 0 }; /* a key repeated in a record is copied once */
    for (uint32_t k = p0; k < b->outs.npend; k++) {
        struct lw_output *pd = &b->outs.pend[k];
        pd->to = keep_lstr(&b->mem, pd->to);
        if (pd->key.p != key_in.p || pd->key.len != key_in.len) {
            key_in = pd->key;
            key = keep_lstr(&b->mem, pd->key);
        }
        pd->key = key;
        for (uint32_t h = pd->h0; h < pd->h0 + pd->nh; h++) {
            b->outs.hdrs[h].name = keep_lstr(&b->mem, b->outs.hdrs[h].name);
            b->outs.hdrs[h].value = keep_lstr(&b->mem, b->outs.hdrs[h].value);
        }
    }
    e->out_end = out_end;
    e->pend_end = b->outs.npend;
}

/* RUN_CHUNK: records given to logwash_run_batch at a time (its set-up is paid once for them). */
#define RUN_CHUNK 64

/* work_batch: a worker's run over a batch, RUN_CHUNK records per logwash_run_batch: each
 * record's result and the strings its outputs' routes use are copied into the batch (the
 * record arena is reset after each record). It stops before a record once the batch's output
 * and copies reach out_cap (logwash_run_batch's max_len inside a chunk: the copies grow only
 * after a chunk's last record). */
static void
work_batch(struct work *w, struct batch *b)
{
    w->dst = &b->outs;
    uint32_t i = 0;
    if (w->stateful) {
        /* seen() and windows: each record's state operations are read right after it, which
         * logwash_run_batch does not allow: one record at a time */
        logwash_runner_state_forget(w->runner); /* the keys of records before this batch */
        while (i < b->n && b->out.len + (b->mem.total - b->mem0) < b->out_cap) {
            struct brec *e = &b->recs[i];
            uint32_t p0 = b->outs.npend;
            struct lw_recpos pos = e->pos;
            struct logwash_meta m;
            pos.meta = brec_meta(e, &m);
            work_one(w, e->raw, &pos, &e->x);
            keep_work(b, e, p0, b->out.len);
            b->worked = ++i;
        }
        return;
    }
    struct logwash_record recs[RUN_CHUNK];
    struct logwash_record_result res[RUN_CHUNK];
    struct logwash_meta metas[RUN_CHUNK]; /* files' (brec_meta): only 4 members vary */
    memset(metas, 0, sizeof metas);
    while (i < b->n && b->out.len + (b->mem.total - b->mem0) < b->out_cap) {
        struct brec *e = &b->recs[i];
        uint32_t p0 = b->outs.npend;
        if (e->pos.too_long) {
            too_long(w, &e->pos, &e->x);
            keep_work(b, e, p0, b->out.len);
            b->worked = ++i;
            continue;
        }
        uint32_t k = 0;
        for (; k < RUN_CHUNK && i + k < b->n && !b->recs[i + k].pos.too_long; k++) {
            const struct brec *f = &b->recs[i + k];
            const struct logwash_meta *m = f->pos.meta;
            if (f->fmeta) {
                m = &metas[k];
                metas[k].kind = LOGWASH_META_FILE;
                metas[k].source = f->pos.name;
                metas[k].source_len = f->srclen;
                metas[k].line = f->pos.line;
            }
            recs[k] = (struct logwash_record){ f->raw.p, f->raw.len, m };
        }
        size_t start = b->out.len;
        struct logwash_buffer out = { b->out.p, b->out.len, b->out.cap };
        size_t max_len = b->out_cap - (b->mem.total - b->mem0);
        size_t ran = logwash_run_batch(w->runner, recs, k, &out, max_len, res);
        b->out = (struct lw_buf){ out.data, out.len, out.cap };
        for (size_t j = 0; j < ran; j++, i++) {
            e = &b->recs[i];
            e->x = (struct result){ .kind = RK_UNDECODABLE, .msg = w->err };
            conclude(w, res[j].result, res[j].outputs, res[j].emitted, res[j].end - start, &e->x);
            start = res[j].end;
            if ((e->x.kind == RK_OK || e->x.kind == RK_DROP) && e->x.opslen == 0 &&
                b->outs.npend == p0) { /* nothing to copy (keep_work) */
                e->out_end = res[j].end;
                e->pend_end = p0;
            } else {
                keep_work(b, e, p0, res[j].end);
            }
            p0 = b->outs.npend;
            b->worked = i + 1;
        }
        if (ran > 0) { /* the chunk's steps, on its last record: only their sum is counted */
            uint64_t steps = logwash_runner_steps(w->runner);
            b->recs[i - 1].x.steps = steps - w->steps;
            w->steps = steps;
        }
    }
}

/* SPIN_NS: how long a thread with no batch waits awake for the next one before it sleeps: about
 * the time the loop takes to read a batch. A sleeping thread costs a futex wake-up to wake, and
 * its idle CPU (in a virtual machine, a halted one) more. */
#define SPIN_NS 100000
/* QUEUE_PER_THREAD: batches waiting for each thread before the loop's thread runs one itself.
 * With 1, a thread often found the queue empty (the loop's thread busy with its own batch, the
 * one batch queued taken as soon as the thread woke) and slept: W3 with -j 2 on an idle
 * machine, the worker thread asleep 330-400 ms of a 0.7-0.8 s run; with 2, 5-15 ms and 0.38 s. */
#define QUEUE_PER_THREAD 2

static void
spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* spin: with p->mu held and no batch queued, wait awake (p->mu released) up to SPIN_NS for one
 * or the end. qtail and quit are written atomically (under p->mu) for this read. */
static void
spin(struct pool *p)
{
    uint64_t tail = p->qtail;
    pthread_mutex_unlock(&p->mu);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 1;; i++) {
        if (__atomic_load_n(&p->qtail, __ATOMIC_ACQUIRE) != tail ||
            __atomic_load_n(&p->quit, __ATOMIC_ACQUIRE))
            break;
        spin_pause();
        if (i % 64 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > SPIN_NS) break;
        }
    }
    pthread_mutex_lock(&p->mu);
}

static void settle_ready(struct pool *p);

static void *
worker(void *arg)
{
    struct worker *wk = arg;
    struct pool *p = wk->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        bool spun = false;
        while (!p->quit && p->qhead == p->qtail) {
            if (!spun) {
                spin(p);
                spun = true;
            } else {
                pthread_cond_wait(&p->todo, &p->mu);
            }
        }
        if (p->qhead == p->qtail) break;
        struct batch *b = &p->b[p->q[p->qhead++ % p->nb] % p->nb];
        pthread_mutex_unlock(&p->mu);
        work_batch(&wk->w, b);
        pthread_mutex_lock(&p->mu);
        b->done = true;
        if (p->wsettle) settle_ready(p);
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ext_keep: the batch output still waiting as the sink's ext goes into the output buffer (the
 * loop writes there next, or b is about to be reused): b's buffer itself when the output buffer
 * is empty and ext begins b's output (the two swap), else a copy. */
static void
ext_keep(struct run *r, struct batch *b)
{
    struct lw_sink *s = &r->sinks[0];
    if (s->ext_len == 0) return;
    if (r->out.len == 0 && s->ext == b->out.p) {
        struct lw_buf t = r->out;
        r->out = b->out;
        b->out = t;
        r->out.len = s->ext_len;
    } else {
        lw_buf_add(&r->out, s->ext, s->ext_len);
    }
    s->ext_len = 0;
}

/* settle_batch: the loop's side of batch b's records, in order, stopping at a stop request. The
 * records the worker did have their output and routes copied into the loop's buffers; or, when
 * the output goes straight to stdout (no acknowledgements, no routes, not --unbuffered), their
 * output stays in the batch as the sink's ext, which its write writes after the output buffer at
 * the very records where -j 1 would write (so stdout and stderr interleave alike). The loop runs
 * the records the worker left itself (mw). */
static int settle_batch1(struct run *r, struct work *mw, struct batch *b, struct lw_diag *d);

static int
settle_batch(struct run *r, struct work *mw, struct batch *b, struct lw_diag *d)
{
    r->settling++;
    int st = settle_batch1(r, mw, b, d);
    r->settling--;
    return st;
}

/* settle_run: with direct output, the records from i of those the worker did that ran to their
 * end (RK_OK, RK_DROP), settled at once up to the first where -j 1 writes or publishes (or
 * before the first failed one): their counters added, their output made the sink's ext, and
 * the write where record_done would write. A byte-stream sink's put has nothing to do for them
 * (no acknowledgements: host.hold is NULL; sink.h). Sets *next to the record after them (i:
 * none). Returns GO or how to stop. */
static int
settle_run(struct run *r, struct batch *b, uint32_t i, size_t *o0, uint32_t *next,
           struct lw_diag *d)
{
    /* publish() runs when r->n.in reaches a multiple of 64, as after each record of -j 1 */
    uint32_t lim = i + (uint32_t)(64 - (r->n.in & 63));
    if (lim > b->worked) lim = b->worked;
    uint64_t in = 0, bytes_in = 0, steps = 0, emitted = 0, bytes_out = 0, dropped = 0;
    /* the out_end from which -j 1 writes after the record (out.len + ext_len >= FLUSH_AT) */
    size_t room = r->out.len < FLUSH_AT ? FLUSH_AT - r->out.len + *o0 : *o0;
    bool full = false;
    uint32_t j = i;
    for (; j < lim; j++) {
        const struct brec *e = &b->recs[j];
        if (e->x.kind != RK_OK && e->x.kind != RK_DROP) break;
        in++;
        bytes_in += e->raw.len;
        steps += e->x.steps;
        emitted += e->x.nemit;
        bytes_out += e->x.nbytes;
        dropped += e->x.kind == RK_DROP;
        if (e->out_end >= room) {
            full = true;
            j++;
            break;
        }
    }
    *next = j;
    if (j == i) return GO;
    const struct brec *e = &b->recs[j - 1];
    r->n.in += in;
    r->n.bytes_in += bytes_in;
    r->n.vm_steps += steps;
    r->n.emitted += emitted;
    r->n.bytes_out += bytes_out;
    r->n.dropped += dropped;
    r->pos = &e->pos;
    r->rec_start = r->out.len;
    r->sinks[0].ext = b->out.p + *o0;
    r->sinks[0].ext_len = e->out_end - *o0;
    int w;
    if (full && (w = flush_out(r, d)) != 0) return w == -2 ? STOP_QUIET : STOP_IO;
    if (r->sinks[0].ext_len == 0) *o0 = e->out_end; /* the sink's write wrote it */
    if ((r->n.in & 63) == 0) publish(r, LW_METRICS_TICK);
    return GO;
}

static int
settle_batch1(struct run *r, struct work *mw, struct batch *b, struct lw_diag *d)
{
    /* with state, window results follow a record's outputs in the output buffer: no ext */
    bool direct = !r->acking && !r->sinks[0].ops->messages && !r->o->unbuffered && !r->state;
    /* and nothing to do between two records but count them and write (settle_run) */
    bool runs = direct && r->host.hold == NULL && !r->tends && r->o->from != LW_FROM_KAFKA;
    size_t o0 = 0; /* b's output before o0 is written or moved */
    uint32_t p0 = 0;
    int st = GO;
    for (uint32_t i = 0; i < b->n && st == GO; i++) {
        if (stopping(r)) { /* as -j 1: nothing after the record being settled */
            st = STOP_ASKED;
            break;
        }
        if (runs && i < b->worked) {
            uint32_t next;
            st = settle_run(r, b, i, &o0, &next, d);
            if (next > i) {
                i = next - 1;
                continue;
            }
        }
        struct brec *e = &b->recs[i];
        struct result x;
        if (i >= b->worked) ext_keep(r, b); /* its output follows what waits */
        r->rec_start = r->out.len;
        /* a seen() answer of the worker's that the state contradicts (a key of an earlier
         * batch): the loop runs the record again, attached to the state, as -j 1 would */
        bool again = i < b->worked && r->state != NULL && r->seen_used &&
                     e->x.kind != RK_UNDECODABLE &&
                     logwash_state_wrong(r->state, e->x.ops, e->x.opslen);
        if (i >= b->worked || again) {
            struct lw_recpos pos = e->pos;
            struct logwash_meta m;
            pos.meta = brec_meta(e, &m);
            work_one(mw, e->raw, &pos, &x);
            if (again) {
                r->reruns++;
                o0 = e->out_end;
                p0 = e->pend_end;
            }
        } else if (direct) {
            x = e->x;
            r->sinks[0].ext = b->out.p + o0;
            r->sinks[0].ext_len = e->out_end - o0;
        } else {
            x = e->x;
            lw_buf_add(&r->out, b->out.p + o0, e->out_end - o0);
            for (uint32_t k = p0; k < e->pend_end; k++) {
                struct lw_output pd = b->outs.pend[k];
                pd.off = pd.off - o0 + r->rec_start;
                uint32_t h0 = pd.h0;
                pd.h0 = r->cur.nhdrs;
                for (uint32_t h = h0; h < h0 + pd.nh; h++) {
                    GROW(r->cur.hdrs, r->cur.nhdrs, r->cur.caphdrs);
                    r->cur.hdrs[r->cur.nhdrs++] = b->outs.hdrs[h];
                }
                GROW(r->cur.pend, r->cur.npend, r->cur.cappend);
                r->cur.pend[r->cur.npend++] = pd;
            }
            o0 = e->out_end;
            p0 = e->pend_end;
        }
        st = record_done(r, &x, e->raw, &e->pos, d);
        if (i < b->worked && direct && r->sinks[0].ext_len == 0)
            o0 = e->out_end; /* the sink's write wrote it */
    }
    ext_keep(r, b);
    return st;
}

static void
pool_init(struct pool *p, struct run *r, int n)
{
    /* room for every thread's batch and QUEUE_PER_THREAD waiting each, the loop's thread's,
     * the one being filled, and batches done waiting for an older one */
    *p = (struct pool){
        .nthreads = n, .nb = (uint32_t)n * 3 + 2, .batch_recs = BATCH_RECS, .src = &r->src, .r = r
    };
    const char *env = getenv("LOGWASH_BATCH");
    if (env && atoi(env) > 0 && atoi(env) < BATCH_RECS) p->batch_recs = (uint32_t)atoi(env);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->todo, NULL);
    pthread_cond_init(&p->done, NULL);
    p->b = lw_xcalloc(p->nb, sizeof *p->b);
    p->q = lw_xcalloc(p->nb, sizeof *p->q);
    size_t cap = BATCH_OUT_ALL / p->nb;
    cap = cap < BATCH_OUT_MIN ? BATCH_OUT_MIN : cap > BATCH_OUT_MAX ? BATCH_OUT_MAX : cap;
    for (uint32_t i = 0; i < p->nb; i++) {
        lw_arena_init(&p->b[i].mem, 256 * 1024);
        lw_buf_init(&p->b[i].out);
        p->b[i].outs.out = &p->b[i].out;
        p->b[i].out_cap = cap;
    }
    p->workers = lw_xcalloc((size_t)n, sizeof *p->workers);
    for (int i = 0; i < n; i++) {
        p->workers[i].p = p;
        struct logwash_error e;
        if (work_init(&p->workers[i].w, r, r->t, r->o, NULL, &e) != 0) {
            /* the loop's own runner was made alike: only memory can be short here; fewer
             * workers still do every batch (none: the loop does them) */
            p->nthreads = i;
            break;
        }
    }
}

/* pool_start: the threads, on the first batch that fills (a short input never starts them).
 * They block every signal: the loop's thread takes them. */
static void
pool_start(struct pool *p)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int i = 1; i < p->nthreads; i++) {
        if (pthread_create(&p->workers[i].t, NULL, worker, &p->workers[i]) != 0)
            break; /* fewer threads: the batches still get done */
        p->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
pool_fini(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->quit, true, __ATOMIC_RELEASE); /* spin reads it */
    p->qhead = p->qtail; /* after a stop: batches not begun are not needed */
    pthread_cond_broadcast(&p->todo);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->started; i++)
        pthread_join(p->workers[i].t, NULL);
    for (int i = 0; i < p->nthreads; i++)
        work_fini(&p->workers[i].w);
    for (uint32_t i = 0; i < p->nb; i++) {
        batch_release(p, &p->b[i]); /* a stop leaves batches unsettled: released too */
        free(p->b[i].blks);
        lw_arena_fini(&p->b[i].mem);
        lw_buf_fini(&p->b[i].out);
        free(p->b[i].recs);
        free(p->b[i].outs.pend);
        free(p->b[i].outs.hdrs);
    }
    free(p->b);
    free(p->q);
    free(p->workers);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->todo);
    pthread_cond_destroy(&p->done);
}

/* steal: called with p->mu held, when the loop's thread would wait: the oldest batch no thread
 * has taken yet, run by the loop's thread (p->mu is released meanwhile). False: none. */
static bool
steal(struct pool *p)
{
    if (p->qhead == p->qtail) return false;
    struct batch *b = &p->b[p->q[p->qhead++ % p->nb] % p->nb];
    pthread_mutex_unlock(&p->mu);
    work_batch(&p->workers[0].w, b);
    pthread_mutex_lock(&p->mu);
    b->done = true;
    return true;
}

/* settle_ready: with p->mu held, settle the oldest batches that are done, in order, unless a
 * thread is settling or the settling stopped (p->mu released meanwhile). The records a worker
 * left are run by the loop's work (r->mw), which only the settling thread uses. */
static void
settle_ready(struct pool *p)
{
    while (!p->settling && p->st == GO && p->settled < p->submitted) {
        struct batch *b = &p->b[p->settled % p->nb];
        if (!b->done) break;
        p->settling = true;
        pthread_mutex_unlock(&p->mu);
        int st = settle_batch(p->r, p->r->mw, b, &p->st_d);
        batch_reset(b);
        pthread_mutex_lock(&p->mu);
        p->settled++;
        p->settling = false;
        p->st = st;
        pthread_cond_broadcast(&p->done);
    }
}

/* pool_settle: settle the batches done, oldest first; with all, wait for every one submitted,
 * else only until a batch is free to fill. Instead of waiting, the loop's thread runs the
 * batches no thread has taken yet (steal). Returns GO or how to stop (d set). */
static int
pool_settle(struct pool *p, bool all, struct lw_diag *d)
{
    pthread_mutex_lock(&p->mu);
    for (;;) {
        settle_ready(p);
        if (p->st != GO) break;
        bool must = all ? p->settled < p->submitted : p->submitted - p->settled == p->nb;
        if (!must) break;
        if (!steal(p)) pthread_cond_wait(&p->done, &p->mu);
    }
    int st = p->st;
    if (st != GO) *d = p->st_d;
    pthread_mutex_unlock(&p->mu);
    return st;
}

/* pool_quiet: the run stops: no batch is settled any more, and none is being settled when it
 * returns (the loop's thread finishes the run alone). */
static void
pool_quiet(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->settling)
        pthread_cond_wait(&p->done, &p->mu);
    if (p->st == GO) p->st = STOP_ASKED;
    pthread_mutex_unlock(&p->mu);
}

/* wsettle_ok: may the workers settle batches (struct pool)? When settle_run takes the records
 * (nothing but counting and writing between them) and nothing else reads what settling
 * changes while the loop reads (metrics snapshots, tables). */
static bool
wsettle_ok(const struct run *r)
{
    return !r->acking && !r->sinks[0].ops->messages && !r->o->unbuffered && !r->state &&
           r->host.hold == NULL && !r->tends && r->o->from != LW_FROM_KAFKA && r->metrics == NULL &&
           r->tw == NULL && r->nsinks == 1;
}

/* pool_flush: the batch being filled: to the workers when they run, else (a short input, or a
 * quiet pipe before any batch filled) done by the loop itself. */
static int
pool_flush(struct pool *p, struct run *r, struct work *mw, bool submit, struct lw_diag *d)
{
    struct batch *b = &p->b[p->submitted % p->nb];
    if (b->n == 0) return GO;
    if (!submit && p->started == 0 && p->settled == p->submitted) {
        int st = settle_batch(r, mw, b, d);
        batch_reset(b);
        return st;
    }
    if (p->started == 0) pool_start(p);
    if (p->started == 0) { /* no thread could be made: the loop does it */
        int st = settle_batch(r, mw, b, d);
        batch_reset(b);
        return st;
    }
    b->mem0 = b->mem.total;
    pthread_mutex_lock(&p->mu);
    /* how the batches settle changes only while none is out (a reload comes after settle_all) */
    if (p->settled == p->submitted) p->wsettle = wsettle_ok(r);
    /* every thread has QUEUE_PER_THREAD batches waiting: the loop's thread runs this one
     * itself, while its records are still in its cache, instead of waiting for a thread */
    bool mine = p->qtail - p->qhead >= (uint64_t)p->started * QUEUE_PER_THREAD;
    if (!mine) {
        p->q[p->qtail % p->nb] = p->submitted;
        __atomic_store_n(&p->qtail, p->qtail + 1, __ATOMIC_RELEASE); /* spin reads it */
        pthread_cond_signal(&p->todo);
    }
    p->submitted++;
    pthread_mutex_unlock(&p->mu);
    if (mine) {
        work_batch(&p->workers[0].w, b);
        pthread_mutex_lock(&p->mu);
        b->done = true;
        pthread_mutex_unlock(&p->mu);
    }
    return GO; /* pool_settle settles it */
}

/* pool_add: a record read, into the batch being filled; a full batch handed out, and the
 * batches done settled (not inlined: the -j 1 loop stays as it was). GO or how to stop. */
static __attribute__((noinline)) int
pool_add(struct pool *p, struct run *r, struct lw_str raw, const struct lw_recpos *pos,
         struct lw_diag *d)
{
    struct batch *b = &p->b[p->submitted % p->nb];
    batch_add(p, b, &r->src, raw, pos);
    if (b->n < p->batch_recs && b->bytes < BATCH_BYTES) return GO;
    int st = pool_flush(p, r, r->mw, true, d);
    return st == GO ? pool_settle(p, false, d) : st;
}

/* settle_all: every record read so far, settled (-j N: r->pool is set): the batch being filled
 * handed out, then every batch waited for and settled in order. GO or how to stop. */
static int
settle_all(struct run *r, struct lw_diag *d)
{
    int st = pool_flush(r->pool, r, r->mw, false, d);
    return st == GO ? pool_settle(r->pool, true, d) : st;
}

/* tables_poll: a table file changed (lw_tablewatch_poll): every runner switches to the new set
 * between two records. With -j N every batch read so far is settled first, so no worker is in
 * a record; when that settling stopped the run, the runners keep the set they hold (each holds
 * its own, so the old tables stay alive) and the run ends. GO or how to stop. */
static int
tables_poll(struct run *r, struct lw_diag *d)
{
    if (!lw_tablewatch_poll(r->tw, now_ms())) return GO;
    int st = r->pool ? settle_all(r, d) : GO;
    if (st != GO) return st;
    struct logwash_tables *cur = lw_tablewatch_set(r->tw);
    logwash_runner_set_tables(r->mw->runner, cur);
    for (int i = 0; r->pool && i < r->pool->nthreads; i++)
        logwash_runner_set_tables(r->pool->workers[i].w.runner, cur);
    return GO;
}

/* ---- reloads ---- */

static bool
str_same(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
strs_same(char *const *a, int na, char *const *b, int nb)
{
    if (na != nb) return false;
    for (int i = 0; i < na; i++)
        if (!str_same(a[i], b[i])) return false;
    return true;
}

static int jobs(const struct lw_opts *o);

/* The stages a reload opens again (changed's *reopen). */
enum { REOPEN_NONE, REOPEN_SINKS, REOPEN_ALL };

/* changed: NULL when a run of o and t may take over from this one, else what differs: those
 * need a restart. The template, the limits, --on-error, the formats, --tz, --now, -v/-q,
 * --patterns and --lib may change, and so may the sinks' settings (*reopen: REOPEN_SINKS) and
 * a Kafka source's (the brokers, group, topics, properties...: REOPEN_ALL, the source and sinks
 * opened again; so too for a Kafka source whose sinks changed, whose offsets the sinks' deliveries
 * store). A file source is never opened again (it would read its input again). */
static const char *
changed(const struct run *r, const struct lw_opts *o, const struct logwash_template *t, int *reopen,
        const char **opt)
{
    struct lw_stage_conf c;
    conf_of(t, o, &c);
    const struct lw_stage_conf *k = &r->conf;
    const struct lw_opts *o0 = r->o0;
    bool kafka = o0->from == LW_FROM_KAFKA;
    *reopen = REOPEN_NONE;
    *opt = NULL; /* the option of the job-file key that changed, for its position (key_at) */
    /* seen() keys and open windows belong to the template that made them */
    if (logwash_template_uses_state(t) || logwash_template_uses_state(r->t))
        return *opt = "--file=", "a template with seen() or window statements";
    if (o->from != o0->from) return *opt = "--from=", "the source's type";
    if (!strs_same(c.inputs, c.ninputs, k->inputs, k->ninputs)) return "the input files";
    if (!str_same(c.ml_start, k->ml_start) || !str_same(c.ml_continue, k->ml_continue) ||
        c.ml_indent != k->ml_indent || c.ml_max_lines != k->ml_max_lines ||
        c.ml_max_bytes != k->ml_max_bytes || c.ml_timeout_ms != k->ml_timeout_ms ||
        ((c.ml_start || c.ml_continue) &&
         (c.match_limit != k->match_limit || c.depth_limit != k->depth_limit || c.jit != k->jit)))
        return *opt = "--multiline-", "the multiline framing";
    if (c.max_line != k->max_line && !kafka) return *opt = "--max-line=", "max_line";
    bool dl = !str_same(c.dl_file, k->dl_file) || !str_same(c.dl_topic, k->dl_topic);
    /* -j N to M in place (reload: the pool made again); from or to one worker, the loop has
     * no pool or would need one */
    int nj = jobs(o);
    if (nj != r->njobs && (nj == 1 || r->njobs == 1))
        return *opt = "--jobs=", "the number of workers (to or from 1)";
    if (!str_same(o->metrics_listen, o0->metrics_listen) ||
        !str_same(o->metrics_file, o0->metrics_file) ||
        o->metrics_interval_ms != o0->metrics_interval_ms ||
        o->metrics_reload != o0->metrics_reload)
        return *opt = "--metrics-", "the metrics settings";
    bool kafka_out = o->to == LW_TO_KAFKA || o0->to == LW_TO_KAFKA || c.dl_topic != NULL;
    if (kafka &&
        (c.max_line != k->max_line || !str_same(c.group, k->group) ||
         !strs_same(c.topics, c.ntopics, k->topics, k->ntopics) || c.exit_at_eof != k->exit_at_eof))
        *reopen = REOPEN_ALL;
    bool brokers =
        !str_same(c.brokers, k->brokers) || !strs_same(c.props, c.nprops, k->props, k->nprops);
    if (brokers && kafka) *reopen = REOPEN_ALL;
    if (o->to != o0->to || !str_same(c.out_topic, k->out_topic) ||
        c.flush_timeout_ms != k->flush_timeout_ms || (brokers && kafka_out) || dl)
        *reopen = kafka ? REOPEN_ALL : REOPEN_SINKS;
    return NULL;
}

/* tables_same: whether a and b load the same tables (reload: else a new set is loaded). */
static bool
tables_same(const struct lw_opts *a, const struct lw_opts *b)
{
    if (a->ntables != b->ntables || a->max_state != b->max_state) return false;
    for (int i = 0; i < a->ntables; i++) {
        const struct lw_table_spec *x = &a->tables[i], *y = &b->tables[i];
        if (!str_same(x->name, y->name) || !str_same(x->path, y->path) || x->format != y->format ||
            x->ip != y->ip || x->last_wins != y->last_wins || !str_same(x->key, y->key))
            return false;
    }
    return true;
}

/* key_at: "FILE:LINE:COL: " of the job-file key that stands for the option beginning with
 * prefix (e.g. "--jobs="), or "" when the job file has none (the command line's, or removed). */
static const char *
key_at(const struct lw_opts *o, const char *prefix, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int i = o->config.nargs - 1; prefix != NULL && i >= 0; i--) {
        if (strncmp(o->config.args[i].text, prefix, strlen(prefix)) != 0) continue;
        snprintf(buf, cap, "%s:%d:%d: ", o->config_file, o->config.args[i].line,
                 o->config.args[i].col);
        break;
    }
    return buf;
}

static void say(void *ud);

/* reopen: a reload changed the stages' settings (changed: how): everything put so far is
 * delivered (Kafka: each record's offset stored from its outputs' delivery reports) and the
 * dead letters written, the sinks closed (and with REOPEN_ALL the source: its offsets
 * committed, the group left), then opened again from no and nt. The dead-letter file stays
 * open. Returns GO, or STOP_IO (d set): the run ends (a pipeline of pipelines: is restarted). */
static int
reopen(struct run *r, const struct lw_opts *no, const struct logwash_template *nt, int how,
       struct lw_diag *d)
{
    for (int i = 0; i < r->nsinks; i++) {
        struct lw_sink *s = &r->sinks[i];
        if (s->ops->finish && s->ops->finish(s, d) != 0) {
            io_at(r, i == 0 ? LW_IO_SINK : LW_IO_DEAD_LETTER);
            return STOP_IO;
        }
    }
    if (flush_dl(r, d) != 0) return STOP_IO;
    if (how == REOPEN_ALL) {
        r->src_closed = true;
        if (r->src.ops->close(&r->src, d) != 0) {
            io_at(r, LW_IO_SOURCE);
            return STOP_IO;
        }
    }
    uint64_t delivered = 0, undelivered = 0;
    bool lost = false;
    for (int i = 0; i < r->nsinks; i++) {
        struct lw_sink *s = &r->sinks[i];
        delivered += s->delivered;
        undelivered += s->undelivered;
        lost |= s->lost;
        s->ops->close(s);
    }
    r->nsinks = 0;
    r->tends = false;
    uint64_t letters = r->dl.letters;
    /* the dead letters: a topic is made again with its sink; a file that changed is closed
     * (its letters all written) and the new one opened; one that did not stays open */
    bool keep_file =
        r->has_dl && r->dl.sink == NULL && str_same(r->o0->dead_letter, no->dead_letter);
    if (r->has_dl && !keep_file) {
        int c = r->dl.sink == NULL ? lw_dlpath_close(&r->dl, d) : 0;
        lw_dlpath_fini(&r->dl);
        r->dl = (struct lw_dlpath){ 0 };
        r->has_dl = false;
        if (c != 0) {
            io_at(r, LW_IO_DEAD_LETTER);
            return STOP_IO;
        }
    }
    r->has_dl = keep_file;
    if (no->dead_letter != NULL && !keep_file && open_dl_file(r, no, d) != 0) {
        io_at(r, LW_IO_DEAD_LETTER);
        return STOP_IO;
    }
    conf_of(nt, no, &r->conf);
    if (open_sinks(r, no, d) != 0) { /* the run ends without sinks (flush_out, finish) */
        io_at(r, r->nsinks > 1 ? LW_IO_DEAD_LETTER : LW_IO_SINK);
        for (int i = 0; i < r->nsinks; i++)
            r->sinks[i].ops->close(&r->sinks[i]);
        r->nsinks = 0;
        return STOP_IO;
    }
    r->dl.letters = letters;
    r->sinks[0].delivered = delivered; /* the figures go on (metrics: counters) */
    r->sinks[0].undelivered = undelivered;
    r->sinks[0].lost = lost;
    if (how == REOPEN_ALL) {
        r->src = (struct lw_source){
            .ops = r->src.ops, .drain = drain, .say = r->pool ? say : NULL, .ud = r
        };
        if (r->src.ops->open(&r->src, &r->conf, d) != 0) {
            io_at(r, LW_IO_SOURCE);
            return STOP_IO;
        }
        r->src_closed = false;
    }
    return GO;
}

/* reload_end: count and report an attempt (request number gen). */
static void
reload_end(struct run *r, unsigned long gen, bool ok, const char *why)
{
    r->n.reloads++;
    if (!ok) r->n.reload_failures++;
    r->n.reload_last_ok = ok;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r->n.reload_last_s = (uint64_t)ts.tv_sec;
    if (r->metrics == NULL) return;
    publish(r, LW_METRICS_END);
    lw_metrics_reloaded(r->metrics, gen, ok, why);
}

/* asked: the number of the last reload request for this run (struct lw_reloader.asked). */
static unsigned long
asked(const struct run *r)
{
    return r->rl->asked ? r->rl->asked(r->rl->ud) : lw_pipeline_reload_asked();
}

/* retire: keep o and t to the end of the run (retired). */
static void
retire(struct run *r, const struct lw_opts *o, const struct logwash_template *t)
{
    r->retired = lw_xrealloc(r->retired, (size_t)(r->nretired + 1) * sizeof *r->retired);
    r->retired[r->nretired++] =
        (struct retired){ (struct lw_opts *)o, (struct logwash_template *)t };
}

/* reload: serve the reload requests made so far: load the job again (r->rl), check what
 * changed, make every new runner, then settle what was read with the old ones, open the
 * stages again when their settings changed (reopen), and swap the runners between two
 * records. Anything wrong before the settling leaves the run as it was. Returns GO or how to
 * stop (the settling or the reopening stopped, or the pipeline was removed: STOP_ASKED). */
static int
reload(struct run *r, struct lw_diag *d)
{
    unsigned long gen = asked(r);
    r->reload_seen = gen;
    struct lw_opts *no;
    struct logwash_template *nt;
    char why[512];
    int lr = r->rl->load(r->rl->ud, &no, &nt, why, sizeof why);
    if (lr == 1) { /* removed from the job file: ends as at a stop, everything delivered */
        fprintf(stderr, "logwash: %sremoved by the reload: stopping\n", r->who);
        reload_end(r, gen, true, "");
        return STOP_ASKED;
    }
    if (lr != 0) {
        fprintf(stderr, "logwash: %sreload failed: the running configuration is kept\n", r->who);
        reload_end(r, gen, false, why);
        return GO;
    }
    int how;
    const char *opt;
    const char *what = changed(r, no, nt, &how, &opt);
    if (what != NULL) {
        snprintf(why, sizeof why, "%s changed: that needs a restart", what);
        char at[300];
        if (key_at(no, opt, at, sizeof at)[0] != '\0') fprintf(stderr, "%serror: %s\n", at, why);
    } else if (how != REOPEN_NONE && lw_validate(no, stderr) != 0) {
        what = why;
        snprintf(why, sizeof why, "the new %s settings are wrong",
                 how == REOPEN_ALL ? "source or sink" : "sink");
    }
    /* changed tables: the new set loaded whole first (a table that does not load fails the
     * reload), swapped for every runner at the record boundary below */
    bool tw_new = what == NULL && !tables_same(r->o, no);
    struct lw_tablewatch *ntw = NULL, *otw = r->tw;
    if (tw_new && no->ntables > 0) {
        int tbad;
        char terr[700];
        ntw = lw_tablewatch_open(no->tables, no->ntables, no->max_state, no->verbosity, &tbad, terr,
                                 sizeof terr);
        if (ntw == NULL) {
            fprintf(stderr, "logwash: %s%s\n", r->who, terr);
            what = why;
            snprintf(why, sizeof why, "%.*s", (int)strcspn(terr, "\n"), terr);
        }
    }
    if (what != NULL) {
        fprintf(stderr, "logwash: %sreload failed: %s; the running configuration is kept\n", r->who,
                why);
        r->rl->release(r->rl->ud, no, nt);
        reload_end(r, gen, false, why);
        return GO;
    }
    /* every runner first: a failure here leaves the old ones running (made with the new
     * tables: work_init gives each runner r->tw's set, which no worker reads meanwhile) */
    if (tw_new) r->tw = ntw;
    int nw = r->pool ? r->pool->nthreads : 0;
    struct logwash_runner **nr = lw_xcalloc((size_t)nw + 1, sizeof *nr);
    struct work tmp;
    struct logwash_error e;
    int made = 0;
    for (; made <= nw; made++) {
        if (work_init(&tmp, r, nt, no, NULL, &e) != 0) break;
        nr[made] = tmp.runner;
    }
    r->tw = otw;
    if (made <= nw) {
        snprintf(why, sizeof why, "%s", e.message);
        fprintf(stderr, "logwash: %sreload failed: %s; the running configuration is kept\n", r->who,
                why);
        for (int i = 0; i < made; i++)
            logwash_runner_free(nr[i]);
        free(nr);
        lw_tablewatch_free(ntw);
        r->rl->release(r->rl->ud, no, nt);
        reload_end(r, gen, false, why);
        return GO;
    }
    /* what was read so far is the old template's: settled with it (-j N: no worker is in a
     * record after this), its output written. With Kafka, the old template's messages are in
     * the producer already, each holding its record's ticket: they are delivered and their
     * offsets committed as before, whatever template runs next; unless their settings changed,
     * the source and the sinks are not touched, so the connections, the group membership and
     * the assignment stay. */
    int st = r->pool ? settle_all(r, d) : GO;
    if (st == GO) {
        int w = flush_out(r, d);
        if (w != 0) st = w == -2 ? STOP_QUIET : STOP_IO;
    }
    if (st == GO && how != REOPEN_NONE) {
        st = reopen(r, no, nt, how, d);
        if (st != GO) { /* the stages may hold no's settings now: kept to the end */
            fprintf(stderr, "logwash: %sreload: opening the stages again failed: %s\n", r->who,
                    d->msg);
            retire(r, no, nt);
            no = NULL;
        }
    }
    if (st != GO) { /* the run stops: as it was */
        for (int i = 0; i <= nw; i++)
            logwash_runner_free(nr[i]);
        free(nr);
        lw_tablewatch_free(ntw);
        if (no != NULL) r->rl->release(r->rl->ud, no, nt);
        return st;
    }
    const struct lw_sink_ops *sink = tmp.sink;
    logwash_runner_free(r->mw->runner);
    r->mw->runner = nr[0];
    r->mw->steps = 0;
    r->mw->o = no;
    r->mw->sink = sink;
    r->mw->tname = logwash_template_name(nt);
    for (int i = 0; i < nw; i++) {
        struct work *w = &r->pool->workers[i].w;
        logwash_runner_free(w->runner);
        w->runner = nr[i + 1];
        w->steps = 0;
        w->o = no;
        w->sink = sink;
        w->tname = r->mw->tname;
    }
    free(nr);
    if (tw_new) { /* no runner holds the old set now */
        lw_tablewatch_free(r->tw);
        r->tw = ntw;
    }
    /* the old configuration: given back, unless the stages were opened with it (r->o0) */
    if (how != REOPEN_NONE) {
        if (r->loaded && r->o != r->o0)
            r->rl->release(r->rl->ud, (struct lw_opts *)r->o, (struct logwash_template *)r->t);
        if (r->o0_loaded) retire(r, r->o0, r->t0);
        r->o0 = no;
        r->t0 = nt;
        r->o0_loaded = true;
    } else if (r->loaded && r->o != r->o0) {
        r->rl->release(r->rl->ud, (struct lw_opts *)r->o, (struct logwash_template *)r->t);
    }
    r->t = nt;
    r->o = no;
    r->loaded = true;
    int nj = jobs(no);
    char wk[40] = "";
    if (r->pool != NULL && nj != r->njobs) { /* every batch settled above: no worker is busy */
        pool_fini(r->pool);
        pool_init(r->pool, r, nj); /* the workers' runners made from r->t and r->o */
        r->njobs = nj;
        snprintf(wk, sizeof wk, "; %d workers", nj);
    }
    if (no->verbosity >= 0)
        fprintf(stderr, "logwash: %sreloaded %s (template %s%s%s%s)\n", r->who,
                no->config_file ? no->config_file : "the command line", r->mw->tname,
                how == REOPEN_ALL     ? "; source and sinks opened again"
                : how == REOPEN_SINKS ? "; sinks opened again"
                                      : "",
                tw_new ? "; tables loaded again" : "", wk);
    reload_end(r, gen, true, "");
    return GO;
}

/* jobs: the number of workers: -j, else one per CPU (at most DEFAULT_JOBS_MAX) for files, pipes
 * and Kafka, one for a terminal (interactive: nothing to gain). */
static int
jobs(const struct lw_opts *o)
{
    if (o->explain > 0) return 1; /* explanations in the loop's runner, in order */
    if (o->jobs > 0) return o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs;
    bool tty = false;
    if (o->ninputs == 0) tty = isatty(0);
    for (int i = 0; i < o->ninputs; i++)
        if (strcmp(o->inputs[i], "-") == 0) tty |= isatty(0);
    if (tty) return 1;
    /* the CPUs this process may run on (taskset, a container's cpuset), not the machine's */
    cpu_set_t set;
    long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                         : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > DEFAULT_JOBS_MAX ? DEFAULT_JOBS_MAX : (int)n;
}

/* say: the source is about to write a message: settle every batch read so far first, so the
 * messages keep the order of -j 1. How that ended is kept for the loop (r->said). */
static void
say(void *ud)
{
    struct run *r = ud;
    if (r->pool == NULL || r->said != GO) return;
    r->said = settle_all(r, &r->said_d);
}

int
lw_pipeline_run(const struct logwash_template *t, const struct lw_opts *o, struct lw_counters *cnt,
                struct lw_metrics_pipe *metrics, const struct lw_reloader *reloader)
{
    struct run r = { .t = t, .o = o, .o0 = o, .t0 = t, .metrics = metrics, .rl = reloader };
    if (cnt != NULL && o->pipeline != NULL) r.n = *cnt; /* a restart: the series go on */
    r.n.io_stage = LW_IO_NONE;
    if (cnt != NULL) cnt->io_stage = LW_IO_NONE;
    if (o->pipeline != NULL) snprintf(r.who, sizeof r.who, "pipeline %s: ", o->pipeline);
    r.n.reload_last_ok = r.n.reloads ? r.n.reload_last_ok : 1;
    r.reload_seen = reloader ? asked(&r) : 0;
    struct lw_diag d = { 0 };
    struct work mw;
    int status = 0;

    signal(SIGPIPE, SIG_IGN); /* descriptors 0-2 are open: main() saw to it */
    int tbad;
    char terr[700];
    if (o->ntables > 0) {
        r.tw = lw_tablewatch_open(o->tables, o->ntables, o->max_state, o->verbosity, &tbad, terr,
                                  sizeof terr);
        if (r.tw == NULL) {
            fprintf(stderr, "logwash: %s\n", terr);
            return 2;
        }
    }
    if (logwash_template_uses_state(t)) {
        r.state = logwash_state_new(t, o->max_state);
        if (r.state == NULL) lw_oom(sizeof r.state);
        r.seen_used = logwash_template_uses_seen(t); /* a reload keeps a template with state */
        logwash_state_set_output(r.state, o->output);
        /* with Kafka input only what a replay from the committed offsets rebuilds exactly; a
         * window statement's `to` is a constant: checked here as emit ... to is at each emit
         * (each problem said, as --validate says them) */
        if (lw_validate_state(o, r.state, stderr) != 0) {
            logwash_state_free(r.state);
            lw_tablewatch_free(r.tw);
            return 2;
        }
        r.kstate = o->from == LW_FROM_KAFKA; /* exact: lw_validate_state */
    }
    lw_buf_init(&r.out);
    r.cur.out = &r.out;
    int set = setup(&r, o, &d);
    if (set != 0) {
        fprintf(stderr, "logwash: %s%s\n", r.who, d.msg);
        for (int i = 0; i < r.nsinks; i++)
            r.sinks[i].ops->close(&r.sinks[i]);
        lw_dlpath_fini(&r.dl);
        lw_buf_fini(&r.out);
        lw_tablewatch_free(r.tw);
        logwash_state_free(r.state);
        if (cnt != NULL) /* the dead-letter file, or a sink that could not start */
            cnt->io_stage = o->dead_letter && !r.has_dl ? LW_IO_DEAD_LETTER
                            : r.nsinks > 1              ? LW_IO_DEAD_LETTER
                                                        : LW_IO_SINK;
        return (o->dead_letter && !r.has_dl) || set == -2 ? 4 : 2;
    }
    struct logwash_error e;
    if (work_init(&mw, &r, t, o, &r.cur, &e) != 0) {
        fprintf(stderr, "logwash: %s%s\n", r.who, e.message);
        for (int i = 0; i < r.nsinks; i++)
            r.sinks[i].ops->close(&r.sinks[i]);
        lw_dlpath_fini(&r.dl);
        lw_buf_fini(&r.out);
        lw_tablewatch_free(r.tw);
        logwash_state_free(r.state);
        return 2;
    }
    r.mw = &mw;
    if (r.kstate) { /* the source tells the partitions it gets and loses; commits them at once */
        r.ks = lw_kstate_new(&r.src, &r.state, t, o->max_state, o->output, o->partition_idle_ms);
        r.src.parted = parted;
        r.conf.commit_atomic = true;
    }
    int njobs = jobs(o);
    r.njobs = njobs;
    struct pool pool;
    if (njobs > 1) {
        pool_init(&pool, &r, njobs);
        r.pool = &pool;
        r.mw = &mw;
        r.src.say = say;
    }
    r.next_stats = now_ms() + (int64_t)o->stats_ms;

    /* An I/O error stops the stream, but what the records before it produced is still
     * written: the loop only breaks, and the flushes below run in every case. */
    int opened = r.src.ops->open(&r.src, &r.conf, &d);
    bool io_failed = opened != 0;
    if (io_failed) io_at(&r, LW_IO_SOURCE);
    bool streaming = o->from == LW_FROM_KAFKA;
    int st = GO;
    while (!io_failed && !stopping(&r)) {
        struct lw_str raw;
        struct lw_recpos pos;
        if (r.rl != NULL && asked(&r) != r.reload_seen && (st = reload(&r, &d)) != GO) break;
        int got = r.src.ops->next(&r.src, &raw, &pos, &d);
        if (r.said != GO) { /* the batches settled for a message of the source stopped there */
            st = r.said;
            if (st == STOP_IO) d = r.said_d;
            break;
        }
        if (got < 0) {
            io_at(&r, LW_IO_SOURCE);
            io_failed = true;
            break;
        }
        if (got == 0) break;
        if (r.tw != NULL && (st = tables_poll(&r, &d)) != GO) break;
        if (got == 2) { /* a quiet moment: write what waits, serve delivery reports */
            if (njobs > 1) {
                st = settle_all(&r, &d);
                if (st != GO) break;
            }
            /* processing-time windows end while the input is quiet */
            int w = r.state != NULL && !r.kstate ? state_close(&r, state_now(&r), &d) : 0;
            if (w == 0) w = flush_out(&r, &d);
            if (w != 0) {
                io_failed = w == -1;
                if (w == -3) st = STOP_ABORT; /* as a record's put saying stop */
                break;
            }
            for (int i = 0; i < r.nsinks; i++)
                if (r.sinks[i].ops->poll) r.sinks[i].ops->poll(&r.sinks[i]);
            if (r.kstate) {
                lw_kstate_release(r.ks);
                kseen_counts(&r);
                lw_kstate_idle(r.ks);
            }
            if (tend(&r, &d) != 0) {
                io_failed = true;
                break;
            }
            if (streaming) stats(&r, false);
            publish(&r, LW_METRICS_QUIET);
            continue;
        }
        if (njobs > 1) {
            st = pool_add(&pool, &r, raw, &pos, &d);
        } else {
            struct result x;
            r.rec_start = r.out.len;
            work_one(&mw, raw, &pos, &x);
            st = record_done(&r, &x, raw, &pos, &d);
        }
        if (st != GO) break;
    }
    /* what was read is done and settled, unless the run stops here (a stop request stops the
     * settling at the next record, as -j 1 stops after the record it is running) */
    if (njobs > 1 && st == GO) st = settle_all(&r, &d);
    if (njobs > 1) pool_quiet(&pool); /* no thread settles from here on */
    if (r.state != NULL && !r.kstate && (st == GO || st == STOP_ASKED) && !io_failed &&
        !r.sinks[0].lost) {
        /* the end of input (or a stop): every open window closes and gives its results (with
         * Kafka input the input never ends: open windows stay held, rebuilt on restart; after
         * a final delivery failure the input was not all read: as --on-error=abort, none) */
        int w = state_close(&r, INT64_MAX, &d);
        if (w == -1) io_failed = true;
        if (w == -3) st = STOP_ABORT;
    }
    if (r.ks != NULL && lw_kstate_stop(r.ks) != NULL && !io_failed && st != STOP_IO) {
        lw_diag_setf(&d, "%s", lw_kstate_stop(r.ks));
        io_at(&r, LW_IO_SOURCE);
        io_failed = true;
    }
    r.loop_over = true; /* a revocation when the source closes settles nothing more */
    if (st == STOP_IO) io_failed = true;
    bool aborted = st == STOP_ABORT; /* --on-error=abort: the input was not all read */
    if (finish(&r, &d)) io_failed = true;
    if (r.kstate) lw_kstate_final(r.ks);
    if (r.kstate) {
        lw_kstate_release(r.ks); /* what the last deliveries finished, before the commit */
        kseen_counts(&r);
    }
    if (io_failed) {
        fprintf(stderr, "logwash: %s%s\n", r.who, d.msg);
        status = opened == -2 ? 2 : 4;
    }
    /* a reject is the template's verdict on its input, not a failure of the run: counted, reported
     * and dead-lettered, but the status stays 0 (logwash(1) EXIT STATUS) */
    bool lost = false; /* an output finally failed */
    for (int i = 0; i < r.nsinks; i++)
        lost |= r.sinks[i].lost;
    if (status == 0 && (aborted || r.n.failed || r.n.undecodable || lost)) status = 1;
    if (streaming && opened == 0) stats(&r, true);
    publish(&r, LW_METRICS_END);
    if (r.unexplained > 0)
        fprintf(stderr,
                "logwash: explain: %" PRIu64 " more record%s not explained (--explain=%d)\n",
                r.unexplained, r.unexplained == 1 ? "" : "s", r.o->explain);
    summary(&r, r.o);
    struct lw_diag cd = { 0 };
    if (!r.src_closed && r.src.ops->close(&r.src, &cd) != 0) {
        fprintf(stderr, "logwash: %s%s\n", r.who, cd.msg);
        if (status == 0) status = 4;
        io_at(&r, LW_IO_SOURCE);
    }
    for (int i = 0; i < r.nsinks; i++)
        r.sinks[i].ops->close(&r.sinks[i]);
    if (njobs > 1) pool_fini(&pool); /* releases the blocks the batches kept (after close) */
    work_fini(&mw);
    if (r.loaded && r.o != r.o0)
        reloader->release(reloader->ud, (struct lw_opts *)r.o, (struct logwash_template *)r.t);
    if (r.o0_loaded)
        reloader->release(reloader->ud, (struct lw_opts *)r.o0, (struct logwash_template *)r.t0);
    for (int i = 0; i < r.nretired; i++)
        reloader->release(reloader->ud, r.retired[i].o, r.retired[i].t);
    free(r.retired);
    lw_tablewatch_free(r.tw);
    logwash_state_free(r.state);
    lw_kstate_free(r.ks);
    free(r.cur.pend);
    free(r.cur.hdrs);
    lw_dlpath_fini(&r.dl);
    lw_buf_fini(&r.out);
    if (cnt) *cnt = r.n;
    return status;
}

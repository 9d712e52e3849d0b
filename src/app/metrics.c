/* Metrics: a registry of pipelines, each publishing snapshots of its counters from the record
 * loop; a Prometheus text endpoint served by libmicrohttpd on its own thread; a JSON file
 * rewritten atomically by a thread of its own. The loop never waits for a reader: each
 * pipeline has three snapshots (the loop fills `back`, readers format `front`, `mid` is the
 * latest complete one) and only pointer swaps happen under the pipeline's lock. Readers (the
 * server's thread, the file thread, the last write at exit) take turns under the registry's
 * lock. What a source or sink can report comes through their tables (source.h: lag, parts;
 * sink.h: delivered, undelivered, queued), so src/io knows nothing of these formats. */
#include "lw/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dlfcn.h>
#include <microhttpd.h>

#include "logwash.h"
#include "lw/buf.h"
#include "lw/jsonstr.h"
#include "lw/str.h"

#ifndef LW_COMMIT /* the Makefile passes `git describe --always --dirty` when it can */
#define LW_COMMIT "unknown"
#endif

#define PUBLISH_MS   100 /* a running loop publishes at most this often */
#define MAX_CONNS    64  /* scrapers at once; more are refused at accept */
#define CONN_TIMEOUT 10  /* seconds a connection may stay idle (one that never reads) */
#define RELOAD_WAIT  10  /* seconds POST /-/reload waits for the reload's result */

/* libmicrohttpd is loaded when --metrics-listen asks for it, not linked: it brings GnuTLS and
 * eight more libraries whose relocations cost every run of logwash a few milliseconds of
 * start-up (callgrind: 6.3M instructions for a one-line run without it, 11.8M with it). Only
 * its header is used at build time; the functions come from the loaded library. */
static struct {
    __typeof__(MHD_start_daemon) *start_daemon;
    __typeof__(MHD_stop_daemon) *stop_daemon;
    __typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
    __typeof__(MHD_add_response_header) *add_response_header;
    __typeof__(MHD_queue_response) *queue_response;
    __typeof__(MHD_destroy_response) *destroy_response;
} mhd;

/* mhd_load: mhd's functions from libmicrohttpd.so.12 (its soname in Debian 12's
 * libmicrohttpd12). Returns 0, or -1 with d set. Called at start, before any thread. */
static int
mhd_load(struct lw_diag *d)
{
    if (mhd.start_daemon != NULL) return 0;
    void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        lw_diag_setf(d, "--metrics-listen needs libmicrohttpd (Debian: libmicrohttpd12): %s",
                     dlerror());
        return -1;
    }
    static const char *const names[] = {
        "MHD_start_daemon",        "MHD_stop_daemon",    "MHD_create_response_from_buffer",
        "MHD_add_response_header", "MHD_queue_response", "MHD_destroy_response"
    };
    void *f[6];
    for (int i = 0; i < 6; i++) {
        f[i] = dlsym(h, names[i]);
        if (f[i] == NULL) {
            lw_diag_setf(d, "--metrics-listen: libmicrohttpd.so.12 has no %s", names[i]);
            dlclose(h);
            return -1;
        }
    }
    /* ISO C has no conversion from void * to a function pointer; POSIX dlsym promises it */
    memcpy(&mhd.stop_daemon, &f[1], sizeof f[1]);
    memcpy(&mhd.create_response_from_buffer, &f[2], sizeof f[2]);
    memcpy(&mhd.add_response_header, &f[3], sizeof f[3]);
    memcpy(&mhd.queue_response, &f[4], sizeof f[4]);
    memcpy(&mhd.destroy_response, &f[5], sizeof f[5]);
    memcpy(&mhd.start_daemon, &f[0], sizeof f[0]);
    return 0;
}

/* One partition in a snapshot; its topic is names.p + name_off (NUL-terminated). */
struct psnap {
    size_t name_off;
    int32_t partition;
    int64_t lag, commit;
};

/* One lookup table in a snapshot; its name is names.p + name_off. */
struct tsnap {
    size_t name_off;
    uint64_t rows, bytes;
};

/* What one publication saw. */
struct snap {
    bool set; /* published at least once */
    struct lw_counters n;
    uint64_t letters;
    bool parts_known; /* the source has partitions (Kafka) */
    int64_t lag;      /* -1: unknown */
    uint32_t assigned, nparts;
    struct psnap *parts; /* LW_METRICS_MAX_PARTITIONS, allocated at the first need */
    struct lw_buf names;
    bool producer; /* a sink of messages (Kafka) */
    uint64_t delivered, undelivered;
    int64_t queued; /* -1: unknown */
    bool has_state; /* the template uses seen() or windows */
    uint64_t seen_keys, window_keys, state_bytes;
    uint32_t ntables, tcap;
    struct tsnap *tables; /* the --table tables; names in names, after the topics */
};

/* The reasons of logwash_pipeline_failures_total, by the failed run's exit status: 1 (a record
 * stopped it: --on-error abort, an output finally undelivered), 2 (its settings were refused: a
 * stage, a table, the template's runners), 4 (an I/O error), by the stage it happened in
 * (enum lw_io_stage): reading or the consumer, writing or delivering the outputs, the dead
 * letters' file or topic. */
#define NREASONS 5
static const char *const fail_reasons[NREASONS] = { "records", "config", "source", "sink",
                                                    "dead_letter" };

struct lw_metrics_pipe {
    struct lw_metrics *m;
    char *name;
    pthread_mutex_t mu; /* guards the swap of back/mid and mid/front, and fresh */
    struct snap s[3];
    int back, mid, front;
    bool fresh;              /* mid is newer than front */
    int64_t last_ms;         /* the loop's: when it last published */
    struct lw_counters last; /* and what */
    struct lw_partstat *tmp; /* the loop's: what the source's parts() wrote */
    /* under m->rlmu: the last reload request this pipeline served, how it ended and why */
    unsigned long rl_done;
    bool rl_ok;
    char rl_why[512];
    /* under m->rmu, with several pipelines: whether it runs, how often it was restarted */
    bool state_set, up;
    uint64_t restarts;
    uint64_t failures[NREASONS]; /* runs that failed, by reason (fail_reasons) */
    int down;                    /* the reason it is down for since its last run failed, or -1 */
};

struct lw_metrics {
    pthread_mutex_t rmu; /* readers and registration take turns */
    struct lw_metrics_pipe **pipes;
    int npipes;
    double start_s;
    struct MHD_Daemon *httpd;
    const char *file;
    uint64_t interval_ms;
    pthread_t filer;
    bool filer_started;
    pthread_mutex_t fmu; /* guards quit, for the file thread's wait */
    pthread_cond_t fcond;
    bool quit;
    bool file_failing;    /* the last write failed (said once) */
    bool reload_on;       /* --metrics-reload: POST /-/reload asks for a reload */
    pthread_mutex_t rlmu; /* guards the pipelines' rl_ members, for POST /-/reload's wait */
    pthread_cond_t rlcond;
    /* under rmu: the process's reloads (proc_check): the last request number every running
     * pipeline served, reloads ended, failed ones, whether the last worked, when it ended */
    unsigned long proc_gen;
    uint64_t proc_reloads, proc_failures;
    bool proc_ok;
    uint64_t proc_s;
};

static void proc_check(struct lw_metrics *m);

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
real_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *
lw_metrics_name(const char *job_file, char *buf, size_t cap)
{
    if (job_file == NULL) {
        snprintf(buf, cap, "main");
        return buf;
    }
    const char *base = strrchr(job_file, '/');
    base = base ? base + 1 : job_file;
    size_t len = strlen(base);
    const char *exts[] = { ".yaml", ".yml" };
    for (int i = 0; i < 2; i++) {
        size_t el = strlen(exts[i]);
        if (len > el && strcmp(base + len - el, exts[i]) == 0) len -= el;
    }
    snprintf(buf, cap, "%.*s", (int)len, len ? base : "main");
    return buf;
}

/* ---- the loop's side ---- */

/* fill: what the loop shows now, into s. */
static void
fill(struct lw_metrics_pipe *p, struct snap *s, const struct lw_counters *n,
     const struct lw_dlpath *dl, struct lw_source *src, struct lw_sink *sinks, int nsinks,
     const struct logwash_state *state, const struct lw_tablewatch *tw)
{
    s->set = true;
    s->n = *n;
    s->letters = dl ? dl->letters : 0;
    s->parts_known = src && src->ops->parts != NULL;
    s->assigned = s->nparts = 0;
    s->names.len = 0;
    s->lag = -1;
    if (s->parts_known) {
        if (p->tmp == NULL) p->tmp = lw_xcalloc(LW_METRICS_MAX_PARTITIONS, sizeof *p->tmp);
        if (s->parts == NULL) s->parts = lw_xcalloc(LW_METRICS_MAX_PARTITIONS, sizeof *s->parts);
        s->assigned = src->ops->parts(src, p->tmp, LW_METRICS_MAX_PARTITIONS);
        s->nparts =
            s->assigned < LW_METRICS_MAX_PARTITIONS ? s->assigned : LW_METRICS_MAX_PARTITIONS;
        for (uint32_t i = 0; i < s->nparts; i++) {
            const struct lw_partstat *ps = &p->tmp[i];
            s->parts[i] = (struct psnap){ .name_off = s->names.len,
                                          .partition = ps->partition,
                                          .lag = ps->lag,
                                          .commit = ps->commit };
            lw_buf_add(&s->names, ps->topic, strlen(ps->topic) + 1);
        }
        s->lag = src->ops->lag ? src->ops->lag(src) : -1;
    }
    s->producer = false;
    s->delivered = s->undelivered = 0;
    s->queued = -1;
    for (int i = 0; i < nsinks; i++) {
        struct lw_sink *k = &sinks[i];
        if (!k->ops->messages) continue;
        s->producer = true;
        s->delivered += k->delivered;
        s->undelivered += k->undelivered;
        int64_t q = k->ops->queued ? k->ops->queued(k) : -1;
        if (q >= 0) s->queued = (s->queued < 0 ? 0 : s->queued) + q;
    }
    s->has_state = state != NULL;
    if (state != NULL) {
        struct logwash_state_counts c;
        logwash_state_counts(state, &c);
        s->seen_keys = c.keys;
        s->window_keys = c.windows;
        /* and seen()'s and the windows' commits' (Kafka) */
        s->state_bytes = c.bytes + n->seen_bytes + n->win_bytes;
    }
    s->ntables = 0;
    int nt = lw_tablewatch_count(tw);
    if (nt > 0 && s->tcap < (uint32_t)nt) {
        s->tables = lw_xrealloc(s->tables, (size_t)nt * sizeof *s->tables);
        s->tcap = (uint32_t)nt;
    }
    for (int i = 0; i < nt; i++) {
        const char *name;
        const struct logwash_table *t = lw_tablewatch_table(tw, i, &name);
        if (t == NULL) continue;
        s->tables[s->ntables++] = (struct tsnap){ .name_off = s->names.len,
                                                  .rows = logwash_table_rows(t),
                                                  .bytes = logwash_table_bytes(t) };
        lw_buf_add(&s->names, name, strlen(name) + 1);
    }
}

void
lw_metrics_publish(struct lw_metrics_pipe *p, const struct lw_counters *n,
                   const struct lw_dlpath *dl, struct lw_source *src, struct lw_sink *sinks,
                   int nsinks, const struct logwash_state *state, const struct lw_tablewatch *tw,
                   enum lw_metrics_when when)
{
    if (p == NULL) return;
    int64_t t = mono_ms();
    bool due = t - p->last_ms >= PUBLISH_MS;
    if (when == LW_METRICS_TICK && !due) return;
    if (when == LW_METRICS_QUIET && !due && memcmp(n, &p->last, sizeof *n) == 0) return;
    p->last_ms = t;
    p->last = *n;
    fill(p, &p->s[p->back], n, dl, src, sinks, nsinks, state, tw);
    pthread_mutex_lock(&p->mu);
    int b = p->back;
    p->back = p->mid;
    p->mid = b;
    p->fresh = true;
    pthread_mutex_unlock(&p->mu);
}

/* ---- the readers' side (under m->rmu) ---- */

/* latest: p's newest complete snapshot, taken over as front. */
static const struct snap *
latest(struct lw_metrics_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->fresh) {
        int f = p->front;
        p->front = p->mid;
        p->mid = f;
        p->fresh = false;
    }
    pthread_mutex_unlock(&p->mu);
    return &p->s[p->front];
}

/* A per-pipeline series: its name, type, help, and where its value is. */
enum stype { COUNTER, GAUGE };
struct series {
    const char *name;
    enum stype type;
    const char *help;
    size_t off; /* of a uint64_t in struct snap */
};
#define N_(f) offsetof(struct snap, n) + offsetof(struct lw_counters, f)
static const struct series pipe_series[] = {
    { "records_in_total", COUNTER, "Records read, undecodable ones included.", N_(in) },
    { "records_emitted_total", COUNTER, "Outputs the template emitted.", N_(emitted) },
    { "records_dropped_total", COUNTER, "Records the template dropped.", N_(dropped) },
    { "records_rejected_total", COUNTER, "Records the template rejected.", N_(rejected) },
    { "records_failed_total", COUNTER,
      "Records that failed: a runtime error, or an output refused or finally undelivered.",
      N_(failed) },
    { "records_undecodable_total", COUNTER,
      "Records that could not be decoded, or were cut at a length limit.", N_(undecodable) },
    { "dead_letters_total", COUNTER, "Dead letters written to the file or handed to the topic.",
      offsetof(struct snap, letters) },
    { "input_bytes_total", COUNTER, "Bytes of the records read (framing excluded).", N_(bytes_in) },
    { "output_bytes_total", COUNTER, "Bytes of the outputs kept (newlines included).",
      N_(bytes_out) },
    { "records_late_total", COUNTER, "Records too late for a window that had closed.", N_(late) },
    { "window_results_total", COUNTER, "Results of window statements given.", N_(window_results) },
    { "windows_closed_early_total", COUNTER, "Windows closed before their end at --max-state.",
      N_(closed_early) },
    { "seen_keys_evicted_total", COUNTER, "seen() keys forgotten before their ttl at --max-state.",
      N_(evicted) },
    { "seen_inexact_commits_total", COUNTER,
      "Kafka commits made past seen()'s exact point at its bound (a replay may repeat).",
      N_(seen_inexact) },
    { "window_inexact_commits_total", COUNTER,
      "Kafka commits made past the windows' exact point at the bound of their held records.",
      N_(win_inexact) },
    { "records_rerun_total", COUNTER,
      "Records run again by the loop: a worker's seen() answer was wrong (-j).", N_(reruns) },
    { "vm_steps_total", COUNTER, "Template instructions run (what --max-steps bounds per record).",
      N_(vm_steps) },
    { "reloads_total", COUNTER, "Reloads tried (SIGHUP, POST /-/reload), failed ones included.",
      N_(reloads) },
    { "reload_failures_total", COUNTER,
      "Reloads that failed: the configuration that ran before goes on.", N_(reload_failures) },
    { "reload_last_successful", GAUGE, "1 when the last reload worked (or none was tried), else 0.",
      N_(reload_last_ok) },
    { "reload_last_timestamp_seconds", GAUGE,
      "When the last reload ended, in seconds since 1970 (0: none yet).", N_(reload_last_s) },
};

/* label: a label value, escaped as the text format wants. */
static void
label(struct lw_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            lw_buf_addc(b, '\\');
            lw_buf_addc(b, *s);
        } else if (*s == '\n') {
            lw_buf_adds(b, "\\n");
        } else {
            lw_buf_addc(b, *s);
        }
    }
}

static void
head(struct lw_buf *b, const char *name, enum stype t, const char *help)
{
    lw_buf_printf(b, "# HELP logwash_%s %s\n# TYPE logwash_%s %s\n", name, help, name,
                  t == COUNTER ? "counter" : "gauge");
}

static void
sample(struct lw_buf *b, const char *name, const struct lw_metrics_pipe *p, const char *topic,
       int32_t partition, const char *value)
{
    lw_buf_printf(b, "logwash_%s{pipeline=\"", name);
    label(b, p->name);
    if (topic) {
        lw_buf_adds(b, "\",topic=\"");
        label(b, topic);
        lw_buf_printf(b, "\",partition=\"%" PRId32, partition);
    }
    lw_buf_printf(b, "\"} %s\n", value);
}

static void
sample_u(struct lw_buf *b, const char *name, const struct lw_metrics_pipe *p, uint64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRIu64, v);
    sample(b, name, p, NULL, 0, num);
}

/* sample_label: a sample with one more label than pipeline (its value escaped). */
static void
sample_label(struct lw_buf *b, const char *name, const struct lw_metrics_pipe *p, const char *key,
             const char *val, uint64_t v)
{
    lw_buf_printf(b, "logwash_%s{pipeline=\"", name);
    label(b, p->name);
    lw_buf_printf(b, "\",%s=\"", key);
    label(b, val);
    lw_buf_printf(b, "\"} %" PRIu64 "\n", v);
}

/* prom_state: the families of seen() and windows, for the pipelines whose template uses them,
 * and of the lookup tables, for the pipelines that have tables. */
static void
prom_state_tables(struct lw_buf *b, struct lw_metrics_pipe **pp, const struct snap **ss, int np)
{
    bool st = false, tb = false;
    for (int i = 0; i < np; i++) {
        st |= ss[i]->has_state;
        tb |= ss[i]->ntables > 0;
    }
    if (st) {
        static const struct {
            const char *name, *help;
            size_t off;
        } fam[] = {
            { "seen_keys", "Keys seen() holds (each bounded by its ttl and --max-state).",
              offsetof(struct snap, seen_keys) },
            { "window_keys_open",
              "Windows open: one per window statement, window and key, results not given yet.",
              offsetof(struct snap, window_keys) },
            { "state_bytes",
              "Memory held by the open windows and seen() keys (and with Kafka input seen()'s "
              "held records and spans), as --max-state counts it.",
              offsetof(struct snap, state_bytes) },
            { "seen_held_records",
              "Kafka records held until seen() lets their commit pass (bounded: logwash(1)).",
              offsetof(struct snap, n.seen_held) },
            { "seen_spans", "Spans of seen() keys gone that its Kafka commit must not fall in.",
              offsetof(struct snap, n.seen_spans) },
            { "window_held_records",
              "Kafka records held until the windows they fed are given (bounded: logwash(1)).",
              offsetof(struct snap, n.win_held) },
        };
        for (size_t k = 0; k < sizeof fam / sizeof *fam; k++) {
            head(b, fam[k].name, GAUGE, fam[k].help);
            for (int i = 0; i < np; i++)
                if (ss[i]->has_state)
                    sample_u(b, fam[k].name, pp[i],
                             *(const uint64_t *)((const char *)ss[i] + fam[k].off));
        }
    }
    if (tb) {
        head(b, "table_rows", GAUGE, "Rows of the lookup table's current version.");
        for (int i = 0; i < np; i++)
            for (uint32_t j = 0; j < ss[i]->ntables; j++)
                sample_label(b, "table_rows", pp[i], "table",
                             ss[i]->names.p + ss[i]->tables[j].name_off, ss[i]->tables[j].rows);
        head(b, "table_bytes", GAUGE,
             "Memory the lookup table's current version holds, as --max-state counts it.");
        for (int i = 0; i < np; i++)
            for (uint32_t j = 0; j < ss[i]->ntables; j++)
                sample_label(b, "table_bytes", pp[i], "table",
                             ss[i]->names.p + ss[i]->tables[j].name_off, ss[i]->tables[j].bytes);
    }
}

/* prom_kafka: the Kafka families, for the pipelines that have them. */
static void
prom_kafka(struct lw_buf *b, struct lw_metrics_pipe **pp, const struct snap **ss, int np)
{
    bool src = false, sink = false;
    for (int i = 0; i < np; i++) {
        src |= ss[i]->parts_known;
        sink |= ss[i]->producer;
    }
    char num[32];
    if (src) {
        head(b, "kafka_assigned_partitions", GAUGE, "Partitions assigned to the consumer.");
        for (int i = 0; i < np; i++)
            if (ss[i]->parts_known)
                sample_u(b, "kafka_assigned_partitions", pp[i], ss[i]->assigned);
        head(b, "kafka_lag", GAUGE,
             "Messages behind the ends of all assigned partitions, as last seen.");
        for (int i = 0; i < np; i++)
            if (ss[i]->parts_known && ss[i]->lag >= 0) sample_u(b, "kafka_lag", pp[i], ss[i]->lag);
        const char *names[] = { "kafka_partition_lag", "kafka_partition_commit_offset" };
        const char *helps[] = {
            "Messages behind the partition's end, as last seen (at most 1000 partitions a "
            "pipeline).",
            "The next offset to commit: every message before it is finished (delivered or "
            "dead-lettered)."
        };
        for (int k = 0; k < 2; k++) {
            head(b, names[k], GAUGE, helps[k]);
            for (int i = 0; i < np; i++) {
                for (uint32_t j = 0; ss[i]->parts_known && j < ss[i]->nparts; j++) {
                    const struct psnap *ps = &ss[i]->parts[j];
                    int64_t v = k == 0 ? ps->lag : ps->commit;
                    if (v < 0) continue;
                    snprintf(num, sizeof num, "%" PRId64, v);
                    sample(b, names[k], pp[i], ss[i]->names.p + ps->name_off, ps->partition, num);
                }
            }
        }
    }
    if (sink) {
        head(b, "kafka_delivered_messages_total", COUNTER,
             "Messages the brokers acknowledged (outputs and dead letters).");
        for (int i = 0; i < np; i++)
            if (ss[i]->producer)
                sample_u(b, "kafka_delivered_messages_total", pp[i], ss[i]->delivered);
        head(b, "kafka_delivery_errors_total", COUNTER,
             "Delivery reports with an error (each one stops the pipeline or dead-letters an "
             "output).");
        for (int i = 0; i < np; i++)
            if (ss[i]->producer)
                sample_u(b, "kafka_delivery_errors_total", pp[i], ss[i]->undelivered);
        head(b, "kafka_produce_queue_messages", GAUGE,
             "Messages produced and not yet acknowledged: the pipeline's own, also when it "
             "shares a producer.");
        for (int i = 0; i < np; i++)
            if (ss[i]->producer && ss[i]->queued >= 0)
                sample_u(b, "kafka_produce_queue_messages", pp[i], (uint64_t)ss[i]->queued);
    }
}

/* prom_state: the pipelines' states, when a supervisor keeps them (several pipelines). */
static void
prom_state(struct lw_buf *b, struct lw_metrics *m)
{
    bool any = false;
    for (int i = 0; i < m->npipes; i++)
        any |= m->pipes[i]->state_set;
    if (!any) return;
    head(b, "pipeline_up", GAUGE, "1 while the pipeline runs, 0 once it stopped or failed.");
    for (int i = 0; i < m->npipes; i++)
        if (m->pipes[i]->state_set) sample_u(b, "pipeline_up", m->pipes[i], m->pipes[i]->up);
    head(b, "pipeline_restarts_total", COUNTER, "Restarts of the pipeline after a failure.");
    for (int i = 0; i < m->npipes; i++)
        if (m->pipes[i]->state_set)
            sample_u(b, "pipeline_restarts_total", m->pipes[i], m->pipes[i]->restarts);
    head(b, "pipeline_failures_total", COUNTER,
         "Runs of the pipeline that failed, by reason: records (a record stopped it), config (its "
         "settings were refused), or the stage of an I/O error: source, sink, dead_letter.");
    for (int i = 0; i < m->npipes; i++)
        for (int k = 0; k < NREASONS && m->pipes[i]->state_set; k++)
            sample_label(b, "pipeline_failures_total", m->pipes[i], "reason", fail_reasons[k],
                         m->pipes[i]->failures[k]);
    head(b, "pipeline_failed", GAUGE,
         "1 for the reason of the failure the pipeline is down for (until it runs again), else 0.");
    for (int i = 0; i < m->npipes; i++)
        for (int k = 0; k < NREASONS && m->pipes[i]->state_set; k++)
            sample_label(b, "pipeline_failed", m->pipes[i], "reason", fail_reasons[k],
                         m->pipes[i]->down == k);
}

/* reason: the index in fail_reasons of a run that ended with status and io_stage, or -1. */
static int
reason(int status, int io_stage)
{
    if (status == 4) /* every I/O error is tagged where it happens; else it was the output's */
        return io_stage == LW_IO_SOURCE ? 2 : io_stage == LW_IO_DEAD_LETTER ? 4 : 3;
    return status == 1 ? 0 : status == 2 ? 1 : -1;
}

const char *
lw_metrics_reason(int status, int io_stage)
{
    int k = reason(status, io_stage);
    return k < 0 ? NULL : fail_reasons[k];
}

void
lw_metrics_pipe_failed(struct lw_metrics_pipe *p, int status, int io_stage)
{
    int k = reason(status, io_stage);
    if (p == NULL || k < 0) return;
    pthread_mutex_lock(&p->m->rmu);
    p->failures[k]++;
    p->down = k;
    pthread_mutex_unlock(&p->m->rmu);
}

void
lw_metrics_pipe_state(struct lw_metrics_pipe *p, bool up, uint64_t restarts)
{
    if (p == NULL) return;
    pthread_mutex_lock(&p->m->rmu);
    p->state_set = true;
    p->up = up;
    if (up) p->down = -1;
    p->restarts = restarts;
    if (!up) proc_check(p->m);
    pthread_mutex_unlock(&p->m->rmu);
}

/* prom: the Prometheus text format (version 0.0.4) of every series, into b. */
static void
prom(struct lw_metrics *m, struct lw_buf *b)
{
    pthread_mutex_lock(&m->rmu);
    lw_buf_adds(b, "# HELP logwash_up 1 while logwash runs.\n# TYPE logwash_up gauge\n"
                   "logwash_up 1\n");
    lw_buf_printf(b,
                  "# HELP logwash_start_time_seconds When logwash started, in seconds since "
                  "1970.\n# TYPE logwash_start_time_seconds gauge\n"
                  "logwash_start_time_seconds %.3f\n",
                  m->start_s);
    lw_buf_printf(b,
                  "# HELP logwash_build_info The running logwash's version and commit.\n"
                  "# TYPE logwash_build_info gauge\n"
                  "logwash_build_info{version=\"%s\",commit=\"",
                  LOGWASH_VERSION);
    label(b, LW_COMMIT);
    lw_buf_adds(b, "\"} 1\n");
    lw_buf_printf(b,
                  "# HELP process_start_time_seconds Start time of the process since unix epoch "
                  "in seconds.\n# TYPE process_start_time_seconds gauge\n"
                  "process_start_time_seconds %.3f\n",
                  m->start_s);
    lw_buf_printf(b,
                  "# HELP logwash_config_reloads_total Reloads of the process (SIGHUP, POST "
                  "/-/reload; requests that came together are one), failed ones included.\n"
                  "# TYPE logwash_config_reloads_total counter\n"
                  "logwash_config_reloads_total %" PRIu64 "\n"
                  "# HELP logwash_config_reload_failures_total Reloads of the process that "
                  "failed: a pipeline kept the configuration that ran before.\n"
                  "# TYPE logwash_config_reload_failures_total counter\n"
                  "logwash_config_reload_failures_total %" PRIu64 "\n"
                  "# HELP logwash_config_last_reload_successful 1 when the process's last reload "
                  "worked in every pipeline (or none was tried), else 0.\n"
                  "# TYPE logwash_config_last_reload_successful gauge\n"
                  "logwash_config_last_reload_successful %d\n"
                  "# HELP logwash_config_last_reload_timestamp_seconds When the process's last "
                  "reload ended, in seconds since 1970 (0: none yet).\n"
                  "# TYPE logwash_config_last_reload_timestamp_seconds gauge\n"
                  "logwash_config_last_reload_timestamp_seconds %" PRIu64 "\n",
                  m->proc_reloads, m->proc_failures, m->proc_ok ? 1 : 0, m->proc_s);
    struct lw_metrics_pipe **pp = lw_xcalloc((size_t)m->npipes + 1, sizeof *pp);
    const struct snap **ss = lw_xcalloc((size_t)m->npipes + 1, sizeof *ss);
    int np = 0;
    for (int i = 0; i < m->npipes; i++) {
        const struct snap *s = latest(m->pipes[i]);
        if (!s->set) continue;
        pp[np] = m->pipes[i];
        ss[np++] = s;
    }
    for (size_t k = 0; np > 0 && k < sizeof pipe_series / sizeof *pipe_series; k++) {
        const struct series *se = &pipe_series[k];
        head(b, se->name, se->type, se->help);
        for (int i = 0; i < np; i++)
            sample_u(b, se->name, pp[i], *(const uint64_t *)((const char *)ss[i] + se->off));
    }
    prom_state(b, m);
    prom_state_tables(b, pp, ss, np);
    prom_kafka(b, pp, ss, np);
    pthread_mutex_unlock(&m->rmu);
    free(pp);
    free(ss);
}

static void
json_key(struct lw_buf *b, const char *k)
{
    lw_json_write_string(b, k, strlen(k));
    lw_buf_addc(b, ':');
}

static void
json_kafka(struct lw_buf *b, const struct snap *s)
{
    lw_buf_adds(b, ",\"kafka\":{");
    bool comma = false;
    if (s->parts_known) {
        lw_buf_printf(b, "\"assigned_partitions\":%" PRIu32 ",\"lag\":", s->assigned);
        if (s->lag >= 0)
            lw_buf_printf(b, "%" PRId64, s->lag);
        else
            lw_buf_adds(b, "null");
        lw_buf_adds(b, ",\"partitions\":[");
        for (uint32_t j = 0; j < s->nparts; j++) {
            const struct psnap *ps = &s->parts[j];
            const char *t = s->names.p + ps->name_off;
            lw_buf_adds(b, j ? ",{\"topic\":" : "{\"topic\":");
            lw_json_write_string(b, t, strlen(t));
            lw_buf_printf(b, ",\"partition\":%" PRId32 ",\"lag\":", ps->partition);
            if (ps->lag >= 0)
                lw_buf_printf(b, "%" PRId64, ps->lag);
            else
                lw_buf_adds(b, "null");
            lw_buf_adds(b, ",\"commit_offset\":");
            if (ps->commit >= 0)
                lw_buf_printf(b, "%" PRId64 "}", ps->commit);
            else
                lw_buf_adds(b, "null}");
        }
        lw_buf_addc(b, ']');
        comma = true;
    }
    if (s->producer) {
        lw_buf_printf(b,
                      "%s\"delivered_messages_total\":%" PRIu64
                      ",\"delivery_errors_total\":%" PRIu64 ",\"produce_queue_messages\":",
                      comma ? "," : "", s->delivered, s->undelivered);
        if (s->queued >= 0)
            lw_buf_printf(b, "%" PRId64, s->queued);
        else
            lw_buf_adds(b, "null");
    }
    lw_buf_addc(b, '}');
}

/* json: the JSON form of the same series (names without logwash_), into b; up is 0 in the
 * last write, at exit. */
static void
json(struct lw_metrics *m, struct lw_buf *b, bool up)
{
    pthread_mutex_lock(&m->rmu);
    lw_buf_printf(b, "{\"up\":%d,\"version\":\"%s\",\"commit\":", up ? 1 : 0, LOGWASH_VERSION);
    lw_json_write_string(b, LW_COMMIT, strlen(LW_COMMIT));
    lw_buf_printf(b, ",\"start_time_seconds\":%.3f,\"time_seconds\":%.3f", m->start_s, real_s());
    lw_buf_printf(b,
                  ",\"config_reloads_total\":%" PRIu64 ",\"config_reload_failures_total\":%" PRIu64
                  ",\"config_last_reload_successful\":%d,"
                  "\"config_last_reload_timestamp_seconds\":%" PRIu64 ",\"pipelines\":{",
                  m->proc_reloads, m->proc_failures, m->proc_ok ? 1 : 0, m->proc_s);
    bool first = true;
    for (int i = 0; i < m->npipes; i++) {
        const struct snap *s = latest(m->pipes[i]);
        if (!s->set) continue;
        if (!first) lw_buf_addc(b, ',');
        first = false;
        json_key(b, m->pipes[i]->name);
        lw_buf_addc(b, '{');
        for (size_t k = 0; k < sizeof pipe_series / sizeof *pipe_series; k++) {
            const struct series *se = &pipe_series[k];
            lw_buf_printf(b, "%s\"%s\":%" PRIu64, k ? "," : "", se->name,
                          *(const uint64_t *)((const char *)s + se->off));
        }
        if (m->pipes[i]->state_set) {
            lw_buf_printf(b, ",\"pipeline_up\":%d,\"pipeline_restarts_total\":%" PRIu64,
                          m->pipes[i]->up, m->pipes[i]->restarts);
            lw_buf_adds(b, ",\"pipeline_failures_total\":{");
            for (int k = 0; k < NREASONS; k++)
                lw_buf_printf(b, "%s\"%s\":%" PRIu64, k ? "," : "", fail_reasons[k],
                              m->pipes[i]->failures[k]);
            lw_buf_addc(b, '}');
            int down = m->pipes[i]->down;
            if (down >= 0)
                lw_buf_printf(b, ",\"pipeline_failed\":\"%s\"", fail_reasons[down]);
            else
                lw_buf_adds(b, ",\"pipeline_failed\":null");
        }
        if (s->has_state)
            lw_buf_printf(b,
                          ",\"seen_keys\":%" PRIu64 ",\"window_keys_open\":%" PRIu64
                          ",\"state_bytes\":%" PRIu64 ",\"seen_held_records\":%" PRIu64
                          ",\"seen_spans\":%" PRIu64 ",\"window_held_records\":%" PRIu64,
                          s->seen_keys, s->window_keys, s->state_bytes, s->n.seen_held,
                          s->n.seen_spans, s->n.win_held);
        if (s->ntables > 0) {
            lw_buf_adds(b, ",\"tables\":{");
            for (uint32_t j = 0; j < s->ntables; j++) {
                if (j) lw_buf_addc(b, ',');
                json_key(b, s->names.p + s->tables[j].name_off);
                lw_buf_printf(b, "{\"table_rows\":%" PRIu64 ",\"table_bytes\":%" PRIu64 "}",
                              s->tables[j].rows, s->tables[j].bytes);
            }
            lw_buf_addc(b, '}');
        }
        if (s->parts_known || s->producer) json_kafka(b, s);
        lw_buf_addc(b, '}');
    }
    lw_buf_adds(b, "}}\n");
    pthread_mutex_unlock(&m->rmu);
}

/* write_file: the JSON into PATH.tmp, then renamed over PATH (a reader sees the old file or
 * the new one, never a part). Returns 0, or -1 with d set. */
static int
write_file(struct lw_metrics *m, bool up, struct lw_diag *d)
{
    struct lw_buf b;
    lw_buf_init(&b);
    json(m, &b, up);
    size_t plen = strlen(m->file);
    char *tmp = lw_xmalloc(plen + 5);
    memcpy(tmp, m->file, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        lw_diag_setf(d, "cannot write the metrics file %s: %s", tmp, strerror(errno));
        goto out;
    }
    size_t off = 0;
    while (off < b.len) {
        ssize_t w = write(fd, b.p + off, b.len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) break;
        off += (size_t)w;
    }
    int werr = off < b.len ? errno : 0;
    if (close(fd) != 0 && werr == 0) werr = errno;
    if (werr != 0) {
        lw_diag_setf(d, "cannot write the metrics file %s: %s", tmp, strerror(werr));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, m->file) != 0) {
        lw_diag_setf(d, "cannot rename %s to %s: %s", tmp, m->file, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    free(tmp);
    lw_buf_fini(&b);
    return rc;
}

/* file_write: a periodic write, its failure said once (until a write succeeds again). */
static void
file_write(struct lw_metrics *m)
{
    struct lw_diag d = { 0 };
    if (write_file(m, true, &d) == 0) {
        if (m->file_failing) fprintf(stderr, "logwash: metrics file %s written again\n", m->file);
        m->file_failing = false;
    } else if (!m->file_failing) {
        fprintf(stderr, "logwash: %s (said once; logwash goes on)\n", d.msg);
        m->file_failing = true;
    }
    lw_diag_fini(&d);
}

static void *
filer(void *arg)
{
    struct lw_metrics *m = arg;
    pthread_mutex_lock(&m->fmu);
    while (!m->quit) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)(m->interval_ms / 1000);
        until.tv_nsec += (long)(m->interval_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        int rc = 0;
        while (!m->quit && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&m->fcond, &m->fmu, &until);
        if (m->quit) break;
        pthread_mutex_unlock(&m->fmu);
        file_write(m);
        pthread_mutex_lock(&m->fmu);
    }
    pthread_mutex_unlock(&m->fmu);
    return NULL;
}

/* ---- the HTTP server ---- */

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned code, struct lw_buf *b, const char *type)
{
    struct MHD_Response *r = mhd.create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        lw_buf_fini(b);
        return MHD_NO;
    }
    b->p = NULL; /* the response frees it */
    mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        mhd.add_response_header(r, "Allow",
                                strstr(b->p ? b->p : "", "POST") ? "POST" : "GET, HEAD");
    enum MHD_Result ret = mhd.queue_response(c, code, r);
    mhd.destroy_response(r);
    return ret;
}

/* ended: a pipeline whose supervisor says it stopped (several pipelines): it reloads no more. */
static bool
ended(const struct lw_metrics_pipe *p)
{
    return p->state_set && !p->up;
}

/* serve_reload: POST /-/reload (with --metrics-reload): ask every pipeline to reload, as
 * SIGHUP does, and answer with the outcome: 200 when every pipeline took the new
 * configuration, 500 with the first reason when one kept its old one, 202 when they have not
 * all finished within RELOAD_WAIT seconds (the reload goes on; the metrics tell). Requests
 * coalesce: one reload serves every request made before it began. Any body is read and
 * ignored. */
static enum MHD_Result
serve_reload(struct lw_metrics *m, struct MHD_Connection *c, size_t *upload_len, void **req)
{
    static int seen; /* the address is the mark of a request whose headers came */
    if (*req == NULL) {
        *req = &seen;
        return MHD_YES;
    }
    if (*upload_len != 0) {
        *upload_len = 0;
        return MHD_YES;
    }
    struct lw_buf b;
    lw_buf_init(&b);
    if (!m->reload_on) {
        lw_buf_adds(&b, "logwash: reloading over HTTP is off (--metrics-reload turns it on)\n");
        return reply(c, MHD_HTTP_FORBIDDEN, &b, "text/plain; charset=utf-8");
    }
    unsigned long g = lw_pipeline_reload();
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += RELOAD_WAIT;
    pthread_mutex_lock(&m->rlmu);
    int rc = 0;
    for (;;) {
        bool all = true;
        pthread_mutex_lock(&m->rmu);
        for (int i = 0; i < m->npipes && all; i++)
            all = m->pipes[i]->rl_done >= g || ended(m->pipes[i]);
        pthread_mutex_unlock(&m->rmu);
        if (all || rc == ETIMEDOUT) break;
        rc = pthread_cond_timedwait(&m->rlcond, &m->rlmu, &until);
    }
    unsigned code = MHD_HTTP_OK;
    pthread_mutex_lock(&m->rmu);
    for (int i = 0; i < m->npipes; i++) {
        struct lw_metrics_pipe *p = m->pipes[i];
        if (ended(p)) continue;
        if (p->rl_done < g) {
            code = MHD_HTTP_ACCEPTED;
            lw_buf_printf(&b,
                          "logwash: %s: reload not finished within %d s (see "
                          "logwash_reload_last_successful)\n",
                          p->name, RELOAD_WAIT);
        } else if (!p->rl_ok) {
            if (code == MHD_HTTP_OK) code = MHD_HTTP_INTERNAL_SERVER_ERROR;
            lw_buf_printf(&b, "logwash: %s: reload failed: %s\n", p->name, p->rl_why);
        }
    }
    pthread_mutex_unlock(&m->rmu);
    pthread_mutex_unlock(&m->rlmu);
    if (code == MHD_HTTP_OK) lw_buf_adds(&b, "logwash: reloaded\n");
    return reply(c, code, &b, "text/plain; charset=utf-8");
}

/* proc_check (under m->rmu): a reload of the process ended once every pipeline still running
 * served its request: counted once (requests that came together are one reload), failed when
 * a pipeline kept its old configuration. Called as a pipeline reports a reload or stops. */
static void
proc_check(struct lw_metrics *m)
{
    unsigned long low = ULONG_MAX;
    bool ok = true;
    for (int i = 0; i < m->npipes; i++) {
        struct lw_metrics_pipe *p = m->pipes[i];
        if (ended(p)) continue;
        if (p->rl_done < low) low = p->rl_done;
        ok &= p->rl_ok;
    }
    if (low == ULONG_MAX || low <= m->proc_gen) return;
    m->proc_gen = low;
    m->proc_reloads++;
    m->proc_failures += !ok;
    m->proc_ok = ok;
    m->proc_s = (uint64_t)real_s();
}

void
lw_metrics_reloaded(struct lw_metrics_pipe *p, unsigned long gen, bool ok, const char *why)
{
    if (p == NULL) return;
    struct lw_metrics *m = p->m;
    pthread_mutex_lock(&m->rlmu);
    pthread_mutex_lock(&m->rmu);
    if (gen > p->rl_done) p->rl_done = gen;
    p->rl_ok = ok;
    snprintf(p->rl_why, sizeof p->rl_why, "%s", why);
    proc_check(m);
    pthread_mutex_unlock(&m->rmu);
    pthread_cond_broadcast(&m->rlcond);
    pthread_mutex_unlock(&m->rlmu);
}

/* serve: GET or HEAD /metrics; 404 for any other path, 405 for any other method. A request
 * body (none is expected) is not read: the response goes at once. */
static enum MHD_Result
serve(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
      const char *upload, size_t *upload_len, void **req)
{
    struct lw_metrics *m = cls;
    if (strcmp(method, "POST") == 0 && strcmp(url, "/-/reload") == 0)
        return serve_reload(m, c, upload_len, req);
    struct lw_buf b;
    lw_buf_init(&b);
    if (strcmp(url, "/-/reload") == 0) {
        lw_buf_adds(&b, "logwash: only POST\n");
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, &b, "text/plain; charset=utf-8");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        lw_buf_adds(&b, "logwash: only GET and HEAD\n");
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, &b, "text/plain; charset=utf-8");
    }
    if (strcmp(url, "/metrics") != 0) {
        lw_buf_adds(&b, "logwash: not found (metrics are at /metrics)\n");
        return reply(c, MHD_HTTP_NOT_FOUND, &b, "text/plain; charset=utf-8");
    }
    prom(m, &b);
    return reply(c, MHD_HTTP_OK, &b, "text/plain; version=0.0.4; charset=utf-8");
}

/* split_addr: spec's host (empty: every address) into host, and its port. 0, or -1 with d set. */
static int
split_addr(const char *spec, char *host, size_t hostcap, const char **port, struct lw_diag *d)
{
    if (spec[0] == '[') {
        const char *e = strchr(spec, ']');
        if (e == NULL || e[1] != ':' || (size_t)(e - spec - 1) >= hostcap) goto bad;
        snprintf(host, hostcap, "%.*s", (int)(e - spec - 1), spec + 1);
        *port = e + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon == NULL || memchr(spec, ':', (size_t)(colon - spec)) != NULL ||
            (size_t)(colon - spec) >= hostcap)
            goto bad;
        snprintf(host, hostcap, "%.*s", (int)(colon - spec), spec);
        *port = colon + 1;
    }
    const char *p = *port;
    if (p[0] != '\0' && strspn(p, "0123456789") == strlen(p) && strlen(p) <= 5 && atoi(p) <= 65535)
        return 0;
bad:
    lw_diag_setf(d, "--metrics-listen needs ADDR:PORT ([ADDR]:PORT for IPv6), found '%s'", spec);
    return -1;
}

int
lw_metrics_addr_ok(const char *spec, struct lw_diag *d)
{
    char host[256];
    const char *port;
    return split_addr(spec, host, sizeof host, &port, d);
}

/* bind_listen: a listening socket on spec ("ADDR:PORT", "[V6]:PORT", ":PORT" for every
 * address). Returns the descriptor, or -1 with d set. shown gets "ADDR:PORT" as bound. */
static int
bind_listen(const char *spec, char *shown, size_t cap, bool *v6, struct lw_diag *d)
{
    char host[256];
    const char *port;
    if (split_addr(spec, host, sizeof host, &port, d) != 0) return -1;
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM },
                    *res;
    int e = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (e != 0) {
        lw_diag_setf(d, "--metrics-listen %s: %s", spec, gai_strerror(e));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, MAX_CONNS) != 0) {
            err = errno;
            close(fd);
            fd = -1;
            continue;
        }
        *v6 = a->ai_family == AF_INET6;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        lw_diag_setf(d, "cannot listen on %s (--metrics-listen): %s", spec, strerror(err));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char h[NI_MAXHOST], p[NI_MAXSERV];
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(shown, cap, *v6 ? "[%.200s]:%.8s" : "%.200s:%.8s", h, p);
    else
        snprintf(shown, cap, "%s", spec);
    return fd;
}

static void
quiet_log(void *cls, const char *fmt, va_list ap)
{
    /* libmicrohttpd's own messages (a client gone, a connection refused at the limit) are no
     * concern of logwash's stderr */
}

static int
start_httpd(struct lw_metrics *m, const struct lw_opts *o, struct lw_diag *d)
{
    char shown[300];
    bool v6 = false;
    if (mhd_load(d) != 0) return -1;
    int fd = bind_listen(o->metrics_listen, shown, sizeof shown, &v6, d);
    if (fd < 0) return -1;
    /* a thread per connection: POST /-/reload waits for the reload's end, and scrapes must not
     * wait behind it, nor a flood of them behind each other (together they are one reload) */
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    m->httpd = mhd.start_daemon(flags, 0, NULL, NULL, serve, m, MHD_OPTION_LISTEN_SOCKET, fd,
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNS,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT,
                                MHD_OPTION_EXTERNAL_LOGGER, quiet_log, NULL, MHD_OPTION_END);
    if (m->httpd == NULL) {
        close(fd);
        lw_diag_setf(d, "cannot start the metrics server on %s", shown);
        return -1;
    }
    const char *asked = strrchr(o->metrics_listen, ':');
    if (o->verbosity > 0 || (asked && atoi(asked + 1) == 0))
        fprintf(stderr, "logwash: metrics at http://%s/metrics\n", shown);
    return 0;
}

int
lw_metrics_file_ok(const char *path, struct lw_diag *d)
{
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISREG(st.st_mode)) return 0;
    const char *what = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISLNK(st.st_mode)  ? "a symbolic link (name the file it points to)"
                       : S_ISFIFO(st.st_mode) ? "a fifo"
                                              : "not a regular file";
    lw_diag_setf(d, "--metrics-file %s is %s: refusing to replace it", path, what);
    return -1;
}

/* own_file: the metrics file must not replace a file of the run (an input, the template, the
 * job file, the dead-letter file): a typo in a job file would otherwise rename over it. Returns
 * -1 with d set when it is one of them. */
static int
own_file(const struct lw_opts *o, struct lw_diag *d)
{
    struct stat m, x;
    if (lw_metrics_file_ok(o->metrics_file, d) != 0) return -1;
    if (stat(o->metrics_file, &m) != 0) return 0; /* none yet: nothing to replace */
    const char *what[] = { "the template", "the job file", "the dead-letter file" };
    const char *paths[] = { o->template_file, o->config_file, o->dead_letter };
    for (int i = -o->ninputs; i < 3; i++) {
        const char *p = i < 0 ? o->inputs[i + o->ninputs] : paths[i];
        if (p == NULL || strcmp(p, "-") == 0 || stat(p, &x) != 0) continue;
        if (x.st_dev == m.st_dev && x.st_ino == m.st_ino) {
            lw_diag_setf(d, "--metrics-file %s is %s%s: refusing to replace it", o->metrics_file,
                         i < 0 ? "an input, " : what[i], i < 0 ? p : "");
            return -1;
        }
    }
    return 0;
}

struct lw_metrics *
lw_metrics_new(const struct lw_opts *o, int *status, struct lw_diag *d)
{
    struct lw_metrics *m = lw_xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->rmu, NULL);
    pthread_mutex_init(&m->fmu, NULL);
    pthread_mutex_init(&m->rlmu, NULL);
    m->reload_on = o->metrics_reload;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->fcond, &ca);
    pthread_cond_init(&m->rlcond, &ca);
    pthread_condattr_destroy(&ca);
    m->start_s = real_s();
    m->proc_ok = true;
    m->file = o->metrics_file;
    m->interval_ms = o->metrics_interval_ms;
    /* the threads take no signal: the loop's thread must see them (a read on an idle pipe
     * returns EINTR for SIGTERM only in the thread the signal went to) */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    if (m->file && own_file(o, d) != 0) {
        *status = 2;
        rc = -1;
    } else if (m->file && write_file(m, true, d) != 0) {
        *status = 4;
        rc = -1;
    }
    if (rc == 0 && o->metrics_listen && start_httpd(m, o, d) != 0) {
        *status = 2;
        rc = -1;
    }
    if (rc == 0 && m->file && pthread_create(&m->filer, NULL, filer, m) == 0)
        m->filer_started = true;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        lw_metrics_free(m, NULL);
        return NULL;
    }
    return m;
}

struct lw_metrics_pipe *
lw_metrics_pipeline(struct lw_metrics *m, const char *name)
{
    struct lw_metrics_pipe *p = lw_xcalloc(1, sizeof *p);
    p->m = m;
    p->name = lw_xstrndup(name, strlen(name));
    p->down = -1;
    pthread_mutex_init(&p->mu, NULL);
    p->back = 0;
    p->mid = 1;
    p->front = 2;
    p->last_ms = INT64_MIN / 2;
    p->rl_done = lw_pipeline_reload_asked(); /* requests before it began are not its own */
    p->rl_ok = true;
    for (int i = 0; i < 3; i++)
        lw_buf_init(&p->s[i].names);
    pthread_mutex_lock(&m->rmu);
    m->pipes = lw_xrealloc(m->pipes, (size_t)(m->npipes + 1) * sizeof *m->pipes);
    m->pipes[m->npipes++] = p;
    pthread_mutex_unlock(&m->rmu);
    return p;
}

int
lw_metrics_free(struct lw_metrics *m, struct lw_diag *d)
{
    if (m == NULL) return 0;
    if (m->httpd) mhd.stop_daemon(m->httpd);
    if (m->filer_started) {
        pthread_mutex_lock(&m->fmu);
        m->quit = true;
        pthread_cond_signal(&m->fcond);
        pthread_mutex_unlock(&m->fmu);
        pthread_join(m->filer, NULL);
    }
    int rc = 0;
    if (d && m->file && write_file(m, false, d) != 0) rc = -1;
    for (int i = 0; i < m->npipes; i++) {
        struct lw_metrics_pipe *p = m->pipes[i];
        for (int k = 0; k < 3; k++) {
            free(p->s[k].parts);
            free(p->s[k].tables);
            lw_buf_fini(&p->s[k].names);
        }
        free(p->tmp);
        free(p->name);
        pthread_mutex_destroy(&p->mu);
        free(p);
    }
    free(m->pipes);
    pthread_mutex_destroy(&m->rmu);
    pthread_mutex_destroy(&m->fmu);
    pthread_cond_destroy(&m->fcond);
    pthread_mutex_destroy(&m->rlmu);
    pthread_cond_destroy(&m->rlcond);
    free(m);
    return rc;
}

/* Metrics: one registry per process, one set of series per pipeline (label pipeline="NAME"),
 * served as Prometheus text on --metrics-listen (libmicrohttpd, its own thread) and written as
 * JSON to --metrics-file. The record loop only publishes: it copies its counters into a
 * snapshot; the server and the file writer read snapshots, never the loop's state. */
#ifndef LW_METRICS_H
#define LW_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "lw/deadletter.h"
#include "lw/diag.h"
#include "lw/opts.h"
#include "lw/pipeline.h"
#include "lw/sink.h"
#include "lw/source.h"
#include "lw/tablewatch.h"

struct lw_metrics;
struct lw_metrics_pipe;

/* At most this many partitions per pipeline get series of their own (a bounded label set);
 * logwash_kafka_assigned_partitions and logwash_kafka_lag still count them all. */
#define LW_METRICS_MAX_PARTITIONS 1000

/* lw_metrics_new: the registry for o's --metrics-listen, --metrics-file, --metrics-interval:
 * the listener bound and its thread started, the file written once (empty). NULL with d set
 * when it cannot be: *status is then 2 (a bad or unavailable address) or 4 (the file). The
 * threads block every signal. Free with lw_metrics_free. */
struct lw_metrics *lw_metrics_new(const struct lw_opts *o, int *status, struct lw_diag *d);

/* lw_metrics_addr_ok: 0 when spec has the form of --metrics-listen (nothing is resolved or
 * bound), else -1 with d set. */
int lw_metrics_addr_ok(const char *spec, struct lw_diag *d);

/* lw_metrics_file_ok: 0 when --metrics-file path does not exist or is a regular file, else -1
 * with d set: the file is replaced by a rename, which would put a regular file in the place of
 * a device (/dev/null), a fifo, a symbolic link or a directory. */
int lw_metrics_file_ok(const char *path, struct lw_diag *d);

/* lw_metrics_pipeline: register a pipeline named name (copied; label value and JSON key). Its
 * series appear once it has published. Lives as long as m. */
struct lw_metrics_pipe *lw_metrics_pipeline(struct lw_metrics *m, const char *name);

/* lw_metrics_name: the pipeline name of a job file: its base name without .yaml/.yml, into
 * buf; "main" without a job file. Returns buf. */
const char *lw_metrics_name(const char *job_file, char *buf, size_t cap);

enum lw_metrics_when {
    LW_METRICS_TICK,  /* between records: published at most every 100 ms */
    LW_METRICS_QUIET, /* the input is quiet: published when anything changed (or 100 ms) */
    LW_METRICS_END,   /* the loop is over: always published */
};

/* lw_metrics_publish: from the record loop's thread: copy the pipeline's counters, dead letters
 * (dl may be NULL), the source's partitions, the sinks' delivery figures, the state's keys,
 * windows and bytes (state may be NULL) and the tables' rows and bytes (tw may be NULL) into
 * p's snapshot. Never waits for a reader longer than a pointer swap. */
void lw_metrics_publish(struct lw_metrics_pipe *p, const struct lw_counters *n,
                        const struct lw_dlpath *dl, struct lw_source *src, struct lw_sink *sinks,
                        int nsinks, const struct logwash_state *state,
                        const struct lw_tablewatch *tw, enum lw_metrics_when when);

/* lw_metrics_reloaded: from the record loop: the reload that served the requests up to number
 * gen (lw_pipeline_reload) ended, ok or not (why: its first line). POST /-/reload waits for
 * this. */
void lw_metrics_reloaded(struct lw_metrics_pipe *p, unsigned long gen, bool ok, const char *why);

/* lw_metrics_pipe_state: from a pipeline's supervisor (several pipelines): whether it runs,
 * and its restarts so far (logwash_pipeline_up, logwash_pipeline_restarts_total). */
void lw_metrics_pipe_state(struct lw_metrics_pipe *p, bool up, uint64_t restarts);

/* lw_metrics_pipe_failed: from a pipeline's supervisor (several pipelines): a run of it failed
 * with exit status status (1: a record stopped it, 2: its settings were refused, 4: an I/O
 * error of the stage io_stage, enum lw_io_stage; any other is not counted), into
 * logwash_pipeline_failures_total{reason}, and logwash_pipeline_failed{reason} until it runs
 * again (lw_metrics_pipe_state). */
void lw_metrics_pipe_failed(struct lw_metrics_pipe *p, int status, int io_stage);

/* lw_metrics_reason: the reason label of a run that ended so ("records", "config", "source",
 * "sink", "dead_letter"), NULL when it did not fail. */
const char *lw_metrics_reason(int status, int io_stage);

/* lw_metrics_free: stop the listener and the file thread, write the file a last time from the
 * last snapshots, free m (NULL: nothing). Returns 0, or -1 with d set when that write failed. */
int lw_metrics_free(struct lw_metrics *m, struct lw_diag *d);

#endif

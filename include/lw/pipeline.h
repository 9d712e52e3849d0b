/* The record loop: source -> decoder -> template VM -> encoder -> sink, with the dead-letter
 * path, the --on-error policy, limits and counters. The only place the stages meet. */
#ifndef LW_PIPELINE_H
#define LW_PIPELINE_H

#include <stdbool.h>

#include "logwash.h"
#include "lw/opts.h"

struct lw_counters {
    uint64_t in, emitted, dropped, rejected, failed, undecodable;
    uint64_t bytes_in, bytes_out; /* of the records read; of the outputs kept */
    uint64_t late;                /* records with a window contribution refused as late */
    /* seen() and windows: results given, windows closed early and keys evicted at
     * --max-state, records run again because a worker's seen() answer was wrong */
    uint64_t window_results, closed_early, evicted, reruns;
    /* seen() with Kafka input: commits made past its horizon at its bound; the records held
     * and the spans kept for its commits now, and their bytes (lw_kseen) */
    uint64_t seen_inexact, seen_held, seen_spans, seen_bytes;
    /* windows with Kafka input: commits made past their exact point at the bound of their
     * holds; the records held for them now, and their bytes (lw_kwin) */
    uint64_t win_inexact, win_held, win_bytes;
    uint64_t vm_steps; /* template instructions run (logwash_runner_steps) */
    /* reloads (SIGHUP, POST /-/reload): attempts, failed ones, whether the last one worked (1
     * before any), when it ended (seconds since 1970, 0: never) */
    uint64_t reloads, reload_failures, reload_last_ok, reload_last_s;
    /* the run's, not summed across restarts: the stage whose I/O error ended it (exit status
     * 4), LW_IO_NONE when none did */
    int io_stage;
};

/* The stage of an I/O error (lw_counters.io_stage): the input (reading, a Kafka source's
 * consumer), the output (writing, delivering, a Kafka sink), the dead letters (their file, or
 * the sink of their topic). */
enum lw_io_stage { LW_IO_NONE, LW_IO_SOURCE, LW_IO_SINK, LW_IO_DEAD_LETTER };

struct lw_metrics_pipe; /* metrics.h */

/* A reload: the caller's load reads the job file and the template again and compiles them;
 * the loop checks that what it cannot change while it runs (workers, a file source, the
 * metrics) is unchanged, loads changed tables, makes the new runners, and swaps them in
 * between two records. Changed source, sink or dead-letter settings are validated
 * (lw_validate), then the stages are drained and opened again with them: the sinks and dead
 * letters alone, or with a Kafka source the source too. */
struct lw_reloader {
    /* load: a new configuration into *o and *t (both the caller's, given back through
     * release). 0, or -1 when it is wrong: said on stderr (file:line:col), and the first line
     * of it in why (cap bytes). */
    int (*load)(void *ud, struct lw_opts **o, struct logwash_template **t, char *why, size_t cap);
    void (*release)(void *ud, struct lw_opts *o, struct logwash_template *t);
    void *ud;
    /* asked: the number of the last request to serve (NULL: lw_pipeline_reload_asked). With
     * it, load may also return 1: the pipeline was removed, the run ends as at a stop (what
     * was read delivered and committed). */
    unsigned long (*asked)(void *ud);
};

/* lw_pipeline_run: run the template t over the inputs named in o, with one runner per worker
 * (logwash.h). Returns the exit status (STYLE §8): 0, 1 (some records failed), 4 (I/O error).
 * Messages go to stderr. The loop publishes its counters to metrics (NULL: none) as it goes
 * and at the end; out (may be NULL) gets them at the end, and with o->pipeline set they start
 * from *out (a restarted pipeline's series go on). Runs may go on in several threads at once,
 * each with its own o, t and metrics; a stop of one (a final failure) leaves the others. */
int lw_pipeline_run(const struct logwash_template *t, const struct lw_opts *o,
                    struct lw_counters *out, struct lw_metrics_pipe *metrics,
                    const struct lw_reloader *reloader);

/* lw_pipeline_stop: ask the loop to stop after the current record (signal-safe). */
void lw_pipeline_stop(void);

/* lw_pipeline_stopping: whether lw_pipeline_stop was called. */
bool lw_pipeline_stopping(void);

/* lw_pipeline_reload: ask every loop with a reloader to reload between two records
 * (async-signal-safe; requests made while one is loading are served by one more reload after
 * it). Returns the request's number: lw_metrics_reloaded reports the attempts by number. */
unsigned long lw_pipeline_reload(void);

/* lw_pipeline_reload_asked: the number of the last request. */
unsigned long lw_pipeline_reload_asked(void);

#endif

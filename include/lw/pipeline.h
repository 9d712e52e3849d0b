/* The record loop: source -> decoder -> template VM -> encoder -> sink, with the dead-letter
 * path, the --on-error policy, limits and counters. The only place the stages meet. */
#ifndef LW_PIPELINE_H
#define LW_PIPELINE_H

#include "logwash.h"
#include "lw/opts.h"

struct lw_counters {
    uint64_t in, emitted, dropped, rejected, failed, undecodable;
    uint64_t bytes_in, bytes_out; /* of the records read; of the outputs kept */
    uint64_t late;                /* records with a window contribution refused as late */
    /* seen() and windows: results given, windows closed early and keys evicted at
     * --max-state, records run again because a worker's seen() answer was wrong */
    uint64_t window_results, closed_early, evicted, reruns;
};

struct lw_metrics_pipe; /* metrics.h */

/* lw_pipeline_run: run the template t over the inputs named in o, with one runner per worker
 * (logwash.h). Returns the exit status (STYLE §8): 0, 1 (some records failed), 4 (I/O error).
 * Messages go to stderr. The loop publishes its counters to metrics (NULL: none) as it goes
 * and at the end. */
int lw_pipeline_run(const struct logwash_template *t, const struct lw_opts *o,
                    struct lw_counters *out, struct lw_metrics_pipe *metrics);

/* lw_pipeline_stop: ask the loop to stop after the current record (signal-safe). */
void lw_pipeline_stop(void);

#endif

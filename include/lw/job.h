/* A job: its options and template loaded and compiled (at start and at each reload), and the
 * running of a job file's several pipelines (pipelines:) in one process, a thread each. */
#ifndef LW_JOB_H
#define LW_JOB_H

#include <stddef.h>

#include "logwash.h"
#include "lw/opts.h"

/* lw_job_compile: o's template through the library: the built-in grok patterns, then each
 * --patterns directory, then the template. Errors go to stderr as logwash(1) prints them; the
 * first line of the first one into why (cap bytes). Returns the template, or NULL with *rc the
 * exit status (2: an unreadable file or pattern directory, or --validate; 3: a wrong
 * template). */
struct logwash_template *lw_job_compile(const struct lw_opts *o, int *rc, char *why, size_t cap);

/* What lw_job_load parses again: the command line, and the pipeline (NULL: the job). */
struct lw_job_args {
    int argc;
    char **argv;
    const char *pipeline;
};

/* lw_job_load, lw_job_release: struct lw_reloader's load and release (pipeline.h), ud a
 * struct lw_job_args. Loads are serialized (getopt is not reentrant): any thread may call. */
int lw_job_load(void *ud, struct lw_opts **o, struct logwash_template **t, char *why, size_t cap);
void lw_job_release(void *ud, struct lw_opts *o, struct logwash_template *t);

/* lw_job_pipelines: run every pipeline of top's job file (top: the process's options, from
 * lw_opts_parse; top->config.pipelines names them): each parsed and compiled first (any error:
 * nothing runs), checked against the others (stdin, dead-letter files, consumer groups), then
 * run on a thread of its own with its metrics; a Kafka pipeline that fails is restarted with
 * backoff while the others go on. Also --validate, --print-config, --check and --disasm of
 * every pipeline. Returns the exit status: the worst of the pipelines'. */
int lw_job_pipelines(const struct lw_opts *top, int argc, char **argv);

#endif

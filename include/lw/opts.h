/* Command-line options: one getopt_long table with the help text (opts.c) fills struct lw_opts.
 * Nothing here runs anything; main.c hands the options to the pipeline. */
#ifndef LW_OPTS_H
#define LW_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "logwash.h"

#include "lw/config.h"
#include "lw/tablewatch.h"

enum lw_on_error { LW_ONERR_WARN, LW_ONERR_SKIP, LW_ONERR_ABORT };
enum lw_from { LW_FROM_FILES, LW_FROM_KAFKA };
enum lw_to { LW_TO_STDOUT, LW_TO_KAFKA };

struct lw_opts {
    const char *template_file; /* -f (a shipped template's path when found by name) */
    char *template_found;      /* owned: that path */
    const char *template_text; /* -e */
    char **inputs;             /* files; none or "-" means stdin */
    int ninputs;
    enum logwash_input input; /* -i (LOGWASH_INPUT_DEFAULT: as the template says, else text) */
    enum logwash_output_format output; /* -o */
    enum lw_on_error on_error;         /* --on-error */
    const char *dead_letter;           /* --dead-letter FILE */
    const char **patterns;             /* --patterns DIR (repeatable): grok pattern directories, in
                                        * order (the array is owned, the strings are argv's) */
    int npatterns;
    const char **libs; /* --lib DIR (repeatable): import directories, in order (owned array) */
    int nlibs;
    /* --table NAME[:OPTIONS]=FILE (repeatable; one of the command line replaces the job file's
     * of the same name): the array and the specs are owned */
    struct lw_table_spec *tables;
    int ntables;
    size_t max_state; /* --max-state: bytes of state (the tables) all together */
    bool check, disasm, unbuffered, no_jit;
    bool validate;        /* --validate: check everything, run nothing (validate.c) */
    bool print_config;    /* --print-config: print the effective job file (validate.c) */
    const char *tz_name;  /* --tz as given (NULL: UTC), checked by lw_opts_parse */
    bool list_patterns;   /* --list-patterns [NAME] (patlist.c): inputs hold the NAME */
    const char *now_text; /* --now as given (NULL: the clock), for --print-config */
    int jobs;             /* -j: worker threads; 0: the default (one per CPU, one for a terminal) */
    int explain;          /* --explain[=N]: records explained on stderr at most; 0: off */
    int verbosity;        /* -q: -1, default 0, -v: 1 */
    struct logwash_limits limits;
    size_t max_line;
    /* multiline framing (src_file.c): a line matching ml_start starts a record and every other
     * line continues it; or a line indented (ml_indent) or matching ml_continue continues the
     * record and every other line starts one. Regexes are checked by lw_opts_parse. */
    const char *ml_start, *ml_continue;
    bool ml_indent;
    bool ml_no_indent;     /* --no-multiline-indent given: a template's `multiline indent` too */
    uint64_t ml_max_lines; /* lines per record (default 1000) */
    size_t ml_max_bytes;   /* bytes per record (default: --max-line) */
    int64_t ml_timeout_ms; /* a pending record is handed out after this long without input
                            * (live pipes; default 1000, 0: never) */
    int64_t now_ns;        /* --now, else the clock at start */
    /* Kafka */
    enum lw_from from;
    enum lw_to to;
    const char *brokers, *group, *out_topic, *dl_topic;
    char **topics; /* --topic, comma lists split (owned) */
    int ntopics;
    char **props; /* -X key=value, as given (the array is owned, the strings are argv's) */
    int nprops;
    uint64_t flush_timeout_ms; /* --flush-timeout */
    uint64_t stats_ms;         /* --stats-interval, 0: off */
    int64_t partition_idle_ms; /* --partition-idle: a partition holds windows back no longer */
    bool exit_at_eof;          /* --exit-at-eof */
    /* metrics (metrics.c) */
    const char *metrics_listen;   /* --metrics-listen ADDR:PORT: Prometheus text on /metrics */
    const char *metrics_file;     /* --metrics-file PATH: JSON, rewritten atomically */
    uint64_t metrics_interval_ms; /* --metrics-interval (default 10 s) */
    bool metrics_reload;          /* --metrics-reload: POST /-/reload reloads the job */
    /* -c FILE: the job file's options come first, so the command line overrides them */
    const char *config_file;
    struct lw_config config;
    const char *pipeline; /* with pipelines: in the job file, whose options these are (NULL:
                           * the process's: metrics and what every pipeline shares) */
    char **argv;          /* the options parsed: argv[0], the job file's, then the command line's */
};

/* lw_opts_parse: fill o from argv. Returns 0 to run, 1 when the program should exit 0 at once
 * (--help, --version were printed to out), or -1 on a usage error with a one-line message
 * in err (errcap bytes). */
int lw_opts_parse(struct lw_opts *o, int argc, char **argv, FILE *out, char *err, size_t errcap);

/* lw_opts_parse_pipeline: lw_opts_parse for the pipeline named pipeline of the job file's
 * pipelines: (its keys after the top level's, then the command line). With pipeline NULL and a
 * job file that has pipelines:, only the process's options are parsed (no template, no
 * inputs: o->config.pipelines names the pipelines). */
int lw_opts_parse_pipeline(struct lw_opts *o, int argc, char **argv, const char *pipeline,
                           FILE *out, char *err, size_t errcap);

/* lw_opts_parse_from: lw_opts_parse_pipeline with the job file taken from jf (lw_jobfile_open,
 * config.h) when the command line names that file, not read again: a job's pipelines are
 * parsed from one reading of it. jf may be NULL. */
int lw_opts_parse_from(struct lw_opts *o, int argc, char **argv, const char *pipeline,
                       struct lw_jobfile *jf, FILE *out, char *err, size_t errcap);

/* lw_opts_config_file: the job file argv names (-c FILE, --config=FILE), or NULL. */
const char *lw_opts_config_file(int argc, char **argv);

/* lw_opts_find_template: resolve o->template_file when it names a shipped template (-f @NAME,
 * or a NAME that is no file): o->template_file becomes the path found (o->template_found, owned
 * by o). Looks in $LOGWASH_TEMPLATES, beside the binary, the installed templates, then
 * o->libs. Returns 0, or -1 with a message in err for an @NAME found nowhere. */
int lw_opts_find_template(struct lw_opts *o, char *err, size_t errcap);

/* lw_opts_fini: free what lw_opts_parse allocated and loaded (topic, property and pattern
 * directory lists, the job file). */
void lw_opts_fini(struct lw_opts *o);

#endif

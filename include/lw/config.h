/* The YAML job file (-c FILE, libfyaml): turned into the command-line options it stands for,
 * so the file and the command line share one parser and one set of checks, and options given
 * on the command line after it override it. The keys are documented in logwash.yaml(5). */
#ifndef LW_CONFIG_H
#define LW_CONFIG_H

#include <stddef.h>

/* One option the file stands for: "--input=json", "-Xkey=value" (text owned by the list),
 * with the position of the YAML value it came from, for messages. */
struct lw_config_arg {
    char *text;
    int line, col; /* 1-based */
};

struct lw_config {
    struct lw_config_arg *args;
    int nargs;
    char **files; /* source files: inputs when the command line names none */
    int nfiles;
    int *file_line, *file_col; /* where each of files is in the job file (1-based) */
    char **pipelines;          /* the names of pipelines: (owned), in the file's order; only */
    int npipelines;            /* for the top level (no pipeline wanted) */
};

/* lw_config_load: read path into c. Returns 0, or -1 with "path:line:col: error: ..." in err
 * (a YAML syntax error, an unknown key, a value of the wrong kind). A relative template path
 * or file name is taken relative to the directory of path. */
int lw_config_load(const char *path, struct lw_config *c, char *err, size_t errcap);

/* lw_config_load_pipeline: lw_config_load, and with want (not NULL) the options of the
 * pipeline named want of the file's pipelines: added after the top level's (logwash.yaml(5)
 * PIPELINES); a file without pipelines:, or without that one, is an error. */
int lw_config_load_pipeline(const char *path, const char *want, struct lw_config *c, char *err,
                            size_t errcap);

/* A job file read, checked and parsed once, from which lw_config_from takes the top level's
 * options and each pipeline's (what lw_config_load_pipeline gives, without reading and parsing
 * the file again: a job of n pipelines loads in time linear in n, not quadratic). One caller
 * at a time: it keeps an index of the pipelines built at the first one wanted. */
struct lw_jobfile;

/* lw_jobfile_open: read and parse path. NULL with err set as lw_config_load sets it (the file
 * unreadable, not UTF-8, a YAML error, a second document, an alias). */
struct lw_jobfile *lw_jobfile_open(const char *path, char *err, size_t errcap);
/* lw_config_from: lw_config_load_pipeline(path, want, ...) on the file read by open. */
int lw_config_from(struct lw_jobfile *jf, const char *want, struct lw_config *c, char *err,
                   size_t errcap);
const char *lw_jobfile_path(const struct lw_jobfile *jf);
void lw_jobfile_free(struct lw_jobfile *jf);

void lw_config_fini(struct lw_config *c);

#endif

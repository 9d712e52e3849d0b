/* Sinks take encoded bytes; they know nothing of records or templates. The pipeline hands a
 * sink whole records only, so a record is never half written by logwash itself. */
#ifndef LW_SINK_H
#define LW_SINK_H

#include <sys/types.h>

#include "lw/diag.h"

struct lw_sink {
    const char *name; /* for messages */
    int fd;
    bool owned;       /* close at the end */
    bool broken_pipe; /* the reader went away: a quiet, normal stop for stdout */
    size_t wrote;     /* bytes the last lw_sink_write wrote, also when it failed */
};

/* lw_sink_open_fd: a sink writing to fd (not closed). */
void lw_sink_open_fd(struct lw_sink *s, int fd, const char *name);

/* A file a new output file must not be: the inputs, the template, stdout. */
struct lw_sink_keep {
    dev_t dev;
    ino_t ino;
    const char *what; /* for the message: "the input 'a.log'" */
};

/* lw_sink_keep_path, lw_sink_keep_fd: add the regular file at path or fd to keep[*n] (nothing
 * when it does not exist or is not a regular file). */
void lw_sink_keep_path(struct lw_sink_keep *keep, int *n, const char *path, const char *what);
void lw_sink_keep_fd(struct lw_sink_keep *keep, int *n, int fd, const char *what);

/* lw_sink_open_file: create path, or truncate it unless it is one of keep[0, nkeep), which is
 * refused with d set: `--dead-letter in.log in.log` would empty its own input before reading it
 * (as `sort -o` and `cp` refuse). The comparison is by device and inode of the opened file, so
 * a link or another spelling of the name is caught too. */
int lw_sink_open_file(struct lw_sink *s, const char *path, const struct lw_sink_keep *keep,
                      int nkeep, struct lw_diag *d);

/* lw_sink_write: write all n bytes. Returns 0, or -1 with d set (EPIPE also sets broken_pipe);
 * either way s->wrote says how many of the n bytes were written, from the start of p. */
int lw_sink_write(struct lw_sink *s, const char *p, size_t n, struct lw_diag *d);

/* lw_sink_close: close an owned descriptor; reports a failed close as an I/O error. */
int lw_sink_close(struct lw_sink *s, struct lw_diag *d);

#endif

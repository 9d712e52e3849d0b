/* Sinks take encoded bytes; they know nothing of records or templates. The pipeline hands a
 * sink whole records only, so a record is never half written by logwash itself. */
#ifndef LW_SINK_H
#define LW_SINK_H

#include "lw/diag.h"

struct lw_sink {
    const char *name; /* for messages */
    int fd;
    bool owned;       /* close at the end */
    bool broken_pipe; /* the reader went away: a quiet, normal stop for stdout */
    size_t wrote;     /* bytes the last lw_sink_write wrote, also when it failed */
};

/* lw_sink_open_fd: a sink writing to fd (not closed); lw_sink_open_file: create/truncate path. */
void lw_sink_open_fd(struct lw_sink *s, int fd, const char *name);
int lw_sink_open_file(struct lw_sink *s, const char *path, struct lw_diag *d);

/* lw_sink_write: write all n bytes. Returns 0, or -1 with d set (EPIPE also sets broken_pipe);
 * either way s->wrote says how many of the n bytes were written, from the start of p. */
int lw_sink_write(struct lw_sink *s, const char *p, size_t n, struct lw_diag *d);

/* lw_sink_close: close an owned descriptor; reports a failed close as an I/O error. */
int lw_sink_close(struct lw_sink *s, struct lw_diag *d);

#endif

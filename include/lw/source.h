/* Sources yield raw records (bytes) one at a time; they know nothing of decoding or bytecode.
 * A source owns the record bytes until its next call. */
#ifndef LW_SOURCE_H
#define LW_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "lw/diag.h"
#include "lw/opts.h"

/* Where a record came from, for messages and dead letters ("access.log:1042"). */
struct lw_recpos {
    const char *name; /* file name, or "stdin" */
    uint64_t line;    /* 1-based record number within name */
    bool too_long;    /* the record was cut (at --max-line bytes, or a multiline limit) */
    const char *why;  /* with too_long: what cut it, valid until the next call; NULL: --max-line */
};

struct lw_source;

struct lw_source_ops {
    const char *name;
    int (*open)(struct lw_source *s, const struct lw_opts *o, struct lw_diag *d);
    /* 1: *rec and *pos valid until the next call; 0: end of input; -1: I/O error in d */
    int (*next)(struct lw_source *s, struct lw_str *rec, struct lw_recpos *pos, struct lw_diag *d);
    void (*close)(struct lw_source *s);
};

struct lw_source {
    const struct lw_source_ops *ops;
    void *state;
};

/* files and stdin, framed into lines, or into multiline records (--multiline-*) */
extern const struct lw_source_ops lw_source_files;

#endif

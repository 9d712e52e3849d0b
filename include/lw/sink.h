/* Sinks take encoded outputs; they know nothing of records' contents or templates. A sink is a
 * table of operations (struct lw_sink_ops) chosen by name (lw_sink_find); the pipeline hands a
 * sink whole records only, so a record is never half written by logwash itself, and a sink
 * reports back, per ticket, when a record's output is safe or finally failed (struct
 * lw_sink_host). The file-descriptor writer (struct lw_fd) is here too: the stdout sink and
 * the dead-letter file write through it. */
#ifndef LW_SINK_H
#define LW_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lw/buf.h"
#include "lw/diag.h"
#include "lw/source.h"
#include "lw/stage.h"
#include "lw/str.h"

/* One header of a routed output. */
struct lw_header {
    struct lw_str name, value;
    bool null_value;
};

/* One output of a record: its bytes are out[off, off + len), line terminator included. For a
 * sink of messages, what the template said about where it goes (emit ... to, key, headers):
 * each absent unless said, and the sink's defaults apply. */
struct lw_output {
    size_t off, len;
    struct lw_str to, key;
    bool has_to, has_key;
    uint32_t h0, nh; /* its headers: hdrs[h0, h0 + nh) */
};

/* One record's outputs, handed to put. Valid for the call only. */
struct lw_sink_rec {
    const struct lw_recpos *pos; /* where the record came from; its ticket */
    struct lw_str raw;           /* the record (for the dead letter of an output refused) */
    size_t start;                /* its outputs are out[start, out->len) */
    const struct lw_output *outs;
    uint32_t nouts;
    const struct lw_header *hdrs;
};

/* What the loop lends its sinks: the acknowledgements and the loop's reactions. */
struct lw_sink_host {
    void *ud;
    /* hold, done: the source's (source.h); NULL when it does not acknowledge. A sink takes a
     * hold per output it has in flight and drops it with done once the output is safe (ok) or
     * finally failed (not ok). */
    void (*hold)(void *ud, uint64_t ticket);
    void (*done)(void *ud, uint64_t ticket, bool ok);
    /* locate: the source's (source.h); false when unknown or not an acknowledging source */
    bool (*locate)(void *ud, uint64_t ticket, struct lw_msgmeta *m);
    /* refused: an output of rec was refused at once: count the record as failed and send it to
     * the dead-letter path with kind, as any failed record. Returns -1 to stop (--on-error). */
    int (*refused)(void *ud, const struct lw_sink_rec *rec, const char *kind, const char *msg);
    /* dead: an output became a dead letter of its own (kind "route"): count a failed record */
    void (*dead)(void *ud);
    /* full: called while the sink waits for room, as lw_ksink_full (kafka.h) */
    bool (*full)(void *ud, bool waiting);
    /* stop: an output finally failed: stop reading (signal-safe, like lw_pipeline_stop) */
    void (*stop)(void *ud);
};

struct lw_dlpath;

/* One open sink. The caller sets ops, host, out and dl before open. */
struct lw_sink {
    const struct lw_sink_ops *ops;
    void *state;
    const struct lw_sink_host *host;
    struct lw_buf *out; /* the loop's output buffer: records' outputs are encoded there */
    /* With -j N, ext_len bytes at ext follow *out (a batch's output, not copied): a stream
     * sink's write writes them after out and empties both; 0 when none. */
    const char *ext;
    size_t ext_len;
    struct lw_dlpath *dl; /* the dead-letter path (deadletter.h); NULL: none */
    uint64_t delivered;   /* outputs reported delivered (sinks of messages) */
    uint64_t undelivered; /* delivery reports with an error (each retry's failure is not one) */
    bool lost;            /* an output finally failed: the run's status is 1 */
};

struct lw_sink_ops {
    const char *name;
    /* messages: each output is a message of its own, routed (emit ... to/key/headers) and
     * acknowledged by a delivery report; put takes the bytes out of the output buffer. Else the
     * outputs are a byte stream left in the output buffer for write, and routes are ignored. */
    bool messages;
    /* bad_to: NULL when to names a destination this sink can take, else what is wrong with it
     * ("is not a Kafka topic name"). Called from the template's workers: reads no state. */
    const char *(*bad_to)(struct lw_str to);
    /* open: 0, -1 (a configuration error in d: a usage error) or -2 (the destination is not
     * there or may not be written, d set: an I/O error) */
    int (*open)(struct lw_sink *s, const struct lw_stage_conf *c, struct lw_diag *d);
    /* put: one record's outputs, after the loop ran it. Returns 0, or -1 to stop the run (a
     * final failure, or --on-error=abort for an output refused). A byte-stream sink's put
     * has nothing to do without an acknowledging source (host hold NULL): -j N skips it then. */
    int (*put)(struct lw_sink *s, const struct lw_sink_rec *rec);
    /* write: write what the output buffer holds and empty it. Returns 0, -1 (d set), or -2:
     * the reader went away (a quiet, normal stop). NULL: nothing is left in the buffer. */
    int (*write)(struct lw_sink *s, struct lw_diag *d);
    /* poll: serve acknowledgements without waiting. May be NULL. */
    void (*poll)(struct lw_sink *s);
    /* tend: work deferred out of callbacks (route dead letters), after each record and at quiet
     * moments. Returns -1, d set, when the dead-letter file cannot be written. May be NULL. */
    int (*tend)(struct lw_sink *s, struct lw_diag *d);
    /* drain: before the source gives records up: everything put is finished or failed when it
     * returns (within the flush timeout). Returns -1 when the run must stop. May be NULL. */
    int (*drain)(struct lw_sink *s);
    /* finish: at the end, within the flush timeout. Returns -1, d set, on an I/O error. May be
     * NULL. */
    int (*finish)(struct lw_sink *s, struct lw_diag *d);
    /* room: the longest dead letter a message with a key of keylen bytes may carry; letter:
     * send one dead letter (value, no newline) for the record at pos, with its key when keyed:
     * a failure is final. Both NULL: dead letters cannot go to this sink. */
    size_t (*room)(struct lw_sink *s, size_t keylen);
    void (*letter)(struct lw_sink *s, const struct lw_recpos *pos, struct lw_str value, bool keyed);
    /* queued: outputs put but not yet acknowledged (a producer's queue), -1: not a queue.
     * May be NULL. */
    int64_t (*queued)(struct lw_sink *s);
    /* close: release the sink (after finish: what is still in flight is lost, unacknowledged). */
    void (*close)(struct lw_sink *s);
};

/* lw_sink_find: the sink named name ("stdout", "kafka"), NULL for none (stages.c holds the
 * table: a new sink is one file and one line there, plus its --to value, opts.c, and its name
 * in pipeline.c's setup()). */
const struct lw_sink_ops *lw_sink_find(const char *name);

/* The file-descriptor writer. */
struct lw_fd {
    const char *name; /* for messages */
    int fd;
    bool owned;       /* close at the end */
    bool broken_pipe; /* the reader went away: a quiet, normal stop for stdout */
    size_t wrote;     /* bytes the last lw_fd_write wrote, also when it failed */
    /* lw_fd_stoppable: a pipe or socket is written without blocking (wfd: a descriptor of
     * its own, O_NONBLOCK; or send with MSG_DONTWAIT), waiting in poll for room, for ever
     * unless lw_fd_stop was called: then for at most stop_ms after it (gave_up) */
    int wfd; /* the descriptor written: fd, or the non-blocking one (own_wfd) */
    bool own_wfd, dontwait, gave_up;
    uint64_t stop_ms;
};

/* lw_fd_open: a writer to fd (not closed). */
void lw_fd_open(struct lw_fd *s, int fd, const char *name);

/* lw_fd_stoppable: let a write to a pipe, FIFO or socket that waits for its reader give up
 * stop_ms after lw_fd_stop (a regular file or a terminal is written as before). A descriptor
 * logwash opened gets O_NONBLOCK; one it was given (stdout, whose open file description the
 * parent shares) is left as it is: a pipe or FIFO is opened again through /proc/self/fd (a
 * description of its own), a socket is written with MSG_DONTWAIT; when neither can be done
 * the writes block as before. */
void lw_fd_stoppable(struct lw_fd *s, uint64_t stop_ms);

/* lw_fd_stop: the process stops (a signal): from now on a write waiting for room gives up
 * after its stop_ms. Async-signal-safe; the first call's time counts. */
void lw_fd_stop(void);

/* A file a new output file must not be: the inputs, the template, stdout. */
struct lw_fd_keep {
    dev_t dev;
    ino_t ino;
    const char *what; /* for the message: "the input 'a.log'" */
};

/* lw_fd_keep_path, lw_fd_keep_fd: add the regular file at path or fd to keep[*n] (nothing
 * when it does not exist or is not a regular file). */
void lw_fd_keep_path(struct lw_fd_keep *keep, int *n, const char *path, const char *what);
void lw_fd_keep_fd(struct lw_fd_keep *keep, int *n, int fd, const char *what);

/* lw_fd_open_file: create path, or truncate it unless it is one of keep[0, nkeep), which is
 * refused with d set: `--dead-letter in.log in.log` would empty its own input before reading it
 * (as `sort -o` and `cp` refuse). The comparison is by device and inode of the opened file, so
 * a link or another spelling of the name is caught too. */
int lw_fd_open_file(struct lw_fd *s, const char *path, const struct lw_fd_keep *keep, int nkeep,
                    struct lw_diag *d);

/* lw_fd_write: write all n bytes. Returns 0, or -1 with d set (EPIPE also sets broken_pipe,
 * a wait given up after a stop gave_up); either way s->wrote says how many of the n bytes were
 * written, from the start of p. */
int lw_fd_write(struct lw_fd *s, const char *p, size_t n, struct lw_diag *d);

/* lw_fd_close: close an owned descriptor (and lw_fd_stoppable's own one); reports a failed
 * close of an owned one as an I/O error. */
int lw_fd_close(struct lw_fd *s, struct lw_diag *d);

#endif

/* Dead letters: one JSON object per line for each record that failed (where it came from, what
 * failed where, the record's bytes) and for each routed output that could not be delivered
 * (kind "route"). The one place their format is written, and the dead-letter path every sink
 * uses: a file (through the fd writer) or a topic (through a sink's letter operation). */
#ifndef LW_DEADLETTER_H
#define LW_DEADLETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw/buf.h"
#include "lw/sink.h"
#include "lw/source.h"
#include "lw/str.h"

/* lw_dl_record: append the dead letter of the record at pos (its bytes raw) to b, with its
 * newline: where it came from (file and line, or topic, partition and offset), the kind
 * ("decode", "reject", "error", "produce"), the template position where (NULL: none) and the
 * error msg, and the original bytes (as a string when they are UTF-8, else base64). Without its
 * newline it takes at most room bytes (SIZE_MAX: no limit; a dead-letter topic's message must
 * fit message.max.bytes): the template position and the error get at most half of what is left
 * each, and the record keeps its head, cut on a character, with "record_truncated" and
 * "record_length" (its length in bytes) when it is not whole. A Kafka message cut at --max-line
 * is not whole either. */
void lw_dl_record(struct lw_buf *b, const struct lw_recpos *pos, struct lw_str raw,
                  const char *kind, const char *where, const char *msg, size_t room);

/* A routed output that could not be delivered: its topic is unknown or not authorized. */
struct lw_dl_route {
    const char *in_topic; /* where its record came from; NULL: unknown (no position written) */
    int32_t partition;
    int64_t offset;
    const char *topic, *err; /* the output's topic, and why it failed */
    struct lw_str value;     /* the output's value, or its first bytes */
    bool cut;                /* the value was longer */
};

/* lw_dl_route: append the dead letter (kind "route") of f to b, with its newline: the input's
 * position when known, the error, the output's topic and its value (a string when it is UTF-8,
 * else base64), "output_cut" when only its head was kept. */
void lw_dl_route(struct lw_buf *b, const struct lw_dl_route *f);

/* The dead-letter path: a file, or a sink of messages (letter). Letters for a file wait in buf
 * until lw_dlpath_flush; letters for a topic go at once. */
struct lw_dlpath {
    const char *name;     /* the file or the topic, for messages */
    struct lw_sink *sink; /* a topic: this sink's room and letter; NULL: the file */
    struct lw_fd file;
    struct lw_buf buf;  /* record letters not yet written to the file, or the one being sent */
    struct lw_buf rbuf; /* the route letter being sent: not buf, which a wait for room while
                         * buf's letter is being sent can find in use (a revocation's drain) */
    uint64_t letters;   /* dead letters made (to the file, or handed to the topic's sink) */
    bool failed;        /* a write to the file failed (or it was closed): nothing more goes there */
    struct lw_diag err; /* why */
};

/* lw_dlpath_open_file: letters to the file at path, created or truncated (lw_fd_open_file's
 * rules, keep[0, nkeep) refused). Returns 0, or -1 with d set. */
int lw_dlpath_open_file(struct lw_dlpath *dl, const char *path, const struct lw_fd_keep *keep,
                        int nkeep, struct lw_diag *d);

/* lw_dlpath_open_sink: letters to a topic of sink s, named name (for messages). */
void lw_dlpath_open_sink(struct lw_dlpath *dl, struct lw_sink *s, const char *name);

/* lw_dlpath_record: the dead letter of the record at pos (lw_dl_record): for a topic, fitted to
 * the sink's room (with the record's key unless the key would leave less than half of it) and
 * sent at once, holding the record until it is delivered; for the file, kept in buf. */
void lw_dlpath_record(struct lw_dlpath *dl, const struct lw_recpos *pos, struct lw_str raw,
                      const char *kind, const char *where, const char *msg);

/* lw_dlpath_route: send the dead letter of f, an output of the record of ticket, at once (the
 * file is written now, not after buf). Returns 0 (for a topic: handed to the sink), or -1 when
 * the file cannot be written (dl->err says why). */
int lw_dlpath_route(struct lw_dlpath *dl, const struct lw_dl_route *f, uint64_t ticket);

/* lw_dlpath_flush: write buf to the file. After a failed write nothing more is written there (a
 * later letter would follow a torn line): the records whose letters are dropped are not
 * finished by the caller. Returns -1, d set, once it failed. */
int lw_dlpath_flush(struct lw_dlpath *dl, struct lw_diag *d);

/* lw_dlpath_close: flush and close the file; a route failure after it is not written. Returns -1,
 * d set, when either failed. Nothing to do for a topic. */
int lw_dlpath_close(struct lw_dlpath *dl, struct lw_diag *d);

/* lw_dlpath_fini: free the buffers. */
void lw_dlpath_fini(struct lw_dlpath *dl);

#endif

/* Dead letters: one JSON object per line for each record that failed (where it came from, what
 * failed where, the record's bytes) and for each routed output that could not be delivered
 * (kind "route"). The one place their format is written; where they go is the caller's. */
#ifndef LW_DEADLETTER_H
#define LW_DEADLETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw/buf.h"
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

#endif

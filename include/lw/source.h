/* Sources yield raw records (bytes) one at a time; they know nothing of decoding or bytecode.
 * A source owns the record bytes until its next call. */
#ifndef LW_SOURCE_H
#define LW_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "logwash.h"
#include "lw/diag.h"
#include "lw/stage.h"
#include "lw/str.h"

/* A Kafka message's position and key (dead letters, the default key of outputs). Slices are
 * valid with the record. */
struct lw_msgmeta {
    struct lw_str topic;
    int32_t partition;
    int64_t offset;
    size_t len; /* the value's length: the record holds less when it was cut (--max-line) */
    struct lw_str key;
    bool has_key;
};

/* Where a record came from, for messages and dead letters ("access.log:1042",
 * "in/3@1042" for Kafka: topic/partition@offset). */
struct lw_recpos {
    const char *name; /* file name, "stdin", or the Kafka "topic/partition" */
    uint64_t line;    /* 1-based record number within name; the offset for Kafka */
    bool too_long;    /* the record was cut (at --max-line bytes, or a multiline limit) */
    const char *why;  /* with too_long: what cut it, valid until the next call; NULL: --max-line */
    const struct lw_msgmeta *msg; /* Kafka messages only, else NULL */
    /* The template's meta, filled by the source for every record it hands out (logwash.h:
     * file name and record number, or the Kafka message's topic, partition, offset, key,
     * timestamp and headers); valid with the record. */
    const struct logwash_meta *meta;
    uint64_t ticket; /* for hold/done (sources that acknowledge) */
};

struct lw_source;

/* One assigned partition's position, for metrics (lw_source_ops.parts). topic is valid until
 * the source's next call. */
struct lw_partstat {
    const char *topic;
    int32_t partition;
    int64_t lag;    /* records behind the partition's end as last seen, -1: unknown */
    int64_t commit; /* the next offset to commit (every record before it finished), -1: none */
};

struct lw_source_ops {
    const char *name;
    /* open: 0, -1 (I/O error in d) or -2 (configuration error in d: a usage error) */
    int (*open)(struct lw_source *s, const struct lw_stage_conf *c, struct lw_diag *d);
    /* 1: *rec and *pos valid until the next call; 0: end of input; -1: I/O error in d;
     * 2: nothing arrived for a while (a stream source): the caller may flush, then call again */
    int (*next)(struct lw_source *s, struct lw_str *rec, struct lw_recpos *pos, struct lw_diag *d);
    /* Acknowledging sources (Kafka; NULL for files). A record starts with one hold, taken by
     * next(). hold() adds one per output in flight; done() drops one, with ok false when an
     * output finally failed. A record is finished when its holds reach zero; the source then
     * commits its position only over a contiguous run of finished, never-failed records. */
    void (*hold)(struct lw_source *s, uint64_t ticket);
    void (*done)(struct lw_source *s, uint64_t ticket, bool ok);
    /* locate: where the record of a ticket still held came from (topic, partition, offset;
     * the topic is valid while the ticket is held). Returns false for an unknown ticket. */
    bool (*locate)(struct lw_source *s, uint64_t ticket, struct lw_msgmeta *m);
    /* wait: the caller cannot take records for now (an output is full): waiting true, called
     * again and again, keeps the source alive (a group member polls and stays in its group)
     * without handing out records; waiting false ends the wait. NULL: nothing to keep. */
    void (*wait)(struct lw_source *s, bool waiting);
    /* lag: records behind the end of the input, as last seen (no round trip); -1 unknown */
    int64_t (*lag)(struct lw_source *s);
    /* parts: the assigned partitions (as last seen, no round trip), at most cap of them into
     * out, in assignment order; returns how many are assigned (more than cap: the rest are
     * left out). NULL: a source without partitions. */
    uint32_t (*parts)(struct lw_source *s, struct lw_partstat *out, uint32_t cap);
    /* holds: the holds a ticket has now (-1: an output failed; 0: finished, or unknown). NULL:
     * not known (files). */
    int32_t (*holds)(struct lw_source *s, uint64_t ticket);
    /* setmeta: the metadata committed with the partition's next commit (Kafka stores a string
     * per partition; with commit_atomic only); getmeta: the metadata of the offset committed
     * when the partition was assigned into out (cap bytes), false for none. NULL: no metadata.
     * At most LW_SOURCE_META_MAX bytes with the final NUL. */
    void (*setmeta)(struct lw_source *s, const char *topic, int32_t partition, const char *meta);
    bool (*getmeta)(struct lw_source *s, const char *topic, int32_t partition, char *out,
                    size_t cap);
    /* setlimit: the partition's commits go no further than offset (INT64_MAX: no limit), even
     * past records finished: the caller keeps the records from there (windows under Kafka,
     * kstate.c); passed: the ticket's record and every earlier one of its partition are
     * finished (or the ticket is stale: its partition was revoked). NULL: not supported. */
    void (*setlimit)(struct lw_source *s, const char *topic, int32_t partition, int64_t offset);
    bool (*passed)(struct lw_source *s, uint64_t ticket);
    /* close: commit what is finished and release the source. Returns 0 or -1 with d set. */
    int (*close)(struct lw_source *s, struct lw_diag *d);
    /* retain: the block blk (lw_source.blk when the record was handed out) and every record in
     * it stay valid past the next call, until release(s, blk); a retain per release. A block
     * still retained at close lives until its last release (s's state is gone by then). Both
     * from the caller's thread. NULL: records live until the next call only (copy them). */
    void (*retain)(struct lw_source *s, const void *blk);
    void (*release)(struct lw_source *s, const void *blk);
    /* names_stay: every position's name (and a file meta's source) stays valid and unchanged
     * until close, so a pointer compared equal is the same name */
    bool names_stay;
};

#define LW_SOURCE_META_MAX 512 /* a partition's commit metadata, with its NUL (setmeta) */

struct lw_source {
    const struct lw_source_ops *ops;
    void *state;
    /* drain: set by the caller; the source calls it before it gives up records it handed out
     * (partitions revoked): everything held must be finished or failed when it returns. */
    void (*drain)(void *ud);
    /* say: set by the caller (may be NULL); the source calls it before it writes a message of
     * its own to stderr, so that the messages of the records it handed out before come first
     * (with -j N they may wait in batches). */
    void (*say)(void *ud);
    /* parted: set by the caller (may be NULL); the source calls it for each partition assigned
     * (on true) and, after the drain, revoked or lost (on false) */
    void (*parted)(void *ud, const char *topic, int32_t partition, bool on);
    void *ud;
    /* blk: set by a source with retain: the block the records it hands out now lie in (it
     * changes only inside next()), or NULL when they lie elsewhere (not retainable) */
    const void *blk;
};

/* lw_source_find: the source named name ("files", "kafka"), NULL for none (stages.c holds the
 * table: a new source is one file and one line there, plus its --from value, opts.c, and its
 * name in pipeline.c's setup()). */
const struct lw_source_ops *lw_source_find(const char *name);

#endif

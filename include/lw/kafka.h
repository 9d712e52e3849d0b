/* What the Kafka source and sink share: building a librdkafka configuration from the stages'
 * configuration (brokers, -X properties, logwash's safe defaults) with logging that goes through
 * one rate-limited stderr path. The producer (producer.c) the Kafka sink is built on is here
 * too; the source and the sink are ordinary lw_source_ops and lw_sink_ops (source.h, sink.h).
 * Nothing here knows about templates or records. */
#ifndef LW_KAFKA_H
#define LW_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw/diag.h"
#include "lw/stage.h"
#include "lw/str.h"

enum lw_kafka_role { LW_KAFKA_CONSUMER, LW_KAFKA_PRODUCER };

/* lw_kafka_conf_new: a rd_kafka_conf_t * (as void *, so this header needs no librdkafka) for
 * role: logwash's defaults, then bootstrap.servers from --brokers, then every -X k=v (plain keys
 * for both roles, "consumer."/"producer." prefixed keys for one). Returns NULL with d set for
 * an unknown property or a bad value; the caller owns the result until rd_kafka_new takes it.
 * The caller must set the opaque (rd_kafka_conf_set_opaque) to a struct whose first member is
 * `const struct lw_stage_conf *`: the log callback reads the verbosity (-q) through it. */
void *lw_kafka_conf_new(const struct lw_stage_conf *c, enum lw_kafka_role role, struct lw_diag *d);

/* LW_KAFKA_TOPIC_MAX: the longest Kafka topic name, in bytes. */
#define LW_KAFKA_TOPIC_MAX 249

/* lw_kafka_topic_ok: t is a name Kafka accepts for a topic: 1 to LW_KAFKA_TOPIC_MAX bytes of
 * [a-zA-Z0-9._-]. The one check, for --topic and for the topics records are routed to. */
bool lw_kafka_topic_ok(struct lw_str t);

/* lw_kafka_say: one line "logwash: kafka: ..." on stderr unless -q, limited to 20 lines per
 * 10 s across the process; the lines it holds back are counted and reported with the next one. */
void lw_kafka_say(const struct lw_stage_conf *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* lw_kafka_say_always: lw_kafka_say outside the limit, for lines the caller paces itself (the
 * periodic and final statistics), so an outage's burst cannot hide them. */
void lw_kafka_say_always(const struct lw_stage_conf *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* lw_kafka_fatal: "kafka WHO: fatal error: REASON" into buf (cap bytes), REASON from
 * rd_kafka_fatal_error on rk (a rd_kafka_t *), for an error callback's RD_KAFKA_RESP_ERR__FATAL. */
void lw_kafka_fatal(void *rk, const char *who, char *buf, size_t cap);

/* One output message. Strings are borrowed for the call only (librdkafka copies them). */
struct lw_header; /* sink.h */
struct lw_kafka_msg {
    struct lw_str topic; /* non-empty */
    struct lw_str key;
    bool has_key;
    struct lw_str value;
    const struct lw_header *headers;
    uint32_t nheaders;
    uint64_t ticket; /* handed back to the delivery callback */
};

/* One delivery report. The strings are valid for the callback only. */
struct lw_kafka_report {
    uint64_t ticket;
    const char *err;     /* NULL: delivered; else the final error (librdkafka retried it) */
    bool bad_topic;      /* err: the topic does not exist or is not authorized */
    struct lw_str topic; /* the message's topic */
    struct lw_str value; /* err with bad_topic: the message's value, or its first bytes */
    bool value_cut;      /* value is only the first bytes of the message's */
};

/* delivered: called from lw_ksink_put/poll/flush (on the thread of the handle's owner, never on
 * another pipeline's), once per message put. */
typedef void (*lw_ksink_delivered)(void *ud, const struct lw_kafka_report *rep);

/* lw_ksink_full: called while lw_ksink_put waits for room in the local queue, with waiting true
 * about every 100 ms, then once with waiting false when the wait ends. With waiting true it
 * returns false to give the wait up (the caller is stopping); its result is ignored otherwise. */
typedef bool (*lw_ksink_full)(void *ud, bool waiting);

/* At most this many distinct topics besides --out-topic and --dead-letter-topic: librdkafka
 * keeps a handle and metadata for every topic it was asked to produce to, for good. */
#define LW_KAFKA_MAX_TOPICS 1000

struct lw_ksink;

/* lw_ksink_new: a handle on an idempotent producer (acks=all unless -X says otherwise), shared
 * with the other handles in the process whose brokers and producer -X properties are the same
 * (producer.c, key_of); said at -v ("producer N: new" or "producer N: shared"). Reports,
 * flush, queued and the topic checks are the handle's own; the queue's limits
 * (queue.buffering.max.*) and a fatal error are the producer's. NULL with d set on a
 * configuration error. */
struct lw_ksink *lw_ksink_new(const struct lw_stage_conf *c, lw_ksink_delivered cb, void *ud,
                              struct lw_diag *d);

/* lw_ksink_check: ask the brokers, within timeout_ms, whether the topics named in the options
 * (out_topic, dl_topic: --out-topic, --dead-letter-topic) exist and may be written. Returns -1 with
 * d set when one does not or may not; 0 otherwise, also when the brokers did not answer in time
 * (said on stderr: they may come later, and deliveries wait for them). */
int lw_ksink_check(struct lw_ksink *k, int timeout_ms, struct lw_diag *d);

/* lw_ksink_on_full: have lw_ksink_put call full(ud, ...) while it waits for room. */
void lw_ksink_on_full(struct lw_ksink *k, lw_ksink_full full, void *ud);

/* lw_ksink_put: enqueue m, waiting (and serving delivery reports) while the local queue is
 * full. Returns 0, or -1 with d set when librdkafka refuses the message at once (unknown or
 * invalid topic, larger than message.max.bytes, or the producer hit a fatal error, which
 * lw_ksink_fatal then reports) or m names a topic beyond the first LW_KAFKA_MAX_TOPICS: no
 * delivery callback follows for it. Returns -2, d set, when librdkafka already knows that the
 * topic does not exist or may not be written (what a report with bad_topic says for the first
 * message to it); no delivery callback follows either. Returns -3, d set, when the full
 * callback gave up a wait for room: the message was not put, and no callback follows. */
int lw_ksink_put(struct lw_ksink *k, const struct lw_kafka_msg *m, struct lw_diag *d);

/* lw_ksink_max_value: the longest value, in bytes, that a message with a key of keylen bytes
 * and no headers may have and still pass the producer's message.max.bytes (as -X set it or
 * librdkafka's default); 0 when even an empty one would not. */
size_t lw_ksink_max_value(const struct lw_ksink *k, size_t keylen);

/* lw_ksink_poll: serve the handle's delivery reports, waiting up to timeout_ms for the first. */
void lw_ksink_poll(struct lw_ksink *k, int timeout_ms);

/* lw_ksink_flush: wait up to timeout_ms for every message put so far through this handle to
 * get its delivery report (other handles' messages are not waited for). Returns the number
 * still outstanding (0: all reported). */
int lw_ksink_flush(struct lw_ksink *k, int timeout_ms);

/* lw_ksink_queued: this handle's messages put and not yet reported (waiting, in flight, or
 * reports not yet served): its part of the producer's rd_kafka_outq_len. */
int lw_ksink_queued(struct lw_ksink *k);

/* lw_ksink_fatal: true once librdkafka raised a fatal error (idempotence broken) on the
 * producer, for every handle on it; d says it. */
bool lw_ksink_fatal(struct lw_ksink *k, struct lw_diag *d);

/* lw_ksink_free: release the handle; the producer's last one destroys it. Call lw_ksink_flush
 * first: what is still queued is never reported to the handle (and was never acknowledged, so
 * its input is not committed). */
void lw_ksink_free(struct lw_ksink *k);

#endif

/* librdkafka, loaded when a run first uses Kafka (lw_rdk_load), not linked: linked, it brings
 * OpenSSL, Cyrus SASL, zstd and lz4, whose symbol lookups and relocations were 5 of the 7
 * million instructions of a one-line run's start-up (callgrind). Each file that calls
 * librdkafka includes this header instead of <librdkafka/rdkafka.h>: it includes that one for
 * the types and constants, and turns each call of an rd_kafka_* function into a call through
 * lw_rdk's pointer of the same type (function-like macros: struct rd_kafka_metadata stays a
 * type). A function not listed here does not link: add it to
 * LW_RDK_FUNCS and to the defines below. */
#ifndef LW_RDK_H
#define LW_RDK_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "lw/diag.h"

#define LW_RDK_FUNCS(X)                                                                            \
    X(assign)                                                                                      \
    X(assignment)                                                                                  \
    X(assignment_lost)                                                                             \
    X(commit)                                                                                      \
    X(committed)                                                                                   \
    X(conf)                                                                                        \
    X(conf_destroy)                                                                                \
    X(conf_get)                                                                                    \
    X(conf_new)                                                                                    \
    X(conf_set)                                                                                    \
    X(conf_set_dr_msg_cb)                                                                          \
    X(conf_set_error_cb)                                                                           \
    X(conf_set_log_cb)                                                                             \
    X(conf_set_opaque)                                                                             \
    X(conf_set_rebalance_cb)                                                                       \
    X(consumer_close)                                                                              \
    X(consumer_poll)                                                                               \
    X(destroy)                                                                                     \
    X(err2str)                                                                                     \
    X(fatal_error)                                                                                 \
    X(flush)                                                                                       \
    X(get_watermark_offsets)                                                                       \
    X(header_add)                                                                                  \
    X(header_cnt)                                                                                  \
    X(header_get_all)                                                                              \
    X(headers_destroy)                                                                             \
    X(headers_new)                                                                                 \
    X(incremental_assign)                                                                          \
    X(incremental_unassign)                                                                        \
    X(message_destroy)                                                                             \
    X(message_headers)                                                                             \
    X(message_timestamp)                                                                           \
    X(metadata)                                                                                    \
    X(metadata_destroy)                                                                            \
    X(name)                                                                                        \
    X(new)                                                                                         \
    X(offset_store)                                                                                \
    X(opaque)                                                                                      \
    X(outq_len)                                                                                    \
    X(pause_partitions)                                                                            \
    X(poll)                                                                                        \
    X(poll_set_consumer)                                                                           \
    X(producev)                                                                                    \
    X(rebalance_protocol)                                                                          \
    X(resume_partitions)                                                                           \
    X(subscribe)                                                                                   \
    X(topic_destroy)                                                                               \
    X(topic_name)                                                                                  \
    X(topic_new)                                                                                   \
    X(topic_partition_list_add)                                                                    \
    X(topic_partition_list_destroy)                                                                \
    X(topic_partition_list_new)                                                                    \
    X(version_str)                                                                                 \
    X(yield)

struct lw_rdk {
#define LW_RDK_FIELD(n) __typeof__(rd_kafka_##n) *n;
    LW_RDK_FUNCS(LW_RDK_FIELD)
#undef LW_RDK_FIELD
};
extern struct lw_rdk lw_rdk;

/* lw_rdk_load: lw_rdk's functions from librdkafka.so.1 (Debian 12's librdkafka1), once; 0, or
 * -1 with d set (the library or a function missing). Called before a thread's first use (by
 * lw_kafka_conf_new); thread-safe (pipelines: open their stages on threads of their own). */
int lw_rdk_load(struct lw_diag *d);

/* lw_rdk_version: librdkafka's version, or "not installed" when it does not load (--version). */
const char *lw_rdk_version(void);

/* rd_kafka_message_errstr is inline in rdkafka.h (it calls the linked rd_kafka_err2str): the
 * same through lw_rdk. */
static inline const char *
lw_rdk_message_errstr(const rd_kafka_message_t *m)
{
    if (!m->err) return NULL;
    if (m->payload) return (const char *)m->payload;
    return lw_rdk.err2str(m->err);
}
#define rd_kafka_message_errstr lw_rdk_message_errstr

#define rd_kafka_assign(...)                       lw_rdk.assign(__VA_ARGS__)
#define rd_kafka_assignment(...)                   lw_rdk.assignment(__VA_ARGS__)
#define rd_kafka_assignment_lost(...)              lw_rdk.assignment_lost(__VA_ARGS__)
#define rd_kafka_commit(...)                       lw_rdk.commit(__VA_ARGS__)
#define rd_kafka_committed(...)                    lw_rdk.committed(__VA_ARGS__)
#define rd_kafka_conf(...)                         lw_rdk.conf(__VA_ARGS__)
#define rd_kafka_conf_destroy(...)                 lw_rdk.conf_destroy(__VA_ARGS__)
#define rd_kafka_conf_get(...)                     lw_rdk.conf_get(__VA_ARGS__)
#define rd_kafka_conf_new(...)                     lw_rdk.conf_new(__VA_ARGS__)
#define rd_kafka_conf_set(...)                     lw_rdk.conf_set(__VA_ARGS__)
#define rd_kafka_conf_set_dr_msg_cb(...)           lw_rdk.conf_set_dr_msg_cb(__VA_ARGS__)
#define rd_kafka_conf_set_error_cb(...)            lw_rdk.conf_set_error_cb(__VA_ARGS__)
#define rd_kafka_conf_set_log_cb(...)              lw_rdk.conf_set_log_cb(__VA_ARGS__)
#define rd_kafka_conf_set_opaque(...)              lw_rdk.conf_set_opaque(__VA_ARGS__)
#define rd_kafka_conf_set_rebalance_cb(...)        lw_rdk.conf_set_rebalance_cb(__VA_ARGS__)
#define rd_kafka_consumer_close(...)               lw_rdk.consumer_close(__VA_ARGS__)
#define rd_kafka_consumer_poll(...)                lw_rdk.consumer_poll(__VA_ARGS__)
#define rd_kafka_destroy(...)                      lw_rdk.destroy(__VA_ARGS__)
#define rd_kafka_err2str(...)                      lw_rdk.err2str(__VA_ARGS__)
#define rd_kafka_fatal_error(...)                  lw_rdk.fatal_error(__VA_ARGS__)
#define rd_kafka_flush(...)                        lw_rdk.flush(__VA_ARGS__)
#define rd_kafka_get_watermark_offsets(...)        lw_rdk.get_watermark_offsets(__VA_ARGS__)
#define rd_kafka_header_add(...)                   lw_rdk.header_add(__VA_ARGS__)
#define rd_kafka_header_cnt(...)                   lw_rdk.header_cnt(__VA_ARGS__)
#define rd_kafka_header_get_all(...)               lw_rdk.header_get_all(__VA_ARGS__)
#define rd_kafka_headers_destroy(...)              lw_rdk.headers_destroy(__VA_ARGS__)
#define rd_kafka_headers_new(...)                  lw_rdk.headers_new(__VA_ARGS__)
#define rd_kafka_incremental_assign(...)           lw_rdk.incremental_assign(__VA_ARGS__)
#define rd_kafka_incremental_unassign(...)         lw_rdk.incremental_unassign(__VA_ARGS__)
#define rd_kafka_message_destroy(...)              lw_rdk.message_destroy(__VA_ARGS__)
#define rd_kafka_message_headers(...)              lw_rdk.message_headers(__VA_ARGS__)
#define rd_kafka_message_timestamp(...)            lw_rdk.message_timestamp(__VA_ARGS__)
#define rd_kafka_metadata(...)                     lw_rdk.metadata(__VA_ARGS__)
#define rd_kafka_metadata_destroy(...)             lw_rdk.metadata_destroy(__VA_ARGS__)
#define rd_kafka_name(...)                         lw_rdk.name(__VA_ARGS__)
#define rd_kafka_new(...)                          lw_rdk.new(__VA_ARGS__)
#define rd_kafka_offset_store(...)                 lw_rdk.offset_store(__VA_ARGS__)
#define rd_kafka_opaque(...)                       lw_rdk.opaque(__VA_ARGS__)
#define rd_kafka_outq_len(...)                     lw_rdk.outq_len(__VA_ARGS__)
#define rd_kafka_pause_partitions(...)             lw_rdk.pause_partitions(__VA_ARGS__)
#define rd_kafka_poll(...)                         lw_rdk.poll(__VA_ARGS__)
#define rd_kafka_poll_set_consumer(...)            lw_rdk.poll_set_consumer(__VA_ARGS__)
#define rd_kafka_producev(...)                     lw_rdk.producev(__VA_ARGS__)
#define rd_kafka_rebalance_protocol(...)           lw_rdk.rebalance_protocol(__VA_ARGS__)
#define rd_kafka_resume_partitions(...)            lw_rdk.resume_partitions(__VA_ARGS__)
#define rd_kafka_subscribe(...)                    lw_rdk.subscribe(__VA_ARGS__)
#define rd_kafka_topic_destroy(...)                lw_rdk.topic_destroy(__VA_ARGS__)
#define rd_kafka_topic_name(...)                   lw_rdk.topic_name(__VA_ARGS__)
#define rd_kafka_topic_new(...)                    lw_rdk.topic_new(__VA_ARGS__)
#define rd_kafka_topic_partition_list_add(...)     lw_rdk.topic_partition_list_add(__VA_ARGS__)
#define rd_kafka_topic_partition_list_destroy(...) lw_rdk.topic_partition_list_destroy(__VA_ARGS__)
#define rd_kafka_topic_partition_list_new(...)     lw_rdk.topic_partition_list_new(__VA_ARGS__)
#define rd_kafka_version_str(...)                  lw_rdk.version_str(__VA_ARGS__)
#define rd_kafka_yield(...)                        lw_rdk.yield(__VA_ARGS__)

#endif

/* The producer the Kafka sink (sink_kafka.c) is built on: an idempotent librdkafka producer.
 * It takes whole messages (topic, key, headers, value) with an opaque ticket and hands each
 * ticket back exactly once through the delivery callback, with the final error or none. It
 * never reports success on enqueue: input is acknowledged only from those callbacks. The topics a
 * record routes to are counted: past LW_KAFKA_MAX_TOPICS distinct ones, a message to a new topic is
 * refused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw/kafka.h"
#include "lw/rdk.h"
#include "lw/sink.h"
#include "lw/str.h"

/* What librdkafka adds to a message's key and value lengths (message format v2, its largest
 * varints) before it compares the sum with message.max.bytes: with a limit of 1000 and no key
 * or headers, a value of 964 bytes is accepted and one of 965 refused. */
#define MSG_OVERHEAD 36

struct lw_ksink {
    const struct lw_stage_conf *o; /* first: the log callback reads it through the opaque */
    rd_kafka_t *rk;
    lw_ksink_delivered cb;
    void *ud;
    rd_kafka_topic_t *known[2]; /* --out-topic, --dead-letter-topic: handles held from the start */
    size_t max_msg;             /* message.max.bytes */
    char **seen;                /* other topics produced to: an open-addressing set */
    uint32_t nseen;
    int64_t *bad_until;       /* per slot of seen: refused by the brokers until (monotonic ms) */
    int64_t meta_quiet_until; /* a metadata request had no answer: do not ask before */
    char bad_why[200];
    lw_ksink_full full;
    void *full_ud;
    bool fatal;
    char fatal_msg[512];
};

#define SEEN_SLOTS   2048  /* a power of two, at least twice LW_KAFKA_MAX_TOPICS */
#define BAD_TOPIC_MS 30000 /* a routed topic refused in metadata is asked about again after */
#define META_MS      2000  /* how long a routed topic's metadata request may take */

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct lw_ksink *k = opaque;
    char err[512];
    struct lw_kafka_report rep = { .ticket = (uint64_t)(uintptr_t)m->_private,
                                   .topic = lw_str_c(rd_kafka_topic_name(m->rkt)),
                                   .value = { m->payload ? m->payload : "", m->len } };
    if (m->err) {
        /* __UNKNOWN_TOPIC: librdkafka gave up waiting for the topic to appear
         * (topic.metadata.propagation.max.ms); the others come from the brokers. */
        rep.bad_topic = m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                        m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                        m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
        if (m->partition == RD_KAFKA_PARTITION_UA) {
            snprintf(err, sizeof err, "delivery to %s failed: %s", rep.topic.p,
                     rd_kafka_err2str(m->err));
        } else {
            snprintf(err, sizeof err, "delivery to %s [%d] failed: %s", rep.topic.p,
                     (int)m->partition, rd_kafka_err2str(m->err));
        }
        rep.err = err;
    }
    k->cb(k->ud, &rep);
}

/* admit: the slot of topic (NUL-terminated) in k->seen, adding it; -1 for one of the options'
 * topics; -2 for a new one when LW_KAFKA_MAX_TOPICS were seen. *fresh: it was added now. */
static int
admit(struct lw_ksink *k, const char *topic, size_t len, bool *fresh)
{
    *fresh = false;
    for (int i = 0; i < 2; i++)
        if (k->known[i] && strcmp(rd_kafka_topic_name(k->known[i]), topic) == 0) return -1;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)topic[i]) * 16777619u;
    if (k->seen == NULL) {
        k->seen = lw_xcalloc(SEEN_SLOTS, sizeof *k->seen);
        k->bad_until = lw_xcalloc(SEEN_SLOTS, sizeof *k->bad_until);
    }
    for (uint32_t i = h & (SEEN_SLOTS - 1);; i = (i + 1) & (SEEN_SLOTS - 1)) {
        if (k->seen[i] == NULL) {
            if (k->nseen >= LW_KAFKA_MAX_TOPICS) return -2;
            k->seen[i] = lw_xstrndup(topic, len);
            k->nseen++;
            *fresh = true;
            return (int)i;
        }
        if (strcmp(k->seen[i], topic) == 0) return (int)i;
    }
}

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct lw_ksink *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        lw_kafka_fatal(rk, "producer", k->fatal_msg, sizeof k->fatal_msg);
        k->fatal = true;
        return;
    }
    lw_kafka_say(k->o, "producer: %s", reason);
}

struct lw_ksink *
lw_ksink_new(const struct lw_stage_conf *o, lw_ksink_delivered cb, void *ud, struct lw_diag *d)
{
    rd_kafka_conf_t *c = lw_kafka_conf_new(o, LW_KAFKA_PRODUCER, d);
    if (c == NULL) return NULL;
    struct lw_ksink *k = lw_xcalloc(1, sizeof *k);
    *k = (struct lw_ksink){ .o = o, .cb = cb, .ud = ud };
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_conf_set_error_cb(c, error_cb);
    rd_kafka_conf_set_opaque(c, k);
    char err[512];
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (k->rk == NULL) {
        rd_kafka_conf_destroy(c);
        lw_diag_setf(d, "kafka producer: %s", err);
        free(k);
        return NULL;
    }
    char max[32]; /* the effective value: librdkafka's default or -X's */
    size_t n = sizeof max;
    if (rd_kafka_conf_get(rd_kafka_conf(k->rk), "message.max.bytes", max, &n) == RD_KAFKA_CONF_OK)
        k->max_msg = strtoull(max, NULL, 10);
    /* A topic librdkafka has no handle for is looked up only at its next topic scan (up to a
     * second later) once messages wait for it; holding handles for the topics named in the
     * options gets their metadata during start-up instead. */
    const char *names[2] = { o->out_topic, o->dl_topic };
    for (int i = 0; i < 2; i++)
        if (names[i]) k->known[i] = rd_kafka_topic_new(k->rk, names[i], NULL);
    return k;
}

/* check: one topic's metadata. 1: it is there; 0: no answer; -1: it is not, d says why. */
static int
check(struct lw_ksink *k, rd_kafka_topic_t *rkt, int timeout_ms, struct lw_diag *d)
{
    const struct rd_kafka_metadata *md;
    const char *name = rd_kafka_topic_name(rkt);
    rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 0, rkt, &md, timeout_ms);
    if (e) {
        lw_kafka_say(k->o, "producer: cannot check topic %s: %s (going on: deliveries wait)", name,
                     rd_kafka_err2str(e));
        return 0;
    }
    e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_metadata_destroy(md);
    if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
        lw_diag_setf(d, "kafka: output topic %s: %s", name, rd_kafka_err2str(e));
        return -1;
    }
    return 1;
}

/* routed_bad: is the routed topic in k->seen[slot] one the brokers say does not exist or may
 * not be written (d set)? Asked when it is first used and again when a refusal is older than
 * BAD_TOPIC_MS (it may have been created or allowed since), within META_MS: librdkafka would
 * otherwise hold a message to a topic refused in its metadata until message.timeout.ms (5
 * minutes) and then stop the run at that record on every restart. No answer (brokers away):
 * the message is produced and waits like any other, and the brokers are not asked again for
 * BAD_TOPIC_MS, so records naming new topics during an outage cost one wait, not one each. */
static bool
routed_bad(struct lw_ksink *k, int slot, const char *topic, bool fresh, struct lw_diag *d)
{
    int64_t now = mono_ms(), until = k->bad_until[slot];
    if (!fresh && (until == 0 || now < until)) {
        if (until != 0) lw_diag_setf(d, "kafka: %s", k->bad_why); /* as the first time */
        return until != 0;
    }
    if (now < k->meta_quiet_until) return false;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->rk, topic, NULL);
    if (rkt == NULL) return false;
    int c = check(k, rkt, META_MS, d);
    rd_kafka_topic_destroy(rkt);
    if (c == 0) k->meta_quiet_until = now + BAD_TOPIC_MS;
    k->bad_until[slot] = c < 0 ? now + BAD_TOPIC_MS : 0;
    if (c < 0) /* "kafka: output topic X: why", without its "kafka: " */
        snprintf(k->bad_why, sizeof k->bad_why, "%.190s",
                 d->msg + (strncmp(d->msg, "kafka: ", 7) ? 0 : 7));
    return c < 0;
}

int
lw_ksink_check(struct lw_ksink *k, int timeout_ms, struct lw_diag *d)
{
    for (int i = 0; i < 2; i++)
        if (k->known[i] && check(k, k->known[i], timeout_ms, d) < 0) return -1;
    return 0;
}

void
lw_ksink_on_full(struct lw_ksink *k, lw_ksink_full full, void *ud)
{
    k->full = full;
    k->full_ud = ud;
}

int
lw_ksink_put(struct lw_ksink *k, const struct lw_kafka_msg *m, struct lw_diag *d)
{
    char topic[256]; /* Kafka topic names are at most 249 bytes */
    if (m->topic.len == 0 || m->topic.len >= sizeof topic) {
        lw_diag_setf(d, "kafka topic name must be 1 to 249 bytes, found %zu", m->topic.len);
        return -1;
    }
    memcpy(topic, m->topic.p, m->topic.len);
    topic[m->topic.len] = '\0';
    bool fresh;
    int slot = admit(k, topic, m->topic.len, &fresh);
    if (slot == -2) {
        lw_diag_setf(d,
                     "kafka: cannot produce to %s: more than %d distinct output topics (LIMITS "
                     "in logwash(1))",
                     topic, LW_KAFKA_MAX_TOPICS);
        return -1;
    }
    if (slot >= 0 && routed_bad(k, slot, topic, fresh, d)) return -2;
    rd_kafka_headers_t *h = NULL;
    if (m->nheaders) {
        h = rd_kafka_headers_new(m->nheaders);
        for (uint32_t i = 0; i < m->nheaders; i++) {
            const struct lw_header *x = &m->headers[i];
            rd_kafka_header_add(h, x->name.p, (ssize_t)x->name.len,
                                x->null_value ? NULL : x->value.p,
                                x->null_value ? 0 : (ssize_t)x->value.len);
        }
    }
    bool waited = false;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            k->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)m->value.p, m->value.len),
            RD_KAFKA_V_KEY(m->has_key ? m->key.p : NULL, m->has_key ? m->key.len : 0),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)m->ticket), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break; /* librdkafka owns h now */
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* Serve delivery reports until there is room; the caller keeps its consumer in
             * the group meanwhile (the brokers may be away for long). */
            waited = true;
            if (k->full && !k->full(k->full_ud, true)) {
                if (h) rd_kafka_headers_destroy(h);
                k->full(k->full_ud, false);
                lw_diag_setf(d,
                             "kafka: cannot produce to %s: stopped while waiting for room in "
                             "the output queue",
                             topic);
                return -3;
            }
            rd_kafka_poll(k->rk, 100);
            continue;
        }
        if (h) rd_kafka_headers_destroy(h);
        if (e == RD_KAFKA_RESP_ERR__FATAL && !k->fatal) { /* before error_cb is served */
            lw_kafka_fatal(k->rk, "producer", k->fatal_msg, sizeof k->fatal_msg);
            k->fatal = true;
        }
        /* the wait ends here too: the source resumes (both returns below) */
        if (waited && k->full) k->full(k->full_ud, false);
        if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            lw_diag_setf(d,
                         "kafka: cannot produce to %s: a value of %zu bytes with a key of %zu is "
                         "too large for message.max.bytes (%zu)",
                         topic, m->value.len, m->has_key ? m->key.len : 0, k->max_msg);
            return -1;
        }
        lw_diag_setf(d, "kafka: cannot produce to %s: %s", topic, rd_kafka_err2str(e));
        /* librdkafka knows from an earlier message or metadata that the topic does not exist
         * or may not be written: the same failure a delivery report gives with bad_topic */
        if (e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
            e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
            return -2;
        return -1;
    }
    if (waited && k->full) k->full(k->full_ud, false);
    rd_kafka_poll(k->rk, 0);
    return 0;
}

size_t
lw_ksink_max_value(const struct lw_ksink *k, size_t keylen)
{
    size_t over = MSG_OVERHEAD + keylen;
    return k->max_msg > over ? k->max_msg - over : 0;
}

void
lw_ksink_poll(struct lw_ksink *k, int timeout_ms)
{
    rd_kafka_poll(k->rk, timeout_ms);
}

int
lw_ksink_flush(struct lw_ksink *k, int timeout_ms)
{
    rd_kafka_flush(k->rk, timeout_ms);
    return rd_kafka_outq_len(k->rk);
}

int
lw_ksink_queued(struct lw_ksink *k)
{
    return rd_kafka_outq_len(k->rk);
}

bool
lw_ksink_fatal(struct lw_ksink *k, struct lw_diag *d)
{
    if (k->fatal) lw_diag_setf(d, "%s", k->fatal_msg);
    return k->fatal;
}

void
lw_ksink_free(struct lw_ksink *k)
{
    if (k == NULL) return;
    for (int i = 0; i < 2; i++)
        if (k->known[i]) rd_kafka_topic_destroy(k->known[i]);
    for (uint32_t i = 0; k->seen && i < SEEN_SLOTS; i++)
        free(k->seen[i]);
    free(k->seen);
    free(k->bad_until);
    rd_kafka_destroy(k->rk);
    free(k);
}

/* The librdkafka configuration both Kafka stages start from, and their one stderr path.
 * Defaults favour not losing records: an idempotent producer (acks=all), a consumer that stores
 * offsets only when logwash says so, and reading from the earliest offset for a new group.
 * -X properties are applied last, so a user can override any of them. */
#include "lw/kafka.h"
#include "lw/rdk.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

/* Rate limit for lw_kafka_say: a burst of SAY_BURST lines per SAY_WINDOW seconds. A broker
 * outage makes librdkafka report every failed connection; one line per state is enough. */
#define SAY_BURST  20
#define SAY_WINDOW 10

/* Process-wide on purpose (STYLE allows no globals beyond the signal flag): the consumer and
 * the producer share one budget, so an outage seen by both still prints a bounded stream. */
static struct {
    time_t window_start;
    int said;
    unsigned long held;
} say_state;

bool
lw_kafka_topic_ok(struct lw_str t)
{
    if (t.len == 0 || t.len > LW_KAFKA_TOPIC_MAX) return false;
    for (size_t i = 0; i < t.len; i++) {
        unsigned char c = (unsigned char)t.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void
vsay(const struct lw_stage_conf *c, bool always, const char *fmt, va_list ap)
{
    if (c->verbosity < 0) return;
    /* several pipelines share the budget from their threads (and librdkafka's) */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    time_t now = time(NULL);
    if (now - say_state.window_start >= SAY_WINDOW) {
        say_state.window_start = now;
        say_state.said = 0;
    }
    if (!always) {
        if (say_state.said >= SAY_BURST) {
            say_state.held++;
            pthread_mutex_unlock(&mu);
            return;
        }
        say_state.said++;
    }
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    if (say_state.held) {
        fprintf(stderr, "logwash: kafka: (%lu similar lines held back)\n", say_state.held);
        say_state.held = 0;
    }
    /* with several pipelines, each line says whose it is */
    fprintf(stderr, "logwash: kafka: %s%s%s\n", c->pipeline ? c->pipeline : "",
            c->pipeline ? ": " : "", line);
    pthread_mutex_unlock(&mu);
}

void
lw_kafka_say(const struct lw_stage_conf *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(c, false, fmt, ap);
    va_end(ap);
}

void
lw_kafka_say_always(const struct lw_stage_conf *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(c, true, fmt, ap);
    va_end(ap);
}

void
lw_kafka_fatal(void *rk, const char *who, char *buf, size_t cap)
{
    char why[400];
    rd_kafka_fatal_error(rk, why, sizeof why);
    snprintf(buf, cap, "kafka %s: fatal error: %s", who, why);
}

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    const struct lw_stage_conf *const *o = rd_kafka_opaque(rk); /* see lw_kafka_conf_new */
    if (level > LOG_WARNING) {
        /* Debug lines (-X debug=...) all go out as they come: a debugging session wants every
         * line, not a rate-limited summary. Other notices are dropped. */
        if (level == LOG_DEBUG && (*o)->verbosity >= 0) {
            fprintf(stderr, "logwash: kafka: %s: %s %s\n", rd_kafka_name(rk), fac, buf);
        }
        return;
    }
    /* A plain -X key applies to both clients; librdkafka then warns that the other ignores it. */
    if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "property and will be ignored")) return;
    /* A failed broker connection is also served to the client's error_cb (as _TRANSPORT),
     * which says it once with the client's role: the log line would say it twice. */
    if (strcmp(fac, "FAIL") == 0) return;
    lw_kafka_say(*o, "%s: %s", rd_kafka_name(rk), buf);
}

static int
set(rd_kafka_conf_t *c, const char *k, const char *v, struct lw_diag *d)
{
    char err[512];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        lw_diag_setf(d, "kafka property %s=%s: %s", k, v, err);
        return -1;
    }
    return 0;
}

void *
lw_kafka_conf_new(const struct lw_stage_conf *o, enum lw_kafka_role role, struct lw_diag *d)
{
    if (lw_rdk_load(d) != 0) return NULL;
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    bool consumer = role == LW_KAFKA_CONSUMER;
    int rc = 0;
    if (o->brokers) rc |= set(c, "bootstrap.servers", o->brokers, d);
    rc |= set(c, "client.id", "logwash", d);
    if (consumer) {
        rc |= set(c, "group.id", o->group ? o->group : "logwash", d);
        rc |= set(c, "enable.auto.offset.store", "false", d); /* stored after delivery only */
        rc |= set(c, "enable.auto.commit", "true", d);        /* commits what was stored */
        rc |= set(c, "auto.offset.reset", "earliest", d);     /* a new group reads it all */
        rc |= set(c, "enable.partition.eof", o->exit_at_eof ? "true" : "false", d);
        /* what is fetched ahead waits in one queue of at most 32 MiB (librdkafka: 64 MiB) */
        rc |= set(c, "queued.max.messages.kbytes", "32768", d);
    } else {
        rc |= set(c, "enable.idempotence", "true", d); /* acks=all, no duplicates on retry */
        rc |= set(c, "linger.ms", "5", d);
        /* While the brokers are away, what waits for them is at most 100000 messages and
         * 64 MiB (librdkafka: 1 GiB); then logwash stops reading (and stays in its group). */
        rc |= set(c, "queue.buffering.max.messages", "100000", d);
        rc |= set(c, "queue.buffering.max.kbytes", "65536", d);
        /* A topic that does not exist fails its messages after 5 s (librdkafka: 30 s): a
         * routed record waits that long for its dead letter, holding back its partition. */
        rc |= set(c, "topic.metadata.propagation.max.ms", "5000", d);
    }
    const char *mine = consumer ? "consumer." : "producer.";
    const char *theirs = consumer ? "producer." : "consumer.";
    for (int i = 0; i < o->nprops && rc == 0; i++) {
        const char *kv = o->props[i];
        const char *eq = strchr(kv, '=');
        if (eq == NULL || eq == kv) {
            lw_diag_setf(d, "-X needs key=value, found '%s'", kv);
            rc = -1;
            break;
        }
        if (strncmp(kv, theirs, strlen(theirs)) == 0) continue;
        if (strncmp(kv, mine, strlen(mine)) == 0) kv += strlen(mine);
        char key[256];
        size_t klen = (size_t)(strchr(kv, '=') - kv);
        if (klen >= sizeof key) klen = sizeof key - 1;
        memcpy(key, kv, klen);
        key[klen] = '\0';
        rc |= set(c, key, kv + klen + 1, d);
    }
    if (rc != 0) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(c, log_cb);
    return c;
}

/* The producer the Kafka sink (sink_kafka.c) is built on: an idempotent librdkafka producer.
 * It takes whole messages (topic, key, headers, value) with an opaque ticket and hands each
 * ticket back exactly once through the delivery callback, with the final error or none. It
 * never reports success on enqueue: input is acknowledged only from those callbacks. The topics a
 * record routes to are counted: past LW_KAFKA_MAX_TOPICS distinct ones, a message to a new topic is
 * refused. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw/buf.h"
#include "lw/kafka.h"
#include "lw/rdk.h"
#include "lw/sink.h"
#include "lw/str.h"

/* What librdkafka adds to a message's key and value lengths (message format v2, its largest
 * varints) before it compares the sum with message.max.bytes: with a limit of 1000 and no key
 * or headers, a value of 964 bytes is accepted and one of 965 refused. */
#define MSG_OVERHEAD 36

/* Pipelines in one process whose producer settings are the same share one rd_kafka_t (struct
 * rdprod, refcounted in a process-wide registry); each pipeline's sink has a handle of its own
 * (struct lw_ksink) on it. The key of a producer is its brokers and every -X property that
 * reaches the producer (plain and "producer." keys, "consumer." ones left out; the last value
 * of a key counts; in key order): see key_of. A producer that hit a fatal error is never joined
 * again, so a pipeline restarted after it gets a new one.
 *
 * Delivery reports are served by a poller thread of the producer's own (and by any handle's
 * flush): dr_cb runs on whichever thread serves them, so it never calls a pipeline back. Each
 * message's opaque is a struct msgref of its handle, which dr_cb fills and queues on that
 * handle's ready list; the handle's own thread (put, poll, flush) hands them to its callback
 * (dispatch). So a pipeline's reports, its in-flight count (pending + ready: the produce queue
 * depth of the metrics) and its flush are its own: a drain at a reload or at the end waits for
 * its own messages only, and never reports another pipeline's.
 *
 * Locks, always taken in this order, never the other way:
 * - reg_mu (process-wide): the registry (reg, rdprod.next), each producer's users, its list of
 *   handles (rdprod.handles, lw_ksink.next_h) and the handles' names read from there.
 * - lw_ksink.mu: that handle's msgrefs (free and ready lists, chunks), pending, nready,
 *   keep_bytes, orphan; its cv is signalled when a report is queued or the producer failed.
 * - rdprod.mu (alone, nothing taken inside it): fatal_msg; fatal is set after it is written. */
struct lw_ksink;

/* One message in flight (its librdkafka opaque), then its report waiting for dispatch. */
struct msgref {
    struct lw_ksink *k;
    uint64_t ticket;
    struct msgref *next; /* the handle's free or ready list */
    char *err, *topic;   /* a failed delivery's (malloc'd); err NULL: delivered */
    char *value;         /* a bad_topic failure's value, at most KEEP_VALUE bytes of it */
    size_t vlen;
    bool bad_topic, vcut;
};

#define REF_CHUNK 256
/* Chunks of msgrefs, each twice the size of the last (REF_CHUNK first): a handle makes
 * O(log n) of them for n messages in flight at its peak, never one per message. */
struct refchunk {
    struct refchunk *next;
    size_t n;
    struct msgref r[];
};

/* A failed routed message's value kept for its route dead letter (sink_kafka.c keeps at most
 * 64 KiB of it) and all such values waiting in one handle at most */
#define KEEP_VALUE     (64 * 1024 + 1)
#define KEEP_VALUE_ALL (16 * 1024 * 1024)

struct rdprod {
    const struct lw_stage_conf *o; /* first: the log callback reads it through the opaque: &conf */
    struct lw_stage_conf conf;     /* only verbosity and pipeline: its first user's (copied name) */
    rd_kafka_t *rk;
    char *key;
    unsigned id;      /* for the -v lines: "producer N" */
    size_t max_msg;   /* message.max.bytes */
    pthread_t thread; /* the poller */
    atomic_bool stop; /* the poller ends */
    /* under reg_mu */
    struct rdprod *next;
    int users;
    struct lw_ksink *handles; /* the users' handles, and orphans still waiting for reports */
    /* fatal_msg under mu; fatal set (release) once fatal_msg is written */
    pthread_mutex_t mu;
    atomic_bool fatal;
    char fatal_msg[512];
};

struct lw_ksink {
    const struct lw_stage_conf *o;
    struct rdprod *p;
    char *name;              /* the pipeline's, for the producer's shared lines; NULL: none */
    struct lw_ksink *next_h; /* in p->handles, under reg_mu */
    lw_ksink_delivered cb;
    void *ud;
    rd_kafka_topic_t *known[2]; /* --out-topic, --dead-letter-topic: handles held from the start */
    char **seen;                /* other topics produced to: an open-addressing set */
    uint32_t nseen;
    int64_t *bad_until;       /* per slot of seen: refused by the brokers until (monotonic ms) */
    int64_t meta_quiet_until; /* a metadata request had no answer: do not ask before */
    char bad_why[200];
    lw_ksink_full full;
    void *full_ud;
    /* under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct msgref *free, *ready, **ready_tail;
    struct refchunk *chunks;
    int64_t pending; /* produced, no report yet */
    int64_t nready;  /* reported, not yet dispatched */
    size_t keep_bytes;
    bool orphan; /* its sink closed with messages in flight: freed once they are reported */
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rdprod *reg; /* the producers in use, under reg_mu */
static unsigned reg_ids;   /* the last producer's id, under reg_mu */

#define SEEN_SLOTS   2048  /* a power of two, at least twice LW_KAFKA_MAX_TOPICS */
#define BAD_TOPIC_MS 30000 /* a routed topic refused in metadata is asked about again after */
#define META_MS      2000  /* how long a routed topic's metadata request may take */

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_cv: wait on k->cv (k->mu held) up to ms milliseconds */
static void
wait_cv(struct lw_ksink *k, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&k->cv, &k->mu, &ts);
}

/* dr_cb: on whichever thread served the report (the poller, or a handle's flush): fill the
 * message's msgref and queue it on its handle, which dispatches it from its own thread. */
static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct msgref *r = m->_private;
    struct lw_ksink *k = r->k;
    char *err = NULL, *topic = NULL;
    bool bad = false;
    if (m->err) {
        char buf[512];
        const char *t = rd_kafka_topic_name(m->rkt);
        /* __UNKNOWN_TOPIC: librdkafka gave up waiting for the topic to appear
         * (topic.metadata.propagation.max.ms); the others come from the brokers. */
        bad = m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
              m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
              m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
        if (m->partition == RD_KAFKA_PARTITION_UA) {
            snprintf(buf, sizeof buf, "delivery to %s failed: %s", t, rd_kafka_err2str(m->err));
        } else {
            snprintf(buf, sizeof buf, "delivery to %s [%d] failed: %s", t, (int)m->partition,
                     rd_kafka_err2str(m->err));
        }
        err = lw_xstrndup(buf, strlen(buf));
        topic = lw_xstrndup(t, strlen(t));
    }
    pthread_mutex_lock(&k->mu);
    r->err = err;
    r->topic = topic;
    r->bad_topic = bad;
    r->value = NULL;
    r->vlen = 0;
    r->vcut = false;
    if (bad) { /* its value may go to a route dead letter */
        size_t len = m->len < KEEP_VALUE ? m->len : KEEP_VALUE;
        if (k->keep_bytes + len > KEEP_VALUE_ALL) len = 0;
        r->value = lw_xmalloc(len + 1); /* may hold NUL bytes: not strndup */
        if (len) memcpy(r->value, m->payload, len);
        r->vlen = len;
        r->vcut = len < m->len;
        k->keep_bytes += len;
    }
    r->next = NULL;
    *k->ready_tail = r;
    k->ready_tail = &r->next;
    k->nready++;
    k->pending--;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

/* dispatch: hand the handle's queued reports to its callback, on its own thread. Returns how
 * many. The callback may put (and so dispatch) again: the list taken here is this call's. */
static int
dispatch(struct lw_ksink *k)
{
    pthread_mutex_lock(&k->mu);
    struct msgref *list = k->ready;
    k->ready = NULL;
    k->ready_tail = &k->ready;
    k->nready = 0;
    pthread_mutex_unlock(&k->mu);
    if (list == NULL) return 0;
    int n = 0;
    size_t kept = 0;
    struct msgref *last = NULL;
    for (struct msgref *r = list; r; r = r->next) {
        struct lw_kafka_report rep = { .ticket = r->ticket,
                                       .err = r->err,
                                       .bad_topic = r->bad_topic,
                                       .topic = lw_str_c(r->topic ? r->topic : ""),
                                       .value = { r->value ? r->value : "", r->vlen },
                                       .value_cut = r->vcut };
        k->cb(k->ud, &rep);
        kept += r->vlen;
        free(r->err);
        free(r->topic);
        free(r->value);
        r->err = r->topic = r->value = NULL;
        last = r;
        n++;
    }
    pthread_mutex_lock(&k->mu);
    last->next = k->free;
    k->free = list;
    k->keep_bytes -= kept;
    pthread_mutex_unlock(&k->mu);
    return n;
}

/* take_ref: a msgref for a message about to be produced, counted in flight */
static struct msgref *
take_ref(struct lw_ksink *k, uint64_t ticket)
{
    pthread_mutex_lock(&k->mu);
    if (k->free == NULL) {
        size_t n = k->chunks ? 2 * k->chunks->n : REF_CHUNK;
        struct refchunk *c = lw_xcalloc(1, sizeof *c + n * sizeof c->r[0]);
        c->n = n;
        c->next = k->chunks;
        k->chunks = c;
        for (size_t i = 0; i < n; i++) {
            c->r[i].next = k->free;
            k->free = &c->r[i];
        }
    }
    struct msgref *r = k->free;
    k->free = r->next;
    k->pending++;
    pthread_mutex_unlock(&k->mu);
    *r = (struct msgref){ .k = k, .ticket = ticket };
    return r;
}

/* give_back: the message of r was not produced: no report follows */
static void
give_back(struct lw_ksink *k, struct msgref *r)
{
    pthread_mutex_lock(&k->mu);
    r->next = k->free;
    k->free = r;
    k->pending--;
    pthread_mutex_unlock(&k->mu);
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

/* set_fatal: note the producer's fatal error once (from error_cb, or a produce refused) */
static void
set_fatal(struct rdprod *p)
{
    pthread_mutex_lock(&p->mu);
    if (!atomic_load(&p->fatal)) {
        lw_kafka_fatal(p->rk, "producer", p->fatal_msg, sizeof p->fatal_msg);
        atomic_store(&p->fatal, true);
    }
    pthread_mutex_unlock(&p->mu);
}

/* error_cb: a fatal error fails every pipeline on the producer: each handle's waits are woken,
 * and each sink reports it (lw_ksink_fatal). Other errors are said once, naming the pipelines
 * that share the producer. */
static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    struct rdprod *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        set_fatal(p);
        pthread_mutex_lock(&reg_mu);
        for (struct lw_ksink *k = p->handles; k; k = k->next_h) {
            pthread_mutex_lock(&k->mu);
            pthread_cond_broadcast(&k->cv);
            pthread_mutex_unlock(&k->mu);
        }
        pthread_mutex_unlock(&reg_mu);
        return;
    }
    char names[256] = "";
    size_t len = 0;
    pthread_mutex_lock(&reg_mu);
    for (struct lw_ksink *k = p->handles; k; k = k->next_h) {
        if (k->name == NULL || k->orphan) continue;
        int w = snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", k->name);
        if (w < 0 || (size_t)w >= sizeof names - len) break;
        len += (size_t)w;
    }
    pthread_mutex_unlock(&reg_mu);
    /* p's own conf names no pipeline: the line names them all ("pa, pb: producer: ...") */
    lw_kafka_say(&p->conf, "%s%sproducer: %s", names, len ? ": " : "", reason);
}

static int
prop_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strcspn(x, "="), ly = strcspn(y, "=");
    int c = memcmp(x, y, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

/* key_of: the producer key of o: "brokers\n" then each -X property the producer takes
 * (lw_kafka_conf_new's rule: "consumer." ones left out, "producer." stripped) as key=value, the
 * last of each key, sorted by key, one a line. NULL for a malformed -X (lw_kafka_conf_new says
 * what is wrong). Two pipelines share a producer exactly when their keys are equal. */
static char *
key_of(const struct lw_stage_conf *o)
{
    const char **kv = lw_xcalloc((size_t)o->nprops + 1, sizeof *kv);
    int n = 0;
    for (int i = 0; i < o->nprops; i++) {
        const char *p = o->props[i];
        if (strncmp(p, "consumer.", 9) == 0) continue;
        if (strncmp(p, "producer.", 9) == 0) p += 9;
        const char *eq = strchr(p, '=');
        if (eq == NULL || eq == p) {
            free(kv);
            return NULL;
        }
        int at = n;
        for (int j = 0; j < n; j++)
            if (prop_cmp(&kv[j], &p) == 0) at = j; /* a later value of a key replaces it */
        kv[at] = p;
        if (at == n) n++;
    }
    qsort(kv, (size_t)n, sizeof *kv, prop_cmp);
    struct lw_buf b;
    lw_buf_init(&b);
    lw_buf_printf(&b, "%s\n", o->brokers ? o->brokers : "");
    for (int i = 0; i < n; i++)
        lw_buf_printf(&b, "%s\n", kv[i]);
    free(kv);
    char *key = lw_xstrndup(b.p, b.len);
    lw_buf_fini(&b);
    return key;
}

/* poller: the producer's own thread serving its reports (dr_cb, error_cb) until stop */
static void *
poller(void *arg)
{
    struct rdprod *p = arg;
    while (!atomic_load(&p->stop))
        rd_kafka_poll(p->rk, 100);
    return NULL;
}

/* prod_new: a producer for o's settings, its poller started; NULL with d set. reg_mu held. */
static struct rdprod *
prod_new(const struct lw_stage_conf *o, char *key, struct lw_diag *d)
{
    rd_kafka_conf_t *c = lw_kafka_conf_new(o, LW_KAFKA_PRODUCER, d);
    if (c == NULL) return NULL;
    struct rdprod *p = lw_xcalloc(1, sizeof *p);
    p->conf = (struct lw_stage_conf){ .verbosity = o->verbosity };
    p->o = &p->conf;
    pthread_mutex_init(&p->mu, NULL);
    atomic_init(&p->fatal, false);
    atomic_init(&p->stop, false);
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_conf_set_error_cb(c, error_cb);
    rd_kafka_conf_set_opaque(c, p);
    char err[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (p->rk == NULL) {
        rd_kafka_conf_destroy(c);
        lw_diag_setf(d, "kafka producer: %s", err);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    char max[32]; /* the effective value: librdkafka's default or -X's */
    size_t n = sizeof max;
    if (rd_kafka_conf_get(rd_kafka_conf(p->rk), "message.max.bytes", max, &n) == RD_KAFKA_CONF_OK)
        p->max_msg = strtoull(max, NULL, 10);
    if (pthread_create(&p->thread, NULL, poller, p) != 0) {
        lw_diag_setf(d, "kafka producer: cannot start its thread");
        rd_kafka_destroy(p->rk);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    p->key = key;
    p->id = ++reg_ids;
    p->next = reg;
    reg = p;
    return p;
}

struct lw_ksink *
lw_ksink_new(const struct lw_stage_conf *o, lw_ksink_delivered cb, void *ud, struct lw_diag *d)
{
    char *key = key_of(o);
    if (key == NULL) { /* a malformed -X: the configuration says what is wrong */
        rd_kafka_conf_t *c = lw_kafka_conf_new(o, LW_KAFKA_PRODUCER, d);
        if (c) rd_kafka_conf_destroy(c);
        if (!d->set) lw_diag_setf(d, "kafka producer: bad -X");
        return NULL;
    }
    pthread_mutex_lock(&reg_mu);
    struct rdprod *p = reg;
    while (p && (strcmp(p->key, key) != 0 || atomic_load(&p->fatal)))
        p = p->next;
    bool fresh = p == NULL;
    if (fresh) {
        p = prod_new(o, key, d);
        if (p == NULL) {
            pthread_mutex_unlock(&reg_mu);
            free(key);
            return NULL;
        }
    } else {
        free(key);
    }
    struct lw_ksink *k = lw_xcalloc(1, sizeof *k);
    *k = (struct lw_ksink){ .o = o, .p = p, .cb = cb, .ud = ud };
    k->name = o->pipeline ? lw_xstrndup(o->pipeline, strlen(o->pipeline)) : NULL;
    pthread_mutex_init(&k->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&k->cv, &ca);
    pthread_condattr_destroy(&ca);
    k->ready_tail = &k->ready;
    k->next_h = p->handles;
    p->handles = k;
    int users = ++p->users;
    unsigned id = p->id;
    pthread_mutex_unlock(&reg_mu);
    if (o->verbosity > 0 && o->pipeline != NULL) { /* with several pipelines: which shares */
        if (fresh)
            lw_kafka_say(o, "producer %u: new", id);
        else
            lw_kafka_say(o, "producer %u: shared (%d pipelines)", id, users);
    }
    /* A topic librdkafka has no handle for is looked up only at its next topic scan (up to a
     * second later) once messages wait for it; holding handles for the topics named in the
     * options gets their metadata during start-up instead. */
    const char *names[2] = { o->out_topic, o->dl_topic };
    for (int i = 0; i < 2; i++)
        if (names[i]) k->known[i] = rd_kafka_topic_new(p->rk, names[i], NULL);
    return k;
}

/* check: one topic's metadata. 1: it is there; 0: no answer; -1: it is not, d says why. */
static int
check(struct lw_ksink *k, rd_kafka_topic_t *rkt, int timeout_ms, struct lw_diag *d)
{
    const struct rd_kafka_metadata *md;
    const char *name = rd_kafka_topic_name(rkt);
    rd_kafka_resp_err_t e = rd_kafka_metadata(k->p->rk, 0, rkt, &md, timeout_ms);
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
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->p->rk, topic, NULL);
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
    struct msgref *ref = take_ref(k, m->ticket);
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            k->p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)m->value.p, m->value.len),
            RD_KAFKA_V_KEY(m->has_key ? m->key.p : NULL, m->has_key ? m->key.len : 0),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(ref), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break; /* librdkafka owns h now */
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* Serve delivery reports until there is room; the caller keeps its consumer in
             * the group meanwhile (the brokers may be away for long). The queue is the
             * producer's: room may come from another pipeline's deliveries, so the wait ends
             * at the first own report or after 100 ms. */
            waited = true;
            if (k->full && !k->full(k->full_ud, true)) {
                give_back(k, ref);
                if (h) rd_kafka_headers_destroy(h);
                k->full(k->full_ud, false);
                lw_diag_setf(d,
                             "kafka: cannot produce to %s: stopped while waiting for room in "
                             "the output queue",
                             topic);
                return -3;
            }
            if (dispatch(k) == 0) {
                pthread_mutex_lock(&k->mu);
                if (k->ready == NULL && !atomic_load(&k->p->fatal)) wait_cv(k, 100);
                pthread_mutex_unlock(&k->mu);
                dispatch(k);
            }
            continue;
        }
        give_back(k, ref);
        if (h) rd_kafka_headers_destroy(h);
        if (e == RD_KAFKA_RESP_ERR__FATAL) set_fatal(k->p); /* before error_cb is served */
        /* the wait ends here too: the source resumes (both returns below) */
        if (waited && k->full) k->full(k->full_ud, false);
        if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            lw_diag_setf(d,
                         "kafka: cannot produce to %s: a value of %zu bytes with a key of %zu is "
                         "too large for message.max.bytes (%zu)",
                         topic, m->value.len, m->has_key ? m->key.len : 0, k->p->max_msg);
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
    dispatch(k);
    return 0;
}

size_t
lw_ksink_max_value(const struct lw_ksink *k, size_t keylen)
{
    size_t over = MSG_OVERHEAD + keylen;
    return k->p->max_msg > over ? k->p->max_msg - over : 0;
}

void
lw_ksink_poll(struct lw_ksink *k, int timeout_ms)
{
    if (dispatch(k) > 0 || timeout_ms <= 0) return;
    pthread_mutex_lock(&k->mu);
    if (k->ready == NULL && k->pending > 0 && !atomic_load(&k->p->fatal)) wait_cv(k, timeout_ms);
    pthread_mutex_unlock(&k->mu);
    dispatch(k);
}

/* outstanding: k's messages put and not yet dispatched */
static int
outstanding(struct lw_ksink *k)
{
    pthread_mutex_lock(&k->mu);
    int64_t n = k->pending + k->nready;
    pthread_mutex_unlock(&k->mu);
    return (int)n;
}

int
lw_ksink_flush(struct lw_ksink *k, int timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;
    for (;;) {
        dispatch(k);
        int n = outstanding(k);
        int64_t left = end - mono_ms();
        if (n == 0 || left <= 0) return n;
        /* rd_kafka_flush sends what lingers at once and serves reports (dr_cb queues each on
         * its handle); it waits for every pipeline's messages, so a short step at a time, and
         * a pipeline's drain waits for its own only. Its reports may also come from the
         * poller: then a short wait for them. */
        rd_kafka_flush(k->p->rk, left < 10 ? (int)left : 10);
        if (dispatch(k) > 0) continue;
        pthread_mutex_lock(&k->mu);
        if (k->ready == NULL && k->pending > 0) wait_cv(k, left < 5 ? (int)left : 5);
        pthread_mutex_unlock(&k->mu);
    }
}

int
lw_ksink_queued(struct lw_ksink *k)
{
    return outstanding(k);
}

bool
lw_ksink_fatal(struct lw_ksink *k, struct lw_diag *d)
{
    if (!atomic_load(&k->p->fatal)) return false;
    pthread_mutex_lock(&k->p->mu);
    lw_diag_setf(d, "%s", k->p->fatal_msg);
    pthread_mutex_unlock(&k->p->mu);
    return true;
}

/* handle_free: a handle no thread reaches any more (not in p->handles, or p destroyed) */
static void
handle_free(struct lw_ksink *k)
{
    for (struct msgref *r = k->ready; r; r = r->next) {
        free(r->err);
        free(r->topic);
        free(r->value);
    }
    while (k->chunks) {
        struct refchunk *c = k->chunks;
        k->chunks = c->next;
        free(c);
    }
    for (uint32_t i = 0; k->seen && i < SEEN_SLOTS; i++)
        free(k->seen[i]);
    free(k->seen);
    free(k->bad_until);
    free(k->name);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

/* lw_ksink_free: leave the producer; the last user destroys it. A handle with messages still in
 * flight (its flush timed out) stays, an orphan, until their reports come or the producer goes:
 * they point at it. reg_mu is released before the poller is joined (error_cb takes it). */
void
lw_ksink_free(struct lw_ksink *k)
{
    if (k == NULL) return;
    struct rdprod *p = k->p;
    for (int i = 0; i < 2; i++)
        if (k->known[i]) rd_kafka_topic_destroy(k->known[i]);
    struct lw_ksink *gone = NULL; /* unlinked handles to free */
    pthread_mutex_lock(&reg_mu);
    for (struct lw_ksink **at = &p->handles; *at;) {
        struct lw_ksink *h = *at;
        pthread_mutex_lock(&h->mu);
        if (h == k) h->orphan = true;
        bool done = h->orphan && h->pending == 0;
        pthread_mutex_unlock(&h->mu);
        if (done) { /* k itself, or an earlier orphan whose reports all came */
            *at = h->next_h;
            h->next_h = gone;
            gone = h;
        } else {
            at = &h->next_h;
        }
    }
    bool last = --p->users == 0;
    if (last) {
        struct rdprod **at = &reg;
        while (*at != p)
            at = &(*at)->next;
        *at = p->next;
    }
    pthread_mutex_unlock(&reg_mu);
    while (gone) {
        struct lw_ksink *h = gone;
        gone = h->next_h;
        handle_free(h);
    }
    if (!last) return;
    atomic_store(&p->stop, true);
    rd_kafka_yield(p->rk);
    pthread_join(p->thread, NULL);
    rd_kafka_destroy(p->rk);
    while (p->handles) { /* orphans: nothing reports to them any more */
        struct lw_ksink *h = p->handles;
        p->handles = h->next_h;
        handle_free(h);
    }
    pthread_mutex_destroy(&p->mu);
    free(p->key);
    free(p);
}

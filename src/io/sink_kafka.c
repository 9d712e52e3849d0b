/* The Kafka sink: each output a message to --out-topic, or where the template routed it (emit
 * ... to, key, headers; the input's key by default: same key, same partition), sent by the
 * producer (producer.c) with the record's ticket. A record is finished only when every output
 * of it is reported delivered; a final delivery failure stops the run, and the source never
 * commits at or past its record (host done with ok false), so a restart reads it again.
 * From files or stdin nothing is committed: the sink keeps where each record with outputs in
 * flight came from (struct flight), so a failure says whose outputs were not delivered.
 * A routed output whose topic does not exist or may not be written becomes a dead letter of
 * its own (kind "route") sent while its record is still held, so the stream goes on. Dead
 * letters on --dead-letter-topic go through this sink too (letter). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw/deadletter.h"
#include "lw/kafka.h"
#include "lw/sink.h"

/* Undeliverable routed outputs wait in memory between a delivery report and their dead letter:
 * each keeps at most ROUTE_KEEP bytes of its value, and all of them at most ROUTE_KEEP_ALL. */
#define ROUTE_KEEP     (64 * 1024)
#define ROUTE_KEEP_ALL (16 * 1024 * 1024)
/* How long the start-up check of --out-topic and --dead-letter-topic waits for the brokers */
#define TOPIC_CHECK_MS 5000

/* A routed output that could not be delivered: its topic is unknown or not authorized. */
struct rfail {
    uint64_t ticket;
    char *in_topic; /* where its record came from, found while the ticket was live; NULL: unknown */
    int32_t partition;
    int64_t offset;
    char *topic, *err;
    char *value; /* the first len bytes of the value */
    size_t len;
    bool cut; /* the value was longer */
};

/* A record whose outputs are in flight, read from files or stdin (no acknowledging source): its
 * ticket is its sequence number + 1 (0: none, a dead letter's). */
struct flight {
    const char *name; /* interned in ks.names */
    uint64_t line;
    uint32_t left; /* outputs produced and not yet reported */
    bool failed;   /* an output of it finally failed */
};

struct ks {
    const struct lw_stage_conf *o;
    struct lw_sink *s;
    struct lw_ksink *k;
    bool acking;         /* the source takes hold/done */
    struct rfail *rfail; /* undeliverable routed outputs awaiting their dead letter */
    uint32_t nrfail, caprfail;
    size_t rfail_bytes;
    bool in_route;        /* route_dead is running */
    size_t route_keep;    /* bytes of a value a route dead letter keeps */
    struct lw_diag kfail; /* the first final delivery failure */
    /* without acking: the records from fl_base to fl_next (sequence numbers) not yet finished,
     * in a ring of fl_cap (a power of two) from fl_head; their names, each once */
    struct flight *fl;
    uint64_t fl_base, fl_next;
    uint32_t fl_head, fl_cap;
    char **names;
    uint32_t nnames, capnames;
    uint64_t nfailed; /* without acking: messages that finally failed (kafka_failed) */
};

#define GROW(p, n, cap)                                                                            \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 16;                                                          \
            (p) = lw_xrealloc((p), (cap) * sizeof *(p));                                           \
        }                                                                                          \
    } while (0)

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* flight_at: the record of a ticket of ours, NULL when none or finished */
static struct flight *
flight_at(struct ks *r, uint64_t ticket)
{
    if (r->acking || ticket == 0 || ticket - 1 < r->fl_base || ticket - 1 >= r->fl_next)
        return NULL;
    return &r->fl[(r->fl_head + (ticket - 1 - r->fl_base)) & (r->fl_cap - 1)];
}

/* flight_new: a record from files or stdin about to put its outputs; returns its ticket. The
 * names are few (the inputs, "stdin", "window result"): a list, the last one tried first. */
static uint64_t
flight_new(struct ks *r, const struct lw_recpos *pos)
{
    const char *name = pos->name ? pos->name : "?";
    uint32_t i = r->nnames;
    if (i == 0 || strcmp(r->names[i - 1], name) != 0) {
        for (i = 0; i < r->nnames && strcmp(r->names[i], name) != 0; i++)
            ;
        if (i == r->nnames) {
            GROW(r->names, r->nnames, r->capnames);
            r->names[r->nnames++] = lw_xstrndup(name, strlen(name));
        }
    } else {
        i--;
    }
    uint64_t n = r->fl_next - r->fl_base;
    if (n == r->fl_cap) { /* full: a ring twice the size, oldest first */
        uint32_t cap = r->fl_cap ? r->fl_cap * 2 : 64;
        struct flight *fl = lw_xcalloc(cap, sizeof *fl);
        for (uint64_t j = 0; j < n; j++)
            fl[j] = r->fl[(r->fl_head + j) & (r->fl_cap - 1)];
        free(r->fl);
        r->fl = fl;
        r->fl_cap = cap;
        r->fl_head = 0;
    }
    uint64_t seq = r->fl_next++;
    *flight_at(r, seq + 1) = (struct flight){ .name = r->names[i], .line = pos->line };
    return seq + 1;
}

/* flight_pop: forget the oldest records that are finished (a failed one stays, to be named) */
static void
flight_pop(struct ks *r)
{
    while (r->fl_base < r->fl_next) {
        struct flight *f = &r->fl[r->fl_head];
        if (f->left > 0 || f->failed) break;
        r->fl_head = (r->fl_head + 1) & (r->fl_cap - 1);
        r->fl_base++;
    }
}

/* flight_first: "name:line" of the oldest record from files or stdin with an output failed or
 * not reported; false when none */
static bool
flight_first(struct ks *r, char *buf, size_t cap)
{
    for (uint64_t s = r->fl_base; s < r->fl_next; s++) {
        struct flight *f = flight_at(r, s + 1);
        if (f->left > 0 || f->failed) {
            snprintf(buf, cap, "%.200s:%" PRIu64, f->name, f->line);
            return true;
        }
    }
    return false;
}

static void
hold(struct ks *r, uint64_t ticket)
{
    if (r->acking) r->s->host->hold(r->s->host->ud, ticket);
}

static void
done(struct ks *r, uint64_t ticket, bool ok)
{
    if (r->acking) r->s->host->done(r->s->host->ud, ticket, ok);
}

/* NOCOMMIT: what a failure from files or stdin adds: nothing of them is committed, the exit
 * status is what says that an output was lost */
#define NOCOMMIT "files and stdin have no commits: the exit status is 1"

/* kafka_failed: a final delivery failure. Stop reading; the source never commits at or past
 * the record it belongs to (done with ok false), so a restart reads it again. From files or
 * stdin, the record whose output it was is named (when it is one of ours: not a dead letter). */
static void
kafka_failed(struct ks *r, uint64_t ticket, const char *err)
{
    struct flight *f = flight_at(r, ticket);
    if (f) f->failed = true;
    r->nfailed++;
    if (!r->kfail.set) {
        lw_diag_setf(&r->kfail, "%s", err);
        if (r->acking)
            lw_kafka_say(r->o, "%s: stopping; nothing at or after its input is committed", err);
        else if (f)
            lw_kafka_say(r->o, "%s: stopping; an output of %s:%" PRIu64 " was not delivered (%s)",
                         err, f->name, f->line, NOCOMMIT);
        else
            lw_kafka_say(r->o, "%s: stopping; that output was not delivered (%s)", err, NOCOMMIT);
    }
    r->s->lost = true;
    done(r, ticket, false);
    r->s->host->stop(r->s->host->ud);
}

/* refused: a message of the record at pos (with ticket) that librdkafka refused at once, taken
 * as a delivery that finally failed (the message names the record, without the sink's
 * "kafka: "). */
static void
refused(struct ks *r, const struct lw_recpos *pos, uint64_t ticket, const char *err)
{
    char msg[700];
    if (strncmp(err, "kafka: ", 7) == 0) err += 7;
    snprintf(msg, sizeof msg, "%s%c%" PRIu64 ": %s", pos->name, pos->msg ? '@' : ':', pos->line,
             err);
    kafka_failed(r, ticket, msg);
}

/* keep_route: note an undeliverable routed output (its record stays held); the dead letter is
 * written by route_dead, outside librdkafka's callbacks. */
static void
keep_route(struct ks *r, const struct lw_kafka_report *rep)
{
    size_t len = rep->value.len;
    if (len > r->route_keep) len = r->route_keep;
    if (r->rfail_bytes + len > ROUTE_KEEP_ALL) len = 0;
    while (len > 0 && len < rep->value.len && ((unsigned char)rep->value.p[len] & 0xc0) == 0x80)
        len--; /* not inside a UTF-8 character */
    /* the position now: the letter may be sent after a revocation made the ticket stale (a
     * route_dead skipped inside a nested drain) */
    struct lw_msgmeta m;
    bool at = r->acking && r->s->host->locate(r->s->host->ud, rep->ticket, &m);
    GROW(r->rfail, r->nrfail, r->caprfail);
    r->rfail[r->nrfail++] =
        (struct rfail){ .ticket = rep->ticket,
                        .in_topic = at ? lw_xstrndup(m.topic.p, m.topic.len) : NULL,
                        .partition = at ? m.partition : 0,
                        .offset = at ? m.offset : 0,
                        .topic = lw_xstrndup(rep->topic.p, rep->topic.len),
                        .err = lw_xstrndup(rep->err, strlen(rep->err)),
                        .value = lw_xstrndup(rep->value.p, len),
                        .len = len,
                        .cut = len < rep->value.len || rep->value_cut };
    r->rfail_bytes += len;
}

static bool
is_named(const char *topic, struct lw_str t)
{
    return topic && strlen(topic) == t.len && memcmp(topic, t.p, t.len) == 0;
}

/* route_failed: an output of the record of rep->ticket (held for it) that failed. When it was
 * routed (emit ... to) to a topic that does not exist or may not be written, it becomes a route
 * dead letter with a dead-letter path, else a delivery that finally failed with a hint, and the
 * result is true. The topics of the options were checked at start-up: false for those, and for
 * any other failure. Reached from a delivery report, or from produce() when librdkafka already
 * knew the topic was bad and refused the message at once. */
static bool
route_failed(struct ks *r, const struct lw_kafka_report *rep)
{
    if (!rep->bad_topic || is_named(r->o->out_topic, rep->topic) ||
        is_named(r->o->dl_topic, rep->topic))
        return false;
    if (r->s->dl) {
        keep_route(r, rep);
        return true;
    }
    char err[700];
    snprintf(err, sizeof err,
             "%s (a record routed there with emit ... to; a dead-letter path, "
             "--dead-letter-topic or --dead-letter, would take such records and go on)",
             rep->err);
    kafka_failed(r, rep->ticket, err);
    return true;
}

static void
delivered(void *ud, const struct lw_kafka_report *rep)
{
    struct ks *r = ud;
    struct flight *f = flight_at(r, rep->ticket);
    if (f) f->left--;
    if (rep->err == NULL) {
        r->s->delivered++;
        done(r, rep->ticket, true);
    } else {
        r->s->undelivered++;
        if (!route_failed(r, rep)) kafka_failed(r, rep->ticket, rep->err);
    }
    if (f) flight_pop(r);
}

/* kafka_letter: send a dead letter to --dead-letter-topic, with the input's key when keyed. */
static void
kafka_letter(struct lw_sink *s, const struct lw_recpos *pos, struct lw_str value, bool keyed)
{
    struct ks *r = s->state;
    struct lw_kafka_msg m = { .topic = lw_str_c(r->o->dl_topic),
                              .value = value,
                              .ticket = r->acking ? pos->ticket : 0 }; /* 0: not a record's */
    if (keyed) {
        m.key = pos->msg->key;
        m.has_key = true;
    }
    struct lw_diag d = { 0 };
    hold(r, pos->ticket);
    if (lw_ksink_put(r->k, &m, &d) != 0) {
        if (pos->name != NULL)
            refused(r, pos, m.ticket, d.msg);
        else /* a route dead letter: the source has no position for its record */
            kafka_failed(r, pos->ticket, d.msg);
    }
}

/* route_dead: send the dead letters of undeliverable routed outputs, each while its record is
 * held, then release the hold the output had: the record is finished once its dead letter is
 * safe. Returns -1 when the dead-letter file cannot be written (d set). */
static int
route_dead(struct ks *r, struct lw_diag *d)
{
    int rc = 0;
    if (r->in_route) return 0; /* called again from a wait below: the loop goes on there */
    r->in_route = true;
    for (uint32_t i = 0; i < r->nrfail; i++) { /* a letter's put may add more: nrfail grows */
        struct rfail f = r->rfail[i];
        struct lw_dl_route dr = { .in_topic = f.in_topic,
                                  .partition = f.partition,
                                  .offset = f.offset,
                                  .topic = f.topic,
                                  .err = f.err,
                                  .value = { f.value, f.len },
                                  .cut = f.cut };
        r->s->host->dead(r->s->host->ud);
        if (lw_dlpath_route(r->s->dl, &dr, f.ticket) == 0) {
            done(r, f.ticket, true);
        } else { /* the file failed: nothing more is written there */
            rc = -1;
            done(r, f.ticket, false);
        }
        free(f.in_topic);
        free(f.topic);
        free(f.err);
        free(f.value);
    }
    r->nrfail = 0;
    r->rfail_bytes = 0;
    r->in_route = false;
    if (rc != 0) lw_diag_setf(d, "%s", r->s->dl->err.msg);
    return rc;
}

/* kafka_put: hand the record's outputs to the producer, each holding the record. A message
 * librdkafka refuses at once (larger than message.max.bytes, say) fails the record: with a
 * dead-letter path it becomes a dead letter (kind "produce"), finished once that is safe;
 * from an acknowledging source without one, or when the producer itself is broken, it is a
 * delivery that finally failed: the run stops and nothing at or after the record is committed.
 * From files without a dead-letter path it is a failed record like any other (--on-error).
 * A routed output librdkafka refuses because it already knows the topic is bad (the records
 * after the first routed there) is handled as the first one's delivery report was
 * (route_failed), and the record's next outputs are produced. */
static int
kafka_put(struct lw_sink *s, const struct lw_sink_rec *rec)
{
    struct ks *r = s->state;
    const struct lw_recpos *pos = rec->pos;
    if (rec->nouts == 0) return 0;
    uint64_t ticket = r->acking ? pos->ticket : flight_new(r, pos);
    for (uint32_t i = 0; i < rec->nouts; i++) {
        const struct lw_output *pd = &rec->outs[i];
        struct lw_kafka_msg m = { .topic = pd->has_to ? pd->to : lw_str_c(r->o->out_topic),
                                  .key = pd->key,
                                  .has_key = pd->has_key,
                                  /* a message has no line terminator */
                                  .value = { s->out->p + pd->off, pd->len - 1 },
                                  .headers = rec->hdrs + pd->h0,
                                  .nheaders = pd->nh,
                                  .ticket = ticket };
        const struct lw_msgmeta *in = pos->msg;
        if (!pd->has_key && in && in->has_key) { /* by default the input's key: same key, same
                                                  * partition, in order */
            m.key = in->key;
            m.has_key = true;
        }
        struct lw_diag d = { 0 };
        hold(r, pos->ticket);
        /* counted before: the put may dispatch its report, and a record with none in flight may
         * be forgotten (flight_pop) */
        struct flight *f = flight_at(r, ticket);
        if (f) f->left++;
        int put = lw_ksink_put(r->k, &m, &d);
        f = flight_at(r, ticket);
        if (put != 0 && f) f->left--; /* no report follows */
        if (put == -3) {
            /* stopping in a wait for room: the record is not committed */
            s->out->len = 0;
            refused(r, pos, ticket, d.msg);
            return 0;
        }
        if (put == -2) { /* a bad topic known before: as its delivery report would have said */
            struct lw_kafka_report rep = { .ticket = ticket,
                                           .err = strncmp(d.msg, "kafka: ", 7) == 0 ? d.msg + 7
                                                                                    : d.msg,
                                           .bad_topic = true,
                                           .topic = m.topic,
                                           .value = m.value };
            if (route_failed(r, &rep)) continue; /* the hold stays until its dead letter */
        }
        if (put != 0) {
            s->out->len = 0;
            struct lw_diag fe = { 0 };
            if (lw_ksink_fatal(r->k, &fe) || (r->acking && !s->dl)) {
                refused(r, pos, ticket, d.msg);
                return -1;
            }
            done(r, pos->ticket, true); /* no report follows */
            return s->host->refused(s->host->ud, rec, "produce", d.msg);
        }
    }
    s->out->len = 0;
    return 0;
}

/* flush_all: wait, within --flush-timeout in all, for the delivery reports of every message put,
 * sending the dead letters of the routed outputs they fail and waiting for those in turn, until
 * no route failure is left (a dead letter is never routed, so this ends). Returns the messages
 * still outstanding; sets *dl_bad, and d, when a dead letter could not be written. */
static int
flush_all(struct ks *r, struct lw_diag *d, bool *dl_bad)
{
    int64_t end = now_ms() + (int64_t)r->o->flush_timeout_ms;
    int left = lw_ksink_flush(r->k, (int)r->o->flush_timeout_ms);
    while (r->nrfail && !r->in_route) { /* in_route: a drain inside route_dead, which goes on */
        if (route_dead(r, d) != 0) *dl_bad = true;
        int64_t t = end - now_ms();
        left = lw_ksink_flush(r->k, t > 0 ? (int)t : 0);
    }
    return left;
}

static const char *
kafka_bad_to(struct lw_str to)
{
    return lw_kafka_topic_ok(to) ? NULL : "is not a Kafka topic name";
}

static int
kafka_open(struct lw_sink *s, const struct lw_stage_conf *c, struct lw_diag *d)
{
    struct ks *r = lw_xcalloc(1, sizeof *r);
    *r = (struct ks){ .o = c, .s = s, .acking = s->host->hold != NULL };
    s->state = r;
    r->k = lw_ksink_new(c, delivered, r, d);
    if (r->k == NULL) return -1;
    if (lw_ksink_check(r->k, TOPIC_CHECK_MS, d) != 0) return -2;
    lw_ksink_on_full(r->k, s->host->full, s->host->ud);
    size_t max = lw_ksink_max_value(r->k, 0); /* JSON may write a byte as 6 */
    r->route_keep = max > 4096 ? (max - 2048) / 6 : 0;
    if (r->route_keep > ROUTE_KEEP) r->route_keep = ROUTE_KEEP;
    return 0;
}

static void
kafka_poll(struct lw_sink *s)
{
    struct ks *r = s->state;
    lw_ksink_poll(r->k, 0);
    /* a fatal error of a producer other pipelines share too: each says it and stops */
    struct lw_diag fe = { 0 };
    if (!r->kfail.set && lw_ksink_fatal(r->k, &fe)) {
        lw_diag_setf(&r->kfail, "%s", fe.msg);
        if (r->acking)
            lw_kafka_say(r->o, "%s: stopping; nothing after its last delivered input is committed",
                         fe.msg);
        else
            lw_kafka_say(r->o, "%s: stopping; outputs not yet delivered never will be (%s)", fe.msg,
                         NOCOMMIT);
        s->lost = true;
        s->host->stop(s->host->ud);
    }
}

static int
kafka_tend(struct lw_sink *s, struct lw_diag *d)
{
    struct ks *r = s->state;
    return r->nrfail ? route_dead(r, d) : 0;
}

/* kafka_drain: before a revocation: what was put is delivered, or failed, within
 * --flush-timeout; a dead letter that cannot be written stops the run as after any failed
 * write of the dead-letter file. */
static int
kafka_drain(struct lw_sink *s)
{
    struct ks *r = s->state;
    bool dl_bad = false;
    struct lw_diag rd = { 0 };
    int left = flush_all(r, &rd, &dl_bad);
    if (dl_bad) lw_kafka_say(r->o, "before revocation: %s", rd.msg);
    if (left) {
        lw_kafka_say(r->o,
                     "%d messages not delivered within --flush-timeout before "
                     "revocation: their input will be read again",
                     left);
    }
    return dl_bad ? -1 : 0;
}

/* kafka_finish: at the end: deliver what is pending (first: an undeliverable routed output adds
 * a dead letter); what is not delivered within --flush-timeout is not committed. */
static int
kafka_finish(struct lw_sink *s, struct lw_diag *d)
{
    struct ks *r = s->state;
    bool bad = false;
    int left = flush_all(r, d, &bad);
    if (left) {
        lw_diag_setf(&r->kfail, "%d messages not delivered within --flush-timeout", left);
        s->lost = true;
        char first[256];
        if (r->acking)
            lw_kafka_say(r->o,
                         "%d messages not delivered within --flush-timeout: their input is "
                         "not committed",
                         left);
        else if (flight_first(r, first, sizeof first))
            lw_kafka_say(r->o,
                         "%d messages not delivered within --flush-timeout: outputs of %s and of "
                         "later records (%s)",
                         left, first, NOCOMMIT);
        else /* dead letters only */
            lw_kafka_say(r->o, "%d messages not delivered within --flush-timeout (%s)", left,
                         NOCOMMIT);
    }
    char first[256];
    if (!r->acking && r->nfailed > 1 && flight_first(r, first, sizeof first))
        /* the first failure named its record; the others were not said */
        lw_kafka_say(r->o, "%" PRIu64 " messages failed: outputs of %s and of later records (%s)",
                     r->nfailed, first, NOCOMMIT);
    if (lw_ksink_fatal(r->k, d)) bad = true;
    return bad ? -1 : 0;
}

static size_t
kafka_room(struct lw_sink *s, size_t keylen)
{
    struct ks *r = s->state;
    return lw_ksink_max_value(r->k, keylen);
}

static void
kafka_close(struct lw_sink *s)
{
    struct ks *r = s->state;
    if (r == NULL) return;
    lw_ksink_free(r->k);
    free(r->rfail);
    free(r->fl);
    for (uint32_t i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    free(r);
    s->state = NULL;
}

static int64_t
kafka_queued(struct lw_sink *s)
{
    struct ks *r = s->state;
    return r && r->k ? lw_ksink_queued(r->k) : -1;
}

const struct lw_sink_ops lw_sink_kafka = { .name = "kafka",
                                           .messages = true,
                                           .bad_to = kafka_bad_to,
                                           .open = kafka_open,
                                           .put = kafka_put,
                                           .poll = kafka_poll,
                                           .tend = kafka_tend,
                                           .drain = kafka_drain,
                                           .finish = kafka_finish,
                                           .room = kafka_room,
                                           .letter = kafka_letter,
                                           .queued = kafka_queued,
                                           .close = kafka_close };

/* The record loop. For each raw record: decode, run the VM, and either keep its output (the
 * encoder wrote it into the output buffer) or discard it and send the record to the dead-letter
 * path with both positions. Output is flushed in large writes, only between records. Counters
 * feed the exit status and the summary line.
 * With an acknowledging source (Kafka), a record is finished only when every output of it is
 * safe: written to stdout or the dead-letter file, or reported delivered by the Kafka sink.
 * The source commits its position from those acknowledgements (source.h: hold/done).
 * A routed output whose topic does not exist or may not be written becomes a dead letter of
 * its own (kind "route") sent while its record is still held, so the stream goes on. */
#include "lw/pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lw/codec.h"
#include "lw/deadletter.h"
#include "lw/json.h"
#include "lw/kafka.h"
#include "lw/sink.h"
#include "lw/source.h"
#include "lw/timefmt.h"

#define FLUSH_AT     (64 * 1024)
#define MAX_WARNINGS 100
/* Undeliverable routed outputs wait in memory between a delivery report and their dead letter:
 * each keeps at most ROUTE_KEEP bytes of its value, and all of them at most ROUTE_KEEP_ALL. */
#define ROUTE_KEEP     (64 * 1024)
#define ROUTE_KEEP_ALL (16 * 1024 * 1024)
/* How long the start-up check of --out-topic and --dead-letter-topic waits for the brokers */
#define TOPIC_CHECK_MS 5000

static volatile sig_atomic_t stop;

void
lw_pipeline_stop(void)
{
    stop = 1;
}

/* One Kafka output of the current record: its value is out[off, off + len). */
struct pend {
    size_t off, len;
    struct lw_str topic, key;
    bool has_key;
    uint32_t h0, nh; /* its headers: hdrs[h0, h0 + nh) */
};

/* Where the template side of records puts what they produce: the encoded outputs and, with
 * Kafka output, each one's topic, key and headers. The loop's own (struct run.cur, whose out is
 * the output buffer) holds the current record's; a batch's holds all of its records'. */
struct outs {
    struct lw_buf *out;
    struct pend *pend;
    uint32_t npend, cappend;
    struct lw_kafka_header *hdrs;
    uint32_t nhdrs, caphdrs;
};

/* What running one record gave, for the loop to act on (count, keep, dead-letter). */
enum rkind { RK_OK, RK_DROP, RK_REJECT, RK_ERROR, RK_UNDECODABLE };
struct result {
    enum rkind kind;
    uint32_t nemit;    /* records emitted (kept with RK_OK and RK_DROP) */
    const char *where; /* template position of a reject or error, else NULL */
    const char *msg;   /* why it failed */
};

/* The template side of records: decode, run the VM, encode. One for the loop itself and one
 * per worker thread (-j). It reads the options and the program and writes only to its own
 * members and to dst: never to struct run, so workers need no lock while they run. */
struct work {
    const struct lw_program *prog;
    const struct lw_opts *o;
    const struct lw_decoder *dec;
    const struct lw_encoder *enc;
    struct lw_arena arena; /* the record arena, reset after each record */
    struct lw_vm vm;
    struct lw_str *topval;
    struct outs *dst;
    size_t rec_start; /* dst->out->len when the record began */
    uint32_t nemit;
    const struct lw_recpos *pos;
    char where[256], err[320];
};

/* A record whose stdout output sits in the output buffer, ending at out[end]. */
struct wait {
    uint64_t ticket;
    size_t end;
};

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

struct run {
    const struct lw_program *prog;
    const struct lw_opts *o;
    const struct lw_encoder *enc;
    struct lw_buf out; /* encoded output not yet written */
    size_t rec_start;  /* out.len when the current record began */
    struct lw_buf dl;  /* dead letters not yet written */
    struct lw_sink sink, dlsink;
    bool has_dl;
    struct lw_counters n;
    uint64_t warnings;
    /* Kafka */
    struct lw_source src;
    bool acking;            /* the source takes hold/done */
    struct lw_ksink *ksink; /* --to kafka or --dead-letter-topic */
    struct outs cur;        /* the current record's outputs (cur.out is &out) */
    struct wait *waiting;   /* records finished when their output is written (acking source) */
    uint32_t nwaiting, capwaiting;
    bool out_failed;       /* a write to stdout failed: nothing more is written there */
    struct lw_diag outerr; /* why */
    bool dl_failed;        /* the same for the dead-letter file (or it was closed at exit) */
    struct lw_diag dlerr;  /* why */
    uint64_t delivered, undelivered;
    const struct lw_recpos *pos; /* of the record being processed */
    struct lw_diag kfail;        /* the first final delivery failure */
    struct rfail *rfail;         /* undeliverable routed outputs awaiting their dead letter */
    uint32_t nrfail, caprfail;
    size_t rfail_bytes;
    struct lw_buf rdl;  /* the route dead letter being sent */
    bool in_route;      /* route_dead is running */
    size_t route_keep;  /* bytes of a value a route dead letter keeps */
    int64_t full_since; /* monotonic ms when the sink began to wait for room, 0: not waiting */
    bool full_said;
    int64_t next_stats; /* monotonic ms of the next summary line */
};

/* no_form: the error for a value the encoder cannot write (the caller drops the partial text
 * with the record's output). */
static int
no_form(struct lw_vm *vm, const char *verb, const struct lw_value *v)
{
    if (v->t == LW_T_ARR || v->t == LW_T_OBJ) {
        return lw_vm_error(vm, "cannot %s %s: nested deeper than %d levels", verb,
                           lw_type_name(v->t), LW_JSON_MAX_DEPTH);
    }
    return lw_vm_error(vm, "cannot %s %s", verb, lw_type_name(v->t));
}

#define GROW(p, n, cap)                                                                            \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 16;                                                          \
            (p) = lw_xrealloc((p), (cap) * sizeof *(p));                                           \
        }                                                                                          \
    } while (0)

/* route_text: a key or header value as bytes: strings as they are, numbers and bools in their
 * text form (copied to the record arena). */
static int
route_text(struct lw_vm *vm, const struct lw_value *v, struct lw_str *out, const char *what)
{
    if (v->t == LW_T_STR) {
        *out = (struct lw_str){ v->u.p, v->len };
        return 0;
    }
    if (v->t != LW_T_INT && v->t != LW_T_FLOAT && v->t != LW_T_BOOL) {
        return lw_vm_error(vm, "emit: %s must be a string or a number, found %s", what,
                           lw_type_name(v->t));
    }
    vm->scratch.len = 0;
    lw_value_write_text(&vm->scratch, v, vm->arena);
    *out =
        (struct lw_str){ lw_arena_dup(vm->arena, vm->scratch.p, vm->scratch.len), vm->scratch.len };
    return 0;
}

/* kafka_route: record one Kafka output of the current record, routed by `to`, `key` and
 * `headers` (route may be NULL: the default topic, no key, no headers). */
static int
kafka_route(struct work *w, struct lw_vm *vm, size_t start, const struct lw_value *route)
{
    struct outs *d = w->dst;
    struct pend pd = { .off = start,
                       .len = d->out->len - start - 1, /* a message has no line terminator */
                       .topic = lw_str_c(w->o->out_topic),
                       .h0 = d->nhdrs };
    const struct lw_msgmeta *in = w->pos ? w->pos->msg : NULL;
    if (in && in->has_key) { /* by default the input's key: same key, same partition, in order */
        pd.key = in->key;
        pd.has_key = true;
    }
    if (route != NULL) {
        if (route[0].t == LW_T_STR) {
            pd.topic = (struct lw_str){ route[0].u.p, route[0].len };
            if (!lw_kafka_topic_ok(pd.topic)) {
                return lw_vm_error(vm, "emit ... to: '%.*s' is not a Kafka topic name",
                                   (int)(pd.topic.len > 300 ? 300 : pd.topic.len), pd.topic.p);
            }
        } else if (route[0].t != LW_T_NULL) {
            return lw_vm_error(vm, "emit ... to: the topic must be a string, found %s",
                               lw_type_name(route[0].t));
        }
        if (route[1].t != LW_T_NULL) {
            if (route_text(vm, &route[1], &pd.key, "the key") != 0) return -1;
            pd.has_key = true;
        }
        if (route[2].t == LW_T_OBJ) {
            struct lw_iter it;
            struct lw_value k, v;
            lw_iter_init(&it, &route[2]);
            while (lw_iter_next(&it, &k, &v, vm->arena) == 1) {
                GROW(d->hdrs, d->nhdrs, d->caphdrs);
                struct lw_kafka_header *h = &d->hdrs[d->nhdrs];
                *h = (struct lw_kafka_header){ .name = { k.u.p, k.len },
                                               .null_value = v.t == LW_T_NULL };
                if (v.t != LW_T_NULL && route_text(vm, &v, &h->value, "a header value") != 0)
                    return -1;
                d->nhdrs++;
                pd.nh++;
            }
        } else if (route[2].t != LW_T_NULL) {
            return lw_vm_error(vm, "emit ... headers: expected an object, found %s",
                               lw_type_name(route[2].t));
        }
    }
    GROW(d->pend, d->npend, d->cappend);
    d->pend[d->npend++] = pd;
    return 0;
}

static int
out_cb(void *ud, struct lw_vm *vm, const struct lw_value *v, const struct lw_value *route,
       bool print)
{
    struct work *w = ud;
    struct lw_buf *out = w->dst->out;
    size_t start = out->len;
    /* The encoders stop at the limit, so a value whose text would be huge (containers that
     * share their elements) costs no more than the limit in work and memory. */
    size_t max = w->rec_start + vm->limits.max_output;
    int rc;
    if (max < w->rec_start) max = SIZE_MAX;
    if (print) {
        rc = lw_value_write_text_max(out, v, vm->arena, max);
        if (rc == 0) lw_buf_addc(out, '\n');
    } else {
        rc = w->enc->encode(out, v, vm->arena, max);
        if (rc == 0) w->nemit++;
    }
    if (rc == -1) return no_form(vm, print ? "print" : "emit", v);
    if (rc != 0 || out->len - w->rec_start > vm->limits.max_output) {
        return lw_vm_error(vm, "output limit of %zu bytes per record exceeded (--max-output)",
                           vm->limits.max_output);
    }
    /* With stdout as the sink, routing means nothing and is ignored (logwash(1)). */
    return w->o->to == LW_TO_KAFKA ? kafka_route(w, vm, start, route) : 0;
}

/* tpos: "name:line:col" of a template span, into buf. */
static const char *
tpos(const struct lw_program *p, struct lw_span sp, char *buf, size_t cap)
{
    int line, col;
    lw_diag_linecol(p->src, sp.off, &line, &col);
    snprintf(buf, cap, "%.*s:%d:%d", (int)p->name.len, p->name.p, line, col);
    return buf;
}

/* kafka_failed: a final delivery failure. Stop reading; the source never commits at or past
 * the record it belongs to (done with ok false), so a restart reads it again. */
static void
kafka_failed(struct run *r, uint64_t ticket, const char *err)
{
    r->undelivered++;
    if (!r->kfail.set) {
        lw_diag_setf(&r->kfail, "%s", err);
        lw_kafka_say(r->o, "%s: stopping; nothing at or after its input is committed", err);
    }
    if (r->acking) r->src.ops->done(&r->src, ticket, false);
    lw_pipeline_stop();
}

/* refused: a message of the record at pos that librdkafka refused at once, taken as a delivery
 * that finally failed (the message names the record, without the sink's "kafka: "). */
static void
refused(struct run *r, const struct lw_recpos *pos, const char *err)
{
    char msg[700];
    if (strncmp(err, "kafka: ", 7) == 0) err += 7;
    snprintf(msg, sizeof msg, "%s%c%" PRIu64 ": %s", pos->name, pos->msg ? '@' : ':', pos->line,
             err);
    kafka_failed(r, pos->ticket, msg);
}

/* keep_route: note an undeliverable routed output (its record stays held); the dead letter is
 * written by route_dead, outside librdkafka's callbacks. */
static void
keep_route(struct run *r, const struct lw_kafka_report *rep)
{
    size_t len = rep->value.len;
    if (len > r->route_keep) len = r->route_keep;
    if (r->rfail_bytes + len > ROUTE_KEEP_ALL) len = 0;
    while (len > 0 && len < rep->value.len && ((unsigned char)rep->value.p[len] & 0xc0) == 0x80)
        len--; /* not inside a UTF-8 character */
    /* the position now: the letter may be sent after a revocation made the ticket stale (a
     * route_dead skipped inside a nested drain) */
    struct lw_msgmeta m;
    bool at = r->acking && r->src.ops->locate && r->src.ops->locate(&r->src, rep->ticket, &m);
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
                        .cut = len < rep->value.len };
    r->rfail_bytes += len;
}

static bool
is_named(const char *topic, struct lw_str t)
{
    return topic && strlen(topic) == t.len && memcmp(topic, t.p, t.len) == 0;
}

/* dl_keyed: whether the dead letter of pos, on --dead-letter-topic, takes the input's key:
 * not when the key would leave less than half of message.max.bytes for the dead letter. */
static bool
dl_keyed(struct run *r, const struct lw_recpos *pos)
{
    if (pos->msg == NULL || !pos->msg->has_key) return false;
    return lw_ksink_max_value(r->ksink, pos->msg->key.len) >= lw_ksink_max_value(r->ksink, 0) / 2;
}

/* route_failed: an output of the record of rep->ticket (held for it) that failed. When it was
 * routed (emit ... to) to a topic that does not exist or may not be written, it becomes a route
 * dead letter with a dead-letter path, else a delivery that finally failed with a hint, and the
 * result is true. The topics of the options were checked at start-up: false for those, and for
 * any other failure. Reached from a delivery report, or from produce() when librdkafka already
 * knew the topic was bad and refused the message at once. */
static bool
route_failed(struct run *r, const struct lw_kafka_report *rep)
{
    if (!rep->bad_topic || is_named(r->o->out_topic, rep->topic) ||
        is_named(r->o->dl_topic, rep->topic))
        return false;
    if (r->has_dl) {
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
    struct run *r = ud;
    if (rep->err == NULL) {
        r->delivered++;
        if (r->acking) r->src.ops->done(&r->src, rep->ticket, true);
        return;
    }
    if (!route_failed(r, rep)) kafka_failed(r, rep->ticket, rep->err);
}

/* dl_to_kafka: send the dead letter just written to b to --dead-letter-topic, with the input's
 * key when keyed. */
static void
dl_to_kafka(struct run *r, const struct lw_recpos *pos, struct lw_buf *b, bool keyed)
{
    struct lw_kafka_msg m = { .topic = lw_str_c(r->o->dl_topic),
                              .value = { b->p, b->len - 1 },
                              .ticket = pos->ticket };
    if (keyed) {
        m.key = pos->msg->key;
        m.has_key = true;
    }
    struct lw_diag d = { 0 };
    if (r->acking) r->src.ops->hold(&r->src, pos->ticket);
    if (lw_ksink_put(r->ksink, &m, &d) != 0) {
        if (pos->name != NULL)
            refused(r, pos, d.msg);
        else /* a route dead letter: the source has no position for its record */
            kafka_failed(r, pos->ticket, d.msg);
    }
    b->len = 0;
}

/* route_letter: the dead letter of an undeliverable routed output, into r->rdl (lw_dl_route).
 * Not r->dl: a wait for room while r->dl's letter is being sent can come here (through a
 * revocation's drain). */
static void
route_letter(struct run *r, const struct rfail *f)
{
    struct lw_dl_route dr = { .in_topic = f->in_topic,
                              .partition = f->partition,
                              .offset = f->offset,
                              .topic = f->topic,
                              .err = f->err,
                              .value = { f->value, f->len },
                              .cut = f->cut };
    r->rdl.len = 0;
    lw_dl_route(&r->rdl, &dr);
}

/* route_dead: send the dead letters of undeliverable routed outputs, each while its record is
 * held, then release the hold the output had: the record is finished once its dead letter is
 * safe. Returns -1 when the dead-letter file cannot be written (d set). */
static int
route_dead(struct run *r, struct lw_diag *d)
{
    int rc = 0;
    if (r->in_route) return 0; /* called again from a wait below: the loop goes on there */
    r->in_route = true;
    for (uint32_t i = 0; i < r->nrfail; i++) { /* dl_to_kafka may add more: nrfail grows */
        struct rfail f = r->rfail[i];
        route_letter(r, &f);
        r->n.failed++;
        if (r->o->dl_topic) {
            struct lw_recpos pos = { .ticket = f.ticket };
            dl_to_kafka(r, &pos, &r->rdl, false);
            if (r->acking) r->src.ops->done(&r->src, f.ticket, true);
        } else if (!r->dl_failed &&
                   lw_sink_write(&r->dlsink, r->rdl.p, r->rdl.len, &r->dlerr) == 0) {
            if (r->acking) r->src.ops->done(&r->src, f.ticket, true);
        } else { /* after a torn line nothing more is written: no letter lands after it */
            r->dl_failed = true;
            rc = -1;
            if (r->acking) r->src.ops->done(&r->src, f.ticket, false);
        }
        free(f.in_topic);
        free(f.topic);
        free(f.err);
        free(f.value);
    }
    r->nrfail = 0;
    r->rfail_bytes = 0;
    r->in_route = false;
    if (rc != 0) lw_diag_setf(d, "%s", r->dlerr.msg);
    return rc;
}

static void
say_pos(const struct lw_recpos *pos)
{
    fprintf(stderr, "logwash: %s%c%" PRIu64 ": ", pos->name, pos->msg ? '@' : ':', pos->line);
}

/* failed: count, report and route one failed record. Returns -1 under --on-error=abort. */
static int
failed(struct run *r, const struct lw_recpos *pos, struct lw_str raw, const char *kind,
       const char *where, const char *msg)
{
    if (r->has_dl && r->o->dl_topic) { /* the message must fit message.max.bytes */
        bool keyed = dl_keyed(r, pos);
        size_t room = lw_ksink_max_value(r->ksink, keyed ? pos->msg->key.len : 0);
        lw_dl_record(&r->dl, pos, raw, kind, where, msg, room);
        dl_to_kafka(r, pos, &r->dl, keyed);
    } else if (r->has_dl) {
        lw_dl_record(&r->dl, pos, raw, kind, where, msg, SIZE_MAX);
    }
    bool say = r->o->on_error == LW_ONERR_ABORT ||
               (r->o->on_error == LW_ONERR_WARN && !r->has_dl && r->o->verbosity >= 0);
    if (say && r->warnings < MAX_WARNINGS) {
        say_pos(pos);
        if (where) fprintf(stderr, "%s: ", where);
        /* The message may quote record bytes: control characters never reach the terminal. */
        for (const char *c = msg; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                fprintf(stderr, "\\x%02x", (unsigned char)*c);
            else
                fputc(*c, stderr);
        }
        fputc('\n', stderr);
    } else if (say && r->warnings == MAX_WARNINGS) { /* said once, when the first is hidden */
        fprintf(stderr, "logwash: further record errors are counted but not shown "
                        "(use --dead-letter FILE to keep them all)\n");
    }
    if (say) r->warnings++;
    return r->o->on_error == LW_ONERR_ABORT ? -1 : 0;
}

/* flush_out: write the output buffer. A record is finished when every byte of its output was
 * written. After a failed write nothing more is written to stdout (the output would have a
 * hole), and every record whose output was not written in full, then or later, is released as
 * failed: the source commits nothing at or after it, so a restart reads it again. Returns -1
 * once stdout failed, with d set unless the pipe broke (a quiet stop). */
static int
flush_out(struct run *r, struct lw_diag *d)
{
    size_t wrote = r->out.len;
    if (r->out_failed) {
        wrote = 0;
    } else if (r->out.len > 0 && lw_sink_write(&r->sink, r->out.p, r->out.len, &r->outerr) != 0) {
        r->out_failed = true;
        wrote = r->sink.wrote;
    }
    r->out.len = 0;
    uint32_t lost = 0;
    for (uint32_t i = 0; i < r->nwaiting; i++) {
        bool ok = r->waiting[i].end <= wrote;
        lost += !ok;
        r->src.ops->done(&r->src, r->waiting[i].ticket, ok);
    }
    r->nwaiting = 0;
    if (!r->out_failed) return 0;
    if (r->sink.broken_pipe) return -1;
    if (lost) {
        lw_kafka_say(r->o, "%u records whose output was not written in full: not committed", lost);
    }
    lw_diag_setf(d, "%s", r->outerr.msg);
    return -1;
}

/* flush_dl: write the dead letters in r->dl to the dead-letter file. As for stdout, nothing more
 * is written there after a failed write (a later letter would follow a torn line): the records
 * whose letters are dropped are not finished by the caller. Returns -1, d set, once it failed. */
static int
flush_dl(struct run *r, struct lw_diag *d)
{
    if (r->dl.len == 0 || r->o->dl_topic) return 0;
    if (!r->dl_failed && lw_sink_write(&r->dlsink, r->dl.p, r->dl.len, &r->dlerr) != 0)
        r->dl_failed = true;
    r->dl.len = 0;
    if (!r->dl_failed) return 0;
    lw_diag_setf(d, "%s", r->dlerr.msg);
    return -1;
}

/* meta_value: the template's `meta` for this record. */
static struct lw_value
meta_value(const struct lw_recpos *pos, struct lw_arena *a)
{
    const struct lw_msgmeta *m = pos->msg;
    struct lw_value o = lw_obj_new(a, m ? 6 : 2);
    if (m == NULL) {
        lw_obj_set(a, &o, LW_STR_LIT("source"), lw_strv(pos->name, strlen(pos->name)));
        lw_obj_set(a, &o, LW_STR_LIT("line"), lw_int((int64_t)pos->line));
        return o;
    }
    lw_obj_set(a, &o, LW_STR_LIT("topic"), lw_strv(m->topic.p, m->topic.len));
    lw_obj_set(a, &o, LW_STR_LIT("partition"), lw_int(m->partition));
    lw_obj_set(a, &o, LW_STR_LIT("offset"), lw_int(m->offset));
    lw_obj_set(a, &o, LW_STR_LIT("key"), m->has_key ? lw_strv(m->key.p, m->key.len) : LW_NULL);
    bool ts = m->has_timestamp && m->timestamp_ms >= -INT64_MAX / 1000000 &&
              m->timestamp_ms <= INT64_MAX / 1000000; /* a timestamp holds ns since 1970 */
    lw_obj_set(a, &o, LW_STR_LIT("timestamp"),
               ts ? lw_time(m->timestamp_ms * 1000000, 0) : LW_NULL);
    struct lw_value h = lw_obj_new(a, m->nheaders);
    for (uint32_t i = 0; i < m->nheaders; i++) { /* a repeated name: the last one wins */
        const struct lw_kafka_header *x = &m->headers[i];
        lw_obj_set(a, &h, x->name, x->null_value ? LW_NULL : lw_strv(x->value.p, x->value.len));
    }
    lw_obj_set(a, &o, LW_STR_LIT("headers"), h);
    return o;
}

/* work_one: the template side of one raw record: decode it, run the program, and leave its
 * outputs in w->dst (none after a reject or error: they are taken back). *x says what happened;
 * its strings live in w, or in the source's record, until the next record. */
static void
work_one(struct work *w, struct lw_str raw, const struct lw_recpos *pos, struct result *x)
{
    struct outs *d = w->dst;
    struct lw_record rec;
    uint32_t p0 = d->npend, h0 = d->nhdrs;
    *x = (struct result){ .kind = RK_UNDECODABLE, .msg = w->err };
    w->pos = pos;
    w->nemit = 0;
    w->rec_start = d->out->len;
    if (pos->too_long) {
        if (pos->why != NULL) {
            x->msg = pos->why;
        } else {
            snprintf(w->err, sizeof w->err,
                     "line longer than %zu bytes (--max-line): cut and skipped", w->o->max_line);
        }
        return;
    }
    if (w->dec->decode(w->prog, raw, &rec, w->topval, &w->arena, w->err, sizeof w->err) != 0)
        return;
    if (w->prog->uses_meta) rec.meta = meta_value(pos, &w->arena);
    enum lw_vm_result res = lw_vm_run(&w->vm, &rec);
    if (res == LW_VM_OK || res == LW_VM_DROP) {
        x->kind = res == LW_VM_OK ? RK_OK : RK_DROP;
        x->nemit = w->nemit;
        return;
    }
    d->out->len = w->rec_start; /* the output of a failed record is discarded */
    d->npend = p0;
    d->nhdrs = h0;
    x->kind = res == LW_VM_REJECT ? RK_REJECT : RK_ERROR;
    x->where = tpos(w->prog, w->prog->spans[w->vm.err_pc], w->where, sizeof w->where);
    x->msg = w->vm.err;
}

/* apply: the loop's side of a record whose work is done: count it, and send a failed one to
 * the dead-letter path. Returns 0, or -1 to stop (abort policy). */
static int
apply(struct run *r, struct lw_str raw, const struct lw_recpos *pos, const struct result *x)
{
    r->n.in++;
    r->pos = pos;
    switch (x->kind) {
    case RK_OK:
        r->n.emitted += x->nemit;
        return 0;
    case RK_DROP:
        r->n.emitted += x->nemit;
        r->n.dropped++;
        return 0;
    case RK_UNDECODABLE:
        r->n.undecodable++;
        return failed(r, pos, raw, "decode", NULL, x->msg);
    case RK_REJECT:
        r->n.rejected++;
        return failed(r, pos, raw, "reject", x->where, x->msg);
    case RK_ERROR:
        break;
    }
    r->n.failed++;
    return failed(r, pos, raw, "error", x->where, x->msg);
}

/* produce: hand the record's Kafka outputs to the sink, each holding the record. A message
 * librdkafka refuses at once (larger than message.max.bytes, say) fails the record: with a
 * dead-letter path it becomes a dead letter (kind "produce"), finished once that is safe;
 * from an acknowledging source without one, or when the producer itself is broken, it is a
 * delivery that finally failed: the run stops and nothing at or after the record is committed.
 * From files without a dead-letter path it is a failed record like any other (--on-error).
 * A routed output librdkafka refuses because it already knows the topic is bad (the records
 * after the first routed there) is handled as the first one's delivery report was
 * (route_failed), and the record's next outputs are produced. */
static int
produce(struct run *r, struct lw_str raw, const struct lw_recpos *pos)
{
    for (uint32_t i = 0; i < r->cur.npend; i++) {
        const struct pend *pd = &r->cur.pend[i];
        struct lw_kafka_msg m = { .topic = pd->topic,
                                  .key = pd->key,
                                  .has_key = pd->has_key,
                                  .value = { r->out.p + pd->off, pd->len },
                                  .headers = r->cur.hdrs + pd->h0,
                                  .nheaders = pd->nh,
                                  .ticket = pos->ticket };
        struct lw_diag d = { 0 };
        if (r->acking) r->src.ops->hold(&r->src, pos->ticket);
        int put = lw_ksink_put(r->ksink, &m, &d);
        if (put == -3) { /* stopping in a wait for room: the record is not committed */
            r->out.len = 0;
            refused(r, pos, d.msg);
            return 0;
        }
        if (put == -2) { /* a bad topic known before: as its delivery report would have said */
            struct lw_kafka_report rep = { .ticket = pos->ticket,
                                           .err = strncmp(d.msg, "kafka: ", 7) == 0 ? d.msg + 7
                                                                                    : d.msg,
                                           .bad_topic = true,
                                           .topic = m.topic,
                                           .value = m.value };
            if (route_failed(r, &rep)) continue; /* the hold stays until its dead letter */
        }
        if (put != 0) {
            r->out.len = 0;
            struct lw_diag fe = { 0 };
            if (lw_ksink_fatal(r->ksink, &fe) || (r->acking && !r->has_dl)) {
                refused(r, pos, d.msg);
                return -1;
            }
            if (r->acking) r->src.ops->done(&r->src, pos->ticket, true); /* no report follows */
            r->n.failed++;
            return failed(r, pos, raw, "produce", NULL, d.msg);
        }
    }
    r->out.len = 0;
    return 0;
}

static int64_t now_ms(void);

/* flush_all: wait, within --flush-timeout in all, for the delivery reports of every message put,
 * sending the dead letters of the routed outputs they fail and waiting for those in turn, until
 * no route failure is left (a dead letter is never routed, so this ends). Returns the messages
 * still outstanding; sets *dl_bad, and d, when a dead letter could not be written. */
static int
flush_all(struct run *r, struct lw_diag *d, bool *dl_bad)
{
    int64_t end = now_ms() + (int64_t)r->o->flush_timeout_ms;
    int left = lw_ksink_flush(r->ksink, (int)r->o->flush_timeout_ms);
    while (r->nrfail && !r->in_route) { /* in_route: a drain inside route_dead, which goes on */
        if (route_dead(r, d) != 0) *dl_bad = true;
        int64_t t = end - now_ms();
        left = lw_ksink_flush(r->ksink, t > 0 ? (int)t : 0);
    }
    return left;
}

/* drain: finish every record handed out so far (the source is about to lose them). */
static void
drain(void *ud)
{
    struct run *r = ud;
    struct lw_diag d = { 0 };
    /* With Kafka output, r->out holds only the outputs of a record being produced (a wait for
     * room can bring a revocation here): they go to Kafka, never to stdout. What was not
     * written is released as failed; the run stops as after any write error. */
    if ((r->o->to != LW_TO_KAFKA && flush_out(r, &d) != 0) || flush_dl(r, &d) != 0) {
        if (d.set) lw_kafka_say(r->o, "before revocation: %s", d.msg);
        lw_pipeline_stop();
    }
    if (r->ksink) {
        bool dl_bad = false;
        struct lw_diag rd = { 0 };
        int left = flush_all(r, &rd, &dl_bad);
        if (dl_bad) { /* stop as after any failed write of the dead-letter file */
            lw_kafka_say(r->o, "before revocation: %s", rd.msg);
            lw_pipeline_stop();
        }
        if (left) {
            lw_kafka_say(r->o,
                         "%d messages not delivered within --flush-timeout before "
                         "revocation: their input will be read again",
                         left);
        }
    }
}

/* full: the Kafka sink waits for room (brokers away): keep the consumer in its group. A wait
 * longer than a second is said, and so is its end. A stop request (a signal, a final failure)
 * gives the wait up: the brokers may stay away for long. */
static bool
full(void *ud, bool waiting)
{
    struct run *r = ud;
    if (r->src.ops->wait) r->src.ops->wait(&r->src, waiting);
    if (!waiting) {
        if (r->full_said) lw_kafka_say(r->o, "output queue has room again: reading again");
        r->full_since = 0;
        r->full_said = false;
        return true;
    }
    if (stop) return false;
    int64_t t = now_ms();
    if (r->full_since == 0) r->full_since = t;
    if (!r->full_said && t - r->full_since >= 1000) {
        lw_kafka_say(r->o,
                     "output queue full (%" PRIu64 " records read): not reading until the "
                     "brokers take messages again",
                     r->n.in);
        r->full_said = true;
    }
    return true;
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* stats: the periodic one-line summary of a long-running (Kafka) stream. */
static void
stats(struct run *r, bool force)
{
    if (r->o->stats_ms == 0 || r->o->verbosity < 0) return;
    int64_t t = now_ms();
    if (!force && t < r->next_stats) return;
    r->next_stats = t + (int64_t)r->o->stats_ms;
    char lag[32] = "unknown";
    int64_t l = r->src.ops->lag ? r->src.ops->lag(&r->src) : -1;
    if (l >= 0) snprintf(lag, sizeof lag, "%" PRId64, l);
    lw_kafka_say(r->o,
                 "%" PRIu64 " records in, %" PRIu64 " emitted, %" PRIu64 " dropped, %" PRIu64
                 " dead (rejected, failed, undecodable), %" PRIu64 " delivered, lag %s",
                 r->n.in, r->n.emitted, r->n.dropped,
                 r->n.rejected + r->n.failed + r->n.undecodable, r->delivered, lag);
}

static void
summary(const struct run *r, const struct lw_opts *o)
{
    uint64_t bad = r->n.failed + r->n.rejected + r->n.undecodable;
    if (o->verbosity < 1 && (bad == 0 || o->verbosity < 0 || o->on_error == LW_ONERR_SKIP)) return;
    fprintf(stderr,
            "logwash: %" PRIu64 " records: %" PRIu64 " emitted, %" PRIu64 " dropped, %" PRIu64
            " rejected, %" PRIu64 " failed, %" PRIu64 " undecodable%s%s\n",
            r->n.in, r->n.emitted, r->n.dropped, r->n.rejected, r->n.failed, r->n.undecodable,
            r->has_dl ? "; dead letters in " : "",
            r->has_dl ? (o->dl_topic ? o->dl_topic : o->dead_letter) : "");
}

/* finish: after the loop: write and deliver what is pending, within --flush-timeout. */
static bool
finish(struct run *r, struct lw_diag *d)
{
    bool bad = false;
    if (flush_out(r, d) != 0 && !r->sink.broken_pipe) bad = true;
    if (r->ksink) { /* first: an undeliverable routed output adds a dead letter */
        int left = flush_all(r, d, &bad);
        if (left) {
            lw_diag_setf(&r->kfail, "%d messages not delivered within --flush-timeout", left);
            lw_kafka_say(r->o,
                         "%d messages not delivered within --flush-timeout: their input is "
                         "not committed",
                         left);
        }
        if (lw_ksink_fatal(r->ksink, d)) bad = true;
    }
    if (r->has_dl && !r->o->dl_topic) {
        if (flush_dl(r, d) != 0) bad = true;
        if (lw_sink_close(&r->dlsink, d) != 0) bad = true;
        /* a revocation when the source closes may still bring a route failure: not written */
        r->dl_failed = true;
        lw_diag_setf(&r->dlerr, "%s was closed at exit", r->o->dead_letter);
    }
    return bad;
}

static int
setup(struct run *r, const struct lw_opts *o, struct lw_diag *d)
{
    lw_sink_open_fd(&r->sink, 1, "stdout");
    if (o->dead_letter != NULL) {
        /* never one of the files this run reads or writes: the inputs, stdin, stdout, the
         * template and the job file */
        struct lw_sink_keep *keep = lw_xcalloc((size_t)o->ninputs + 5, sizeof *keep);
        int nkeep = 0;
        lw_sink_keep_fd(keep, &nkeep, 1, "the output (stdout)");
        lw_sink_keep_fd(keep, &nkeep, 2, "standard error");
        bool stdin_read = o->from != LW_FROM_KAFKA && o->ninputs == 0;
        for (int i = 0; i < o->ninputs; i++) {
            if (strcmp(o->inputs[i], "-") == 0)
                stdin_read = true;
            else
                lw_sink_keep_path(keep, &nkeep, o->inputs[i], "an input");
        }
        if (stdin_read) lw_sink_keep_fd(keep, &nkeep, 0, "the input (stdin)");
        if (o->template_file) lw_sink_keep_path(keep, &nkeep, o->template_file, "the template");
        if (o->config_file) lw_sink_keep_path(keep, &nkeep, o->config_file, "the job file");
        int rc = lw_sink_open_file(&r->dlsink, o->dead_letter, keep, nkeep, d);
        free(keep);
        if (rc != 0) return -1;
        r->has_dl = true;
    }
    r->has_dl |= o->dl_topic != NULL;
    if (o->to == LW_TO_KAFKA || o->dl_topic) {
        r->ksink = lw_ksink_new(o, delivered, r, d);
        if (r->ksink == NULL) return -1;
        if (lw_ksink_check(r->ksink, TOPIC_CHECK_MS, d) != 0) return -2;
        lw_ksink_on_full(r->ksink, full, r);
        size_t max = lw_ksink_max_value(r->ksink, 0); /* JSON may write a byte as 6 */
        r->route_keep = max > 4096 ? (max - 2048) / 6 : 0;
        if (r->route_keep > ROUTE_KEEP) r->route_keep = ROUTE_KEEP;
    }
    r->src.ops = o->from == LW_FROM_KAFKA ? &lw_source_kafka : &lw_source_files;
    r->acking = r->src.ops->done != NULL;
    r->src.drain = drain;
    r->src.ud = r;
    return 0;
}

/* settle: after a record: send its Kafka outputs, keep its stdout output waiting for the
 * write, and release the hold next() took. */
static int
settle(struct run *r, int rc, struct lw_str raw, const struct lw_recpos *pos, struct lw_diag *d)
{
    if (r->o->to == LW_TO_KAFKA && r->cur.npend && produce(r, raw, pos) != 0) rc = -1;
    if (!r->acking) return rc;
    if (r->out.len > r->rec_start && r->o->to != LW_TO_KAFKA) {
        r->src.ops->hold(&r->src, pos->ticket);
        GROW(r->waiting, r->nwaiting, r->capwaiting);
        r->waiting[r->nwaiting++] = (struct wait){ pos->ticket, r->out.len };
    }
    if (r->dl.len && flush_dl(r, d) != 0) return -2; /* dead letters are written at once */
    /* --on-error=abort stops at this record: it stays uncommitted, so a restart reads it again */
    r->src.ops->done(&r->src, pos->ticket, rc == 0);
    return rc;
}

/* The loop's side of a record whose work is done (by work_one, here or in a worker): what
 * record_done says next. */
enum { GO, STOP_ABORT, STOP_IO, STOP_QUIET };

static int
record_done(struct run *r, const struct result *x, struct lw_str raw, const struct lw_recpos *pos,
            struct lw_diag *d)
{
    int rc = apply(r, raw, pos, x);
    rc = settle(r, rc, raw, pos, d);
    r->cur.npend = r->cur.nhdrs = 0;
    if (r->nrfail && rc != -2 && route_dead(r, d) != 0) rc = -2;
    if (rc == -2) return STOP_IO;
    if ((r->o->unbuffered || r->out.len >= FLUSH_AT) && flush_out(r, d) != 0)
        return r->sink.broken_pipe ? STOP_QUIET : STOP_IO; /* EPIPE is a quiet, normal stop */
    if ((r->dl.len >= FLUSH_AT || (r->o->unbuffered && r->dl.len)) && flush_dl(r, d) != 0)
        return STOP_IO;
    if (r->o->from == LW_FROM_KAFKA && (r->n.in & 1023) == 0) stats(r, false);
    return rc != 0 ? STOP_ABORT : GO;
}

static void
work_init(struct work *w, struct run *r, const struct lw_decoder *dec, struct outs *dst)
{
    *w = (struct work){ .prog = r->prog, .o = r->o, .dec = dec, .enc = r->enc, .dst = dst };
    lw_arena_init(&w->arena, 64 * 1024);
    lw_vm_init(&w->vm, r->prog, &w->arena, &r->o->limits);
    w->vm.now_ns = r->o->now_ns;
    w->vm.tz = r->o->tz;
    w->vm.out = out_cb;
    w->vm.out_ud = w;
    w->topval = lw_xcalloc(r->prog->ntopkeys + 1, sizeof *w->topval);
}

static void
work_fini(struct work *w)
{
    lw_vm_fini(&w->vm);
    lw_arena_fini(&w->arena);
    free(w->topval);
}

/* Parallel workers (-j N). The loop reads records into batches (copies: a source's record lives
 * only until its next call), N threads run the template over whole batches, and the loop settles
 * the batches in the order it read them: outputs, dead letters, messages and counters are
 * exactly those of -j 1, in the same order. A batch ends at BATCH_RECS records or BATCH_BYTES,
 * or when the input is quiet (a pipe waits): nothing waits in a batch for more input. A worker
 * leaves a batch's remaining records to the loop once the batch's output passes BATCH_OUT, so a
 * batch holds at most that plus one record's --max-output. */
#define BATCH_RECS  512
#define BATCH_BYTES (128 * 1024)
#define BATCH_OUT   (4u << 20)
#define MAX_JOBS    256

struct brec {
    struct lw_str raw;
    struct lw_recpos pos;
    struct result x;
    size_t out_end;    /* its output ends at out[out_end] */
    uint32_t pend_end; /* and its Kafka outputs at outs.pend[pend_end] */
};

struct batch {
    struct lw_arena mem; /* the records, their positions' and results' strings, routes */
    struct brec *recs;
    uint32_t n, cap;
    size_t bytes;
    const char *name_in, *name; /* the last position name copied, and its copy */
    struct lw_buf out;
    struct outs outs; /* outs.out is &out */
    uint32_t worked;  /* records the worker did: the loop does the others */
    bool done;
};

struct pool;
struct worker {
    struct pool *p;
    pthread_t t;
    struct work w;
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t todo, done;
    uint64_t submitted, taken, settled; /* batch k is b[k % nb] */
    bool quit;
    int nthreads, started;
    uint32_t batch_recs; /* BATCH_RECS, or $LOGWASH_BATCH (tests: 1 gives every record a batch) */
    struct worker *workers;
    struct batch *b;
    uint32_t nb;
};

static const char *
keep_str(struct lw_arena *a, const char *s)
{
    return s ? lw_arena_dup(a, s, strlen(s) + 1) : NULL;
}

static struct lw_str
keep_lstr(struct lw_arena *a, struct lw_str s)
{
    return (struct lw_str){ s.len ? lw_arena_dup(a, s.p, s.len) : "", s.len };
}

/* batch_add: a copy of a record from the source into b. */
static void
batch_add(struct batch *b, struct lw_str raw, const struct lw_recpos *pos)
{
    GROW(b->recs, b->n, b->cap);
    struct brec *e = &b->recs[b->n++];
    *e = (struct brec){ .raw = keep_lstr(&b->mem, raw), .pos = *pos };
    if (pos->name != b->name_in) {
        b->name_in = pos->name;
        b->name = keep_str(&b->mem, pos->name);
    }
    e->pos.name = b->name;
    e->pos.why = keep_str(&b->mem, pos->why);
    b->bytes += raw.len + 64;
}

static void
batch_reset(struct batch *b)
{
    lw_arena_reset(&b->mem);
    b->n = b->worked = 0;
    b->bytes = 0;
    b->name_in = b->name = NULL;
    b->out.len = 0;
    b->outs.npend = b->outs.nhdrs = 0;
    b->done = false;
}

/* work_batch: a worker's run over a batch: each record's result and the strings its outputs'
 * routes use are copied into the batch (the record arena is reset after each record). */
static void
work_batch(struct work *w, struct batch *b)
{
    w->dst = &b->outs;
    for (uint32_t i = 0; i < b->n && b->out.len < BATCH_OUT; i++) {
        struct brec *e = &b->recs[i];
        uint32_t p0 = b->outs.npend;
        work_one(w, e->raw, &e->pos, &e->x);
        if (e->x.kind != RK_OK && e->x.kind != RK_DROP) {
            e->x.where = keep_str(&b->mem, e->x.where);
            e->x.msg = keep_str(&b->mem, e->x.msg);
        }
        for (uint32_t k = p0; k < b->outs.npend; k++) {
            struct pend *pd = &b->outs.pend[k];
            pd->topic = keep_lstr(&b->mem, pd->topic);
            pd->key = keep_lstr(&b->mem, pd->key);
            for (uint32_t h = pd->h0; h < pd->h0 + pd->nh; h++) {
                b->outs.hdrs[h].name = keep_lstr(&b->mem, b->outs.hdrs[h].name);
                b->outs.hdrs[h].value = keep_lstr(&b->mem, b->outs.hdrs[h].value);
            }
        }
        e->out_end = b->out.len;
        e->pend_end = b->outs.npend;
        lw_arena_reset(&w->arena);
        b->worked = i + 1;
    }
}

static void *
worker(void *arg)
{
    struct worker *wk = arg;
    struct pool *p = wk->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->taken == p->submitted)
            pthread_cond_wait(&p->todo, &p->mu);
        if (p->taken == p->submitted) break;
        struct batch *b = &p->b[p->taken++ % p->nb];
        pthread_mutex_unlock(&p->mu);
        work_batch(&wk->w, b);
        pthread_mutex_lock(&p->mu);
        b->done = true;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* move_out: the first n bytes of b's output to the output buffer: b's buffer itself when the
 * output buffer is empty (the two swap), else a copy. */
static void
move_out(struct run *r, struct batch *b, size_t n)
{
    if (n == 0) return;
    if (r->out.len == 0) {
        struct lw_buf t = r->out;
        r->out = b->out;
        b->out = t;
        r->out.len = n;
    } else {
        lw_buf_add(&r->out, b->out.p, n);
    }
}

/* settle_batch: the loop's side of batch b's records, in order. The records the worker did have
 * their output and routes copied into the loop's buffers, or, when the output goes straight to
 * stdout (no acknowledgements, no routes, not --unbuffered), their whole output moved there at
 * once; the loop runs the other records itself (mw). */
static int
settle_batch(struct run *r, struct work *mw, struct batch *b, struct lw_diag *d)
{
    bool direct = !r->acking && r->o->to != LW_TO_KAFKA && !r->o->unbuffered, moved = !direct;
    size_t o0 = 0;
    uint32_t p0 = 0;
    int st = GO;
    for (uint32_t i = 0; i < b->n && st == GO; i++) {
        struct brec *e = &b->recs[i];
        struct result x;
        if (i < b->worked) {
            x = e->x;
        } else if (!moved) {
            move_out(r, b, b->worked ? b->recs[b->worked - 1].out_end : 0);
            moved = true;
        }
        r->rec_start = r->out.len;
        if (i < b->worked && !direct) {
            lw_buf_add(&r->out, b->out.p + o0, e->out_end - o0);
            for (uint32_t k = p0; k < e->pend_end; k++) {
                struct pend pd = b->outs.pend[k];
                pd.off = pd.off - o0 + r->rec_start;
                uint32_t h0 = pd.h0;
                pd.h0 = r->cur.nhdrs;
                for (uint32_t h = h0; h < h0 + pd.nh; h++) {
                    GROW(r->cur.hdrs, r->cur.nhdrs, r->cur.caphdrs);
                    r->cur.hdrs[r->cur.nhdrs++] = b->outs.hdrs[h];
                }
                GROW(r->cur.pend, r->cur.npend, r->cur.cappend);
                r->cur.pend[r->cur.npend++] = pd;
            }
            o0 = e->out_end;
            p0 = e->pend_end;
        } else if (i >= b->worked) {
            work_one(mw, e->raw, &e->pos, &x);
        }
        st = record_done(r, &x, e->raw, &e->pos, d);
        if (i >= b->worked) lw_arena_reset(&mw->arena);
        if (st != GO && !moved) { /* what the records up to this one wrote */
            move_out(r, b, e->out_end);
            moved = true;
        }
    }
    if (!moved) move_out(r, b, b->worked ? b->recs[b->worked - 1].out_end : 0);
    if (st == GO && r->out.len >= FLUSH_AT && flush_out(r, d) != 0)
        st = r->sink.broken_pipe ? STOP_QUIET : STOP_IO;
    return st;
}

static void
pool_init(struct pool *p, struct run *r, const struct lw_decoder *dec, int n)
{
    *p = (struct pool){ .nthreads = n, .nb = (uint32_t)n * 2 + 2, .batch_recs = BATCH_RECS };
    const char *env = getenv("LOGWASH_BATCH");
    if (env && atoi(env) > 0 && atoi(env) < BATCH_RECS) p->batch_recs = (uint32_t)atoi(env);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->todo, NULL);
    pthread_cond_init(&p->done, NULL);
    p->b = lw_xcalloc(p->nb, sizeof *p->b);
    for (uint32_t i = 0; i < p->nb; i++) {
        lw_arena_init(&p->b[i].mem, 256 * 1024);
        lw_buf_init(&p->b[i].out);
        p->b[i].outs.out = &p->b[i].out;
    }
    p->workers = lw_xcalloc((size_t)n, sizeof *p->workers);
    for (int i = 0; i < n; i++) {
        p->workers[i].p = p;
        work_init(&p->workers[i].w, r, dec, NULL);
    }
}

/* pool_start: the threads, on the first batch that fills (a short input never starts them).
 * They block every signal: the loop's thread takes them. */
static void
pool_start(struct pool *p)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int i = 0; i < p->nthreads; i++) {
        if (pthread_create(&p->workers[i].t, NULL, worker, &p->workers[i]) != 0)
            break; /* fewer threads: the batches still get done */
        p->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
pool_fini(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    p->taken = p->submitted; /* after a stop: batches not begun are not needed */
    pthread_cond_broadcast(&p->todo);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->workers[i].t, NULL);
    for (int i = 0; i < p->nthreads; i++)
        work_fini(&p->workers[i].w);
    for (uint32_t i = 0; i < p->nb; i++) {
        lw_arena_fini(&p->b[i].mem);
        lw_buf_fini(&p->b[i].out);
        free(p->b[i].recs);
        free(p->b[i].outs.pend);
        free(p->b[i].outs.hdrs);
    }
    free(p->b);
    free(p->workers);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->todo);
    pthread_cond_destroy(&p->done);
}

/* pool_settle: settle the batches done, oldest first; with all, wait for every one submitted,
 * else only for the oldest when no batch is free to fill. Returns GO or how to stop. */
static int
pool_settle(struct pool *p, struct run *r, struct work *mw, bool all, struct lw_diag *d)
{
    while (p->settled < p->submitted) {
        struct batch *b = &p->b[p->settled % p->nb];
        pthread_mutex_lock(&p->mu);
        bool must = all || p->submitted - p->settled == p->nb;
        while (must && !b->done)
            pthread_cond_wait(&p->done, &p->mu);
        bool ready = b->done;
        pthread_mutex_unlock(&p->mu);
        if (!ready) return GO;
        int st = settle_batch(r, mw, b, d);
        batch_reset(b);
        p->settled++;
        if (st != GO) return st;
    }
    return GO;
}

/* pool_flush: the batch being filled: to the workers when they run, else (a short input, or a
 * quiet pipe before any batch filled) done by the loop itself. */
static int
pool_flush(struct pool *p, struct run *r, struct work *mw, bool submit, struct lw_diag *d)
{
    struct batch *b = &p->b[p->submitted % p->nb];
    if (b->n == 0) return GO;
    if (!submit && p->started == 0 && p->settled == p->submitted) {
        int st = settle_batch(r, mw, b, d);
        batch_reset(b);
        return st;
    }
    if (p->started == 0) pool_start(p);
    if (p->started == 0) { /* no thread could be made: the loop does it */
        int st = settle_batch(r, mw, b, d);
        batch_reset(b);
        return st;
    }
    pthread_mutex_lock(&p->mu);
    p->submitted++;
    pthread_cond_signal(&p->todo);
    pthread_mutex_unlock(&p->mu);
    return GO;
}

/* jobs: the number of workers: -j, else one per CPU for files and pipes, one for a terminal
 * (interactive: nothing to gain) and for Kafka input (not yet parallel). */
static int
jobs(const struct lw_opts *o)
{
    if (o->from == LW_FROM_KAFKA) return 1;
    if (o->jobs > 0) return o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs;
    bool tty = false;
    if (o->ninputs == 0) tty = isatty(0);
    for (int i = 0; i < o->ninputs; i++)
        if (strcmp(o->inputs[i], "-") == 0) tty |= isatty(0);
    if (tty) return 1;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

int
lw_pipeline_run(const struct lw_program *prog, const struct lw_opts *o, struct lw_counters *cnt)
{
    struct run r = { .prog = prog, .o = o };
    struct lw_diag d = { 0 };
    struct work mw;
    int status = 0;
    enum lw_informat in = o->input != LW_IN_DEFAULT ? o->input : prog->input;
    const struct lw_decoder *dec = in == LW_IN_JSON ? &lw_dec_json : &lw_dec_text;
    r.enc = o->output == LW_OUT_TEXT ? &lw_enc_text : &lw_enc_json;

    signal(SIGPIPE, SIG_IGN); /* descriptors 0-2 are open: main() saw to it */
    lw_buf_init(&r.out);
    lw_buf_init(&r.dl);
    lw_buf_init(&r.rdl);
    r.cur.out = &r.out;
    int set = setup(&r, o, &d);
    if (set != 0) {
        fprintf(stderr, "logwash: %s\n", d.msg);
        lw_ksink_free(r.ksink);
        return (o->dead_letter && !r.has_dl) || set == -2 ? 4 : 2;
    }
    work_init(&mw, &r, dec, &r.cur);
    int njobs = jobs(o);
    struct pool pool;
    if (njobs > 1) pool_init(&pool, &r, dec, njobs);
    r.next_stats = now_ms() + (int64_t)o->stats_ms;

    /* An I/O error stops the stream, but what the records before it produced is still
     * written: the loop only breaks, and the flushes below run in every case. */
    int opened = r.src.ops->open(&r.src, o, &d);
    bool io_failed = opened != 0;
    bool streaming = o->from == LW_FROM_KAFKA;
    int st = GO;
    while (!io_failed && !stop) {
        struct lw_str raw;
        struct lw_recpos pos;
        int got = r.src.ops->next(&r.src, &raw, &pos, &d);
        if (got < 0) {
            io_failed = true;
            break;
        }
        if (got == 0) break;
        if (got == 2) { /* a quiet moment: write what waits, serve delivery reports */
            if (njobs > 1) {
                st = pool_flush(&pool, &r, &mw, false, &d);
                if (st == GO) st = pool_settle(&pool, &r, &mw, true, &d);
                if (st != GO) break;
            }
            if (flush_out(&r, &d) != 0) {
                io_failed = !r.sink.broken_pipe;
                break;
            }
            if (r.ksink) lw_ksink_poll(r.ksink, 0);
            if (r.nrfail && route_dead(&r, &d) != 0) {
                io_failed = true;
                break;
            }
            if (streaming) stats(&r, false);
            continue;
        }
        if (njobs > 1) {
            struct batch *b = &pool.b[pool.submitted % pool.nb];
            batch_add(b, raw, &pos);
            if (b->n < pool.batch_recs && b->bytes < BATCH_BYTES) continue;
            st = pool_flush(&pool, &r, &mw, true, &d);
            if (st == GO) st = pool_settle(&pool, &r, &mw, false, &d);
        } else {
            struct result x;
            r.rec_start = r.out.len;
            work_one(&mw, raw, &pos, &x);
            st = record_done(&r, &x, raw, &pos, &d);
            lw_arena_reset(&mw.arena);
        }
        if (st != GO) break;
    }
    /* what was read is done and settled (also on a stop request), unless the run stops here */
    if (njobs > 1 && st == GO) {
        st = pool_flush(&pool, &r, &mw, false, &d);
        if (st == GO) st = pool_settle(&pool, &r, &mw, true, &d);
    }
    if (st == STOP_IO) io_failed = true;
    bool aborted = st == STOP_ABORT; /* --on-error=abort: the input was not all read */
    if (finish(&r, &d)) io_failed = true;
    if (io_failed) {
        fprintf(stderr, "logwash: %s\n", d.msg);
        status = opened == -2 ? 2 : 4;
    }
    /* a reject is the template's verdict on its input, not a failure of the run: counted, reported
     * and dead-lettered, but the status stays 0 (logwash(1) EXIT STATUS) */
    if (status == 0 && (aborted || r.n.failed || r.n.undecodable || r.kfail.set)) status = 1;
    if (streaming && opened == 0) stats(&r, true);
    summary(&r, o);
    struct lw_diag cd = { 0 };
    if (r.src.ops->close(&r.src, &cd) != 0) {
        fprintf(stderr, "logwash: %s\n", cd.msg);
        if (status == 0) status = 4;
    }
    lw_ksink_free(r.ksink);
    if (njobs > 1) pool_fini(&pool);
    work_fini(&mw);
    free(r.cur.pend);
    free(r.cur.hdrs);
    free(r.waiting);
    free(r.rfail);
    lw_buf_fini(&r.out);
    lw_buf_fini(&r.dl);
    lw_buf_fini(&r.rdl);
    if (cnt) *cnt = r.n;
    return status;
}

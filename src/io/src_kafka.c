/* The Kafka source: a consumer in a group (--from kafka). Each message is a record; the message
 * stays alive until the next call, so the record is a zero-copy view of it. The source keeps,
 * per assigned partition, the records handed out and not yet finished (a ring in offset order)
 * and stores an offset only past a contiguous run of finished records, and never past the limit the
 * caller set (setlimit: records it keeps for its own reasons, kstate.c); librdkafka's auto-commit
 * commits what was stored, and so do revocation and close, synchronously. A record whose output
 * finally failed is never finished, so nothing at or after it is committed: a restart replays it.
 * What counts as finished is the caller's business (hold/done); this file knows no sink.
 * While the caller cannot take records (wait), the assigned partitions are paused and the
 * consumer is still polled, so the member stays in its group however long the wait lasts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/kafka.h"
#include "lw/rdk.h"
#include "lw/sink.h"
#include "lw/source.h"

#define POLL_MS 100

struct entry {
    int64_t offset;
    int32_t holds; /* outputs not yet reported, plus one while being processed; -1: failed */
};

/* One assigned partition. Slots are reused; gen tells a stale ticket from a live one. */
struct part {
    bool live, eof, dirty, failed;
    uint16_t gen;
    char *topic;
    int32_t partition;
    char *label; /* "topic/partition", for messages and dead letters */
    rd_kafka_topic_t *rkt;
    struct entry *ring; /* records handed out, oldest first */
    uint32_t cap, head, count;
    uint32_t seq_head;   /* sequence number of ring[head] */
    int64_t done_upto;   /* offset of the last record of the finished run, -1: none yet */
    int64_t next_offset; /* after the last message consumed, -1: none yet */
    int64_t base;        /* the committed offset at assignment, else the first read; -1: none */
    int64_t limit;       /* commits go no further than this offset (setlimit), INT64_MAX: none */
    int64_t sent;        /* the offset of the last commit request, -1: none */
    bool meta_new;       /* meta changed since that request */
    char meta[LW_SOURCE_META_MAX];  /* committed with the next commit (setmeta), "" for none */
    char cmeta[LW_SOURCE_META_MAX]; /* the committed offset's metadata read at assignment (getmeta)
                                     */
};

struct kafka {
    const struct lw_stage_conf *o; /* first: the log callback reads it through the opaque */
    struct lw_source *s;
    rd_kafka_t *rk;
    struct part *parts;
    uint32_t nparts;
    uint16_t gen;
    rd_kafka_message_t *cur; /* the record handed out last */
    struct lw_msgmeta meta;
    struct logwash_meta tmeta; /* the template's meta of the record handed out last */
    /* The current record's topic and "topic/partition" (meta.topic, pos->name): copies, since a
     * revocation during the record (a wait for room polls) frees its partition's strings. */
    char cur_topic[256], cur_label[272]; /* Kafka topic names are at most 249 bytes */
    struct logwash_header *hdrs;         /* tmeta's headers */
    uint32_t hcap;
    bool down;                  /* all brokers reported down: said once until messages flow again */
    bool lost;                  /* a connection was lost: say when messages flow again */
    bool paused;                /* wait(true): every assigned partition is paused */
    bool rebalancing;           /* inside rebalance_cb: no poll may nest */
    rd_kafka_message_t **stash; /* what a poll returned during a wait, handed out first */
    uint32_t nstash, capstash, stash_head;
    uint8_t *missing; /* per --topic: its absence was said */
    bool fatal;
    char fatal_msg[512];
    char why[160]; /* a record cut at --max-line: what cut it */
};

static uint64_t
ticket(uint32_t slot, const struct part *p, uint32_t seq)
{
    return (uint64_t)slot << 48 | (uint64_t)p->gen << 32 | seq;
}

static struct part *
find(struct kafka *k, const char *topic, int32_t partition, uint32_t *slot)
{
    for (uint32_t i = 0; i < k->nparts; i++) {
        struct part *p = &k->parts[i];
        if (p->live && p->partition == partition && strcmp(p->topic, topic) == 0) {
            if (slot) *slot = i;
            return p;
        }
    }
    return NULL;
}

static struct part *
add_part(struct kafka *k, const char *topic, int32_t partition)
{
    struct part *p = find(k, topic, partition, NULL);
    if (p) return p;
    uint32_t i = 0;
    while (i < k->nparts && k->parts[i].live)
        i++;
    if (i == k->nparts) {
        if (k->nparts == 65535) return NULL; /* the ticket has 16 bits for the slot */
        k->parts = lw_xrealloc(k->parts, (k->nparts + 1) * sizeof *k->parts);
        k->parts[k->nparts++] = (struct part){ 0 };
    }
    p = &k->parts[i];
    uint16_t gen = (uint16_t)(p->gen + 1);
    struct entry *ring = p->ring; /* keep the ring's memory across reuse */
    uint32_t cap = p->cap;
    *p = (struct part){ .live = true,
                        .gen = gen,
                        .partition = partition,
                        .ring = ring,
                        .cap = cap,
                        .done_upto = -1,
                        .next_offset = -1,
                        .base = -1,
                        .limit = INT64_MAX,
                        .sent = -1 };
    p->topic = lw_xstrndup(topic, strlen(topic));
    size_t n = strlen(topic) + 16;
    p->label = lw_xmalloc(n);
    snprintf(p->label, n, "%s/%d", topic, (int)partition);
    p->rkt = rd_kafka_topic_new(k->rk, topic, NULL);
    return p;
}

static void
drop_part(struct part *p)
{
    if (!p->live) return;
    if (p->rkt) rd_kafka_topic_destroy(p->rkt);
    free(p->topic);
    free(p->label);
    p->topic = p->label = NULL;
    p->rkt = NULL;
    p->live = false;
    p->count = 0;
}

/* push: a new record at offset; returns its sequence number. */
static uint32_t
push(struct part *p, int64_t offset)
{
    if (p->count == p->cap) { /* grow (power of two), unrolling the ring */
        uint32_t ncap = p->cap ? p->cap * 2 : 1024;
        struct entry *r = lw_xmalloc(ncap * sizeof *r);
        for (uint32_t i = 0; i < p->count; i++)
            r[i] = p->ring[(p->head + i) & (p->cap - 1)];
        free(p->ring);
        p->ring = r;
        p->cap = ncap;
        p->head = 0;
    }
    uint32_t seq = p->seq_head + p->count;
    p->ring[(p->head + p->count) & (p->cap - 1)] = (struct entry){ offset, 1 };
    p->count++;
    return seq;
}

static struct entry *
lookup(struct kafka *k, uint64_t t, struct part **pp)
{
    uint32_t slot = (uint32_t)(t >> 48), seq = (uint32_t)t;
    if (slot >= k->nparts) return NULL;
    struct part *p = &k->parts[slot];
    if (!p->live || p->gen != (uint16_t)(t >> 32)) return NULL; /* revoked since */
    uint32_t idx = seq - p->seq_head;
    if (idx >= p->count) return NULL;
    *pp = p;
    return &p->ring[(p->head + idx) & (p->cap - 1)];
}

static void
kafka_hold(struct lw_source *s, uint64_t t)
{
    struct part *p;
    struct entry *e = lookup(s->state, t, &p);
    if (e && e->holds >= 0) e->holds++;
}

static void
kafka_done(struct lw_source *s, uint64_t t, bool ok)
{
    struct part *p;
    struct entry *e = lookup(s->state, t, &p);
    if (e == NULL || e->holds < 0) return;
    if (!ok) {
        e->holds = -1; /* sticky: the run of finished records stops before it for good */
        p->failed = true;
        return;
    }
    if (--e->holds > 0) return;
    while (p->count > 0 && p->ring[p->head].holds == 0) {
        p->done_upto = p->ring[p->head].offset;
        p->head = (p->head + 1) & (p->cap - 1);
        p->seq_head++;
        p->count--;
        p->dirty = true;
    }
}

/* store: hand librdkafka the end of each partition's finished run, for the next commit. With
 * commit_atomic, commit them at once instead, in one request (async, or sync at revocation and
 * exit): a crash never commits one partition's move without the others' made with it. */
static void
store(struct kafka *k, bool sync)
{
    if (k->o->commit_atomic) {
        rd_kafka_topic_partition_list_t *pl = NULL;
        for (uint32_t i = 0; i < k->nparts; i++) {
            struct part *p = &k->parts[i];
            if (!p->live || !p->dirty) continue;
            p->dirty = false;
            if (pl == NULL) pl = rd_kafka_topic_partition_list_new(4);
            /* new metadata alone (setmeta) is committed at the same offset */
            int64_t off = p->done_upto >= 0 ? p->done_upto + 1 : p->base;
            if (p->limit < off) off = p->limit; /* records the caller keeps (setlimit) */
            if (off < 0 || (off == p->sent && !p->meta_new)) continue;
            p->sent = off;
            p->meta_new = false;
            rd_kafka_topic_partition_t *t =
                rd_kafka_topic_partition_list_add(pl, p->topic, p->partition);
            t->offset = off;
            if (p->meta[0] != '\0') { /* freed with the list (librdkafka's rd_free: free) */
                t->metadata_size = strlen(p->meta);
                t->metadata = lw_xstrndup(p->meta, t->metadata_size);
            }
        }
        if (pl == NULL) return;
        rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, pl, sync ? 0 : 1);
        if (e) lw_kafka_say(k->o, "commit failed: %s", rd_kafka_err2str(e));
        rd_kafka_topic_partition_list_destroy(pl);
        return;
    }
    for (uint32_t i = 0; i < k->nparts; i++) {
        struct part *p = &k->parts[i];
        if (!p->live || !p->dirty) continue;
        p->dirty = false;
        int64_t upto = p->limit <= p->done_upto ? p->limit - 1 : p->done_upto;
        if (upto < 0) continue;
        rd_kafka_resp_err_t e = rd_kafka_offset_store(p->rkt, p->partition, upto);
        if (e) lw_kafka_say(k->o, "cannot store offset of %s: %s", p->label, rd_kafka_err2str(e));
    }
}

static void
commit(struct kafka *k, const char *when)
{
    store(k, true);
    rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, NULL, 0);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        lw_kafka_say(k->o,
                     "commit %s failed: %s (the records since the last commit will be read "
                     "again)",
                     when, rd_kafka_err2str(e));
    }
}

/* read_meta: the metadata of the offsets committed for the partitions of pl (getmeta) */
static void
read_meta(struct kafka *k, const rd_kafka_topic_partition_list_t *pl)
{
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new(pl->cnt);
    for (int i = 0; i < pl->cnt; i++)
        rd_kafka_topic_partition_list_add(c, pl->elems[i].topic, pl->elems[i].partition);
    rd_kafka_resp_err_t e = rd_kafka_committed(k->rk, c, 30000);
    if (e) {
        lw_kafka_say(k->o, "cannot read the committed offsets' metadata: %s", rd_kafka_err2str(e));
    }
    for (int i = 0; !e && i < c->cnt; i++) {
        const rd_kafka_topic_partition_t *t = &c->elems[i];
        struct part *p = find(k, t->topic, t->partition, NULL);
        if (p == NULL || t->err) continue;
        if (t->offset >= 0) p->base = t->offset;
        if (t->metadata == NULL || t->metadata_size == 0) continue;
        size_t n = t->metadata_size < sizeof p->cmeta ? t->metadata_size : sizeof p->cmeta - 1;
        memcpy(p->cmeta, t->metadata, n);
        p->cmeta[n] = '\0';
    }
    rd_kafka_topic_partition_list_destroy(c);
}

/* say_parts: "in/0 in/1 ..." for a state-change line. */
static void
say_parts(struct kafka *k, const char *what, const rd_kafka_topic_partition_list_t *pl)
{
    char line[800];
    size_t n = 0;
    line[0] = '\0';
    for (int i = 0; i < pl->cnt && n < sizeof line - 40; i++) {
        int w = snprintf(line + n, sizeof line - n, "%s%s/%d", i ? " " : "", pl->elems[i].topic,
                         (int)pl->elems[i].partition);
        if (w > 0) n += (size_t)w;
    }
    if (n >= sizeof line - 40) snprintf(line + n, sizeof line - n, " ...");
    lw_kafka_say(k->o, "%s %d partition%s: %s", what, pl->cnt, pl->cnt == 1 ? "" : "s", line);
}

static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *pl,
             void *opaque)
{
    struct kafka *k = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    k->rebalancing = true;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < pl->cnt; i++)
            add_part(k, pl->elems[i].topic, pl->elems[i].partition);
        if (k->o->commit_atomic) read_meta(k, pl);
        say_parts(k, "assigned", pl);
        if (coop)
            rd_kafka_incremental_assign(rk, pl);
        else
            rd_kafka_assign(rk, pl);
        if (k->paused) rd_kafka_pause_partitions(rk, pl); /* assigned during a wait */
        for (int i = 0; k->s->parted && i < pl->cnt; i++)
            k->s->parted(k->s->ud, pl->elems[i].topic, pl->elems[i].partition, true);
        k->rebalancing = false;
        return;
    }
    bool lost = rd_kafka_assignment_lost(rk);
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !lost) {
        /* Finish what was handed out, then commit it before another member takes over. */
        if (k->s->drain) k->s->drain(k->s->ud);
        commit(k, "on revocation");
    }
    uint32_t unfinished = 0;
    for (int i = 0; i < pl->cnt; i++) {
        struct part *p = find(k, pl->elems[i].topic, pl->elems[i].partition, NULL);
        if (p == NULL) continue;
        unfinished += p->count;
        drop_part(p);
    }
    for (int i = 0; k->s->parted && i < pl->cnt; i++) /* each told once all are dropped */
        k->s->parted(k->s->ud, pl->elems[i].topic, pl->elems[i].partition, false);
    say_parts(k, lost ? "lost" : "revoked", pl);
    if (unfinished) {
        lw_kafka_say(k->o, "%u records were not finished: the next owner reads them again",
                     unfinished);
    }
    /* librdkafka keeps a partition's pause across assignments: one paused during a wait and
     * assigned again later would never be fetched. */
    if (k->paused) rd_kafka_resume_partitions(rk, pl);
    if (coop)
        rd_kafka_incremental_unassign(rk, pl);
    else
        rd_kafka_assign(rk, NULL);
    k->rebalancing = false;
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        lw_kafka_fatal(rk, "consumer", k->fatal_msg, sizeof k->fatal_msg);
        k->fatal = true;
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        if (!k->down) lw_kafka_say(k->o, "all brokers are down: waiting for them");
        k->down = true;
        return;
    }
    lw_kafka_say(k->o, "consumer: %s", reason);
    /* a lost connection: say so again when messages flow (not k->down, which would hide the
     * "all brokers are down" that usually follows) */
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT) k->lost = true;
}

static int
kafka_open(struct lw_source *s, const struct lw_stage_conf *o, struct lw_diag *d)
{
    rd_kafka_conf_t *c = lw_kafka_conf_new(o, LW_KAFKA_CONSUMER, d);
    if (c == NULL) return -2;
    struct kafka *k = lw_xcalloc(1, sizeof *k);
    k->o = o;
    k->s = s;
    k->missing = lw_xcalloc((size_t)o->ntopics + 1, 1);
    rd_kafka_conf_set_rebalance_cb(c, rebalance_cb);
    rd_kafka_conf_set_error_cb(c, error_cb);
    rd_kafka_conf_set_opaque(c, k);
    char err[512];
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (k->rk == NULL) {
        rd_kafka_conf_destroy(c);
        lw_diag_setf(d, "kafka consumer: %s", err);
        free(k->missing);
        free(k);
        return -2;
    }
    s->state = k;
    rd_kafka_poll_set_consumer(k->rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(o->ntopics);
    for (int i = 0; i < o->ntopics; i++)
        rd_kafka_topic_partition_list_add(topics, o->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        lw_diag_setf(d, "kafka: cannot subscribe: %s", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

static bool
all_at_end(struct kafka *k)
{
    uint32_t live = 0;
    for (uint32_t i = 0; i < k->nparts; i++) {
        if (!k->parts[i].live) continue;
        if (!k->parts[i].eof) return false;
        live++;
    }
    return live > 0;
}

/* fill_meta: the record's position and key (k->meta) and the template's meta (k->tmeta). */
static void
fill_meta(struct kafka *k, struct part *p, rd_kafka_message_t *m)
{
    struct lw_msgmeta *mm = &k->meta;
    snprintf(k->cur_topic, sizeof k->cur_topic, "%s", p->topic);
    *mm = (struct lw_msgmeta){ .topic = lw_str_c(k->cur_topic),
                               .partition = p->partition,
                               .offset = m->offset,
                               .len = m->len,
                               .key = { m->key ? m->key : "", m->key_len },
                               .has_key = m->key != NULL };
    struct logwash_meta *t = &k->tmeta;
    *t = (struct logwash_meta){ .kind = LOGWASH_META_KAFKA,
                                .topic = mm->topic.p,
                                .topic_len = mm->topic.len,
                                .partition = mm->partition,
                                .offset = mm->offset,
                                .has_key = mm->has_key,
                                .key = mm->key.p,
                                .key_len = mm->key.len,
                                .headers = k->hdrs };
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    if (ts != -1) {
        t->has_timestamp = true;
        t->timestamp_ms = ts;
    }
    rd_kafka_headers_t *h;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    size_t n = rd_kafka_header_cnt(h);
    if (n > k->hcap) {
        k->hcap = (uint32_t)n;
        k->hdrs = lw_xrealloc(k->hdrs, n * sizeof *k->hdrs);
        t->headers = k->hdrs;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name;
        const void *val;
        size_t len;
        if (rd_kafka_header_get_all(h, i, &name, &val, &len)) break;
        /* a null value: NULL; an empty one points somewhere (logwash.h) */
        k->hdrs[i] = (struct logwash_header){
            .name = name, .name_len = strlen(name), .value = val, .value_len = val ? len : 0
        };
        t->nheaders++;
    }
}

/* topic_error: a consumer error about a subscribed topic: it does not exist or may not be read.
 * With --exit-at-eof the end never comes: an error (-1, d set). Otherwise the member waits for
 * the topic to be created (a sidecar may start first), saying so once per topic. */
static int
topic_error(struct kafka *k, rd_kafka_message_t *m, struct lw_diag *d)
{
    const char *name = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
    if (k->o->exit_at_eof) {
        lw_diag_setf(d, "kafka: input topic %s: %s", name, rd_kafka_err2str(m->err));
        return -1;
    }
    int i = 0;
    while (i < k->o->ntopics && strcmp(k->o->topics[i], name) != 0)
        i++;
    if (i < k->o->ntopics && k->missing[i]) return 0;
    if (i < k->o->ntopics) k->missing[i] = 1;
    lw_kafka_say(k->o, "input topic %s: %s: waiting for it", name, rd_kafka_err2str(m->err));
    return 0;
}

/* take: one polled message. 1: a record for the caller; 0: consumed here; -1: error in d. */
static int
take(struct kafka *k, rd_kafka_message_t *m, struct lw_str *rec, struct lw_recpos *pos,
     struct lw_diag *d)
{
    if (m->err) {
        int rc = 0;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            struct part *p = find(k, rd_kafka_topic_name(m->rkt), m->partition, NULL);
            if (p) p->eof = true;
        } else if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                   m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                   m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
            rc = topic_error(k, m, d);
        } else {
            lw_kafka_say(k->o, "consumer: %s", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        return rc;
    }
    uint32_t slot;
    struct part *p = find(k, rd_kafka_topic_name(m->rkt), m->partition, &slot);
    if (p == NULL) { /* not assigned (any more): not ours to process or commit */
        rd_kafka_message_destroy(m);
        return 0;
    }
    if (k->down || k->lost) {
        lw_kafka_say(k->o, "receiving messages again");
        k->down = k->lost = false;
    }
    p->eof = false;
    p->next_offset = m->offset + 1;
    if (p->base < 0) p->base = m->offset;
    uint32_t seq = push(p, m->offset);
    fill_meta(k, p, m);
    /* --max-line bounds the record as for files: a longer message is cut there and fails as
     * undecodable (the consumer's fetch limits bound what librdkafka holds) */
    bool cut = m->len > k->o->max_line;
    *rec = (struct lw_str){ m->payload ? m->payload : "", cut ? k->o->max_line : m->len };
    snprintf(k->cur_label, sizeof k->cur_label, "%s", p->label);
    *pos = (struct lw_recpos){ .name = k->cur_label,
                               .line = (uint64_t)m->offset,
                               .too_long = cut,
                               .why = cut ? k->why : NULL,
                               .msg = &k->meta,
                               .meta = &k->tmeta,
                               .ticket = ticket(slot, p, seq) };
    if (cut) {
        snprintf(k->why, sizeof k->why,
                 "message of %zu bytes longer than %zu bytes (--max-line): skipped", m->len,
                 k->o->max_line);
    }
    k->cur = m;
    return 1;
}

static int
kafka_next(struct lw_source *s, struct lw_str *rec, struct lw_recpos *pos, struct lw_diag *d)
{
    struct kafka *k = s->state;
    if (k->cur) {
        rd_kafka_message_destroy(k->cur);
        k->cur = NULL;
    }
    for (;;) {
        store(k, false);
        if (k->fatal) {
            lw_diag_setf(d, "%s", k->fatal_msg);
            return -1;
        }
        rd_kafka_message_t *m = NULL;
        if (k->stash_head < k->nstash) {
            m = k->stash[k->stash_head++];
        } else {
            k->nstash = k->stash_head = 0;
            if (k->o->exit_at_eof && all_at_end(k)) return 0;
            m = rd_kafka_consumer_poll(k->rk, POLL_MS);
            if (m == NULL) return 2;
        }
        int rc = take(k, m, rec, pos, d);
        if (rc != 0) return rc;
    }
}

/* kafka_wait: see source.h. Pausing drops what librdkafka fetched for the partitions; resuming
 * fetches again from after the last message handed out. A message a poll still returns is kept
 * for next(). */
static void
kafka_wait(struct lw_source *s, bool waiting)
{
    struct kafka *k = s->state;
    rd_kafka_topic_partition_list_t *pl = NULL;
    /* A revocation's drain may wait for room too: the callback runs inside a poll already. */
    if (k->rebalancing) return;
    if (waiting != k->paused && rd_kafka_assignment(k->rk, &pl) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (waiting)
            rd_kafka_pause_partitions(k->rk, pl);
        else
            rd_kafka_resume_partitions(k->rk, pl);
        rd_kafka_topic_partition_list_destroy(pl);
    }
    k->paused = waiting;
    if (!waiting) return;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 0); /* keeps the member in its group */
    if (m == NULL) return;
    if (k->nstash == k->capstash) {
        k->capstash = k->capstash ? k->capstash * 2 : 16;
        k->stash = lw_xrealloc(k->stash, k->capstash * sizeof *k->stash);
    }
    k->stash[k->nstash++] = m;
}

static int32_t
kafka_holds(struct lw_source *s, uint64_t t)
{
    struct part *p;
    struct entry *e = lookup(s->state, t, &p);
    return e ? e->holds : 0;
}

static bool
kafka_locate(struct lw_source *s, uint64_t t, struct lw_msgmeta *m)
{
    struct part *p;
    struct entry *e = lookup(s->state, t, &p);
    if (e == NULL) return false;
    *m = (struct lw_msgmeta){ .topic = lw_str_c(p->topic),
                              .partition = p->partition,
                              .offset = e->offset };
    return true;
}

static int
kafka_close(struct lw_source *s, struct lw_diag *d)
{
    struct kafka *k = s->state;
    if (k == NULL) return 0;
    if (k->cur) rd_kafka_message_destroy(k->cur);
    for (uint32_t i = k->stash_head; i < k->nstash; i++)
        rd_kafka_message_destroy(k->stash[i]);
    commit(k, "at exit");
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(k->rk);
    if (e) lw_kafka_say(k->o, "closing the consumer: %s", rd_kafka_err2str(e));
    for (uint32_t i = 0; i < k->nparts; i++) {
        drop_part(&k->parts[i]);
        free(k->parts[i].ring);
    }
    rd_kafka_destroy(k->rk);
    free(k->parts);
    free(k->hdrs);
    free(k->stash);
    free(k->missing);
    free(k);
    s->state = NULL;
    return 0;
}

static int64_t
kafka_lag(struct lw_source *s)
{
    struct kafka *k = s->state;
    int64_t lag = 0;
    bool known = false;
    for (uint32_t i = 0; k && i < k->nparts; i++) {
        struct part *p = &k->parts[i];
        int64_t lo, hi;
        if (!p->live || p->next_offset < 0) continue;
        if (rd_kafka_get_watermark_offsets(k->rk, p->topic, p->partition, &lo, &hi)) continue;
        if (hi >= p->next_offset) lag += hi - p->next_offset;
        known = true;
    }
    return known ? lag : -1;
}

static uint32_t
kafka_parts(struct lw_source *s, struct lw_partstat *out, uint32_t cap)
{
    struct kafka *k = s->state;
    uint32_t n = 0;
    for (uint32_t i = 0; k && i < k->nparts; i++) {
        struct part *p = &k->parts[i];
        if (!p->live) continue;
        if (n < cap) {
            int64_t lo, hi;
            bool seen = p->next_offset >= 0 &&
                        rd_kafka_get_watermark_offsets(k->rk, p->topic, p->partition, &lo, &hi) ==
                            RD_KAFKA_RESP_ERR_NO_ERROR;
            out[n] =
                (struct lw_partstat){ .topic = p->topic,
                                      .partition = p->partition,
                                      .lag = !seen                  ? -1
                                             : hi >= p->next_offset ? hi - p->next_offset
                                                                    : 0,
                                      .commit = p->done_upto < 0           ? -1
                                                : p->limit <= p->done_upto ? p->limit
                                                                           : p->done_upto + 1 };
        }
        n++;
    }
    return n;
}

static void
kafka_setmeta(struct lw_source *s, const char *topic, int32_t partition, const char *meta)
{
    struct kafka *k = s->state;
    struct part *p = k ? find(k, topic, partition, NULL) : NULL;
    if (p == NULL || strcmp(p->meta, meta) == 0) return;
    snprintf(p->meta, sizeof p->meta, "%s", meta);
    p->dirty = p->meta_new = true;
}

static void
kafka_setlimit(struct lw_source *s, const char *topic, int32_t partition, int64_t offset)
{
    struct kafka *k = s->state;
    struct part *p = k ? find(k, topic, partition, NULL) : NULL;
    if (p == NULL || p->limit == offset) return;
    p->limit = offset;
    p->dirty = true;
}

static bool
kafka_passed(struct lw_source *s, uint64_t t)
{
    struct part *p;
    return lookup(s->state, t, &p) == NULL;
}

static bool
kafka_getmeta(struct lw_source *s, const char *topic, int32_t partition, char *out, size_t cap)
{
    struct kafka *k = s->state;
    struct part *p = k ? find(k, topic, partition, NULL) : NULL;
    if (p == NULL || p->cmeta[0] == '\0' || cap == 0) return false;
    snprintf(out, cap, "%s", p->cmeta);
    return true;
}

const struct lw_source_ops lw_source_kafka = { .name = "kafka",
                                               .open = kafka_open,
                                               .next = kafka_next,
                                               .hold = kafka_hold,
                                               .done = kafka_done,
                                               .locate = kafka_locate,
                                               .holds = kafka_holds,
                                               .wait = kafka_wait,
                                               .lag = kafka_lag,
                                               .parts = kafka_parts,
                                               .setmeta = kafka_setmeta,
                                               .getmeta = kafka_getmeta,
                                               .setlimit = kafka_setlimit,
                                               .passed = kafka_passed,
                                               .close = kafka_close };

/* The dead-letter format: a failed record's letter (fitted to a size bound for a topic's
 * message.max.bytes) and an undeliverable routed output's; bytes that are not UTF-8 go as
 * base64. And the dead-letter path: the file, written through the fd writer, or a topic, sent
 * through its sink. Which records fail is the pipeline's and the sinks' business. */
#include "lw/deadletter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/base64.h"
#include "lw/jsonstr.h"

/* DL_TAIL: what a dead letter needs after its error member at most: the record's member name
 * and quotes, the truncation members and the closing brace. */
#define DL_TAIL 96

/* dl_left: the bytes left for strings in a dead letter of at most room bytes begun at start. */
static size_t
dl_left(const struct lw_buf *b, size_t start, size_t room)
{
    size_t used = b->len - start + DL_TAIL;
    return room > used ? room - used : 0;
}

/* gave_up: a wait for the file's reader given up after a stop (sink.h): the message says what
 * of p[0, n) was not written. */
static void
gave_up(struct lw_dlpath *dl, const char *p, size_t n)
{
    if (!dl->file.gave_up) return;
    uint64_t letters = 0; /* one a line */
    for (const char *q = p + dl->file.wrote, *e = p + n;
         q < e && (q = memchr(q, '\n', (size_t)(e - q))); q++)
        letters++;
    size_t l = strlen(dl->err.msg);
    snprintf(dl->err.msg + l, sizeof dl->err.msg - l,
             ": %zu bytes (%" PRIu64 " dead letters) not written", n - dl->file.wrote, letters);
}

void
lw_dl_record(struct lw_buf *b, const struct lw_recpos *pos, struct lw_str raw, const char *kind,
             const char *where, const char *msg, size_t room)
{
    size_t start = b->len;
    if (pos->msg) {
        lw_buf_adds(b, "{\"topic\":");
        lw_json_write_string(b, pos->msg->topic.p, pos->msg->topic.len);
        lw_buf_printf(b, ",\"partition\":%d,\"offset\":%" PRId64, (int)pos->msg->partition,
                      pos->msg->offset);
    } else {
        lw_buf_adds(b, "{\"source\":");
        lw_json_write_string(b, pos->name, strlen(pos->name));
        lw_buf_printf(b, ",\"line\":%" PRIu64, pos->line);
    }
    lw_buf_printf(b, ",\"kind\":\"%s\",\"template\":", kind);
    if (where) {
        size_t n = lw_json_string_fit(where, strlen(where), dl_left(b, start, room) / 2);
        lw_json_write_string(b, where, n);
    } else {
        lw_buf_adds(b, "null");
    }
    lw_buf_adds(b, ",\"error\":");
    lw_json_write_string(b, msg, lw_json_string_fit(msg, strlen(msg), dl_left(b, start, room) / 2));
    size_t left = dl_left(b, start, room), n;
    if (lw_utf8_valid(raw)) {
        n = lw_json_string_fit(raw.p, raw.len, left);
        lw_buf_adds(b, ",\"record\":");
        lw_json_write_string(b, raw.p, n);
    } else {
        n = left < 2 ? 0 : (left - 2) / 4 * 3; /* base64 of n bytes, quoted */
        if (n > raw.len) n = raw.len;
        lw_buf_adds(b, ",\"record_base64\":\"");
        lw_base64_add(b, raw.p, n);
        lw_buf_addc(b, '"');
    }
    size_t full = pos->msg ? pos->msg->len : raw.len;
    if (n < full) lw_buf_printf(b, ",\"record_truncated\":true,\"record_length\":%zu", full);
    lw_buf_adds(b, "}\n");
}

void
lw_dl_route(struct lw_buf *b, const struct lw_dl_route *f)
{
    lw_buf_addc(b, '{');
    if (f->in_topic) {
        lw_buf_adds(b, "\"topic\":");
        lw_json_write_string(b, f->in_topic, strlen(f->in_topic));
        lw_buf_printf(b, ",\"partition\":%d,\"offset\":%" PRId64 ",", (int)f->partition, f->offset);
    }
    lw_buf_adds(b, "\"kind\":\"route\",\"template\":null,\"error\":");
    lw_json_write_string(b, f->err, strlen(f->err));
    lw_buf_adds(b, ",\"output_topic\":");
    lw_json_write_string(b, f->topic, strlen(f->topic));
    struct lw_str v = f->value;
    if (lw_utf8_valid(v)) {
        lw_buf_adds(b, ",\"output\":");
        lw_json_write_string(b, v.p, v.len);
    } else {
        lw_buf_adds(b, ",\"output_base64\":\"");
        lw_base64_add(b, v.p, v.len);
        lw_buf_addc(b, '"');
    }
    if (f->cut) lw_buf_adds(b, ",\"output_cut\":true");
    lw_buf_adds(b, "}\n");
}

int
lw_dlpath_open_file(struct lw_dlpath *dl, const char *path, const struct lw_fd_keep *keep,
                    int nkeep, struct lw_diag *d)
{
    *dl = (struct lw_dlpath){ .name = path };
    lw_buf_init(&dl->buf);
    lw_buf_init(&dl->rbuf);
    return lw_fd_open_file(&dl->file, path, keep, nkeep, d);
}

void
lw_dlpath_open_sink(struct lw_dlpath *dl, struct lw_sink *s, const char *name)
{
    *dl = (struct lw_dlpath){ .name = name, .sink = s, .file = { .fd = -1 } };
    lw_buf_init(&dl->buf);
    lw_buf_init(&dl->rbuf);
}

/* keyed: whether the dead letter of pos, on a topic, takes the input's key: not when the key
 * would leave less than half of message.max.bytes for the dead letter. */
static bool
keyed(struct lw_dlpath *dl, const struct lw_recpos *pos)
{
    if (pos->msg == NULL || !pos->msg->has_key) return false;
    struct lw_sink *s = dl->sink;
    return s->ops->room(s, pos->msg->key.len) >= s->ops->room(s, 0) / 2;
}

void
lw_dlpath_record(struct lw_dlpath *dl, const struct lw_recpos *pos, struct lw_str raw,
                 const char *kind, const char *where, const char *msg)
{
    dl->letters++;
    if (dl->sink == NULL) {
        lw_dl_record(&dl->buf, pos, raw, kind, where, msg, SIZE_MAX);
        return;
    }
    struct lw_sink *s = dl->sink; /* the message must fit message.max.bytes */
    bool k = keyed(dl, pos);
    size_t room = s->ops->room(s, k ? pos->msg->key.len : 0);
    lw_dl_record(&dl->buf, pos, raw, kind, where, msg, room);
    s->ops->letter(s, pos, (struct lw_str){ dl->buf.p, dl->buf.len - 1 }, k);
    dl->buf.len = 0;
}

int
lw_dlpath_route(struct lw_dlpath *dl, const struct lw_dl_route *f, uint64_t ticket)
{
    dl->letters++;
    dl->rbuf.len = 0;
    lw_dl_route(&dl->rbuf, f);
    if (dl->sink) {
        struct lw_recpos pos = { .ticket = ticket }; /* no position: the source may not know */
        dl->sink->ops->letter(dl->sink, &pos, (struct lw_str){ dl->rbuf.p, dl->rbuf.len - 1 },
                              false);
        dl->rbuf.len = 0;
        return 0;
    }
    /* after a torn line nothing more is written: no letter lands after it */
    if (!dl->failed && lw_fd_write(&dl->file, dl->rbuf.p, dl->rbuf.len, &dl->err) == 0) return 0;
    if (!dl->failed) gave_up(dl, dl->rbuf.p, dl->rbuf.len);
    dl->failed = true;
    return -1;
}

int
lw_dlpath_flush(struct lw_dlpath *dl, struct lw_diag *d)
{
    if (dl->buf.len == 0 || dl->sink) return 0;
    if (!dl->failed && lw_fd_write(&dl->file, dl->buf.p, dl->buf.len, &dl->err) != 0) {
        dl->failed = true;
        gave_up(dl, dl->buf.p, dl->buf.len);
    }
    dl->buf.len = 0;
    if (!dl->failed) return 0;
    lw_diag_setf(d, "%s", dl->err.msg);
    return -1;
}

int
lw_dlpath_close(struct lw_dlpath *dl, struct lw_diag *d)
{
    if (dl->sink) return 0;
    int rc = 0;
    if (lw_dlpath_flush(dl, d) != 0) rc = -1;
    if (lw_fd_close(&dl->file, d) != 0) rc = -1;
    /* a revocation when the source closes may still bring a route failure: not written */
    dl->failed = true;
    lw_diag_setf(&dl->err, "%s was closed at exit", dl->name);
    return rc;
}

void
lw_dlpath_fini(struct lw_dlpath *dl)
{
    lw_buf_fini(&dl->buf);
    lw_buf_fini(&dl->rbuf);
}

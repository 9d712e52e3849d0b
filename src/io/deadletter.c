/* The dead-letter format: a failed record's letter (fitted to a size bound for a topic's
 * message.max.bytes) and an undeliverable routed output's. Bytes that are not UTF-8 go as
 * base64. Which records fail, and where their letters are written, is the pipeline's. */
#include "lw/deadletter.h"

#include <inttypes.h>
#include <string.h>

#include "lw/base64.h"
#include "lw/json.h"

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

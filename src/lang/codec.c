/* The decoders (text, json) and encoders (json, text). Decoding JSON is one validating scan
 * of the record that also picks out the top-level members the template reads (json.c), so
 * nothing is parsed twice and nothing unread is decoded. */
#include "lw/codec.h"

#include <stdio.h>
#include <string.h>

#include "lw/json.h"

static int
dec_text(const struct lw_program *prog, struct lw_str raw, struct lw_record *rec,
         struct lw_str *topval, struct lw_arena *a, char *err, size_t errcap)
{
    rec->line = raw;
    rec->root = lw_obj_new(a, 0);
    rec->topval = NULL;
    rec->meta = LW_NULL; /* the pipeline fills it when the template reads it */
    rec->members = NULL;
    rec->nmembers = 0;
    return 0;
}

/* At most this many top-level members are listed for a template that writes the record;
 * an object with more is copied by walking it. */
#define MAX_MEMBERS 64

static int
dec_json(const struct lw_program *prog, struct lw_str raw, struct lw_record *rec,
         struct lw_str *topval, struct lw_arena *a, char *err, size_t errcap)
{
    struct lw_json_err e;
    size_t bom = raw.len >= 3 && memcmp(raw.p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    raw.p += bom; /* a UTF-8 byte order mark (Windows writers) is not part of the value */
    raw.len -= bom;
    struct lw_json_member all[MAX_MEMBERS];
    size_t nall = 0;
    bool gapless = false;
    int rc = prog->writes_root
                 ? lw_json_scan_members(raw.p, raw.len, prog->topkeys, prog->ntopkeys, topval, all,
                                        MAX_MEMBERS, &nall, &gapless, &e)
                 : lw_json_scan(raw.p, raw.len, prog->topkeys, prog->ntopkeys, topval, &e);
    if (rc != 0) {
        snprintf(err, errcap, "invalid JSON at byte %zu: %s", e.off + 1 + bom, e.msg);
        return -1;
    }
    /* The text is one valid value between white space: trimming gives its slice without
     * walking it again. A NUL after a number or literal (valid, as in jansson) is not part
     * of the value: then the value's own length is measured. */
    const char *p = raw.p, *end = raw.p + raw.len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    size_t n = end > p && end[-1] == '\0' ? lw_json_skip(p, end) : (size_t)(end - p);
    raw.p -= bom;
    raw.len += bom;
    rec->line = raw;
    rec->root = lw_value_from_json((struct lw_str){ p, n }, a);
    if (gapless) lw_raw_gapless(&rec->root, LW_V_PLAIN); /* written as it is, as its slices */
    rec->topval = rec->root.t == LW_T_OBJ ? topval : NULL;
    rec->meta = LW_NULL; /* the pipeline fills it when the template reads it */
    rec->members = NULL;
    rec->nmembers = 0;
    if (prog->writes_root && rec->root.t == LW_T_OBJ && nall <= MAX_MEMBERS) {
        rec->members = lw_arena_dup(a, all, nall * sizeof all[0]);
        rec->nmembers = (uint32_t)nall;
    }
    return 0;
}

static int
enc_json(struct lw_buf *b, const struct lw_value *v, struct lw_arena *a, size_t max)
{
    int rc = lw_value_write_json_max(b, v, a, max);
    if (rc != 0) return rc;
    lw_buf_addc(b, '\n');
    return 0;
}

/* text form: strings as they are, objects as key=value pairs (keys and values JSON-quoted
 * when they hold a space, '=', a quote, a backslash or a control character, or are empty, so
 * every pair reads back), anything else as its JSON text. */
static int
text_scalar(struct lw_buf *b, const struct lw_value *v, struct lw_arena *a, size_t max)
{
    if (v->t == LW_T_STR) {
        if (v->len > max - b->len) return LW_WRITE_TOO_LONG;
        bool quote = v->len == 0;
        for (uint32_t i = 0; i < v->len && !quote; i++) {
            char c = v->u.p[i];
            quote = c == ' ' || c == '"' || c == '=' || c == '\\' || (unsigned char)c < 0x20;
        }
        if (quote)
            lw_json_write_string(b, v->u.p, v->len);
        else
            lw_buf_add(b, v->u.p, v->len);
        return 0;
    }
    return lw_value_write_text_max(b, v, a, max);
}

static int
enc_text(struct lw_buf *b, const struct lw_value *v, struct lw_arena *a, size_t max)
{
    int rc;
    if (b->len > max) return LW_WRITE_TOO_LONG;
    if (v->t == LW_T_OBJ) {
        struct lw_iter it;
        struct lw_value k, x;
        lw_iter_init(&it, v);
        for (int i = 0; lw_iter_next(&it, &k, &x, a) == 1; i++) {
            if (i) lw_buf_addc(b, ' ');
            if ((rc = text_scalar(b, &k, a, max)) != 0) return rc; /* a key: only too long */
            lw_buf_addc(b, '=');
            if ((rc = text_scalar(b, &x, a, max)) != 0) return rc;
        }
    } else if ((rc = lw_value_write_text_max(b, v, a, max)) != 0) {
        return rc;
    }
    lw_buf_addc(b, '\n');
    return 0;
}

const struct lw_decoder lw_dec_text = { "text", dec_text };
const struct lw_decoder lw_dec_json = { "json", dec_json };
const struct lw_encoder lw_enc_json = { "json", enc_json };
const struct lw_encoder lw_enc_text = { "text", enc_text };

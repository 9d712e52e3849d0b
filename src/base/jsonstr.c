/* JSON string tokens: the UTF-8 check, the escaping writer and its size calculation. In base
 * because both the template language (the JSON writer, json.c) and the program (dead letters,
 * job and test files) need exactly these rules, and neither may include the other's headers. */
#include "lw/jsonstr.h"

#include <string.h>

#include "lw/strblk.h"

bool
lw_utf8_valid(struct lw_str s)
{
    const unsigned char *p = (const unsigned char *)s.p, *end = p + s.len;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        int n = utf8_seq(p, end);
        if (n < 0) return false;
        p += n;
    }
    return true;
}

void
lw_json_write_string(struct lw_buf *b, const char *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case: 6 bytes (\u00xx) for each input byte, and the quotes; plus one block, so
     * plain bytes can be stored a whole block at a time (strings here are mostly short, and a
     * fixed-size copy is one store where a memcpy call per run is not). */
    char *d = lw_buf_grow(b, 6 * len + 2 + BLK);
    const char *s = p, *e = p + len;
    *d++ = '"';
    while (s < e) {
        while (BLK && e - s >= BLK) {
            uint64_t m = special_blk(s);
            memcpy(d, s, BLK);
            if (m != 0) {
                int n = first_blk(m);
                s += n;
                d += n;
                goto special;
            }
            s += BLK;
            d += BLK;
        }
#if BLK
        if (s < e && len >= BLK) {
            /* the tail, shorter than a block: the block that ends at e (inside the string)
             * covers it; its bytes before s were already written */
            const char *t = e - BLK;
            uint64_t m = after_blk(special_blk(t), (size_t)(s - t));
            const char *stop = m != 0 ? t + first_blk(m) : e;
            memcpy(d, s, (size_t)(stop - s));
            d += stop - s;
            s = stop;
            if (s == e) break;
            goto special;
        }
#endif
        while (s < e && isplain(*s))
            *d++ = *s++;
        if (s == e) break;
    special:;
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *d++ = '\\';
            *d++ = (char)c;
            s++;
        } else if (c < 0x20) {
            static const char short_esc[32] = {
                ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'
            };
            *d++ = '\\';
            if (short_esc[c]) {
                *d++ = short_esc[c];
            } else {
                memcpy(d, "u00", 3);
                d[3] = hex[c >> 4];
                d[4] = hex[c & 15];
                d += 5;
            }
            s++;
        } else {
            int n = utf8_seq((const unsigned char *)s, (const unsigned char *)e);
            if (n > 0) {
                memcpy(d, s, (size_t)n);
                d += n;
                s += n;
            } else {
                memcpy(d, "\xef\xbf\xbd", 3); /* U+FFFD */
                d += 3;
                s += -n;
            }
        }
    }
    *d++ = '"';
    b->len = (size_t)(d - b->p);
}

size_t
lw_json_string_fit(const char *p, size_t len, size_t room)
{
    /* the same escapes as lw_json_write_string, a character (or ill-formed subsequence) at a
     * time, so the cut never falls inside one */
    size_t used = 2, i = 0;
    if (room < used) return 0;
    while (i < len) {
        unsigned char c = (unsigned char)p[i];
        size_t in = 1, out = 1;
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
            c == '\t') {
            out = 2;
        } else if (c < 0x20) {
            out = 6;
        } else if (c >= 0x80) {
            int n = utf8_seq((const unsigned char *)p + i, (const unsigned char *)p + len);
            in = (size_t)(n > 0 ? n : -n);
            out = n > 0 ? in : 3; /* U+FFFD */
        }
        if (room - used < out) break;
        used += out;
        i += in;
    }
    return i;
}

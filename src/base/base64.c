/* Standard base64 encoding with padding. Decoding, with its error messages for template
 * users, is base64_decode()'s own (src/lib/fn_codec.c). */
#include "lw/base64.h"

#include <stdint.h>

size_t
lw_base64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t
lw_base64_encode(char *out, const void *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    size_t i = 0, k = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        out[k++] = tab[v >> 18];
        out[k++] = tab[(v >> 12) & 63];
        out[k++] = tab[(v >> 6) & 63];
        out[k++] = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        out[k++] = tab[v >> 18];
        out[k++] = tab[(v >> 12) & 63];
        out[k++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[k++] = '=';
    }
    return k;
}

void
lw_base64_add(struct lw_buf *b, const void *p, size_t n)
{
    char *out = lw_buf_grow(b, lw_base64_len(n));
    b->len += lw_base64_encode(out, p, n);
}

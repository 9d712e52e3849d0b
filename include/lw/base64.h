/* Standard base64 (RFC 4648 section 4, padded with '='): the one encoder, used by the template
 * function base64_encode() and for dead letters of records that are not UTF-8. */
#ifndef LW_BASE64_H
#define LW_BASE64_H

#include <stddef.h>

#include "lw/buf.h"

/* lw_base64_len: the length of the base64 text of n bytes ((n + 2) / 3 * 4). */
size_t lw_base64_len(size_t n);

/* lw_base64_encode: write the base64 text of p[0..n) at out, which has room for
 * lw_base64_len(n) bytes (no NUL is written); returns that length. */
size_t lw_base64_encode(char *out, const void *p, size_t n);

/* lw_base64_add: append the base64 text of p[0..n) to b. */
void lw_base64_add(struct lw_buf *b, const void *p, size_t n);

#endif

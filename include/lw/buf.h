/* A growable byte buffer: output records, dead letters, scratch text.
 * The owner embeds it (lw_buf_init/lw_buf_fini) and reuses it by setting len = 0. */
#ifndef LW_BUF_H
#define LW_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct lw_buf {
    char *p;
    size_t len, cap;
};

void lw_buf_init(struct lw_buf *b);
void lw_buf_fini(struct lw_buf *b);

/* lw_buf_grow_slow: lw_buf_grow when the room is not there (a realloc). */
char *lw_buf_grow_slow(struct lw_buf *b, size_t n);

/* lw_buf_grow: make room for at least n more bytes; returns the first free byte. Inline: the
 * writers call it per string, and the room is nearly always there. */
static inline char *
lw_buf_grow(struct lw_buf *b, size_t n)
{
    if (__builtin_expect(b->cap - b->len < n, 0)) return lw_buf_grow_slow(b, n);
    return b->p + b->len;
}

/* lw_copy_small: memcpy(d, s, n), inline for n <= 16 (keys, short strings and numbers, what
 * the writers copy most): two overlapping loads and stores instead of a call. All loads come
 * before the stores. */
static inline void
lw_copy_small(char *d, const char *s, size_t n)
{
    if (n > 16) {
        memcpy(d, s, n);
    } else if (n >= 8) {
        uint64_t x, y;
        memcpy(&x, s, 8);
        memcpy(&y, s + n - 8, 8);
        memcpy(d, &x, 8);
        memcpy(d + n - 8, &y, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    } else if (n > 0) {
        char x = s[0], y = s[n / 2], z = s[n - 1];
        d[0] = x;
        d[n / 2] = y;
        d[n - 1] = z;
    }
}

/* lw_buf_add: append n bytes. Nothing for n 0: b->p is NULL in a buffer never grown, and
 * NULL + 0 is undefined (clang's -fsanitize=undefined stops there). */
static inline void
lw_buf_add(struct lw_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n) lw_buf_grow(b, n);
    if (n > 0) lw_copy_small(b->p + b->len, p, n);
    b->len += n;
}

static inline void
lw_buf_addc(struct lw_buf *b, char c)
{
    if (b->cap == b->len) lw_buf_grow(b, 1);
    b->p[b->len++] = c;
}

void lw_buf_adds(struct lw_buf *b, const char *s);

/* lw_buf_read_file: append the whole file at path to b. Returns 0, or -1 with errno set. */
int lw_buf_read_file(struct lw_buf *b, const char *path);

/* lw_buf_read_file_max: as lw_buf_read_file, reading at most max + 1 bytes: -1 with errno
 * EFBIG when the file is longer than max (a device such as /dev/zero is not read whole). */
int lw_buf_read_file_max(struct lw_buf *b, const char *path, size_t max);
void lw_buf_printf(struct lw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lw_buf_vprintf(struct lw_buf *b, const char *fmt, va_list ap);

#endif

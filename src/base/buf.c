/* Growable byte buffer. Growth doubles, so appends are amortised O(1); the buffer is reused
 * across records by resetting len, so the record loop does not allocate in steady state. */
#include "lw/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lw/str.h"

void
lw_buf_init(struct lw_buf *b)
{
    *b = (struct lw_buf){ 0 };
}

void
lw_buf_fini(struct lw_buf *b)
{
    free(b->p);
    *b = (struct lw_buf){ 0 };
}

char *
lw_buf_grow_slow(struct lw_buf *b, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        b->p = lw_xrealloc(b->p, cap);
        b->cap = cap;
    }
    return b->p + b->len;
}

void
lw_buf_adds(struct lw_buf *b, const char *s)
{
    lw_buf_add(b, s, strlen(s));
}

void
lw_buf_vprintf(struct lw_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->cap - b->len, fmt, ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len) {
        lw_buf_grow(b, (size_t)n + 1);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    if (n > 0) b->len += (size_t)n;
}

void
lw_buf_printf(struct lw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

int
lw_buf_read_file_max(struct lw_buf *b, const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    size_t n, got = 0;
    do {
        char *p = lw_buf_grow(b, 65536);
        n = fread(p, 1, 65536, f);
        b->len += n;
        got += n;
    } while (n > 0 && got <= max);
    int e = ferror(f) ? errno : got > max ? EFBIG : 0;
    fclose(f);
    errno = e;
    return e ? -1 : 0;
}

int
lw_buf_read_file(struct lw_buf *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        lw_buf_add(b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}

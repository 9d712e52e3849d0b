/* Allocation that never returns NULL: on exhaustion, print and abort() (STYLE §8), so
 * callers never check; everything else about memory is in arena.c. Also lw_errf, the one
 * formatter of error messages written into a caller's buffer. */
#include "lw/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void
oom(size_t n)
{
    fprintf(stderr, "logwash: out of memory allocating %zu bytes\n", n);
    abort();
}

void *
lw_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) oom(n);
    return p;
}

void *
lw_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) oom(n * size);
    return p;
}

void *
lw_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) oom(n);
    return q;
}

char *
lw_xstrndup(const char *s, size_t len)
{
    char *p = lw_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

int
lw_errf(char *err, size_t errcap, const char *fmt, ...)
{
    if (err != NULL && errcap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errcap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int
lw_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

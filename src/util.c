/* Allocation that never returns NULL: on exhaustion, print and abort() (STYLE §8).
 * Callers therefore never check; everything else about memory is in arena.c. */
#include "lw/str.h"

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

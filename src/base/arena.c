/* Bump allocator with per-lifetime reset (STYLE §9). A chunk list, newest first; reset frees all
 * but the oldest chunk, which in steady state is big enough for a whole record. */
#include "lw/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw/str.h"

void
lw_arena_init(struct lw_arena *a, size_t chunk_size)
{
    *a = (struct lw_arena){ .chunk_size = chunk_size ? chunk_size : 64 * 1024 };
}

void
lw_arena_fini(struct lw_arena *a)
{
    struct lw_chunk *c = a->head;
    while (c != NULL) {
        struct lw_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

void
lw_arena_reset(struct lw_arena *a)
{
    struct lw_chunk *c = a->head;
    if (c == NULL) return;
    while (c->next != NULL) {
        struct lw_chunk *next = c->next;
        free(c);
        c = next;
    }
    if (LW_ARENA_DEBUG) {
        free(c);
        a->head = NULL;
    } else {
        /* Keep the oldest chunk; if the record outgrew it, the next record gets a bigger one. */
        c->used = 0;
        a->head = c;
        if (a->total > c->cap && a->total <= 64 * a->chunk_size) {
            free(c);
            a->head = NULL;
            a->chunk_size = a->total;
        }
    }
    a->total = 0;
}

void *
lw_arena_alloc_chunk(struct lw_arena *a, size_t n)
{
    /* n is rounded up already (lw_arena_alloc) */
    size_t cap = n > a->chunk_size || LW_ARENA_DEBUG ? n : a->chunk_size;
    struct lw_chunk *c = lw_xmalloc(sizeof *c + cap);
    *c = (struct lw_chunk){ .next = a->head, .cap = cap };
    a->head = c;
    c->used += n;
    a->total += n;
    return c->data + c->used - n;
}

void *
lw_arena_dup(struct lw_arena *a, const void *p, size_t n)
{
    char *q = lw_arena_alloc(a, n);
    if (n > 0) memcpy(q, p, n);
    return q;
}

void *
lw_arena_realloc(struct lw_arena *a, void *p, size_t old, size_t n)
{
    struct lw_chunk *c = a->head;
    size_t oldr = (old + LW_ALIGN - 1) & ~(size_t)(LW_ALIGN - 1);
    size_t nr = (n + LW_ALIGN - 1) & ~(size_t)(LW_ALIGN - 1);

    if (n <= old) return p;
    if (!LW_ARENA_DEBUG && p != NULL && c != NULL && (char *)p + oldr == c->data + c->used &&
        c->cap - c->used >= nr - oldr) {
        c->used += nr - oldr;
        a->total += nr - oldr;
        return p;
    }
    void *q = lw_arena_alloc(a, n);
    if (old > 0) memcpy(q, p, old);
    return q;
}

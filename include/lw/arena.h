/* Bump allocation for memory with one lifetime: a compiled program, a compilation, or one record.
 * Nothing is freed one by one; lw_arena_reset frees everything at once but keeps the first chunk,
 * so a record loop in steady state calls malloc never. Built with LW_ARENA_DEBUG=1 (make asan),
 * every allocation is its own malloc and reset frees each, so ASan sees a pointer kept too long. */
#ifndef LW_ARENA_H
#define LW_ARENA_H

#include <stddef.h>

#ifndef LW_ARENA_DEBUG
#define LW_ARENA_DEBUG 0
#endif

#define LW_ALIGN 16

struct lw_chunk {
    struct lw_chunk *next;
    size_t cap, used;
    _Alignas(LW_ALIGN) char data[];
};

struct lw_arena {
    struct lw_chunk *head;
    size_t chunk_size; /* default size of a new chunk */
    size_t total;      /* bytes handed out since the last reset (for limits) */
};

void lw_arena_init(struct lw_arena *a, size_t chunk_size);
void lw_arena_fini(struct lw_arena *a);

/* lw_arena_reset: free every allocation; keeps the oldest chunk for reuse. */
void lw_arena_reset(struct lw_arena *a);

/* lw_arena_alloc_chunk: lw_arena_alloc when the newest chunk has no room (a new chunk). */
void *lw_arena_alloc_chunk(struct lw_arena *a, size_t n);

/* lw_arena_alloc: n bytes aligned for any scalar; never NULL (aborts when out of memory).
 * The memory lives until the next reset or fini. Inline: the bump is a few instructions, and
 * a record makes many small values. */
static inline void *
lw_arena_alloc(struct lw_arena *a, size_t n)
{
    struct lw_chunk *c = a->head;
    n = (n + LW_ALIGN - 1) & ~(size_t)(LW_ALIGN - 1);
    if (LW_ARENA_DEBUG || c == NULL || c->cap - c->used < n) return lw_arena_alloc_chunk(a, n);
    c->used += n;
    a->total += n;
    return c->data + c->used - n;
}

/* lw_arena_dup: a copy of n bytes (not NUL-terminated unless the source includes one). */
void *lw_arena_dup(struct lw_arena *a, const void *p, size_t n);

/* lw_arena_realloc: grow the most recent allocation in place when possible, else copy. */
void *lw_arena_realloc(struct lw_arena *a, void *p, size_t old, size_t n);

#endif

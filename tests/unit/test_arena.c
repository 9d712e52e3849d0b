/* Unit tests for the arena: alignment, growth past a chunk, reset reuse, realloc in place. */
#include <stdint.h>
#include <string.h>

#include "lw/arena.h"
#include "unit.h"

void
test_arena(void)
{
    struct lw_arena a;
    lw_arena_init(&a, 128);
    char *p = lw_arena_alloc(&a, 3);
    char *q = lw_arena_alloc(&a, 5);
    CHECK(((uintptr_t)p % 16) == 0 && ((uintptr_t)q % 16) == 0);
    CHECK(p != q);
    memset(p, 'x', 3);
    char *big = lw_arena_alloc(&a, 1000); /* larger than a chunk */
    memset(big, 'y', 1000);
    CHECK(p[0] == 'x' && big[999] == 'y');
    CHECK(a.total >= 1000 + 16 + 16);
    char *d = lw_arena_dup(&a, "hello", 5);
    CHECK(memcmp(d, "hello", 5) == 0);
    char *r = lw_arena_alloc(&a, 10);
    memcpy(r, "0123456789", 10);
    char *r2 = lw_arena_realloc(&a, r, 10, 40);
    CHECK(memcmp(r2, "0123456789", 10) == 0);
    lw_arena_reset(&a);
    CHECK(a.total == 0);
    /* After a record that outgrew the chunk, the next chunk is big enough for it. */
    char *again = lw_arena_alloc(&a, 64);
    CHECK(again != NULL);
    lw_arena_fini(&a);
    CHECK(a.head == NULL);
}

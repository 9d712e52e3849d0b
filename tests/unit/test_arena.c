/* Unit tests for the arena: alignment, growth past a chunk, contents kept across growth, reset
 * reuse of the oldest chunk (and its growth after a record that outgrew it), realloc in place. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lw/arena.h"
#include "lw/buf.h"
#include "unit.h"

/* Every byte of p[0..n) is c. */
static bool
filled(const char *p, size_t n, char c)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != c) return false;
    }
    return true;
}

/* Allocations of many sizes, enough to fill several chunks: each is aligned, and what was
 * written into each is still there once all are made (no two overlap, growth copies nothing). */
static void
growth(void)
{
    struct lw_arena a;
    lw_arena_init(&a, 128);
    char *p[40];
    size_t len[40];
    bool aligned = true;
    for (int i = 0; i < 40; i++) {
        len[i] = (size_t)(i * 7 % 50) + 1;
        p[i] = lw_arena_alloc(&a, len[i]);
        aligned = aligned && (uintptr_t)p[i] % 16 == 0;
        memset(p[i], 'A' + i, len[i]);
    }
    CHECK(aligned);
    bool kept = true;
    for (int i = 0; i < 40; i++) {
        kept = kept && filled(p[i], len[i], (char)('A' + i));
    }
    CHECK(kept);
    lw_arena_fini(&a);
}

/* lw_copy_small (buf.h) copies exactly n bytes for every n around its cases (0-3, 4-7, 8-16,
 * memcpy above), from and to any alignment, and writes nothing outside them. */
static void
copy_small(void)
{
    char src[64], dst[80];
    for (size_t i = 0; i < sizeof src; i++) {
        src[i] = (char)('a' + i % 26);
    }
    bool ok = true;
    for (size_t n = 0; n <= 40; n++) {
        for (size_t off = 0; off < 8; off++) {
            memset(dst, '#', sizeof dst);
            lw_copy_small(dst + 8 + off, src + off, n);
            ok = ok && memcmp(dst + 8 + off, src + off, n) == 0 && filled(dst, 8 + off, '#') &&
                 filled(dst + 8 + off + n, sizeof dst - 8 - off - n, '#');
        }
    }
    CHECK(ok);
    struct lw_buf b;
    lw_buf_init(&b);
    lw_buf_add(&b, "abc", 3);
    lw_buf_add(&b, NULL, 0);
    lw_buf_add(&b, "0123456789", 10);
    CHECK(b.len == 13 && memcmp(b.p, "abc0123456789", 13) == 0);
    lw_buf_fini(&b);
}

void
test_arena(void)
{
    copy_small();
    struct lw_arena a;
    lw_arena_init(&a, 128);
    char *p = lw_arena_alloc(&a, 3);
    char *q = lw_arena_alloc(&a, 5);
    CHECK(((uintptr_t)p % 16) == 0 && ((uintptr_t)q % 16) == 0);
    CHECK(q >= p + 3 || q + 5 <= p);
    memset(p, 'x', 3);
    memset(q, 'z', 5);
    char *big = lw_arena_alloc(&a, 1000); /* larger than a chunk */
    memset(big, 'y', 1000);
    CHECK(filled(p, 3, 'x') && filled(q, 5, 'z') && filled(big, 1000, 'y'));
    CHECK((uintptr_t)big % 16 == 0);
    CHECK(a.total == 16 + 16 + 1008);
    char *d = lw_arena_dup(&a, "hello", 5);
    CHECK(memcmp(d, "hello", 5) == 0);
    char *r = lw_arena_alloc(&a, 10);
    memcpy(r, "0123456789", 10);
    char *r2 = lw_arena_realloc(&a, r, 10, 40);
    CHECK(memcmp(r2, "0123456789", 10) == 0);
    CHECK(LW_ARENA_DEBUG || r2 == r);           /* the latest allocation grows in place */
    char *r3 = lw_arena_realloc(&a, d, 5, 300); /* not the latest, and too big: a copy */
    CHECK(r3 != d && memcmp(r3, "hello", 5) == 0);
    CHECK(lw_arena_realloc(&a, r3, 300, 200) == r3); /* shrinking keeps it */
    size_t used = a.total;
    lw_arena_reset(&a);
    CHECK(a.total == 0);
    /* After a record that outgrew the chunk, the next chunk is big enough for it: a record of
     * the same size then fits in the one chunk reset keeps, and is placed at its start. */
    CHECK(LW_ARENA_DEBUG || a.chunk_size >= used);
    char *again = lw_arena_alloc(&a, used);
    CHECK((uintptr_t)again % 16 == 0);
    memset(again, 'w', used);
    lw_arena_reset(&a);
    char *third = lw_arena_alloc(&a, 64);
    CHECK(LW_ARENA_DEBUG || third == again);
    memset(third, 'v', 64);
    CHECK(a.total == 64);
    lw_arena_fini(&a);
    CHECK(a.head == NULL && a.total == 0);
    growth();
}

/* Scanning strings a block at a time, and UTF-8 sequences: static inline helpers shared by the
 * JSON reader (src/lang/json.c) and the JSON string writer (src/base/jsonstr.c), inline because
 * they are the inner loops of both (one copy of the code, no call per block or character).
 * Not a module's interface: include it only from those two files. */
#ifndef LW_STRBLK_H
#define LW_STRBLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Can c be copied as it is inside a string? ASCII 0x20..0x7f but '"' and '\\'. */
static inline bool
isplain(char c)
{
    return (unsigned char)c >= 0x20 && (unsigned char)c < 0x80 && c != '"' && c != '\\';
}

/* Strings are scanned a block at a time: a mask of the "special" bytes in the block ('"', '\\',
 * below 0x20 or above 0x7f; for skipping, only '"' and '\\') and the offset of the first one.
 * SSE2 (every x86-64) does 16 bytes; elsewhere a little-endian 64-bit word does 8 (SWAR);
 * other machines use the byte loops alone (BLK 0). `make unit` also runs the unit tests with
 * json.c built with -DLW_JSON_BLK=8 and with -DLW_JSON_BLK=0. */
#ifndef LW_JSON_BLK
#define LW_JSON_BLK 16
#endif
#if LW_JSON_BLK == 16 && defined(__SSE2__)
#include <emmintrin.h>
#define BLK 16

static inline uint64_t
special_blk(const char *s)
{
    __m128i x = _mm_loadu_si128((const void *)s);
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    __m128i c = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)); /* signed: bytes >= 0x80 too */
    return (uint64_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
}

static inline uint64_t
quote_blk(const char *s)
{
    __m128i x = _mm_loadu_si128((const void *)s);
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    return (uint64_t)_mm_movemask_epi8(_mm_or_si128(q, b));
}

/* gap_blk: '"' and the bytes up to ' ' (outside a string of validated JSON: whitespace, or
 * the NUL jansson ignores) */
static inline uint64_t
gap_blk(const char *s)
{
    __m128i x = _mm_loadu_si128((const void *)s);
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i g = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x20)), x); /* unsigned <= 0x20 */
    return (uint64_t)_mm_movemask_epi8(_mm_or_si128(q, g));
}

/* gap_masks: exact masks (bit i for byte i) of a block's '"', '\\' and bytes up to ' ', for
 * following strings through a block without a byte loop (SSE2 only: the SWAR masks are exact
 * only up to their lowest flag). */
#define LW_GAP_MASKS 1
static inline void
gap_masks(const char *s, uint32_t *q, uint32_t *bs, uint32_t *g)
{
    __m128i x = _mm_loadu_si128((const void *)s);
    *q = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')));
    *bs = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
    *g = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x20)), x));
}

static inline int
first_blk(uint64_t m)
{
    return __builtin_ctzll(m); /* gcc and clang; the build uses no other compiler */
}

/* after_blk: m without the flags of the block's first k bytes (k < BLK) */
static inline uint64_t
after_blk(uint64_t m, size_t k)
{
    return m & (~(uint64_t)0 << k);
}
#elif LW_JSON_BLK >= 8 && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BLK  8
#define ONES 0x0101010101010101u
#define HIGH 0x8080808080808080u

/* A borrow can only flag a byte above one that is flagged anyway, so the mask is 0 exactly when
 * no byte is special, and its lowest flag marks the first special byte. */
static inline uint64_t
special_blk(const char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    return ((q - ONES) | (b - ONES) | (x - ONES * 0x20) | x) & HIGH;
}

static inline uint64_t
quote_blk(const char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    return (((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGH;
}

static inline uint64_t
gap_blk(const char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
    uint64_t q = x ^ (ONES * '"');
    return (((q - ONES) & ~q) | ((x - ONES * 0x21) & ~x)) & HIGH;
}

static inline int
first_blk(uint64_t m)
{
    return __builtin_ctzll(m) >> 3;
}

static inline uint64_t
after_blk(uint64_t m, size_t k)
{
    return m & (~(uint64_t)0 << (8 * k));
}
#else
#define BLK             0
#define special_blk(s)  ((void)(s), (uint64_t)0)
#define quote_blk(s)    ((void)(s), (uint64_t)0)
#define gap_blk(s)      ((void)(s), (uint64_t)0)
#define first_blk(m)    0
#define after_blk(m, k) ((void)(k), (m))
#endif

/* The length of the well-formed UTF-8 sequence at s (2 to 4), or minus the length of its maximal
 * ill-formed prefix (at least 1), as Unicode's "substitution of maximal subparts" counts it. */
static inline int
utf8_seq(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0], lo = 0x80, hi = 0xbf;
    int n;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return -1;
    }
    for (int k = 1; k < n; k++) {
        if (s + k >= end || s[k] < lo || s[k] > hi) return -k;
        lo = 0x80;
        hi = 0xbf;
    }
    return n;
}

#endif

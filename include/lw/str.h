/* Byte strings that are not NUL-terminated, and the out-of-memory policy.
 * A struct lw_str is a view: it owns nothing and lives as long as the bytes it points to.
 * Print one with printf("%.*s", (int)s.len, s.p). */
#ifndef LW_STR_H
#define LW_STR_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct lw_str {
    const char *p;
    size_t len;
};

#define LW_STR_LIT(s) ((struct lw_str){ (s), sizeof(s) - 1 })

/* lw_str_c: a view of a NUL-terminated string. */
static inline struct lw_str
lw_str_c(const char *s)
{
    return (struct lw_str){ s, strlen(s) };
}

/* lw_str_eq: true when both views hold the same bytes. */
static inline bool
lw_str_eq(struct lw_str a, struct lw_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* lw_xmalloc, lw_xrealloc, lw_xstrndup: like malloc/realloc/strndup, but never return NULL:
 * when memory is exhausted they call lw_oom, so callers never check. */
void *lw_xmalloc(size_t n);
void *lw_xcalloc(size_t n, size_t size);
void *lw_xrealloc(void *p, size_t n);
char *lw_xstrndup(const char *s, size_t len);

/* lw_oom_jmp: this thread's out-of-memory exit. NULL (the program): lw_oom prints a message
 * and aborts. Set (liblogwash's entry points in src/api/api.c, and lw_compile inside them):
 * lw_oom longjmps there with 1, and the setter discards what the interrupted work built.
 * Whatever an allocator function was changing is left as before the failed call. */
extern _Thread_local jmp_buf *lw_oom_jmp;

/* lw_oom: memory is exhausted (n bytes were asked for): longjmp to lw_oom_jmp, else abort. */
_Noreturn void lw_oom(size_t n);

/* lw_hexval: the value of hex digit c, or -1. */
int lw_hexval(char c);

/* lw_hex4: the value of the 4 hex digits at s (a \uXXXX code unit), or -1 when fewer than 4
 * bytes are left before end or one is not a hex digit. */
long lw_hex4(const char *s, const char *end);

/* lw_utf8_put: write code point cp (at most U+10FFFF) as UTF-8 at d (up to 4 bytes); returns
 * the number of bytes written. */
size_t lw_utf8_put(char *d, unsigned long cp);

/* lw_str_distance: the edit distance (insertions, deletions, substitutions) between a and b,
 * ASCII letters compared in any case, for "did you mean" suggestions. Strings of 63 bytes or
 * more are not compared: the result is then 99. */
size_t lw_str_distance(struct lw_str a, struct lw_str b);

/* lw_str_only_comments: whether t holds nothing but spaces, tabs, line ends and # comments
 * (a YAML file that sets nothing: libfyaml builds no document from it). */
bool lw_str_only_comments(struct lw_str t);

/* lw_errf: format a message into err (errcap bytes; nothing when err is NULL) and return -1,
 * for functions that report errors in a caller's buffer: `return lw_errf(err, cap, ...)`. */
int lw_errf(char *err, size_t errcap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

/* Allocation that never returns NULL: on exhaustion, longjmp to the library call's exit
 * (lw_oom_jmp), or in the program print and abort() (STYLE §8), so callers never check;
 * everything else about memory is in arena.c. Also lw_errf, the one
 * formatter of error messages written into a caller's buffer, the edit distance behind
 * "did you mean" suggestions, and the blank-YAML test of the job and test files. */
#include "lw/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

_Thread_local jmp_buf *lw_oom_jmp;

_Noreturn void
lw_oom(size_t n)
{
    if (lw_oom_jmp != NULL) longjmp(*lw_oom_jmp, 1);
    if (n == 0)
        fprintf(stderr, "logwash: out of memory\n");
    else
        fprintf(stderr, "logwash: out of memory allocating %zu bytes\n", n);
    abort();
}

void *
lw_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) lw_oom(n);
    return p;
}

void *
lw_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) lw_oom(n * size);
    return p;
}

void *
lw_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) lw_oom(n);
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

/* hex1: a hex digit's value + 1 by its byte, 0 for any other byte (lw_hex4: no branch per
 * digit; JSON text with \u escapes decodes one per escape) */
static const unsigned char hex1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
};

long
lw_hex4(const char *s, const char *end)
{
    if (end - s < 4) return -1;
    unsigned a = hex1[(unsigned char)s[0]], b = hex1[(unsigned char)s[1]],
             c = hex1[(unsigned char)s[2]], d = hex1[(unsigned char)s[3]];
    if (a == 0 || b == 0 || c == 0 || d == 0) return -1;
    return (long)((a - 1) << 12 | (b - 1) << 8 | (c - 1) << 4 | (d - 1));
}

size_t
lw_utf8_put(char *d, unsigned long cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | cp >> 6);
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xe0 | cp >> 12);
        d[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | cp >> 18);
    d[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    d[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static char
fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

size_t
lw_str_distance(struct lw_str a, struct lw_str b)
{
    size_t row[64];
    if (a.len >= 63 || b.len >= 63) return 99;
    for (size_t j = 0; j <= b.len; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= a.len; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.len; j++) {
            size_t cur = row[j];
            size_t sub = prev + (fold(a.p[i - 1]) != fold(b.p[j - 1]));
            size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            prev = cur;
        }
    }
    return row[b.len];
}

bool
lw_str_only_comments(struct lw_str t)
{
    bool comment = false;
    for (size_t i = 0; i < t.len; i++) {
        char ch = t.p[i];
        if (ch == '\n')
            comment = false;
        else if (ch == '#')
            comment = true;
        else if (!comment && ch != ' ' && ch != '\t' && ch != '\r')
            return false;
    }
    return true;
}

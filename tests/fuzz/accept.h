/* The fuzzers' oracle for what json.c reads and writes: jansson's json_loadb with \u0000 in
 * strings and integers of any size that fit a double (read as reals), as RFC 8259 allows. An
 * object key holding \u0000, which jansson cannot hold, is loaded from a copy with \u0001 in
 * its place (same length, and valid exactly where the original is); *nul_key says so, and the
 * tree then differs from the text in those keys. */
#ifndef LW_FUZZ_ACCEPT_H
#define LW_FUZZ_ACCEPT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ACCEPT (JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)

static json_t *
accept_load(const char *p, size_t n, json_error_t *e, bool *nul_key)
{
    json_t *j = json_loadb(p, n, ACCEPT, e);
    *nul_key = j == NULL && strstr(e->text, "NUL byte in object key") != NULL;
    if (!*nul_key) return j;
    char *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    for (size_t k = 0; k + 6 <= n; k++) {
        if (memcmp(copy + k, "\\u0000", 6) == 0) copy[k + 5] = '1';
    }
    j = json_loadb(copy, n, ACCEPT, e);
    free(copy);
    return j;
}

#endif

/* Fuzz target: a dissect pattern and a record, "PATTERN\nTEXT". A pattern that compiles is
 * split over the text (lw_dissect_split; fn_dissect only arranges its slices). Checks that a
 * compile error points inside the pattern, that every field is a slice of the text after the
 * previous one, that each field is followed by its delimiter, the first one after the
 * field's start (no copy of it inside the field; a padded field '%{a->}' may be followed by a
 * run of a longer delimiter's first byte first), and that the pattern's final text ends the
 * subject: what the split claims to have found is there, and it is the first. Template-level use of
 * grok() and dissect() is fuzz_compile's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nl = memchr(p, '\n', size);
    if (nl == NULL) return 0;
    struct lw_str pat = { p, (size_t)(nl - p) };
    struct lw_str text = { nl + 1, size - pat.len - 1 };
    struct lw_arena a;
    lw_arena_init(&a, 4096);
    char err[256];
    size_t off = 0;
    const struct lw_dissect *d = lw_dissect_compile(pat, &a, err, sizeof err, &off);
    if (d == NULL) {
        if (off > pat.len) {
            fprintf(stderr, "error offset %zu past the pattern (%zu bytes): %s\n", off, pat.len,
                    err);
            abort();
        }
        lw_arena_fini(&a);
        return 0;
    }
    struct lw_str *v = calloc(d->n + 1, sizeof *v);
    if (lw_dissect_split(d, text, v) == 0) {
        const char *at = text.p + d->prefix.len;
        for (uint32_t i = 0; i < d->n; i++) {
            const char *end = text.p + text.len;
            if (v[i].p < at || v[i].p + v[i].len > end) {
                fprintf(stderr, "field %u is not after the previous one inside the text\n", i);
                abort();
            }
            const char *after = v[i].p + v[i].len;
            struct lw_str dl = d->f[i].delim;
            /* '%{a->}' before a longer delimiter: a run of its first byte is padding */
            while (d->f[i].pad && dl.len > 1 && after < end && *after == dl.p[0] &&
                   !((size_t)(end - after) >= dl.len && memcmp(after, dl.p, dl.len) == 0))
                after++;
            if ((size_t)(end - after) < dl.len || memcmp(after, dl.p, dl.len) != 0) {
                fprintf(stderr, "field %u is not followed by its delimiter\n", i);
                abort();
            }
            if (i + 1 < d->n) { /* the first occurrence: none starts inside the field */
                for (const char *q = v[i].p; q < after; q++) {
                    if ((size_t)(end - q) >= dl.len && memcmp(q, dl.p, dl.len) == 0) {
                        fprintf(stderr, "field %u holds its delimiter at byte %td\n", i,
                                q - text.p);
                        abort();
                    }
                }
            } else if (!d->f[i].pad && after + dl.len != end) {
                fprintf(stderr, "the last field's final text does not end the subject\n");
                abort();
            }
            at = after + dl.len;
        }
    }
    free(v);
    lw_arena_fini(&a);
    return 0;
}

/* Fuzz target: arbitrary bytes as a TZif image (tz.c's reader: headers, counts, transitions,
 * types, abbreviations and the POSIX TZ footer). A malformed image must be refused, never
 * read out of bounds; an accepted one must answer offsets within +-24h and abbreviations
 * that are NUL-terminated strings, at any instant, and local-time lookups must agree with
 * an offset the zone really has. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[200];
    struct lw_tz *z = lw_tz_parse_tzif(data, size, "fuzz", 4, err, sizeof err);
    if (z == NULL) {
        if (memchr(err, '\0', sizeof err) == NULL) abort();
        return 0;
    }
    static const int64_t at[] = { INT64_MIN / 4, -4102444800, -1,         0,          1,
                                  1700000000,    1710054000,  2147483647, 4102444800, 253402300799,
                                  INT64_MAX / 4 };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        for (int64_t d = -2; d <= 2; d++) {
            int64_t t = at[i] + d * 1800;
            const char *ab = NULL;
            int32_t off = lw_tz_off_at(z, t, &ab);
            if (off <= -86400 * 8 || off >= 86400 * 8 || ab == NULL || strlen(ab) > 65536) abort();
            int32_t lo = lw_tz_off_local(z, t);
            if (lo <= -86400 * 8 || lo >= 86400 * 8) abort();
        }
    }
    for (uint32_t i = 0; i < z->ntrans && i < 64; i++) {
        const char *ab = NULL;
        (void)lw_tz_off_at(z, z->trans[i], &ab);
        (void)lw_tz_off_local(z, z->trans[i]);
    }
    lw_tz_free(z);
    return 0;
}

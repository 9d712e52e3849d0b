/* Fuzz target: arbitrary bytes as a lookup table (table.c with csv.c and iprange.c). The
 * first byte picks the options (bit 0: a range table, bit 1: last-wins, bits 2-3: auto, CSV,
 * JSON lines, bit 4: a small memory bound); the rest is the file. A bad table must be refused
 * with a message, never read out of bounds or leak; a loaded one must answer lookups with a
 * row object or nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint8_t flags = data[0];
    static const enum lw_table_format fmt[] = { LW_TABLE_AUTO, LW_TABLE_CSV, LW_TABLE_JSONL,
                                                LW_TABLE_AUTO };
    struct lw_table_opts o = { .ip = flags & 1,
                               .last_wins = (flags & 2) != 0,
                               .format = fmt[(flags >> 2) & 3],
                               .max_bytes = flags & 16 ? 4096 : 1 << 24 };
    char *text = malloc(size);
    if (text == NULL) return 0;
    memcpy(text, data + 1, size - 1);
    char err[300];
    err[0] = 'x';
    struct lw_table *t = lw_table_load("fuzz", text, size - 1, &o, err, sizeof err);
    if (t == NULL) {
        if (memchr(err, '\0', sizeof err) == NULL || strncmp(err, "fuzz", 4) != 0) abort();
        return 0;
    }
    if (lw_table_bytes(t) > o.max_bytes) abort();
    static const char *const keys[] = { "", "1", "a", "key", "10.0.0.1", "::1", "\xff" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const struct lw_value *r;
        if (o.ip) {
            struct lw_ip ip;
            bool v4;
            if (lw_ip_parse(keys[i], strlen(keys[i]), &ip, &v4) != 0) continue;
            r = lw_table_get_ip(t, ip);
        } else {
            r = lw_table_get(t, keys[i], strlen(keys[i]));
        }
        if (r != NULL && r->t != LW_T_OBJ) abort();
    }
    lw_table_unref(t);
    return 0;
}

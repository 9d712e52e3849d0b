/* The unit-test harness: one CHECK macro, one binary (build/unit-tests).
 * Each tests/unit/test_<module>.c defines test_<module>(void) and is listed in units.def.
 * SKIP(n, why) counts n checks that cannot run here (an input the machine lacks): they are
 * neither passed nor failed, and the summary line says how many and why. */
#ifndef LW_UNIT_H
#define LW_UNIT_H

#include <stdio.h>

extern int lw_unit_checks, lw_unit_failures, lw_unit_skips;
extern const char *lw_unit_skip_why; /* the reason of the last SKIP */

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        lw_unit_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            lw_unit_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define SKIP(n, why)                                                                               \
    do {                                                                                           \
        lw_unit_skips += (n);                                                                      \
        lw_unit_skip_why = (why);                                                                  \
        printf("%s:%d: %d check(s) skipped: %s\n", __FILE__, __LINE__, (n), (why));                \
    } while (0)

#define UNIT(name) void test_##name(void);
#include "units.def"
#undef UNIT

#endif

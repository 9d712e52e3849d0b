/* The unit-test harness: one CHECK macro, one binary (build/unit-tests).
 * Each tests/unit/test_<module>.c defines test_<module>(void) and is listed in units.def. */
#ifndef LW_UNIT_H
#define LW_UNIT_H

#include <stdio.h>

extern int lw_unit_checks, lw_unit_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        lw_unit_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            lw_unit_failures++;                                                                    \
        }                                                                                          \
    } while (0)

#define UNIT(name) void test_##name(void);
#include "units.def"
#undef UNIT

#endif

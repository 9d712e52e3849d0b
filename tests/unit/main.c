/* Runs every unit suite listed in units.def and reports the totals. */
#include <stdio.h>

#include "unit.h"

int lw_unit_checks, lw_unit_failures, lw_unit_skips;
const char *lw_unit_skip_why;

int
main(void)
{
#define UNIT(name)                                                                                 \
    do {                                                                                           \
        int before = lw_unit_failures, skips = lw_unit_skips;                                      \
        test_##name();                                                                             \
        printf("unit %-10s %s", #name, lw_unit_failures == before ? "ok" : "FAILED");              \
        if (lw_unit_skips > skips) printf(" (%d skipped)", lw_unit_skips - skips);                 \
        printf("\n");                                                                              \
    } while (0);
#include "units.def"
#undef UNIT
    printf("unit: %d checks, %d failed", lw_unit_checks, lw_unit_failures);
    if (lw_unit_skips > 0) printf(", %d skipped (%s)", lw_unit_skips, lw_unit_skip_why);
    printf("\n");
    return lw_unit_failures ? 1 : 0;
}

/* Runs every unit suite listed in units.def and reports the totals. */
#include <stdio.h>

#include "unit.h"

int lw_unit_checks, lw_unit_failures;

int
main(void)
{
#define UNIT(name)                                                                                 \
    do {                                                                                           \
        int before = lw_unit_failures;                                                             \
        test_##name();                                                                             \
        printf("unit %-10s %s\n", #name, lw_unit_failures == before ? "ok" : "FAILED");            \
    } while (0);
#include "units.def"
#undef UNIT
    printf("unit: %d checks, %d failed\n", lw_unit_checks, lw_unit_failures);
    return lw_unit_failures ? 1 : 0;
}

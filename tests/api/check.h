/* The API tests' checks: CHECK(cond) counts a pass or prints the failed condition with its
 * place; check_summary() prints "N passed, M failed" and returns the exit status. Each test
 * program includes it once. */
#ifndef API_CHECK_H
#define API_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failed++;                                                                              \
        }                                                                                          \
    } while (0)

static inline int
check_summary(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}

#endif

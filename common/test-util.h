/* What the unit tests share: CHECK() counts instead of aborting, so one run
 * reports every failure; test_report() prints the closing line. */
#pragma once

#include <stdio.h>
#include <stdlib.h>

static unsigned n_passed, n_failed;

#define CHECK(cond)                                                                                  \
        do {                                                                                         \
                if (cond)                                                                            \
                        __atomic_add_fetch(&n_passed, 1, __ATOMIC_RELAXED);                          \
                else {                                                                               \
                        __atomic_add_fetch(&n_failed, 1, __ATOMIC_RELAXED);                          \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
                }                                                                                    \
        } while (0)

/* Setup that cannot fail in a test; running out of memory here is fatal. */
static inline void *must(void *p) {
        if (!p) {
                fprintf(stderr, "out of memory\n");
                exit(1);
        }
        return p;
}

/* "N passed, N failed", the line test runners read; the exit status. */
static inline int test_report(void) {
        printf("%u passed, %u failed\n", n_passed, n_failed);
        return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* What the unit tests share: CHECK() counts instead of aborting, so one run
 * reports every failure; test_report() prints the closing line. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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

/* Whether /proc/PID/status holds line ("Seccomp:\t2"). */
static inline bool proc_status_has(pid_t pid, const char *line) {
        char path[64], buf[8192];
        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        FILE *f = fopen(path, "re");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
                fclose(f);
        buf[n] = 0;
        return strstr(buf, line) != NULL;
}

/* "N passed, N failed", the line test runners read; the exit status. */
static inline int test_report(void) {
        printf("%u passed, %u failed\n", n_passed, n_failed);
        return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

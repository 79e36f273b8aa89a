/* Runs a helper program (qemu-img, the KVM probe) with a time limit and
 * collects what it prints. */
#pragma once

#include "common/util.h"

typedef struct SpawnResult {
        int status;     /* exit status, or 128+signal; -1 if it timed out */
        bool timed_out;
        char *out;      /* stdout, NUL-terminated, at most max_output bytes */
        char *err;      /* stderr, likewise */
} SpawnResult;

void spawn_result_done(SpawnResult *r);

/* Runs argv[0] (searched in PATH) with stdin from /dev/null; kills it with
 * SIGKILL after timeout_usec. Returns 0 when it ran (whatever its status),
 * a negative errno when it could not be started. */
int spawn_capture(char *const argv[], uint64_t timeout_usec, size_t max_output, SpawnResult *ret);

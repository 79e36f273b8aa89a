/* Submits a comparison, follows its job to the end and prints the result. */
#pragma once

#include "connect.h"
#include "options.h"

/* Returns the exit status: 0 identical, 1 differences, 2 trouble. */
int follow_diff(const char *prog, const DiffArgs *args);

/* virt-diffctl wait: follows a job submitted earlier (diff --detach) and
 * prints its result; the same exit status. */
int follow_wait(const char *prog, const DiffArgs *args);

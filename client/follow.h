/* Submits a comparison, follows its job to the end and prints the result. */
#pragma once

#include "connect.h"
#include "options.h"

/* Returns the exit status: 0 identical, 1 differences, 2 trouble. */
int follow_diff(const char *prog, const DiffArgs *args);

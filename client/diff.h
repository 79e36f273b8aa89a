/* Submits a comparison, follows its job to the end and prints the result. */
#pragma once

#include <json-c/json.h>

#include "connect.h"
#include "options.h"

/* Returns the exit status: 0 identical, 1 differences, 2 trouble. */
int follow_diff(const char *prog, const DiffArgs *args);

/* virt-diffctl wait: follows a job submitted earlier (diff --detach) and
 * prints its result; the same exit status. */
int follow_wait(const char *prog, const DiffArgs *args);

/* The progress line on stderr; false when there was nothing to show. */
bool diff_show_progress(uint32_t state, uint32_t phase, uint32_t position, bool valid, double progress,
                        uint64_t files_done, uint64_t files_total, uint64_t end);
/* One line per filesystem whose files could not be compared: any? */
bool diff_report_unread_filesystems(const char *prog, json_object *root);

/* The same over varlink (diff-varlink.c). With ret_unreachable set, a
 * daemon that cannot be reached is no error: -1 and *ret_unreachable,
 * for the caller to go on another way. */
int follow_diff_varlink(const char *prog, const DiffArgs *args, int *ret_unreachable);
int follow_wait_varlink(const char *prog, const DiffArgs *args);

/* Submits a comparison, follows its job to the end and prints the result. */
#pragma once

#include <json-c/json.h>

#include "change-stream.h"
#include "connect.h"
#include "options.h"

/* Returns the exit status: 0 identical, 1 differences, 2 trouble; with
 * --output=virt-diff upstream's, 0 when the comparison ran, 1 on error. */
int follow_diff(const char *prog, const DiffArgs *args);

/* virt-diffctl wait: follows a job submitted earlier (diff --detach) and
 * prints its result; the same exit status. */
int follow_wait(const char *prog, const DiffArgs *args);

/* Prints a finished job's result document as the options ask (and the
 * --html report), with --pass-fds and manifest names as the user gave them;
 * *ret_status the exit status. A negative errno when it cannot be written. */
int diff_print_result(const char *prog, const DiffArgs *args, json_object *root, int *ret_status);
/* One line per filesystem whose files could not be compared, and per side
 * whose package database could not be read: any? */
bool diff_report_unread_filesystems(const char *prog, json_object *root);
/* --packages-csv=FILE: writes the package changes there (nothing without
 * the option); a negative errno after a line on stderr. */
int diff_write_packages_csv(const char *prog, const DiffArgs *a, json_object *root);

/* The formats that print a change at a time, when nothing else needs the
 * whole result (--packages-csv). */
bool diff_stream_wanted(const DiffArgs *a);
/* A change stream's head named as the user gave the sides. */
void diff_prepare_head(json_object *head, void *userdata);
/* The end of a job's change stream once the job succeeded, r how reading
 * it went: 1 when it printed everything (*ret_status the exit status), 0
 * when it printed nothing (the whole result is to print), or a negative
 * errno after a line on stderr when the stream is damaged. */
int diff_finish_stream(const char *prog, const DiffArgs *a, ChangeStream *cs, int r, int *ret_status);

/* The same over varlink (diff-varlink.c). With ret_unreachable set, a
 * daemon that cannot be reached is no error: -1 and *ret_unreachable,
 * for the caller to go on another way. */
int follow_diff_varlink(const char *prog, const DiffArgs *args, int *ret_unreachable);
int follow_wait_varlink(const char *prog, const DiffArgs *args);

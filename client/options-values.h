/* The values of virt-diff's options, parsed and checked one at a time for
 * options.c's parser (client-private). Each prints its own error, naming
 * the option, and returns a negative errno. */
#pragma once

#include "options.h"

/* Options that pick one of several values: the second different choice is
 * an error naming both. */
typedef struct Choice {
        const char *set_by;
        int value;
} Choice;

int choose(Choice *c, int value, const char *option, const char *prog);

/* Options whose meaning depends on others given anywhere on the command
 * line: settled once all are read. */
typedef struct Deferred {
        const char *csv; /* --csv, as it was given */
        bool all;        /* --all */
        bool checksum;   /* --checksum without an algorithm */
        Choice unified;  /* -u or --no-unified */
} Deferred;

/* --csv, --all, --checksum and the diffs, in our mode or in upstream's
 * (--output=virt-diff), once every option is read. */
int settle_output(DiffArgs *a, const Deferred *d, Choice *format_choice, const char *prog);

extern const char *const checksum_algorithms[];

int add_causes(DiffArgs *a, const char *list, const char *prog);
int add_disk(DiffArgs *a, int side, const char *path, const char *format, bool manifest, uint32_t blocksize);
int add_types(DiffArgs *a, const char *list);
int add_filter(DiffArgs *a, int option, const char *value, const char *prog);
/* "65536", "64K", "1M" (powers of 1024), at least OUTPUT_MIN_MAX_BYTES. */
int parse_max_bytes(const char *s, uint64_t *ret);
/* --html=FILE: its directory must exist and take a new file. */
int report_dir_check(const char *path, const char *prog);

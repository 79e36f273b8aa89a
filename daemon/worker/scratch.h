/* A file for libguestfs to write a FileOut result into (find0,
 * checksums_out, tar_out, download), named /dev/fd/N: in a directory when
 * one is given (O_TMPFILE: a tree's listings are tens of megabytes),
 * else in memory. */
#pragma once

#include "common/util.h"

typedef struct ScratchFile {
        int fd;
        char path[32];
} ScratchFile;

/* -errno when neither can be made. */
int scratch_open(ScratchFile *f, const char *dir);
/* Its bytes, mapped read-only: *ret NULL when it is empty. */
int scratch_map(const ScratchFile *f, void **ret, size_t *ret_len);

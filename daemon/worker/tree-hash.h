/* Content hashes of a tree's regular files, from the appliance's bulk
 * sha256sum listing (or, when that fails, file by file). */
#pragma once

#include <guestfs.h>

#include "common/errors.h"
#include "common/progress.h"
#include "manifest/manifest.h"

/* Calls fn on each "HEX  ./name" line of a bulk checksum listing (any
 * algorithm whose digest has digest_size bytes; sha256sum's escaped form
 * for names with a backslash or a newline) with the name without its "."
 * ("/a/b"). Names that are not "./..." are skipped; -EINVAL for a
 * malformed line, else what fn returned when negative. */
int checksum_lines_parse(const char *out, size_t len, size_t digest_size,
                         int (*fn)(void *userdata, const char *name, const uint8_t *digest), void *userdata);

/* Parses "HASH  ./path" lines (sha256sum's format, including its escaped
 * form for names with a backslash or a newline) into the tree's entries,
 * which must be sorted by path_compare(). Unknown paths, and names that are
 * not "./..." (sha256sum's "-" for an empty standard input, as an empty
 * filesystem gives), are ignored. -EINVAL for a malformed line. */
int checksums_parse(const char *out, size_t len, Tree *t);

/* The slow path: one call per regular file; a file that cannot be read keeps
 * no hash. */
int checksums_one_by_one(guestfs_h *g, Tree *t, const ProgressSink *progress, Error *e);

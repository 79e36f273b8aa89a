/* The appliance's bulk checksum listings (checksums_out: sha256sum's or
 * md5sum's lines), read for the tree walk (tree-order.h) and for the
 * package digests (package-scan.c). */
#pragma once

#include "common/errors.h"
#include "common/util.h"

/* One line of a bulk checksum listing (without its newline), changed in
 * place: 1 with *ret_name the name without its "." ("/a/b", inside line)
 * and digest filled, for a file of the tree; 0 for a line that names none
 * (blank, or sha256sum's "-" for an empty standard input, as an empty
 * filesystem gives); -EINVAL when malformed. */
int checksum_line_parse(char *line, size_t digest_size, const char **ret_name, uint8_t *digest);

/* Calls fn on each "HEX  ./name" line of a bulk checksum listing (any
 * algorithm whose digest has digest_size bytes; sha256sum's escaped form
 * for names with a backslash or a newline) with the name without its "."
 * ("/a/b"). Names that are not "./..." are skipped; -EINVAL for a
 * malformed line, else what fn returned when negative. */
int checksum_lines_parse(const char *out, size_t len, size_t digest_size,
                         int (*fn)(void *userdata, const char *name, const uint8_t *digest), void *userdata);


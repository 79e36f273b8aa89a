/* A Linux root's product name as libguestfs 1.48's inspection finds it
 * (daemon/inspect_fs_unix.ml, check_tests): release files in a fixed
 * order, each parsed only when present, the first parser that succeeds
 * ending the search. Parsers that fail still leave what they set behind:
 * Debian's os-release sets PRETTY_NAME, gives up on its one-number
 * VERSION_ID, and /etc/debian_version's first line then wins.
 *
 * Implemented: os-release, lsb-release, debian_version. A guest that has,
 * before one of these succeeds, a release file of another distribution
 * (redhat-release, SuSE-release, ...) is refused: ERR_DIRECT_UNSUPPORTED. */
#pragma once

#include "common/errors.h"

typedef struct ReleaseSource {
        /* Is.is_file ~followsymlinks:true */
        bool (*is_file)(void *userdata, const char *path);
        /* A regular file's content when at most max bytes: 0; -EFBIG when
         * larger; another negative errno when it cannot be read. */
        int (*read)(void *userdata, const char *path, size_t max, char **ret, size_t *ret_len);
        void *userdata;
} ReleaseSource;

/* "unknown" when no file names the product, as inspect_get_product_name(). */
int release_product_name(const ReleaseSource *src, char **ret, Error *e);

/* libguestfs' shell_unquote(): 'x' and "x" (with \$ \` \" \\ and
 * backslash-newline escapes) unquoted, anything else as it is. */
char *release_shell_unquote(const char *s);

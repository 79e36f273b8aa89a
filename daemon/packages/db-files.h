/* Reading the copies of a guest's database files that the worker put
 * under a root directory: relative to that root only, never following a
 * symbolic link, bounded in size. Internal to this folder. */
#pragma once

#include "common/errors.h"
#include "common/util.h"

/* The bytes of root/relpath, NUL-terminated. 0, -ENOENT when absent, -EFBIG
 * beyond max, another negative errno. */
int db_file_read(int root_fd, const char *relpath, size_t max, char **ret, size_t *ret_len);

/* Does root/relpath exist (as anything)? */
bool db_file_exists(int root_fd, const char *relpath);

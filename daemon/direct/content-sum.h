/* A file's checksum as the appliance's guestfs_checksum() gives it: the
 * first word of md5sum, sha1sum, sha224sum, sha256sum, sha384sum,
 * sha512sum (lowercase hex) or cksum (the POSIX CRC, in decimal) run on
 * the file's content. */
#pragma once

#include "common/util.h"

typedef struct ContentSum ContentSum;

/* -EINVAL for an algorithm guestfs_checksum() does not know (names are
 * matched ignoring case, as there). */
int content_sum_new(const char *algorithm, ContentSum **ret);
/* A ContentSink (file-content.h). */
int content_sum_update(void *sum, const void *data, size_t len);
/* The text; the sum is freed. */
char *content_sum_finish(ContentSum *s);
ContentSum *content_sum_free(ContentSum *s);

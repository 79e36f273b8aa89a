/* Image identity: a SHA-256 key of an image's content, so that a manifest
 * scanned once is found again for the same bytes, wherever the file lives.
 *
 * The key is a hash of per-chunk hashes (1 MiB chunks, the last one short):
 * a chunk that is a hole is known to be zeros and gets the precomputed hash
 * of a zero chunk without being read, and a written chunk of zeros hashes
 * the same, so the key does not depend on how sparse the file is. Chunks
 * are hashed by all cores. */
#pragma once

#include "common/errors.h"
#include "common/progress.h"

#define FINGERPRINT_SIZE 32

typedef struct FileStat {
        uint64_t dev, ino, size;
        int64_t mtime_ns, ctime_ns;
} FileStat;

/* The content key of one file (not following any backing chain). Reports
 * bytes to the progress sink (the whole size as total, then as it goes). */
int fingerprint_file(const char *path, const ProgressSink *progress, uint8_t ret[FINGERPRINT_SIZE],
                     FileStat *ret_stat, Error *e);

/* Stats a file the way the stat record remembers it. */
int fingerprint_stat(const char *path, FileStat *ret);
bool file_stat_equal(const FileStat *a, const FileStat *b);

/* Combines keys in order (with a domain string) into one: a disk's key from
 * its own and its backing files' keys, a side's from its disks'. */
void fingerprint_combine(const char *domain, const uint8_t (*keys)[FINGERPRINT_SIZE], size_t n,
                         const char *const *labels, uint8_t ret[FINGERPRINT_SIZE]);

/* A disk's content key, covering its backing chain or its internal
 * snapshot, and a side's key from its disks' keys in guest order. A memo of
 * stat records (the store's, given by the caller) spares re-reading a file
 * that has not been touched since it was hashed. */
#pragma once

#include "source/disk.h"
#include "source/image-key.h"

/* What a file's key was when it had this stat; both may be NULL. lookup
 * returns > 0 when it knows, 0 when not, < 0 on failure. */
typedef struct KeyMemo {
        int (*lookup)(void *userdata, const char *path, const FileStat *st, uint8_t ret[FINGERPRINT_SIZE]);
        int (*save)(void *userdata, const char *path, const FileStat *st, const uint8_t key[FINGERPRINT_SIZE]);
        void *userdata;
} KeyMemo;

/* memo may be NULL (no cache): every file is hashed. */
int disk_identify(const KeyMemo *memo, const Disk *d, const ProgressSink *progress, uint8_t ret[FINGERPRINT_SIZE],
                  Error *e);
void side_identify(const uint8_t (*disk_keys)[FINGERPRINT_SIZE], size_t n, uint8_t ret[FINGERPRINT_SIZE]);

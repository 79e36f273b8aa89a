/* The identity of a side: the content keys of its disks (each covering its
 * backing chain) combined in guest order. Stat records in the store spare
 * re-reading a file that has not been touched since it was hashed. */
#pragma once

#include "fingerprint.h"
#include "image-source.h"
#include "store.h"

/* store may be NULL (no cache): every file is hashed. */
int disk_identify(Store *store, const Disk *d, const ProgressSink *progress, uint8_t ret[FINGERPRINT_SIZE],
                  Error *e);
void side_identify(const uint8_t (*disk_keys)[FINGERPRINT_SIZE], size_t n, uint8_t ret[FINGERPRINT_SIZE]);

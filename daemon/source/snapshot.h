/* Internal qcow2 snapshots: IMAGE@SNAPSHOT names, the snapshot table read
 * from the image itself, and a content key that stays the same while the
 * live image is written. */
#pragma once

#include "source/disk.h"
#include "source/image-key.h"

/* "IMAGE@SNAP": when the path names no file but IMAGE is one, moves SNAP
 * into d->snapshot. A path that exists is a file, '@' or not. */
int snapshot_split_path(Disk *d);

/* The image is qcow2 and holds the snapshot d->snapshot (by name); sets
 * d->virtual_size to the snapshot's when the image has grown since. */
int snapshot_validate(Disk *d, Error *e);

/* The snapshot's own key, from what never changes once it is taken: its
 * table entry and its L1 and L2 tables. Its disk's key combines it with
 * the backing chain's (identity.c). */
int snapshot_key(const Disk *d, uint8_t ret[FINGERPRINT_SIZE], Error *e);

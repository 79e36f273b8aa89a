/* The block devices of the appliance that may hold a filesystem: whole
 * disks without partitions, partitions, RAID devices and LVM volumes, in
 * that order. From a few listings rather than guestfs_list_filesystems(),
 * which takes several times as long under TCG (each of its many probes
 * waits for udev). */
#pragma once

#include <guestfs.h>

#include "common/errors.h"

/* A NULL-terminated list, or -1 and e set. */
int block_devices(guestfs_h *g, char ***ret, Error *e);

/* A value of guestfs_blkid()'s list (TYPE, UUID, LABEL, ...), or NULL. */
const char *blkid_get(char **h, const char *key);

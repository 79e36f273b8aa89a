/* The appliance's view of a disk: a throwaway qcow2 overlay of our own
 * whose backing file is the disk, opened with the format named explicitly
 * and without taking qemu's image lock.
 *
 * Why not libguestfs' read-only drives: libguestfs 1.48 adds its own
 * overlay as "file.driver=qcow2" with no top-level format, and qemu then
 * probes the format of what the overlay exposes. A raw image whose first
 * bytes look like qcow2 is opened as qcow2 (and could name any host file
 * as its backing file). Here every layer's driver is given, so nothing is
 * probed, and writes (there are none: we mount read-only) would land in
 * the overlay. */
#pragma once

#include "common/errors.h"
#include "source/disk.h"

/* Creates DIR/overlay-INDEX.qcow2 on top of the disk; returns its path. */
int overlay_create(const Disk *d, const char *dir, size_t index, char **ret_path, Error *e);

/* The backing description qemu gets: json:{"driver": FORMAT, "file":
 * {"driver": "file" or "host_device", "filename": PATH, "locking": "off"}}. */
char *overlay_backing_json(const char *format, const char *path, bool block_device);

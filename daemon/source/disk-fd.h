/* Disks a caller opened and passed as file descriptors. The caller proved
 * it may read the image by opening it, so no polkit action is needed; in
 * exchange nothing but that one file may be read on its behalf: no backing
 * file, and only formats that cannot name other files (raw, qcow2 without
 * a backing file). The daemon reads the image through /proc/PID/fd/FD of
 * its own copy of the fd, and the appliance through qemu-nbd (nbd.c),
 * since libguestfs closes inherited fds in qemu. */
#pragma once

#include "source/disk.h"

/* Whether a passed fd may serve as a disk: readable (not O_WRONLY, not
 * O_PATH): InvalidArgs; a regular file or a block device: InvalidImage. */
int disk_fd_check(int fd, Error *e);

/* Makes d read from a copy of fd (the caller's stays the caller's). */
int disk_set_fd(Disk *d, int fd);

/* After the format is known, from the image's first bytes: refuses formats
 * that may reference other files and qcow2 images with a backing file. */
int disk_fd_validate(const Disk *d, const uint8_t *magic, size_t len, Error *e);

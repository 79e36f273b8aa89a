/* The direct engine's worker process: `virt-diffd --direct-worker`, the
 * socket on fd 3. It locks itself down (direct/sandbox.h) before anything
 * else, says hello, and then takes the side's disks as fds with
 * WK_DIRECT_OPEN: raw images and block devices the daemon opened read-only,
 * and sockets the daemon connected to qemu-nbd exports. After that it
 * answers WK_SCAN, WK_MOUNT_RO, WK_UMOUNT_ALL, WK_READ_FILE and WK_CHECKSUM
 * as the appliance's worker does, from the direct engine. It never opens a
 * path, never mounts, and its filter stops it from trying. */
#pragma once

#define DIRECT_WORKER_COMM "diffd-direct"

enum {
        DIRECT_DISK_FD = 0,  /* a raw image or block device */
        DIRECT_DISK_NBD = 1, /* a connected NBD socket */
};

int direct_worker_main(int fd);

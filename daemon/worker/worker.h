/* The worker process: one libguestfs handle, and everything that touches
 * guest data through it (launch, scan, file reads), in a process of its
 * own, so that a crash there fails one job instead of the daemon.
 *
 * The daemon starts a worker per appliance (`virt-diffd --worker TMPDIR`,
 * its own binary again, with the socket on fd 3 and a process group of its
 * own that its qemu joins). Everything libguestfs leaves on disk goes under
 * TMPDIR, which the daemon removes whatever way the worker ends. It sends one request at a time and reads frames
 * (wire.h) back until the answer: WK_OK, WK_DATA, WK_MANIFEST or WK_ERROR,
 * with WK_PROGRESS frames before it during a scan. The worker exits when
 * the daemon closes the socket. appliance.c is the daemon's side. */
#pragma once

#include <guestfs.h>

#define WORKER_PROTOCOL 1
#define WORKER_FD 3
#define WORKER_COMM "diffd-worker" /* its name in ps and /proc/PID/comm */
#define WORKER_REQUEST_MAX (1U << 20)

enum {
        /* worker -> daemon */
        WK_HELLO = 1,  /* u32 protocol, u64 memsize (MiB) */
        WK_OK,         /* u32 value (the qemu pid after WK_LAUNCH, else 0) */
        WK_ERROR,      /* u32 ErrorCode, str message */
        WK_PROGRESS,   /* u8 kind (0 phase, 1 files, 2 bytes), u64 a, u64 b */
        WK_DATA,       /* bytes */
        WK_MANIFEST,   /* manifest-wire.h */
        /* daemon -> worker */
        WK_LAUNCH = 0x40, /* u8 tcg, u8 trace, u32 n, str overlay[n] */
        WK_SCAN,          /* nothing */
        WK_MOUNT_RO,      /* str device, str mountpoint */
        WK_UMOUNT_ALL,    /* nothing */
        WK_READ_FILE,     /* str path */
        WK_CHECKSUM,      /* str algorithm, str path */
};

/* The worker's main loop on the socket fd; returns its exit status. */
int worker_main(int fd, const char *tmpdir);

/* A libguestfs handle's last error, for messages. */
const char *guest_error(guestfs_h *g);

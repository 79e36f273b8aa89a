/* The worker wire's messages: what the daemon (appliance/appliance.c) and
 * a worker process (worker/worker.c) say to each other, in frames of
 * common/wire.h. Bump WORKER_PROTOCOL on any change. */
#pragma once

#define WORKER_PROTOCOL 6
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
        WK_MANIFEST,   /* one part of manifest-wire.h: the answer to WK_SCAN is parts up to END */
        WK_PACKAGES,   /* packages-wire.h: before WK_MANIFEST when the scan asked for it */
        /* daemon -> worker */
        WK_LAUNCH = 0x40, /* u8 tcg, u8 trace, u32 n, n * (str overlay, u32 blocksize or 0) */
        WK_SCAN,          /* nothing, or u8 flags (WK_SCAN_PACKAGES) */
        WK_MOUNT_RO,      /* str device, str mountpoint */
        WK_UMOUNT_ALL,    /* nothing */
        WK_READ_FILE,     /* str path */
        WK_CHECKSUM,      /* str algorithm, str path */
        WK_UNLOCK,        /* u32 n, n * (str selector, bytes key): WK_DATA, the devices still locked,
                             each NUL-terminated */
        /* The direct engine's worker (direct-worker.h): u32 n, then per
         * disk u8 kind (DIRECT_DISK_*), u64 size (0: all of it); then the
         * n fds in one SCM_RIGHTS message. Answered with WK_OK (the
         * sandbox's flags). */
        WK_DIRECT_OPEN,
};

/* WK_SCAN flags. */
#define WK_SCAN_PACKAGES 0x01

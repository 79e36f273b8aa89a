/* The appliance, as the daemon holds it: a worker process (worker.h) that
 * owns one libguestfs handle on the disks of one side, launched read-only
 * with the accelerator the KVM probe chose. Every call here is a round
 * trip to that process; a worker that dies fails the call with
 * WorkerCrashed, and the daemon lives on.
 *
 * The direct engine's worker (worker/direct-worker.h) is held the same way
 * (appliance_new_direct(), direct-handle.c): no qemu, no overlays, the
 * disks handed over as fds; scan, mount, read and checksum calls are the
 * same. */
#pragma once

#include <sys/types.h>

#include "common/errors.h"
#include "common/keys.h"
#include "common/progress.h"
#include "manifest/manifest-stream.h"
#include "packages/packages.h"
#include "source/disk.h"

typedef struct Appliance {
        pid_t worker_pid; /* also its process group, which its qemu joins */
        int fd;           /* the socket to the worker */
        char *tmpdir;     /* private: our overlays, libguestfs' sockets */
        char **overlays;
        uint32_t *blocksizes; /* each overlay's sector size, 0 for the default */
        uint64_t memsize_mb;
        pid_t qemu_pid;   /* 0 until launched; read by other threads */
        pid_t launching_pid; /* its qemu found while it launches (the hang watch's) */
        bool killed;      /* appliance_kill() ran: set from any thread */
        uint64_t kill_usec;
        bool exited;      /* the worker is known to have exited... */
        int status;       /* ...with this wait status */
        bool direct;      /* the direct engine's worker */
        int sandbox;      /* its sandbox's flags (direct/sandbox.h) */
} Appliance;

/* Starts a worker for these disks (each through an overlay of ours),
 * ready to launch. */
int appliance_new(const Disk *disks, size_t n_disks, Appliance **ret, Error *e);
int appliance_launch(Appliance *a, Error *e);
/* The direct engine on these disks: raw ones opened read-only here, the
 * others through their qemu-nbd exports (nbd_serve_disks_for_direct() must
 * have started them), all passed to a locked-down worker that probes them.
 * ERR_DIRECT_UNSUPPORTED when the direct engine cannot read the side for
 * certain: the caller takes the appliance instead. Not a launch: it is not
 * counted in appliance_launch_count(). */
int appliance_new_direct(const Disk *disks, size_t n_disks, Appliance **ret, Error *e);
/* Scans every filesystem, with progress on the way: the manifest goes into
 * sink part by part as the worker sends it (manifest-wire.h), never whole
 * here. With ret_packages, also the inspected OS's packages
 * (package-scan.h): format none for a guest without any, the database's
 * error for one that cannot be read. A failure may leave the worker in the
 * middle of its answer: do not reuse the handle then. */
int appliance_scan_stream(Appliance *a, const ProgressSink *progress, const ManifestSink *sink,
                          PackageSet **ret_packages, Error *e);
/* The same into a manifest in memory (tests, small tools). */
int appliance_scan(Appliance *a, const ProgressSink *progress, Manifest **ret, Error *e);
int appliance_scan_packages(Appliance *a, const ProgressSink *progress, Manifest **ret, PackageSet **ret_packages,
                            Error *e);
/* Opens the encrypted volumes the keys' selectors name (see worker/luks.h);
 * *ret_locked: the devices still locked, in the order they were found.
 * The request's bytes are wiped once sent. */
int appliance_unlock(Appliance *a, const KeyList *keys, char ***ret_locked, Error *e);
int appliance_mount_ro(Appliance *a, const char *device, const char *mountpoint, Error *e);
int appliance_umount_all(Appliance *a, Error *e);
int appliance_read_file(Appliance *a, const char *path, char **ret, size_t *ret_len, Error *e);
/* guestfs_checksum(): the checksum's text. */
int appliance_checksum(Appliance *a, const char *algorithm, const char *path, char **ret, Error *e);

/* The memory (MiB) libguestfs gives an appliance by default. */
uint64_t appliance_default_memsize_mb(void);
/* Is the appliance's qemu still running (not exited, not a zombie)? */
bool appliance_alive(Appliance *a);
/* The qemu's CPU time in clock ticks and whether it is stopped (SIGSTOP,
 * traced); -1 when it is not running. */
int appliance_cpu(Appliance *a, uint64_t *ret_ticks, bool *ret_stopped);
/* Launches attempted since the daemon started (tests count them). */
uint64_t appliance_launch_count(void);
/* Closes the worker (its qemu shuts down with it) and removes the
 * overlays. */
Appliance *appliance_free(Appliance *a);
static inline void appliance_freep(Appliance **a) {
        appliance_free(*a);
}
#define _cleanup_appliance_ _cleanup_(appliance_freep)

/* Kills the appliance's qemu so that a call in another thread returns at
 * once, even during the launch; a worker that still does not answer is
 * killed a few seconds later, with its whole process group. Safe from any
 * thread. */
void appliance_kill(Appliance *a);

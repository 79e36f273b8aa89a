/* Internal qcow2 snapshots, which qemu reads only through qemu-nbd -l. A
 * private qemu-nbd serves each, read-only, on a Unix socket in a 0700
 * directory, for as long as its side's appliance runs; it dies with the
 * thread that started it. */
#pragma once

#include <sys/types.h>

#include "common/progress.h"
#include "source/disk.h"

struct NbdServer {
        pid_t pid;
        char *dir;    /* private, 0700 */
        char *socket; /* dir/nbd.sock */
};

/* Starts a server for each disk that needs one; on failure those started
 * are stopped again. */
int nbd_serve_disks(Disk *disks, size_t n, const ProgressSink *progress, Error *e);
/* The direct engine reads raw images in place and everything else (other
 * formats, backing chains, snapshots) through an export: starts a server
 * for each disk that is not raw. */
bool nbd_direct_reads_in_place(const Disk *d);
int nbd_serve_disks_for_direct(Disk *disks, size_t n, const ProgressSink *progress, Error *e);
void nbd_stop_disks(Disk *disks, size_t n);
/* Stops the servers only the direct engine needed (a qcow2 file, say; not
 * a snapshot's or a passed fd's, which the appliance reads through too).
 * Returns whether there were any. A qemu-nbd dies with the thread that
 * started it (PR_SET_PDEATHSIG): a scan's thread that ends must not leave
 * an appliance's overlay or a later read on such a server. */
bool nbd_stop_disks_for_direct(Disk *disks, size_t n);
NbdServer *nbd_server_free(NbdServer *s);

/* The backing description of the appliance's overlay (overlay.c) for a
 * served disk: json:{"driver": "raw", "size": N, "file": {"driver": "nbd",
 * ...}}. */
char *nbd_backing_json(const Disk *d);

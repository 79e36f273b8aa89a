/* Disks the appliance cannot open as files: an internal qcow2 snapshot, or
 * a running domain's disk that qemu holds locked. A private qemu-nbd serves
 * each, read-only, on a Unix socket in a 0700 directory, for as long as its
 * side's appliance runs; it dies with the thread that started it. */
#pragma once

#include <guestfs.h>
#include <sys/types.h>

#include "image-source.h"
#include "progress.h"

struct NbdServer {
        pid_t pid;
        char *dir;    /* private, 0700 */
        char *socket; /* dir/nbd.sock */
};

/* Starts a server for each disk that needs one; on failure those started
 * are stopped again. */
int nbd_serve_disks(Disk *disks, size_t n, const ProgressSink *progress, Error *e);
void nbd_stop_disks(Disk *disks, size_t n);
NbdServer *nbd_server_free(NbdServer *s);

/* Adds d to the appliance: its NBD export when served, else the file. */
int nbd_add_drive(guestfs_h *g, const Disk *d);

/* Image sources: one disk of one side, checked before any appliance is
 * launched so that bad input fails fast with a named error. */
#pragma once

#include "common/errors.h"
#include "source/caller-access.h"

typedef struct NbdServer NbdServer;

typedef struct Disk {
        char *path;          /* as the caller gave it; for a domain, its resolved disk */
        char *format;        /* raw, qcow2, ...: given, or detected from magic */
        bool format_given;
        uint32_t blocksize;  /* sector size the guest sees: 512 or 4096; 0 for the default */
        uint64_t virtual_size;
        uint64_t file_size;
        char **backing_chain; /* backing files, nearest first */

        /* Libvirt and snapshots (libvirt-source.c, snapshot.c, nbd.c). */
        char *domain;          /* the libvirt domain it is, or came from */
        char *uri;             /* its libvirt connection, NULL for the default */
        char *domain_snapshot; /* the domain snapshot asked for */
        bool resolved;         /* a domain's disk, no longer the domain */
        char *snapshot;        /* internal qcow2 snapshot to read */
        bool live;             /* read while its running domain writes it */
        bool domain_running;
        NbdServer *nbd;        /* serving it while its side's appliance runs */
        const CallerCreds *caller; /* whose rights its backing chain needs; NULL: ours */

        /* Opened by the caller and passed on the bus (disk-fd.c): path is
         * then /proc/PID/fd/FD of the daemon's own copy. */
        bool by_fd;
        int fd;
} Disk;

void disk_done(Disk *d);

/* Checks that the disk can be read as an image: exists, is a regular file or
 * block device, is not empty, has a known format, is not truncated, its
 * backing chain is complete, and it is not locked for writing by a running
 * qemu. Fills the derived fields. */
int disk_validate(Disk *d, Error *e);

/* Sets the libvirt fields of a disk given on the bus; takes nothing. */
int disk_set_source(Disk *d, const char *domain, const char *uri, const char *snapshot);

/* Detects a format from the first bytes of an image; "raw" when no known
 * magic matches. */
const char *image_format_from_magic(const uint8_t *buf, size_t len);

/* Libvirt domains as sources: a domain's disks (every disk device in order,
 * read-only, file and block sources), as they are now or as one of its
 * snapshots recorded them, through a read-only libvirt connection. */
#pragma once

#include "source/disk.h"

/* Replaces each domain placeholder among disks (d->domain set, not yet
 * resolved) with the domain's disks. */
int libvirt_resolve_disks(Disk **disks, size_t *n, Error *e);

typedef struct LibvirtSnapshot {
        char *name;
        int64_t creation_time; /* seconds since the epoch */
        char *state;           /* the domain's state when taken: running, shutoff, disk-snapshot, ... */
        bool external;         /* any disk or the memory kept in external files */
        char *parent;          /* NULL for a root */
        bool current;
} LibvirtSnapshot;

void libvirt_snapshots_free(LibvirtSnapshot *l, size_t n);
/* A domain's snapshots, oldest first. uri NULL or "" for the default. */
int libvirt_list_snapshots(const char *uri, const char *domain, LibvirtSnapshot **ret, size_t *ret_n, Error *e);

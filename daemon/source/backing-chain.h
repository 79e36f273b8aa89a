/* A qcow2 input's backing chain, walked by us before qemu opens anything:
 * each backing file must be one the caller may read, must be named with
 * its format (qemu would otherwise probe it), must be a plain local file,
 * and the chain must end.
 *
 * Every file is opened once, and that open file is what everything reads
 * afterwards: the disk's key, qemu-img and the appliance's qemu reach it
 * through /proc/PID/fd/N, with the whole chain spelled out (each layer's
 * format and its backing), so no name is looked up again. A file renamed,
 * replaced or re-pointed (a symlink) after the check changes nothing: what
 * was checked is what is read. */
#pragma once

#include <sys/types.h>

#include "common/errors.h"
#include "source/caller-access.h"

/* One file of a disk: the image, or a file of its backing chain. */
typedef struct DiskLayer {
        int fd;
        char *path;   /* the image's as given; a backing file's as resolved from the header */
        char *format; /* raw, qcow2, ... */
        bool block;   /* a block device */
} DiskLayer;

void disk_layers_free(DiskLayer *layers, size_t n);

/* Walks the chain below an image already open as top_fd (path, opened as
 * format; top_fd is taken), opening each backing file once: as the caller
 * (caller NULL: the daemon's own rights). Anything but qcow2 names no
 * backing file that we follow: one layer. Errors: AccessDenied (the caller
 * may not read a backing file, or it is not a local file name),
 * MissingBackingFile, UnsupportedFormat (no backing format in the header,
 * one other than raw or qcow2, an external data file), InvalidImage (a bad
 * header, a loop, a chain deeper than MAX_BACKING_CHAIN_DEPTH). */
int backing_chain_open(int top_fd, const char *path, const char *format, const CallerCreds *caller,
                       DiskLayer **ret, size_t *ret_n, Error *e);

/* The same check on a path, opened here and closed again (tests). */
int backing_chain_check(const char *path, const char *format, const CallerCreds *caller, Error *e);

/* The chain as qemu opens it, json:{"driver": FORMAT, "file": {"driver":
 * "file" or "host_device", "filename": "/proc/PID/fd/N", "locking": "off"},
 * "backing": {...the next layer...} or null}: process pid must hold the
 * layers' fds (the daemon, for its children: qemu-img, qemu-nbd, the
 * appliance's qemu). Locking off: the lock belongs to whoever runs the
 * disk (disk.c refuses one held for writing). */
char *disk_layers_json(const DiskLayer *layers, size_t n, pid_t pid);

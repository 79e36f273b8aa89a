/* The direct engine's entry point: one side's disks, read on the host, to
 * the manifest the appliance's scanner would have made of them.
 *
 *   direct_side_open()   probes the disks (volumes.h), opens every ext2/3/4
 *                        filesystem with libext2fs and inspects the guest
 *                        (inspect.h): anything it cannot read for certain
 *                        fails with ERR_DIRECT_UNSUPPORTED, and the caller
 *                        takes the appliance instead;
 *   direct_side_scan_stream()  walks and hashes every tree (walk.h) into a
 *                        manifest sink, as it goes;
 *   direct_side_mount()  and direct_side_read() answer the content stage's
 *                        requests the way the appliance does: mount a
 *                        filesystem read-only at a path, read a file.
 *
 * Nothing is mounted by a kernel and nothing is written; the disks are the
 * readers given. Not thread-safe: one side, one thread. */
#pragma once

#include "common/errors.h"
#include "common/progress.h"
#include "direct/file-content.h"
#include "direct/image-reader.h"
#include "manifest/manifest-stream.h"

typedef struct DirectSide DirectSide;

/* Takes the readers (n of them, in the side's disk order) on success and on
 * failure. */
int direct_side_open(ImageReader **disks, size_t n, DirectSide **ret, Error *e);
/* The manifest into sink as the walk makes it: the head, then each tree's
 * entries in batches (the side never holds a whole tree). */
int direct_side_scan_stream(DirectSide *s, const ProgressSink *progress, const ManifestSink *sink, Error *e);
/* The same, whole, in memory (the tests, the fuzz target). */
int direct_side_scan(DirectSide *s, const ProgressSink *progress, Manifest **ret, Error *e);
/* Refuses (ERR_DIRECT_UNSUPPORTED) regular files over max bytes instead of
 * hashing them; 0, the default, is the kernel's limit. The fuzz target
 * keeps mutated sizes small with it. */
void direct_side_set_max_file_size(DirectSide *s, uint64_t max);

/* As the appliance's mount_ro and umount_all: a filesystem (by device name)
 * over a directory of what is mounted so far, "/" first. */
int direct_side_mount(DirectSide *s, const char *device, const char *mountpoint, Error *e);
void direct_side_umount_all(DirectSide *s);
/* Streams a regular file of the mounted tree; symbolic links are not
 * followed. */
int direct_side_read(DirectSide *s, const char *path, ContentSink sink, void *userdata, Error *e);

DirectSide *direct_side_free(DirectSide *s);
static inline void direct_side_freep(DirectSide **s) {
        direct_side_free(*s);
}
#define _cleanup_direct_side_ _cleanup_(direct_side_freep)

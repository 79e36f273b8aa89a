/* One mounted tree of the appliance, streamed into a manifest sink in path
 * order without holding it: one find0 for the names and one checksums_out
 * for the regular files' SHA-256 (each into a scratch file of the worker's
 * temporary directory), joined and put in path order by tree-order.h, then
 * one lstatnslist + lxattrlist (+ readlinklist) per chunk of a directory's
 * children. A file the bulk listing did not hash (it failed on an
 * unreadable file, or its order did not line up) is hashed on its own. */
#pragma once

#include <guestfs.h>

#include "common/errors.h"
#include "common/progress.h"
#include "manifest/manifest-stream.h"

typedef struct TreeMount {
        const char *mountpoint;
        uint32_t fs; /* index into the manifest's filesystems */
} TreeMount;

/* The tree mounted at the appliance's /: its entries from "/" down through
 * sink->entries() (the caller sends the tree's key before and the rest
 * after). mounts: what is mounted where, longest mount point first, to
 * attribute each path to its filesystem (default_fs for the rest). */
int tree_walk(guestfs_h *g, const char *tmpdir, const TreeMount *mounts, size_t n_mounts, uint32_t default_fs,
              const ProgressSink *progress, const ManifestSink *sink, Error *e);

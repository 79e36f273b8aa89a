/* The scanner: from a launched appliance to a manifest. It lists every
 * filesystem, inspects for an OS, and walks the trees in bulk (tree-walk.h:
 * one find0 and one checksums_out per tree, one lstatnslist + lxattrlist
 * (+ readlinklist) per chunk of a directory), never one round trip per
 * file. The manifest streams: each tree's entries go to the sink in path
 * order as the walk reaches them, and the worker holds none of it. */
#pragma once

#include <guestfs.h>

#include "common/errors.h"
#include "common/progress.h"
#include "manifest/manifest-stream.h"
#include "packages/packages.h"
#include "worker/luks.h"

typedef struct ScanOptions {
        /* Also read the inspected OS's package database and measure the
         * digests its packages recorded (package-scan.h), into a directory
         * below tmpdir. */
        bool packages;
        const char *tmpdir;
        /* The encrypted volumes opened so far: what they hold is scanned,
         * the others reported locked; NULL when no key was given. */
        const Luks *luks;
} ScanOptions;

/* The manifest into sink: its head once every filesystem was tried (each
 * filesystem the OS does not mount is mounted once to know, and again for
 * its walk), then each tree. A failure after the head leaves the stream
 * unfinished; the sink's consumer drops it. */
int scanner_scan_stream(guestfs_h *g, const ScanOptions *opts, const ProgressSink *progress,
                        const ManifestSink *sink, Error *e);

/* The whole manifest in memory: for --packages, which needs the OS's tree
 * to read its package database against while the OS is still mounted.
 * *ret_packages (when opts->packages) is the OS's package set: format
 * none for a guest without an OS or a package database. */
int scanner_scan(guestfs_h *g, const ScanOptions *opts, const ProgressSink *progress, Manifest **ret,
                 PackageSet **ret_packages, Error *e);

/* A libguestfs handle's last error, for messages. */
const char *guest_error(guestfs_h *g);

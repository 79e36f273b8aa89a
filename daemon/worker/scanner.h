/* The scanner: from a launched appliance to a manifest. It lists every
 * filesystem, inspects for an OS, and walks the trees in bulk: one find0
 * per tree, one lstatnslist + lxattrlist (+ readlinklist) per directory,
 * one checksums_out per tree. Never one round trip per file. */
#pragma once

#include <guestfs.h>

#include "common/errors.h"
#include "common/progress.h"
#include "manifest/manifest.h"
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

/* *ret_packages (when opts->packages) is the OS's package set: format
 * none for a guest without an OS or a package database. */
int scanner_scan(guestfs_h *g, const ScanOptions *opts, const ProgressSink *progress, Manifest **ret,
                 PackageSet **ret_packages, Error *e);

/* A libguestfs handle's last error, for messages. */
const char *guest_error(guestfs_h *g);

/* The scanner: from a launched appliance to a manifest. It lists every
 * filesystem, inspects for an OS, and walks the trees in bulk: one find0
 * per tree, one lstatnslist + lxattrlist (+ readlinklist) per directory,
 * one checksums_out per tree. Never one round trip per file. */
#pragma once

#include <guestfs.h>

#include "common/errors.h"
#include "common/progress.h"
#include "manifest/manifest.h"

int scanner_scan(guestfs_h *g, const ProgressSink *progress, Manifest **ret, Error *e);

/* A libguestfs handle's last error, for messages. */
const char *guest_error(guestfs_h *g);

/* A side's packages, on the appliance path: the guest's package database
 * files copied out of the mounted OS in bulk (tar_out of each database
 * directory, read with libarchive, only regular files with plain names
 * written, below a private directory), read there by packages_read(), and
 * the digests its packages recorded measured in bulk inside the appliance
 * (checksums_out per top directory, as tree-hash.c does for SHA-256) for
 * whatever the manifest's SHA-256 cannot answer (md5 for dpkg and old rpm).
 *
 * The engine-neutral part lives in packages/: which paths to copy
 * (package_db_paths), reading them, which digests are needed. Another
 * scanning engine implements only the copying and the measuring. */
#pragma once

#include <guestfs.h>

#include "common/errors.h"
#include "common/progress.h"
#include "manifest/manifest.h"
#include "packages/packages.h"

/* With the OS mounted at / and tree its scanned, sorted tree. A database
 * that cannot be read is the set's error, not a failure; fails only when
 * the appliance does or on cancel. */
int package_scan(guestfs_h *g, const Tree *tree, const char *tmpdir, const ProgressSink *progress,
                 PackageSet **ret, Error *e);

/* Writes the regular files of a tar archive (in memory) below dir/prefix,
 * refusing names with "..", absolute names and anything but regular files
 * and directories; at most max_bytes in all. -EFBIG past it, -EBADMSG for an
 * archive libarchive cannot read. */
int tar_extract_files(const void *tar, size_t len, int dir_fd, const char *prefix, uint64_t max_bytes);

/* dpkg's database, from copies of its files under a root directory:
 * var/lib/dpkg/status (deb822: the packages, their state, version,
 * architecture and conffiles with the md5 they shipped with),
 * var/lib/dpkg/info/PKG.list (the paths each installed package owns),
 * info/PKG.md5sums (the md5 of each of its other files) and
 * var/lib/dpkg/diversions (paths moved aside for another package). */
#pragma once

#include "packages/packages.h"

/* Is there a dpkg database under root_fd? */
bool dpkg_present(int root_fd);

/* Fills ps (format dpkg) with the packages whose files are on disk
 * (installed, unpacked, half-installed or -configured, awaiting or pending
 * triggers; not "config-files" or "not-installed") and their files. A
 * malformed file is ERR_CORRUPT_PACKAGE_DB naming it and the line. */
int dpkg_read(int root_fd, PackageSet *ps, Error *e);

/* The limits on what is read: a status or info file beyond them is
 * refused as corrupt. */
#define DPKG_STATUS_MAX (256u << 20)
#define DPKG_INFO_FILE_MAX (64u << 20)

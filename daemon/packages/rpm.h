/* The rpm database, read with librpm from copies of its files under a root
 * directory: var/lib/rpm or usr/lib/sysimage/rpm, in the sqlite
 * (rpmdb.sqlite), Berkeley DB (Packages, read with librpm's bdb_ro) or
 * ndb (Packages.db) form, as far as the librpm we link opens it. */
#pragma once

#include "packages/packages.h"

/* Is there an rpm database under root_fd? */
bool rpm_present(int root_fd);

/* Fills ps (format rpm) with every installed package (name, arch, EVR)
 * and its files: digest and algorithm, %config, %ghost, missingok, the
 * file state, symlink targets. root is root_fd's path (librpm takes a
 * path). Librpm's own messages are caught, not printed: the last error is
 * the message of ERR_CORRUPT_PACKAGE_DB; a form this librpm cannot open is
 * ERR_UNSUPPORTED_PACKAGE_DB. Serialised internally: librpm's macros are
 * global. */
int rpm_read(int root_fd, const char *root, PackageSet *ps, Error *e);

/* rpm's EVR order (rpmverCmp: epoch, then rpmvercmp on version, then on
 * release). */
int rpm_version_compare(const char *a, const char *b);

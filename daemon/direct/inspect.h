/* OS inspection as libguestfs 1.48 does it, for the guests the direct
 * engine reads: which filesystem is a Linux root, its product name, and
 * where its /etc/fstab mounts the others. libguestfs' rules
 * (daemon/inspect*.ml) are followed where they decide something the
 * manifest shows:
 * - each filesystem is classified by the first of libguestfs' checks that
 *   matches (a GRUB /boot, the BSDs, Hurd, Minix, a Linux root, CoreOS,
 *   a Linux /usr or /var, Windows, DOS); only "Linux root" and the roles
 *   that add nothing (GRUB /boot, /usr/local, /var, none) are handled;
 * - the product name comes from the first release file that parses, in
 *   libguestfs' order: os-release (kept even when it does not finish the
 *   job, as on Debian), lsb-release, debian_version; a guest with any
 *   other release file before a success is refused;
 * - fstab entries are placed by UUID=, LABEL=, /dev/root and /dev/[hsv]d,
 *   /dev/xvd names; PARTUUID= and other specs are skipped, as libguestfs
 *   1.48 skips them.
 * Anything else (two roots, a /usr filesystem, fstab lines libguestfs'
 * Augeas lens might read differently, a UUID two filesystems share) is
 * refused with ERR_DIRECT_UNSUPPORTED. */
#pragma once

#include <ext2fs/ext2fs.h>

#include "common/errors.h"

typedef struct InspectFs {
        const char *device; /* /dev/sda1 */
        const char *type;   /* blkid TYPE */
        const char *uuid, *label; /* as blkid found them */
        ext2_filsys fs;     /* NULL when not an ext filesystem (swap) */
} InspectFs;

typedef struct InspectMount {
        char *mountpoint; /* canonical, as libguestfs gives it */
        size_t fs;        /* index into the InspectFs array */
} InspectMount;

typedef struct Inspection {
        bool found;      /* a Linux root */
        size_t root;     /* its filesystem */
        char *product;   /* inspect_get_product_name(): "unknown" when none */
        InspectMount *mounts; /* inspect_get_mountpoints() that name one of the filesystems, in fstab order */
        size_t n_mounts;
} Inspection;

void inspection_done(Inspection *in);

int inspect_side(const InspectFs *fss, size_t n, Inspection *ret, Error *e);

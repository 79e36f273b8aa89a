#include "worker/fs-support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* The libguestfs-* packages of Debian put a type's tools (mkfs, fsck,
 * xfs_info) in the appliance; reading needs the kernel's driver, which
 * Debian's kernel has for all of them. NTFS is mounted by ntfs-3g through
 * FUSE, whose driver the appliance cannot be asked about by name. */
static const FsSupport table[] = {
        {"xfs", "XFS", "xfs", "xfs", "libguestfs-xfs", NULL},
        {"btrfs", "btrfs", "btrfs", "btrfs", "btrfs-progs", NULL},
        {"ntfs", "NTFS", NULL, "ntfs3g", "ntfs-3g", NULL},
        {"hfsplus", "HFS+", "hfsplus", NULL, "libguestfs-hfsplus", NULL},
        {"jfs", "JFS", "jfs", NULL, "libguestfs-jfs", NULL},
        {"nilfs2", "NILFS2", "nilfs2", NULL, "libguestfs-nilfs", NULL},
        {"reiserfs", "ReiserFS", "reiserfs", NULL, "libguestfs-reiserfs", NULL},
        {"f2fs", "F2FS", "f2fs", "f2fs", "f2fs-tools", NULL},
        {"squashfs", "squashfs", "squashfs", "squashfs", "squashfs-tools", NULL},
        {"exfat", "exFAT", "exfat", NULL, "exfatprogs", NULL},
        {"zfs_member", "ZFS", NULL, NULL, NULL, "libguestfs cannot mount ZFS datasets"},
        {"BitLocker", "BitLocker", NULL, NULL, NULL, "libguestfs cannot open BitLocker encryption"},
        {"apfs", "APFS", NULL, NULL, NULL, "libguestfs cannot read APFS"},
};

const FsSupport *fs_support_lookup(const char *type) {
        for (size_t i = 0; type && i < ELEMENTSOF(table); i++)
                if (strcmp(table[i].type, type) == 0)
                        return &table[i];
        return NULL;
}

char *fs_support_error(const char *type, const char *mount_error, int driver, int tools) {
        const FsSupport *s = fs_support_lookup(type);
        const char *name = s ? s->name : type;
        char *r = NULL;
        int k;

        if (s && s->note)
                k = asprintf(&r, "cannot read %s: %s (%s)", name, s->note, mount_error);
        else if (driver == 0)
                /* libguestfs builds the appliance from the host's kernel. */
                k = asprintf(&r, "cannot read %s: the appliance's kernel has no %s driver; install the host "
                                 "kernel's %s module%s%s (%s)",
                             name, name, s && s->driver ? s->driver : type, s && s->install ? " and " : "",
                             s && s->install ? s->install : "", mount_error);
        else if (s && s->feature && s->install && tools == 0)
                k = asprintf(&r, "cannot read %s: the appliance has no %s tools; install %s (%s)", name, name,
                             s->install, mount_error);
        else
                k = asprintf(&r, "%s", mount_error);
        return k < 0 ? NULL : r;
}

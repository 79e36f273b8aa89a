/* Unit tests of the errors of filesystems the appliance could not mount:
 * each says the type, why and what to install, only when that explains
 * the failure. */
#include <string.h>

#include "common/test-util.h"
#include "common/util.h"
#include "worker/fs-support.h"

#define MOUNT_ERR "mount: /sysroot: unknown filesystem type 'xfs'."

static bool error_is(const char *type, int driver, int tools, const char *want) {
        _cleanup_free_ char *got = fs_support_error(type, MOUNT_ERR, driver, tools);
        if (got && strcmp(got, want) == 0)
                return true;
        fprintf(stderr, "  got:  %s\n  want: %s\n", got ? got : "(null)", want);
        return false;
}

static void test_missing_tools(void) {
        CHECK(error_is("xfs", 1, 0,
                       "cannot read XFS: the appliance has no XFS tools; install libguestfs-xfs (" MOUNT_ERR ")"));
        CHECK(error_is("ntfs", -1, 0, "cannot read NTFS: the appliance has no NTFS tools; install ntfs-3g (" MOUNT_ERR ")"));
        /* JFS has no libguestfs feature group: only its driver can say. */
        CHECK(error_is("jfs", 1, 0, MOUNT_ERR));
}

static void test_missing_driver(void) {
        /* The driver first: without it the tools would not help. */
        CHECK(error_is("xfs", 0, 0,
                       "cannot read XFS: the appliance's kernel has no XFS driver; install the host kernel's xfs "
                       "module and libguestfs-xfs (" MOUNT_ERR ")"));
        CHECK(error_is("xfs", 0, 1,
                       "cannot read XFS: the appliance's kernel has no XFS driver; install the host kernel's xfs "
                       "module and libguestfs-xfs (" MOUNT_ERR ")"));
        CHECK(error_is("reiserfs", 0, -1,
                       "cannot read ReiserFS: the appliance's kernel has no ReiserFS driver; install the host "
                       "kernel's reiserfs module and libguestfs-reiserfs (" MOUNT_ERR ")"));
        /* A type nothing is known of: named by blkid's name. */
        CHECK(error_is("bcachefs", 0, -1,
                       "cannot read bcachefs: the appliance's kernel has no bcachefs driver; install the host "
                       "kernel's bcachefs module (" MOUNT_ERR ")"));
}

static void test_unreadable_whatever_installed(void) {
        CHECK(error_is("zfs_member", -1, -1,
                       "cannot read ZFS: libguestfs cannot mount ZFS datasets (" MOUNT_ERR ")"));
        CHECK(error_is("BitLocker", -1, -1,
                       "cannot read BitLocker: libguestfs cannot open BitLocker encryption (" MOUNT_ERR ")"));
}

static void test_other_failures_keep_their_error(void) {
        /* Supported and all there: a corrupt or unsupported filesystem
         * says so itself. */
        CHECK(error_is("xfs", 1, 1, MOUNT_ERR));
        CHECK(error_is("ext4", 1, -1, MOUNT_ERR));
        CHECK(error_is("ext4", -1, -1, MOUNT_ERR));
        CHECK(fs_support_lookup("ext4") == NULL);
        CHECK(fs_support_lookup(NULL) == NULL);
        CHECK(fs_support_lookup("ntfs")->driver == NULL);
}

int main(void) {
        test_missing_tools();
        test_missing_driver();
        test_unreadable_whatever_installed();
        test_other_failures_keep_their_error();
        return test_report();
}

/* An inode's extended attributes as the appliance's lxattrlist shows them:
 * what Linux 6.1's ext4 lists and returns, sorted by name.
 *
 * libext2fs reads them (in the inode and in the attribute block, values in
 * EA inodes too). What the kernel does on the way, done here the same way:
 * - hidden: system.data (inline data), other system.* (richacl), and names
 *   of an index the kernel has no handler for;
 * - POSIX ACLs: turned from ext4's disk form into the xattr form the kernel
 *   returns (version 2, an id of 0xffffffff for the owner, group, mask and
 *   other entries). libext2fs' own conversion writes 0 there and reads past
 *   a short value, so it is not used;
 * - security.capability: a v3 value whose root id is 0 comes back as v2.
 * Cases where the appliance's lxattrlist fails for the whole directory (a
 * user.* attribute on a symlink or device, an ACL on a symlink, a value
 * the kernel refuses) are refused with ERR_DIRECT_UNSUPPORTED, so that
 * the side goes to the appliance and fails or succeeds there. */
#pragma once

#include <ext2fs/ext2fs.h>

#include "common/errors.h"
#include "manifest/manifest.h"

/* Sets e->xattrs and e->n_xattrs (none: NULL and 0). e->kind must be set;
 * inode is the whole on-disk inode (EXT2_INODE_SIZE bytes: the attributes
 * in its extra space are read from there). */
int xattrs_read(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *inode, Entry *e, Error *err);

/* ext4's on-disk ACL to the kernel's getxattr form; -EINVAL when the
 * kernel would refuse it, -ENODATA for an empty one. */
int xattr_acl_from_disk(const uint8_t *value, size_t len, uint8_t **ret, size_t *ret_len);

/* security.capability as the kernel's getxattr returns it in the initial
 * user namespace; -EINVAL (or -EOVERFLOW) when it would fail. */
int xattr_caps_for_getxattr(const uint8_t *value, size_t len, uint8_t **ret, size_t *ret_len);

/* An on-disk inode as the appliance's lstat() shows it. The appliance's
 * kernel (Linux 6.1's ext4 driver) decides fields the disk does not hold
 * plainly; these rules follow it, checked field by field against the
 * appliance's scan in the cross-check test:
 * - size: i_size_high counts only for regular files, or with largedir;
 * - times: the low 32 bits are signed; the extra field adds two epoch bits
 *   above them and the nanoseconds, when the inode's extra size covers it;
 *   nanoseconds as seconds * 10^9 + ns wrapped to 64 bits, as the scanner
 *   computes them from libguestfs' statns;
 * - blocks: 48 bits with huge_file, in filesystem blocks for a HUGE_FILE
 *   inode; a regular file with inline data adds its size in 512-byte
 *   sectors, rounded up (ext4_file_getattr);
 * - blksize: the filesystem's block size; rdev: the old or new device
 *   encoding in i_block, as the kernel decodes it;
 * - dev: the appliance's own device number for the volume (the one field
 *   that describes the appliance rather than the guest: the caller gives
 *   it).
 * Inodes the kernel would refuse to load, and encrypted ones (whose names
 * and content the appliance shows enciphered), are refused. */
#pragma once

#include <ext2fs/ext2fs.h>

#include "common/errors.h"
#include "manifest/manifest.h"

/* How far the inode's extra fields reach, as the kernel reads it: 0 for
 * 128-byte inodes; -1 for a bad i_extra_isize. */
int inode_extra_isize(ext2_filsys fs, const struct ext2_inode_large *inode);

/* Fills e's kind, mode, uid, gid, size, times, nlink, ino, dev, rdev,
 * blocks and blksize. ERR_DIRECT_UNSUPPORTED for an inode the appliance
 * would not show as it is on disk. */
int inode_stat_fill(ext2_filsys fs, ext2_ino_t ino, const struct ext2_inode_large *inode, uint64_t st_dev,
                    Entry *e, Error *err);

/* The inode's size as the kernel reads it. */
uint64_t inode_size(ext2_filsys fs, const struct ext2_inode_large *inode);

/* st_blocks before ext4_file_getattr()'s inline-data adjustment (the
 * kernel's in-memory i_blocks, in 512-byte units). */
uint64_t inode_blocks(ext2_filsys fs, const struct ext2_inode_large *inode);

/* The largest regular file whose every byte the kernel reads: the smaller
 * of ext4's extent and block-map limits (ext4_max_size(),
 * ext4_max_bitmap_size()); reads stop at s_maxbytes, so a larger file
 * would hash differently. */
uint64_t inode_max_file_size(ext2_filsys fs);

/* Does the kernel treat the inode as holding inline data? */
bool inode_has_inline_data(ext2_filsys fs, const struct ext2_inode_large *inode);

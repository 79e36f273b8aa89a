/* libext2fs on an ImageReader: an io_manager of our own that reads the
 * filesystem at [offset, offset + size) of a disk, whatever the disk's
 * format, with a small read cache for the metadata's many one-block reads
 * (over NBD each read is a round trip). Large reads (file content) bypass
 * the cache. Read-only: every write fails with EROFS.
 *
 * The filesystem is hostile data: libext2fs parses it, and a read outside
 * the range fails instead of reaching another partition. */
#pragma once

#include <ext2fs/ext2fs.h>

#include "direct/image-reader.h"

/* Opens the filesystem read-only (ext2fs_open2 with flags added to
 * EXT2_FLAG_64BITS); r must outlive it. A libext2fs error code on failure. */
errcode_t ext_io_open(ImageReader *r, uint64_t offset, uint64_t size, int flags, ext2_filsys *ret);

/* Bytes read from the disk so far through this filesystem's channel. */
uint64_t ext_io_bytes_read(ext2_filsys fs);

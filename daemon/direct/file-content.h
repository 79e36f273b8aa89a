/* A regular file's bytes, as the kernel reads them: inline data, extents
 * (unwritten ones read as zeros) or block maps, holes as zeros, cut at the
 * inode's size. Data is read in large runs straight from the disk (one
 * read per run of contiguous blocks, up to the buffer's size), not block by
 * block as ext2fs_file_read() does. */
#pragma once

#include <ext2fs/ext2fs.h>

#include "common/errors.h"

/* Called with the file's bytes in order; a negative return stops the read
 * and is passed on. */
typedef int (*ContentSink)(void *userdata, const void *data, size_t len);

/* buf is scratch space of buf_size bytes (a multiple of the block size,
 * at least one block). ERR_DIRECT_UNSUPPORTED when the file's map cannot
 * be read. */
int file_content_stream(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *inode, void *buf, size_t buf_size,
                        ContentSink sink, void *userdata, Error *e);

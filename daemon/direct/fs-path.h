/* Paths inside one ext filesystem as a process chrooted into it sees them
 * (libguestfs' inspection runs its checks chrooted into each filesystem,
 * mounted alone): "/" is the filesystem's root, ".." never leaves it, and
 * an absolute symbolic link starts again from that root. */
#pragma once

#include <ext2fs/ext2fs.h>

#include "common/util.h"

/* Resolves a path, following symbolic links on the way and, with follow,
 * the last one too (at most 40, as the kernel). -ENOENT, -ENOTDIR, -ELOOP,
 * -EIO when the filesystem cannot be read. */
int fs_path_resolve(ext2_filsys fs, const char *path, bool follow, ext2_ino_t *ret_ino,
                    struct ext2_inode_large *ret_inode);

/* lstat()/stat() tests as libguestfs' Is module makes them: false when the
 * path does not resolve. */
bool fs_path_is_file(ext2_filsys fs, const char *path, bool follow);
bool fs_path_is_dir(ext2_filsys fs, const char *path);
bool fs_path_is_symlink(ext2_filsys fs, const char *path);

/* readlink(): the target, or NULL. */
char *fs_path_readlink(ext2_filsys fs, const char *path);

/* A regular file's content (following symbolic links) when it is at most
 * max bytes: 0 and the bytes (NUL-terminated) in *ret; -EFBIG when larger;
 * -ENOENT and others when it is not a readable regular file. */
int fs_path_read(ext2_filsys fs, const char *path, size_t max, char **ret, size_t *ret_len);

/* Does the root directory hold an entry whose name equals one of names,
 * ignoring ASCII case? */
bool fs_path_root_has_nocase(ext2_filsys fs, const char *const *names);

/* One tree as find(1) and the scanner's per-directory calls see it in the
 * appliance: a filesystem at "/", and, for an inspected guest, others
 * mounted over directories of it. The direct engine composes the mounts
 * itself: a mount point's entry is the mounted filesystem's root, and the
 * walk goes on inside that filesystem, as the kernel would show it.
 *
 * What the scanner gives each entry, the walk gives it too: the stat
 * fields (inode-stat.h), the extended attributes (xattrs.h; none for the
 * tree's root, which the scanner stats but never lists), the target of a
 * symbolic link, and the SHA-256 of every regular file's content. Entries
 * come out sorted by path_compare(), as they are made. */
#pragma once

#include <ext2fs/ext2fs.h>

#include "common/errors.h"
#include "common/progress.h"
#include "manifest/manifest.h"

typedef struct WalkMount {
        const char *path; /* canonical: "/", "/boot", "/var/log" */
        ext2_filsys fs;
        uint32_t fs_index; /* in Manifest.filesystems */
        uint64_t st_dev;
} WalkMount;

/* Entries as the walk makes them, in path order, at most WALK_BATCH at a
 * time; borrowed for the call (the walk frees them after). A negative
 * return (e set) stops the walk. */
#define WALK_BATCH 1024
typedef int (*WalkEmit)(void *userdata, const Entry *entries, size_t n, Error *e);

/* mounts[0] is at "/"; paths of the others resolve, in the tree composed so
 * far, to a directory (the caller checks with walk_lookup()). Depth first,
 * each directory's children sorted by name, every regular file hashed as
 * it comes: what it holds is one batch, the directories on the way down and
 * the hashes of inodes with several names, never the whole tree. A regular
 * file larger than max_file_size (0: the kernel's limit, see
 * inode_max_file_size()) is refused rather than hashed. */
int walk_tree(const WalkMount *mounts, size_t n_mounts, uint64_t max_file_size, WalkEmit emit, void *userdata,
              const ProgressSink *progress, Error *e);

/* Looks a path up in the composed tree without following symbolic links:
 * its mount and inode. -ENOENT when it does not exist, -ENOTDIR when a
 * component is not a directory, -ELOOP when one is a symbolic link. */
int walk_lookup(const WalkMount *mounts, size_t n_mounts, const char *path, size_t *ret_mount, ext2_ino_t *ret_ino);

/* The target of a symbolic link as the kernel's readlink() returns it. */
int walk_symlink_target(ext2_filsys fs, ext2_ino_t ino, const struct ext2_inode_large *inode, char **ret, Error *e);

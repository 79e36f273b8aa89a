/* Paths and symbolic links in a composed tree (walk.h). */
#include "direct/walk.h"

#include "direct/inode-stat.h"

#define PAGE_SIZE_LINK 4096

static size_t mount_at(const WalkMount *mounts, size_t n, const char *path, size_t len) {
        for (size_t i = n; i-- > 1;)
                if (strlen(mounts[i].path) == len && memcmp(mounts[i].path, path, len) == 0)
                        return i;
        return SIZE_MAX;
}

int walk_lookup(const WalkMount *mounts, size_t n_mounts, const char *path, size_t *ret_mount, ext2_ino_t *ret_ino) {
        size_t mount = 0;
        ext2_ino_t ino = EXT2_ROOT_INO;

        if (path[0] != '/')
                return -EINVAL;
        for (const char *p = path; *p;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                size_t len = strcspn(p, "/");
                struct ext2_inode_large inode;
                if (ext2fs_read_inode_full(mounts[mount].fs, ino, EXT2_INODE(&inode), sizeof inode))
                        return -EIO;
                if (LINUX_S_ISLNK(inode.i_mode))
                        return -ELOOP;
                if (!LINUX_S_ISDIR(inode.i_mode))
                        return -ENOTDIR;
                if (len == 0 || len > 255 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return -EINVAL;
                ext2_ino_t next;
                if (ext2fs_lookup(mounts[mount].fs, ino, p, (int) len, NULL, &next))
                        return -ENOENT;
                ino = next;
                size_t m = mount_at(mounts, n_mounts, path, (size_t) (p + len - path));
                if (m != SIZE_MAX) {
                        mount = m;
                        ino = EXT2_ROOT_INO;
                }
                p += len;
        }
        *ret_mount = mount;
        *ret_ino = ino;
        return 0;
}

/* ext4_inode_is_fast_symlink() in Linux 6.1: the target is in i_block
 * when no data block is counted besides an attribute block. */
static bool is_fast_symlink(ext2_filsys fs, const struct ext2_inode_large *inode) {
        if (inode_has_inline_data(fs, inode))
                return false;
        uint64_t ea_blocks = ext2fs_file_acl_block(fs, (const struct ext2_inode *) inode) ? EXT2_CLUSTER_SIZE(fs->super) >> 9 : 0;
        return inode_blocks(fs, inode) == ea_blocks;
}

static int refuse(Error *e, ext2_ino_t ino, const char *why) {
        return error_set(e, ERR_DIRECT_UNSUPPORTED, "inode %u: %s", ino, why);
}

int walk_symlink_target(ext2_filsys fs, ext2_ino_t ino, const struct ext2_inode_large *inode, char **ret, Error *e) {
        uint64_t size = inode_size(fs, inode);
        _cleanup_free_ char *buf = NULL;
        size_t limit;

        if (size == 0)
                return refuse(e, ino, "an empty symbolic link");
        if (inode->i_flags & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL))
                return refuse(e, ino, "an immutable symbolic link");
        if (is_fast_symlink(fs, inode)) {
                buf = malloc(sizeof inode->i_block + 1);
                if (!buf)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                memcpy(buf, inode->i_block, sizeof inode->i_block);
                limit = sizeof inode->i_block - 1;
        } else if (inode_has_inline_data(fs, inode)) {
                size_t len = 0;
                if (ext2fs_inline_data_size(fs, ino, &len) || len > PAGE_SIZE_LINK)
                        return refuse(e, ino, "unreadable inline symbolic link");
                buf = calloc(1, PAGE_SIZE_LINK + 1);
                if (!buf)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                if (ext2fs_inline_data_get(fs, ino, EXT2_INODE((struct ext2_inode_large *) inode), buf, &len))
                        return refuse(e, ino, "unreadable inline symbolic link");
                limit = PAGE_SIZE_LINK - 1;
        } else {
                blk64_t pblk = 0;
                if (ext2fs_bmap2(fs, ino, EXT2_INODE((struct ext2_inode_large *) inode), NULL, 0, 0, NULL, &pblk) ||
                    pblk == 0)
                        return refuse(e, ino, "unreadable symbolic link");
                buf = malloc(fs->blocksize + 1);
                if (!buf)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                if (io_channel_read_blk64(fs->io, pblk, 1, buf))
                        return refuse(e, ino, "unreadable symbolic link");
                limit = fs->blocksize - 1;
        }
        size_t n = size < limit ? (size_t) size : limit;
        buf[n] = 0;
        char *target = strdup(buf);
        if (!target)
                return error_set(e, ERR_INTERNAL, "out of memory");
        *ret = target;
        return 0;
}

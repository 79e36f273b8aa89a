#include "direct/fs-path.h"

#include <strings.h>

#include "direct/file-content.h"
#include "direct/inode-stat.h"
#include "direct/walk.h"

#define MAX_SYMLINKS 40

static int read_inode(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *inode) {
        memset(inode, 0, sizeof(*inode));
        return ext2fs_read_inode_full(fs, ino, EXT2_INODE(inode), sizeof(*inode)) ? -EIO : 0;
}

int fs_path_resolve(ext2_filsys fs, const char *path, bool follow, ext2_ino_t *ret_ino,
                    struct ext2_inode_large *ret_inode) {
        _cleanup_free_ char *rest = strdup(path);
        ext2_ino_t cur = EXT2_ROOT_INO;
        struct ext2_inode_large inode;
        unsigned links = 0;
        int r;

        if (!rest)
                return -ENOMEM;
        if ((r = read_inode(fs, cur, &inode)) < 0)
                return r;
        for (size_t pos = 0;;) {
                while (rest[pos] == '/')
                        pos++;
                if (!rest[pos])
                        break;
                size_t len = strcspn(rest + pos, "/");
                const char *name = rest + pos;
                pos += len;
                if (len == 1 && name[0] == '.')
                        continue;
                if (!LINUX_S_ISDIR(inode.i_mode))
                        return -ENOTDIR;
                if (len > EXT2_NAME_LEN)
                        return -ENAMETOOLONG;
                ext2_ino_t next;
                if (ext2fs_lookup(fs, cur, name, (int) len, NULL, &next))
                        return -ENOENT;
                struct ext2_inode_large next_inode;
                if ((r = read_inode(fs, next, &next_inode)) < 0)
                        return r;
                bool last = rest[pos + strspn(rest + pos, "/")] == 0;
                if (LINUX_S_ISLNK(next_inode.i_mode) && (!last || follow)) {
                        Error e = {};
                        _cleanup_free_ char *target = NULL;
                        if (++links > MAX_SYMLINKS)
                                return -ELOOP;
                        if (walk_symlink_target(fs, next, &next_inode, &target, &e) < 0)
                                return -EIO;
                        char *n = NULL;
                        if (asprintf(&n, "%s/%s", target, rest + pos) < 0)
                                return -ENOMEM;
                        free(rest);
                        rest = n;
                        pos = 0;
                        if (target[0] == '/') {
                                cur = EXT2_ROOT_INO;
                                if ((r = read_inode(fs, cur, &inode)) < 0)
                                        return r;
                        }
                        continue;
                }
                cur = next;
                inode = next_inode;
        }
        *ret_ino = cur;
        if (ret_inode)
                *ret_inode = inode;
        return 0;
}

static bool has_mode(ext2_filsys fs, const char *path, bool follow, uint16_t fmt) {
        ext2_ino_t ino;
        struct ext2_inode_large inode;
        return fs_path_resolve(fs, path, follow, &ino, &inode) == 0 && (inode.i_mode & LINUX_S_IFMT) == fmt;
}

bool fs_path_is_file(ext2_filsys fs, const char *path, bool follow) {
        return has_mode(fs, path, follow, LINUX_S_IFREG);
}

bool fs_path_is_dir(ext2_filsys fs, const char *path) {
        return has_mode(fs, path, false, LINUX_S_IFDIR);
}

bool fs_path_is_symlink(ext2_filsys fs, const char *path) {
        return has_mode(fs, path, false, LINUX_S_IFLNK);
}

char *fs_path_readlink(ext2_filsys fs, const char *path) {
        ext2_ino_t ino;
        struct ext2_inode_large inode;
        Error e = {};
        char *target = NULL;
        if (fs_path_resolve(fs, path, false, &ino, &inode) < 0 || !LINUX_S_ISLNK(inode.i_mode) ||
            walk_symlink_target(fs, ino, &inode, &target, &e) < 0)
                return NULL;
        return target;
}

typedef struct Buffer {
        char *data;
        size_t len, max;
} Buffer;

static int buffer_sink(void *userdata, const void *data, size_t len) {
        Buffer *b = userdata;
        if (len > b->max - b->len)
                return -EFBIG;
        memcpy(b->data + b->len, data, len);
        b->len += len;
        return 0;
}

int fs_path_read(ext2_filsys fs, const char *path, size_t max, char **ret, size_t *ret_len) {
        ext2_ino_t ino;
        /* Room for the attributes in the inode's extra space: file-content
         * reads inline data through it. */
        _cleanup_free_ struct ext2_inode_large *inode = calloc(1, EXT2_INODE_SIZE(fs->super) + sizeof(*inode));
        if (!inode)
                return -ENOMEM;
        int r = fs_path_resolve(fs, path, true, &ino, inode);
        if (r < 0)
                return r;
        if (!LINUX_S_ISREG(inode->i_mode))
                return -ENOENT;
        if (ext2fs_read_inode_full(fs, ino, EXT2_INODE(inode), EXT2_INODE_SIZE(fs->super)))
                return -EIO;
        uint64_t size = inode_size(fs, inode);
        if (size > max)
                return -EFBIG;
        size_t scratch_size = (size_t) fs->blocksize * 16;
        _cleanup_free_ void *scratch = malloc(scratch_size);
        Buffer b = {.data = malloc((size_t) size + 1), .max = (size_t) size};
        if (!scratch || !b.data) {
                free(b.data);
                return -ENOMEM;
        }
        Error e = {};
        r = file_content_stream(fs, ino, inode, scratch, scratch_size, buffer_sink, &b, &e);
        if (r < 0) {
                free(b.data);
                return e.code ? -EIO : r;
        }
        b.data[b.len] = 0;
        *ret = b.data;
        *ret_len = b.len;
        return 0;
}

typedef struct NoCase {
        const char *const *names;
        bool found;
} NoCase;

static int on_root_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset, int blocksize, char *buf,
                         void *data) {
        NoCase *c = data;
        size_t len = ext2fs_dirent_name_len(de);
        for (const char *const *n = c->names; *n; n++)
                if (strlen(*n) == len && strncasecmp(*n, de->name, len) == 0) {
                        c->found = true;
                        return DIRENT_ABORT;
                }
        return 0;
}

bool fs_path_root_has_nocase(ext2_filsys fs, const char *const *names) {
        NoCase c = {.names = names};
        /* Unreadable: say yes, so that the caller refuses what it cannot
         * rule out. */
        if (ext2fs_dir_iterate2(fs, EXT2_ROOT_INO, 0, NULL, on_root_entry, &c))
                return true;
        return c.found;
}

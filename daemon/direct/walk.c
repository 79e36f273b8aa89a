#include "direct/walk.h"

#include <openssl/evp.h>

#include "common/input-limits.h"
#include "direct/file-content.h"
#include "direct/inode-stat.h"
#include "direct/xattrs.h"

#define HASH_BUFFER (1U << 20)

typedef struct Child {
        char *name;
        ext2_ino_t ino;
        int ftype; /* the directory entry's file type, 0 if unknown */
} Child;

typedef struct Children {
        Child *v;
        size_t n, cap;
        int error;
} Children;

typedef struct Pending {
        char *path;
        size_t mount;
        ext2_ino_t ino;
} Pending;

typedef struct Walker {
        const WalkMount *mounts;
        size_t n_mounts;
        uint64_t max_file_size; /* 0: the kernel's */
        Tree *tree;
        const ProgressSink *progress;
        ext2fs_inode_bitmap *visited; /* directories seen, per mount */
        Pending *stack;
        size_t n_stack, cap_stack;
        struct ext2_inode_large *inode; /* the whole on-disk inode, extra space included */
        size_t inode_size;
} Walker;

static void children_done(Children *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i].name);
        free(c->v);
        *c = (Children) {};
}

static int on_dirent(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset, int blocksize, char *buf,
                     void *data) {
        Children *c = data;
        size_t len = ext2fs_dirent_name_len(de);
        if ((len == 1 && de->name[0] == '.') || (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
                return 0;
        if (c->n == c->cap) {
                size_t ncap = c->cap ? c->cap * 2 : 32;
                Child *n = realloc(c->v, ncap * sizeof(Child));
                if (!n) {
                        c->error = -ENOMEM;
                        return DIRENT_ABORT;
                }
                c->v = n;
                c->cap = ncap;
        }
        Child *ch = &c->v[c->n];
        ch->name = strndup(de->name, len);
        if (!ch->name) {
                c->error = -ENOMEM;
                return DIRENT_ABORT;
        }
        /* find(1) would print a name with '/' as a path of several names;
         * a NUL would cut it short. Neither can be shown as it is. */
        if (strlen(ch->name) != len || memchr(ch->name, '/', len)) {
                free(ch->name);
                c->error = -EBADMSG;
                return DIRENT_ABORT;
        }
        ch->ino = de->inode;
        ch->ftype = ext2fs_dirent_file_type(de);
        c->n++;
        return 0;
}

static int read_inode(const Walker *w, ext2_filsys fs, ext2_ino_t ino, Error *e) {
        size_t size = EXT2_INODE_SIZE(fs->super) > sizeof(*w->inode) ? EXT2_INODE_SIZE(fs->super) : sizeof(*w->inode);
        memset(w->inode, 0, w->inode_size);
        errcode_t err = ext2fs_read_inode_full(fs, ino, EXT2_INODE(w->inode), (int) size);
        if (err)
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "inode %u: %s", ino, error_message(err));
        return 0;
}

/* The kernel's dirent file types (EXT2_FT_*) by inode mode. */
static int ftype_of(uint16_t mode) {
        switch (mode & LINUX_S_IFMT) {
        case LINUX_S_IFREG:
                return EXT2_FT_REG_FILE;
        case LINUX_S_IFDIR:
                return EXT2_FT_DIR;
        case LINUX_S_IFCHR:
                return EXT2_FT_CHRDEV;
        case LINUX_S_IFBLK:
                return EXT2_FT_BLKDEV;
        case LINUX_S_IFIFO:
                return EXT2_FT_FIFO;
        case LINUX_S_IFSOCK:
                return EXT2_FT_SOCK;
        case LINUX_S_IFLNK:
                return EXT2_FT_SYMLINK;
        default:
                return EXT2_FT_UNKNOWN;
        }
}

static size_t mount_at(const Walker *w, const char *path) {
        for (size_t i = 1; i < w->n_mounts; i++)
                if (strcmp(w->mounts[i].path, path) == 0)
                        return i;
        return SIZE_MAX;
}

static int push_dir(Walker *w, char *path, size_t mount, ext2_ino_t ino, Error *e) {
        const WalkMount *m = &w->mounts[mount];
        if (ext2fs_fast_test_inode_bitmap2(w->visited[mount], ino)) {
                free(path);
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: a directory with two names (a loop)", m->path);
        }
        ext2fs_fast_mark_inode_bitmap2(w->visited[mount], ino);
        if (w->n_stack == w->cap_stack) {
                size_t ncap = w->cap_stack ? w->cap_stack * 2 : 64;
                Pending *n = realloc(w->stack, ncap * sizeof(Pending));
                if (!n) {
                        free(path);
                        return error_set(e, ERR_INTERNAL, "out of memory");
                }
                w->stack = n;
                w->cap_stack = ncap;
        }
        w->stack[w->n_stack++] = (Pending) {.path = path, .mount = mount, .ino = ino};
        return 0;
}

/* Fills an entry of the tree from its inode; a directory is queued. */
static int add_entry(Walker *w, char *path, size_t mount, ext2_ino_t ino, int ftype, bool root, Error *e) {
        const WalkMount *m = &w->mounts[mount];
        struct ext2_inode_large *inode = w->inode;
        _cleanup_free_ char *owned = path;

        if (w->tree->n_entries >= MAX_MANIFEST_ENTRIES)
                return error_set(e, ERR_SCAN_FAILED, "more than %d entries in one filesystem tree: not compared",
                                 MAX_MANIFEST_ENTRIES);
        if (read_inode(w, m->fs, ino, e) < 0)
                return -1;
        if (ftype != EXT2_FT_UNKNOWN && ftype != ftype_of(inode->i_mode))
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: its directory entry and inode disagree on its type",
                                 path);
        Entry *en = tree_add_entry(w->tree);
        if (!en)
                return error_set(e, ERR_INTERNAL, "out of memory");
        en->path = TAKE_PTR(owned);
        en->fs = m->fs_index;
        if (inode_stat_fill(m->fs, ino, inode, m->st_dev, en, e) < 0)
                return -1;
        /* The scanner lists attributes per directory, for its children:
         * never the tree's root. */
        if (!root && xattrs_read(m->fs, ino, inode, en, e) < 0)
                return -1;
        if (en->kind == ENTRY_KIND_SYMLINK && walk_symlink_target(m->fs, ino, inode, &en->target, e) < 0)
                return -1;
        if (en->kind != ENTRY_KIND_DIRECTORY)
                return 0;
        char *dir = strdup(en->path);
        if (!dir)
                return error_set(e, ERR_INTERNAL, "out of memory");
        return push_dir(w, dir, mount, ino, e);
}

static char *child_path(const char *dir, const char *name) {
        char *p;
        return asprintf(&p, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name) < 0 ? NULL : p;
}

static int walk_dir(Walker *w, const Pending *d, Error *e) {
        const WalkMount *m = &w->mounts[d->mount];
        Children c = {};
        errcode_t err = ext2fs_dir_iterate2(m->fs, d->ino, 0, NULL, on_dirent, &c);
        int r = 0;

        if (c.error == -ENOMEM)
                r = error_set(e, ERR_INTERNAL, "out of memory");
        else if (c.error)
                r = error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: a name holding '/' or NUL", d->path);
        else if (err)
                r = error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: cannot read the directory: %s", d->path,
                              error_message(err));
        for (size_t i = 0; i < c.n && r >= 0; i++) {
                char *path = child_path(d->path, c.v[i].name);
                if (!path) {
                        r = error_set(e, ERR_INTERNAL, "out of memory");
                        break;
                }
                size_t mount = mount_at(w, path);
                if (mount != SIZE_MAX)
                        r = add_entry(w, path, mount, EXT2_ROOT_INO, EXT2_FT_UNKNOWN, false, e);
                else
                        r = add_entry(w, path, d->mount, c.v[i].ino, c.v[i].ftype, false, e);
        }
        progress_files(w->progress, c.n, 0);
        children_done(&c);
        return r;
}

static int compare_entry_path(const void *x, const void *y) {
        return path_compare(((const Entry *) x)->path, ((const Entry *) y)->path);
}

static int list_tree(Walker *w, Error *e) {
        char *root = strdup("/");
        if (!root)
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (add_entry(w, root, 0, EXT2_ROOT_INO, EXT2_FT_UNKNOWN, true, e) < 0)
                return -1;
        progress_files(w->progress, 1, 0);
        while (w->n_stack > 0) {
                if (progress_cancelled(w->progress))
                        return error_set(e, ERR_CANCELLED, "cancelled");
                Pending d = w->stack[--w->n_stack];
                int r = walk_dir(w, &d, e);
                free(d.path);
                if (r < 0)
                        return r;
        }
        Tree *t = w->tree;
        qsort(t->entries, t->n_entries, sizeof(Entry), compare_entry_path);
        for (size_t i = 1; i < t->n_entries; i++)
                if (path_compare(t->entries[i - 1].path, t->entries[i].path) == 0)
                        return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: two entries of one name",
                                         t->entries[i].path);
        return 0;
}

/* ------------------------------------------------------------ hashing */

typedef struct Hasher {
        EVP_MD_CTX *md;
        const ProgressSink *progress;
        uint64_t unreported;
} Hasher;

static int hash_sink(void *userdata, const void *data, size_t len) {
        Hasher *h = userdata;
        if (EVP_DigestUpdate(h->md, data, len) != 1)
                return -ENOMEM;
        h->unreported += len;
        if (h->unreported >= (16U << 20)) {
                progress_bytes(h->progress, h->unreported, 0);
                h->unreported = 0;
        }
        return 0;
}

static const WalkMount *mount_of_fs(const Walker *w, uint32_t fs_index) {
        for (size_t i = 0; i < w->n_mounts; i++)
                if (w->mounts[i].fs_index == fs_index)
                        return &w->mounts[i];
        return NULL;
}

static int compare_by_inode(const void *x, const void *y) {
        const Entry *a = *(Entry *const *) x, *b = *(Entry *const *) y;
        if (a->fs != b->fs)
                return a->fs < b->fs ? -1 : 1;
        return (a->ino > b->ino) - (a->ino < b->ino);
}

static int hash_one(Walker *w, Hasher *h, Entry *en, void *buf, Error *e) {
        const WalkMount *m = mount_of_fs(w, en->fs);
        unsigned n = 0;

        if (!m)
                return error_set(e, ERR_INTERNAL, "%s: no mount for its filesystem", en->path);
        uint64_t max = w->max_file_size ? w->max_file_size : inode_max_file_size(m->fs);
        if (en->size > max)
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: %" PRIu64 " bytes, more than the kernel reads of a file",
                                 en->path, en->size);
        if (read_inode(w, m->fs, (ext2_ino_t) en->ino, e) < 0)
                return -1;
        if (EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
                return error_set(e, ERR_INTERNAL, "cannot start SHA-256");
        int r = file_content_stream(m->fs, (ext2_ino_t) en->ino, w->inode, buf, HASH_BUFFER, hash_sink, h, e);
        if (r < 0)
                return e->code ? r : error_set(e, ERR_INTERNAL, "%s: %s", en->path, strerror(-r));
        if (EVP_DigestFinal_ex(h->md, en->sha256, &n) != 1 || n != sizeof en->sha256)
                return error_set(e, ERR_INTERNAL, "cannot finish SHA-256");
        en->has_sha256 = true;
        return 0;
}

/* Every regular file, in inode order (near the disk's order), each inode
 * once: hard links share the hash. */
static int hash_tree(Walker *w, Error *e) {
        Tree *t = w->tree;
        uint64_t total = 0;
        size_t n = 0;
        for (size_t i = 0; i < t->n_entries; i++)
                if (t->entries[i].kind == ENTRY_KIND_FILE) {
                        total += t->entries[i].size;
                        n++;
                }
        progress_bytes(w->progress, 0, total);

        _cleanup_free_ Entry **files = calloc(n + 1, sizeof(Entry *));
        _cleanup_free_ void *buf = malloc(HASH_BUFFER);
        Hasher h = {.md = EVP_MD_CTX_new(), .progress = w->progress};
        int r = 0;
        if (!files || !buf || !h.md) {
                EVP_MD_CTX_free(h.md);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        for (size_t i = 0, k = 0; i < t->n_entries; i++)
                if (t->entries[i].kind == ENTRY_KIND_FILE)
                        files[k++] = &t->entries[i];
        qsort(files, n, sizeof(Entry *), compare_by_inode);
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (progress_cancelled(w->progress)) {
                        r = error_set(e, ERR_CANCELLED, "cancelled");
                        break;
                }
                if (i > 0 && compare_by_inode(&files[i - 1], &files[i]) == 0) {
                        memcpy(files[i]->sha256, files[i - 1]->sha256, sizeof files[i]->sha256);
                        files[i]->has_sha256 = files[i - 1]->has_sha256;
                        continue;
                }
                r = hash_one(w, &h, files[i], buf, e);
        }
        progress_bytes(w->progress, h.unreported, 0);
        EVP_MD_CTX_free(h.md);
        return r;
}

int walk_tree(const WalkMount *mounts, size_t n_mounts, uint64_t max_file_size, Tree *t,
              const ProgressSink *progress, Error *e) {
        Walker w = {.mounts = mounts, .n_mounts = n_mounts, .max_file_size = max_file_size, .tree = t,
                    .progress = progress};
        int r = 0;

        w.inode_size = sizeof(struct ext2_inode_large);
        for (size_t i = 0; i < n_mounts; i++)
                if ((size_t) EXT2_INODE_SIZE(mounts[i].fs->super) > w.inode_size)
                        w.inode_size = EXT2_INODE_SIZE(mounts[i].fs->super);
        w.inode = malloc(w.inode_size);
        w.visited = calloc(n_mounts, sizeof(ext2fs_inode_bitmap));
        if (!w.visited || !w.inode) {
                free(w.inode);
                free(w.visited);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        for (size_t i = 0; i < n_mounts && r >= 0; i++) {
                errcode_t err = ext2fs_allocate_inode_bitmap(mounts[i].fs, "visited", &w.visited[i]);
                if (err)
                        r = error_set(e, ERR_INTERNAL, "cannot allocate a bitmap: %s", error_message(err));
        }
        if (r >= 0) {
                progress_phase(progress, PHASE_SCAN);
                r = list_tree(&w, e);
        }
        if (r >= 0) {
                progress_phase(progress, PHASE_HASH);
                r = hash_tree(&w, e);
        }
        for (size_t i = 0; i < n_mounts; i++)
                if (w.visited[i])
                        ext2fs_free_inode_bitmap(w.visited[i]);
        free(w.visited);
        free(w.inode);
        for (size_t i = 0; i < w.n_stack; i++)
                free(w.stack[i].path);
        free(w.stack);
        return r;
}

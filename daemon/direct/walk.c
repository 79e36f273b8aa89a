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

/* A directory being walked: its children sorted by name, the next one. */
typedef struct Frame {
        char *path;
        size_t mount;
        Children c;
        size_t next;
} Frame;

/* The content hash of an inode with several names, by filesystem and
 * inode: its other names take it without reading it again. */
typedef struct Linked {
        uint64_t key; /* fs_index << 32 | ino; 0: empty slot */
        uint8_t sha256[32];
} Linked;

typedef struct Walker {
        const WalkMount *mounts;
        size_t n_mounts;
        uint64_t max_file_size; /* 0: the kernel's */
        WalkEmit emit;
        void *userdata;
        const ProgressSink *progress;
        ext2fs_inode_bitmap *visited; /* directories seen, per mount */
        Frame *stack;
        size_t n_stack, cap_stack;
        Entry batch[WALK_BATCH];
        size_t n_batch;
        uint64_t n_entries;
        Linked *linked;
        size_t n_linked, cap_linked; /* cap: a power of two */
        EVP_MD_CTX *md;
        void *buf;                      /* HASH_BUFFER bytes */
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

static Linked *linked_slot(Walker *w, uint64_t key) {
        size_t mask = w->cap_linked - 1;
        for (size_t i = (size_t) (key * 0x9E3779B97F4A7C15ULL) & mask;; i = (i + 1) & mask)
                if (w->linked[i].key == key || w->linked[i].key == 0)
                        return &w->linked[i];
}

static int linked_grow(Walker *w) {
        if (w->n_linked + 1 <= w->cap_linked / 2)
                return 0;
        Linked *old = w->linked;
        size_t old_cap = w->cap_linked;
        w->cap_linked = old_cap ? old_cap * 2 : 256;
        w->linked = calloc(w->cap_linked, sizeof(Linked));
        if (!w->linked) {
                w->linked = old;
                w->cap_linked = old_cap;
                return -ENOMEM;
        }
        for (size_t i = 0; i < old_cap; i++)
                if (old[i].key)
                        *linked_slot(w, old[i].key) = old[i];
        free(old);
        return 0;
}

/* The SHA-256 of a regular file's content (w->inode holds its inode); an
 * inode with several names is read once. */
static int hash_file(Walker *w, const WalkMount *m, ext2_ino_t ino, Entry *en, Error *e) {
        uint64_t key = (uint64_t) m->fs_index << 32 | ino;
        Linked *l = NULL;
        if (en->nlink > 1) {
                if (linked_grow(w) < 0)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                l = linked_slot(w, key);
                if (l->key) {
                        memcpy(en->sha256, l->sha256, sizeof en->sha256);
                        en->has_sha256 = true;
                        return 0;
                }
        }
        uint64_t max = w->max_file_size ? w->max_file_size : inode_max_file_size(m->fs);
        if (en->size > max)
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: %" PRIu64 " bytes, more than the kernel reads of a file",
                                 en->path, en->size);
        Hasher h = {.md = w->md, .progress = w->progress};
        unsigned n = 0;
        if (EVP_DigestInit_ex(h.md, EVP_sha256(), NULL) != 1)
                return error_set(e, ERR_INTERNAL, "cannot start SHA-256");
        int r = file_content_stream(m->fs, ino, w->inode, w->buf, HASH_BUFFER, hash_sink, &h, e);
        progress_bytes(w->progress, h.unreported, 0);
        if (r < 0)
                return e->code ? r : error_set(e, ERR_INTERNAL, "%s: %s", en->path, strerror(-r));
        if (EVP_DigestFinal_ex(h.md, en->sha256, &n) != 1 || n != sizeof en->sha256)
                return error_set(e, ERR_INTERNAL, "cannot finish SHA-256");
        en->has_sha256 = true;
        if (l) {
                l->key = key;
                memcpy(l->sha256, en->sha256, sizeof l->sha256);
                w->n_linked++;
        }
        return 0;
}

/* ------------------------------------------------------------ walking */

/* The batch so far to the caller, then freed. */
static int flush(Walker *w, Error *e) {
        int r = w->n_batch ? w->emit(w->userdata, w->batch, w->n_batch, e) : 0;
        for (size_t i = 0; i < w->n_batch; i++)
                entry_done(&w->batch[i]);
        w->n_batch = 0;
        return r;
}

static int by_name(const void *x, const void *y) {
        return strcmp(((const Child *) x)->name, ((const Child *) y)->name);
}

/* A directory's children, sorted: its subtree comes out in path order. */
static int enter_dir(Walker *w, const char *path, size_t mount, ext2_ino_t ino, Error *e) {
        const WalkMount *m = &w->mounts[mount];
        if (ext2fs_fast_test_inode_bitmap2(w->visited[mount], ino))
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: a directory with two names (a loop)", m->path);
        ext2fs_fast_mark_inode_bitmap2(w->visited[mount], ino);
        if (w->n_stack == w->cap_stack) {
                size_t ncap = w->cap_stack ? w->cap_stack * 2 : 64;
                Frame *n = realloc(w->stack, ncap * sizeof(Frame));
                if (!n)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                w->stack = n;
                w->cap_stack = ncap;
        }
        Frame *f = &w->stack[w->n_stack];
        *f = (Frame) {.mount = mount, .path = strdup(path)};
        if (!f->path)
                return error_set(e, ERR_INTERNAL, "out of memory");
        w->n_stack++;
        errcode_t err = ext2fs_dir_iterate2(m->fs, ino, 0, NULL, on_dirent, &f->c);
        if (f->c.error == -ENOMEM)
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (f->c.error)
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: a name holding '/' or NUL", path);
        if (err)
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: cannot read the directory: %s", path,
                                 error_message(err));
        if (f->c.n > 1)
                qsort(f->c.v, f->c.n, sizeof(Child), by_name);
        for (size_t i = 1; i < f->c.n; i++)
                if (strcmp(f->c.v[i - 1].name, f->c.v[i].name) == 0)
                        return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s/%s: two entries of one name",
                                         strcmp(path, "/") == 0 ? "" : path, f->c.v[i].name);
        progress_files(w->progress, f->c.n, 0);
        return 0;
}

static void leave_dir(Walker *w) {
        Frame *f = &w->stack[--w->n_stack];
        free(f->path);
        children_done(&f->c);
}

/* One entry from its inode, into the batch (hashed when a regular file);
 * a directory is entered next. */
static int add_entry(Walker *w, char *path, size_t mount, ext2_ino_t ino, int ftype, bool root, Error *e) {
        const WalkMount *m = &w->mounts[mount];
        struct ext2_inode_large *inode = w->inode;
        _cleanup_free_ char *owned = path;

        if (w->n_entries >= MAX_MANIFEST_ENTRIES)
                return error_set(e, ERR_SCAN_FAILED, "more than %d entries in one filesystem tree: not compared",
                                 MAX_MANIFEST_ENTRIES);
        if (read_inode(w, m->fs, ino, e) < 0)
                return -1;
        if (ftype != EXT2_FT_UNKNOWN && ftype != ftype_of(inode->i_mode))
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: its directory entry and inode disagree on its type",
                                 path);
        if (w->n_batch == WALK_BATCH && flush(w, e) < 0)
                return -1;
        Entry *en = &w->batch[w->n_batch++];
        *en = (Entry) {.path = TAKE_PTR(owned), .fs = m->fs_index};
        w->n_entries++;
        if (inode_stat_fill(m->fs, ino, inode, m->st_dev, en, e) < 0)
                return -1;
        /* The scanner lists attributes per directory, for its children:
         * never the tree's root. */
        if (!root && xattrs_read(m->fs, ino, inode, en, e) < 0)
                return -1;
        if (en->kind == ENTRY_KIND_SYMLINK && walk_symlink_target(m->fs, ino, inode, &en->target, e) < 0)
                return -1;
        if (en->kind == ENTRY_KIND_FILE && hash_file(w, m, ino, en, e) < 0)
                return -1;
        if (en->kind != ENTRY_KIND_DIRECTORY)
                return 0;
        return enter_dir(w, en->path, mount, ino, e);
}

static char *child_path(const char *dir, const char *name) {
        char *p;
        return asprintf(&p, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name) < 0 ? NULL : p;
}

/* Depth first, each directory's children by name: as '/' sorts before
 * every other byte in path_compare(), that is path order. */
static int walk(Walker *w, Error *e) {
        char *root = strdup("/");
        if (!root)
                return error_set(e, ERR_INTERNAL, "out of memory");
        progress_files(w->progress, 1, 0);
        if (add_entry(w, root, 0, EXT2_ROOT_INO, EXT2_FT_UNKNOWN, true, e) < 0)
                return -1;
        while (w->n_stack > 0) {
                if (progress_cancelled(w->progress))
                        return error_set(e, ERR_CANCELLED, "cancelled");
                Frame *f = &w->stack[w->n_stack - 1];
                if (f->next == f->c.n) {
                        leave_dir(w);
                        continue;
                }
                const Child *c = &f->c.v[f->next++];
                char *path = child_path(f->path, c->name);
                if (!path)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                size_t mount = mount_at(w, path);
                int r = mount != SIZE_MAX ? add_entry(w, path, mount, EXT2_ROOT_INO, EXT2_FT_UNKNOWN, false, e)
                                          : add_entry(w, path, f->mount, c->ino, c->ftype, false, e);
                if (r < 0)
                        return r;
        }
        return flush(w, e);
}

int walk_tree(const WalkMount *mounts, size_t n_mounts, uint64_t max_file_size, WalkEmit emit, void *userdata,
              const ProgressSink *progress, Error *e) {
        Walker *w = calloc(1, sizeof(Walker));
        if (!w)
                return error_set(e, ERR_INTERNAL, "out of memory");
        *w = (Walker) {.mounts = mounts, .n_mounts = n_mounts, .max_file_size = max_file_size, .emit = emit,
                       .userdata = userdata, .progress = progress};
        int r = 0;

        w->inode_size = sizeof(struct ext2_inode_large);
        uint64_t files = 0;
        for (size_t i = 0; i < n_mounts; i++) {
                if ((size_t) EXT2_INODE_SIZE(mounts[i].fs->super) > w->inode_size)
                        w->inode_size = EXT2_INODE_SIZE(mounts[i].fs->super);
                /* Every inode in use is about one entry: the total to
                 * show progress against. */
                const struct ext2_super_block *sb = mounts[i].fs->super;
                files += sb->s_inodes_count - sb->s_free_inodes_count;
        }
        w->inode = malloc(w->inode_size);
        w->visited = calloc(n_mounts, sizeof(ext2fs_inode_bitmap));
        w->buf = malloc(HASH_BUFFER);
        w->md = EVP_MD_CTX_new();
        if (!w->visited || !w->inode || !w->buf || !w->md)
                r = error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < n_mounts && r >= 0; i++) {
                errcode_t err = ext2fs_allocate_inode_bitmap(mounts[i].fs, "visited", &w->visited[i]);
                if (err)
                        r = error_set(e, ERR_INTERNAL, "cannot allocate a bitmap: %s", error_message(err));
        }
        if (r >= 0) {
                progress_phase(progress, PHASE_SCAN);
                progress_files(progress, 0, files);
                r = walk(w, e);
        }
        for (size_t i = 0; w->visited && i < n_mounts; i++)
                if (w->visited[i])
                        ext2fs_free_inode_bitmap(w->visited[i]);
        for (size_t i = 0; i < w->n_batch; i++)
                entry_done(&w->batch[i]);
        while (w->n_stack > 0)
                leave_dir(w);
        free(w->stack);
        free(w->visited);
        free(w->inode);
        free(w->buf);
        free(w->linked);
        EVP_MD_CTX_free(w->md);
        free(w);
        return r;
}

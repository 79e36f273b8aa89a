/* What the store's unit tests share: a temporary directory, manifests
 * built in memory, and ways to save, load and compare them. */
#pragma once

#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "common/test-util.h"
#include "manifest/manifest.h"
#include "store/store.h"

static char tmpdir[] = "/tmp/test-store-XXXXXX";


static inline char *tmp_path(const char *name) {
        return must(path_join(tmpdir, name));
}

static inline void key_make(uint8_t key[FINGERPRINT_SIZE], unsigned n) {
        for (size_t i = 0; i < FINGERPRINT_SIZE; i++)
                key[i] = (uint8_t) (n * 31 + i);
        memcpy(key, &n, sizeof n);
}

static inline double now_ms(void) {
        return (double) now_usec_monotonic() / 1000.0;
}

static inline void xattr_add(Entry *e, const char *name, const void *value, size_t len) {
        e->xattrs = must(reallocarray(e->xattrs, e->n_xattrs + 1, sizeof(Xattr)));
        e->xattrs[e->n_xattrs++] = (Xattr) {
                .name = must(strdup(name)),
                .value = must(malloc(len ?: 1)),
                .len = len,
        };
        memcpy(e->xattrs[e->n_xattrs - 1].value, value, len);
}

static inline Entry *entry_add(Tree *t, const char *path, EntryKind kind, uint32_t fs) {
        Entry *e = must(tree_add_entry(t));

        e->path = must(strdup(path));
        e->kind = kind;
        e->fs = fs;
        e->mode = 0644;
        e->uid = 1000;
        e->gid = 100;
        e->size = strlen(path) * 10;
        e->atime_ns = 1700000000123456789;
        e->mtime_ns = 1700000001000000001;
        e->ctime_ns = -5;
        e->nlink = 1;
        e->ino = 12345;
        e->dev = 2049;
        e->blocks = 8;
        e->blksize = 4096;
        return e;
}

static inline Filesystem *fs_add(Manifest *m, const char *device, const char *type, const char *uuid, const char *label) {
        Filesystem *f = must(manifest_add_filesystem(m));

        f->device = must(strdup(device));
        f->type = must(strdup(type));
        f->uuid = uuid ? must(strdup(uuid)) : NULL;
        f->label = label ? must(strdup(label)) : NULL;
        f->size = 1ULL << 30;
        f->scanned = true;
        return f;
}

/* Every field, with the awkward values: non-UTF-8 bytes, binary xattrs,
 * extremes of every integer, NULL strings. */
static inline Manifest *manifest_full(void) {
        static const uint8_t binary[] = { 0, 1, 2, 0xff, 0, 0x80, '\n' };
        Manifest *m = must(manifest_new());
        Filesystem *f;
        Tree *t;
        Entry *e;

        m->inspected = true;
        m->os_product = must(strdup("Debian GNU/Linux 12 (bookworm)"));
        f = fs_add(m, "/dev/sda1", "ext4", "0b6c0bd8-5a6c-4f0b-9d0c-2f1e2b0a9a11", "root\xff");
        f->mountpoint = must(strdup("/"));
        fs_add(m, "/dev/sdb1", "xfs", NULL, NULL);
        f = fs_add(m, "/dev/sdc1", "unknown", NULL, NULL);
        f->scanned = false;
        f->error = must(strdup("cannot mount: wrong fs type"));
        f->size = UINT64_MAX;

        t = must(manifest_add_tree(m, "/"));
        e = entry_add(t, "/", ENTRY_KIND_DIRECTORY, 0);
        e->mode = 07755;
        xattr_add(e, "security.selinux", "system_u:object_r:root_t:s0", 28);
        e = entry_add(t, "/bin", ENTRY_KIND_SYMLINK, 0);
        e->target = must(strdup("usr/bin"));
        e = entry_add(t, "/caf\xc3\xa9", ENTRY_KIND_FILE, 0);
        e->has_sha256 = true;
        memset(e->sha256, 0xab, sizeof(e->sha256));
        xattr_add(e, "user.bin", binary, sizeof binary);
        xattr_add(e, "user.empty", "", 0);
        xattr_add(e, "user.\xfe\xff", "\xff", 1);
        e = entry_add(t, "/dev", ENTRY_KIND_DIRECTORY, 0);
        e = entry_add(t, "/dev/null", ENTRY_KIND_CHAR, 0);
        e->rdev = (1 << 8) | 3;
        e = entry_add(t, "/dev/sda", ENTRY_KIND_BLOCK, 0);
        e->rdev = UINT64_MAX;
        e = entry_add(t, "/fifo", ENTRY_KIND_FIFO, 0);
        e = entry_add(t, "/latin1-\xe9t\xe9", ENTRY_KIND_SYMLINK, 0);
        e->target = must(strdup("\x80\xfe target with spaces and \"quotes\"\n"));
        e = entry_add(t, "/line\nbreak", ENTRY_KIND_FILE, 0);
        e->size = UINT64_MAX;
        e->ino = UINT64_MAX;
        e->uid = UINT32_MAX;
        e->gid = UINT32_MAX;
        e->nlink = 0;
        e->atime_ns = INT64_MIN;
        e->mtime_ns = INT64_MAX;
        e->has_sha256 = true;
        for (size_t i = 0; i < sizeof(e->sha256); i++)
                e->sha256[i] = (uint8_t) i;
        e = entry_add(t, "/mnt", ENTRY_KIND_DIRECTORY, 0);
        e = entry_add(t, "/mnt/data", ENTRY_KIND_DIRECTORY, 1);
        e = entry_add(t, "/mnt/data/odd", ENTRY_KIND_UNKNOWN, 1);
        e = entry_add(t, "/run.sock", ENTRY_KIND_SOCKET, 0);
        e = entry_add(t, "/target-empty", ENTRY_KIND_SYMLINK, 0);
        e->target = must(strdup(""));

        t = must(manifest_add_tree(m, "/dev/sdc1"));
        e = entry_add(t, "/", ENTRY_KIND_DIRECTORY, 2);
        e = entry_add(t, "/lost+found", ENTRY_KIND_DIRECTORY, 2);
        e->mode = 0700;
        manifest_sort(m);
        return m;
}

/* n entries in 2 trees, with the mix a real system has. */
static inline Manifest *manifest_big(size_t n, unsigned seed) {
        Manifest *m = must(manifest_new());
        char path[128];

        fs_add(m, "/dev/sda1", "ext4", "uuid-a", NULL);
        fs_add(m, "/dev/sda2", "xfs", NULL, "data");
        m->inspected = true;
        for (int tr = 0; tr < 2; tr++) {
                Tree *t = must(manifest_add_tree(m, tr == 0 ? "/" : "/dev/sda2"));
                size_t count = tr == 0 ? n - n / 4 : n / 4;

                for (size_t i = 0; i < count; i++) {
                        (void) snprintf(path, sizeof path, "/usr/share/dir%04zu/file-%08zu-%u.txt", i / 64, i, seed);
                        EntryKind kind = i % 10 == 9 ? ENTRY_KIND_SYMLINK : ENTRY_KIND_FILE;
                        Entry *e = entry_add(t, path, kind, (uint32_t) tr);
                        e->ino = i + seed;
                        e->size = i * 7;
                        if (e->kind == ENTRY_KIND_SYMLINK)
                                e->target = must(strdup("../../lib/x86_64-linux-gnu/libexample.so.1"));
                        else {
                                e->has_sha256 = true;
                                memset(e->sha256, (int) (i + seed), sizeof(e->sha256));
                        }
                        if (i % 50 == 0)
                                xattr_add(e, "security.selinux", "system_u:object_r:usr_t:s0", 27);
                }
        }
        manifest_sort(m);
        return m;
}

static inline size_t manifest_count(const Manifest *m) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_trees; i++)
                n += m->trees[i].n_entries;
        return n;
}

static inline bool bytes_equal(const void *a, size_t la, const void *b, size_t lb) {
        return la == lb && (la == 0 || memcmp(a, b, la) == 0);
}

static inline bool entry_equal(const Entry *a, const Entry *b) {
        if (!streq_ptr(a->path, b->path) || a->fs != b->fs || a->kind != b->kind || a->mode != b->mode ||
            a->uid != b->uid || a->gid != b->gid || a->size != b->size || a->atime_ns != b->atime_ns ||
            a->mtime_ns != b->mtime_ns || a->ctime_ns != b->ctime_ns || a->nlink != b->nlink || a->ino != b->ino ||
            a->dev != b->dev || a->rdev != b->rdev || a->blocks != b->blocks || a->blksize != b->blksize ||
            !streq_ptr(a->target, b->target) || a->has_sha256 != b->has_sha256 ||
            (a->has_sha256 && memcmp(a->sha256, b->sha256, sizeof(a->sha256)) != 0) || a->n_xattrs != b->n_xattrs)
                return false;
        for (size_t i = 0; i < a->n_xattrs; i++)
                if (!streq_ptr(a->xattrs[i].name, b->xattrs[i].name) ||
                    !bytes_equal(a->xattrs[i].value, a->xattrs[i].len, b->xattrs[i].value, b->xattrs[i].len) ||
                    !b->xattrs[i].value)
                        return false;
        return true;
}

static inline bool manifest_equal(const Manifest *a, const Manifest *b) {
        if (a->inspected != b->inspected || !streq_ptr(a->os_product, b->os_product) ||
            a->n_filesystems != b->n_filesystems || a->n_trees != b->n_trees)
                return false;
        for (size_t i = 0; i < a->n_filesystems; i++) {
                const Filesystem *x = &a->filesystems[i], *y = &b->filesystems[i];
                if (!streq_ptr(x->device, y->device) || !streq_ptr(x->type, y->type) || !streq_ptr(x->uuid, y->uuid) ||
                    !streq_ptr(x->label, y->label) || x->size != y->size || !streq_ptr(x->mountpoint, y->mountpoint) ||
                    x->scanned != y->scanned || !streq_ptr(x->error, y->error))
                        return false;
        }
        for (size_t i = 0; i < a->n_trees; i++) {
                const Tree *x = &a->trees[i], *y = &b->trees[i];
                if (!streq_ptr(x->key, y->key) || x->n_entries != y->n_entries)
                        return false;
                for (size_t j = 0; j < x->n_entries; j++)
                        if (!entry_equal(&x->entries[j], &y->entries[j])) {
                                fprintf(stderr, "entry %zu of tree %s differs\n", j, x->key);
                                return false;
                        }
        }
        return true;
}

static inline Store *open_store(const char *path, uint64_t budget) {
        Store *s = NULL;
        Error e = {};

        if (store_open(path, budget, &s, &e) < 0)
                fprintf(stderr, "store_open(%s): %s\n", path, e.message);
        return s;
}

static inline int save(Store *s, unsigned key_n, const Manifest *m, const char *disk_path, unsigned disk_n) {
        uint8_t key[FINGERPRINT_SIZE], disk_key[FINGERPRINT_SIZE];
        StoreDisk d = { .path = disk_path, .key = disk_key };
        Error e = {};

        key_make(key, key_n);
        key_make(disk_key, disk_n);
        int r = store_save_manifest(s, key, &d, 1, m, &e);
        if (r < 0)
                fprintf(stderr, "store_save_manifest: %s\n", e.message);
        return r;
}

static inline int load(Store *s, unsigned key_n, Manifest **ret) {
        uint8_t key[FINGERPRINT_SIZE];
        Error e = {};

        key_make(key, key_n);
        int r = store_load_manifest(s, key, ret, &e);
        if (r < 0)
                fprintf(stderr, "store_load_manifest: %s\n", e.message);
        return r;
}

static inline bool has_manifest(Store *s, unsigned key_n) {
        _cleanup_manifest_ Manifest *m = NULL;
        return load(s, key_n, &m) > 0;
}

static inline int sql(const char *path, const char *statements) {
        sqlite3 *db = NULL;
        char *err = NULL;
        int rc = sqlite3_open(path, &db);

        if (rc == SQLITE_OK)
                rc = sqlite3_exec(db, statements, NULL, NULL, &err);
        if (rc != SQLITE_OK)
                fprintf(stderr, "%s: %s\n", statements, err ?: sqlite3_errmsg(db));
        sqlite3_free(err);
        sqlite3_close(db);
        return rc;
}

/* The names in tmpdir that start with prefix. */
static inline unsigned count_files(const char *prefix) {
        DIR *d = opendir(tmpdir);
        unsigned n = 0;

        for (struct dirent *de; d && (de = readdir(d));)
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        n++;
        if (d)
                closedir(d);
        return n;
}

static inline uint64_t manifest_bytes(Store *s, unsigned key_n) {
        uint8_t key[FINGERPRINT_SIZE];
        StoreItem *items = NULL;
        size_t n = 0;
        uint64_t bytes = 0;

        key_make(key, key_n);
        if (store_list(s, &items, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (memcmp(items[i].key, key, FINGERPRINT_SIZE) == 0)
                        bytes = items[i].bytes;
        store_items_free(items, n);
        return bytes;
}

static inline int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
        return remove(p);
}

static inline int test_store_setup(void) {
        srand((unsigned) time(NULL));
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return -1;
        }
        return 0;
}

static inline int test_store_finish(void) {
        if (n_failed == 0)
                (void) nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        else
                fprintf(stderr, "kept %s\n", tmpdir);
        return test_report();
}

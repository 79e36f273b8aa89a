/* Unit tests of the manifest store, on real SQLite files in a temporary
 * directory: round trips, replacement, eviction, purging, stat records,
 * damaged and foreign files, hostile rows, a writer killed mid-transaction
 * and two connections writing at once. */
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "manifest.h"
#include "store.h"
#include "test-util.h"

static char tmpdir[] = "/tmp/test-store-XXXXXX";


static char *tmp_path(const char *name) {
        return must(path_join(tmpdir, name));
}

static void key_make(uint8_t key[FINGERPRINT_SIZE], unsigned n) {
        for (size_t i = 0; i < FINGERPRINT_SIZE; i++)
                key[i] = (uint8_t) (n * 31 + i);
        memcpy(key, &n, sizeof n);
}

static double now_ms(void) {
        return (double) now_usec_monotonic() / 1000.0;
}

static void xattr_add(Entry *e, const char *name, const void *value, size_t len) {
        e->xattrs = must(reallocarray(e->xattrs, e->n_xattrs + 1, sizeof(Xattr)));
        e->xattrs[e->n_xattrs++] = (Xattr) {
                .name = must(strdup(name)),
                .value = must(malloc(len ?: 1)),
                .len = len,
        };
        memcpy(e->xattrs[e->n_xattrs - 1].value, value, len);
}

static Entry *entry_add(Tree *t, const char *path, EntryKind kind, uint32_t fs) {
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

static Filesystem *fs_add(Manifest *m, const char *device, const char *type, const char *uuid, const char *label) {
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
static Manifest *manifest_full(void) {
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
static Manifest *manifest_big(size_t n, unsigned seed) {
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

static size_t manifest_count(const Manifest *m) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_trees; i++)
                n += m->trees[i].n_entries;
        return n;
}

static bool bytes_equal(const void *a, size_t la, const void *b, size_t lb) {
        return la == lb && (la == 0 || memcmp(a, b, la) == 0);
}

static bool entry_equal(const Entry *a, const Entry *b) {
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

static bool manifest_equal(const Manifest *a, const Manifest *b) {
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

static Store *open_store(const char *path, uint64_t budget) {
        Store *s = NULL;
        Error e = {};

        if (store_open(path, budget, &s, &e) < 0)
                fprintf(stderr, "store_open(%s): %s\n", path, e.message);
        return s;
}

static int save(Store *s, unsigned key_n, const Manifest *m, const char *disk_path, unsigned disk_n) {
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

static int load(Store *s, unsigned key_n, Manifest **ret) {
        uint8_t key[FINGERPRINT_SIZE];
        Error e = {};

        key_make(key, key_n);
        int r = store_load_manifest(s, key, ret, &e);
        if (r < 0)
                fprintf(stderr, "store_load_manifest: %s\n", e.message);
        return r;
}

static bool has_manifest(Store *s, unsigned key_n) {
        _cleanup_manifest_ Manifest *m = NULL;
        return load(s, key_n, &m) > 0;
}

static int sql(const char *path, const char *statements) {
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
static unsigned count_files(const char *prefix) {
        DIR *d = opendir(tmpdir);
        unsigned n = 0;

        for (struct dirent *de; d && (de = readdir(d));)
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        n++;
        if (d)
                closedir(d);
        return n;
}

static void test_round_trip(void) {
        _cleanup_free_ char *path = tmp_path("round-trip.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_full(), *got = NULL, *none = NULL;
        uint8_t key[FINGERPRINT_SIZE], k1[FINGERPRINT_SIZE], k2[FINGERPRINT_SIZE];
        StoreDisk disks[] = { { "/images/a\xff.qcow2", k1 }, { "/images/b.raw", k2 } };
        StoreItem *items = NULL;
        StoreStats st = {};
        size_t n_items = 0;
        Error e = {};
        Store *s = open_store(path, 1ULL << 30);

        CHECK(s);
        if (!s)
                return;
        key_make(key, 1);
        key_make(k1, 2);
        key_make(k2, 3);
        CHECK(store_save_manifest(s, key, disks, 2, m, &e) == 0);
        CHECK(load(s, 99, &none) == 0 && !none);
        CHECK(store_load_manifest(s, key, &got, &e) == 1);
        CHECK(got && manifest_equal(m, got));
        CHECK(got && got->n_trees == 2 && manifest_count(got) == 16);

        CHECK(store_stats(s, &st) == 0);
        CHECK(st.manifests == 1 && st.entries == 16 && st.hits == 1 && st.misses == 1);
        CHECK(st.bytes > 0 && st.budget_bytes == 1ULL << 30 && streq_ptr(st.path, path));
        store_stats_done(&st);

        CHECK(store_list(s, &items, &n_items) == 0);
        CHECK(n_items == 1 && memcmp(items[0].key, key, FINGERPRINT_SIZE) == 0);
        CHECK(n_items == 1 && streq_ptr(items[0].label, "/images/a\xff.qcow2, /images/b.raw"));
        CHECK(n_items == 1 && items[0].entries == 16 && items[0].created_usec > 0 &&
              items[0].used_usec >= items[0].created_usec);
        store_items_free(items, n_items);

        bool ok = false;
        _cleanup_free_ char *message = NULL;
        CHECK(store_verify(s, &ok, &message) == 0 && ok && streq_ptr(message, "ok"));
        s = store_close(s);

        /* Whatever the connection: read it back through a new one. */
        s = open_store(path, 1ULL << 30);
        got = manifest_free(got);
        CHECK(s && store_load_manifest(s, key, &got, &e) == 1 && got && manifest_equal(m, got));
        store_close(s);
}

static void test_big(void) {
        _cleanup_free_ char *path = tmp_path("big.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_big(100000, 1), *got = NULL;
        struct stat sb;
        Store *s = open_store(path, 1ULL << 30);

        CHECK(s);
        if (!s)
                return;
        double t0 = now_ms();
        CHECK(save(s, 1, m, "/big.img", 1) == 0);
        double t1 = now_ms();
        CHECK(load(s, 1, &got) == 1);
        double t2 = now_ms();
        CHECK(got && manifest_count(got) == 100000 && manifest_equal(m, got));
        /* Again, over the existing one. */
        double t3 = now_ms();
        CHECK(save(s, 1, m, "/big.img", 1) == 0);
        double t4 = now_ms();
        CHECK(stat(path, &sb) == 0);
        printf("100000 entries: save %.0f ms, load %.0f ms, replace %.0f ms; database %.1f MB\n", t1 - t0,
               t2 - t1, t4 - t3, (double) sb.st_size / 1e6);

        bool ok = false;
        _cleanup_free_ char *message = NULL;
        t0 = now_ms();
        CHECK(store_verify(s, &ok, &message) == 0 && ok);
        printf("verify (integrity_check, foreign_key_check): %.0f ms\n", now_ms() - t0);
        store_close(s);

        t0 = now_ms();
        s = open_store(path, 1ULL << 30);
        printf("open (integrity_check): %.0f ms\n", now_ms() - t0);
        CHECK(s);
        store_close(s);
}

static void test_replace(void) {
        _cleanup_free_ char *path = tmp_path("replace.sqlite");
        _cleanup_manifest_ Manifest *a = manifest_big(100, 1), *b = manifest_full(), *got = NULL;
        StoreStats st = {};
        Store *s = open_store(path, 1ULL << 30);

        CHECK(s);
        if (!s)
                return;
        CHECK(save(s, 7, a, "/a.img", 1) == 0);
        CHECK(save(s, 7, b, "/a.img", 1) == 0);
        CHECK(load(s, 7, &got) == 1 && got && manifest_equal(b, got));
        CHECK(store_stats(s, &st) == 0 && st.manifests == 1 && st.entries == manifest_count(b));
        store_stats_done(&st);
        store_close(s);
}

static uint64_t manifest_bytes(Store *s, unsigned key_n) {
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

static void test_lru(void) {
        _cleanup_free_ char *probe_path = tmp_path("lru-probe.sqlite"), *path = tmp_path("lru.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_big(1000, 1);
        Store *s = open_store(probe_path, 1ULL << 30);
        uint64_t one;

        CHECK(s);
        if (!s)
                return;
        CHECK(save(s, 1, m, "/1.img", 1) == 0);
        one = manifest_bytes(s, 1);
        CHECK(one > 1000 * 32);
        store_close(s);

        /* Room for three and a half. */
        s = open_store(path, one * 7 / 2);
        CHECK(s);
        if (!s)
                return;
        for (unsigned i = 1; i <= 3; i++)
                CHECK(save(s, i, m, "/x.img", i) == 0);
        /* 1 becomes the most recently used, so 2 is the oldest. */
        CHECK(has_manifest(s, 1));
        CHECK(save(s, 4, m, "/x.img", 4) == 0);
        CHECK(!has_manifest(s, 2));
        CHECK(has_manifest(s, 1) && has_manifest(s, 3) && has_manifest(s, 4));
        store_close(s);

        /* A budget smaller than one manifest keeps just the one saved. */
        s = open_store(path, one / 2);
        CHECK(s);
        if (!s)
                return;
        CHECK(save(s, 5, m, "/x.img", 5) == 0);
        CHECK(has_manifest(s, 5));
        CHECK(!has_manifest(s, 1) && !has_manifest(s, 3) && !has_manifest(s, 4));
        store_close(s);
}

static void test_purge(void) {
        _cleanup_free_ char *path = tmp_path("purge.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_big(50, 1);
        uint8_t key[FINGERPRINT_SIZE], k[3][FINGERPRINT_SIZE], got_key[FINGERPRINT_SIZE];
        FileStat fst = { .dev = 1, .ino = 2, .size = 3, .mtime_ns = 4, .ctime_ns = 5 };
        uint64_t removed = 0;
        Error e = {};
        Store *s = open_store(path, 1ULL << 30);

        CHECK(s);
        if (!s)
                return;
        for (int i = 0; i < 3; i++)
                key_make(k[i], 100 + i);
        /* 1: disks 0 and 1; 2: disk 1; 3: disk 2. */
        StoreDisk d1[] = { { "/d0.img", k[0] }, { "/d1.img", k[1] } }, d2[] = { { "/d1.img", k[1] } },
                  d3[] = { { "/d2.img", k[2] } };
        key_make(key, 1);
        CHECK(store_save_manifest(s, key, d1, 2, m, &e) == 0);
        key_make(key, 2);
        CHECK(store_save_manifest(s, key, d2, 1, m, &e) == 0);
        key_make(key, 3);
        CHECK(store_save_manifest(s, key, d3, 1, m, &e) == 0);
        CHECK(store_save_stat(s, "/d2.img", &fst, k[2]) == 0);

        CHECK(store_purge(s, k[1], &removed) == 0 && removed == 2);
        CHECK(!has_manifest(s, 1) && !has_manifest(s, 2) && has_manifest(s, 3));
        CHECK(store_purge(s, k[1], &removed) == 0 && removed == 0);
        CHECK(store_lookup_stat(s, "/d2.img", &fst, got_key) == 1);

        CHECK(store_purge(s, NULL, &removed) == 0 && removed == 1);
        CHECK(!has_manifest(s, 3));
        CHECK(store_lookup_stat(s, "/d2.img", &fst, got_key) == 0);

        bool ok = false;
        _cleanup_free_ char *message = NULL;
        CHECK(store_verify(s, &ok, &message) == 0 && ok);
        store_close(s);
}

static void test_stat_records(void) {
        _cleanup_free_ char *path = tmp_path("stat.sqlite");
        FileStat st = { .dev = UINT64_MAX, .ino = 42, .size = 1ULL << 40, .mtime_ns = -1, .ctime_ns = INT64_MAX };
        uint8_t k1[FINGERPRINT_SIZE], k2[FINGERPRINT_SIZE], got[FINGERPRINT_SIZE];
        Store *s = open_store(path, 1ULL << 30);

        CHECK(s);
        if (!s)
                return;
        key_make(k1, 1);
        key_make(k2, 2);
        CHECK(store_lookup_stat(s, "/img\xff", &st, got) == 0);
        CHECK(store_save_stat(s, "/img\xff", &st, k1) == 0);
        CHECK(store_lookup_stat(s, "/img\xff", &st, got) == 1 && memcmp(got, k1, FINGERPRINT_SIZE) == 0);
        CHECK(store_lookup_stat(s, "/img", &st, got) == 0);

        FileStat changed = st;
        changed.ctime_ns--;
        CHECK(store_lookup_stat(s, "/img\xff", &changed, got) == 0);
        changed = st;
        changed.ino++;
        CHECK(store_lookup_stat(s, "/img\xff", &changed, got) == 0);

        CHECK(store_save_stat(s, "/img\xff", &changed, k2) == 0);
        CHECK(store_lookup_stat(s, "/img\xff", &changed, got) == 1 && memcmp(got, k2, FINGERPRINT_SIZE) == 0);
        CHECK(store_lookup_stat(s, "/img\xff", &st, got) == 0);
        store_close(s);
}

static void write_random(const char *path, uint8_t *ret, size_t size) {
        _cleanup_fclose_ FILE *f = must(fopen(path, "we"));
        for (size_t i = 0; i < size; i++)
                ret[i] = (uint8_t) rand();
        CHECK(fwrite(ret, 1, size, f) == size);
}

/* The content of the one file in tmpdir whose name starts with prefix. */
static bool aside_has(const char *prefix, const uint8_t *data, size_t size) {
        DIR *d = opendir(tmpdir);
        bool found = false;

        for (struct dirent *de; d && (de = readdir(d));) {
                if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || strstr(de->d_name, "-wal") ||
                    strstr(de->d_name, "-shm"))
                        continue;
                _cleanup_free_ char *p = tmp_path(de->d_name);
                _cleanup_fclose_ FILE *f = fopen(p, "re");
                _cleanup_free_ uint8_t *buf = must(malloc(size + 1));
                found = f && fread(buf, 1, size + 1, f) == size && memcmp(buf, data, size) == 0;
        }
        if (d)
                closedir(d);
        return found;
}

static void test_corrupt_file(void) {
        _cleanup_free_ char *path = tmp_path("corrupt.sqlite"), *wal = tmp_path("corrupt.sqlite-wal");
        _cleanup_manifest_ Manifest *m = manifest_big(10, 1);
        static uint8_t data[65536], log[4096];

        write_random(path, data, sizeof data);
        write_random(wal, log, sizeof log);
        Store *s = open_store(path, 1ULL << 30);
        CHECK(s);
        if (!s)
                return;
        /* Never modified. (SQLite itself deletes a -wal that is no log.) */
        CHECK(aside_has("corrupt.sqlite.corrupt-", data, sizeof data));
        CHECK(save(s, 1, m, "/a.img", 1) == 0 && has_manifest(s, 1));
        store_close(s);

        /* A damaged page in a real store of ours. */
        _cleanup_free_ char *path2 = tmp_path("damaged.sqlite");
        _cleanup_manifest_ Manifest *big = manifest_big(20000, 1);
        s = open_store(path2, 1ULL << 30);
        CHECK(s && save(s, 1, big, "/a.img", 1) == 0);
        store_close(s);
        {
                _cleanup_fclose_ FILE *f = must(fopen(path2, "r+e"));
                char junk[4096];
                memset(junk, 0x5a, sizeof junk);
                CHECK(fseek(f, 4096 * 10, SEEK_SET) == 0 && fwrite(junk, 1, sizeof junk, f) == sizeof junk);
        }
        s = open_store(path2, 1ULL << 30);
        CHECK(s && count_files("damaged.sqlite.corrupt-") == 1);
        CHECK(s && !has_manifest(s, 1) && save(s, 1, m, "/a.img", 1) == 0 && has_manifest(s, 1));
        store_close(s);
}

static void test_foreign(void) {
        _cleanup_free_ char *path = tmp_path("foreign.sqlite"), *other = tmp_path("versioned.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_big(10, 1);

        CHECK(sql(path, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');") == SQLITE_OK);
        Store *s = open_store(path, 1ULL << 30);
        CHECK(s);
        if (!s)
                return;
        CHECK(count_files("foreign.sqlite.corrupt-") == 1);
        CHECK(save(s, 1, m, "/a.img", 1) == 0 && has_manifest(s, 1));
        store_close(s);

        /* Set aside whole and unmodified: still the other program's
         * database, in its own journal mode. */
        DIR *d = opendir(tmpdir);
        for (struct dirent *de; d && (de = readdir(d));) {
                if (strncmp(de->d_name, "foreign.sqlite.corrupt-", 23) != 0)
                        continue;
                _cleanup_free_ char *aside = tmp_path(de->d_name);
                CHECK(sql(aside, "SELECT body FROM notes") == SQLITE_OK);
                sqlite3 *db = NULL;
                sqlite3_stmt *q = NULL;
                CHECK(sqlite3_open(aside, &db) == SQLITE_OK &&
                      sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK &&
                      sqlite3_step(q) == SQLITE_ROW && streq_ptr((const char *) sqlite3_column_text(q, 0), "delete"));
                sqlite3_finalize(q);
                sqlite3_close(db);
        }
        if (d)
                closedir(d);

        /* In WAL mode, and open elsewhere, so that its -wal and -shm
         * stay: they go aside with it. */
        _cleanup_free_ char *walmode = tmp_path("walmode.sqlite"), *walmode_wal = tmp_path("walmode.sqlite-wal");
        sqlite3 *db = NULL;
        CHECK(sqlite3_open(walmode, &db) == SQLITE_OK &&
              sqlite3_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE notes (body TEXT); "
                               "INSERT INTO notes VALUES ('keep me');", NULL, NULL, NULL) == SQLITE_OK);
        CHECK(access(walmode_wal, F_OK) == 0);
        s = open_store(walmode, 1ULL << 30);
        CHECK(s && count_files("walmode.sqlite.corrupt-") == 3);
        CHECK(s && save(s, 1, m, "/a.img", 1) == 0 && has_manifest(s, 1));
        store_close(s);
        sqlite3_close(db);
        s = open_store(walmode, 1ULL << 30);
        CHECK(s && has_manifest(s, 1) && count_files("walmode.sqlite.corrupt-") == 3);
        store_close(s);

        /* Our tables but no mark of ours, and a version. */
        CHECK(sql(other, "PRAGMA user_version = 1; CREATE TABLE manifests (id INTEGER PRIMARY KEY);") == SQLITE_OK);
        s = open_store(other, 1ULL << 30);
        CHECK(s && count_files("versioned.sqlite.corrupt-") == 1);
        store_close(s);
}

static void test_newer(void) {
        _cleanup_free_ char *path = tmp_path("newer.sqlite");
        Store *s = open_store(path, 1ULL << 30), *s2 = NULL;
        Error e = {};

        CHECK(s);
        store_close(s);
        CHECK(sql(path, "PRAGMA user_version = 2") == SQLITE_OK);
        CHECK(store_open(path, 1ULL << 30, &s2, &e) < 0 && !s2);
        CHECK(e.code == ERR_INTERNAL && strstr(e.message, "schema 2 is newer than this daemon's 1"));
        CHECK(access(path, F_OK) == 0 && count_files("newer.sqlite.corrupt-") == 0);
}

/* Rows a damaged or hostile database could hold: each load is a miss that
 * drops the manifest, never a crash or a manifest the comparer rejects. */
static void test_hostile_rows(void) {
        static const char *const damage[] = {
                "UPDATE entries SET xattrs = x'ffffffff00' WHERE seq = 2",
                "UPDATE entries SET xattrs = x'050000006162' WHERE seq = 2",
                "UPDATE entries SET xattrs = x'0100000061' WHERE seq = 2",
                "UPDATE entries SET xattrs = x'00000000' || x'00000000' WHERE seq = 2",
                "UPDATE entries SET xattrs = x'0100000062' || x'00000000' || x'0100000061' || x'00000000' "
                "WHERE seq = 2",
                "UPDATE entries SET xattrs = 'text' WHERE seq = 2",
                "UPDATE entries SET fs = 99 WHERE seq = 1",
                "UPDATE entries SET fs = -1 WHERE seq = 1",
                "UPDATE entries SET tree_idx = 7 WHERE tree_idx = 1 AND seq = 1",
                "UPDATE entries SET sha256 = x'0102' WHERE seq = 2",
                "UPDATE entries SET kind = 'door' WHERE seq = 1",
                "UPDATE entries SET kind = 3 WHERE seq = 1",
                "UPDATE entries SET path = x'2f0061' WHERE seq = 1",
                "UPDATE entries SET path = x'' WHERE seq = 1",
                "UPDATE entries SET path = '/zzz' WHERE tree_idx = 0 AND seq = 1",
                "UPDATE entries SET mode = 'rwx' WHERE seq = 1",
                "UPDATE entries SET uid = -1 WHERE seq = 1",
                "UPDATE entries SET gid = 4294967296 WHERE seq = 1",
                "UPDATE entries SET size = 1.5 WHERE seq = 1",
                "DELETE FROM entries WHERE tree_idx = 0 AND seq = 3",
                "INSERT INTO entries SELECT manifest_id, tree_idx, 1000, '/zzzz', fs, kind, mode, uid, gid, size, "
                "atime_ns, mtime_ns, ctime_ns, nlink, ino, dev, rdev, blocks, blksize, target, sha256, xattrs "
                "FROM entries WHERE seq = 1",
                "UPDATE trees SET n_entries = 3",
                "UPDATE trees SET idx = idx + 5",
                "DELETE FROM trees WHERE idx = 1",
                "UPDATE trees SET key = 1",
                "UPDATE filesystems SET device = 5",
                "UPDATE filesystems SET idx = idx + 10",
                "DELETE FROM filesystems WHERE idx = 2",
                "UPDATE manifests SET n_entries = n_entries + 1",
                "UPDATE manifests SET inspected = 'yes'",
                "UPDATE manifests SET os_product = x'41004200'",
        };
        _cleanup_manifest_ Manifest *m = manifest_full();

        for (size_t i = 0; i < ELEMENTSOF(damage); i++) {
                _cleanup_free_ char *path = NULL;
                _cleanup_manifest_ Manifest *got = NULL;
                StoreStats st = {};

                CHECK(asprintf(&path, "%s/hostile-%zu.sqlite", tmpdir, i) >= 0);
                Store *s = open_store(path, 1ULL << 30);
                CHECK(s);
                if (!s)
                        continue;
                CHECK(save(s, 1, m, "/a.img", 1) == 0);
                CHECK(sql(path, damage[i]) == SQLITE_OK);
                int r = load(s, 1, &got);
                if (r != 0)
                        fprintf(stderr, "not rejected: %s\n", damage[i]);
                CHECK(r == 0 && !got);
                CHECK(store_stats(s, &st) == 0 && st.manifests == 0 && st.misses == 1 && st.hits == 0);
                store_stats_done(&st);
                /* And the store still works. */
                CHECK(save(s, 1, m, "/a.img", 1) == 0 && has_manifest(s, 1));
                store_close(s);
        }
}

static void test_invalid_refused(void) {
        _cleanup_free_ char *path = tmp_path("invalid.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_full();
        uint8_t key[FINGERPRINT_SIZE];
        Error e = {};
        Store *s = open_store(path, 1ULL << 30);

        CHECK(s);
        if (!s)
                return;
        key_make(key, 1);
        Entry tmp = m->trees[0].entries[1];
        m->trees[0].entries[1] = m->trees[0].entries[2];
        m->trees[0].entries[2] = tmp;
        CHECK(store_save_manifest(s, key, NULL, 0, m, &e) < 0 && e.code == ERR_INVALID_ARGS);
        CHECK(!has_manifest(s, 1));
        store_close(s);
}

/* A save that fails half way leaves the store as it was: the old copy of
 * a manifest it was replacing too. */
static void test_failed_save(void) {
        _cleanup_free_ char *path = tmp_path("failed-save.sqlite");
        _cleanup_manifest_ Manifest *a = manifest_big(2000, 1), *b = manifest_big(2000, 2), *got = NULL;
        uint8_t key[FINGERPRINT_SIZE];
        StoreStats st = {};
        Error e = {};
        Store *s = open_store(path, 1ULL << 30);

        CHECK(s);
        if (!s)
                return;
        CHECK(save(s, 1, a, "/a.img", 1) == 0);
        CHECK(sql(path, "CREATE TRIGGER boom BEFORE INSERT ON entries WHEN new.tree_idx = 1 AND new.seq = 100 "
                        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END") == SQLITE_OK);
        key_make(key, 1);
        CHECK(store_save_manifest(s, key, NULL, 0, b, &e) < 0);
        CHECK(e.code == ERR_INTERNAL && strstr(e.message, "disk on fire") && strstr(e.message, path));
        key_make(key, 2);
        CHECK(store_save_manifest(s, key, NULL, 0, b, &e) < 0);
        CHECK(load(s, 1, &got) == 1 && got && manifest_equal(a, got));
        CHECK(!has_manifest(s, 2));
        CHECK(store_stats(s, &st) == 0 && st.manifests == 1 && st.entries == 2000);
        store_stats_done(&st);
        store_close(s);
}

static void test_paths(void) {
        _cleanup_free_ char *nested = NULL, *p = NULL;
        struct stat st;

        CHECK(asprintf(&nested, "%s/a/b/c/store.sqlite", tmpdir) >= 0);
        Store *s = open_store(nested, 1ULL << 30);
        CHECK(s);
        store_close(s);
        *strrchr(nested, '/') = 0;
        CHECK(stat(nested, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);

        setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
        p = store_default_path(false);
        CHECK(streq_ptr(p, "/xdg/cache/virt-diffd/manifests.sqlite"));
        free(p);
        setenv("XDG_CACHE_HOME", "relative", 1);
        setenv("HOME", "/home/u", 1);
        p = store_default_path(false);
        CHECK(streq_ptr(p, "/home/u/.cache/virt-diffd/manifests.sqlite"));
        free(p);
        unsetenv("XDG_CACHE_HOME");
        p = store_default_path(false);
        CHECK(streq_ptr(p, "/home/u/.cache/virt-diffd/manifests.sqlite"));
        free(p);
        p = store_default_path(true);
        CHECK(streq_ptr(p, "/var/cache/virt-diffd/manifests.sqlite"));
}

/* Whatever moment a writer dies at, the next open finds a sound database
 * whose every manifest loads whole. */
static void test_kill9(void) {
        _cleanup_free_ char *path = tmp_path("kill9.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_big(30000, 1);
        Store *s = open_store(path, 1ULL << 30);
        uint64_t one = 0;

        CHECK(s && save(s, 0, m, "/seed.img", 0) == 0);
        if (s)
                one = manifest_bytes(s, 0);
        store_close(s);

        for (unsigned round = 0; round < 8; round++) {
                pid_t pid = fork();
                if (pid < 0) {
                        CHECK(pid >= 0);
                        return;
                }
                if (pid == 0) {
                        /* Room for a few: evictions happen under the kill too. */
                        Store *w = open_store(path, one * 5);
                        if (!w)
                                _exit(1);
                        for (unsigned i = 1;; i++)
                                (void) save(w, round * 100000 + i, m, "/w.img", i % 3);
                }
                (void) usleep(100000 + (useconds_t) (rand() % 400000));
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);

                s = open_store(path, 1ULL << 30);
                CHECK(s);
                if (!s)
                        continue;
                bool ok = false;
                _cleanup_free_ char *message = NULL;
                CHECK(store_verify(s, &ok, &message) == 0 && ok);
                if (!ok)
                        fprintf(stderr, "verify: %s\n", strempty(message));

                StoreItem *items = NULL;
                size_t n = 0;
                CHECK(store_list(s, &items, &n) == 0 && n >= 1);
                for (size_t i = 0; i < n; i++) {
                        _cleanup_manifest_ Manifest *got = NULL;
                        Error e = {};
                        CHECK(store_load_manifest(s, items[i].key, &got, &e) == 1);
                        CHECK(got && manifest_count(got) == items[i].entries && items[i].entries == 30000);
                }
                store_items_free(items, n);
                store_close(s);
        }
        CHECK(count_files("kill9.sqlite.corrupt-") == 0);
}

typedef struct Worker {
        Store *store;
        const Manifest *m;
        unsigned first, n;
        bool loads;
} Worker;

static void *worker_run(void *userdata) {
        Worker *w = userdata;

        for (unsigned i = 0; i < w->n; i++) {
                if (w->loads) {
                        _cleanup_manifest_ Manifest *got = NULL;
                        int r = load(w->store, w->first + i % 5, &got);
                        CHECK(r >= 0);
                        CHECK(r == 0 || manifest_count(got) == manifest_count(w->m));
                } else {
                        FileStat st = { .ino = i };
                        uint8_t key[FINGERPRINT_SIZE];
                        key_make(key, i);
                        CHECK(save(w->store, w->first + i, w->m, "/c.img", w->first + i) == 0);
                        CHECK(store_save_stat(w->store, "/c.img", &st, key) == 0);
                }
        }
        return NULL;
}

static void test_concurrent(void) {
        _cleanup_free_ char *path = tmp_path("concurrent.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_big(5000, 1);
        Store *a = open_store(path, 1ULL << 30), *b = open_store(path, 1ULL << 30);
        pthread_t threads[4];
        Worker workers[4] = {
                { a, m, 1000, 20, false },
                { b, m, 2000, 20, false },
                { a, m, 2000, 40, true },
                { b, m, 1000, 40, true },
        };

        CHECK(a && b);
        if (!a || !b) {
                store_close(a);
                store_close(b);
                return;
        }
        for (int i = 0; i < 4; i++)
                CHECK(pthread_create(&threads[i], NULL, worker_run, &workers[i]) == 0);
        for (int i = 0; i < 4; i++)
                pthread_join(threads[i], NULL);

        bool ok = false;
        _cleanup_free_ char *message = NULL;
        CHECK(store_verify(a, &ok, &message) == 0 && ok);
        for (unsigned i = 0; i < 20; i++) {
                _cleanup_manifest_ Manifest *x = NULL, *y = NULL;
                CHECK(load(b, 1000 + i, &x) == 1 && x && manifest_equal(m, x));
                CHECK(load(a, 2000 + i, &y) == 1 && y && manifest_equal(m, y));
        }
        store_close(a);
        store_close(b);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
        return remove(p);
}

int main(void) {
        srand((unsigned) time(NULL));
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 1;
        }

        test_round_trip();
        test_big();
        test_replace();
        test_lru();
        test_purge();
        test_stat_records();
        test_corrupt_file();
        test_foreign();
        test_newer();
        test_hostile_rows();
        test_invalid_refused();
        test_failed_save();
        test_paths();
        test_kill9();
        test_concurrent();

        if (n_failed == 0)
                (void) nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        else
                fprintf(stderr, "kept %s\n", tmpdir);
        return test_report();
}

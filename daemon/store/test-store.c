/* Unit tests of the manifest store, on real SQLite files in a temporary
 * directory: round trips, replacement, eviction, purging, stat records,
 * refused manifests, odd paths, contents and checksums. The faults are in test-store-faults.c. */
#include <openssl/evp.h>

#include "common/run-dir.h"
#include "store/test-store-util.h"

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

/* Temporary stores: in this process's own directory (run-dir.h). */
static unsigned count_scan_files(void) {
        const char *dir = run_dir();
        DIR *d = dir ? opendir(dir) : NULL;
        unsigned n = 0;
        for (struct dirent *de; d && (de = readdir(d));)
                n += strncmp(de->d_name, "virt-diffd-scan-", 16) == 0;
        if (d)
                closedir(d);
        return n;
}

/* A scan streams into a temporary store of its own, then the cache takes
 * it by SQL; an unfinished stream leaves nothing; the file goes on close. */
static void test_temporary_import(void) {
        _cleanup_free_ char *path = tmp_path("import.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_full(), *old = manifest_big(50, 3), *got = NULL;
        uint8_t key[FINGERPRINT_SIZE], dk[FINGERPRINT_SIZE];
        StoreDisk disk = { "/images/a.img", dk };
        Store *tmp = NULL, *cache = open_store(path, 1ULL << 30);
        Error e = {};

        CHECK(setenv("TMPDIR", tmpdir, 1) == 0);
        unsigned before = count_scan_files();
        CHECK(cache && store_open_temporary(&tmp, &e) == 0 && tmp);
        if (!cache || !tmp)
                return;
        CHECK(count_scan_files() > before);
        key_make(key, 5);
        key_make(dk, 6);

        /* Head, a tree, some entries, then dropped: rolled back. */
        StoreWriter *w = NULL;
        CHECK(store_writer_new(tmp, key, &disk, 1, &w, &e) == 0 && w);
        if (w) {
                ManifestSink sink = store_writer_sink(w);
                _cleanup_manifest_ Manifest *head = manifest_copy_head(m);
                CHECK(head && sink.head(sink.userdata, head, &e) == 0);
                CHECK(sink.tree(sink.userdata, m->trees[0].key, &e) == 0);
                CHECK(sink.entries(sink.userdata, m->trees[0].entries, 2, &e) == 0);
                /* Out of order within the stream: refused. */
                CHECK(sink.entries(sink.userdata, m->trees[0].entries, 1, &e) < 0 && e.code == ERR_INVALID_ARGS);
                store_writer_free(w);
        }
        e = (Error){};
        CHECK(store_load_manifest(tmp, key, &got, &e) == 0 && !got);

        CHECK(store_save_manifest(tmp, key, &disk, 1, m, &e) == 0);
        CHECK(save(cache, 5, old, "/images/old.img", 6) == 0);
        CHECK(store_import_manifest(cache, tmp, key, &e) == 0);
        CHECK(store_load_manifest(cache, key, &got, &e) == 1 && got && manifest_equal(m, got));
        CHECK(store_import_manifest(tmp, cache, key, &e) < 0 && e.code == ERR_INVALID_ARGS);
        e = (Error){};
        /* A key the temporary store does not hold. */
        key_make(key, 77);
        CHECK(store_import_manifest(cache, tmp, key, &e) < 0);

        StoreStats st = {};
        CHECK(store_stats(cache, &st) == 0 && st.manifests == 1 && st.entries == manifest_count(m));
        store_stats_done(&st);
        store_close(tmp);
        CHECK(count_scan_files() == before);
        store_close(cache);
        CHECK(unsetenv("TMPDIR") == 0);
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

static void sha256_of(const void *data, size_t len, uint8_t out[32]) {
        unsigned n = 0;
        CHECK(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32);
}

/* Contents and checksums (schema 2): deduplicated by hash, checked on
 * load, bounded, gone with a full purge; a version 1 database is migrated
 * with its manifests kept. */
static void test_contents(void) {
        _cleanup_free_ char *path = tmp_path("contents.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_full();
        static const char text[] = "line one\nline two\n";
        uint8_t h[32], other[32];
        void *data = NULL;
        size_t len = 0;
        char *v = NULL;

        /* The smallest budget: contents get STORE_CONTENT_MAX. */
        Store *s = open_store(path, 1);
        CHECK(s);
        sha256_of(text, sizeof text - 1, h);
        CHECK(store_load_content(s, h, &data, &len) == 0);
        CHECK(store_save_content(s, h, text, sizeof text - 1) == 0);
        CHECK(store_load_content(s, h, &data, &len) == 1 && len == sizeof text - 1 && memcmp(data, text, len) == 0);
        free(data);
        /* Data that does not hash to its key is refused. */
        memset(other, 0x5a, sizeof other);
        CHECK(store_save_content(s, other, text, sizeof text - 1) == -EINVAL);

        CHECK(store_load_checksum(s, h, "md5", &v) == 0);
        CHECK(store_save_checksum(s, h, "md5", "0123abcd") == 0);
        CHECK(store_load_checksum(s, h, "md5", &v) == 1 && streq_ptr(v, "0123abcd"));
        free(v);
        CHECK(store_load_checksum(s, h, "sha1", &v) == 0);

        /* Past the budget the oldest content goes. */
        size_t big_len = STORE_CONTENT_MAX * 3 / 4;
        _cleanup_free_ char *big = must(malloc(big_len));
        uint8_t hb[32];
        memset(big, 'x', big_len);
        sha256_of(big, big_len, hb);
        CHECK(store_save_content(s, hb, big, big_len) == 0);
        big[0] = 'y';
        sha256_of(big, big_len, other);
        CHECK(store_save_content(s, other, big, big_len) == 0);
        CHECK(store_load_content(s, hb, &data, &len) == 0);
        CHECK(store_load_content(s, other, &data, &len) == 1 && len == big_len);
        free(data);
        store_close(s);

        /* A damaged row is a miss. */
        CHECK(sql(path, "UPDATE contents SET data = x'00'") == SQLITE_OK);
        s = open_store(path, 1);
        CHECK(s && store_load_content(s, other, &data, &len) == 0);
        CHECK(s && save(s, 1, m, "/a.img", 1) == 0);
        store_close(s);

        /* Back to version 1: the migration brings the tables back and keeps
         * the manifest. */
        CHECK(sql(path, "DROP TABLE packages; DROP TABLE contents; DROP TABLE checksums; DROP TABLE jobs; "
                        "PRAGMA user_version = 1") ==
              SQLITE_OK);
        s = open_store(path, 1ULL << 30);
        CHECK(s && has_manifest(s, 1));
        CHECK(s && store_save_content(s, h, text, sizeof text - 1) == 0);
        CHECK(s && store_save_checksum(s, h, "md5", "0123abcd") == 0);
        CHECK(s && store_purge(s, NULL, NULL) == 0);
        CHECK(s && store_load_content(s, h, &data, &len) == 0 && store_load_checksum(s, h, "md5", &v) == 0);
        store_close(s);
}

int main(void) {
        if (test_store_setup() < 0)
                return 1;
        test_round_trip();
        test_big();
        test_replace();
        test_temporary_import();
        test_lru();
        test_purge();
        test_stat_records();
        test_invalid_refused();
        test_failed_save();
        test_paths();
        test_contents();
        return test_store_finish();
}

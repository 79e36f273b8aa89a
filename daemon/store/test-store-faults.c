/* Unit tests of the manifest store against faults, on real SQLite files:
 * damaged and foreign files are set aside, a newer schema is refused,
 * hostile rows are a cache miss, a writer killed mid-transaction leaves
 * whole manifests or none, and two connections writing at once. */
#include "store/test-store-util.h"

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
        CHECK(sql(path, "PRAGMA user_version = 4") == SQLITE_OK);
        CHECK(store_open(path, 1ULL << 30, &s2, &e) < 0 && !s2);
        CHECK(e.code == ERR_INTERNAL && strstr(e.message, "schema 4 is newer than this daemon's 3"));
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

int main(void) {
        if (test_store_setup() < 0)
                return 1;
        test_corrupt_file();
        test_foreign();
        test_newer();
        test_hostile_rows();
        test_kill9();
        test_concurrent();
        return test_store_finish();
}

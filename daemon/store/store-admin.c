/* The store's housekeeping: stat records (the key a file had when it had
 * a given stat), counts, the listing, purges and the integrity check. */
#include "common/log.h"
#include "store/store-internal.h"

static int bind_stat(sqlite3_stmt *q, const char *path, const FileStat *st) {
        int rc = sqlite3_bind_blob64(q, 1, path, strlen(path), SQLITE_STATIC);

        rc = rc ?: sqlite3_bind_int64(q, 2, (sqlite3_int64) st->dev);
        rc = rc ?: sqlite3_bind_int64(q, 3, (sqlite3_int64) st->ino);
        rc = rc ?: sqlite3_bind_int64(q, 4, (sqlite3_int64) st->size);
        rc = rc ?: sqlite3_bind_int64(q, 5, st->mtime_ns);
        rc = rc ?: sqlite3_bind_int64(q, 6, st->ctime_ns);
        return rc;
}

int store_lookup_stat(Store *s, const char *path, const FileStat *st, uint8_t ret_key[FINGERPRINT_SIZE]) {
        if (!s || !path || !st || !ret_key)
                return -EINVAL;

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(s->db,
                                    "SELECT key FROM stat_records WHERE path = ?1 AND dev = ?2 AND ino = ?3 "
                                    "AND size = ?4 AND mtime_ns = ?5 AND ctime_ns = ?6",
                                    -1, &q, NULL);
        rc = rc ?: bind_stat(q, path, st);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return store_errno(rc);
        /* A key of another length is damage: as good as no record. */
        if (sqlite3_column_type(q, 0) != SQLITE_BLOB || sqlite3_column_bytes(q, 0) != FINGERPRINT_SIZE)
                return 0;
        memcpy(ret_key, sqlite3_column_blob(q, 0), FINGERPRINT_SIZE);
        return 1;
}

int store_save_stat(Store *s, const char *path, const FileStat *st, const uint8_t key[FINGERPRINT_SIZE]) {
        if (!s || !path || !st || !key)
                return -EINVAL;

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(s->db,
                                    "INSERT OR REPLACE INTO stat_records "
                                    "(path, dev, ino, size, mtime_ns, ctime_ns, key) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                    -1, &q, NULL);
        rc = rc ?: bind_stat(q, path, st);
        rc = rc ?: sqlite3_bind_blob(q, 7, key, FINGERPRINT_SIZE, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

static int memo_lookup(void *userdata, const char *path, const FileStat *st, uint8_t ret[FINGERPRINT_SIZE]) {
        return store_lookup_stat(userdata, path, st, ret);
}

static int memo_save(void *userdata, const char *path, const FileStat *st, const uint8_t key[FINGERPRINT_SIZE]) {
        int r = store_save_stat(userdata, path, st, key);
        if (r < 0)
                log_debug("Cannot remember the key of %s.", path);
        return r;
}

KeyMemo store_key_memo(Store *s) {
        if (!s)
                return (KeyMemo){0};
        return (KeyMemo){.lookup = memo_lookup, .save = memo_save, .userdata = s};
}

int store_stats(Store *s, StoreStats *ret) {
        if (!s || !ret)
                return -EINVAL;

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_free_ char *path = strdup(s->path);
        if (!path)
                return -ENOMEM;
        /* One statement: one consistent snapshot. */
        int rc = sqlite3_prepare_v2(s->db,
                                    "SELECT (SELECT count(*) FROM manifests), "
                                    "(SELECT coalesce(sum(n_entries), 0) FROM manifests), "
                                    "(SELECT coalesce(sum(bytes), 0) FROM manifests), "
                                    "(SELECT coalesce(sum(value), 0) FROM counters WHERE name = 'hits'), "
                                    "(SELECT coalesce(sum(value), 0) FROM counters WHERE name = 'misses')",
                                    -1, &q, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
                return store_errno(rc) ?: -EIO;

        *ret = (StoreStats) {
                .manifests = (uint64_t) sqlite3_column_int64(q, 0),
                .entries = (uint64_t) sqlite3_column_int64(q, 1),
                .bytes = (uint64_t) sqlite3_column_int64(q, 2),
                .budget_bytes = s->budget,
                .hits = (uint64_t) sqlite3_column_int64(q, 3),
                .misses = (uint64_t) sqlite3_column_int64(q, 4),
                .path = TAKE_PTR(path),
        };
        return 0;
}

void store_stats_done(StoreStats *st) {
        if (!st)
                return;
        free(st->path);
        st->path = NULL;
}

void store_items_free(StoreItem *items, size_t n) {
        if (!items)
                return;
        for (size_t i = 0; i < n; i++)
                free(items[i].label);
        free(items);
}

int store_list(Store *s, StoreItem **ret, size_t *ret_n) {
        if (!s || !ret || !ret_n)
                return -EINVAL;

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        StoreItem *items = NULL;
        size_t n = 0, cap = 0;
        int rc = sqlite3_prepare_v2(s->db,
                                    "SELECT key, label, n_entries, bytes, created_usec, used_usec FROM manifests "
                                    "ORDER BY used_usec DESC, id DESC",
                                    -1, &q, NULL);

        while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
                /* A damaged key cannot be named: leave that row out. */
                if (sqlite3_column_type(q, 0) != SQLITE_BLOB || sqlite3_column_bytes(q, 0) != FINGERPRINT_SIZE) {
                        rc = SQLITE_OK;
                        continue;
                }
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        StoreItem *p = reallocarray(items, ncap, sizeof(StoreItem));
                        if (!p) {
                                rc = SQLITE_NOMEM;
                                break;
                        }
                        items = p;
                        cap = ncap;
                }
                StoreItem *it = &items[n];
                *it = (StoreItem) {
                        .entries = (uint64_t) sqlite3_column_int64(q, 2),
                        .bytes = (uint64_t) sqlite3_column_int64(q, 3),
                        .created_usec = sqlite3_column_int64(q, 4),
                        .used_usec = sqlite3_column_int64(q, 5),
                };
                memcpy(it->key, sqlite3_column_blob(q, 0), FINGERPRINT_SIZE);
                if (sqlite3_column_type(q, 1) != SQLITE_NULL) {
                        const char *label = sqlite3_column_blob(q, 1);
                        it->label = strndup(label ?: "", (size_t) sqlite3_column_bytes(q, 1));
                        if (!it->label) {
                                rc = SQLITE_NOMEM;
                                break;
                        }
                }
                n++;
                rc = SQLITE_OK;
        }
        if (rc != SQLITE_DONE) {
                store_items_free(items, n);
                return store_errno(rc) ?: -EIO;
        }
        *ret = items;
        *ret_n = n;
        return 0;
}

int store_purge(Store *s, const uint8_t *disk_key, uint64_t *ret_removed) {
        if (!s)
                return -EINVAL;

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        _cleanup_rollback_ sqlite3 *txn = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        uint64_t removed;
        int rc;

        rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_errno(rc);
        txn = s->db;

        /* The rows of manifests go with them (ON DELETE CASCADE). */
        rc = sqlite3_prepare_v2(s->db,
                                disk_key ? "DELETE FROM manifests WHERE id IN "
                                           "(SELECT manifest_id FROM manifest_disks WHERE disk_key = ?)"
                                         : "DELETE FROM manifests",
                                -1, &q, NULL);
        if (rc == SQLITE_OK && disk_key)
                rc = sqlite3_bind_blob(q, 1, disk_key, FINGERPRINT_SIZE, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return store_errno(rc);
        removed = (uint64_t) sqlite3_changes64(s->db);
        if (!disk_key) {
                rc = sqlite3_exec(s->db, "DELETE FROM stat_records; DELETE FROM contents; DELETE FROM checksums", NULL,
                                  NULL, NULL);
                if (rc != SQLITE_OK)
                        return store_errno(rc);
        }
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_errno(rc);

        /* Emptied: give the space back (else only reused by later saves).
         * Tidiness, which another connection's write may well defeat. */
        if (!disk_key)
                (void) sqlite3_exec(s->db, "VACUUM", NULL, NULL, NULL);

        if (ret_removed)
                *ret_removed = removed;
        return 0;
}

/* Appends what a check found wrong to f, clearing *ret_ok if anything. */
static int verify_run(sqlite3 *db, const char *sql, bool fk, FILE *f, bool *ret_ok) {
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);

        while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
                const char *first = (const char *) sqlite3_column_text(q, 0);

                rc = SQLITE_OK;
                if (fk)
                        fprintf(f, "%s: a row refers to a missing row of %s\n", strempty(first),
                                strempty((const char *) sqlite3_column_text(q, 2)));
                else if (!streq_ptr(first, "ok"))
                        fprintf(f, "%s\n", strempty(first));
                else
                        continue;
                *ret_ok = false;
        }
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int store_verify(Store *s, bool *ret_ok, char **ret_message) {
        if (!s || !ret_ok || !ret_message)
                return -EINVAL;

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        bool ok = true;
        int rc;

        _cleanup_fclose_ FILE *f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        rc = verify_run(s->db, "PRAGMA integrity_check", false, f, &ok);
        rc = rc ?: verify_run(s->db, "PRAGMA foreign_key_check", true, f, &ok);
        if (rc != SQLITE_OK)
                return store_errno(rc);
        if (ok)
                fputs("ok", f);
        if (fflush(f) != 0 || ferror(f))
                return -ENOMEM;
        (void) fclose(TAKE_PTR(f));
        /* Without its last newline. */
        if (size > 0 && buf[size - 1] == '\n')
                buf[size - 1] = 0;

        *ret_ok = ok;
        *ret_message = TAKE_PTR(buf);
        return 0;
}

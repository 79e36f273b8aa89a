/* A manifest scanned into a temporary store (store_open_temporary()) taken
 * into the cache: its rows copied by SQL from the attached file, in one
 * transaction, never through memory. */
#include "store/store-internal.h"

/* One table's rows of a manifest, from the attached temporary store. */
static int copy_rows(sqlite3 *db, const char *sql, int64_t to, int64_t from) {
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
        rc = rc ?: sqlite3_bind_int64(q, 1, to);
        rc = rc ?: sqlite3_bind_int64(q, 2, from);
        return rc ?: store_step_once(q);
}

static int import_rows(Store *s, const uint8_t *key) {
        static const char *const tables[] = {
                "INSERT INTO main.manifest_disks SELECT ?1, position, path, disk_key FROM scan.manifest_disks "
                "WHERE manifest_id = ?2 ORDER BY position",
                "INSERT INTO main.filesystems SELECT ?1, idx, device, type, uuid, label, size, mountpoint, scanned, "
                "error FROM scan.filesystems WHERE manifest_id = ?2 ORDER BY idx",
                "INSERT INTO main.trees SELECT ?1, idx, key, n_entries FROM scan.trees WHERE manifest_id = ?2 "
                "ORDER BY idx",
                "INSERT INTO main.entries SELECT ?1, tree_idx, seq, path, fs, kind, mode, uid, gid, size, atime_ns, "
                "mtime_ns, ctime_ns, nlink, ino, dev, rdev, blocks, blksize, target, sha256, xattrs "
                "FROM scan.entries WHERE manifest_id = ?2 ORDER BY tree_idx, seq",
        };
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int64_t from, to;
        int rc = sqlite3_prepare_v2(s->db, "SELECT id FROM scan.manifests WHERE key = ?", -1, &q, NULL);
        rc = rc ?: sqlite3_bind_blob(q, 1, key, FINGERPRINT_SIZE, SQLITE_STATIC);
        if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_DONE)
                rc = SQLITE_NOTFOUND;
        if (rc != SQLITE_ROW)
                return rc;
        from = sqlite3_column_int64(q, 0);
        (void) sqlite3_finalize(TAKE_PTR(q));

        rc = sqlite3_prepare_v2(s->db, "DELETE FROM main.manifests WHERE key = ?", -1, &q, NULL);
        rc = rc ?: sqlite3_bind_blob(q, 1, key, FINGERPRINT_SIZE, SQLITE_STATIC);
        rc = rc ?: store_step_once(q);
        if (rc != SQLITE_OK)
                return rc;
        (void) sqlite3_finalize(TAKE_PTR(q));
        rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO main.manifests (key, label, inspected, os_product, created_usec, used_usec, "
                                "n_entries, bytes) SELECT key, label, inspected, os_product, ?2, ?2, n_entries, bytes "
                                "FROM scan.manifests WHERE id = ?1",
                                -1, &q, NULL);
        rc = rc ?: sqlite3_bind_int64(q, 1, from);
        rc = rc ?: sqlite3_bind_int64(q, 2, (int64_t) now_usec_realtime());
        rc = rc ?: store_step_once(q);
        if (rc != SQLITE_OK)
                return rc;
        to = sqlite3_last_insert_rowid(s->db);
        for (size_t i = 0; rc == SQLITE_OK && i < ELEMENTSOF(tables); i++)
                rc = copy_rows(s->db, tables[i], to, from);
        return rc ?: store_evict(s, to);
}

int store_import_manifest(Store *s, Store *from, const uint8_t key[FINGERPRINT_SIZE], Error *e) {
        if (!s || !from || !key || !from->temporary || s->temporary)
                return error_set(e, ERR_INVALID_ARGS, "no temporary store to import from");

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (!locked) {
                (void) error_set(e, ERR_INTERNAL, "manifest store %s cannot be opened", s->path);
                return -EROFS;
        }
        _cleanup_stmt_ sqlite3_stmt *attach = NULL;
        int rc = sqlite3_prepare_v2(s->db, "ATTACH DATABASE ? AS scan", -1, &attach, NULL);
        rc = rc ?: sqlite3_bind_text(attach, 1, from->path, -1, SQLITE_STATIC);
        rc = rc ?: store_step_once(attach);
        if (rc != SQLITE_OK)
                return store_error(s, rc, "cannot read a scanned manifest", e);
        {
                _cleanup_rollback_ sqlite3 *txn = NULL;
                rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
                if (rc == SQLITE_OK) {
                        txn = s->db;
                        rc = import_rows(s, key);
                        rc = rc ?: sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
                }
        }
        (void) sqlite3_exec(s->db, "DETACH DATABASE scan", NULL, NULL, NULL);
        if (rc == SQLITE_NOTFOUND)
                return error_set(e, ERR_INTERNAL, "the scanned manifest is not in its temporary store");
        return rc == SQLITE_OK ? 0 : store_error(s, rc, "cannot save", e);
}

/* Package sets beside their manifests (schema version 3). */
#include "common/log.h"
#include "packages/packages-wire.h"
#include "store/store-internal.h"

static int manifest_id(Store *s, const uint8_t key[FINGERPRINT_SIZE], int64_t *ret) {
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(s->db, "SELECT id FROM manifests WHERE key = ?", -1, &q, NULL);
        rc = rc ?: sqlite3_bind_blob(q, 1, key, FINGERPRINT_SIZE, SQLITE_STATIC);
        if (rc != SQLITE_OK)
                return rc;
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
                *ret = sqlite3_column_int64(q, 0);
                return SQLITE_OK;
        }
        return rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc;
}

int store_save_packages(Store *s, const uint8_t key[FINGERPRINT_SIZE], const PackageSet *ps, Error *e) {
        if (!s || !key || !ps)
                return error_set(e, ERR_INVALID_ARGS, "no package set");
        _cleanup_wire_buf_ WireBuf b = {};
        package_set_encode(ps, &b);
        if (b.failed)
                return error_set(e, ERR_INTERNAL, "out of memory");

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        _cleanup_rollback_ sqlite3 *db = NULL;
        _cleanup_stmt_ sqlite3_stmt *old = NULL, *ins = NULL, *bytes = NULL;
        int64_t id = 0, old_len = 0;
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_error(s, rc, "cannot save a package list", e);
        db = s->db;
        rc = manifest_id(s, key, &id);
        if (rc == SQLITE_NOTFOUND)
        {
                error_set(e, ERR_INTERNAL, "no manifest for this package list");
                return -ENOENT;
        }
        /* The manifest's size counts its package list, for the budget. */
        rc = rc ?: sqlite3_prepare_v2(db, "SELECT length(data) FROM packages WHERE manifest_id = ?", -1, &old, NULL);
        rc = rc ?: sqlite3_bind_int64(old, 1, id);
        if (rc == SQLITE_OK && (rc = sqlite3_step(old)) == SQLITE_ROW)
                old_len = sqlite3_column_int64(old, 0);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
                rc = SQLITE_OK;
        rc = rc ?: sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO packages VALUES (?, ?, ?, ?)", -1, &ins, NULL);
        rc = rc ?: sqlite3_bind_int64(ins, 1, id);
        rc = rc ?: sqlite3_bind_text(ins, 2, package_format_to_string(ps->format), -1, SQLITE_STATIC);
        rc = rc ?: sqlite3_bind_int64(ins, 3, (int64_t) ps->n_packages);
        rc = rc ?: sqlite3_bind_blob64(ins, 4, b.data, b.len, SQLITE_STATIC);
        if (rc == SQLITE_OK && (rc = sqlite3_step(ins)) == SQLITE_DONE)
                rc = SQLITE_OK;
        rc = rc ?: sqlite3_prepare_v2(db, "UPDATE manifests SET bytes = bytes - ? + ? WHERE id = ?", -1, &bytes, NULL);
        rc = rc ?: sqlite3_bind_int64(bytes, 1, old_len);
        rc = rc ?: sqlite3_bind_int64(bytes, 2, (int64_t) b.len);
        rc = rc ?: sqlite3_bind_int64(bytes, 3, id);
        if (rc == SQLITE_OK && (rc = sqlite3_step(bytes)) == SQLITE_DONE)
                rc = SQLITE_OK;
        rc = rc ?: sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : store_error(s, rc, "cannot save a package list", e);
}

int store_load_packages(Store *s, const uint8_t key[FINGERPRINT_SIZE], PackageSet **ret, Error *e) {
        if (!s || !key || !ret)
                return error_set(e, ERR_INVALID_ARGS, "no package list key");
        _cleanup_store_unlock_ Store *locked = store_lock(s);
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(s->db,
                                    "SELECT p.manifest_id, p.format, p.data FROM packages p "
                                    "JOIN manifests m ON m.id = p.manifest_id WHERE m.key = ?",
                                    -1, &q, NULL);
        rc = rc ?: sqlite3_bind_blob(q, 1, key, FINGERPRINT_SIZE, SQLITE_STATIC);
        if (rc != SQLITE_OK)
                return store_error(s, rc, "cannot read a package list", e);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return store_error(s, rc, "cannot read a package list", e);

        int64_t id = sqlite3_column_int64(q, 0);
        const char *format = (const char *) sqlite3_column_text(q, 1);
        const void *data = sqlite3_column_blob(q, 2);
        size_t len = (size_t) sqlite3_column_bytes(q, 2);
        Error bad = {};
        PackageSet *ps = NULL;
        if (package_set_decode(data ? data : "", len, &ps, &bad) == 0 &&
            streq_ptr(format, package_format_to_string(ps->format))) {
                *ret = ps;
                return 1;
        }
        package_set_free(ps);
        /* Damaged: drop it, a miss; the next scan with packages saves it. */
        log_error("Manifest store %s: dropping a package list, it is damaged (%s).", s->path,
                  bad.code ? bad.message : "its format column disagrees");
        sqlite3_finalizep(&q);
        q = NULL;
        _cleanup_stmt_ sqlite3_stmt *del = NULL;
        if (sqlite3_prepare_v2(s->db, "DELETE FROM packages WHERE manifest_id = ?", -1, &del, NULL) == SQLITE_OK &&
            sqlite3_bind_int64(del, 1, id) == SQLITE_OK)
                (void) sqlite3_step(del);
        return 0;
}

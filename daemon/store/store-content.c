/* The store's contents and checksums tables (schemas/store.sql, version
 * 2): small files' bytes and their checksums under other algorithms, keyed
 * by SHA-256 so that every image and path with that content shares them. */
#include <openssl/evp.h>

#include "common/util.h"
#include "store/store-internal.h"

static bool sha256_matches(const void *data, size_t len, const uint8_t sha256[32]) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        return EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) == 1 && n == 32 && memcmp(md, sha256, 32) == 0;
}

int store_load_content(Store *s, const uint8_t sha256[32], void **ret, size_t *ret_len) {
        if (!s)
                return 0;
        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (!locked)
                return 0;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(s->db, "SELECT data FROM contents WHERE sha256 = ?", -1, &q, NULL);

        if (rc == SQLITE_OK)
                rc = sqlite3_bind_blob(q, 1, sha256, 32, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return store_errno(rc);

        const void *data = sqlite3_column_blob(q, 0);
        size_t len = (size_t) sqlite3_column_bytes(q, 0);
        /* A damaged row is a miss, never wrong content in a diff. */
        if (!sha256_matches(data ? data : "", len, sha256))
                return 0;
        void *copy = NULL;
        if (store_copy_blob(data, len, &copy, ret_len) < 0)
                return -ENOMEM;

        sqlite3_finalizep(&q);
        q = NULL;
        if (sqlite3_prepare_v2(s->db, "UPDATE contents SET used_usec = ? WHERE sha256 = ?", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_bind_int64(q, 1, (int64_t) now_usec_realtime()) == SQLITE_OK &&
            sqlite3_bind_blob(q, 2, sha256, 32, SQLITE_STATIC) == SQLITE_OK)
                (void) sqlite3_step(q);

        *ret = copy;
        return 1;
}

int store_save_content(Store *s, const uint8_t sha256[32], const void *data, size_t len) {
        if (!s)
                return 0;
        if (len > STORE_CONTENT_MAX || !sha256_matches(data, len, sha256))
                return -EINVAL;
        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (!locked)
                return -EROFS;
        _cleanup_rollback_ sqlite3 *txn = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_errno(rc);
        txn = s->db;

        rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO contents (sha256, data, used_usec) VALUES (?, ?, ?)", -1,
                                &q, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_blob(q, 1, sha256, 32, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_blob64(q, 2, len ? data : "", len, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(q, 3, (int64_t) now_usec_realtime());
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return store_errno(rc);

        /* Their own budget, a sixteenth of the store's: oldest out first. */
        sqlite3_finalizep(&q);
        q = NULL;
        rc = sqlite3_prepare_v2(s->db,
                                "DELETE FROM contents WHERE id IN (SELECT id FROM (SELECT id, SUM(length(data)) "
                                "OVER (ORDER BY used_usec DESC, id DESC) AS total FROM contents) WHERE total > ?)",
                                -1, &q, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(q, 1, (int64_t) (s->budget / 16 > STORE_CONTENT_MAX ? s->budget / 16
                                                                                           : STORE_CONTENT_MAX));
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return store_errno(rc);
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : store_errno(rc);
}

int store_load_checksum(Store *s, const uint8_t sha256[32], const char *algorithm, char **ret) {
        if (!s)
                return 0;
        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (!locked)
                return 0;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(s->db, "SELECT value FROM checksums WHERE sha256 = ? AND algorithm = ?", -1, &q,
                                    NULL);

        if (rc == SQLITE_OK)
                rc = sqlite3_bind_blob(q, 1, sha256, 32, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(q, 2, algorithm, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return store_errno(rc);
        const char *v = (const char *) sqlite3_column_text(q, 0);
        /* Hex digits only: anything else is damage, and a miss. */
        if (!v || !v[0] || strspn(v, "0123456789abcdef") != strlen(v) || strlen(v) > 256)
                return 0;
        *ret = strdup(v);
        return *ret ? 1 : -ENOMEM;
}

int store_save_checksum(Store *s, const uint8_t sha256[32], const char *algorithm, const char *value) {
        if (!s)
                return 0;
        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (!locked)
                return -EROFS;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO checksums (sha256, algorithm, value) VALUES (?, ?, ?)",
                                    -1, &q, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_blob(q, 1, sha256, 32, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(q, 2, algorithm, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(q, 3, value, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

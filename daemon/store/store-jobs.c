/* The store's jobs table (schemas/store.sql, version 3): each job's
 * terminal state, and the result document of a detached job, so that a
 * client can still ask about them after the daemon exited, crashed or was
 * restarted. Bounded: rows expire, the oldest ended ones go beyond a count,
 * and results have a byte budget of their own. */
#include <openssl/evp.h>

#include "common/util.h"
#include "store/store-internal.h"

void store_job_done(StoreJob *j) {
        free(j->daemon);
        free(j->owner);
        free(j->error_message);
        *j = (StoreJob){0};
}

void store_jobs_free(StoreJob *jobs, size_t n) {
        for (size_t i = 0; jobs && i < n; i++)
                store_job_done(&jobs[i]);
        free(jobs);
}

static int bind_text_or_null(sqlite3_stmt *q, int i, const char *s) {
        return s ? sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

int store_job_add(Store *s, const StoreJob *j, uint64_t *ret_id) {
        if (!s || !j || !j->daemon || !ret_id || j->id > INT64_MAX)
                return -EINVAL;
        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (!locked)
                return -EROFS;
        _cleanup_rollback_ sqlite3 *txn = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int64_t id = (int64_t) j->id;
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_errno(rc);
        txn = s->db;
        if (id == 0) {
                /* The counter only grows; a lost row of the counter starts it again above every id kept. */
                rc = sqlite3_prepare_v2(s->db,
                                        "INSERT INTO counters (name, value) VALUES ('job_id', (SELECT coalesce(max(id), 0) "
                                        "+ 1 FROM jobs WHERE id < 1000000000)) ON CONFLICT (name) DO UPDATE SET "
                                        "value = value + 1 RETURNING value",
                                        -1, &q, NULL);
                if (rc == SQLITE_OK)
                        rc = sqlite3_step(q);
                if (rc != SQLITE_ROW)
                        return store_errno(rc) ?: -EIO;
                id = sqlite3_column_int64(q, 0);
                sqlite3_finalizep(&q);
                q = NULL;
        }
        rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO jobs (id, daemon, owner, owner_uid, detached, created_usec, state, "
                                "differences, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
                                -1, &q, NULL);
        rc = rc ?: sqlite3_bind_int64(q, 1, id);
        rc = rc ?: sqlite3_bind_text(q, 2, j->daemon, -1, SQLITE_STATIC);
        rc = rc ?: (j->owner ? sqlite3_bind_blob64(q, 3, j->owner, strlen(j->owner), SQLITE_STATIC)
                             : sqlite3_bind_null(q, 3));
        rc = rc ?: (j->owner_uid >= 0 ? sqlite3_bind_int64(q, 4, j->owner_uid) : sqlite3_bind_null(q, 4));
        rc = rc ?: sqlite3_bind_int(q, 5, j->detached);
        rc = rc ?: sqlite3_bind_int64(q, 6, (int64_t) j->created_usec);
        rc = rc ?: sqlite3_bind_text(q, 7, job_state_to_string(j->state), -1, SQLITE_STATIC);
        rc = rc ?: sqlite3_bind_text(q, 8, job_kind_to_string(j->kind ?: JOB_KIND_COMPARE), -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = store_step_once(q);
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
                return -EEXIST;
        if (rc != SQLITE_OK)
                return store_errno(rc);
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_errno(rc);
        *ret_id = (uint64_t) id;
        return 0;
}

static void sha256(const void *data, size_t len, uint8_t out[32]) {
        unsigned n = 0;
        if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
                memset(out, 0, 32);
}

/* A statement with one number to bind, run once: an SQLite code. */
static int run_with(Store *s, const char *sql, int64_t value) {
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
        rc = rc ?: sqlite3_bind_int64(q, 1, value);
        return rc ?: store_step_once(q);
}

/* The housekeeping after an end, in its transaction: an SQLite code. */
static int jobs_trim(Store *s, uint64_t keep_usec) {
        int64_t now = (int64_t) now_usec_realtime();
        int64_t budget = (int64_t) (s->budget / 8 > STORE_RESULT_MAX ? s->budget / 8 : STORE_RESULT_MAX);
        int rc = run_with(s, "DELETE FROM jobs WHERE finished_usec IS NOT NULL AND finished_usec < ?",
                          keep_usec > (uint64_t) now ? 0 : now - (int64_t) keep_usec);
        /* Running rows never count against the limits: they are news yet to come. */
        rc = rc ?: run_with(s,
                            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_usec IS NOT NULL "
                            "ORDER BY finished_usec DESC, id DESC LIMIT -1 OFFSET ?)",
                            STORE_JOBS_MAX);
        return rc ?: run_with(s,
                              "UPDATE jobs SET result = NULL, result_sha256 = NULL WHERE id IN (SELECT id FROM "
                              "(SELECT id, SUM(length(result)) OVER (ORDER BY finished_usec DESC, id DESC) AS total "
                              "FROM jobs WHERE result IS NOT NULL) WHERE total > ?)",
                              budget);
}

int store_job_end(Store *s, const StoreJob *j, const void *result, size_t len, uint64_t keep_usec) {
        if (!s || !j || j->id == 0 || j->id > INT64_MAX)
                return -EINVAL;
        uint8_t digest[32];
        bool keep_result = result && len <= STORE_RESULT_MAX;
        if (keep_result)
                sha256(result, len, digest);

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (!locked)
                return -EROFS;
        _cleanup_rollback_ sqlite3 *txn = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_errno(rc);
        txn = s->db;
        rc = sqlite3_prepare_v2(s->db,
                                "UPDATE jobs SET state = ?2, differences = ?3, error = ?4, error_message = ?5, "
                                "finished_usec = ?6, result = ?7, result_sha256 = ?8 WHERE id = ?1",
                                -1, &q, NULL);
        rc = rc ?: sqlite3_bind_int64(q, 1, (int64_t) j->id);
        rc = rc ?: sqlite3_bind_text(q, 2, job_state_to_string(j->state), -1, SQLITE_STATIC);
        rc = rc ?: sqlite3_bind_int(q, 3, j->differences);
        rc = rc ?: bind_text_or_null(q, 4, j->error != ERR_OK ? error_code_to_string(j->error) : NULL);
        rc = rc ?: bind_text_or_null(q, 5, j->error != ERR_OK ? strempty(j->error_message) : NULL);
        rc = rc ?: sqlite3_bind_int64(q, 6, (int64_t) (j->finished_usec ?: now_usec_realtime()));
        rc = rc ?: (keep_result ? sqlite3_bind_blob64(q, 7, len ? result : "", len, SQLITE_STATIC)
                                : sqlite3_bind_null(q, 7));
        rc = rc ?: (keep_result ? sqlite3_bind_blob(q, 8, digest, 32, SQLITE_STATIC) : sqlite3_bind_null(q, 8));
        if (rc == SQLITE_OK)
                rc = store_step_once(q);
        rc = rc ?: jobs_trim(s, keep_usec);
        if (rc != SQLITE_OK)
                return store_errno(rc);
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : store_errno(rc);
}

/* A text column as a copy, NULL when it is NULL; false when out of memory. */
static bool column_dup(sqlite3_stmt *q, int i, char **ret) {
        const char *v = sqlite3_column_type(q, i) == SQLITE_NULL ? NULL : (const char *) sqlite3_column_text(q, i);
        size_t len = v ? (size_t) sqlite3_column_bytes(q, i) : 0;
        *ret = v ? strndup(v, len) : NULL;
        return !v || *ret;
}

/* One row; false when it makes no sense (damage): such a row is skipped. */
static bool read_row(sqlite3_stmt *q, StoreJob *j, bool *ret_oom) {
        _cleanup_free_ char *state = NULL, *error = NULL, *kind = NULL;
        *j = (StoreJob){
                .id = (uint64_t) sqlite3_column_int64(q, 0),
                .owner_uid = sqlite3_column_type(q, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 3),
                .detached = sqlite3_column_int(q, 4) != 0,
                .created_usec = (uint64_t) sqlite3_column_int64(q, 5),
                .differences = sqlite3_column_int(q, 7) != 0,
                .finished_usec = (uint64_t) sqlite3_column_int64(q, 10),
                .has_result = sqlite3_column_int(q, 11) != 0,
        };
        if (!column_dup(q, 1, &j->daemon) || !column_dup(q, 2, &j->owner) || !column_dup(q, 6, &state) ||
            !column_dup(q, 8, &error) || !column_dup(q, 9, &j->error_message) || !column_dup(q, 12, &kind)) {
                *ret_oom = true;
                return false;
        }
        j->state = job_state_from_string(state);
        j->kind = job_kind_from_string(kind);
        j->error = error ? error_code_from_string(error) : ERR_OK;
        bool ended = j->state == JOB_STATE_SUCCEEDED || j->state == JOB_STATE_FAILED ||
                     j->state == JOB_STATE_CANCELLED;
        return j->id > 0 && j->daemon && j->kind != JOB_KIND_UNKNOWN &&
               (ended ? j->finished_usec > 0 && (j->state == JOB_STATE_SUCCEEDED) == (j->error == ERR_OK)
                      : j->state == JOB_STATE_RUNNING && j->finished_usec == 0);
}

/* The rows that have not expired, all or the one of that id. */
static int jobs_select(Store *s, uint64_t keep_usec, uint64_t id, StoreJob **ret, size_t *ret_n) {
        if (!s || !ret || !ret_n || id > INT64_MAX)
                return -EINVAL;
        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (!locked)
                return -EROFS;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int64_t now = (int64_t) now_usec_realtime();
        int rc = sqlite3_prepare_v2(s->db,
                                    "SELECT id, daemon, owner, owner_uid, detached, created_usec, state, differences, "
                                    "error, error_message, coalesce(finished_usec, 0), result IS NOT NULL, kind FROM jobs "
                                    "WHERE (finished_usec IS NULL OR finished_usec >= ?1) AND (?2 = 0 OR id = ?2) "
                                    "ORDER BY id",
                                    -1, &q, NULL);
        rc = rc ?: sqlite3_bind_int64(q, 1, keep_usec > (uint64_t) now ? 0 : now - (int64_t) keep_usec);
        rc = rc ?: sqlite3_bind_int64(q, 2, (int64_t) id);
        if (rc != SQLITE_OK)
                return store_errno(rc);

        StoreJob *jobs = NULL;
        size_t n = 0;
        bool oom = false;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                StoreJob *l = realloc(jobs, (n + 1) * sizeof(StoreJob));
                if (!l) {
                        oom = true;
                        break;
                }
                jobs = l;
                if (read_row(q, &jobs[n], &oom))
                        n++;
                else
                        store_job_done(&jobs[n]);
                if (oom)
                        break;
        }
        if (oom || (rc != SQLITE_ROW && rc != SQLITE_DONE)) {
                store_jobs_free(jobs, n);
                return oom ? -ENOMEM : store_errno(rc);
        }
        *ret = jobs;
        *ret_n = n;
        return 0;
}

int store_jobs_list(Store *s, uint64_t keep_usec, StoreJob **ret, size_t *ret_n) {
        return jobs_select(s, keep_usec, 0, ret, ret_n);
}

int store_job_get(Store *s, uint64_t id, uint64_t keep_usec, StoreJob *ret) {
        StoreJob *rows = NULL;
        size_t n = 0;
        if (id == 0)
                return 0;
        int r = jobs_select(s, keep_usec, id, &rows, &n);
        if (r < 0)
                return r;
        if (n == 1)
                *ret = rows[0];
        free(rows);
        return n == 1;
}

int store_job_load_result(Store *s, uint64_t id, void **ret, size_t *ret_len) {
        if (!s || id == 0 || id > INT64_MAX)
                return 0;
        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (!locked)
                return 0;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(s->db, "SELECT result, result_sha256 FROM jobs WHERE id = ? AND result IS NOT NULL",
                                    -1, &q, NULL);
        rc = rc ?: sqlite3_bind_int64(q, 1, (int64_t) id);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return store_errno(rc);
        const void *data = sqlite3_column_blob(q, 0);
        size_t len = (size_t) sqlite3_column_bytes(q, 0);
        uint8_t digest[32];
        sha256(data ? data : "", len, digest);
        /* A damaged document is as good as none: never a wrong result. */
        if (sqlite3_column_bytes(q, 1) != 32 || memcmp(sqlite3_column_blob(q, 1), digest, 32) != 0)
                return 0;
        return store_copy_blob(data, len, ret, ret_len);
}

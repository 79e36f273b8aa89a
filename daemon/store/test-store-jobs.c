/* Unit tests of the store's jobs table (store-jobs.c), on real SQLite
 * files: rows in and out, ids never given twice, results kept and checked,
 * expiry and the bounds, and a version 2 database migrated. */
#include "store/store-internal.h"
#include "store/test-store-util.h"

static StoreJob running(const char *daemon, bool detached) {
        return (StoreJob){.daemon = (char *) daemon, .owner = (char *) ":1.42", .owner_uid = -1,
                          .detached = detached, .created_usec = now_usec_realtime(), .state = JOB_STATE_RUNNING};
}

static int end(Store *s, uint64_t id, JobState state, ErrorCode error, const char *result, uint64_t keep_usec) {
        StoreJob j = {.id = id, .state = state, .differences = state == JOB_STATE_SUCCEEDED, .error = error,
                      .error_message = (char *) (error ? "it went wrong" : NULL)};
        return store_job_end(s, &j, result, result ? strlen(result) : 0, keep_usec);
}

static const StoreJob *find(const StoreJob *jobs, size_t n, uint64_t id) {
        for (size_t i = 0; i < n; i++)
                if (jobs[i].id == id)
                        return &jobs[i];
        return NULL;
}

static void test_round_trip(void) {
        _cleanup_free_ char *path = tmp_path("jobs.sqlite");
        Store *s = open_store(path, 1ULL << 30);
        StoreJob a = running("daemon-a", true), b = running("daemon-a", false), *jobs = NULL;
        uint64_t id1 = 0, id2 = 0, id3 = 0;
        size_t n = 0;
        void *data = NULL;
        size_t len = 0;
        const uint64_t keep = 3600ULL * 1000000;

        CHECK(s);
        if (!s)
                return;
        CHECK(store_job_add(s, &a, &id1) == 0 && id1 == 1);
        CHECK(store_job_add(s, &b, &id2) == 0 && id2 == 2);
        CHECK(store_jobs_list(s, keep, &jobs, &n) == 0 && n == 2);
        CHECK(n == 2 && jobs[0].id == 1 && jobs[0].state == JOB_STATE_RUNNING && jobs[0].finished_usec == 0 &&
              jobs[0].kind == JOB_KIND_COMPARE &&
              jobs[0].detached && streq_ptr(jobs[0].owner, ":1.42") && streq_ptr(jobs[0].daemon, "daemon-a") &&
              jobs[0].owner_uid == -1 && !jobs[0].has_result);
        store_jobs_free(jobs, n);

        CHECK(end(s, id1, JOB_STATE_SUCCEEDED, ERR_OK, "{\"changes\": []}", keep) == 0);
        CHECK(end(s, id2, JOB_STATE_FAILED, ERR_APPLIANCE_FAILED, NULL, keep) == 0);
        CHECK(store_jobs_list(s, keep, &jobs, &n) == 0 && n == 2);
        const StoreJob *j1 = find(jobs, n, id1), *j2 = find(jobs, n, id2);
        CHECK(j1 && j1->state == JOB_STATE_SUCCEEDED && j1->differences && j1->error == ERR_OK && j1->has_result &&
              j1->finished_usec > 0);
        CHECK(j2 && j2->state == JOB_STATE_FAILED && j2->error == ERR_APPLIANCE_FAILED &&
              streq_ptr(j2->error_message, "it went wrong") && !j2->has_result);
        store_jobs_free(jobs, n);
        CHECK(store_job_load_result(s, id1, &data, &len) == 1 && len == 15 && memcmp(data, "{\"changes\": []}", 15) == 0);
        free(data);
        CHECK(store_job_load_result(s, id2, &data, &len) == 0);
        CHECK(store_job_load_result(s, 99, &data, &len) == 0);
        store_close(s);

        /* A damaged document is no result at all. */
        CHECK(sql(path, "UPDATE jobs SET result = x'7b7d' WHERE id = 1") == SQLITE_OK);
        /* A row that makes no sense is skipped. */
        CHECK(sql(path, "INSERT INTO jobs (id, daemon, kind, detached, created_usec, state, differences, "
                        "finished_usec) VALUES (1000, 'x', 'compare', 0, 1, 'succeeded', 0, NULL)") == SQLITE_OK);
        CHECK(sql(path, "INSERT INTO jobs (id, daemon, kind, detached, created_usec, state, differences, "
                        "finished_usec) VALUES (1001, 'x', 'no-such-kind', 0, 1, 'running', 0, NULL)") == SQLITE_OK);
        s = open_store(path, 1ULL << 30);
        CHECK(s && store_job_load_result(s, id1, &data, &len) == 0);
        CHECK(s && store_jobs_list(s, keep, &jobs, &n) == 0 && n == 2);
        store_jobs_free(jobs, n);

        /* Expired rows go, and their ids are never given again. */
        CHECK(sql(path, "UPDATE jobs SET finished_usec = 1000; DELETE FROM jobs WHERE id >= 1000") == SQLITE_OK);
        CHECK(s && store_jobs_list(s, keep, &jobs, &n) == 0 && n == 0);
        store_jobs_free(jobs, n);
        CHECK(s && store_job_add(s, &a, &id3) == 0 && id3 == 3);
        CHECK(s && end(s, id3, JOB_STATE_CANCELLED, ERR_CANCELLED, NULL, keep) == 0);
        CHECK(sql(path, "SELECT 1") == SQLITE_OK);
        CHECK(s && store_jobs_list(s, 0, &jobs, &n) == 0 && n == 0);
        store_jobs_free(jobs, n);
        CHECK(s && store_jobs_list(s, keep, &jobs, &n) == 0 && n == 1 && jobs[0].id == 3 &&
              jobs[0].state == JOB_STATE_CANCELLED);
        store_jobs_free(jobs, n);

        /* An id the daemon chose while it could not write here: taken as it
         * is, once; the counter goes on below it. */
        StoreJob c = running("daemon-a", true);
        uint64_t got = 0;
        c.id = 1700000000000ULL;
        CHECK(s && store_job_add(s, &c, &got) == 0 && got == c.id);
        CHECK(s && store_job_add(s, &c, &got) == -EEXIST);
        CHECK(s && store_job_add(s, &a, &got) == 0 && got == 4);
        /* A counter lost to damage starts again above the ids kept. */
        CHECK(sql(path, "DELETE FROM counters WHERE name = 'job_id'") == SQLITE_OK);
        CHECK(s && store_job_add(s, &a, &got) == 0 && got == 5);
        store_close(s);
}

/* At most STORE_JOBS_MAX ended rows, running ones never dropped; results
 * beyond their budget lose their document, oldest first; a result larger
 * than STORE_RESULT_MAX is not kept. */
static void test_bounds(void) {
        _cleanup_free_ char *path = tmp_path("jobs-bounds.sqlite");
        Store *s = open_store(path, 1);
        StoreJob a = running("daemon-b", true), *jobs = NULL;
        const uint64_t keep = 3600ULL * 1000000;
        uint64_t first = 0, id = 0;
        size_t n = 0;

        CHECK(s);
        if (!s)
                return;
        CHECK(store_job_add(s, &a, &first) == 0);
        for (unsigned i = 0; i < STORE_JOBS_MAX + 10; i++)
                CHECK(store_job_add(s, &a, &id) == 0);
        for (uint64_t i = first + 1; i <= id; i++)
                CHECK(end(s, i, JOB_STATE_SUCCEEDED, ERR_OK, NULL, keep) == 0);
        CHECK(store_jobs_list(s, keep, &jobs, &n) == 0 && n == STORE_JOBS_MAX + 1);
        CHECK(n > 0 && jobs[0].id == first && jobs[0].state == JOB_STATE_RUNNING);
        CHECK(n > 1 && jobs[1].id == first + 11);
        store_jobs_free(jobs, n);

        size_t big = STORE_RESULT_MAX / 2 + 1;
        _cleanup_free_ char *doc = must(malloc(big + 1));
        memset(doc, ' ', big);
        doc[big] = 0;
        uint64_t r1 = 0, r2 = 0, r3 = 0;
        CHECK(store_job_add(s, &a, &r1) == 0 && end(s, r1, JOB_STATE_SUCCEEDED, ERR_OK, doc, keep) == 0);
        CHECK(store_job_add(s, &a, &r2) == 0 && end(s, r2, JOB_STATE_SUCCEEDED, ERR_OK, doc, keep) == 0);
        void *data = NULL;
        size_t len = 0;
        CHECK(store_job_load_result(s, r1, &data, &len) == 0);
        CHECK(store_job_load_result(s, r2, &data, &len) == 1 && len == big);
        free(data);

        StoreJob too_big = {.id = 0, .state = JOB_STATE_SUCCEEDED};
        _cleanup_free_ char *huge = must(calloc(1, STORE_RESULT_MAX + 1));
        CHECK(store_job_add(s, &a, &r3) == 0);
        too_big.id = r3;
        CHECK(store_job_end(s, &too_big, huge, STORE_RESULT_MAX + 1, keep) == 0);
        CHECK(store_job_load_result(s, r3, &data, &len) == 0);
        CHECK(store_jobs_list(s, keep, &jobs, &n) == 0 && find(jobs, n, r3) && !find(jobs, n, r3)->has_result);
        store_jobs_free(jobs, n);
        store_close(s);
}

/* A version 3 database gets the jobs table and keeps its manifests. */
static void test_migration(void) {
        _cleanup_free_ char *path = tmp_path("jobs-migrate.sqlite");
        _cleanup_manifest_ Manifest *m = manifest_full();
        StoreJob a = running("daemon-c", false);
        uint64_t id = 0;
        Store *s = open_store(path, 1ULL << 30);

        CHECK(s && save(s, 1, m, "/a.img", 1) == 0);
        store_close(s);
        CHECK(sql(path, "DROP TABLE jobs; DELETE FROM counters WHERE name = 'job_id'; PRAGMA user_version = 3") ==
              SQLITE_OK);
        s = open_store(path, 1ULL << 30);
        CHECK(s && has_manifest(s, 1));
        CHECK(s && store_job_add(s, &a, &id) == 0 && id == 1);
        store_close(s);
}

/* A store that cannot be opened yet (its directory cannot be made): every
 * call fails, loads miss, and it is opened as soon as it can be. */
static void test_offline(void) {
        _cleanup_free_ char *dir = tmp_path("not-yet"), *path = tmp_path("not-yet/jobs.sqlite");
        StoreJob a = running("daemon-d", true), *jobs = NULL;
        Store *s = NULL;
        Error e = {};
        uint64_t id = 0;
        size_t n = 0;
        void *data = NULL;
        size_t len = 0;

        /* A file where the directory should be. */
        FILE *f = fopen(dir, "w");
        CHECK(f && fclose(f) == 0);
        CHECK(store_open(path, 1ULL << 30, &s, &e) == 1 && s && e.code != ERR_OK);
        if (!s)
                return;
        CHECK(store_job_add(s, &a, &id) < 0);
        CHECK(store_job_load_result(s, 1, &data, &len) == 0);
        CHECK(store_jobs_list(s, 1, &jobs, &n) < 0);
        /* Not before its time: the next try is still ahead. */
        CHECK(unlink(dir) == 0 && mkdir(dir, 0700) == 0);
        CHECK(store_job_add(s, &a, &id) < 0);
        s->retry_interval = 0;
        s->retry_usec = 0;
        CHECK(store_job_add(s, &a, &id) == 0 && id == 1);
        CHECK(store_jobs_list(s, 1, &jobs, &n) == 0 && n == 1);
        store_jobs_free(jobs, n);
        store_close(s);
}

int main(void) {
        if (test_store_setup() < 0)
                return 1;
        test_round_trip();
        test_bounds();
        test_migration();
        test_offline();
        return test_store_finish();
}

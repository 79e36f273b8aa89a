/* Unit tests of job-records.c on a real store: what a daemon that starts
 * brings back of the jobs its predecessors left (JobLost for those that
 * were running, results of detached jobs), and what it leaves to a daemon
 * that still runs. */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "common/test-util.h"
#include "compare/result.h"
#include "job/job-pending.h"
#include "job/job-records.h"

static char tmpdir[] = "/tmp/test-job-records-XXXXXX";

static uint64_t add_row(Store *s, const char *daemon, bool detached) {
        StoreJob row = {.daemon = (char *) daemon, .owner_uid = 1000, .detached = detached,
                        .created_usec = now_usec_realtime(), .state = JOB_STATE_RUNNING};
        uint64_t id = 0;
        CHECK(store_job_add(s, &row, &id) == 0);
        return id;
}

static Job *find(Job **jobs, size_t n, uint64_t id) {
        for (size_t i = 0; i < n; i++)
                if (jobs[i]->id == id)
                        return jobs[i];
        return NULL;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
        return remove(p);
}

int main(void) {
        const uint64_t keep = 3600ULL * 1000000;
        if (!mkdtemp(tmpdir))
                return 1;
        _cleanup_free_ char *path = must(path_join(tmpdir, "store.sqlite"));
        _cleanup_free_ char *me = job_records_daemon_name();
        Store *s = NULL;
        Error e = {0};
        CHECK(me && strlen(me) > 37);
        CHECK(store_open(path, 1ULL << 30, &s, &e) == 0);
        if (!s || !me)
                return test_report();

        /* A daemon of another boot, and one whose pid no longer runs. */
        char other_boot[] = "00000000-0000-0000-0000-000000000000 1 1";
        char dead[128];
        snprintf(dead, sizeof dead, "%.36s %d 1", me, INT32_MAX - 1);
        uint64_t lost = add_row(s, dead, false);
        uint64_t mine = add_row(s, me, true);
        uint64_t done = add_row(s, other_boot, true), plain = add_row(s, other_boot, false);
        StoreJob end = {.id = done, .state = JOB_STATE_SUCCEEDED, .differences = true};
        CHECK(store_job_end(s, &end, "{\"version\": 1}", 14, keep) == 0);
        end.id = plain;
        CHECK(store_job_end(s, &end, NULL, 0, keep) == 0);

        JobContext ctx = {.store = s};
        Job **jobs = NULL;
        size_t n = 0;
        CHECK(job_records_restore(s, &ctx, keep, &jobs, &n) == 0);
        CHECK(n == 3);
        /* A running daemon's job is its own. */
        CHECK(!find(jobs, n, mine));

        Job *j = find(jobs, n, lost);
        CHECK(j && j->restored && j->listed && !job_unfinished(j) && j->published.state == JOB_STATE_FAILED);
        CHECK(j && job_get_error(j).code == ERR_JOB_LOST && strstr(job_get_error(j).message, "ended unexpectedly") &&
              streq_ptr(j->error_name, "org.virtdiff.VirtDiff1.Error.JobLost") && j->owner_uid == 1000);
        CHECK(j && j->finished_usec > 0 && j->finished_usec <= now_usec_realtime());

        j = find(jobs, n, done);
        CHECK(j && j->published.state == JOB_STATE_SUCCEEDED && j->published.differences && j->detached);
        int fd = j ? job_open_result(j, &e) : -1;
        char buf[64] = "";
        CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) == 14 && strcmp(buf, "{\"version\": 1}") == 0);
        if (fd >= 0)
                close(fd);
        /* Sealed: no reader can change it under another. */
        CHECK(j && j->result_fd >= 0 && (fcntl(j->result_fd, F_GET_SEALS) & F_SEAL_WRITE));

        j = find(jobs, n, plain);
        e = (Error){0};
        CHECK(j && job_open_result(j, &e) < 0 && e.code == ERR_JOB_LOST);
        for (size_t i = 0; i < n; i++)
                job_free(jobs[i]);
        free(jobs);

        /* The loss is in the store now: the next daemon reads it as it is. */
        CHECK(job_records_restore(s, &ctx, keep, &jobs, &n) == 0 && n == 3);
        j = find(jobs, n, lost);
        CHECK(j && job_get_error(j).code == ERR_JOB_LOST);
        for (size_t i = 0; i < n; i++)
                job_free(jobs[i]);
        free(jobs);

        /* A job this daemon lists, then loses as it stops. */
        Job *live = job_new(&ctx);
        live->listed = true;
        live->published.state = JOB_STATE_RUNNING;
        live->id = job_record_add(s, me, live);
        CHECK(live->id > plain && live->recorded == JOB_RECORD_ROW);
        job_record_lost(s, me, live, keep);
        CHECK(live->recorded == JOB_RECORD_END);
        StoreJob *rows = NULL;
        CHECK(store_jobs_list(s, keep, &rows, &n) == 0);
        for (size_t i = 0; i < n; i++)
                if (rows[i].id == live->id)
                        CHECK(rows[i].state == JOB_STATE_FAILED && rows[i].error == ERR_JOB_LOST &&
                              strstr(rows[i].error_message, "when virt-diffd stopped"));
        store_jobs_free(rows, n);
        job_free(live);

        /* One listed while the store refused it: an id from the clock, its
         * row and its end written when the store takes them again. */
        Job *late = job_new(&ctx);
        late->listed = true;
        late->detached = true;
        late->id = now_usec_realtime() / 1000;
        late->published.state = JOB_STATE_RUNNING;
        CHECK(job_record_sync(s, me, late, keep, false) && late->recorded == JOB_RECORD_ROW);
        late->finished = late->finished_handled = true;
        late->published.state = JOB_STATE_SUCCEEDED;
        CHECK(result_seal("{}", 2, &late->result_fd, &e) == 0);
        CHECK(job_record_sync(s, me, late, keep, false) && late->recorded == JOB_RECORD_END);
        void *doc = NULL;
        size_t doc_len = 0;
        CHECK(store_job_load_result(s, late->id, &doc, &doc_len) == 1 && doc_len == 2);
        free(doc);
        job_free(late);

        /* Kept aside while the store refused them (job-pending.c): read
         * back only for this store; a dead daemon's running one is lost,
         * given to the store, and no longer needed aside. */
        _cleanup_free_ char *run = must(path_join(tmpdir, "run"));
        _cleanup_free_ char *aside = must(path_join(run, "virt-diffd/jobs"));
        CHECK(mkdir(run, 0700) == 0);
        uint64_t clock_id = now_usec_realtime() / 1000 + 7;
        StoreJob row = {.id = clock_id, .daemon = dead, .owner = (char *) ":1.42", .owner_uid = 1000,
                        .detached = true, .created_usec = now_usec_realtime(), .state = JOB_STATE_RUNNING,
                        .error_message = (char *) "two\nlines"};
        CHECK(job_pending_write(aside, path, &row) == 0);
        row.id = clock_id + 1;
        CHECK(job_pending_write(aside, "/another/store.sqlite", &row) == 0);
        StoreJob back;
        CHECK(job_pending_read(aside, path, clock_id, &back) == 1);
        CHECK(back.id == clock_id && streq_ptr(back.daemon, dead) && streq_ptr(back.owner, ":1.42") &&
              back.owner_uid == 1000 && back.detached && back.state == JOB_STATE_RUNNING &&
              streq_ptr(back.error_message, "two lines"));
        store_job_done(&back);
        CHECK(job_pending_read(aside, path, clock_id + 1, &back) == 0);
        CHECK(job_pending_read(aside, path, clock_id + 2, &back) == 0);
        uint64_t *ids = NULL;
        CHECK(job_pending_list(aside, path, keep, &ids, &n) == 0 && n == 1 && ids[0] == clock_id);
        free(ids);
        /* Garbage in the directory is no record, and goes. */
        _cleanup_free_ char *junk = must(path_join(aside, "99"));
        FILE *f = fopen(junk, "w");
        CHECK(f && fputs("state=1\n", f) >= 0 && fclose(f) == 0);
        CHECK(job_pending_read(aside, path, 99, &back) < 0);
        CHECK(job_pending_list(aside, path, keep, &ids, &n) == 0 && n == 1 && access(junk, F_OK) < 0);
        free(ids);

        CHECK(job_pending_read(aside, path, clock_id, &back) == 1);
        bool stored = false;
        j = job_records_restore_pending(s, &ctx, keep, &back, NULL, 0, &stored);
        store_job_done(&back);
        CHECK(j && stored && j->published.state == JOB_STATE_FAILED && job_get_error(j).code == ERR_JOB_LOST &&
              strstr(job_get_error(j).message, "before its manifest store could take") && j->detached);
        job_free(j);
        j = job_records_restore_one(s, &ctx, keep, clock_id);
        CHECK(j && job_get_error(j).code == ERR_JOB_LOST);
        job_free(j);
        job_pending_remove(aside, clock_id);
        CHECK(job_pending_list(aside, path, keep, &ids, &n) == 0 && n == 0);
        free(ids);
        /* One of this daemon's, running: its own, nobody restores it. */
        row.id = clock_id + 3;
        row.daemon = me;
        CHECK(job_pending_write(aside, path, &row) == 0 && job_pending_read(aside, path, row.id, &back) == 1);
        CHECK(!job_records_restore_pending(s, &ctx, keep, &back, NULL, 0, &stored));
        store_job_done(&back);
        /* A detached job that succeeded while the store refused it: its
         * result waits beside its record, comes back with it, and goes to
         * the store with it. */
        row.id = clock_id + 4;
        row.daemon = dead;
        row.state = JOB_STATE_SUCCEEDED;
        row.error_message = NULL;
        int rfd = -1;
        CHECK(result_seal("{\"kept\": 1}", 11, &rfd, &e) == 0);
        CHECK(job_pending_write(aside, path, &row) == 0 && job_pending_write_result(aside, row.id, rfd) == 0);
        if (rfd >= 0)
                close(rfd);
        void *kept = NULL;
        size_t kept_len = 0;
        CHECK(job_pending_read(aside, path, row.id, &back) == 1 &&
              job_pending_read_result(aside, row.id, &kept, &kept_len) == 1 && kept_len == 11);
        j = job_records_restore_pending(s, &ctx, keep, &back, kept, kept_len, &stored);
        store_job_done(&back);
        free(kept);
        CHECK(j && stored && j->published.state == JOB_STATE_SUCCEEDED && j->result_fd >= 0);
        char got[32] = "";
        CHECK(j && j->result_fd >= 0 && pread(j->result_fd, got, sizeof got - 1, 0) == 11 &&
              strcmp(got, "{\"kept\": 1}") == 0);
        job_free(j);
        kept = NULL;
        CHECK(store_job_load_result(s, row.id, &kept, &kept_len) == 1 && kept_len == 11);
        free(kept);
        job_pending_remove(aside, row.id);
        _cleanup_free_ char *result_file = NULL;
        CHECK(asprintf(&result_file, "%s/%" PRIu64 ".result", aside, row.id) > 0 && access(result_file, F_OK) < 0);

        /* Expired: older than keep. */
        CHECK(job_pending_list(aside, path, 0, &ids, &n) == 0 && n == 0);
        free(ids);

        store_close(s);
        if (n_failed == 0)
                (void) nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return test_report();
}

#include "job/job-records.h"

#include <sys/stat.h>

#include "common/log.h"
#include "compare/result.h"

char *job_records_daemon_name(void) {
        char boot[37];
        uint64_t ticks;
        char *name;
        if (boot_id(boot) < 0 || process_start_ticks(getpid(), &ticks) < 0)
                return NULL;
        if (asprintf(&name, "%s %d %" PRIu64, boot, (int) getpid(), ticks) < 0)
                return NULL;
        return name;
}

/* Whether the daemon a row names still runs: the same boot, and its pid
 * started at the same tick. */
static bool daemon_alive(const char *name) {
        char boot[37], row_boot[37];
        int pid;
        uint64_t ticks, now_ticks;
        if (sscanf(name, "%36s %d %" SCNu64, row_boot, &pid, &ticks) != 3 || boot_id(boot) < 0)
                return false;
        return strcmp(boot, row_boot) == 0 && pid > 0 && process_start_ticks(pid, &now_ticks) >= 0 &&
               now_ticks == ticks;
}

static StoreJob row_of(const char *daemon, const Job *j) {
        return (StoreJob){
                .id = j->id,
                .daemon = (char *) daemon,
                .kind = j->kind,
                .owner = j->owner,
                .owner_uid = j->caller ? (int64_t) j->owner_uid : -1,
                .detached = j->detached,
                .created_usec = j->created_usec,
                .state = JOB_STATE_RUNNING,
        };
}

uint64_t job_record_add(Store *s, const char *daemon, Job *j) {
        if (!s || !daemon)
                return 0;
        StoreJob row = row_of(daemon, j);
        uint64_t id = 0;
        row.id = 0;
        int r = store_job_add(s, &row, &id);
        if (r < 0) {
                log_error("Cannot keep a record of a new job in the manifest store (kept for later): %s",
                          strerror(-r));
                return 0;
        }
        j->recorded = JOB_RECORD_ROW;
        return id;
}

/* A detached job's result: its client may come for it after a restart. */
static char *read_result(Job *j, size_t *ret_len) {
        if (!j->detached || j->published.state != JOB_STATE_SUCCEEDED || j->result_fd < 0)
                return NULL;
        struct stat st;
        if (fstat(j->result_fd, &st) < 0 || st.st_size < 0 || (uint64_t) st.st_size > STORE_RESULT_MAX)
                return NULL;
        char *buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return NULL;
        size_t got = 0;
        while (got < (size_t) st.st_size) {
                ssize_t n = pread(j->result_fd, buf + got, (size_t) st.st_size - got, (off_t) got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        free(buf);
                        return NULL;
                }
                got += (size_t) n;
        }
        *ret_len = got;
        return buf;
}

/* The row first, when it is not there yet, then the end: state and error
 * (e), the result of a detached job that succeeded. */
static bool record(Store *s, const char *daemon, Job *j, JobState state, const Error *e, uint64_t keep_usec,
                   bool quiet) {
        int r = 0;
        if (j->recorded == JOB_RECORD_NONE) {
                StoreJob row = row_of(daemon, j);
                uint64_t id;
                r = store_job_add(s, &row, &id);
                /* A row there already: an earlier try wrote it before failing. */
                if (r >= 0 || r == -EEXIST)
                        j->recorded = JOB_RECORD_ROW;
        }
        if (j->recorded == JOB_RECORD_ROW && state != JOB_STATE_RUNNING) {
                size_t len = 0;
                _cleanup_free_ char *result = read_result(j, &len);
                StoreJob row = {
                        .id = j->id,
                        .state = state,
                        .differences = j->published.differences != 0,
                        .error = e->code,
                        .error_message = (char *) e->message,
                        .finished_usec = j->finished_usec ?: now_usec_realtime(),
                };
                r = store_job_end(s, &row, result, len, keep_usec);
                if (r >= 0)
                        j->recorded = JOB_RECORD_END;
        }
        if (r < 0 && !quiet)
                log_error("Cannot keep a record of job %" PRIu64 " in the manifest store (kept for later): %s",
                          j->id, strerror(-r));
        return r >= 0;
}

bool job_record_sync(Store *s, const char *daemon, Job *j, uint64_t keep_usec, bool quiet) {
        if (!s || !daemon || !j->listed || j->recorded == JOB_RECORD_END)
                return true;
        if (job_unfinished(j) && j->recorded == JOB_RECORD_ROW)
                return true;
        Error e = job_get_error(j);
        return record(s, daemon, j, job_unfinished(j) ? JOB_STATE_RUNNING : j->published.state, &e, keep_usec,
                      quiet);
}

void job_record_lost(Store *s, const char *daemon, Job *j, uint64_t keep_usec) {
        if (!s || !daemon || !j->listed || j->recorded == JOB_RECORD_END)
                return;
        Error e = {0};
        (void) error_set(&e, ERR_JOB_LOST, "job %" PRIu64 " was %s when virt-diffd stopped; run it again", j->id,
                         j->published.state == JOB_STATE_QUEUED ? "queued" : "running");
        (void) record(s, daemon, j, JOB_STATE_FAILED, &e, keep_usec, false);
}

/* A finished Job as the row says. */
static Job *job_from_row(const JobContext *ctx, const StoreJob *row) {
        _cleanup_job_ Job *j = job_new(ctx);
        if (!j)
                return NULL;
        j->id = row->id;
        j->kind = row->kind;
        j->restored = true;
        j->recorded = JOB_RECORD_END;
        j->listed = true;
        j->validated = j->finished = true;
        j->validated_handled = j->finished_handled = true;
        j->detached = row->detached;
        j->created_usec = row->created_usec;
        j->finished_usec = row->finished_usec;
        j->owner_uid = row->owner_uid >= 0 ? (uid_t) row->owner_uid : (uid_t) -1;
        j->status.state = row->state;
        j->status.differences = row->differences;
        if (row->owner && !(j->owner = strdup(row->owner)))
                return NULL;
        if (row->error != ERR_OK) {
                j->error.code = row->error;
                snprintf(j->error.message, sizeof j->error.message, "%s", strempty(row->error_message));
                if (asprintf(&j->error_name, VD_ERROR_PREFIX "%s", error_code_to_string(row->error)) < 0) {
                        j->error_name = NULL;
                        return NULL;
                }
                if (!(j->error_message = strdup(j->error.message)))
                        return NULL;
        }
        j->published = j->status;
        return TAKE_PTR(j);
}

/* A row its dead daemon left running, ended as lost. */
static void mark_lost(StoreJob *row, const char *why) {
        char message[320];
        int pid = 0;
        (void) sscanf(row->daemon, "%*s %d", &pid);
        snprintf(message, sizeof message, "job %" PRIu64 " was running when its virt-diffd (pid %d) ended%s; run it again",
                 row->id, pid, why);
        row->state = JOB_STATE_FAILED;
        row->error = ERR_JOB_LOST;
        free(row->error_message);
        row->error_message = strdup(message);
        row->finished_usec = now_usec_realtime();
}

/* A row as a restored Job: an ended one as it is, one that a dead daemon
 * left running as lost (and the store says so from now on). NULL: a job a
 * live daemon runs (or no memory: *ret_oom). */
static Job *restore_row(Store *s, const JobContext *ctx, uint64_t keep_usec, StoreJob *row, bool *ret_oom) {
        /* An ended row is final, whoever wrote it (a daemon still stopping). */
        if (row->state == JOB_STATE_RUNNING && daemon_alive(row->daemon))
                return NULL;
        if (row->state == JOB_STATE_RUNNING) {
                mark_lost(row, " unexpectedly");
                int r = store_job_end(s, row, NULL, 0, keep_usec);
                if (r < 0)
                        log_error("Cannot mark job %" PRIu64 " lost in the manifest store: %s", row->id, strerror(-r));
                else
                        log_info("Job %" PRIu64 " was lost with the daemon that ran it.", row->id);
        }
        Job *j = job_from_row(ctx, row);
        *ret_oom = !j;
        return j;
}

int job_records_restore(Store *s, const JobContext *ctx, uint64_t keep_usec, Job ***ret, size_t *ret_n) {
        StoreJob *rows = NULL;
        size_t n_rows = 0, n = 0;
        bool oom = false;
        *ret = NULL;
        *ret_n = 0;
        if (!s)
                return 0;
        int r = store_jobs_list(s, keep_usec, &rows, &n_rows);
        if (r < 0)
                return r;
        Job **jobs = n_rows ? calloc(n_rows, sizeof(Job *)) : NULL;
        for (size_t i = 0; jobs && i < n_rows && !oom; i++) {
                jobs[n] = restore_row(s, ctx, keep_usec, &rows[i], &oom);
                if (jobs[n])
                        n++;
        }
        store_jobs_free(rows, n_rows);
        if (oom || (n_rows && !jobs)) {
                for (size_t i = 0; i < n; i++)
                        job_free(jobs[i]);
                free(jobs);
                return -ENOMEM;
        }
        *ret = jobs;
        *ret_n = n;
        return 0;
}

void job_record_row(const char *daemon, Job *j, StoreJob *ret, Error *e) {
        *ret = row_of(daemon, j);
        if (job_unfinished(j))
                return;
        *e = job_get_error(j);
        ret->state = j->published.state;
        ret->differences = j->published.differences != 0;
        ret->error = e->code;
        ret->error_message = e->code != ERR_OK ? e->message : NULL;
        ret->finished_usec = j->finished_usec ?: now_usec_realtime();
}

Job *job_records_restore_pending(Store *s, const JobContext *ctx, uint64_t keep_usec, StoreJob *row,
                                 const void *result, size_t len, bool *ret_stored) {
        *ret_stored = false;
        if (row->state == JOB_STATE_RUNNING && daemon_alive(row->daemon))
                return NULL;
        if (row->state == JOB_STATE_RUNNING)
                mark_lost(row, " before its manifest store could take the job's record");
        /* The store may take it now: then it holds the job from here on. */
        uint64_t id;
        int r = s ? store_job_add(s, row, &id) : -ENOENT;
        if (r >= 0 || r == -EEXIST)
                *ret_stored = store_job_end(s, row, result, len, keep_usec) >= 0;
        Job *j = job_from_row(ctx, row);
        if (j && !*ret_stored)
                j->recorded = JOB_RECORD_NONE;
        Error e = {0};
        /* Its result, kept aside too, readable at once (the store may
         * still refuse it). */
        if (j && result && result_seal(result, len, &j->result_fd, &e) < 0)
                log_error("Cannot restore the result of job %" PRIu64 ": %s", j->id, e.message);
        return j;
}

Job *job_records_restore_one(Store *s, const JobContext *ctx, uint64_t keep_usec, uint64_t id) {
        StoreJob row;
        bool oom = false;
        if (!s || store_job_get(s, id, keep_usec, &row) <= 0)
                return NULL;
        Job *j = restore_row(s, ctx, keep_usec, &row, &oom);
        store_job_done(&row);
        return j;
}

int job_record_load_result(Job *j, Error *e) {
        _cleanup_free_ void *data = NULL;
        size_t len = 0;
        int r = store_job_load_result(j->ctx ? j->ctx->store : NULL, j->id, &data, &len);
        if (r < 0)
                return error_set(e, ERR_INTERNAL, "cannot read the result of job %" PRIu64 " from the store: %s",
                                 j->id, strerror(-r));
        if (r == 0 && j->detached)
                return error_set(e, ERR_JOB_LOST,
                                 "the result of job %" PRIu64 " was not kept when virt-diffd restarted (its "
                                 "manifest store could not take it, or it was larger than the store keeps)",
                                 j->id);
        if (r == 0)
                return error_set(e, ERR_JOB_LOST,
                                 "the result of job %" PRIu64 " was not kept when virt-diffd restarted (only "
                                 "detached jobs' results are)",
                                 j->id);
        int fd = -1;
        if (result_seal(data, len, &fd, e) < 0)
                return -1;
        j->result_fd = fd;
        return 0;
}

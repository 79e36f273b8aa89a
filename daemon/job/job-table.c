#include "job/job-table.h"

#include <sys/eventfd.h>

#include "common/log.h"
#include "job/job-pending.h"
#include "job/job-records.h"

#define WATCH_INTERVAL_USEC 1000000ULL
#define RECORD_RETRY_USEC (5 * 1000000ULL) /* the store could not be written: again after this */

/* A finished job's expiry timer: the table owns it, not any front-end. */
typedef struct Retained {
        JobTable *table;
        Job *job;
        sd_event_source *timer;
} Retained;

struct JobTable {
        sd_event *event;
        JobContext ctx;
        uint64_t retain_usec;
        bool persist;
        bool restore_pending; /* the store could not be read at start */
        char *daemon_name;    /* in the store's job rows */
        char *records_dir;    /* the rows the store refused, meanwhile (job-pending.h) */
        char *store_path;
        void (*counts_changed)(void *userdata);
        void *userdata;

        Job **jobs; /* submission order */
        size_t n_jobs;
        uint64_t next_id; /* when the store gives none */
        Scheduler *scheduler;

        JobListener listeners[JOB_MAX_FRONTENDS];
        size_t n_listeners;

        int wake_fd;
        sd_event_source *wake_source;
        sd_event_source *watch_timer; /* the appliances' hang watch, each second */
        sd_event_source *record_timer; /* records the store could not take yet */
        Retained **retained;
        size_t n_retained;
};

#define EACH_LISTENER(t, l) for (JobListener *l = (t)->listeners; l < (t)->listeners + (t)->n_listeners; l++)
#define NOTIFY(t, cb, j)                                                                                   \
        EACH_LISTENER(t, l_) if (l_->cb) l_->cb(j, l_->userdata)

static void table_wake(void *userdata) {
        JobTable *t = userdata;
        uint64_t one = 1;
        (void) !write(t->wake_fd, &one, sizeof one);
}

static bool has_job(JobTable *t, const Job *j) {
        for (size_t i = 0; i < t->n_jobs; i++)
                if (t->jobs[i] == j)
                        return true;
        return false;
}

bool job_table_busy(JobTable *t) {
        for (size_t i = 0; i < t->n_jobs; i++)
                if (job_unfinished(t->jobs[i]))
                        return true;
        return false;
}

static void counts_changed(JobTable *t) {
        if (t->counts_changed)
                t->counts_changed(t->userdata);
}

static void remove_job(JobTable *t, Job *j) {
        for (size_t i = 0; i < t->n_jobs; i++)
                if (t->jobs[i] == j) {
                        memmove(t->jobs + i, t->jobs + i + 1, (t->n_jobs - i - 1) * sizeof(Job *));
                        t->n_jobs--;
                        break;
                }
        scheduler_remove(t->scheduler, j);
        NOTIFY(t, removed, j);
        job_free(j);
        counts_changed(t);
}

static void retained_free(Retained *r) {
        sd_event_source_disable_unref(r->timer);
        free(r);
}

static int on_expire(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Retained *r = userdata;
        JobTable *t = r->table;
        for (size_t i = 0; i < t->n_retained; i++)
                if (t->retained[i] == r) {
                        t->retained[i] = t->retained[--t->n_retained];
                        break;
                }
        log_debug("Forgetting finished job %" PRIu64 ".", r->job->id);
        remove_job(t, r->job);
        retained_free(r);
        return 0;
}

/* A finished job stays readable for retain_usec after its end (Wait,
 * GetResult), a restored one too. */
static void retain(JobTable *t, Job *j) {
        Retained *r = calloc(1, sizeof(*r));
        Retained **l = r ? realloc(t->retained, (t->n_retained + 1) * sizeof(Retained *)) : NULL;
        uint64_t now, real = now_usec_realtime(), left = t->retain_usec;
        if (!l) {
                free(r);
                return; /* kept until the daemon exits */
        }
        t->retained = l;
        *r = (Retained){.table = t, .job = j};
        if (j->finished_usec < real)
                left = real - j->finished_usec >= left ? 0 : left - (real - j->finished_usec);
        (void) sd_event_now(t->event, CLOCK_MONOTONIC, &now);
        if (sd_event_add_time(t->event, &r->timer, CLOCK_MONOTONIC, now + left, 0, on_expire, r) < 0) {
                free(r);
                return;
        }
        t->retained[t->n_retained++] = r;
}

static int restore_jobs(JobTable *t);

/* What the store lacks of j is kept in the runtime directory meanwhile, and
 * removed once the store holds it all. */
static void keep_aside(JobTable *t, Job *j) {
        if (!t->records_dir || !t->daemon_name || !j->listed)
                return;
        bool held = j->recorded == JOB_RECORD_END || (job_unfinished(j) && j->recorded == JOB_RECORD_ROW);
        if (held) {
                if (j->kept_aside)
                        job_pending_remove(t->records_dir, j->id);
                j->kept_aside = false;
                return;
        }
        StoreJob row;
        Error e = {0};
        job_record_row(t->daemon_name, j, &row, &e);
        int r = job_pending_write(t->records_dir, t->store_path, &row);
        /* A detached job's result is what its client will come for. */
        if (r >= 0 && row.state == JOB_STATE_SUCCEEDED && j->detached && j->result_fd >= 0)
                r = job_pending_write_result(t->records_dir, j->id, j->result_fd);
        if (r < 0)
                log_error("Cannot keep job %" PRIu64 "'s record in %s either: %s", j->id, t->records_dir,
                          strerror(-r));
        j->kept_aside = true;
}

static bool sync_record(JobTable *t, Job *j, bool quiet) {
        bool all = job_record_sync(t->ctx.store, t->daemon_name, j, t->retain_usec, quiet);
        keep_aside(t, j);
        return all;
}

/* Records the store refused (read-only, full, locked) are written again
 * every few seconds until it takes them all, and the jobs kept from before
 * the restart are read once it can be read: nothing a client may ask about
 * is lost to a passing fault. */
static int on_record_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        JobTable *t = userdata;
        if (t->restore_pending && restore_jobs(t) >= 0)
                t->restore_pending = false;
        bool all = !t->restore_pending;
        for (size_t i = 0; i < t->n_jobs; i++)
                all &= sync_record(t, t->jobs[i], true);
        if (all)
                log_info("The manifest store took the job records it refused before.");
        (void) sd_event_source_set_time(s, usec + RECORD_RETRY_USEC);
        (void) sd_event_source_set_enabled(s, all ? SD_EVENT_OFF : SD_EVENT_ON);
        return 0;
}

static void arm_record_retry(JobTable *t) {
        uint64_t now;
        if (!t->record_timer || sd_event_source_get_enabled(t->record_timer, NULL) > 0)
                return;
        (void) sd_event_now(t->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(t->record_timer, now + RECORD_RETRY_USEC);
        (void) sd_event_source_set_enabled(t->record_timer, SD_EVENT_ON);
}

static void job_finished(JobTable *t, Job *j) {
        j->finished_handled = true;
        j->finished_usec = now_usec_realtime();
        if (j->thread_started) {
                (void) pthread_join(j->thread, NULL);
                j->thread_started = false;
        }
        scheduler_remove(t->scheduler, j);
        if (j->error_message)
                log_info("Job %" PRIu64 " %s: %s", j->id, job_state_to_string(j->published.state), j->error_message);
        else
                log_info("Job %" PRIu64 " succeeded: %s.", j->id,
                         j->published.differences ? "differences found" : "no differences");
        if (t->persist && !sync_record(t, j, false))
                arm_record_retry(t);
        NOTIFY(t, finished, j);
        /* Kept for --keep-jobs: its files need not be (a daemon with a
         * thousand ended jobs held two thousand images open). */
        job_release_inputs(j);
        retain(t, j);
        counts_changed(t);
}

/* An id never given before: the store's, else one from the clock (in
 * milliseconds, rising): a daemon without its store, restarted, cannot
 * hand out an id it gave before, nor one the store gives. */
static uint64_t new_id(JobTable *t, Job *j) {
        uint64_t id = t->persist ? job_record_add(t->ctx.store, t->daemon_name, j) : 0;
        if (id)
                return id;
        if (t->persist && t->next_id < now_usec_realtime() / 1000)
                t->next_id = now_usec_realtime() / 1000;
        /* Its row is written once the store takes it. */
        if (t->persist && t->ctx.store && t->daemon_name)
                arm_record_retry(t);
        return t->next_id++;
}

/* What one job's thread reported since the last look. Returns false when
 * the job is gone. */
static bool dispatch(JobTable *t, Job *j) {
        unsigned changed = job_sync(j);

        if (changed & JOB_CHANGED_VALIDATED) {
                j->validated_handled = true;
                if (j->published.state == JOB_STATE_FAILED) {
                        /* Bad input: the front-end answers with the error; no id. */
                        log_info("Rejected comparison: %s", job_get_error(j).message);
                        NOTIFY(t, validated, j);
                        remove_job(t, j);
                        return false;
                }
                j->id = new_id(t, j);
                j->listed = true;
                if (t->persist)
                        keep_aside(t, j);
                log_info("Job %" PRIu64 " started.", j->id);
                NOTIFY(t, validated, j);
        }
        if (!j->listed)
                return true;
        if (changed & JOB_CHANGED_FINISHED)
                job_finished(t, j);
        else if (changed & JOB_CHANGED_STATUS)
                NOTIFY(t, changed, j);
        return true;
}

static bool any_running(JobTable *t) {
        for (size_t i = 0; i < t->n_jobs; i++)
                if (t->jobs[i]->admit_seq && job_unfinished(t->jobs[i]))
                        return true;
        return false;
}

static int on_watch(sd_event_source *s, uint64_t usec, void *userdata) {
        JobTable *t = userdata;
        for (size_t i = 0; i < t->n_jobs; i++)
                if (t->jobs[i]->admit_seq && job_unfinished(t->jobs[i]))
                        job_watch_appliances(t->jobs[i], usec);
        (void) sd_event_source_set_time(s, usec + WATCH_INTERVAL_USEC);
        /* Nothing to watch: no wakeups until a job runs again. */
        (void) sd_event_source_set_enabled(s, any_running(t) ? SD_EVENT_ON : SD_EVENT_OFF);
        return 0;
}

static void arm_watch(JobTable *t) {
        uint64_t now;
        if (!any_running(t) || sd_event_source_get_enabled(t->watch_timer, NULL) > 0)
                return;
        (void) sd_event_now(t->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(t->watch_timer, now + WATCH_INTERVAL_USEC);
        (void) sd_event_source_set_enabled(t->watch_timer, SD_EVENT_ON);
}

static int on_wake(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        JobTable *t = userdata;
        uint64_t v;
        (void) !read(fd, &v, sizeof v);
        /* dispatch() may remove jobs: walk a copy. */
        size_t n = t->n_jobs;
        _cleanup_free_ Job **copy = n ? malloc(n * sizeof(Job *)) : NULL;
        if (n && !copy)
                return 0;
        if (n)
                memcpy(copy, t->jobs, n * sizeof(Job *));
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < n; i++)
                        if (has_job(t, copy[i]))
                                (void) dispatch(t, copy[i]);
                /* Then once more, to publish what the scheduler changed. */
                if (pass == 0)
                        scheduler_run(t->scheduler);
        }
        arm_watch(t);
        counts_changed(t);
        return 0;
}

static Job *listed_job(JobTable *t, uint64_t id) {
        for (size_t i = 0; i < t->n_jobs; i++)
                if (t->jobs[i]->listed && t->jobs[i]->id == id)
                        return t->jobs[i];
        return NULL;
}

/* A job the store kept, finished, into the table: listed, and readable
 * until it expires. Front-ends there already hear of it as of any job. */
static int adopt_restored(JobTable *t, Job *j) {
        Job **l = realloc(t->jobs, (t->n_jobs + 1) * sizeof(Job *));
        if (!l) {
                job_free(j);
                return -ENOMEM;
        }
        t->jobs = l;
        t->jobs[t->n_jobs++] = j;
        retain(t, j);
        NOTIFY(t, added, j);
        NOTIFY(t, validated, j);
        NOTIFY(t, finished, j);
        return 0;
}

/* A job whose record its daemon kept aside (the store refused it), as a
 * restored job; the store is given it when it can take it. */
static Job *restore_aside(JobTable *t, uint64_t id) {
        StoreJob row;
        bool stored = false;
        if (!t->records_dir || !t->daemon_name || job_pending_read(t->records_dir, t->store_path, id, &row) <= 0)
                return NULL;
        _cleanup_free_ void *result = NULL;
        size_t len = 0;
        if (job_pending_read_result(t->records_dir, id, &result, &len) < 0)
                log_error("Cannot read the result of job %" PRIu64 " kept in %s", id, t->records_dir);
        Job *j = job_records_restore_pending(t->ctx.store, &t->ctx, t->retain_usec, &row, result, len, &stored);
        store_job_done(&row);
        if (j && stored)
                job_pending_remove(t->records_dir, id);
        else if (j) {
                j->kept_aside = true;
                arm_record_retry(t);
        }
        return j;
}

/* The jobs kept aside by earlier daemons: before the store's, so that an
 * end the store refused comes before its row that says "running". */
static int restore_aside_all(JobTable *t) {
        _cleanup_free_ uint64_t *ids = NULL;
        size_t n = 0;
        int r = job_pending_list(t->records_dir, t->store_path, t->retain_usec, &ids, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (listed_job(t, ids[i]))
                        continue;
                Job *j = restore_aside(t, ids[i]);
                if (j)
                        r = adopt_restored(t, j);
        }
        return r;
}

/* The jobs the store kept from earlier daemons. */
static int restore_jobs(JobTable *t) {
        Job **restored = NULL;
        size_t n = 0;
        int r = restore_aside_all(t);
        if (r < 0)
                log_error("Cannot read the job records kept in %s: %s", t->records_dir, strerror(-r));
        r = job_records_restore(t->ctx.store, &t->ctx, t->retain_usec, &restored, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                /* One read back by its id already (job_table_find()) stays. */
                if (r >= 0 && !listed_job(t, restored[i]->id))
                        r = adopt_restored(t, restored[i]);
                else
                        job_free(restored[i]);
        free(restored);
        if (r < 0)
                return r;
        if (n)
                log_info("%zu finished job%s kept from before the restart.", n, n == 1 ? "" : "s");
        return 0;
}

int job_table_new(sd_event *event, const JobTableOptions *o, JobTable **ret) {
        _cleanup_(job_table_freep) JobTable *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->event = sd_event_ref(event);
        t->wake_fd = -1;
        t->next_id = 1;
        t->retain_usec = o->retain_usec;
        t->persist = o->persist;
        t->counts_changed = o->counts_changed;
        t->userdata = o->userdata;
        t->ctx = (JobContext){.pool = o->pool, .store = o->store, .no_direct = o->no_direct, .wake = table_wake,
                              .userdata = t};
        if (o->persist && o->store && o->records_dir && o->store_path &&
            (!(t->records_dir = strdup(o->records_dir)) || !(t->store_path = strdup(o->store_path))))
                return -ENOMEM;

        int r = scheduler_new(&o->limits, &t->scheduler);
        if (r < 0)
                return r;
        t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (t->wake_fd < 0)
                return -errno;
        r = sd_event_add_io(event, &t->wake_source, t->wake_fd, EPOLLIN, on_wake, t);
        if (r < 0)
                return r;
        r = sd_event_add_time(event, &t->watch_timer, CLOCK_MONOTONIC, 0, 0, on_watch, t);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(t->watch_timer, SD_EVENT_OFF);
        r = sd_event_add_time(event, &t->record_timer, CLOCK_MONOTONIC, 0, 0, on_record_retry, t);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(t->record_timer, SD_EVENT_OFF);
        if (t->persist && t->ctx.store) {
                t->daemon_name = job_records_daemon_name();
                if (!t->daemon_name)
                        log_error("Cannot name this daemon in the job records: jobs will not outlive it.");
                /* Without them the daemon still works; what came before is lost. */
                r = t->daemon_name ? restore_jobs(t) : 0;
                if (r < 0) {
                        log_error("Cannot read the jobs kept in the manifest store (tried again later): %s",
                                  strerror(-r));
                        t->restore_pending = true;
                        arm_record_retry(t);
                }
        }
        *ret = TAKE_PTR(t);
        return 0;
}

void job_table_cancel_all(JobTable *t) {
        for (size_t i = 0; i < t->n_jobs; i++)
                job_cancel(t->jobs[i]);
}

JobTable *job_table_free(JobTable *t) {
        if (!t)
                return NULL;
        /* Cancel first so every thread returns quickly: no qemu outlives
         * the daemon. */
        job_table_stop(t);
        for (size_t i = 0; i < t->n_retained; i++)
                retained_free(t->retained[i]);
        free(t->retained);
        for (size_t i = 0; i < t->n_jobs; i++) {
                NOTIFY(t, removed, t->jobs[i]);
                job_free(t->jobs[i]);
        }
        free(t->jobs);
        scheduler_free(t->scheduler);
        sd_event_source_disable_unref(t->watch_timer);
        sd_event_source_disable_unref(t->record_timer);
        sd_event_source_disable_unref(t->wake_source);
        if (t->wake_fd >= 0)
                (void) close(t->wake_fd);
        sd_event_unref(t->event);
        free(t->daemon_name);
        free(t->records_dir);
        free(t->store_path);
        free(t);
        return NULL;
}

int job_table_add_listener(JobTable *t, const JobListener *l, size_t *ret_slot) {
        if (t->n_listeners >= JOB_MAX_FRONTENDS)
                return -ENOSPC;
        t->listeners[t->n_listeners] = *l;
        *ret_slot = t->n_listeners++;
        /* The jobs already there (restored ones) for the newcomer too. */
        for (size_t i = 0; i < t->n_jobs; i++) {
                Job *j = t->jobs[i];
                if (l->added)
                        l->added(j, l->userdata);
                if (j->validated_handled && l->validated)
                        l->validated(j, l->userdata);
                if (j->finished_handled && l->finished)
                        l->finished(j, l->userdata);
        }
        return 0;
}

Job *job_table_new_job(JobTable *t) {
        return job_new(&t->ctx);
}

int job_table_submit(JobTable *t, Job *j) {
        if (!scheduler_has_room(t->scheduler))
                return -EBUSY;
        Job **l = realloc(t->jobs, (t->n_jobs + 1) * sizeof(Job *));
        if (!l)
                return -ENOMEM;
        t->jobs = l;
        int r = scheduler_add(t->scheduler, j);
        if (r < 0)
                return r;
        r = job_start(j);
        if (r < 0) {
                scheduler_remove(t->scheduler, j);
                return r;
        }
        t->jobs[t->n_jobs++] = j;
        NOTIFY(t, added, j);
        counts_changed(t);
        return 0;
}

Job *job_table_find(JobTable *t, uint64_t id) {
        Job *found = listed_job(t, id);
        if (found)
                return found;
        /* Not ours: a job of a daemon that was still stopping when this one
         * started may be in the store by now. */
        Job *j = t->persist && t->daemon_name ? restore_aside(t, id) : NULL;
        if (!j && t->persist && t->daemon_name)
                j = job_records_restore_one(t->ctx.store, &t->ctx, t->retain_usec, id);
        if (!j || adopt_restored(t, j) < 0)
                return NULL;
        log_info("Job %" PRIu64 " read back from the manifest store.", id);
        return j;
}

void job_table_stop(JobTable *t) {
        /* Their clients may ask after them: they end here, as lost. */
        for (size_t i = 0; t->persist && i < t->n_jobs; i++) {
                if (job_unfinished(t->jobs[i]))
                        job_record_lost(t->ctx.store, t->daemon_name, t->jobs[i], t->retain_usec);
                else
                        (void) sync_record(t, t->jobs[i], false);
        }
        job_table_cancel_all(t);
}

bool job_table_records_readable(JobTable *t) {
        return !t->persist || !t->ctx.store || store_online(t->ctx.store);
}

Job *const *job_table_jobs(JobTable *t, size_t *ret_n) {
        *ret_n = t->n_jobs;
        return t->jobs;
}

Scheduler *job_table_scheduler(JobTable *t) {
        return t->scheduler;
}

#include "job/job.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "appliance/pool.h"
#include "bus/manager.h"
#include "common/log.h"
#include "compare/result-json.h"
#include "source/disk-key.h"
#include "source/domain.h"
#include "source/nbd.h"
#include "store/store.h"

Job *job_new(Manager *m) {
        Job *j = calloc(1, sizeof(*j));
        if (!j)
                return NULL;
        j->manager = m;
        j->result_fd = -1;
        j->created_usec = now_usec_realtime();
        pthread_mutex_init(&j->lock, NULL);
        pthread_cond_init(&j->admit_cond, NULL);
        for (int s = 0; s < 2; s++)
                pthread_mutex_init(&j->sides[s].appliance_lock, NULL);
        j->status.state = JOB_STATE_QUEUED;
        j->published = j->status;
        return j;
}

int job_set_id(Job *j, uint64_t id) {
        char *path;
        if (asprintf(&path, "/org/virtdiff/VirtDiff1/job/%" PRIu64, id) < 0)
                return -ENOMEM;
        free(j->object_path);
        j->object_path = path;
        pthread_mutex_lock(&j->lock);
        j->id = id;
        pthread_mutex_unlock(&j->lock);
        return 0;
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        if (j->thread_started) {
                job_cancel(j);
                (void) pthread_join(j->thread, NULL);
        }
        for (int s = 0; s < 2; s++) {
                for (size_t i = 0; i < j->sides[s].n_disks; i++)
                        disk_done(&j->sides[s].disks[i]);
                free(j->sides[s].disks);
                free(j->sides[s].disk_keys);
                manifest_free(j->sides[s].manifest);
                pthread_mutex_destroy(&j->sides[s].appliance_lock);
        }
        compare_options_done(&j->compare);
        content_options_done(&j->content);
        sd_bus_message_unref(j->pending_compare);
        for (size_t i = 0; i < j->n_waiters; i++)
                sd_bus_message_unref(j->waiters[i]);
        free(j->waiters);
        sd_event_source_disable_unref(j->emit_timer);
        sd_event_source_disable_unref(j->expire_timer);
        sd_bus_track_unref(j->track);
        if (j->result_fd >= 0)
                (void) close(j->result_fd);
        pthread_mutex_destroy(&j->lock);
        pthread_cond_destroy(&j->admit_cond);
        free(j->error_name);
        free(j->error_message);
        free(j->owner);
        caller_creds_free(j->caller);
        free(j->object_path);
        free(j);
        return NULL;
}

int job_add_disk(Job *j, int side, const char *path, const char *format) {
        JobSide *s = &j->sides[side];
        Disk *d = realloc(s->disks, sizeof(Disk) * (s->n_disks + 1));
        if (!d)
                return -ENOMEM;
        s->disks = d;
        d = &s->disks[s->n_disks];
        memset(d, 0, sizeof(*d));
        d->path = strdup(path);
        d->format_given = format && format[0];
        d->format = d->format_given ? strdup(format) : NULL;
        if (!d->path || (d->format_given && !d->format)) {
                disk_done(d);
                return -ENOMEM;
        }
        s->n_disks++;
        return 0;
}

static void job_wake(Job *j) {
        manager_wake(j->manager);
}

/* ---- progress, from worker threads ---- */

static void on_phase(void *userdata, int side, Phase p) {
        Job *j = userdata;
        pthread_mutex_lock(&j->lock);
        j->sides[side].phase = p;
        Phase lowest = j->sides[0].phase < j->sides[1].phase ? j->sides[0].phase : j->sides[1].phase;
        if (lowest != j->status.phase) {
                log_debug("Job %" PRIu64 ": phase %s.", j->id, phase_to_string(lowest));
                j->status.phase = lowest;
                j->phase_start_usec = now_usec_monotonic();
                j->phase_base = j->status;
        }
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
}

static void on_files(void *userdata, uint64_t done, uint64_t total) {
        Job *j = userdata;
        pthread_mutex_lock(&j->lock);
        j->status.files_done += done;
        j->status.files_total += total;
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
}

static void on_bytes(void *userdata, uint64_t done, uint64_t total) {
        Job *j = userdata;
        pthread_mutex_lock(&j->lock);
        j->status.bytes_done += done;
        j->status.bytes_total += total;
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
}

static bool on_cancelled(void *userdata) {
        Job *j = userdata;
        return j->cancel_requested;
}

static void set_phase(Job *j, Phase p) {
        on_phase(j, 0, p);
        on_phase(j, 1, p);
}

/* ---- the worker ---- */

typedef struct SideRun {
        Job *job;
        int side;
} SideRun;

static bool side_served_by_nbd(const JobSide *s) {
        for (size_t i = 0; i < s->n_disks; i++)
                if (s->disks[i].nbd)
                        return true;
        return false;
}

/* Gives the side's appliance back to the pool: kept for reuse when healthy
 * (its calls succeeded and nothing was cancelled or killed), else closed. */
static void side_drop_appliance(Job *j, JobSide *s, bool healthy) {
        pthread_mutex_lock(&s->appliance_lock);
        s->appliance = NULL;
        pthread_mutex_unlock(&s->appliance_lock);
        PoolHandle *h = TAKE_PTR(s->handle);
        /* An appliance reading a snapshot through qemu-nbd cannot outlive
         * its server: close it rather than keep it warm. */
        if (h)
                pool_release(j->manager->pool, h,
                             healthy && !j->cancel_requested && !s->hung && !side_served_by_nbd(s));
        nbd_stop_disks(s->disks, s->n_disks);
}

/* A handle for the side from the pool (warm, or launched now), published
 * where a cancel can kill it. On failure s->handle may still be set: the
 * caller drops it. */
static Appliance *side_take_appliance(Job *j, JobSide *s, const ProgressSink *sink, Error *e) {
        Pool *pool = j->manager->pool;
        if (pool_acquire(pool, s->disks, s->n_disks, s->key, sink, &s->handle, e) < 0)
                return NULL;
        Appliance *a = pool_handle_appliance(s->handle);
        pthread_mutex_lock(&s->appliance_lock);
        s->appliance = a;
        pthread_mutex_unlock(&s->appliance_lock);
        if (pool_handle_reused(s->handle))
                log_debug("Job %" PRIu64 ": side %c on a warm appliance.", j->id, s == &j->sides[0] ? 'A' : 'B');
        if (j->cancel_requested || pool_handle_launch(pool, s->handle, e) < 0 || j->cancel_requested) {
                if (j->cancel_requested) {
                        e->code = ERR_OK;
                        error_set(e, ERR_CANCELLED, "cancelled");
                }
                return NULL;
        }
        return a;
}

static void *run_side(void *userdata) {
        SideRun *sr = userdata;
        Job *j = sr->job;
        JobSide *s = &j->sides[sr->side];
        ProgressSink sink = {.phase = on_phase, .files = on_files, .bytes = on_bytes,
                             .cancelled = on_cancelled, .userdata = j, .side = sr->side};
        bool ok = false;

        progress_phase(&sink, PHASE_LAUNCH);
        /* Its qemu-nbd servers failed to start (serve_sides()). */
        if (s->error.code != ERR_OK)
                return NULL;
        Appliance *a = side_take_appliance(j, s, &sink, &s->error);
        if (a)
                ok = appliance_scan(a, &sink, &s->manifest, &s->error) >= 0;
        /* A cancelled job's errors are the consequence, not the news. */
        if (j->cancel_requested) {
                s->error.code = ERR_OK;
                error_set(&s->error, ERR_CANCELLED, "cancelled");
        } else if (s->hung) {
                s->error.code = ERR_OK;
                error_set(&s->error, ERR_APPLIANCE_FAILED, "the appliance stopped responding");
        } else if (!ok && s->handle && s->error.code != ERR_APPLIANCE_FAILED && s->error.code != ERR_WORKER_CRASHED &&
                   !appliance_alive(pool_handle_appliance(s->handle))) {
                /* The call failed because qemu went away: the appliance's fault. */
                Error scan = s->error;
                s->error.code = ERR_OK;
                error_set(&s->error, ERR_APPLIANCE_FAILED, "the appliance died (%s)", scan.message);
        }

        /* Content diffs read files next: keep a healthy handle for them. */
        if (content_options_wanted(&j->content) && s->error.code == ERR_OK)
                return NULL;
        side_drop_appliance(j, s, ok);
        return NULL;
}

/* For the content stage: the side's handle from its scan, else one from
 * the pool (a side that came from the cache has none yet). */
static Appliance *content_handle(void *userdata, int side, Error *e) {
        Job *j = userdata;
        JobSide *s = &j->sides[side];
        ProgressSink sink = {.phase = on_phase, .files = on_files, .bytes = on_bytes,
                             .cancelled = on_cancelled, .userdata = j, .side = side};

        if (s->handle)
                return pool_handle_appliance(s->handle);
        on_phase(j, side, PHASE_LAUNCH);
        if (nbd_serve_disks(s->disks, s->n_disks, &sink, e) < 0)
                return NULL;
        return side_take_appliance(j, s, &sink, e);
}

static char *side_name(const JobSide *s) {
        size_t len = 1;
        for (size_t i = 0; i < s->n_disks; i++)
                len += strlen(s->disks[i].path) + 2;
        char *r = calloc(1, len);
        if (!r)
                return NULL;
        for (size_t i = 0; i < s->n_disks; i++) {
                if (i)
                        strcat(r, ", ");
                strcat(r, s->disks[i].path);
        }
        return r;
}

static json_object *side_to_json(const JobSide *s) {
        json_object *o = json_object_new_object(), *imgs = json_object_new_array();
        if (!o || !imgs) {
                json_object_put(o);
                json_object_put(imgs);
                return NULL;
        }
        for (size_t i = 0; i < s->n_disks; i++) {
                json_object *d = json_object_new_object();
                if (!d)
                        continue;
                json_add_bytes(d, "path", s->disks[i].path, strlen(s->disks[i].path));
                json_object_object_add(d, "format", json_object_new_string(s->disks[i].format));
                json_object_object_add(d, "virtual_size", json_object_new_int64((int64_t) s->disks[i].virtual_size));
                json_object_array_add(imgs, d);
        }
        json_object_object_add(o, "images", imgs);
        libvirt_side_to_json(o, s->disks, s->n_disks);
        _cleanup_free_ char *key = hexmem(s->key, sizeof s->key);
        json_object_object_add(o, "key", key ? json_object_new_string(key) : NULL);
        json_object_object_add(o, "cached", json_object_new_boolean(s->cached));
        json_object_object_add(o, "inspected", json_object_new_boolean(s->manifest->inspected));
        json_object_object_add(o, "os", s->manifest->os_product ? json_object_new_string(s->manifest->os_product) : NULL);
        return o;
}

static int write_result(Job *j, const DiffResult *r, const ContentNote *notes, Error *e) {
        json_object *root = diff_result_to_json(r);
        if (!root)
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (notes && content_notes_to_json(root, notes, r->n_changes, j->content.checksum) < 0) {
                json_object_put(root);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        json_object_object_add(root, "version", json_object_new_int(1));
        json_object_object_add(root, "a", side_to_json(&j->sides[0]));
        json_object_object_add(root, "b", side_to_json(&j->sides[1]));
        size_t len;
        const char *s = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

        int ret = 0;
        _cleanup_close_ int fd = memfd_create("virt-diffd-result", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                ret = error_set(e, ERR_INTERNAL, "memfd_create: %m");
        for (size_t done = 0; ret == 0 && done < len;) {
                ssize_t n = write(fd, s + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        ret = error_set(e, ERR_INTERNAL, "cannot write the result: %m");
                else
                        done += (size_t) n;
        }
        json_object_put(root);
        if (ret < 0)
                return ret;
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return error_set(e, ERR_INTERNAL, "cannot seal the result: %m");

        pthread_mutex_lock(&j->lock);
        j->result_fd = TAKE_FD(fd);
        j->status.differences = diff_result_differs(r);
        pthread_mutex_unlock(&j->lock);
        return 0;
}

static void finish(Job *j, const Error *e) {
        pthread_mutex_lock(&j->lock);
        if (e && e->code != ERR_OK) {
                j->error = *e;
                j->status.state = e->code == ERR_CANCELLED ? JOB_STATE_CANCELLED : JOB_STATE_FAILED;
        } else
                j->status.state = JOB_STATE_SUCCEEDED;
        j->finished = true;
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
}

/* The first side's error, named after its images; a cancellation wins. */
static void side_error(Job *j, Error *e) {
        for (int s = 0; s < 2; s++)
                if (j->sides[s].error.code == ERR_CANCELLED || j->cancel_requested) {
                        error_set(e, ERR_CANCELLED, "job cancelled");
                        return;
                }
        for (int s = 0; s < 2; s++) {
                const Error *se = &j->sides[s].error;
                if (se->code == ERR_OK)
                        continue;
                _cleanup_free_ char *name = side_name(&j->sides[s]);
                /* Validation messages already name the image. */
                if (name && strncmp(se->message, name, strlen(name)) != 0)
                        error_set(e, se->code, "%s: %s", name, se->message);
                else
                        error_set(e, se->code, "%s", se->message);
                return;
        }
}

/* Content keys of both sides, then their manifests from the store. */
static int identify_sides(Job *j, Error *e) {
        Store *store = j->manager->store;
        KeyMemo memo = store_key_memo(store);
        ProgressSink sink = {.phase = on_phase, .files = on_files, .bytes = on_bytes,
                             .cancelled = on_cancelled, .userdata = j};

        set_phase(j, PHASE_FINGERPRINT);
        for (int s = 0; s < 2; s++) {
                JobSide *side = &j->sides[s];
                side->disk_keys = calloc(side->n_disks, FINGERPRINT_SIZE);
                if (!side->disk_keys)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                for (size_t i = 0; i < side->n_disks; i++)
                        if (disk_identify(&memo, &side->disks[i], &sink, side->disk_keys[i], e) < 0)
                                return -1;
                side_identify((const uint8_t(*)[FINGERPRINT_SIZE]) side->disk_keys, side->n_disks, side->key);
                if (!store)
                        continue;
                Error le = {0};
                int r = store_load_manifest(store, side->key, &side->manifest, &le);
                if (r < 0)
                        log_error("Cannot read a cached manifest: %s", le.message);
                side->cached = r > 0;
                /* A cached side is done scanning: the job's phase follows the other. */
                if (side->cached)
                        on_phase(j, s, PHASE_COMPARE);
        }
        return 0;
}

/* Newly scanned manifests go into the store; a failure costs only speed. */
static void remember_sides(Job *j) {
        Store *store = j->manager->store;
        if (!store)
                return;
        for (int s = 0; s < 2; s++) {
                JobSide *side = &j->sides[s];
                if (side->cached || !side->manifest || side->error.code != ERR_OK)
                        continue;
                _cleanup_free_ StoreDisk *disks = calloc(side->n_disks, sizeof(StoreDisk));
                if (!disks)
                        continue;
                for (size_t i = 0; i < side->n_disks; i++)
                        disks[i] = (StoreDisk){.path = side->disks[i].path, .key = side->disk_keys[i]};
                Error e = {0};
                if (store_save_manifest(store, side->key, disks, side->n_disks, side->manifest, &e) < 0)
                        log_error("Cannot cache the manifest of %s: %s", side->disks[0].path, e.message);
        }
}

/* The sides' snapshots, served by qemu-nbd. A qemu-nbd dies with the
 * thread that started it: this one, which outlives every appliance of the
 * job, the content stage's included. */
static void serve_sides(Job *j) {
        ProgressSink sink = {.cancelled = on_cancelled, .userdata = j};
        for (int s = 0; s < 2; s++)
                if (!j->sides[s].cached)
                        (void) nbd_serve_disks(j->sides[s].disks, j->sides[s].n_disks, &sink, &j->sides[s].error);
}

static void *job_thread(void *userdata) {
        Job *j = userdata;
        Error e = {0};

        for (int s = 0; s < 2 && e.code == ERR_OK; s++)
                (void) libvirt_resolve_disks(&j->sides[s].disks, &j->sides[s].n_disks, &e);
        for (int s = 0; s < 2 && e.code == ERR_OK; s++)
                for (size_t i = 0; i < j->sides[s].n_disks && e.code == ERR_OK; i++) {
                        j->sides[s].disks[i].caller = j->caller;
                        (void) disk_validate(&j->sides[s].disks[i], &e);
                }

        pthread_mutex_lock(&j->lock);
        j->validated = true;
        if (e.code != ERR_OK) {
                j->error = e;
                j->status.state = JOB_STATE_FAILED;
                j->finished = true;
        }
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
        if (e.code != ERR_OK)
                return NULL;

        /* Queued until the scheduler has a slot for us. */
        pthread_mutex_lock(&j->lock);
        while (!j->admitted && !j->cancel_requested)
                pthread_cond_wait(&j->admit_cond, &j->lock);
        pthread_mutex_unlock(&j->lock);
        if (j->cancel_requested) {
                error_set(&e, ERR_CANCELLED, "job cancelled");
                finish(j, &e);
                return NULL;
        }

        if (identify_sides(j, &e) < 0) {
                finish(j, &e);
                return NULL;
        }

        serve_sides(j);

        /* Both sides at once: appliance launches dominate, and two launch in
         * about the time of one. A side found in the store needs none. */
        SideRun runs[2] = {{j, 0}, {j, 1}};
        pthread_t other;
        bool other_started = false;
        if (!j->sides[1].cached)
                other_started = pthread_create(&other, NULL, run_side, &runs[1]) == 0;
        if (!j->sides[0].cached)
                run_side(&runs[0]);
        if (other_started)
                (void) pthread_join(other, NULL);
        else if (!j->sides[1].cached)
                run_side(&runs[1]);
        remember_sides(j);

        side_error(j, &e);
        if (e.code != ERR_OK) {
                for (int s = 0; s < 2; s++)
                        side_drop_appliance(j, &j->sides[s], j->sides[s].error.code == ERR_OK);
                finish(j, &e);
                return NULL;
        }

        set_phase(j, PHASE_COMPARE);
        _cleanup_diff_result_ DiffResult *r = NULL;
        int k = compare_manifests(j->sides[0].manifest, j->sides[1].manifest, &j->compare, &r);
        if (k < 0) {
                error_set(&e, ERR_INTERNAL, "comparison failed: %s", strerror(-k));
                for (int s = 0; s < 2; s++)
                        side_drop_appliance(j, &j->sides[s], true);
                finish(j, &e);
                return NULL;
        }
        ContentNote *notes = NULL;
        if (content_options_wanted(&j->content)) {
                ProgressSink sink = {.phase = on_phase, .files = on_files, .bytes = on_bytes,
                                     .cancelled = on_cancelled, .userdata = j};
                set_phase(j, PHASE_WRITE);
                k = content_run(r, &j->content, j->manager->store, content_handle, j, &sink, &notes, &e);
                /* A failed read may leave a handle mid-call: reuse none then. */
                for (int s = 0; s < 2; s++)
                        side_drop_appliance(j, &j->sides[s], k >= 0);
                if (k < 0 && j->cancel_requested) {
                        e.code = ERR_OK;
                        error_set(&e, ERR_CANCELLED, "job cancelled");
                }
                if (k < 0) {
                        finish(j, &e);
                        return NULL;
                }
        }
        set_phase(j, PHASE_WRITE);
        (void) write_result(j, r, notes, &e);
        content_notes_free(notes, r->n_changes);
        finish(j, &e);
        return NULL;
}

int job_start(Job *j) {
        int r = pthread_create(&j->thread, NULL, job_thread, j);
        if (r != 0)
                return -r;
        j->thread_started = true;
        return 0;
}

void job_admit(Job *j) {
        pthread_mutex_lock(&j->lock);
        j->admitted = true;
        j->status.state = JOB_STATE_RUNNING;
        j->status.queue_position = 0;
        pthread_cond_signal(&j->admit_cond);
        pthread_mutex_unlock(&j->lock);
}

void job_set_queue_position(Job *j, uint32_t position) {
        pthread_mutex_lock(&j->lock);
        j->status.queue_position = position;
        pthread_mutex_unlock(&j->lock);
}

bool job_is_queued(Job *j) {
        pthread_mutex_lock(&j->lock);
        bool q = j->validated && !j->admitted && !j->finished;
        pthread_mutex_unlock(&j->lock);
        return q;
}

void job_cancel(Job *j) {
        pthread_mutex_lock(&j->lock);
        j->cancel_requested = true;
        pthread_cond_signal(&j->admit_cond);
        pthread_mutex_unlock(&j->lock);
        /* A long libguestfs call only returns when its qemu goes away. */
        for (int s = 0; s < 2; s++) {
                pthread_mutex_lock(&j->sides[s].appliance_lock);
                appliance_kill(j->sides[s].appliance);
                pthread_mutex_unlock(&j->sides[s].appliance_lock);
        }
}

/* Progress, rate and expected end within the current phase: counters are
 * cumulative, so they count from where they stood when it began. */
#define HANG_STOPPED_USEC (5 * 1000000ULL)
#define HANG_IDLE_USEC (60 * 1000000ULL)

void job_watch_appliances(Job *j, uint64_t now) {
        for (int i = 0; i < 2; i++) {
                JobSide *s = &j->sides[i];
                uint64_t ticks;
                bool stopped, kill_it = false;

                pthread_mutex_lock(&s->appliance_lock);
                if (!s->appliance || appliance_cpu(s->appliance, &ticks, &stopped) < 0) {
                        s->watch_busy_usec = s->watch_running_usec = 0;
                        pthread_mutex_unlock(&s->appliance_lock);
                        continue;
                }
                if (s->watch_busy_usec == 0 || ticks != s->watch_ticks) {
                        s->watch_ticks = ticks;
                        s->watch_busy_usec = now;
                }
                if (s->watch_running_usec == 0 || !stopped)
                        s->watch_running_usec = now;
                /* A working appliance under a call always burns some CPU. */
                if (now - s->watch_running_usec >= HANG_STOPPED_USEC || now - s->watch_busy_usec >= HANG_IDLE_USEC) {
                        s->hung = kill_it = true;
                        appliance_kill(s->appliance);
                }
                pthread_mutex_unlock(&s->appliance_lock);
                if (kill_it)
                        log_error("Job %" PRIu64 ": the appliance of side %c stopped responding, killed it.", j->id,
                                  i ? 'B' : 'A');
        }
}

static void compute_rates(Job *j, JobStatus *st) {
        uint64_t elapsed = now_usec_monotonic() - j->phase_start_usec;
        uint64_t done = 0, total = 0;
        const JobStatus *b = &j->phase_base;

        if (st->phase == PHASE_SCAN) {
                done = st->files_done - b->files_done;
                total = st->files_total - b->files_total;
        } else if (st->phase == PHASE_HASH || st->phase == PHASE_FINGERPRINT) {
                done = st->bytes_done - b->bytes_done;
                total = st->bytes_total - b->bytes_total;
        }
        if (st->state != JOB_STATE_RUNNING)
                total = 0;
        st->progress_valid = total > 0;
        st->progress = st->progress_valid ? (double) done / (double) total : 0.0;
        if (st->progress > 1.0)
                st->progress = 1.0;
        st->rate = total > 0 && elapsed > 100000 ? done * 1000000u / elapsed : 0;
        st->expected_end_usec = st->rate > 0 && total > done
                                        ? now_usec_realtime() + (total - done) * 1000000u / st->rate
                                        : 0;
}

unsigned job_sync(Job *j) {
        unsigned changed = 0;
        pthread_mutex_lock(&j->lock);
        JobStatus st = j->status;
        compute_rates(j, &st);
        if (j->validated && !j->validated_handled)
                changed |= JOB_CHANGED_VALIDATED;
        if (j->finished && !j->finished_handled)
                changed |= JOB_CHANGED_FINISHED;
        if (changed & JOB_CHANGED_FINISHED && j->error.code != ERR_OK && !j->error_name) {
                (void) asprintf(&j->error_name, VD_ERROR_PREFIX "%s", error_code_to_string(j->error.code));
                j->error_message = strdup(j->error.message);
        }
        pthread_mutex_unlock(&j->lock);

        if (memcmp(&st, &j->published, sizeof st) != 0) {
                j->published = st;
                changed |= JOB_CHANGED_STATUS;
        }
        return changed;
}

int job_open_result(Job *j) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", j->result_fd);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

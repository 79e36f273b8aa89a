/* A job's pipeline, on its own thread: one stage after another, each
 * owned by the folder that does the work.
 *
 *   resolve   libvirt domains into disks            (source/domain)
 *   validate  formats, backing chains, locks        (source/disk)
 *   queue     wait for the scheduler's slot         (job/scheduler)
 *   identify  content keys; manifests from the store (source/disk-key, store)
 *   serve     snapshots and fds through qemu-nbd     (source/nbd)
 *   scan      both sides at once: the direct engine  (job-engine.c,
 *             where it reads the side, else an       appliance/direct-handle,
 *             appliance                              appliance/pool)
 *   compare   the two manifests                      (compare/comparer)
 *   packages  package diff, owners and causes        (compare/package-notes)
 *   content   -u diffs, other checksums              (compare/content-diff)
 *   write     the result document                    (compare/result)
 *
 * A side given as an exported manifest is read when the job validates
 * (job-manifest.c) and then skips identify, serve and scan. An export job
 * (ExportManifest) has only side A, and writes its manifest instead of
 * comparing. */
#include "common/log.h"
#include "compare/result.h"
#include "job/job-internal.h"
#include "source/disk-key.h"
#include "source/domain.h"
#include "source/nbd.h"

/* ---- resolve and validate ---- */

/* The sides the job reads: an export has only A. */
static int job_sides(const Job *j) {
        return j->kind == JOB_KIND_EXPORT_MANIFEST ? 1 : 2;
}

/* Neither in the store nor given as a manifest: an appliance reads it. */
static bool side_needs_scan(const JobSide *s) {
        return !s->cached && !s->scanned && !s->from_manifest && s->n_disks > 0;
}

static int validate_sides(Job *j, Error *e) {
        for (int s = 0; s < job_sides(j) && e->code == ERR_OK; s++)
                if (!j->sides[s].from_manifest)
                        (void) libvirt_resolve_disks(&j->sides[s].disks, &j->sides[s].n_disks, e);
        for (int s = 0; s < job_sides(j) && e->code == ERR_OK; s++) {
                /* An exported manifest holds files, not the package list. */
                if (j->sides[s].from_manifest && package_options_wanted(&j->packages)) {
                        error_set(e, ERR_INVALID_ARGS, "side %c is an exported manifest: it holds no package list "
                                  "to compare", s ? 'B' : 'A');
                        continue;
                }
                if (j->sides[s].from_manifest) {
                        Error me = {0};
                        if (job_side_read_manifest(&j->sides[s], &me) < 0)
                                error_set(e, me.code, "side %c: %s", s ? 'B' : 'A', me.message);
                        continue;
                }
                for (size_t i = 0; i < j->sides[s].n_disks && e->code == ERR_OK; i++) {
                        j->sides[s].disks[i].caller = j->caller;
                        (void) disk_validate(&j->sides[s].disks[i], e);
                }
        }

        pthread_mutex_lock(&j->lock);
        j->validated = true;
        if (e->code != ERR_OK) {
                j->error = *e;
                j->status.state = JOB_STATE_FAILED;
                j->finished = true;
        }
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
        return e->code == ERR_OK ? 0 : -1;
}

/* Queued until the scheduler has a slot for us. */
static int wait_admitted(Job *j, Error *e) {
        pthread_mutex_lock(&j->lock);
        while (!j->admitted && !j->cancel_requested)
                pthread_cond_wait(&j->admit_cond, &j->lock);
        pthread_mutex_unlock(&j->lock);
        if (j->cancel_requested)
                return error_set(e, ERR_CANCELLED, "job cancelled");
        return 0;
}

/* ---- identify: content keys of both sides, then their manifests ---- */

static int identify_sides(Job *j, Error *e) {
        Store *store = j->ctx->store;
        KeyMemo memo = store_key_memo(store);
        ProgressSink sink = job_progress_sink(j, -1);

        job_set_phase(j, -1, PHASE_FINGERPRINT);
        for (int s = 0; s < 2; s++) {
                JobSide *side = &j->sides[s];
                /* Its key and manifest are known: nothing to do but wait. */
                if (side->from_manifest || side->n_disks == 0) {
                        job_set_phase(j, s, PHASE_COMPARE);
                        continue;
                }
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
                int r = store_source_open(store, side->key, &side->source, &le);
                if (r < 0)
                        log_error("Cannot read a cached manifest: %s", le.message);
                if (r > 0 && !job_keys_cache_usable(j, store_source_head(side->source))) {
                        /* Keys came for what it could not read: scan again. */
                        side->source = store_source_free(side->source);
                        r = 0;
                }
                /* Packages asked for: a side cached without its package
                 * list is scanned again. */
                if (r > 0 && package_options_wanted(&j->packages)) {
                        int p = store_load_packages(store, side->key, &side->packages, &le);
                        if (p < 0)
                                log_error("Cannot read a cached package list: %s", le.message);
                        if (p <= 0) {
                                side->source = store_source_free(side->source);
                                r = 0;
                        }
                }
                side->cached = r > 0;
                /* A cached side is done scanning: the job's phase follows the other. */
                if (side->cached)
                        job_set_phase(j, s, PHASE_COMPARE);
        }
        return 0;
}

/* Newly scanned manifests go from their scan store into the cache, row by
 * row in SQL; a failure costs only speed. */
static void remember_sides(Job *j) {
        Store *store = j->ctx->store;
        if (!store)
                return;
        for (int s = 0; s < 2; s++) {
                JobSide *side = &j->sides[s];
                if (!side_needs_scan(side) || !side->scan_store || !side->source || side->error.code != ERR_OK ||
                    !job_keys_cacheable(store_source_head(side->source)))
                        continue;
                Error e = {0};
                if (store_import_manifest(store, side->scan_store, side->key, &e) < 0)
                        log_error("Cannot cache the manifest of %s: %s", side->disks[0].path, e.message);
                else if (side->packages && store_save_packages(store, side->key, side->packages, &e) < 0)
                        log_error("Cannot cache the package list of %s: %s", side->disks[0].path, e.message);
        }
}

/* A scanned side's manifest, from its scan store, as the comparer reads it. */
static int open_scanned_sides(Job *j, Error *e) {
        for (int s = 0; s < 2; s++) {
                JobSide *side = &j->sides[s];
                if (!side_needs_scan(side) || side->source)
                        continue;
                if (!side->scan_store)
                        return error_set(e, ERR_INTERNAL, "side %c was not scanned", s ? 'B' : 'A');
                int r = store_source_open(side->scan_store, side->key, &side->source, e);
                if (r < 0)
                        return -1;
                if (r == 0)
                        return error_set(e, ERR_INTERNAL, "side %c: its scanned manifest cannot be read back",
                                         s ? 'B' : 'A');
        }
        return 0;
}

/* ---- serve: snapshots and fds through qemu-nbd ---- */

/* A qemu-nbd dies with the thread that started it: this one, which
 * outlives every appliance of the job, the content stage's included. */
static void serve_sides(Job *j) {
        ProgressSink sink = job_progress_sink(j, -1);
        for (int s = 0; s < 2; s++)
                if (side_needs_scan(&j->sides[s]))
                        (void) nbd_serve_disks(j->sides[s].disks, j->sides[s].n_disks, &sink, &j->sides[s].error);
}

static bool side_served_by_nbd(const JobSide *s) {
        for (size_t i = 0; i < s->n_disks; i++)
                if (s->disks[i].nbd)
                        return true;
        return false;
}

/* ---- scan: one appliance per side, both at once ---- */

/* Gives the side's appliance back to the pool: kept for reuse when healthy
 * (its calls succeeded and nothing was cancelled or killed), else closed. */
static void side_drop_appliance(Job *j, JobSide *s, bool healthy) {
        job_drop_direct(s);
        pthread_mutex_lock(&s->appliance_lock);
        s->appliance = NULL;
        pthread_mutex_unlock(&s->appliance_lock);
        PoolHandle *h = TAKE_PTR(s->handle);
        /* An appliance reading a snapshot through qemu-nbd cannot outlive
         * its server, and one that has opened encrypted volumes must not
         * serve a job without their keys: close it rather than keep it
         * warm. */
        if (h)
                pool_release(j->ctx->pool, h,
                             healthy && !j->cancel_requested && !s->hung && !side_served_by_nbd(s) && !j->had_keys);
        nbd_stop_disks(s->disks, s->n_disks);
}

/* A handle for the side from the pool (warm, or launched now), published
 * where a cancel can kill it. On failure s->handle may still be set: the
 * caller drops it. */
static Appliance *side_take_appliance(Job *j, JobSide *s, const ProgressSink *sink, Error *e) {
        Pool *pool = j->ctx->pool;
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

typedef struct SideRun {
        Job *job;
        int side;
} SideRun;

static void *scan_side(void *userdata) {
        SideRun *sr = userdata;
        Job *j = sr->job;
        JobSide *s = &j->sides[sr->side];
        ProgressSink sink = job_progress_sink(j, sr->side);
        bool ok = false;

        progress_phase(&sink, PHASE_LAUNCH);
        /* Its qemu-nbd servers failed to start (serve_sides()). */
        if (s->error.code != ERR_OK) {
                job_keys_side_done(j, sr->side);
                return NULL;
        }
        if (job_scan_direct(j, s, &sink)) {
                job_keys_side_done(j, sr->side);
                return NULL;
        }
        s->engine = ENGINE_APPLIANCE;
        Appliance *a = side_take_appliance(j, s, &sink, &s->error);
        if (a)
                ok = job_keys_unlock(j, sr->side, a, &s->error) >= 0 &&
                     job_scan_into_store(s, a, &sink, package_options_wanted(&j->packages) ? &s->packages : NULL,
                                         &s->error) >= 0;
        job_keys_side_done(j, sr->side);
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

/* Appliance launches dominate, and two launch in about the time of one. A
 * side found in the store needs none. */
static void scan_sides(Job *j) {
        SideRun runs[2] = {{j, 0}, {j, 1}};
        pthread_t other;
        bool other_started = false;
        /* Side B's ordered keys come after side A's: none for an A that
         * is not scanned. */
        if (!side_needs_scan(&j->sides[0]))
                job_keys_side_done(j, 0);
        if (side_needs_scan(&j->sides[1]))
                other_started = pthread_create(&other, NULL, scan_side, &runs[1]) == 0;
        if (side_needs_scan(&j->sides[0]))
                scan_side(&runs[0]);
        if (other_started)
                (void) pthread_join(other, NULL);
        else if (side_needs_scan(&j->sides[1]))
                scan_side(&runs[1]);
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

/* The first side's error, named after its images; a cancellation wins. */
static int side_error(Job *j, Error *e) {
        for (int s = 0; s < 2; s++)
                if (j->sides[s].error.code == ERR_CANCELLED || j->cancel_requested)
                        return error_set(e, ERR_CANCELLED, "job cancelled");
        for (int s = 0; s < 2; s++) {
                const Error *se = &j->sides[s].error;
                if (se->code == ERR_OK)
                        continue;
                _cleanup_free_ char *name = side_name(&j->sides[s]);
                /* Validation messages already name the image. */
                if (name && strncmp(se->message, name, strlen(name)) != 0)
                        return error_set(e, se->code, "%s: %s", name, se->message);
                return error_set(e, se->code, "%s", se->message);
        }
        return 0;
}

/* ---- content: -u diffs and other checksums ---- */

/* The side's handle from its scan, else one from the pool (a side that
 * came from the cache has none yet). */
static Appliance *content_handle(void *userdata, int side, Error *e) {
        Job *j = userdata;
        JobSide *s = &j->sides[side];
        ProgressSink sink = job_progress_sink(j, side);

        if (s->handle)
                return pool_handle_appliance(s->handle);
        Appliance *d = job_direct_content_handle(j, s, &sink, e);
        if (d || e->code != ERR_OK)
                return d;
        job_set_phase(j, side, PHASE_LAUNCH);
        if (nbd_serve_disks(s->disks, s->n_disks, &sink, e) < 0)
                return NULL;
        return side_take_appliance(j, s, &sink, e);
}

static int run_content(Job *j, const DiffResult *r, ContentNote **ret_notes, Error *e) {
        ProgressSink sink = job_progress_sink(j, -1);
        job_set_phase(j, -1, PHASE_WRITE);
        unsigned unreadable = (j->sides[0].from_manifest ? 1u : 0u) | (j->sides[1].from_manifest ? 2u : 0u);
        int k = content_run(r, &j->content, j->ctx->store, unreadable, content_handle, j, &sink, ret_notes, e);
        /* A failed read may leave a handle mid-call: reuse none then. */
        for (int s = 0; s < 2; s++)
                side_drop_appliance(j, &j->sides[s], k >= 0);
        if (k < 0 && j->cancel_requested) {
                e->code = ERR_OK;
                error_set(e, ERR_CANCELLED, "job cancelled");
        }
        return k < 0 ? -1 : 0;
}

/* ---- write ---- */

static int write_result(Job *j, const DiffResult *r, const ContentNote *notes, const PackageNotes *package_notes,
                        Error *e) {
        ResultSide sides[2] = {job_result_side(&j->sides[0]), job_result_side(&j->sides[1])};
        int fd = -1;
        job_set_phase(j, -1, PHASE_WRITE);
        if (result_write(r, notes, j->content.checksum, package_notes, sides, &fd, e) < 0)
                return -1;
        pthread_mutex_lock(&j->lock);
        j->result_fd = fd;
        j->status.differences = diff_result_differs(r);
        pthread_mutex_unlock(&j->lock);
        return 0;
}

/* ---- the pipeline ---- */

static int comparison_error(int k, const Error *ce, Error *e) {
        if (ce->code != ERR_OK)
                return error_set(e, ce->code, "comparison failed: %s", ce->message);
        return error_set(e, ERR_INTERNAL, "comparison failed: %s", strerror(-k));
}

/* The changes go to the job's stream as they are found, and the result is
 * written from it: the daemon never holds them. */
static int compare_streamed(Job *j, ManifestSource src[2], DiffResult **ret, Error *e) {
        pthread_mutex_lock(&j->lock);
        int k = j->stream ? 0 : result_stream_new(&j->stream, e);
        ResultStream *stream = j->stream;
        pthread_mutex_unlock(&j->lock);
        if (k < 0)
                return -1;
        ResultSide sides[2] = {job_result_side(&j->sides[0]), job_result_side(&j->sides[1])};
        ChangeSink sink = result_stream_sink(stream, sides);
        Error ce = {0};
        k = compare_sources_to(&src[0], &src[1], &j->compare, &sink, ret, &ce);
        if (k < 0)
                return comparison_error(k, &ce, e);
        int fd = -1;
        job_set_phase(j, -1, PHASE_WRITE);
        if (result_stream_finish(stream, *ret, &fd, e) < 0)
                return -1;
        pthread_mutex_lock(&j->lock);
        j->result_fd = fd;
        j->status.differences = diff_result_differs(*ret);
        pthread_mutex_unlock(&j->lock);
        return 0;
}

static int compare_and_write(Job *j, Error *e) {
        job_set_phase(j, -1, PHASE_COMPARE);
        _cleanup_diff_result_ DiffResult *r = NULL;
        ManifestSource src[2];
        for (int s = 0; s < 2; s++)
                src[s] = j->sides[s].source ? store_source(j->sides[s].source)
                                            : manifest_memory_source(j->sides[s].manifest);
        if (job_streams_changes(j)) {
                int k = compare_streamed(j, src, &r, e);
                for (int s = 0; s < 2; s++)
                        side_drop_appliance(j, &j->sides[s], true);
                return k;
        }
        Error ce = {0};
        int k = compare_sources(&src[0], &src[1], &j->compare, &r, &ce);
        if (k < 0) {
                for (int s = 0; s < 2; s++)
                        side_drop_appliance(j, &j->sides[s], true);
                return comparison_error(k, &ce, e);
        }
        /* Before the content stage: --cause leaves fewer files to read. */
        _cleanup_package_notes_ PackageNotes *pn = NULL;
        if (package_options_wanted(&j->packages) &&
            package_notes_compute(r, j->sides[0].packages, j->sides[1].packages, &j->packages, &pn) < 0) {
                for (int s = 0; s < 2; s++)
                        side_drop_appliance(j, &j->sides[s], true);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        ContentNote *notes = NULL;
        if (content_options_wanted(&j->content) && run_content(j, r, &notes, e) < 0)
                return -1;
        k = write_result(j, r, notes, pn, e);
        content_notes_free(notes, r->n_changes);
        return k;
}

/* The stored manifests' snapshots end and the scan stores' files go; the
 * heads stay for the result. */
static void release_sides(Job *j) {
        for (int s = 0; s < 2; s++) {
                store_source_release(j->sides[s].source);
                j->sides[s].scan_store = store_close(j->sides[s].scan_store);
        }
}

/* What the job does with its sides' manifests: compares them and writes
 * the result, or exports one. */
static int use_sides(Job *j, Error *e) {
        if (open_scanned_sides(j, e) < 0) {
                for (int s = 0; s < 2; s++)
                        side_drop_appliance(j, &j->sides[s], true);
                return -1;
        }
        if (j->kind == JOB_KIND_EXPORT_MANIFEST)
                return job_write_manifest(j, e);
        return compare_and_write(j, e);
}

/* Scans the sides that need it, then uses them: 0, or -1 and e. */
static int scan_and_use(Job *j, Error *e) {
        serve_sides(j);
        scan_sides(j);
        job_keys_drop(j);
        remember_sides(j);
        if (side_error(j, e) < 0) {
                for (int s = 0; s < 2; s++)
                        side_drop_appliance(j, &j->sides[s], j->sides[s].error.code == ERR_OK);
                return -1;
        }
        return use_sides(j, e);
}

/* A cached manifest found damaged as it was read (a row, which the checks
 * of its head cannot see) is dropped from the cache, and its side scanned
 * again; a side scanned already is not. True when there is such a side. */
static bool rescan_damaged(Job *j) {
        bool any = false;
        for (int s = 0; s < 2; s++) {
                JobSide *side = &j->sides[s];
                if (!side->cached || !store_source_damaged(side->source))
                        continue;
                store_source_drop(side->source, j->ctx->store);
                side->source = store_source_free(side->source);
                package_set_free(side->packages);
                side->packages = NULL;
                side->cached = false;
                any = true;
        }
        for (int s = 0; any && s < 2; s++)
                if (j->sides[s].source && !j->sides[s].cached)
                        j->sides[s].scanned = true;
        if (any)
                log_info("Job %" PRIu64 ": a cached manifest was damaged; scanning its side again.", j->id);
        return any;
}

void *job_pipeline_run(void *userdata) {
        Job *j = userdata;
        Error e = {0};

        /* A refusal ends the job right there: the front-end answers with it. */
        if (validate_sides(j, &e) < 0) {
                job_keys_drop(j);
                return NULL;
        }
        if (wait_admitted(j, &e) < 0 || identify_sides(j, &e) < 0) {
                release_sides(j);
                job_finish(j, &e);
                return NULL;
        }
        if (scan_and_use(j, &e) < 0 && rescan_damaged(j)) {
                e = (Error){0};
                (void) scan_and_use(j, &e);
        }
        release_sides(j);
        job_finish(j, &e);
        return NULL;
}

#include "job/job.h"

#include <fcntl.h>

#include "job/job-internal.h"
#include "job/job-records.h"
#include "source/backing-chain.h"
#include "source/nbd.h"

Job *job_new(const JobContext *ctx) {
        Job *j = calloc(1, sizeof(*j));
        if (!j)
                return NULL;
        j->ctx = ctx;
        j->kind = JOB_KIND_COMPARE;
        j->result_fd = -1;
        j->created_usec = now_usec_realtime();
        pthread_mutex_init(&j->lock, NULL);
        pthread_cond_init(&j->admit_cond, NULL);
        pthread_mutex_init(&j->keys_lock, NULL);
        pthread_cond_init(&j->keys_cond, NULL);
        j->keys_taken_by_a = -1;
        for (int s = 0; s < 2; s++) {
                pthread_mutex_init(&j->sides[s].appliance_lock, NULL);
                j->sides[s].manifest_fd = -1;
        }
        j->status.state = JOB_STATE_QUEUED;
        j->published = j->status;
        return j;
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
                store_source_free(j->sides[s].source);
                store_close(j->sides[s].scan_store);
                appliance_free(j->sides[s].direct);
                package_set_free(j->sides[s].packages);
                if (j->sides[s].manifest_fd >= 0)
                        (void) close(j->sides[s].manifest_fd);
                json_object_put(j->sides[s].manifest_images);
                free(j->sides[s].manifest_exported_at);
                pthread_mutex_destroy(&j->sides[s].appliance_lock);
        }
        compare_options_done(&j->compare);
        content_options_done(&j->content);
        key_list_done(&j->keys);
        key_list_done(&j->ordered_keys);
        pthread_mutex_destroy(&j->keys_lock);
        pthread_cond_destroy(&j->keys_cond);
        if (j->result_fd >= 0)
                (void) close(j->result_fd);
        result_stream_free(j->stream);
        pthread_mutex_destroy(&j->lock);
        pthread_cond_destroy(&j->admit_cond);
        free(j->error_name);
        free(j->error_message);
        free(j->owner);
        caller_creds_free(j->caller);
        free(j);
        return NULL;
}

void job_release_inputs(Job *j) {
        for (int s = 0; s < 2; s++) {
                JobSide *side = &j->sides[s];
                nbd_stop_disks(side->disks, side->n_disks);
                for (size_t i = 0; i < side->n_disks; i++) {
                        Disk *d = &side->disks[i];
                        if (d->by_fd && d->fd >= 0)
                                (void) close(d->fd);
                        d->fd = -1;
                        disk_layers_free(d->layers, d->n_layers);
                        d->layers = NULL;
                        d->n_layers = 0;
                }
                side->direct = appliance_free(side->direct);
                if (side->manifest_fd >= 0)
                        (void) close(side->manifest_fd);
                side->manifest_fd = -1;
        }
        /* Readers hold their own fds on it. */
        pthread_mutex_lock(&j->lock);
        j->stream = result_stream_free(j->stream);
        pthread_mutex_unlock(&j->lock);
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

int job_set_manifest(Job *j, int side, int fd) {
        JobSide *s = &j->sides[side];
        if (s->manifest_fd >= 0)
                (void) close(s->manifest_fd);
        s->manifest_fd = fd;
        s->from_manifest = true;
        return 0;
}

void job_wake(Job *j) {
        if (j->ctx && j->ctx->wake)
                j->ctx->wake(j->ctx->userdata);
}

int job_start(Job *j) {
        int r = pthread_create(&j->thread, NULL, job_pipeline_run, j);
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

void job_finish(Job *j, const Error *e) {
        /* A finished job is kept a while: its keys are not. */
        job_keys_drop(j);
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

unsigned job_sync(Job *j) {
        unsigned changed = 0;
        pthread_mutex_lock(&j->lock);
        JobStatus st = j->status;
        job_compute_rates(j, &st);
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

Error job_get_error(Job *j) {
        pthread_mutex_lock(&j->lock);
        Error e = j->error;
        pthread_mutex_unlock(&j->lock);
        return e;
}

int job_open_result(Job *j, Error *e) {
        if (j->result_fd < 0 && j->restored && job_record_load_result(j, e) < 0)
                return -1;
        if (j->result_fd < 0)
                return error_set(e, ERR_INTERNAL, "job %" PRIu64 " has no result", j->id);
        int fd = fd_reopen_readonly(j->result_fd);
        if (fd < 0)
                return error_set(e, ERR_INTERNAL, "cannot read the result of job %" PRIu64 ": %s", j->id,
                                 strerror(-fd));
        return fd;
}

bool job_streams_changes(const Job *j) {
        return j->kind == JOB_KIND_COMPARE && !j->restored && !package_options_wanted(&j->packages) &&
               !content_options_wanted(&j->content);
}

int job_open_changes(Job *j, Error *e) {
        if (!job_streams_changes(j))
                return error_set(e, ERR_INVALID_ARGS,
                                 "job %" PRIu64 " has no change stream: its result is written whole at its end", j->id);
        pthread_mutex_lock(&j->lock);
        int fd = -1;
        if (!j->stream && j->finished)
                error_set(e, ERR_INVALID_ARGS, "job %" PRIu64 " has ended: its result has the changes", j->id);
        else if (j->stream || result_stream_new(&j->stream, e) >= 0) {
                fd = result_stream_open(j->stream);
                if (fd < 0)
                        error_set(e, ERR_INTERNAL, "cannot open the change stream of job %" PRIu64 ": %s", j->id,
                                  strerror(-fd));
        }
        pthread_mutex_unlock(&j->lock);
        return fd;
}

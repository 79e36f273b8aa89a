/* The Job object on the bus: properties published from the worker's
 * reports at most ten times a second, a unicast Completed signal, Wait(),
 * Cancel() and GetResult(). */
#include "bus/manager.h"
#include "bus/polkit.h"
#include "common/log.h"
#include "job/job.h"

#define EMIT_INTERVAL_USEC (100 * 1000ULL)

/* The properties that change while a job runs, from one table. */
static const struct {
        const char *name;
        char type; /* u, d, b (int32_t) or t */
        size_t offset; /* in JobStatus */
} status_fields[] = {
        {"State", 'u', offsetof(JobStatus, state)},
        {"Phase", 'u', offsetof(JobStatus, phase)},
        {"QueuePosition", 'u', offsetof(JobStatus, queue_position)},
        {"Progress", 'd', offsetof(JobStatus, progress)},
        {"ProgressValid", 'b', offsetof(JobStatus, progress_valid)},
        {"FilesDone", 't', offsetof(JobStatus, files_done)},
        {"FilesTotal", 't', offsetof(JobStatus, files_total)},
        {"BytesDone", 't', offsetof(JobStatus, bytes_done)},
        {"BytesTotal", 't', offsetof(JobStatus, bytes_total)},
        {"Rate", 't', offsetof(JobStatus, rate)},
        {"ExpectedEndTime", 't', offsetof(JobStatus, expected_end_usec)},
        {"Differences", 'b', offsetof(JobStatus, differences)},
};

/* Appends a status property's value, bare or as a variant; -ENOENT for a
 * name that is not one. */
static int append_status(sd_bus_message *m, const Job *j, const char *name, bool variant) {
        const char *str = NULL;
        if (strcmp(name, "ErrorName") == 0)
                str = strempty(j->error_name);
        else if (strcmp(name, "ErrorMessage") == 0)
                str = strempty(j->error_message);
        if (str)
                return variant ? sd_bus_message_append(m, "v", "s", str) : sd_bus_message_append(m, "s", str);

        for (size_t i = 0; i < ELEMENTSOF(status_fields); i++) {
                if (strcmp(name, status_fields[i].name) != 0)
                        continue;
                const char *p = (const char *) &j->published + status_fields[i].offset;
                char sig[2] = {status_fields[i].type, 0};
                int r = variant ? sd_bus_message_open_container(m, 'v', sig) : 0;
                if (r < 0)
                        return r;
                switch (status_fields[i].type) {
                case 'u':
                        r = sd_bus_message_append_basic(m, 'u', (const uint32_t *) p);
                        break;
                case 'd':
                        r = sd_bus_message_append_basic(m, 'd', (const double *) p);
                        break;
                case 'b': {
                        int b = *(const int32_t *) p != 0;
                        r = sd_bus_message_append_basic(m, 'b', &b);
                        break;
                }
                default:
                        r = sd_bus_message_append_basic(m, 't', (const uint64_t *) p);
                }
                if (r >= 0 && variant)
                        r = sd_bus_message_close_container(m);
                return r;
        }
        return -ENOENT;
}

/* PropertiesChanged, but addressed to the job's owner only: a job's
 * progress is nobody else's business. */
static int emit_status(Job *j) {
        sd_bus *bus = j->manager->bus;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_signal(bus, &m, j->object_path, "org.freedesktop.DBus.Properties",
                                          "PropertiesChanged");
        if (r < 0)
                return r;
        if (j->owner && (r = sd_bus_message_set_destination(m, j->owner)) < 0)
                return r;
        r = sd_bus_message_append(m, "s", VD_JOB_INTERFACE);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(status_fields) + 2; i++) {
                const char *name = i < ELEMENTSOF(status_fields) ? status_fields[i].name
                                   : i == ELEMENTSOF(status_fields) ? "ErrorName"
                                                                    : "ErrorMessage";
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", name);
                if (r >= 0)
                        r = append_status(m, j, name, true);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "as", 0);
        if (r < 0)
                return r;
        j->last_emit_usec = now_usec_monotonic();
        j->emitted_state = j->published.state;
        return sd_bus_send(bus, m, NULL);
}

static int on_emit_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Job *j = userdata;
        if (j->exported)
                (void) emit_status(j);
        return 0;
}

static void schedule_emit(Job *j) {
        uint64_t due = j->last_emit_usec + EMIT_INTERVAL_USEC;
        /* A state change is never held back: it flushes the counters with it. */
        if (now_usec_monotonic() >= due || j->published.state != j->emitted_state) {
                (void) emit_status(j);
                return;
        }
        if (!j->emit_timer)
                (void) sd_event_add_time(j->manager->event, &j->emit_timer, CLOCK_MONOTONIC, due, 0,
                                         on_emit_timer, j);
        else if (sd_event_source_get_enabled(j->emit_timer, NULL) <= 0) {
                (void) sd_event_source_set_time(j->emit_timer, due);
                (void) sd_event_source_set_enabled(j->emit_timer, SD_EVENT_ONESHOT);
        }
}

static int reply_wait(Job *j, sd_bus_message *call) {
        if (j->published.state == JOB_STATE_SUCCEEDED)
                return sd_bus_reply_method_return(call, "ub", j->published.state, j->published.differences);
        return sd_bus_reply_method_errorf(call, j->error_name ? j->error_name : VD_ERROR_PREFIX "Internal",
                                          "%s", strempty(j->error_message));
}

static int on_expire(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Job *j = userdata;
        log_debug("Forgetting finished job %" PRIu64 ".", j->id);
        manager_remove_job(j->manager, j);
        return 0;
}

static void job_finished(Job *j) {
        Manager *m = j->manager;

        j->finished_handled = true;
        if (j->thread_started) {
                (void) pthread_join(j->thread, NULL);
                j->thread_started = false;
        }
        if (j->error_message)
                log_info("Job %" PRIu64 " %s: %s", j->id, job_state_to_string(j->published.state),
                         j->error_message);
        else
                log_info("Job %" PRIu64 " succeeded: %s.", j->id,
                         j->published.differences ? "differences found" : "no differences");

        /* Final properties first, then the signal, then the replies. */
        (void) emit_status(j);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *sig = NULL;
        if (sd_bus_message_new_signal(m->bus, &sig, j->object_path, VD_JOB_INTERFACE, "Completed") >= 0 &&
            (!j->owner || sd_bus_message_set_destination(sig, j->owner) >= 0) &&
            sd_bus_message_append(sig, "ubss", j->published.state, j->published.differences,
                                  strempty(j->error_name), strempty(j->error_message)) >= 0)
                (void) sd_bus_send(m->bus, sig, NULL);

        for (size_t i = 0; i < j->n_waiters; i++) {
                (void) reply_wait(j, j->waiters[i]);
                j->waiters[i] = sd_bus_message_unref(j->waiters[i]);
        }
        j->n_waiters = 0;

        uint64_t now;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_add_time(m->event, &j->expire_timer, CLOCK_MONOTONIC, now + m->retain_usec, 0,
                                 on_expire, j);
        manager_update_idle(m);
}

void job_dispatch(Job *j) {
        unsigned changed = job_sync(j);

        if (changed & JOB_CHANGED_VALIDATED) {
                j->validated_handled = true;
                sd_bus_message *call = TAKE_PTR(j->pending_compare);
                if (j->published.state == JOB_STATE_FAILED) {
                        /* Bad input: a real error reply, and no job object. */
                        Error e = {0};
                        pthread_mutex_lock(&j->lock);
                        e = j->error;
                        pthread_mutex_unlock(&j->lock);
                        log_info("Rejected comparison: %s", e.message);
                        if (call)
                                (void) manager_reply_error(call, &e);
                        sd_bus_message_unref(call);
                        manager_remove_job(j->manager, j);
                        return;
                }
                if (job_set_id(j, j->manager->next_id) < 0) {
                        if (call)
                                (void) sd_bus_reply_method_errorf(call, VD_ERROR_PREFIX "Internal", "out of memory");
                        sd_bus_message_unref(call);
                        job_cancel(j);
                        manager_remove_job(j->manager, j);
                        return;
                }
                j->manager->next_id++;
                j->exported = true;
                if (call)
                        (void) sd_bus_reply_method_return(call, "o", j->object_path);
                sd_bus_message_unref(call);
                log_info("Job %" PRIu64 " started.", j->id);
        }
        if (!j->exported)
                return;
        if (changed & JOB_CHANGED_FINISHED)
                job_finished(j);
        else if (changed & JOB_CHANGED_STATUS)
                schedule_emit(j);
}

/* ---- methods ---- */

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Job *j = userdata;
        /* One's own job needs nothing; someone else's needs polkit. */
        uid_t uid;
        if (j->manager->mode == BUS_MODE_SYSTEM && (polkit_sender_uid(msg, &uid) < 0 || uid != j->owner_uid)) {
                int r = polkit_check(j->manager, msg, POLKIT_ACTION_CANCEL_OTHER, POLKIT_TARGET_JOB, method_cancel,
                                     err);
                if (r <= 0)
                        return r < 0 ? r : 1;
        }
        /* Idempotent: cancelling a finished job is not an error. */
        if (!j->finished_handled)
                job_cancel(j);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_wait(sd_bus_message *msg, void *userdata, sd_bus_error *err _unused_) {
        Job *j = userdata;
        if (j->finished_handled)
                return reply_wait(j, msg);
        sd_bus_message **w = realloc(j->waiters, (j->n_waiters + 1) * sizeof(*w));
        if (!w)
                return -ENOMEM;
        j->waiters = w;
        j->waiters[j->n_waiters++] = sd_bus_message_ref(msg);
        return 1;
}

static int method_get_result(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Job *j = userdata;
        if (!j->finished_handled)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "NotFinished", "job %" PRIu64 " is still running",
                                         j->id);
        if (j->published.state != JOB_STATE_SUCCEEDED)
                return sd_bus_error_setf(err, j->error_name ? j->error_name : VD_ERROR_PREFIX "Internal", "%s",
                                         strempty(j->error_message));
        _cleanup_close_ int fd = job_open_result(j);
        if (fd < 0)
                return fd;
        return sd_bus_reply_method_return(msg, "h", fd);
}

static int property_get(sd_bus *bus _unused_, const char *path _unused_, const char *interface _unused_,
                        const char *property, sd_bus_message *reply, void *userdata,
                        sd_bus_error *err _unused_) {
        Job *j = userdata;

        if (strcmp(property, "Id") == 0)
                return sd_bus_message_append(reply, "t", j->id);
        if (strcmp(property, "Owner") == 0)
                return sd_bus_message_append(reply, "s", strempty(j->owner));
        if (strcmp(property, "Detached") == 0)
                return sd_bus_message_append(reply, "b", j->detached);
        if (strcmp(property, "CreationTime") == 0)
                return sd_bus_message_append(reply, "t", j->created_usec);
        return append_status(reply, j, property, false);
}

#define JOB_PROPERTY(name, sig, flags) SD_BUS_PROPERTY(name, sig, property_get, 0, flags)

const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        JOB_PROPERTY("Id", "t", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("Owner", "s", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("Detached", "b", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("CreationTime", "t", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("State", "u", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("Phase", "u", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("QueuePosition", "u", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("Progress", "d", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("ProgressValid", "b", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("FilesDone", "t", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("FilesTotal", "t", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("BytesDone", "t", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("BytesTotal", "t", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("Rate", "t", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("ExpectedEndTime", "t", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("Differences", "b", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("ErrorName", "s", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        JOB_PROPERTY("ErrorMessage", "s", SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Cancel", NULL, NULL, method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Wait", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", state, "b", differences),
                                method_wait, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetResult", SD_BUS_NO_ARGS, SD_BUS_RESULT("h", json), method_get_result,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Completed",
                                SD_BUS_ARGS("u", state, "b", differences, "s", error_name, "s", error_message),
                                0),
        SD_BUS_VTABLE_END,
};

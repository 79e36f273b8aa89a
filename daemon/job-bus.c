/* The Job object on the bus: properties published from the worker's
 * reports at most ten times a second, a unicast Completed signal, Wait(),
 * Cancel() and GetResult(). */
#include "job.h"
#include "log.h"
#include "manager.h"

#define EMIT_INTERVAL_USEC (100 * 1000ULL)

static const char *const status_properties[] = {
        "State", "Phase", "Progress", "ProgressValid", "FilesDone", "FilesTotal", "BytesDone",
        "BytesTotal", "Rate", "ExpectedEndTime", "Differences", "ErrorName", "ErrorMessage",
};

static int append_property(sd_bus_message *m, const Job *j, const char *name) {
        const JobStatus *s = &j->published;
        int r = sd_bus_message_open_container(m, 'e', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", name);
        if (r < 0)
                return r;
        if (strcmp(name, "State") == 0)
                r = sd_bus_message_append(m, "v", "u", s->state);
        else if (strcmp(name, "Phase") == 0)
                r = sd_bus_message_append(m, "v", "u", s->phase);
        else if (strcmp(name, "Progress") == 0)
                r = sd_bus_message_append(m, "v", "d", s->progress);
        else if (strcmp(name, "ProgressValid") == 0)
                r = sd_bus_message_append(m, "v", "b", s->progress_valid);
        else if (strcmp(name, "FilesDone") == 0)
                r = sd_bus_message_append(m, "v", "t", s->files_done);
        else if (strcmp(name, "FilesTotal") == 0)
                r = sd_bus_message_append(m, "v", "t", s->files_total);
        else if (strcmp(name, "BytesDone") == 0)
                r = sd_bus_message_append(m, "v", "t", s->bytes_done);
        else if (strcmp(name, "BytesTotal") == 0)
                r = sd_bus_message_append(m, "v", "t", s->bytes_total);
        else if (strcmp(name, "Rate") == 0)
                r = sd_bus_message_append(m, "v", "t", s->rate);
        else if (strcmp(name, "ExpectedEndTime") == 0)
                r = sd_bus_message_append(m, "v", "t", s->expected_end_usec);
        else if (strcmp(name, "Differences") == 0)
                r = sd_bus_message_append(m, "v", "b", s->differences);
        else if (strcmp(name, "ErrorName") == 0)
                r = sd_bus_message_append(m, "v", "s", strempty(j->error_name));
        else
                r = sd_bus_message_append(m, "v", "s", strempty(j->error_message));
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
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
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(status_properties); i++)
                r = append_property(m, j, status_properties[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "as", 0);
        if (r < 0)
                return r;
        j->last_emit_usec = now_usec_monotonic();
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
        if (now_usec_monotonic() >= due) {
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

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *err _unused_) {
        Job *j = userdata;
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
        const JobStatus *s = &j->published;

        if (strcmp(property, "Id") == 0)
                return sd_bus_message_append(reply, "t", j->id);
        if (strcmp(property, "Owner") == 0)
                return sd_bus_message_append(reply, "s", strempty(j->owner));
        if (strcmp(property, "Detached") == 0)
                return sd_bus_message_append(reply, "b", j->detached);
        if (strcmp(property, "CreationTime") == 0)
                return sd_bus_message_append(reply, "t", j->created_usec);
        if (strcmp(property, "State") == 0)
                return sd_bus_message_append(reply, "u", s->state);
        if (strcmp(property, "Phase") == 0)
                return sd_bus_message_append(reply, "u", s->phase);
        if (strcmp(property, "Progress") == 0)
                return sd_bus_message_append(reply, "d", s->progress);
        if (strcmp(property, "ProgressValid") == 0)
                return sd_bus_message_append(reply, "b", s->progress_valid);
        if (strcmp(property, "FilesDone") == 0)
                return sd_bus_message_append(reply, "t", s->files_done);
        if (strcmp(property, "FilesTotal") == 0)
                return sd_bus_message_append(reply, "t", s->files_total);
        if (strcmp(property, "BytesDone") == 0)
                return sd_bus_message_append(reply, "t", s->bytes_done);
        if (strcmp(property, "BytesTotal") == 0)
                return sd_bus_message_append(reply, "t", s->bytes_total);
        if (strcmp(property, "Rate") == 0)
                return sd_bus_message_append(reply, "t", s->rate);
        if (strcmp(property, "ExpectedEndTime") == 0)
                return sd_bus_message_append(reply, "t", s->expected_end_usec);
        if (strcmp(property, "Differences") == 0)
                return sd_bus_message_append(reply, "b", s->differences);
        if (strcmp(property, "ErrorName") == 0)
                return sd_bus_message_append(reply, "s", strempty(j->error_name));
        if (strcmp(property, "ErrorMessage") == 0)
                return sd_bus_message_append(reply, "s", strempty(j->error_message));
        return -ENOENT;
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

/* The Job objects on the bus, one per listed job of the job table
 * (whichever front-end started it): properties published from the job's
 * reports at most ten times a second to its owner, a unicast Completed
 * signal, Wait(), Cancel(), GetResult() and OpenChanges(). */
#include "bus/manager.h"
#include "bus/polkit.h"
#include "common/log.h"

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

/* The bus's own state for a job, in j->frontend[m->job_slot]. */
typedef struct BusJob {
        Manager *manager;
        Job *job;
        char *path;
        bool ours;                   /* started by a Compare call on this bus */
        sd_bus_message *pending_compare;
        sd_bus_message **waiters;
        size_t n_waiters;
        sd_event_source *emit_timer;
        uint64_t last_emit_usec;
        uint32_t emitted_state;      /* the State last sent */
        sd_bus_track *track;
} BusJob;

static BusJob *bus_job(Manager *m, Job *j) {
        return j->frontend[m->job_slot];
}

char *job_bus_path(const Job *j) {
        char *path;
        return asprintf(&path, VD_JOB_PATH_PREFIX "/%" PRIu64, j->id) < 0 ? NULL : path;
}

/* PropertiesChanged, but addressed to the job's owner only: a job's
 * progress is nobody else's business. Jobs of other front-ends have no
 * owner on this bus: nothing is sent for them. */
static int emit_status(BusJob *b) {
        Job *j = b->job;
        sd_bus *bus = b->manager->bus;
        if (!b->ours || !b->path)
                return 0;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_signal(bus, &m, b->path, "org.freedesktop.DBus.Properties", "PropertiesChanged");
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
        b->last_emit_usec = now_usec_monotonic();
        b->emitted_state = j->published.state;
        return sd_bus_send(bus, m, NULL);
}

static int on_emit_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        (void) emit_status(userdata);
        return 0;
}

static void schedule_emit(BusJob *b) {
        uint64_t due = b->last_emit_usec + EMIT_INTERVAL_USEC;
        /* A state change is never held back: it flushes the counters with it. */
        if (now_usec_monotonic() >= due || b->job->published.state != b->emitted_state) {
                (void) emit_status(b);
                return;
        }
        if (!b->emit_timer)
                (void) sd_event_add_time(b->manager->event, &b->emit_timer, CLOCK_MONOTONIC, due, 0, on_emit_timer,
                                         b);
        else if (sd_event_source_get_enabled(b->emit_timer, NULL) <= 0) {
                (void) sd_event_source_set_time(b->emit_timer, due);
                (void) sd_event_source_set_enabled(b->emit_timer, SD_EVENT_ONESHOT);
        }
}

static int reply_wait(Job *j, sd_bus_message *call) {
        if (j->published.state == JOB_STATE_SUCCEEDED)
                return sd_bus_reply_method_return(call, "ub", j->published.state, j->published.differences);
        return sd_bus_reply_method_errorf(call, j->error_name ? j->error_name : VD_ERROR_PREFIX "Internal",
                                          "%s", strempty(j->error_message));
}

/* ---- the job table's news ---- */

static void on_added(Job *j, void *userdata) {
        Manager *m = userdata;
        BusJob *b = calloc(1, sizeof(*b));
        if (!b)
                return; /* invisible on this bus; the job runs all the same */
        *b = (BusJob){.manager = m, .job = j};
        j->frontend[m->job_slot] = b;
}

static void on_validated(Job *j, void *userdata) {
        Manager *m = userdata;
        BusJob *b = bus_job(m, j);
        if (!b)
                return;
        sd_bus_message *call = TAKE_PTR(b->pending_compare);
        if (!j->listed) {
                /* Bad input: a real error reply, and no job object. */
                Error e = job_get_error(j);
                if (call)
                        (void) manager_reply_error(call, &e);
                sd_bus_message_unref(call);
                return;
        }
        b->path = job_bus_path(j);
        if (call) {
                if (b->path)
                        (void) sd_bus_reply_method_return(call, "o", b->path);
                else
                        (void) sd_bus_reply_method_errorf(call, VD_ERROR_PREFIX "Internal", "out of memory");
        }
        sd_bus_message_unref(call);
        if (!b->path)
                job_cancel(j);
}

static void on_changed(Job *j, void *userdata) {
        BusJob *b = bus_job(userdata, j);
        if (b && b->path)
                schedule_emit(b);
}

static void on_finished(Job *j, void *userdata) {
        Manager *m = userdata;
        BusJob *b = bus_job(m, j);
        if (!b || !b->path)
                return;
        /* Final properties first, then the signal, then the replies. */
        (void) emit_status(b);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *sig = NULL;
        if (b->ours && sd_bus_message_new_signal(m->bus, &sig, b->path, VD_JOB_INTERFACE, "Completed") >= 0 &&
            (!j->owner || sd_bus_message_set_destination(sig, j->owner) >= 0) &&
            sd_bus_message_append(sig, "ubss", j->published.state, j->published.differences,
                                  strempty(j->error_name), strempty(j->error_message)) >= 0)
                (void) sd_bus_send(m->bus, sig, NULL);

        for (size_t i = 0; i < b->n_waiters; i++) {
                (void) reply_wait(j, b->waiters[i]);
                b->waiters[i] = sd_bus_message_unref(b->waiters[i]);
        }
        b->n_waiters = 0;
}

static void on_removed(Job *j, void *userdata) {
        Manager *m = userdata;
        BusJob *b = bus_job(m, j);
        if (!b)
                return;
        j->frontend[m->job_slot] = NULL;
        sd_bus_message_unref(b->pending_compare);
        for (size_t i = 0; i < b->n_waiters; i++)
                sd_bus_message_unref(b->waiters[i]);
        free(b->waiters);
        sd_event_source_disable_unref(b->emit_timer);
        sd_bus_track_unref(b->track);
        free(b->path);
        free(b);
}

/* ---- methods: their userdata is the BusJob ---- */

/* The BusJob of an object path, when its job is listed. */
static BusJob *find_by_path(Manager *m, const char *path) {
        const char *id = path && strncmp(path, VD_JOB_PATH_PREFIX "/", strlen(VD_JOB_PATH_PREFIX "/")) == 0
                                 ? path + strlen(VD_JOB_PATH_PREFIX "/")
                                 : NULL;
        char *end;
        if (!id || !*id || *id < '1' || *id > '9')
                return NULL;
        errno = 0;
        unsigned long long v = strtoull(id, &end, 10);
        if (errno || *end)
                return NULL;
        Job *j = job_table_find(m->jobs, v);
        BusJob *b = j ? bus_job(m, j) : NULL;
        return b && b->path ? b : NULL;
}

/* For polkit: the job may be gone by the time it answers. */
static void *find_again(sd_bus_message *call, void *userdata) {
        return find_by_path(userdata, sd_bus_message_get_path(call));
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        BusJob *b = userdata;
        Manager *m = b->manager;
        Job *j = b->job;
        /* One's own job needs nothing; someone else's needs polkit. */
        uid_t uid;
        if (m->mode == BUS_MODE_SYSTEM && (polkit_sender_uid(msg, &uid) < 0 || uid != j->owner_uid)) {
                int r = polkit_check(&m->polkit, msg, POLKIT_ACTION_CANCEL_OTHER, find_again, m, method_cancel, err);
                if (r <= 0)
                        return r < 0 ? r : 1;
        }
        /* Idempotent: cancelling a finished job is not an error. */
        if (job_unfinished(j))
                job_cancel(j);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_wait(sd_bus_message *msg, void *userdata, sd_bus_error *err _unused_) {
        BusJob *b = userdata;
        if (!job_unfinished(b->job))
                return reply_wait(b->job, msg);
        sd_bus_message **w = realloc(b->waiters, (b->n_waiters + 1) * sizeof(*w));
        if (!w)
                return -ENOMEM;
        b->waiters = w;
        b->waiters[b->n_waiters++] = sd_bus_message_ref(msg);
        return 1;
}

/* On the system bus a job's result (names, owners, hashes, -u's
 * contents of files) is its owner's and root's to read. */
static int check_reader(BusJob *b, sd_bus_message *msg, sd_bus_error *err) {
        uid_t uid;
        if (b->manager->mode != BUS_MODE_SYSTEM)
                return 0;
        if (polkit_sender_uid(msg, &uid) >= 0 && (uid == 0 || uid == b->job->owner_uid))
                return 0;
        return sd_bus_error_setf(err, VD_ERROR_PREFIX "AccessDenied",
                                 "job %" PRIu64 " belongs to another user: its result is theirs to read", b->job->id);
}

static int method_get_result(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Job *j = ((BusJob *) userdata)->job;
        int r = check_reader(userdata, msg, err);
        if (r < 0)
                return r;
        if (job_unfinished(j))
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "NotFinished", "job %" PRIu64 " is still running",
                                         j->id);
        if (j->published.state != JOB_STATE_SUCCEEDED)
                return sd_bus_error_setf(err, j->error_name ? j->error_name : VD_ERROR_PREFIX "Internal", "%s",
                                         strempty(j->error_message));
        Error e = {0};
        _cleanup_close_ int fd = job_open_result(j, &e);
        if (fd < 0)
                return manager_set_error(err, &e, -EIO);
        return sd_bus_reply_method_return(msg, "h", fd);
}

static int method_open_changes(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Job *j = ((BusJob *) userdata)->job;
        int r = check_reader(userdata, msg, err);
        if (r < 0)
                return r;
        Error e = {0};
        _cleanup_close_ int fd = job_open_changes(j, &e);
        if (fd < 0)
                return manager_set_error(err, &e, -EIO);
        return sd_bus_reply_method_return(msg, "h", fd);
}

static int property_get(sd_bus *bus _unused_, const char *path _unused_, const char *interface _unused_,
                        const char *property, sd_bus_message *reply, void *userdata,
                        sd_bus_error *err _unused_) {
        Job *j = ((BusJob *) userdata)->job;

        if (strcmp(property, "Id") == 0)
                return sd_bus_message_append(reply, "t", j->id);
        if (strcmp(property, "Owner") == 0)
                return sd_bus_message_append(reply, "s", strempty(j->owner));
        if (strcmp(property, "Detached") == 0)
                return sd_bus_message_append(reply, "b", j->detached);
        if (strcmp(property, "CreationTime") == 0)
                return sd_bus_message_append(reply, "t", j->created_usec);
        if (strcmp(property, "Kind") == 0)
                return sd_bus_message_append(reply, "u", (uint32_t) j->kind);
        return append_status(reply, j, property, false);
}

#define JOB_PROPERTY(name, sig, flags) SD_BUS_PROPERTY(name, sig, property_get, 0, flags)

static const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        JOB_PROPERTY("Id", "t", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("Owner", "s", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("Detached", "b", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("CreationTime", "t", SD_BUS_VTABLE_PROPERTY_CONST),
        JOB_PROPERTY("Kind", "u", SD_BUS_VTABLE_PROPERTY_CONST),
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
        SD_BUS_METHOD_WITH_ARGS("OpenChanges", SD_BUS_NO_ARGS, SD_BUS_RESULT("h", changes), method_open_changes,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Completed",
                                SD_BUS_ARGS("u", state, "b", differences, "s", error_name, "s", error_message),
                                0),
        SD_BUS_VTABLE_END,
};

static int job_find(sd_bus *bus _unused_, const char *path, const char *interface _unused_, void *userdata,
                    void **found, sd_bus_error *err _unused_) {
        BusJob *b = find_by_path(userdata, path);
        if (!b)
                return 0;
        *found = b;
        return 1;
}

static int job_enumerate(sd_bus *bus _unused_, const char *prefix _unused_, void *userdata, char ***nodes,
                         sd_bus_error *err _unused_) {
        Manager *m = userdata;
        size_t n_jobs, n = 0;
        Job *const *jobs = job_table_jobs(m->jobs, &n_jobs);
        char **l = calloc(n_jobs + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n_jobs; i++) {
                BusJob *b = bus_job(m, jobs[i]);
                if (b && b->path && !(l[n++] = strdup(b->path))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *nodes = l;
        return 1;
}

/* A client that submitted a job and left: cancel it unless detached. */
static int on_owner_gone(sd_bus_track *t _unused_, void *userdata) {
        BusJob *b = userdata;
        /* An empty track stays queued and would call us again and again. */
        b->track = sd_bus_track_unref(b->track);
        if (!b->job->detached && job_unfinished(b->job)) {
                log_info("Client of job %" PRIu64 " disconnected, cancelling it.", b->job->id);
                job_cancel(b->job);
        }
        return 0;
}

int job_bus_adopt(Manager *m, Job *j, sd_bus_message *compare_call, const char *owner) {
        BusJob *b = bus_job(m, j);
        if (!b)
                return -ENOMEM;
        b->ours = true;
        b->pending_compare = sd_bus_message_ref(compare_call);
        if (!owner)
                return 0;
        int r = sd_bus_track_new(m->bus, &b->track, on_owner_gone, b);
        if (r >= 0)
                r = sd_bus_track_add_name(b->track, owner);
        return r;
}

/* A call to a job the daemon no longer keeps (expired, or from before a
 * restart without its store) is a NoSuchJob error, not "unknown object".
 * Runs before the job vtable; known jobs pass through. */
static int on_job_path(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Manager *m = userdata;
        const char *path = sd_bus_message_get_path(msg), *iface = sd_bus_message_get_interface(msg);
        if (!sd_bus_message_is_method_call(msg, NULL, NULL) || !path ||
            strncmp(path, VD_JOB_PATH_PREFIX "/", strlen(VD_JOB_PATH_PREFIX "/")) != 0 ||
            streq_ptr(iface, "org.freedesktop.DBus.Introspectable") || streq_ptr(iface, "org.freedesktop.DBus.Peer") ||
            find_by_path(m, path))
                return 0;
        const char *id = path + strlen(VD_JOB_PATH_PREFIX "/");
        if (!job_table_records_readable(m->jobs))
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "NoSuchJob",
                                         "job %s is not known now: the daemon cannot read its job records (its "
                                         "manifest store cannot be opened); try again later",
                                         id);
        return sd_bus_error_setf(err, VD_ERROR_PREFIX "NoSuchJob", "no job %s (finished jobs are kept for %" PRIu64 " s)",
                                 id, m->retain_usec / 1000000);
}

int job_bus_register(Manager *m) {
        static const JobListener listener_template = {
                .added = on_added,
                .validated = on_validated,
                .changed = on_changed,
                .finished = on_finished,
                .removed = on_removed,
        };
        JobListener l = listener_template;
        l.userdata = m;
        int r = job_table_add_listener(m->jobs, &l, &m->job_slot);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback(m->bus, NULL, VD_JOB_PATH_PREFIX, on_job_path, m);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(m->bus, NULL, VD_JOB_PATH_PREFIX, VD_JOB_INTERFACE, job_vtable, job_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, VD_JOB_PATH_PREFIX, job_enumerate, m);
}

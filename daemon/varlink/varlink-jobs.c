/* Jobs on varlink: Compare and Wait stream a job's progress (at most ten
 * replies a second, a state change never held back) and end with its
 * result or its error; with "changes", the replies carry the lines of the
 * job's change stream as it grows instead, and the last one no result.
 * Cancel and ListJobs. Every listed job of the job table is reachable
 * here, whichever front-end started it. */
#include <inttypes.h>
#include <sys/stat.h>

#include "common/base64.h"
#include "common/log.h"
#include "common/names.h"
#include "job/job-input.h"
#include "varlink/varlink-daemon-internal.h"
#include "varlink/varlink-json.h"

#define EMIT_INTERVAL_USEC (100 * 1000ULL)
/* A finished job's stream goes out as fast as its reader takes it. */
#define DRAIN_INTERVAL_USEC (2 * 1000ULL)
/* Bytes of change lines a reply carries (a longer line goes alone), and
 * the longest line taken. */
#define CHANGES_CHUNK (256U * 1024)
#define CHANGES_LINE_MAX (64U << 20)

/* A call following a job: Compare's (the owner) or a Wait. */
typedef struct Watcher {
        VarlinkCall *call;
        bool owner;
        int changes;   /* the job's change stream, read-only, or -1 */
        uint64_t sent; /* bytes of it sent */
} Watcher;

/* Our state for a job, in j->frontend[d->job_slot]. */
typedef struct VlJob {
        VarlinkDaemon *d;
        Job *job;
        Watcher *watchers;
        size_t n_watchers;
        sd_event_source *emit_timer;
        uint64_t last_emit_usec;
        uint32_t emitted_state;
} VlJob;

static VlJob *vl_job(VarlinkDaemon *d, Job *j) {
        return j->frontend[d->job_slot];
}

/* {"job": id, "progress": ..., "result": result (taken, may be NULL)} */
static json_object *job_reply(Job *j, json_object *result) {
        json_object *o = json_object_new_object(), *p = varlink_progress_json(&j->published);
        if (!o || !p || json_object_object_add(o, "job", json_object_new_uint64(j->id)) < 0 ||
            json_object_object_add(o, "progress", p) < 0) {
                json_object_put(p);
                goto fail;
        }
        if (result && json_object_object_add(o, "result", result) < 0)
                goto fail;
        return o;
fail:
        json_object_put(result);
        json_object_put(o);
        return NULL;
}

/* The error a finished job ended with, as ours. */
static Error job_error(Job *j) {
        Error e = job_get_error(j);
        if (e.code == ERR_OK)
                error_set(&e, ERR_INTERNAL, "job %" PRIu64 " failed", j->id);
        return e;
}

static void drop_watcher(VlJob *v, size_t i) {
        if (v->watchers[i].changes >= 0)
                (void) close(v->watchers[i].changes);
        varlink_call_set_gone_handler(v->watchers[i].call, NULL, NULL);
        varlink_call_unref(v->watchers[i].call);
        v->watchers[i] = v->watchers[--v->n_watchers];
}

static void on_watcher_gone(VarlinkCall *call, void *userdata) {
        VlJob *v = userdata;
        for (size_t i = 0; i < v->n_watchers; i++) {
                if (v->watchers[i].call != call)
                        continue;
                /* The submitter gone: its job is over, unless detached. */
                if (v->watchers[i].owner && !v->job->detached && job_unfinished(v->job)) {
                        log_info("Varlink client of job %" PRIu64 " disconnected, cancelling it.", v->job->id);
                        job_cancel(v->job);
                }
                drop_watcher(v, i);
                return;
        }
}

/* changes: the call asked for the change stream; a job without one
 * (its result is written whole) answers with its result as usual. */
static int add_watcher(VlJob *v, VarlinkCall *call, bool owner, bool changes) {
        Watcher *w = realloc(v->watchers, (v->n_watchers + 1) * sizeof(*w));
        if (!w)
                return -ENOMEM;
        v->watchers = w;
        Error e = {0};
        int fd = changes && varlink_call_wants_more(call) && job_streams_changes(v->job) ? job_open_changes(v->job, &e)
                                                                                       : -1;
        w[v->n_watchers++] = (Watcher){.call = varlink_call_ref(call), .owner = owner, .changes = fd < 0 ? -1 : fd};
        varlink_call_set_gone_handler(call, on_watcher_gone, v);
        return 0;
}

/* The stream's next whole lines into the reply ("changes"): 1 when some
 * went, 0 when it holds none yet, a negative errno. */
static int add_changes(Watcher *w, json_object *reply) {
        struct stat st;
        if (fstat(w->changes, &st) < 0)
                return -errno;
        /* Looked at ten times a second: nothing new, nothing read. */
        if ((uint64_t) st.st_size <= w->sent)
                return 0;
        uint64_t fresh = (uint64_t) st.st_size - w->sent;
        _cleanup_free_ char *buf = NULL;
        for (size_t cap = fresh < CHANGES_CHUNK ? (size_t) fresh : CHANGES_CHUNK;; cap *= 2) {
                char *b = realloc(buf, cap);
                if (!b)
                        return -ENOMEM;
                buf = b;
                ssize_t n;
                do
                        n = pread(w->changes, buf, cap, (off_t) w->sent);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return -errno;
                const char *nl = n > 0 ? memrchr(buf, '\n', (size_t) n) : NULL;
                if (nl) {
                        size_t len = (size_t) (nl - buf) + 1;
                        json_object *s = json_object_new_string_len(buf, (int) len);
                        if (!s || json_object_object_add(reply, "changes", s) < 0) {
                                json_object_put(s);
                                return -ENOMEM;
                        }
                        w->sent += len;
                        return 1;
                }
                /* No whole line yet; or one longer than this read. */
                if ((size_t) n < cap)
                        return 0;
                if (cap >= CHANGES_LINE_MAX)
                        return -EBADMSG;
        }
}

static void arm_timer(VlJob *v, uint64_t usec);

/* Progress (and change lines) to the watchers that asked for more; one
 * that has not taken the last reply yet gets none now: progress is a
 * snapshot, the next will do, and its lines wait. Once the job has
 * finished, only streaming watchers are left: each gets the rest of the
 * stream, then its last reply. */
static void emit(VlJob *v) {
        if (!v->job->listed)
                return;
        bool finished = !job_unfinished(v->job), streaming = false;
        for (size_t i = 0; i < v->n_watchers;) {
                Watcher *w = &v->watchers[i];
                streaming |= w->changes >= 0;
                if (!varlink_call_wants_more(w->call) || varlink_call_output_pending(w->call) > 0) {
                        i++;
                        continue;
                }
                json_object *reply = job_reply(v->job, NULL);
                int k = !reply ? -ENOMEM : w->changes >= 0 ? add_changes(w, reply) : 0;
                if (k < 0) {
                        json_object_put(reply);
                        (void) vd_reply_errorf(w->call, ERR_INTERNAL, "cannot read the change stream of job %" PRIu64
                                               ": %s", v->job->id, strerror(-k));
                        drop_watcher(v, i);
                        continue;
                }
                if (finished && k == 0) {
                        (void) varlink_call_reply(w->call, reply);
                        drop_watcher(v, i);
                        continue;
                }
                (void) varlink_call_notify(w->call, reply);
                i++;
        }
        v->last_emit_usec = now_usec_monotonic();
        v->emitted_state = v->job->published.state;
        /* The stream grows between the job's news: look again soon. */
        if (v->n_watchers > 0 && (finished || streaming))
                arm_timer(v, finished ? DRAIN_INTERVAL_USEC : EMIT_INTERVAL_USEC);
}

static int on_emit_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        emit(userdata);
        return 0;
}

static void arm_timer(VlJob *v, uint64_t usec) {
        uint64_t due = now_usec_monotonic() + usec;
        if (!v->emit_timer)
                (void) sd_event_add_time(v->d->o.event, &v->emit_timer, CLOCK_MONOTONIC, due, 0, on_emit_timer, v);
        else if (sd_event_source_get_enabled(v->emit_timer, NULL) <= 0) {
                (void) sd_event_source_set_time(v->emit_timer, due);
                (void) sd_event_source_set_enabled(v->emit_timer, SD_EVENT_ONESHOT);
        }
}

static void schedule_emit(VlJob *v) {
        uint64_t due = v->last_emit_usec + EMIT_INTERVAL_USEC, now = now_usec_monotonic();
        if (v->n_watchers == 0)
                return;
        if (now >= due || v->job->published.state != v->emitted_state) {
                emit(v);
                return;
        }
        arm_timer(v, due - now);
}

/* The result document of a job that succeeded, parsed from its memfd; NULL
 * with e set when it cannot be had. */
static json_object *read_result(Job *j, Error *e) {
        _cleanup_close_ int fd = job_open_result(j, e);
        if (fd < 0)
                return NULL;
        _cleanup_fclose_ FILE *f = fdopen(fd, "r");
        if (!f) {
                error_set(e, ERR_INTERNAL, "out of memory");
                return NULL;
        }
        TAKE_FD(fd);
        json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH * 4);
        json_object *o = NULL;
        char buf[65536];
        size_t n;
        enum json_tokener_error err = json_tokener_continue;
        while (tok && err == json_tokener_continue && (n = fread(buf, 1, sizeof buf, f)) > 0) {
                o = json_tokener_parse_ex(tok, buf, (int) n);
                err = json_tokener_get_error(tok);
        }
        json_tokener_free(tok);
        if (err != json_tokener_success) {
                json_object_put(o);
                error_set(e, ERR_INTERNAL, "the result of job %" PRIu64 " cannot be read", j->id);
                return NULL;
        }
        return o;
}

/* The final answer to a watcher; re is why a job that succeeded has no
 * result. */
static void answer(Job *j, VarlinkCall *call, json_object *result, const Error *re) {
        if (j->published.state == JOB_STATE_SUCCEEDED) {
                if (!result) {
                        (void) vd_reply_error(call, re);
                        return;
                }
                (void) varlink_call_reply(call, job_reply(j, json_object_get(result)));
                return;
        }
        Error e = job_error(j);
        (void) vd_reply_error(call, &e);
}

/* ---- the job table's news ---- */

static void on_added(Job *j, void *userdata) {
        VarlinkDaemon *d = userdata;
        VlJob *v = calloc(1, sizeof(*v));
        if (!v)
                return; /* invisible here; the job runs all the same */
        *v = (VlJob){.d = d, .job = j};
        j->frontend[d->job_slot] = v;
}

static void on_validated(Job *j, void *userdata) {
        VlJob *v = vl_job(userdata, j);
        if (!v)
                return;
        if (!j->listed) {
                /* Bad input: an error reply, and no job. */
                Error e = job_error(j);
                while (v->n_watchers > 0) {
                        (void) vd_reply_error(v->watchers[0].call, &e);
                        drop_watcher(v, 0);
                }
                return;
        }
        emit(v);
}

static void on_changed(Job *j, void *userdata) {
        VlJob *v = vl_job(userdata, j);
        if (v)
                schedule_emit(v);
}

static void on_finished(Job *j, void *userdata) {
        VlJob *v = vl_job(userdata, j);
        if (!v || v->n_watchers == 0)
                return;
        bool succeeded = j->published.state == JOB_STATE_SUCCEEDED, whole = false;
        for (size_t i = 0; i < v->n_watchers; i++)
                whole |= v->watchers[i].changes < 0;
        /* Read whole only for the watchers that take it so. */
        Error re = {0};
        _cleanup_json_ json_object *result = succeeded && whole ? read_result(j, &re) : NULL;
        for (size_t i = 0; i < v->n_watchers;) {
                if (succeeded && v->watchers[i].changes >= 0) {
                        i++;
                        continue;
                }
                answer(j, v->watchers[i].call, result, &re);
                drop_watcher(v, i);
        }
        /* The streaming ones: the rest of the stream, then the end. */
        if (v->n_watchers > 0)
                emit(v);
}

static void on_removed(Job *j, void *userdata) {
        VarlinkDaemon *d = userdata;
        VlJob *v = vl_job(d, j);
        if (!v)
                return;
        j->frontend[d->job_slot] = NULL;
        while (v->n_watchers > 0)
                drop_watcher(v, 0);
        free(v->watchers);
        sd_event_source_disable_unref(v->emit_timer);
        free(v);
}

int vd_jobs_register(VarlinkDaemon *d) {
        static const JobListener listener = {
                .added = on_added,
                .validated = on_validated,
                .changed = on_changed,
                .finished = on_finished,
                .removed = on_removed,
        };
        JobListener l = listener;
        l.userdata = d;
        return job_table_add_listener(d->o.jobs, &l, &d->job_slot);
}

/* ---- methods ---- */

static int parse_causes(Job *j, json_object *value, Error *e) {
        size_t n = json_object_array_length(value);
        _cleanup_free_ char **names = calloc(n + 1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                names[i] = (char *) strempty(varlink_json_string(json_object_array_get_idx(value, i)));
        return job_input_set_causes(j, names, e);
}

/* Each key's bytes are wiped as soon as the job holds its copy. */
static int parse_keys(Job *j, json_object *keys, Error *e) {
        for (size_t i = 0; i < json_object_array_length(keys); i++) {
                json_object *k = json_object_array_get_idx(keys, i);
                uint8_t *bytes = NULL;
                long n = base64_decode(strempty(varlink_json_string(json_object_object_get(k, "base64"))), &bytes);
                int r = n < 0 ? error_set(e, ERR_INVALID_ARGS, "a key of option 'keys' is not base64")
                              : job_input_add_key(j, varlink_json_string(json_object_object_get(k, "selector")), bytes,
                                                  (size_t) n, e);
                if (bytes)
                        explicit_bzero(bytes, n > 0 ? (size_t) n : 0);
                free(bytes);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_options(Job *j, json_object *options, Error *e) {
        if (!options)
                return 0;
        json_object_object_foreach(options, key, value) {
                int r = 0;
                if (!value)
                        continue;
                if (strcmp(key, "checksum") == 0)
                        r = job_input_set_checksum(j, varlink_json_string(value), e);
                else if (strcmp(key, "keys") == 0)
                        r = parse_keys(j, value, e);
                else if (strcmp(key, "engine") == 0)
                        r = job_input_set_engine(j, varlink_json_string(value), e);
                else if (job_input_is_filter(key))
                        for (size_t i = 0; r >= 0 && i < json_object_array_length(value); i++)
                                r = job_input_add_filter(j, key, varlink_json_string(json_object_array_get_idx(value, i)), e);
                else if (strcmp(key, "causes") == 0)
                        r = parse_causes(j, value, e);
                else
                        /* The definition lets only its booleans through. */
                        r = job_input_set_flag(j, key, json_object_get_boolean(value)) < 0
                                    ? error_set(e, ERR_INVALID_ARGS, "unknown option '%s'", key)
                                    : 0;
                if (r < 0)
                        return e->code ? -1 : error_set(e, ERR_INTERNAL, "%s", strerror(-r));
        }
        return 0;
}

int vd_method_compare(VarlinkCall *call, json_object *parameters, void *userdata) {
        VarlinkDaemon *d = userdata;
        Scheduler *sched = job_table_scheduler(d->o.jobs);
        SchedulerLimits *limits = scheduler_limits(sched);
        VarlinkConnection *conn = varlink_call_connection(call);
        Error e = {0};

        if (!scheduler_has_room(sched))
                return vd_reply_errorf(call, ERR_TOO_MANY_JOBS, "too many jobs: %u running and %u queued already",
                                       limits->max_running, limits->max_queue);
        _cleanup_job_ Job *j = job_table_new_job(d->o.jobs);
        if (!j)
                return -ENOMEM;
        int r = vd_parse_disks(j, 0, json_object_object_get(parameters, "a"), &e);
        if (r >= 0)
                r = vd_parse_disks(j, 1, json_object_object_get(parameters, "b"), &e);
        if (r >= 0)
                r = job_input_check_side(j, 0, &e);
        if (r >= 0)
                r = job_input_check_side(j, 1, &e);
        if (r >= 0)
                r = parse_options(j, json_object_object_get(parameters, "options"), &e);
        if (r >= 0 && vd_caller_creds(d, call, &j->caller) < 0)
                r = error_set(&e, ERR_ACCESS_DENIED, "cannot tell who is calling");
        if (r >= 0)
                r = vd_check_access(d, j, j->caller, &e);
        if (r < 0)
                return vd_reply_error(call, &e);

        /* Its connection is the owner: the scheduler takes turns by owner,
         * and counts a system caller's jobs by uid. */
        const struct ucred *peer = varlink_connection_peer(conn);
        if (asprintf(&j->owner, "varlink:%" PRIu64, varlink_connection_id(conn)) < 0) {
                j->owner = NULL;
                return -ENOMEM;
        }
        if (d->o.system)
                j->owner_uid = peer->uid;
        unsigned n = scheduler_count_caller(sched, j->owner, j->caller);
        if (n >= limits->max_jobs_per_caller)
                return vd_reply_errorf(call, ERR_TOO_MANY_JOBS,
                                       "too many jobs of this caller: %u queued or running already (at most %u)", n,
                                       limits->max_jobs_per_caller);
        Job *submitted = j;
        r = job_table_submit(d->o.jobs, j);
        if (r == -EBUSY)
                return vd_reply_errorf(call, ERR_TOO_MANY_JOBS, "too many jobs");
        if (r < 0)
                return r;
        TAKE_PTR(j);
        VlJob *v = vl_job(d, submitted);
        bool changes = json_object_get_boolean(json_object_object_get(parameters, "changes"));
        if (!v || add_watcher(v, call, true, changes) < 0) {
                job_cancel(submitted);
                return vd_reply_errorf(call, ERR_INTERNAL, "out of memory");
        }
        /* Answered once the job's thread has checked the inputs. */
        return 0;
}

/* The listed job a call names, or an answered NoSuchJob (NULL). */
static Job *find_job(VarlinkDaemon *d, VarlinkCall *call, json_object *parameters) {
        int64_t id = json_object_get_int64(json_object_object_get(parameters, "job"));
        Job *j = id > 0 ? job_table_find(d->o.jobs, (uint64_t) id) : NULL;
        if (!j && !job_table_records_readable(d->o.jobs))
                (void) vd_reply_errorf(call, ERR_NO_SUCH_JOB,
                                       "job %" PRId64 " is not known now: the daemon cannot read its job records "
                                       "(its manifest store cannot be opened); try again later",
                                       id);
        else if (!j)
                (void) vd_reply_errorf(call, ERR_NO_SUCH_JOB, "no job %" PRId64, id);
        return j;
}

int vd_method_wait(VarlinkCall *call, json_object *parameters, void *userdata) {
        VarlinkDaemon *d = userdata;
        Job *j = find_job(d, call, parameters);
        if (!j)
                return 0;
        /* A system caller follows its own jobs; root any. */
        if (d->o.system && !vd_caller_is_root(d, call) &&
            varlink_connection_peer(varlink_call_connection(call))->uid != j->owner_uid)
                return vd_reply_errorf(call, ERR_ACCESS_DENIED,
                                       "job %" PRIu64 " belongs to another user: its result is theirs to read", j->id);
        if (!job_unfinished(j)) {
                Error re = {0};
                _cleanup_json_ json_object *result =
                        j->published.state == JOB_STATE_SUCCEEDED ? read_result(j, &re) : NULL;
                answer(j, call, result, &re);
                return 0;
        }
        VlJob *v = vl_job(d, j);
        bool changes = json_object_get_boolean(json_object_object_get(parameters, "changes"));
        if (!v || add_watcher(v, call, false, changes) < 0)
                return vd_reply_errorf(call, ERR_INTERNAL, "out of memory");
        if (varlink_call_wants_more(call))
                (void) varlink_call_notify(call, job_reply(j, NULL));
        return 0;
}

int vd_method_cancel(VarlinkCall *call, json_object *parameters, void *userdata) {
        VarlinkDaemon *d = userdata;
        Job *j = find_job(d, call, parameters);
        if (!j)
                return 0;
        /* One's own job needs nothing; someone else's is root's. */
        VarlinkConnection *conn = varlink_call_connection(call);
        if (d->o.system && !vd_caller_is_root(d, call) && varlink_connection_peer(conn)->uid != j->owner_uid)
                return vd_reply_errorf(call, ERR_ACCESS_DENIED, "job %" PRIu64 " belongs to another user", j->id);
        /* Idempotent: cancelling a finished job is not an error. */
        if (job_unfinished(j))
                job_cancel(j);
        return varlink_call_reply(call, NULL);
}

static json_object *job_json(Job *j) {
        json_object *o = json_object_new_object();
        _cleanup_free_ char *path = NULL;
        if (!o || asprintf(&path, VD_JOB_PATH_PREFIX "/%" PRIu64, j->id) < 0) {
                json_object_put(o);
                return NULL;
        }
        Error e = job_unfinished(j) || j->published.state == JOB_STATE_SUCCEEDED ? (Error){0} : job_error(j);
        char name[128];
        bool ok = json_object_object_add(o, "id", json_object_new_uint64(j->id)) == 0 &&
                  json_object_object_add(o, "object_path", json_object_new_string(path)) == 0 &&
                  json_object_object_add(o, "owner", json_object_new_string(strempty(j->owner))) == 0 &&
                  json_object_object_add(o, "kind", json_object_new_string(job_kind_to_string(j->kind))) == 0 &&
                  json_object_object_add(o, "detached", json_object_new_boolean(j->detached)) == 0 &&
                  json_object_object_add(o, "creation_time", json_object_new_uint64(j->created_usec)) == 0 &&
                  json_object_object_add(o, "progress", varlink_progress_json(&j->published)) == 0 &&
                  (j->published.state != JOB_STATE_SUCCEEDED ||
                   json_object_object_add(o, "differences", json_object_new_boolean(j->published.differences)) == 0) &&
                  (e.code == ERR_OK ||
                   (json_object_object_add(o, "error", json_object_new_string(varlink_error_name(e.code, name))) == 0 &&
                    json_object_object_add(o, "error_message", json_object_new_string(e.message)) == 0));
        if (!ok) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int vd_method_list_jobs(VarlinkCall *call, json_object *parameters _unused_, void *userdata) {
        VarlinkDaemon *d = userdata;
        size_t n;
        Job *const *jobs = job_table_jobs(d->o.jobs, &n);
        json_object *a = json_object_new_array(), *o = json_object_new_object();
        bool ok = a && o;
        for (size_t i = 0; ok && i < n; i++)
                if (jobs[i]->listed) {
                        json_object *jj = job_json(jobs[i]);
                        ok = jj && json_object_array_add(a, jj) == 0;
                }
        if (!ok || json_object_object_add(o, "jobs", a) < 0) {
                json_object_put(a);
                json_object_put(o);
                return -ENOMEM;
        }
        return varlink_call_reply(call, o);
}

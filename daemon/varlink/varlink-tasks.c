/* The methods whose work may take long and must not hold the loop: Warm
 * (an appliance launch) and ListSnapshots (a libvirt URI may name a slow
 * remote host). Each runs on a thread of its own and is answered from the
 * loop once the thread says, through a pipe, that it is done. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>

#include "job/job-input.h"
#include "source/domain.h"
#include "varlink/varlink-daemon-internal.h"
#include "varlink/varlink-json.h"

typedef struct Task {
        VarlinkDaemon *d;
        VarlinkCall *call;
        void (*work)(struct Task *t); /* on the thread */
        int (*answer)(struct Task *t); /* on the loop */
        pthread_t thread;
        bool started;
        int pipe[2];
        sd_event_source *source;
        int result;
        Error error;
        Job *disks;                     /* Warm */
        char *uri, *domain;             /* ListSnapshots */
        LibvirtSnapshot *list;
        size_t n;
} Task;

static Task *task_free(Task *t) {
        if (!t)
                return NULL;
        if (t->started)
                (void) pthread_join(t->thread, NULL);
        sd_event_source_disable_unref(t->source);
        for (int i = 0; i < 2; i++)
                if (t->pipe[i] >= 0)
                        (void) close(t->pipe[i]);
        varlink_call_unref(t->call);
        job_free(t->disks);
        free(t->uri);
        free(t->domain);
        libvirt_snapshots_free(t->list, t->n);
        free(t);
        return NULL;
}

static void task_freep(Task **t) {
        task_free(*t);
}

static void *task_thread(void *userdata) {
        Task *t = userdata;
        t->work(t);
        (void) !write(t->pipe[1], "x", 1);
        return NULL;
}

static int on_task_done(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        Task *t = userdata;
        VarlinkDaemon *d = t->d;
        (void) pthread_join(t->thread, NULL);
        t->started = false;
        /* The client may have gone: the work is done all the same. */
        (void) t->answer(t);
        task_free(t);
        d->n_tasks--;
        vd_notify_busy(d);
        return 0;
}

static Task *task_new(VarlinkDaemon *d, VarlinkCall *call) {
        Task *t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        *t = (Task){.d = d, .call = varlink_call_ref(call), .pipe = {-1, -1}};
        return t;
}

static int task_start(Task *t) {
        int r = pipe2(t->pipe, O_CLOEXEC | O_NONBLOCK) < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_io(t->d->o.event, &t->source, t->pipe[0], EPOLLIN, on_task_done, t);
        if (r >= 0)
                r = -pthread_create(&t->thread, NULL, task_thread, t);
        if (r < 0)
                return r;
        t->started = true;
        t->d->n_tasks++;
        vd_notify_busy(t->d);
        return 0;
}

/* ---- Warm ---- */

static void warm_work(Task *t) {
        t->result = job_warm(t->disks, t->d->o.pool, t->d->o.store, &t->error);
}

static int warm_answer(Task *t) {
        if (t->result < 0)
                return vd_reply_error(t->call, &t->error);
        json_object *o = json_object_new_object();
        if (!o || json_object_object_add(o, "was_warm", json_object_new_boolean(t->result > 0)) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return varlink_call_reply(t->call, o);
}

int vd_method_warm(VarlinkCall *call, json_object *parameters, void *userdata) {
        VarlinkDaemon *d = userdata;
        SchedulerLimits *limits = scheduler_limits(job_table_scheduler(d->o.jobs));
        Error e = {0};
        if (d->n_tasks >= limits->max_running + limits->max_queue)
                return vd_reply_errorf(call, ERR_TOO_MANY_JOBS, "too many Warm calls at once");
        _cleanup_(task_freep) Task *t = task_new(d, call);
        if (!t || !(t->disks = job_table_new_job(d->o.jobs)))
                return -ENOMEM;
        t->work = warm_work;
        t->answer = warm_answer;
        int r = vd_parse_disks(t->disks, 0, json_object_object_get(parameters, "disks"), &e);
        if (r >= 0)
                r = job_input_check_warm(t->disks, &e);
        if (r >= 0) {
                r = vd_caller_creds(d, call, &t->disks->caller);
                if (r < 0)
                        r = error_set(&e, ERR_ACCESS_DENIED, "cannot tell who is calling: %s", strerror(-r));
        }
        if (r >= 0)
                r = vd_check_access(d, t->disks, t->disks->caller, &e);
        if (r < 0)
                return vd_reply_error(call, &e);
        r = task_start(t);
        if (r < 0)
                return r;
        TAKE_PTR(t);
        return 0;
}

/* ---- ListSnapshots ---- */

static void snapshots_work(Task *t) {
        t->result = libvirt_list_snapshots(t->uri, t->domain, &t->list, &t->n, &t->error);
}

static int snapshots_answer(Task *t) {
        if (t->result < 0)
                return vd_reply_error(t->call, &t->error);
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < t->n; i++)
                if (json_object_array_add(a, varlink_snapshot_json(&t->list[i])) < 0 ||
                    !json_object_array_get_idx(a, i)) {
                        json_object_put(a);
                        a = NULL;
                }
        json_object *o = a ? json_object_new_object() : NULL;
        if (!o || json_object_object_add(o, "snapshots", a) < 0) {
                json_object_put(a);
                json_object_put(o);
                return -ENOMEM;
        }
        return varlink_call_reply(t->call, o);
}

int vd_method_list_snapshots(VarlinkCall *call, json_object *parameters, void *userdata) {
        VarlinkDaemon *d = userdata;
        const char *uri = varlink_json_string(json_object_object_get(parameters, "uri"));
        const char *domain = varlink_json_string(json_object_object_get(parameters, "domain"));
        if (!vd_caller_is_root(d, call))
                return vd_reply_errorf(call, ERR_ACCESS_DENIED,
                                       "%s: only root may read libvirt domains through the system socket", domain);
        if (!domain[0])
                return vd_reply_errorf(call, ERR_INVALID_ARGS, "no domain given");
        _cleanup_(task_freep) Task *t = task_new(d, call);
        if (!t || !(t->domain = strdup(domain)) || (uri && !(t->uri = strdup(uri))))
                return -ENOMEM;
        t->work = snapshots_work;
        t->answer = snapshots_answer;
        int r = task_start(t);
        if (r < 0)
                return r;
        TAKE_PTR(t);
        return 0;
}

#include "bus/manager-pool.h"

#include <pthread.h>
#include <systemd/sd-daemon.h>

#include "appliance/pool.h"
#include "bus/manager-limits.h"
#include "bus/manager.h"
#include "bus/polkit.h"
#include "common/log.h"
#include "job/job-input.h"

#define EXPIRE_CHECK_USEC (2 * 1000000ULL)

struct WarmRequest {
        Manager *manager;
        Job *disks; /* side 0 holds the disks: parsed as a Compare side is */
        sd_bus_message *call;
        pthread_t thread;
        bool started;
        _Atomic bool done;
        int result; /* pool_warm()'s */
        Error error;
};

static WarmRequest *warm_free(WarmRequest *w) {
        if (!w)
                return NULL;
        if (w->started)
                (void) pthread_join(w->thread, NULL);
        job_free(w->disks);
        sd_bus_message_unref(w->call);
        free(w);
        return NULL;
}

static void warm_freep(WarmRequest **w) {
        warm_free(*w);
}

static void *warm_thread(void *userdata) {
        WarmRequest *w = userdata;
        w->result = job_warm(w->disks, w->manager->pool, w->manager->store, &w->error);
        w->done = true;
        manager_wake(w->manager);
        return NULL;
}

int method_warm(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Manager *m = userdata;
        if (m->n_warms >= m->limits.max_running + m->limits.max_queue)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "TooManyJobs", "too many Warm calls at once");

        WarmRequest *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        _cleanup_(warm_freep) WarmRequest *owned = w;
        w->manager = m;
        w->disks = manager_new_job(m);
        if (!w->disks)
                return -ENOMEM;
        int r = manager_parse_side(msg, w->disks, 0, err);
        if (r < 0)
                return r;
        /* As for Compare: backing files are read with the caller's rights. */
        r = manager_query_caller(m, msg, &w->disks->caller, err);
        if (r < 0)
                return r;
        Error e = {0};
        if (job_input_check_warm(w->disks, &e) < 0)
                return manager_set_error(err, &e, -EINVAL);
        r = polkit_check(&m->polkit, msg, POLKIT_ACTION_COMPARE_PATH, NULL, m, method_warm, err);
        if (r <= 0)
                return r < 0 ? r : 1;
        WarmRequest **nw = realloc(m->warms, (m->n_warms + 1) * sizeof(WarmRequest *));
        if (!nw)
                return -ENOMEM;
        m->warms = nw;
        w->call = sd_bus_message_ref(msg);
        r = pthread_create(&w->thread, NULL, warm_thread, w);
        if (r != 0)
                return -r;
        w->started = true;
        m->warms[m->n_warms++] = TAKE_PTR(owned);
        manager_update_idle(m);
        return 1; /* answered when the appliance is up */
}

int method_list_pool(sd_bus_message *msg, void *userdata, sd_bus_error *err _unused_) {
        Manager *m = userdata;
        PoolInfo *l = NULL;
        size_t n = 0;

        /* Drop what has changed on disk first: the listing is then exact. */
        (void) pool_expire(m->pool);
        int r = pool_list(m->pool, &l, &n);
        if (r < 0)
                return r;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(assbtttt)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *key = hexmem(l[i].key, sizeof l[i].key);
                r = sd_bus_message_open_container(reply, 'r', "assbtttt");
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, l[i].paths);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sbtttt", strempty(key), !l[i].launched || l[i].in_use,
                                                  l[i].memory, l[i].created_usec, l[i].last_used_usec, l[i].uses);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        pool_info_free(l, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static void pool_changed(void *userdata) {
        manager_wake(userdata);
}

int manager_pool_setup(Manager *m) {
        return pool_new(&m->pool_limits, pool_changed, m, &m->pool);
}

bool manager_pool_busy(Manager *m) {
        size_t handles = 0, idle = 0;
        uint64_t memory = 0;
        if (m->pool)
                pool_counts(m->pool, &handles, &idle, &memory);
        return m->n_warms > 0 || handles > 0;
}

static int on_expire_check(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Manager *m = userdata;
        (void) pool_expire(m->pool);
        manager_pool_dispatch(m);
        return 0;
}

static void arm_expiry(Manager *m, bool needed) {
        if (!needed) {
                (void) sd_event_source_set_enabled(m->pool_timer, SD_EVENT_OFF);
                return;
        }
        if (m->pool_timer && sd_event_source_get_enabled(m->pool_timer, NULL) > 0)
                return;
        uint64_t now, interval = m->pool_limits.idle_usec < EXPIRE_CHECK_USEC ? m->pool_limits.idle_usec
                                                                             : EXPIRE_CHECK_USEC;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (!m->pool_timer)
                (void) sd_event_add_time(m->event, &m->pool_timer, CLOCK_MONOTONIC, now + interval, 0,
                                         on_expire_check, m);
        else {
                (void) sd_event_source_set_time(m->pool_timer, now + interval);
                (void) sd_event_source_set_enabled(m->pool_timer, SD_EVENT_ONESHOT);
        }
}

static void update_status(Manager *m, size_t warm) {
        unsigned running = 0, queued = 0;
        char status[128];
        if (m->jobs)
                scheduler_counts(job_table_scheduler(m->jobs), &running, &queued);
        snprintf(status, sizeof status, "STATUS=%u running, %u queued, %zu warm", running, queued, warm);
        if (strcmp(status, m->status) == 0)
                return;
        snprintf(m->status, sizeof m->status, "%s", status);
        (void) sd_notify(0, status);
}

void manager_pool_dispatch(Manager *m) {
        for (size_t i = 0; i < m->n_warms;) {
                WarmRequest *w = m->warms[i];
                if (!w->done) {
                        i++;
                        continue;
                }
                memmove(m->warms + i, m->warms + i + 1, (m->n_warms - i - 1) * sizeof(WarmRequest *));
                m->n_warms--;
                (void) pthread_join(w->thread, NULL);
                w->started = false;
                if (w->result < 0) {
                        log_info("Warm: %s", w->error.message);
                        (void) manager_reply_error(w->call, &w->error);
                } else {
                        log_info("Warm: %s %s.", w->disks->sides[0].disks[0].path,
                                 w->result > 0 ? "was warm already" : "launched");
                        (void) sd_bus_reply_method_return(w->call, "b", w->result > 0);
                }
                warm_free(w);
        }

        size_t handles = 0, idle = 0;
        uint64_t memory = 0;
        if (m->pool)
                pool_counts(m->pool, &handles, &idle, &memory);
        arm_expiry(m, handles > 0);
        manager_update_idle(m);
        update_status(m, idle);
}

void manager_pool_done(Manager *m) {
        if (m->pool)
                pool_kill_all(m->pool);
        for (size_t i = 0; i < m->n_warms; i++)
                warm_free(m->warms[i]);
        free(m->warms);
        m->warms = NULL;
        m->n_warms = 0;
        sd_event_source_disable_unref(m->pool_timer);
        m->pool_timer = NULL;
        m->pool = pool_free(m->pool);
}

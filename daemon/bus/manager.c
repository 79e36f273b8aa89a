#include "bus/manager.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include "appliance/appliance.h"
#include "appliance/kvm-probe.h"
#include "bus/manager-cache.h"
#include "bus/manager-disks.h"
#include "bus/manager-keys.h"
#include "bus/manager-limits.h"
#include "bus/manager-pool.h"
#include "bus/polkit.h"
#include "common/log.h"
#include "job/job-input.h"
#include "job/scheduler.h"

int manager_set_error(sd_bus_error *err, const Error *e, int r) {
        char name[128];
        if (e->code == ERR_OK)
                return r;
        snprintf(name, sizeof name, VD_ERROR_PREFIX "%s", error_code_to_string(e->code));
        return sd_bus_error_setf(err, name, "%s", e->message);
}

int manager_reply_error(sd_bus_message *call, const Error *e) {
        char name[128];
        snprintf(name, sizeof name, VD_ERROR_PREFIX "%s", error_code_to_string(e->code));
        return sd_bus_reply_method_errorf(call, name, "%s", e->message);
}

void manager_wake(Manager *m) {
        uint64_t one = 1;
        (void) !write(m->wake_fd, &one, sizeof one);
}

Job *manager_new_job(Manager *m) {
        return job_table_new_job(m->jobs);
}

static int on_idle(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Manager *m = userdata;
        log_info("Idle for %" PRIu64 " s, exiting.", m->idle_timeout_usec / 1000000);
        return sd_event_exit(m->event, 0);
}

void manager_update_idle(Manager *m) {
        if (m->mode == BUS_MODE_PEER || m->idle_timeout_usec == 0)
                return;
        /* Warm appliances are kept for a reason: not idle while any is. */
        bool busy = manager_pool_busy(m) || (m->jobs && job_table_busy(m->jobs)) ||
                    (m->frontend_busy && m->frontend_busy(m->frontend_userdata));
        if (busy) {
                (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_OFF);
                return;
        }
        uint64_t now;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (!m->idle_timer)
                (void) sd_event_add_time(m->event, &m->idle_timer, CLOCK_MONOTONIC,
                                         now + m->idle_timeout_usec, 0, on_idle, m);
        else {
                (void) sd_event_source_set_time(m->idle_timer, now + m->idle_timeout_usec);
                (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_ONESHOT);
        }
}

static int on_wake(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        Manager *m = userdata;
        uint64_t v;
        (void) !read(fd, &v, sizeof v);
        manager_pool_dispatch(m);
        return 0;
}

/* The idle timer and the status line count jobs. */
static void on_job_counts(void *userdata) {
        manager_pool_dispatch(userdata);
}

int manager_new(Manager **ret) {
        Manager *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->peer_fd = -1;
        m->wake_fd = -1;
        m->limits = (SchedulerLimits){
                .max_running = 0, /* set from the appliance's memory size by manager_connect() */
                .max_queue = 64,
                .max_jobs_per_caller = MAX_JOBS_PER_CALLER,
        };
        m->idle_timeout_usec = 120 * 1000000ULL;
        m->retain_usec = 600 * 1000000ULL;
        m->cache_budget = 1ULL << 30;
        m->pool_limits = (PoolLimits){
                .max_handles = 4,
                .max_memory = 8ULL << 30,
                .idle_usec = 300 * 1000000ULL,
        };

        int r = sd_event_default(&m->event);
        if (r < 0)
                goto fail;
        m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->wake_fd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(m->event, &m->wake_source, m->wake_fd, EPOLLIN, on_wake, m);
        if (r < 0)
                goto fail;

        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        (void) pthread_sigmask(SIG_BLOCK, &ss, NULL);
        (void) sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        /* A vanished client must not kill us through a broken pipe. */
        (void) signal(SIGPIPE, SIG_IGN);
        *ret = m;
        return 0;
fail:
        manager_free(m);
        return r;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* Cancel first so every job's thread returns quickly; no qemu
         * outlives the daemon. */
        if (m->jobs)
                job_table_cancel_all(m->jobs);
        if (m->pool)
                pool_kill_all(m->pool);
        m->jobs = job_table_free(m->jobs);
        manager_pool_done(m);
        sd_event_source_disable_unref(m->idle_timer);
        sd_event_source_disable_unref(m->wake_source);
        if (m->wake_fd >= 0)
                (void) close(m->wake_fd);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        store_close(m->store);
        free(m->store_path);
        free(m);
        return NULL;
}

/* ---- Manager interface ---- */

int manager_parse_side(sd_bus_message *msg, Job *j, int side, sd_bus_error *err) {
        int r = sd_bus_message_enter_container(msg, 'a', "a{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_at_end(msg, false)) == 0) {
                r = manager_parse_disk(msg, j, side, err);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;
        Error e = {0};
        return job_input_check_side(j, side, &e) < 0 ? manager_set_error(err, &e, -1) : 0;
}

/* "ignore", "include", "exclude", "paths": string arrays for the comparer's
 * filters, checked item by item. */
static int parse_filter_option(sd_bus_message *msg, const char *key, Job *j, sd_bus_error *err) {
        _cleanup_strv_free_ char **items = NULL;
        Error e = {0};
        int r = sd_bus_message_enter_container(msg, 'v', "as");
        if (r < 0)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs", "option '%s' is not a string array", key);
        r = sd_bus_message_read_strv(msg, &items);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;
        STRV_FOREACH(i, items) {
                r = job_input_add_filter(j, key, *i, &e);
                if (r < 0)
                        return manager_set_error(err, &e, r);
        }
        return 0;
}

static int parse_options(sd_bus_message *msg, Job *j, sd_bus_error *err) {
        size_t n_options = 0;
        int r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *key;
                int b = 0;
                Error e = {0};
                r = limits_check_option_count(++n_options, err);
                if (r < 0)
                        return r;
                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                if (strcmp(key, "keys") == 0 || strcmp(key, "ordered_keys") == 0) {
                        r = manager_parse_keys(msg, key, j, err);
                        if (r < 0)
                                return r;
                } else if (strcmp(key, "checksum") == 0 || strcmp(key, "engine") == 0) {
                        const char *value = NULL;
                        r = sd_bus_message_read(msg, "v", "s", &value);
                        if (r < 0)
                                value = NULL;
                        r = key[0] == 'c' ? job_input_set_checksum(j, value, &e) : job_input_set_engine(j, value, &e);
                        if (r < 0)
                                return manager_set_error(err, &e, r);
                } else if (job_input_is_filter(key)) {
                        r = parse_filter_option(msg, key, j, err);
                        if (r < 0)
                                return r;
                } else if (strcmp(key, "causes") == 0) {
                        _cleanup_strv_free_ char **names = NULL;
                        r = sd_bus_message_enter_container(msg, 'v', "as");
                        if (r < 0)
                                return sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs",
                                                         "option 'causes' is not a string array");
                        r = sd_bus_message_read_strv(msg, &names);
                        if (r < 0)
                                return r;
                        r = job_input_set_causes(j, names, &e);
                        if (r < 0)
                                return manager_set_error(err, &e, r);
                        r = sd_bus_message_exit_container(msg);
                        if (r < 0)
                                return r;
                } else {
                        r = sd_bus_message_read(msg, "v", "b", &b);
                        if (r < 0)
                                return sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs",
                                                         "option '%s' is not a boolean or is unknown", key);
                        if (job_input_set_flag(j, key, b) < 0)
                                return sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs", "unknown option '%s'",
                                                         key);
                }
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

static bool job_all_disks_by_fd(const Job *j) {
        for (int s = 0; s < 2; s++)
                for (size_t i = 0; i < j->sides[s].n_disks; i++)
                        if (!j->sides[s].disks[i].by_fd)
                                return false;
        return true;
}

/* Authorizes, admits and follows a parsed job; method is the handler to
 * call again once polkit has answered. */
static int submit_job(Manager *m, sd_bus_message *msg, Job *job, sd_bus_message_handler_t method,
                      sd_bus_error *err) {
        _cleanup_job_ Job *j = job;
        /* Paths and domains are read as the daemon's user; fds were opened
         * by the caller. */
        if (!job_all_disks_by_fd(j)) {
                int r = polkit_check(&m->polkit, msg, POLKIT_ACTION_COMPARE_PATH, NULL, m, method, err);
                if (r <= 0)
                        return r < 0 ? r : 1;
        }
        if (m->mode == BUS_MODE_SYSTEM) {
                int r = polkit_sender_uid(msg, &j->owner_uid);
                if (r < 0)
                        return sd_bus_error_setf(err, VD_ERROR_PREFIX "AccessDenied",
                                                 "cannot tell who the caller is: %s", strerror(-r));
        }

        int r = manager_query_caller(m, msg, &j->caller, err);
        if (r < 0)
                return r;
        r = limits_check_caller_jobs(m, m->mode == BUS_MODE_PEER ? NULL : sd_bus_message_get_sender(msg),
                                     j->caller, err);
        if (r < 0)
                return r;

        const char *sender = m->mode != BUS_MODE_PEER ? sd_bus_message_get_sender(msg) : NULL;
        if (sender && !(j->owner = strdup(sender)))
                return -ENOMEM;
        Job *submitted = j;
        r = job_table_submit(m->jobs, j);
        if (r == -EBUSY)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "TooManyJobs", "too many jobs");
        if (r < 0)
                return r;
        TAKE_PTR(j);
        /* Replied once the job's thread has validated the inputs; its
         * dispatch runs on this loop, after this handler. */
        r = job_bus_adopt(m, submitted, msg, sender);
        if (r < 0) {
                log_error("Cannot follow job of %s: %s", strempty(sender), strerror(-r));
                job_cancel(submitted);
        }
        return 1;
}

/* A new job, when the scheduler has room for one. */
static int new_job(Manager *m, JobKind kind, Job **ret, sd_bus_error *err) {
        if (!scheduler_has_room(job_table_scheduler(m->jobs)))
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "TooManyJobs",
                                         "too many jobs: %u running and %u queued already", m->limits.max_running,
                                         m->limits.max_queue);
        Job *j = manager_new_job(m);
        if (!j)
                return -ENOMEM;
        j->kind = kind;
        *ret = j;
        return 0;
}

static int method_compare(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Manager *m = userdata;
        _cleanup_job_ Job *j = NULL;
        int r = new_job(m, JOB_KIND_COMPARE, &j, err);
        if (r >= 0)
                r = manager_parse_side(msg, j, 0, err);
        if (r >= 0)
                r = manager_parse_side(msg, j, 1, err);
        if (r >= 0)
                r = parse_options(msg, j, err);
        if (r < 0)
                return r;
        return submit_job(m, msg, TAKE_PTR(j), method_compare, err);
}

/* One side's manifest, scanned or from the cache, as the job's result. */
static int method_export_manifest(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Manager *m = userdata;
        _cleanup_job_ Job *j = NULL;
        int r = new_job(m, JOB_KIND_EXPORT_MANIFEST, &j, err);
        if (r >= 0)
                r = manager_parse_side(msg, j, 0, err);
        if (r < 0)
                return r;
        if (j->sides[0].from_manifest)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs", "a manifest is exported from disks");
        r = parse_options(msg, j, err);
        if (r < 0)
                return r;
        /* Only what says how to run applies to an export. */
        if (content_options_wanted(&j->content) || j->compare.atime || j->compare.ctime || j->compare.dir_times ||
            j->compare.dir_links || j->compare.extra_stats || j->compare.filters.paths || j->compare.filters.include ||
            j->compare.filters.exclude || j->compare.filters.ignore || j->compare.filters.ignore_xattrs)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs",
                                         "ExportManifest takes only the option 'detached'");
        return submit_job(m, msg, TAKE_PTR(j), method_export_manifest, err);
}

static int method_list_jobs(sd_bus_message *msg, void *userdata, sd_bus_error *err _unused_) {
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "o");
        size_t n;
        Job *const *jobs = job_table_jobs(m->jobs, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (!jobs[i]->listed)
                        continue;
                _cleanup_free_ char *path = job_bus_path(jobs[i]);
                r = path ? sd_bus_message_append(reply, "o", path) : -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int property_get_accelerator(sd_bus *bus _unused_, const char *path _unused_,
                                    const char *interface _unused_, const char *property _unused_,
                                    sd_bus_message *reply, void *userdata _unused_,
                                    sd_bus_error *err _unused_) {
        return sd_bus_message_append(reply, "s", accelerator_to_string(kvm_probe_peek()));
}

static int property_get_version(sd_bus *bus _unused_, const char *path _unused_,
                                const char *interface _unused_, const char *property _unused_,
                                sd_bus_message *reply, void *userdata _unused_, sd_bus_error *err _unused_) {
        return sd_bus_message_append(reply, "s", VIRT_DIFFD_VERSION);
}

static int property_get_launches(sd_bus *bus _unused_, const char *path _unused_,
                                 const char *interface _unused_, const char *property _unused_,
                                 sd_bus_message *reply, void *userdata _unused_, sd_bus_error *err _unused_) {
        return sd_bus_message_append(reply, "t", appliance_launch_count());
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Accelerator", "s", property_get_accelerator, 0, 0),
        SD_BUS_PROPERTY("AppliancesLaunched", "t", property_get_launches, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("Compare",
                                SD_BUS_ARGS("aa{sv}", side_a, "aa{sv}", side_b, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_compare, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ExportManifest", SD_BUS_ARGS("aa{sv}", disks, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_export_manifest, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Warm", SD_BUS_ARGS("aa{sv}", disks), SD_BUS_RESULT("b", was_warm), method_warm,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListPool", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(assbtttt)", appliances),
                                method_list_pool, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListJobs", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", jobs), method_list_jobs,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListSnapshots", SD_BUS_ARGS("s", uri, "s", domain),
                                SD_BUS_RESULT("a(sxsssb)", snapshots), method_list_snapshots,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CacheStats", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", stats), method_cache_stats,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CacheList", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssttxx)", manifests),
                                method_cache_list, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CachePurge", SD_BUS_ARGS("s", image), SD_BUS_RESULT("t", removed),
                                method_cache_purge, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CacheVerify", SD_BUS_NO_ARGS, SD_BUS_RESULT("b", ok, "s", message),
                                method_cache_verify, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int on_name_acquired(sd_bus_message *reply, void *userdata, sd_bus_error *err _unused_) {
        Manager *m = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        if (e) {
                log_error("Cannot own the bus name " VD_BUS_NAME ": %s", e->message);
                return sd_event_exit(m->event, 1);
        }
        log_debug("Owning " VD_BUS_NAME ".");
        (void) sd_notify(0, "READY=1");
        manager_pool_dispatch(m); /* the first STATUS= */
        return 0;
}

int manager_connect(Manager *m) {
        int r;
        switch (m->mode) {
        case BUS_MODE_SESSION:
                r = sd_bus_open_user(&m->bus);
                break;
        case BUS_MODE_SYSTEM:
                r = sd_bus_open_system(&m->bus);
                break;
        case BUS_MODE_PEER: {
                sd_id128_t id;
                r = sd_bus_new(&m->bus);
                if (r >= 0)
                        r = sd_bus_set_fd(m->bus, m->peer_fd, m->peer_fd);
                if (r >= 0)
                        r = sd_id128_randomize(&id);
                if (r >= 0)
                        r = sd_bus_set_server(m->bus, 1, id);
                if (r >= 0)
                        r = sd_bus_negotiate_fds(m->bus, 1);
                if (r >= 0)
                        r = sd_bus_start(m->bus);
                break;
        }
        default:
                r = -EINVAL;
        }
        if (r < 0 && m->bus_optional && m->mode != BUS_MODE_PEER) {
                log_info("No %s bus (%s): serving varlink alone.", m->mode == BUS_MODE_SYSTEM ? "system" : "session",
                         strerror(-r));
                m->bus = sd_bus_unref(m->bus);
        } else if (r < 0)
                return r;

        _cleanup_free_ char *def = NULL, *records_dir = NULL;
        const char *path = NULL;
        if (!m->no_cache) {
                def = m->store_path ? NULL : store_default_path(m->mode == BUS_MODE_SYSTEM);
                path = m->store_path ? m->store_path : def;
                Error e = {0};
                /* Without its cache the daemon still works, only slower. */
                int k = path ? store_open(path, m->cache_budget, &m->store, &e) : -1;
                if (k < 0)
                        log_error("Cannot open the manifest cache %s, running without it: %s", strempty(path),
                                  path ? e.message : "no cache directory");
                else if (k > 0)
                        log_error("Cannot open the manifest cache %s, running without it until it can: %s", path,
                                  e.message);
        }

        if (m->limits.max_running == 0)
                m->limits.max_running = scheduler_default_max_running(appliance_default_memsize_mb());
        log_debug("At most %u jobs running, %u queued.", m->limits.max_running, m->limits.max_queue);
        /* A private daemon lives for one client's diff: nothing to keep warm for. */
        if (m->mode == BUS_MODE_PEER)
                m->pool_limits.max_handles = 0;
        r = manager_pool_setup(m);
        if (r < 0)
                return r;
        /* Job records the store refuses wait beside the varlink socket. */
        const char *run = m->mode == BUS_MODE_SYSTEM ? "/run" : getenv("XDG_RUNTIME_DIR");
        if (m->mode != BUS_MODE_PEER && path && run && run[0] == '/' &&
            asprintf(&records_dir, "%s/virt-diffd/jobs", run) < 0)
                records_dir = NULL;
        JobTableOptions jo = {.limits = m->limits, .retain_usec = m->retain_usec, .pool = m->pool,
                              .store = m->store, .persist = m->mode != BUS_MODE_PEER,
                              .records_dir = records_dir, .store_path = path,
                              .no_direct = m->no_direct, .counts_changed = on_job_counts, .userdata = m};
        r = job_table_new(m->event, &jo, &m->jobs);
        if (r < 0)
                return r;
        /* WATCHDOG=1 at half of systemd's WATCHDOG_USEC, when it asks. */
        (void) sd_event_set_watchdog(m->event, true);

        if (!m->bus) {
                (void) sd_notify(0, "READY=1");
                manager_pool_dispatch(m); /* the first STATUS= */
                manager_update_idle(m);
                return 0;
        }
        r = sd_bus_attach_event(m->bus, m->event, 0);
        if (r < 0)
                return r;
        /* Without its bus (or its one peer) nobody can reach the daemon. */
        (void) sd_bus_set_exit_on_disconnect(m->bus, 1);

        r = sd_bus_add_object_vtable(m->bus, NULL, VD_OBJECT_PATH, VD_MANAGER_INTERFACE, manager_vtable, m);
        if (r < 0)
                return r;
        m->polkit = (Polkit){.bus = m->bus, .enabled = m->mode == BUS_MODE_SYSTEM};
        r = job_bus_register(m);
        if (r < 0)
                return r;

        if (m->mode != BUS_MODE_PEER) {
                r = sd_bus_request_name_async(m->bus, NULL, VD_BUS_NAME, 0, on_name_acquired, m);
                if (r < 0)
                        return r;
        }
        manager_update_idle(m);
        return 0;
}

int manager_run(Manager *m) {
        return sd_event_loop(m->event);
}

void manager_stop(Manager *m) {
        /* What runs now is lost: say so in the store before anything else,
         * so that the daemon activated next reads it as such. */
        if (m->jobs)
                job_table_stop(m->jobs);
        /* Calls from now on activate a new daemon at once, instead of
         * waiting on this one's teardown (appliances shutting down). */
        if (m->bus && m->mode != BUS_MODE_PEER) {
                (void) sd_bus_release_name(m->bus, VD_BUS_NAME);
                (void) sd_bus_flush(m->bus);
        }
}

#include "follow.h"

#include <signal.h>
#include <sys/stat.h>

#include "common/errors.h"
#include "common/names.h"

#define VALIDATE_TIMEOUT_USEC (300ULL * 1000000ULL)
/* The elapsed time moves on between the daemon's updates. */
#define REDRAW_USEC (500ULL * 1000ULL)

void follow_print_error(const char *prog, const sd_bus_error *e, int r) {
        if (e && sd_bus_error_is_set(e))
                fprintf(stderr, "%s: %s\n", prog, e->message ? e->message : e->name);
        else
                fprintf(stderr, "%s: %s\n", prog, strerror(r < 0 ? -r : r));
}

/* ---- the progress line ---- */

static void progress_clear(Follow *f) {
        progress_term_clear(&f->term);
}

void follow_clear_progress(Follow *f) {
        progress_clear(f);
}

#define RUNNING_USEC (100ULL * 1000ULL)

static int on_running(sd_event_source *s, uint64_t usec, void *userdata) {
        Follow *f = userdata;
        f->running(f, false);
        (void) sd_event_source_set_time(s, usec + RUNNING_USEC);
        return 0;
}

static int on_redraw(sd_event_source *s, uint64_t usec, void *userdata) {
        Follow *f = userdata;
        if (!f->cancelling)
                progress_term_draw(&f->term);
        (void) sd_event_source_set_time(s, usec + REDRAW_USEC);
        return 0;
}

/* The job's properties in an a{sv}: only those present change. */
static void read_properties(Follow *f, sd_bus_message *m) {
        JobProgress *p = &f->term.progress;

        if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                const char *name;
                uint32_t u;
                int b;
                if (sd_bus_message_read(m, "s", &name) < 0)
                        return;
                if (strcmp(name, "Phase") == 0 && sd_bus_message_read(m, "v", "u", &u) >= 0)
                        p->phase = u < _PHASE_MAX ? (Phase) u : PHASE_NONE;
                else if (strcmp(name, "State") == 0 && sd_bus_message_read(m, "v", "u", &u) >= 0)
                        p->state = u < _JOB_STATE_MAX ? (JobState) u : JOB_STATE_UNKNOWN;
                else if (strcmp(name, "QueuePosition") == 0)
                        (void) sd_bus_message_read(m, "v", "u", &p->queue_position);
                else if (strcmp(name, "Progress") == 0)
                        (void) sd_bus_message_read(m, "v", "d", &p->progress);
                else if (strcmp(name, "ProgressValid") == 0 && sd_bus_message_read(m, "v", "b", &b) >= 0)
                        p->valid = b;
                else if (strcmp(name, "FilesDone") == 0)
                        (void) sd_bus_message_read(m, "v", "t", &p->files_done);
                else if (strcmp(name, "FilesTotal") == 0)
                        (void) sd_bus_message_read(m, "v", "t", &p->files_total);
                else if (strcmp(name, "BytesDone") == 0)
                        (void) sd_bus_message_read(m, "v", "t", &p->bytes_done);
                else if (strcmp(name, "BytesTotal") == 0)
                        (void) sd_bus_message_read(m, "v", "t", &p->bytes_total);
                else if (strcmp(name, "Rate") == 0)
                        (void) sd_bus_message_read(m, "v", "t", &p->rate);
                else if (strcmp(name, "ExpectedEndTime") == 0)
                        (void) sd_bus_message_read(m, "v", "t", &p->expected_end_usec);
                else
                        (void) sd_bus_message_skip(m, "v");
                (void) sd_bus_message_exit_container(m);
        }
        if (!f->cancelling)
                progress_term_update(&f->term);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *err _unused_) {
        const char *iface;
        if (sd_bus_message_read(m, "s", &iface) >= 0 && strcmp(iface, VD_JOB_INTERFACE) == 0)
                read_properties(userdata, m);
        return 0;
}

/* Where the job stands when we start following it. */
static int on_get_all(sd_bus_message *reply, void *userdata, sd_bus_error *err _unused_) {
        if (!sd_bus_message_is_method_error(reply, NULL))
                read_properties(userdata, reply);
        return 0;
}

static void progress_start(Follow *f) {
        progress_term_start(&f->term);
        (void) sd_bus_call_method_async(f->conn.bus, NULL, f->conn.destination, f->job_path,
                                        "org.freedesktop.DBus.Properties", "GetAll", on_get_all, f, "s",
                                        VD_JOB_INTERFACE);
        (void) sd_event_add_time_relative(f->event, &f->timer, CLOCK_MONOTONIC, REDRAW_USEC, 0, on_redraw, f);
        (void) sd_event_source_set_enabled(f->timer, SD_EVENT_ON);
}

/* Cleared before the result prints; what launch and inspect took is kept
 * for next time. */
static void progress_stop(Follow *f) {
        f->timer = sd_event_source_disable_unref(f->timer);
        progress_term_stop(&f->term);
}

/* ---- following ---- */

int follow_get_result(Follow *f, json_object **ret, sd_bus_error *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(f->conn.bus, f->conn.destination, f->job_path, VD_JOB_INTERFACE, "GetResult",
                                   err, &reply, NULL);
        if (r < 0)
                return r;
        int fd;
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return r;

        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        _cleanup_free_ char *buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        size_t got = 0;
        while (got < (size_t) st.st_size) {
                ssize_t n = pread(fd, buf + got, (size_t) st.st_size - got, (off_t) got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                got += (size_t) n;
        }
        buf[got] = 0;

        json_object *root = json_tokener_parse(buf);
        if (!root)
                return sd_bus_error_set(err, VD_ERROR_PREFIX "Internal", "the daemon's result is not valid JSON");
        *ret = root;
        return 0;
}

/* The daemon went away before answering, or its successor was not there
 * yet: the bus could not start it (the one stopping still held its
 * name, say). Only wait JOB calls again on the latter. */
static bool daemon_went(const Follow *f, const sd_bus_error *e) {
        if (!e || f->conn.peer)
                return false;
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) || sd_bus_error_has_name(e, SD_BUS_ERROR_DISCONNECTED))
                return true;
        return f->stop_only && e->name &&
               (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
                sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
                sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.TimedOut") ||
                strncmp(e->name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0);
}

static int on_wait_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_err _unused_) {
        Follow *f = userdata;
        sd_bus_error err = SD_BUS_ERROR_NULL;

        progress_stop(f);
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        if (daemon_went(f, e)) {
                /* Stopped or killed under us: what became of the job is
                 * for its successor to say. */
                f->daemon_gone = true;
                f->exit_status = 2;
        } else if (e) {
                follow_print_error(f->prog, e, 0);
                f->exit_status = 2;
        } else {
                int r = f->done(f, &err);
                if (r < 0) {
                        follow_print_error(f->prog, &err, r);
                        f->exit_status = 2;
                }
        }
        sd_bus_error_free(&err);
        return sd_event_exit(f->event, 0);
}

static int on_signal(sd_event_source *s _unused_, const struct signalfd_siginfo *si _unused_, void *userdata) {
        Follow *f = userdata;
        progress_clear(f);
        /* wait JOB: stop waiting, never cancel someone's detached job. */
        if (f->stop_only) {
                fprintf(stderr, "%s: stopped waiting; %s still runs\n", f->prog, f->job_path);
                return sd_event_exit(f->event, 0);
        }
        if (f->cancelling)
                return sd_event_exit(f->event, 0);
        f->cancelling = true;
        fprintf(stderr, "%s: cancelling...\n", f->prog);
        /* The Wait reply then brings the Cancelled error. */
        return sd_bus_call_method_async(f->conn.bus, NULL, f->conn.destination, f->job_path, VD_JOB_INTERFACE,
                                        "Cancel", NULL, NULL, NULL);
}

/* "lost the connection", with how to follow the job there: a bus daemon
 * keeps what became of it, across a restart too. */
static void say_lost(Follow *f) {
        if (f->conn.peer || !f->job_path || !strrchr(f->job_path, '/'))
                fprintf(stderr, "%s: lost the connection to virt-diffd\n", f->prog);
        else
                fprintf(stderr, "%s: lost the connection to virt-diffd (its job: virt-diffctl wait %s)\n", f->prog,
                        strrchr(f->job_path, '/') + 1);
}

static int on_disconnected(sd_bus_message *m _unused_, void *userdata, sd_bus_error *err _unused_) {
        Follow *f = userdata;
        progress_clear(f);
        say_lost(f);
        f->exit_status = 2;
        return sd_event_exit(f->event, 0);
}

static int follow_job(Follow *f) {
        int r = sd_event_default(&f->event);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(f->conn.bus, f->event, 0);
        if (r < 0)
                return r;

        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &ss, NULL);
        (void) sd_event_add_signal(f->event, NULL, SIGINT, on_signal, f);
        (void) sd_event_add_signal(f->event, NULL, SIGTERM, on_signal, f);

        if (f->show_progress) {
                r = sd_bus_match_signal(f->conn.bus, NULL, NULL, f->job_path, "org.freedesktop.DBus.Properties",
                                        "PropertiesChanged", on_properties_changed, f);
                if (r < 0 && !f->conn.peer)
                        return r;
                progress_start(f);
        }
        (void) sd_bus_match_signal(f->conn.bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                   "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, f);

        if (f->running) {
                f->running(f, true);
                r = sd_event_add_time_relative(f->event, &f->running_timer, CLOCK_MONOTONIC, RUNNING_USEC, 0,
                                               on_running, f);
                if (r >= 0)
                        (void) sd_event_source_set_enabled(f->running_timer, SD_EVENT_ON);
        }

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        r = sd_bus_message_new_method_call(f->conn.bus, &m, f->conn.destination, f->job_path, VD_JOB_INTERFACE,
                                           "Wait");
        if (r < 0)
                return r;
        r = sd_bus_call_async(f->conn.bus, NULL, m, on_wait_reply, f, UINT64_MAX);
        if (r < 0)
                return r;
        return sd_event_loop(f->event);
}

/* How long wait JOB goes on calling a daemon that restarts (one killed
 * mid-job, one activated while the last still stops, and so on). */
#define WAIT_RETRY_USEC (120ULL * 1000000ULL)

/* Follows f's job to its end, lets the command print its result, and
 * releases what f holds. A daemon that goes away under "wait JOB" is
 * followed by the one the bus starts next, which knows the job from its
 * store; under a diff, the job went with it. */
static int follow_to_end(Follow *f, ConnectMode mode) {
        uint64_t give_up = now_usec_monotonic() + WAIT_RETRY_USEC;
        for (unsigned attempt = 0;; attempt++) {
                f->daemon_gone = false;
                int r = follow_job(f);
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", f->prog, strerror(-r));
                        f->exit_status = 2;
                }
                progress_stop(f);
                f->running_timer = sd_event_source_disable_unref(f->running_timer);
                f->event = sd_event_unref(f->event);
                if (!f->daemon_gone)
                        break;
                if (!f->stop_only || now_usec_monotonic() >= give_up) {
                        say_lost(f);
                        break;
                }
                connection_close(&f->conn);
                /* 0.2 s, then longer, up to 2 s between calls. */
                (void) usleep((useconds_t) (attempt < 10 ? 200000 * (attempt + 1) : 2000000));
                if (connection_open_or_say(&f->conn, mode == CONNECT_AUTO ? CONNECT_SESSION : mode, true, f->prog) < 0)
                        break;
        }
        connection_close(&f->conn);
        free(f->job_path);
        f->job_path = NULL;
        return f->exit_status;
}

static int submit(Follow *f, const char *method, FollowBuildFn build, sd_bus_error *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r = sd_bus_message_new_method_call(f->conn.bus, &m, f->conn.destination, VD_OBJECT_PATH,
                                               VD_MANAGER_INTERFACE, method);
        if (r >= 0)
                r = build(f, m, err);
        if (r < 0)
                return r;
        /* On the system bus polkit may ask for a password, when there is
         * someone to type it. */
        (void) sd_bus_message_set_allow_interactive_authorization(m, isatty(STDIN_FILENO));
        r = sd_bus_call(f->conn.bus, m, VALIDATE_TIMEOUT_USEC, err, &reply);
        if (r < 0)
                return r;
        const char *path;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        f->job_path = strdup(path);
        return f->job_path ? 0 : -ENOMEM;
}

int follow_submit(Follow *f, ConnectMode mode, bool verbose, bool trace, bool detach, const char *method,
                  FollowBuildFn build) {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r;

        f->exit_status = 2;
        if (mode == CONNECT_PEER)
                r = connection_open_peer(&f->conn, verbose, trace);
        else {
                r = connection_open_bus(&f->conn, mode);
                if (r >= 0) {
                        r = submit(f, method, build, &err);
                        if (r < 0 && mode == CONNECT_AUTO && !detach &&
                            (!sd_bus_error_is_set(&err) || connection_error_is_unreachable(&err))) {
                                if (verbose)
                                        fprintf(stderr, "%s: no virt-diffd on the session bus (%s), "
                                                        "running a private one\n",
                                                f->prog, sd_bus_error_is_set(&err) ? err.message : strerror(-r));
                                sd_bus_error_free(&err);
                                connection_close(&f->conn);
                                r = connection_open_peer(&f->conn, verbose, trace);
                        }
                } else if (mode == CONNECT_AUTO && !detach) {
                        int status = f->no_bus ? f->no_bus(f) : -1;
                        if (status >= 0)
                                return status;
                        if (verbose)
                                fprintf(stderr, "%s: no session bus (%s), running a private virt-diffd\n", f->prog,
                                        strerror(-r));
                        r = connection_open_peer(&f->conn, verbose, trace);
                }
        }
        if (r >= 0 && !f->job_path)
                r = submit(f, method, build, &err);
        if (r < 0) {
                if (!sd_bus_error_is_set(&err) && !f->conn.bus)
                        fprintf(stderr, "%s: cannot reach virt-diffd: %s\n", f->prog, strerror(-r));
                else if (sd_bus_error_has_name(&err, VD_ERROR_PREFIX "AccessDenied") && !f->fds_passed &&
                         strstr(strempty(err.message), "compare-path"))
                        /* What the user can do without an administrator. */
                        fprintf(stderr, "%s: %s; --pass-fds needs no authorization\n", f->prog, err.message);
                else
                        follow_print_error(f->prog, &err, r);
                sd_bus_error_free(&err);
                connection_close(&f->conn);
                free(f->job_path);
                f->job_path = NULL;
                return 2;
        }

        if (verbose)
                fprintf(stderr, "%s: following %s\n", f->prog, f->job_path);
        if (detach) {
                printf("%s\n", f->job_path);
                connection_close(&f->conn);
                free(f->job_path);
                f->job_path = NULL;
                return fflush(stdout) == 0 ? 0 : 2;
        }
        return follow_to_end(f, mode);
}

int follow_existing(Follow *f, ConnectMode mode, const char *job) {
        f->exit_status = 2;
        /* A job's number stands for its path. */
        if (job[0] != '/' && asprintf(&f->job_path, VD_JOB_PATH_PREFIX "/%s", job) < 0)
                f->job_path = NULL;
        else if (job[0] == '/')
                f->job_path = strdup(job);
        if (!f->job_path || !sd_bus_object_path_is_valid(f->job_path)) {
                fprintf(stderr, "%s: '%s' is not a job\n", f->prog, job);
                free(f->job_path);
                f->job_path = NULL;
                return 2;
        }
        if (connection_open_or_say(&f->conn, mode == CONNECT_AUTO ? CONNECT_SESSION : mode, true, f->prog) < 0) {
                free(f->job_path);
                f->job_path = NULL;
                return 2;
        }
        return follow_to_end(f, mode);
}

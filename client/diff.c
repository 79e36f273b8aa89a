#include "diff.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>

#include "common/errors.h"
#include "common/names.h"

#define VALIDATE_TIMEOUT_USEC (300ULL * 1000000ULL)

typedef struct Follow {
        const char *prog;
        const DiffArgs *args;
        Connection conn;
        sd_event *event;
        char *job_path;
        bool show_progress, progress_shown, cancelling;
        int exit_status;
} Follow;

static void print_error(const char *prog, const sd_bus_error *e, int r) {
        if (e && sd_bus_error_is_set(e))
                fprintf(stderr, "%s: %s\n", prog, e->message ? e->message : e->name);
        else
                fprintf(stderr, "%s: %s\n", prog, strerror(r < 0 ? -r : r));
}

/* --pass-fds: the image opened here, with our rights; the message keeps
 * its own copy of the fd. */
static int append_fd(sd_bus_message *m, const char *path, sd_bus_error *err) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int k = errno;
                return sd_bus_error_setf(err,
                                         k == ENOENT || k == ENOTDIR ? VD_ERROR_PREFIX "NoSuchFile"
                                         : k == EACCES || k == EPERM ? VD_ERROR_PREFIX "AccessDenied"
                                                                     : VD_ERROR_PREFIX "InvalidImage",
                                         "%s: cannot open: %s", path, strerror(k));
        }
        return sd_bus_message_append(m, "{sv}", "fd", "h", fd);
}

static int append_side(sd_bus_message *m, const ClientDisk *disks, size_t n, bool pass_fds, sd_bus_error *err) {
        int r = sd_bus_message_open_container(m, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = sd_bus_message_open_container(m, 'a', "{sv}");
                if (r >= 0 && disks[i].path && pass_fds)
                        r = append_fd(m, disks[i].path, err);
                else if (r >= 0 && disks[i].path)
                        r = sd_bus_message_append(m, "{sv}", "path", "s", disks[i].path);
                if (r >= 0 && disks[i].domain)
                        r = sd_bus_message_append(m, "{sv}", "domain", "s", disks[i].domain);
                if (r >= 0 && disks[i].uri)
                        r = sd_bus_message_append(m, "{sv}", "uri", "s", disks[i].uri);
                if (r >= 0 && disks[i].snapshot)
                        r = sd_bus_message_append(m, "{sv}", "snapshot", "s", disks[i].snapshot);
                if (r >= 0 && disks[i].format)
                        r = sd_bus_message_append(m, "{sv}", "format", "s", disks[i].format);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_options(sd_bus_message *m, const DiffArgs *a) {
        const struct {
                const char *name;
                bool on;
        } flags[] = {
                {"atime", a->atime},         {"times", a->times},         {"dir_times", a->dir_times},
                {"dir_links", a->dir_links}, {"extra_stats", a->extra_stats},
        };
        const Filters *fl = &a->filters;
        _cleanup_strv_free_ char **ignore = NULL;
        size_t n_ignore = 0;
        int r = 0;

        for (unsigned i = 0; r >= 0 && i < _FIELD_COUNT; i++)
                if (fl->ignore & (1u << i))
                        r = strv_extend(&ignore, &n_ignore, change_field_to_string(i));
        STRV_FOREACH(x, fl->ignore_xattrs) {
                _cleanup_free_ char *item = NULL;
                if (r >= 0 && asprintf(&item, "xattr:%s", *x) < 0)
                        r = -ENOMEM;
                if (r >= 0)
                        r = strv_extend(&ignore, &n_ignore, item);
        }
        const struct {
                const char *name;
                char **items;
        } lists[] = {
                {"paths", fl->paths}, {"include", fl->include}, {"exclude", fl->exclude}, {"ignore", ignore},
        };

        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(flags); i++)
                if (flags[i].on)
                        r = sd_bus_message_append(m, "{sv}", flags[i].name, "b", 1);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(lists); i++) {
                if (!lists[i].items)
                        continue;
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", lists[i].name);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, lists[i].items);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && a->output.unified)
                r = sd_bus_message_append(m, "{sv}", "unified", "b", 1);
        if (r >= 0 && a->checksum && strcmp(a->checksum, "sha256") != 0)
                r = sd_bus_message_append(m, "{sv}", "checksum", "s", a->checksum);
        if (r >= 0 && a->detach)
                r = sd_bus_message_append(m, "{sv}", "detached", "b", 1);
        if (r >= 0 && a->engine != ENGINE_AUTO)
                r = sd_bus_message_append(m, "{sv}", "engine", "s", engine_to_string(a->engine));
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int submit(Follow *f, sd_bus_error *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const DiffArgs *a = f->args;
        int r = sd_bus_message_new_method_call(f->conn.bus, &m, f->conn.destination, VD_OBJECT_PATH,
                                               VD_MANAGER_INTERFACE, "Compare");
        if (r >= 0)
                r = append_side(m, a->disks[0], a->n_disks[0], a->pass_fds, err);
        if (r >= 0)
                r = append_side(m, a->disks[1], a->n_disks[1], a->pass_fds, err);
        if (r >= 0)
                r = append_options(m, a);
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

static void clear_progress(Follow *f) {
        if (f->progress_shown) {
                fputs("\r\033[K", stderr);
                f->progress_shown = false;
        }
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *err _unused_) {
        Follow *f = userdata;
        uint32_t phase = 0, state = 0, position = 0;
        double progress = 0;
        int valid = 0;
        uint64_t files_done = 0, files_total = 0, end = 0;
        const char *iface;

        if (!f->show_progress)
                return 0;
        if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, VD_JOB_INTERFACE) != 0)
                return 0;
        if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return 0;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                const char *name;
                if (sd_bus_message_read(m, "s", &name) < 0)
                        return 0;
                if (strcmp(name, "Phase") == 0)
                        (void) sd_bus_message_read(m, "v", "u", &phase);
                else if (strcmp(name, "Progress") == 0)
                        (void) sd_bus_message_read(m, "v", "d", &progress);
                else if (strcmp(name, "ProgressValid") == 0)
                        (void) sd_bus_message_read(m, "v", "b", &valid);
                else if (strcmp(name, "FilesDone") == 0)
                        (void) sd_bus_message_read(m, "v", "t", &files_done);
                else if (strcmp(name, "FilesTotal") == 0)
                        (void) sd_bus_message_read(m, "v", "t", &files_total);
                else if (strcmp(name, "State") == 0)
                        (void) sd_bus_message_read(m, "v", "u", &state);
                else if (strcmp(name, "QueuePosition") == 0)
                        (void) sd_bus_message_read(m, "v", "u", &position);
                else if (strcmp(name, "ExpectedEndTime") == 0)
                        (void) sd_bus_message_read(m, "v", "t", &end);
                else
                        (void) sd_bus_message_skip(m, "v");
                (void) sd_bus_message_exit_container(m);
        }
        if (diff_show_progress(state, phase, position, valid, progress, files_done, files_total, end))
                f->progress_shown = true;
        return 0;
}

bool diff_show_progress(uint32_t state, uint32_t phase, uint32_t position, bool valid, double progress,
                        uint64_t files_done, uint64_t files_total, uint64_t end) {
        const char *pn = phase > PHASE_NONE && phase < _PHASE_MAX ? phase_to_string(phase) : "";
        if (state == JOB_STATE_QUEUED && position > 0) {
                fprintf(stderr, "\r\033[Kqueued, %" PRIu32 " ahead", position - 1);
                fflush(stderr);
                return true;
        }
        if (!pn[0])
                return false;
        fprintf(stderr, "\r\033[K%s", pn);
        if (valid)
                fprintf(stderr, " %3.0f%%", progress * 100.0);
        if (files_total)
                fprintf(stderr, " (%" PRIu64 "/%" PRIu64 " files)", files_done, files_total);
        uint64_t now = now_usec_realtime();
        if (end > now)
                fprintf(stderr, ", %" PRIu64 " s left", (end - now + 999999) / 1000000);
        fflush(stderr);
        return true;
}

/* One line per filesystem whose files could not be compared. */
bool diff_report_unread_filesystems(const char *prog, json_object *root) {
        json_object *fss, *fs, *side, *error, *device;
        bool any = false;
        if (!json_object_object_get_ex(root, "filesystems", &fss))
                return false;
        for (size_t i = 0; i < json_object_array_length(fss); i++) {
                fs = json_object_array_get_idx(fss, i);
                for (int s = 0; s < 2; s++)
                        if (json_object_object_get_ex(fs, s ? "new" : "old", &side) && side &&
                            json_object_object_get_ex(side, "error", &error) && error &&
                            json_object_object_get_ex(side, "device", &device)) {
                                fprintf(stderr, "%s: %s of image %c not compared: %s\n", prog,
                                        json_object_get_string(device), s ? '2' : '1', json_object_get_string(error));
                                any = true;
                        }
        }
        return any;
}

/* With --pass-fds the daemon knows the images only as its /proc/PID/fd/N:
 * show the names they were opened by here. */
static void name_passed_images(json_object *root, const DiffArgs *a) {
        for (int s = 0; a->pass_fds && s < 2; s++) {
                json_object *side = NULL, *images = NULL;
                if (!json_object_object_get_ex(root, s ? "b" : "a", &side) ||
                    !json_object_object_get_ex(side, "images", &images) ||
                    !json_object_is_type(images, json_type_array))
                        continue;
                for (size_t i = 0; i < a->n_disks[s] && i < json_object_array_length(images); i++) {
                        json_object *img = json_object_array_get_idx(images, i);
                        if (json_object_is_type(img, json_type_object) && a->disks[s][i].path)
                                json_object_object_add(img, "path", json_object_new_string(a->disks[s][i].path));
                }
        }
}

static int print_result(Follow *f, sd_bus_error *err) {
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
                return sd_bus_error_set(err, "org.virtdiff.VirtDiff1.Error.Internal",
                                        "the daemon's result is not valid JSON");
        name_passed_images(root, f->args);
        bool differ = false;
        r = output_write_view(stdout, root, &f->args->output, &differ);
        bool unread = diff_report_unread_filesystems(f->prog, root);
        json_object_put(root);
        if (r < 0)
                return r;
        if (fflush(stdout) != 0 || ferror(stdout))
                return -EIO;
        /* A filesystem that could not be read may hide differences. */
        f->exit_status = unread ? 2 : differ ? 1 : 0;
        return 0;
}

static int on_wait_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_err _unused_) {
        Follow *f = userdata;
        sd_bus_error err = SD_BUS_ERROR_NULL;

        clear_progress(f);
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        if (e) {
                print_error(f->prog, e, 0);
                f->exit_status = 2;
        } else {
                int r = print_result(f, &err);
                if (r < 0) {
                        print_error(f->prog, &err, r);
                        f->exit_status = 2;
                }
        }
        sd_bus_error_free(&err);
        return sd_event_exit(f->event, 0);
}

static int on_signal(sd_event_source *s _unused_, const struct signalfd_siginfo *si _unused_, void *userdata) {
        Follow *f = userdata;
        /* wait JOB: stop waiting, never cancel someone's detached job. */
        if (f->args->job) {
                clear_progress(f);
                fprintf(stderr, "%s: stopped waiting; %s still runs\n", f->prog, f->job_path);
                return sd_event_exit(f->event, 0);
        }
        if (f->cancelling)
                return sd_event_exit(f->event, 0);
        f->cancelling = true;
        clear_progress(f);
        fprintf(stderr, "%s: cancelling...\n", f->prog);
        /* The Wait reply then brings the Cancelled error. */
        return sd_bus_call_method_async(f->conn.bus, NULL, f->conn.destination, f->job_path, VD_JOB_INTERFACE,
                                        "Cancel", NULL, NULL, NULL);
}

static int on_disconnected(sd_bus_message *m _unused_, void *userdata, sd_bus_error *err _unused_) {
        Follow *f = userdata;
        clear_progress(f);
        fprintf(stderr, "%s: lost the connection to virt-diffd\n", f->prog);
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

        r = sd_bus_match_signal(f->conn.bus, NULL, NULL, f->job_path, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_properties_changed, f);
        if (r < 0 && !f->conn.peer)
                return r;
        (void) sd_bus_match_signal(f->conn.bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                   "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, f);

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

/* Follows f's job to its end, prints its result, and frees f. */
static int follow_to_end(Follow *f) {
        int r = follow_job(f);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", f->prog, strerror(-r));
                f->exit_status = 2;
        }
        clear_progress(f);
        f->event = sd_event_unref(f->event);
        connection_close(&f->conn);
        free(f->job_path);
        return f->exit_status;
}

int follow_diff(const char *prog, const DiffArgs *args) {
        Follow f = {.prog = prog, .args = args, .exit_status = 2};
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r;

        if (args->varlink)
                return follow_diff_varlink(prog, args, NULL);

        f.show_progress = args->progress > 0 || (args->progress < 0 && isatty(STDERR_FILENO));
        if (args->connect == CONNECT_PEER)
                r = connection_open_peer(&f.conn, args->verbose, args->trace);
        else {
                r = connection_open_bus(&f.conn, args->connect);
                if (r >= 0) {
                        r = submit(&f, &err);
                        if (r < 0 && args->connect == CONNECT_AUTO && !args->detach &&
                            (!sd_bus_error_is_set(&err) || connection_error_is_unreachable(&err))) {
                                if (args->verbose)
                                        fprintf(stderr, "%s: no virt-diffd on the session bus (%s), "
                                                        "running a private one\n",
                                                prog, sd_bus_error_is_set(&err) ? err.message : strerror(-r));
                                sd_bus_error_free(&err);
                                connection_close(&f.conn);
                                r = connection_open_peer(&f.conn, args->verbose, args->trace);
                        }
                } else if (args->connect == CONNECT_AUTO && !args->detach) {
                        /* No bus: the user's daemon may still listen on varlink. */
                        int unreachable;
                        int status = follow_diff_varlink(prog, args, &unreachable);
                        if (status >= 0)
                                return status;
                        if (args->verbose)
                                fprintf(stderr, "%s: no session bus (%s), running a private virt-diffd\n", prog,
                                        strerror(-r));
                        r = connection_open_peer(&f.conn, args->verbose, args->trace);
                }
        }
        if (r >= 0 && !f.job_path)
                r = submit(&f, &err);
        if (r < 0) {
                if (!sd_bus_error_is_set(&err) && !f.conn.bus)
                        fprintf(stderr, "%s: cannot reach virt-diffd: %s\n", prog, strerror(-r));
                else if (sd_bus_error_has_name(&err, VD_ERROR_PREFIX "AccessDenied") && !args->pass_fds &&
                         strstr(strempty(err.message), "compare-path"))
                        /* What the user can do without an administrator. */
                        fprintf(stderr, "%s: %s; --pass-fds needs no authorization\n", prog, err.message);
                else
                        print_error(prog, &err, r);
                sd_bus_error_free(&err);
                connection_close(&f.conn);
                free(f.job_path);
                return 2;
        }

        if (args->detach) {
                printf("%s\n", f.job_path);
                connection_close(&f.conn);
                free(f.job_path);
                return fflush(stdout) == 0 ? 0 : 2;
        }
        return follow_to_end(&f);
}

int follow_wait(const char *prog, const DiffArgs *args) {
        Follow f = {.prog = prog, .args = args, .exit_status = 2};
        const char *job = args->job;

        if (args->varlink)
                return follow_wait_varlink(prog, args);

        /* A job's number stands for its path. */
        if (job[0] != '/' && asprintf(&f.job_path, "/org/virtdiff/VirtDiff1/job/%s", job) < 0)
                f.job_path = NULL;
        else if (job[0] == '/')
                f.job_path = strdup(job);
        if (!f.job_path || !sd_bus_object_path_is_valid(f.job_path)) {
                fprintf(stderr, "%s: '%s' is not a job\n", prog, job);
                free(f.job_path);
                return 2;
        }
        int r = connection_open_or_say(&f.conn, args->connect == CONNECT_AUTO ? CONNECT_SESSION : args->connect,
                                       true, prog);
        if (r < 0) {
                free(f.job_path);
                return 2;
        }
        return follow_to_end(&f);
}

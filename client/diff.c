#include "diff.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "common/errors.h"
#include "common/names.h"
#include "change-stream.h"
#include "follow.h"
#include "side.h"
#include "key-args.h"

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
        if (r >= 0 && (a->output.packages || a->output.explain || a->causes || a->packages_csv))
                r = sd_bus_message_append(m, "{sv}", "packages", "b", 1);
        if (r >= 0 && a->causes) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "causes");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, a->causes);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && a->checksum && strcmp(a->checksum, "sha256") != 0)
                r = sd_bus_message_append(m, "{sv}", "checksum", "s", a->checksum);
        if (r >= 0 && a->detach)
                r = sd_bus_message_append(m, "{sv}", "detached", "b", 1);
        if (r >= 0 && a->engine != ENGINE_AUTO)
                r = sd_bus_message_append(m, "{sv}", "engine", "s", engine_to_string(a->engine));
        if (r >= 0)
                r = key_args_append(m, a);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* Compare's arguments: both sides and the options. */
static int build_compare(Follow *f, sd_bus_message *m, sd_bus_error *err) {
        const DiffArgs *a = f->userdata;
        int r = side_append(m, a->disks[0], a->n_disks[0], a->pass_fds, err);
        if (r >= 0)
                r = side_append(m, a->disks[1], a->n_disks[1], a->pass_fds, err);
        if (r >= 0)
                r = append_options(m, a);
        return r;
}

/* One line per filesystem whose files could not be compared. */
/* A side whose package database could not be read: its packages and the
 * causes are missing, which is trouble (exit 2) as an unread filesystem is. */
static bool report_unread_packages(const char *prog, json_object *root) {
        bool any = false;
        for (int s = 0; s < 2; s++) {
                json_object *side, *db, *error, *code, *message;
                if (json_object_object_get_ex(root, s ? "b" : "a", &side) &&
                    json_object_object_get_ex(side, "packages", &db) && db &&
                    json_object_object_get_ex(db, "error", &error) && error &&
                    json_object_object_get_ex(error, "code", &code) &&
                    json_object_object_get_ex(error, "message", &message)) {
                        fprintf(stderr, "%s: packages of image %c not read: %s: %s\n", prog, s ? '2' : '1',
                                json_object_get_string(code), json_object_get_string(message));
                        any = true;
                }
        }
        return any;
}

bool diff_report_unread_filesystems(const char *prog, json_object *root) {
        json_object *fss, *fs, *side, *error, *device;
        bool any = report_unread_packages(prog, root);
        if (!json_object_object_get_ex(root, "filesystems", &fss))
                return any;
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

/* --packages-csv=FILE: the package changes, beside the main output. */
int diff_write_packages_csv(const char *prog, const DiffArgs *a, json_object *root) {
        const char *path = a->packages_csv;
        if (!path)
                return 0;
        _cleanup_fclose_ FILE *out = fopen(path, "we");
        if (!out) {
                fprintf(stderr, "%s: cannot write %s: %m\n", prog, path);
                return -errno;
        }
        int r = output_packages_csv(out, root);
        if (r < 0)
                fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(-r));
        return r;
}

/* With --pass-fds the daemon knows the images only as its /proc/PID/fd/N:
 * show the names they were opened by here. */
static void name_passed_images(json_object *root, const DiffArgs *a) {
        for (int s = 0; a->pass_fds && s < 2; s++) {
                json_object *side = NULL;
                if (json_object_object_get_ex(root, s ? "b" : "a", &side))
                        side_name_images(side, a->disks[s], a->n_disks[s]);
        }
}

/* A side given as a manifest: the file it was read from, as named here. */
static void name_manifest_sides(json_object *root, const DiffArgs *a) {
        for (int s = 0; s < 2; s++) {
                json_object *side = NULL, *manifest = NULL;
                if (a->n_disks[s] != 1 || !a->disks[s][0].manifest ||
                    !json_object_object_get_ex(root, s ? "b" : "a", &side) ||
                    !json_object_object_get_ex(side, "manifest", &manifest) ||
                    !json_object_is_type(manifest, json_type_object))
                        continue;
                const char *p = a->disks[s][0].path;
                (void) output_json_set_bytes(manifest, "path", strcmp(p, "-") == 0 ? "(standard input)" : p);
        }
}

/* --html=FILE: the report beside whatever went to stdout. */
static int write_html_report(const char *prog, const DiffArgs *a, json_object *root) {
        OutputOptions o = a->output;

        if (!o.html_path)
                return 0;
        o.format = OUTPUT_HTML;
        int r = output_write_file(o.html_path, root, &o);
        if (r < 0)
                fprintf(stderr, "%s: cannot write the report %s: %s\n", prog, o.html_path, strerror(-r));
        return r;
}

int diff_print_result(const char *prog, const DiffArgs *a, json_object *root, int *ret_status) {
        /* wait JOB on an export: its manifest. */
        json_object *format;
        if (json_object_object_get_ex(root, "format", &format) &&
            streq_ptr(json_object_get_string(format), "virt-diff-manifest")) {
                int r = manifest_output_write(stdout, root, MANIFEST_JSON);
                *ret_status = r < 0 ? 2 : 0;
                return r;
        }
        name_passed_images(root, a);
        name_manifest_sides(root, a);
        bool differ = false;
        int r = output_write_view(stdout, root, &a->output, &differ);
        bool unread = diff_report_unread_filesystems(prog, root);
        /* Beside the output: failures said on stderr, and trouble. */
        int extra = r >= 0 ? diff_write_packages_csv(prog, a, root) : 0;
        int report = r >= 0 ? write_html_report(prog, a, root) : 0;
        if (r < 0)
                return r;
        if (fflush(stdout) != 0 || ferror(stdout))
                return -EIO;
        /* A filesystem that could not be read may hide differences. */
        *ret_status = unread || report < 0 || extra < 0 ? 2 : differ ? 1 : 0;
        return 0;
}

/* ---- printing while the job runs ---- */

void diff_prepare_head(json_object *head, void *userdata) {
        name_passed_images(head, userdata);
        name_manifest_sides(head, userdata);
}

/* The job's change stream, opened as following starts; no stream (a job
 * that writes its result whole at its end, an older daemon) is no error:
 * the result prints at the end. */
static void open_changes(Follow *f, ChangeStream *cs) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int fd;
        if (sd_bus_call_method(f->conn.bus, f->conn.destination, f->job_path, VD_JOB_INTERFACE, "OpenChanges", NULL,
                               &reply, NULL) < 0 ||
            sd_bus_message_read(reply, "h", &fd) < 0)
                return;
        cs->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static void on_running(Follow *f, bool first) {
        const DiffArgs *a = f->userdata;
        ChangeStream *cs = f->command_data;
        if (first && cs->fd < 0)
                open_changes(f, cs);
        if (cs->failed || !change_stream_pending(cs))
                return;
        if (cs->printing || !cs->decided)
                follow_clear_progress(f);
        int r = change_stream_read(cs, stdout, &a->output);
        if (r < 0)
                cs->failed = r; /* said at the end */
}

int diff_finish_stream(const char *prog, const DiffArgs *a, ChangeStream *cs, int r, int *ret_status) {
        /* Nothing printed yet, whatever happened: the whole result prints. */
        if (!cs->printing)
                return 0;
        if (r == -EBADMSG || (r >= 0 && !cs->ended)) {
                fprintf(stderr, "%s: the job's change stream is damaged or ended early\n", prog);
                return -EBADMSG;
        }
        if (r >= 0)
                r = output_stream_end(stdout, cs->head, &a->output);
        if (r < 0)
                return r;
        json_object *summary = NULL, *differs = NULL;
        bool differ = json_object_object_get_ex(cs->head, "summary", &summary) &&
                      json_object_object_get_ex(summary, "differences", &differs) && json_object_get_boolean(differs);
        bool unread = diff_report_unread_filesystems(prog, cs->head);
        *ret_status = unread ? 2 : differ ? 1 : 0;
        return 1;
}

/* The rest of the stream once the job has succeeded. */
static int finish_changes(Follow *f, ChangeStream *cs) {
        const DiffArgs *a = f->userdata;
        int r = cs->failed ?: change_stream_read(cs, stdout, &a->output);
        return diff_finish_stream(f->prog, a, cs, r, &f->exit_status);
}

static int print_result(Follow *f, sd_bus_error *err) {
        ChangeStream *cs = f->command_data;
        if (cs) {
                int r = finish_changes(f, cs);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        json_object *root = NULL;
        int r = follow_get_result(f, &root, err);
        if (r < 0)
                return r;
        r = diff_print_result(f->prog, f->userdata, root, &f->exit_status);
        json_object_put(root);
        return r;
}

bool diff_stream_wanted(const DiffArgs *a) {
        return output_streams(&a->output) && !a->packages_csv;
}

/* No session bus: the user's daemon may still listen on varlink. */
static int try_varlink(Follow *f) {
        int unreachable;
        return follow_diff_varlink(f->prog, f->userdata, &unreachable);
}

static int diff_status(const char *prog, const DiffArgs *args) {
        if (args->varlink)
                return follow_diff_varlink(prog, args, NULL);
        ChangeStream cs = {.fd = -1, .prepare = diff_prepare_head, .userdata = (void *) args, .prog = prog};
        Follow f = {.prog = prog, .userdata = (void *) args, .done = print_result, .fds_passed = args->pass_fds,
                    .no_bus = try_varlink, .running = diff_stream_wanted(args) ? on_running : NULL,
                    .command_data = diff_stream_wanted(args) ? &cs : NULL,
                    .show_progress = args->progress > 0 || (args->progress < 0 && isatty(STDERR_FILENO))};
        int status = follow_submit(&f, args->connect, args->verbose, args->trace, args->detach, "Compare",
                                   build_compare);
        change_stream_done(&cs);
        return status;
}

static int wait_status(const char *prog, const DiffArgs *args) {
        if (args->varlink)
                return follow_wait_varlink(prog, args);
        ChangeStream cs = {.fd = -1, .prepare = diff_prepare_head, .userdata = (void *) args, .prog = prog};
        Follow f = {.prog = prog, .userdata = (void *) args, .done = print_result, .stop_only = true,
                    .running = diff_stream_wanted(args) ? on_running : NULL,
                    .command_data = diff_stream_wanted(args) ? &cs : NULL,
                    .show_progress = args->progress > 0 || (args->progress < 0 && isatty(STDERR_FILENO))};
        int status = follow_existing(&f, args->connect, args->job);
        change_stream_done(&cs);
        return status;
}

int follow_diff(const char *prog, const DiffArgs *args) {
        return diff_args_exit_status(args, diff_status(prog, args));
}

int follow_wait(const char *prog, const DiffArgs *args) {
        return diff_args_exit_status(args, wait_status(prog, args));
}

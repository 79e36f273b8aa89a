/* virt-diff over varlink: Compare (or Wait) with "more", the progress
 * line from its replies, Ctrl-C cancelling through a second connection,
 * and the result printed as over D-Bus, byte for byte: the changes as the
 * replies bring them ("changes") in the formats that print a change at a
 * time, the whole result at the end otherwise. */
#include <signal.h>

#include "common/base64.h"
#include "common/names.h"
#include "diff.h"
#include "progress-term.h"
#include "varlink.h"

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig _unused_) {
        interrupted = 1;
}

static json_object *disk_json(const ClientDisk *d) {
        json_object *o = json_object_new_object();
        const struct {
                const char *key, *value;
        } fields[] = {
                {"path", d->path}, {"format", d->format}, {"domain", d->domain}, {"uri", d->uri}, {"snapshot", d->snapshot},
        };
        for (size_t i = 0; o && i < ELEMENTSOF(fields); i++)
                if (fields[i].value && json_object_object_add(o, fields[i].key, json_object_new_string(fields[i].value)) < 0) {
                        json_object_put(o);
                        o = NULL;
                }
        if (o && d->blocksize && json_object_object_add(o, "blocksize", json_object_new_int64(d->blocksize)) < 0) {
                json_object_put(o);
                o = NULL;
        }
        return o;
}

/* The keys for encrypted volumes, their bytes in base64: by selector,
 * then the ordered ones (no selector). */
static json_object *keys_json(const DiffArgs *a) {
        json_object *l = json_object_new_array();
        const KeyList *lists[] = {&a->keys, &a->ordered_keys};
        for (size_t i = 0; l && i < ELEMENTSOF(lists); i++)
                for (size_t k = 0; l && k < lists[i]->n; k++) {
                        const Key *key = &lists[i]->keys[k];
                        _cleanup_free_ char *b64 = base64_encode(key->bytes, key->len);
                        json_object *o = json_object_new_object();
                        bool ok = o && b64 && json_object_object_add(o, "base64", json_object_new_string(b64)) == 0 &&
                                  (!key->selector ||
                                   json_object_object_add(o, "selector", json_object_new_string(key->selector)) == 0) &&
                                  json_object_array_add(l, o) == 0;
                        if (b64)
                                explicit_bzero(b64, strlen(b64));
                        if (!ok) {
                                json_object_put(o);
                                json_object_put(l);
                                l = NULL;
                        }
                }
        return l;
}

static json_object *strv_json(char **l) {
        json_object *a = json_object_new_array();
        STRV_FOREACH(s, l)
                if (a && json_object_array_add(a, json_object_new_string(*s)) < 0) {
                        json_object_put(a);
                        a = NULL;
                }
        return a;
}

/* The options, by the names D-Bus has too. */
static json_object *options_json(const DiffArgs *a) {
        const Filters *fl = &a->filters;
        json_object *o = json_object_new_object();
        json_object *ignore = json_object_new_array();
        bool ok = o && ignore;
        for (unsigned i = 0; ok && i < _FIELD_COUNT; i++)
                if (fl->ignore & (1u << i))
                        ok = json_object_array_add(ignore, json_object_new_string(change_field_to_string(i))) == 0;
        STRV_FOREACH(x, fl->ignore_xattrs) {
                _cleanup_free_ char *item = NULL;
                ok = ok && asprintf(&item, "xattr:%s", *x) >= 0 &&
                     json_object_array_add(ignore, json_object_new_string(item)) == 0;
        }
        const struct {
                const char *name;
                bool on;
        } flags[] = {
                {"atime", a->atime}, {"times", a->times}, {"dir_times", a->dir_times}, {"dir_links", a->dir_links},
                {"extra_stats", a->extra_stats}, {"unified", a->output.unified}, {"detached", a->detach},
        };
        for (size_t i = 0; ok && i < ELEMENTSOF(flags); i++)
                if (flags[i].on)
                        ok = json_object_object_add(o, flags[i].name, json_object_new_boolean(1)) == 0;
        const struct {
                const char *name;
                char **items;
        } lists[] = {{"paths", fl->paths}, {"include", fl->include}, {"exclude", fl->exclude}};
        for (size_t i = 0; ok && i < ELEMENTSOF(lists); i++)
                if (lists[i].items)
                        ok = json_object_object_add(o, lists[i].name, strv_json(lists[i].items)) == 0;
        if (ok && json_object_array_length(ignore) > 0) {
                ok = json_object_object_add(o, "ignore", ignore) == 0;
                ignore = NULL;
        }
        if (ok && a->checksum && strcmp(a->checksum, "sha256") != 0)
                ok = json_object_object_add(o, "checksum", json_object_new_string(a->checksum)) == 0;
        if (ok && a->engine != ENGINE_AUTO)
                ok = json_object_object_add(o, "engine", json_object_new_string(engine_to_string(a->engine))) == 0;
        if (ok && (a->output.packages || a->output.explain || a->causes || a->packages_csv))
                ok = json_object_object_add(o, "packages", json_object_new_boolean(1)) == 0;
        if (ok && a->causes)
                ok = json_object_object_add(o, "causes", strv_json(a->causes)) == 0;
        if (ok && (a->keys.n || a->ordered_keys.n)) {
                json_object *keys = keys_json(a);
                ok = keys && json_object_object_add(o, "keys", keys) == 0;
        }
        json_object_put(ignore);
        if (!ok) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static json_object *compare_parameters(const DiffArgs *a) {
        json_object *p = json_object_new_object();
        bool ok = p;
        for (int s = 0; ok && s < 2; s++) {
                json_object *side = json_object_new_array();
                for (size_t i = 0; side && i < a->n_disks[s]; i++)
                        if (json_object_array_add(side, disk_json(&a->disks[s][i])) < 0 ||
                            !json_object_array_get_idx(side, i)) {
                                json_object_put(side);
                                side = NULL;
                        }
                ok = side && json_object_object_add(p, s ? "b" : "a", side) == 0;
        }
        ok = ok && json_object_object_add(p, "options", options_json(a)) == 0 && json_object_object_get(p, "options");
        if (!ok) {
                json_object_put(p);
                return NULL;
        }
        return p;
}

static char *address(const DiffArgs *a) {
        return a->varlink_path ? strdup(a->varlink_path) : varlink_default_address(a->connect == CONNECT_SYSTEM);
}

static void cancel_job(const char *path, uint64_t job) {
        _cleanup_varlink_client_ VarlinkClient *c = NULL;
        json_object *p = json_object_new_object(), *reply = NULL;
        Error e = {0};
        if (!p || varlink_client_connect(path, &c) < 0) {
                json_object_put(p);
                return;
        }
        json_object_object_add(p, "job", json_object_new_uint64(job));
        if (varlink_client_call(c, VD_VARLINK_INTERFACE ".Cancel", p, &reply, &e) == 0)
                json_object_put(reply);
}

/* A "more" reply's progress into the job's properties, as D-Bus has them. */
static void read_progress(json_object *p, JobProgress *jp) {
        json_object *v = NULL;
        jp->state = job_state_from_string(json_object_get_string(json_object_object_get(p, "state")));
        jp->phase = phase_from_string(json_object_get_string(json_object_object_get(p, "phase")));
        jp->queue_position = (uint32_t) json_object_get_int64(json_object_object_get(p, "queue_position"));
        jp->valid = json_object_object_get_ex(p, "progress", &v) && v;
        jp->progress = json_object_get_double(v);
        jp->files_done = json_object_get_uint64(json_object_object_get(p, "files_done"));
        jp->files_total = json_object_get_uint64(json_object_object_get(p, "files_total"));
        jp->bytes_done = json_object_get_uint64(json_object_object_get(p, "bytes_done"));
        jp->bytes_total = json_object_get_uint64(json_object_object_get(p, "bytes_total"));
        jp->rate = json_object_get_uint64(json_object_object_get(p, "rate"));
        jp->expected_end_usec = json_object_get_uint64(json_object_object_get(p, "expected_end"));
}

/* A finished job's result, when its change stream printed nothing. */
static json_object *fetch_result(const char *prog, VarlinkClient *c, uint64_t job) {
        json_object *p = json_object_new_object(), *reply = NULL;
        Error e = {0};
        if (!p || json_object_object_add(p, "job", json_object_new_uint64(job)) < 0) {
                json_object_put(p);
                return NULL;
        }
        if (varlink_client_call(c, VD_VARLINK_INTERFACE ".Wait", p, &reply, &e) < 0) {
                fprintf(stderr, "%s: %s\n", prog, e.message);
                return NULL;
        }
        return reply;
}

/* The job's last reply: what is left of its change stream, else its
 * result (fetched when the stream printed nothing). The exit status. */
static int finish(const char *prog, const DiffArgs *args, VarlinkClient *c, ChangeStream *cs, uint64_t job,
                  json_object *result) {
        int status = 2, k;
        _cleanup_json_ json_object *fetched = NULL;
        if (cs) {
                k = diff_finish_stream(prog, args, cs, cs->failed, &status);
                if (k > 0)
                        return status;
                if (k < 0) {
                        if (k != -EBADMSG)
                                fprintf(stderr, "%s: cannot write the result: %s\n", prog, strerror(-k));
                        return 2;
                }
                if (!result && job && (fetched = fetch_result(prog, c, job)))
                        result = json_object_object_get(fetched, "result");
        }
        if (!result)
                fprintf(stderr, "%s: the daemon's last reply has no result\n", prog);
        else if ((k = diff_print_result(prog, args, result, &status)) < 0) {
                fprintf(stderr, "%s: cannot write the result: %s\n", prog, strerror(-k));
                status = 2;
        }
        return status;
}

/* Follows the replies of a Compare or Wait sent on c to the last; prints
 * the changes as they come (cs, when they were asked for) and the result.
 * The exit status. */
static int follow(const char *prog, const DiffArgs *args, VarlinkClient *c, const char *path, ChangeStream *cs) {
        bool show = !args->detach && (args->progress > 0 || (args->progress < 0 && isatty(STDERR_FILENO)));
        bool cancelling = false;
        ProgressTerm term = {};
        uint64_t job = 0;
        struct sigaction sa = {.sa_handler = on_interrupt}, old_int, old_term;
        (void) sigaction(SIGINT, &sa, &old_int);
        (void) sigaction(SIGTERM, &sa, &old_term);
        int status = 2;
        if (show)
                progress_term_start(&term);
        for (;;) {
                VarlinkReply r = {0};
                int q = varlink_client_receive(c, 200 * 1000, &r);
                if (q == 0) {
                        if (interrupted && args->job) {
                                progress_term_clear(&term);
                                fprintf(stderr, "%s: stopped waiting; job %" PRIu64 " still runs\n", prog, job);
                                status = 0;
                                break;
                        }
                        if (interrupted && !cancelling && job) {
                                cancelling = true;
                                progress_term_stop(&term);
                                fprintf(stderr, "%s: cancelling...\n", prog);
                                cancel_job(path, job);
                        }
                        /* The elapsed time moves on between replies. */
                        progress_term_draw(&term);
                        continue;
                }
                if (q < 0) {
                        progress_term_clear(&term);
                        if (job)
                                fprintf(stderr,
                                        "%s: lost the connection to virt-diffd (its job: virt-diffctl wait %" PRIu64 ")\n",
                                        prog, job);
                        else
                                fprintf(stderr, "%s: lost the connection to virt-diffd\n", prog);
                        break;
                }
                if (!r.continues || r.error)
                        progress_term_stop(&term);
                if (r.error) {
                        Error e = {0};
                        varlink_reply_error(&r, &e);
                        fprintf(stderr, "%s: %s\n", prog, e.message);
                        varlink_reply_done(&r);
                        break;
                }
                json_object *p = json_object_object_get(r.parameters, "progress");
                uint64_t was = job;
                job = json_object_get_uint64(json_object_object_get(r.parameters, "job"));
                if (args->verbose && job && !was && !args->detach) {
                        progress_term_clear(&term);
                        fprintf(stderr, "%s: following /org/virtdiff/VirtDiff1/job/%" PRIu64 "\n", prog, job);
                }
                if (args->detach) {
                        printf("/org/virtdiff/VirtDiff1/job/%" PRIu64 "\n", job);
                        status = fflush(stdout) == 0 ? 0 : 2;
                        varlink_reply_done(&r);
                        break;
                }
                json_object *ch = json_object_object_get(r.parameters, "changes");
                if (cs && ch && !cs->failed) {
                        if (cs->printing || !cs->decided)
                                progress_term_clear(&term);
                        int k = change_stream_feed(cs, json_object_get_string(ch), (size_t) json_object_get_string_len(ch),
                                                   stdout, &args->output);
                        if (k < 0)
                                cs->failed = k; /* said at the end */
                }
                if (r.continues) {
                        if (show && !cancelling) {
                                read_progress(p, &term.progress);
                                progress_term_update(&term);
                        }
                        varlink_reply_done(&r);
                        continue;
                }
                status = finish(prog, args, c, cs, job, json_object_object_get(r.parameters, "result"));
                varlink_reply_done(&r);
                break;
        }
        progress_term_stop(&term);
        (void) sigaction(SIGINT, &old_int, NULL);
        (void) sigaction(SIGTERM, &old_term, NULL);
        return status;
}

static int start(const char *prog, const DiffArgs *args, const char *method, json_object *params,
                 int *ret_unreachable) {
        _cleanup_free_ char *path = address(args);
        _cleanup_varlink_client_ VarlinkClient *c = NULL;
        _cleanup_json_ json_object *owned = params;
        if (!path) {
                if (ret_unreachable) {
                        *ret_unreachable = -ENOENT;
                        return -1;
                }
                fprintf(stderr, "%s: no runtime directory ($XDG_RUNTIME_DIR) to find the varlink socket in: "
                                "name it with --varlink=PATH\n", prog);
                return 2;
        }
        int r = params ? varlink_client_connect(path, &c) : -ENOMEM;
        if (r < 0) {
                if (ret_unreachable) {
                        *ret_unreachable = r;
                        return -1;
                }
                fprintf(stderr, "%s: cannot reach virt-diffd at %s: %s\n", prog, path, strerror(-r));
                return 2;
        }
        /* The changes as they come, for the formats that print so. */
        bool stream = !args->detach && diff_stream_wanted(args);
        if (stream && json_object_object_add(owned, "changes", json_object_new_boolean(1)) < 0) {
                fprintf(stderr, "%s: out of memory\n", prog);
                return 2;
        }
        r = varlink_client_send(c, method, TAKE_PTR(owned), VARLINK_CALL_MORE);
        if (r < 0) {
                fprintf(stderr, "%s: cannot send to virt-diffd: %s\n", prog, strerror(-r));
                return 2;
        }
        ChangeStream cs = {.fd = -1, .prepare = diff_prepare_head, .userdata = (void *) args, .prog = prog};
        int status = follow(prog, args, c, path, stream ? &cs : NULL);
        change_stream_done(&cs);
        return status;
}

int follow_diff_varlink(const char *prog, const DiffArgs *args, int *ret_unreachable) {
        for (int s = 0; s < 2; s++)
                if (args->n_disks[s] == 1 && args->disks[s][0].manifest) {
                        fprintf(stderr, "%s: a side given as a manifest works over D-Bus only (its file is passed as "
                                        "a file descriptor)\n", prog);
                        return 2;
                }
        if (args->pass_fds) {
                fprintf(stderr, "%s: --pass-fds works over D-Bus only; over varlink the daemon opens the images "
                                "with your own rights\n", prog);
                return 2;
        }
        return start(prog, args, VD_VARLINK_INTERFACE ".Compare", compare_parameters(args), ret_unreachable);
}

int follow_wait_varlink(const char *prog, const DiffArgs *args) {
        const char *s = strrchr(args->job, '/');
        s = s ? s + 1 : args->job;
        char *end;
        errno = 0;
        unsigned long long id = strtoull(s, &end, 10);
        if (errno || !*s || *end || id == 0 || id > INT64_MAX) {
                fprintf(stderr, "%s: '%s' is not a job\n", prog, args->job);
                return 2;
        }
        json_object *p = json_object_new_object();
        if (p && json_object_object_add(p, "job", json_object_new_uint64(id)) < 0) {
                json_object_put(p);
                p = NULL;
        }
        return start(prog, args, VD_VARLINK_INTERFACE ".Wait", p, NULL);
}

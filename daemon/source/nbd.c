#include "source/nbd.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "common/run-dir.h"

#define NBD_READY_TIMEOUT_USEC (30ULL * 1000000ULL)
#define NBD_STOP_TIMEOUT_USEC (5ULL * 1000000ULL)

/* Other disks, a running domain's included, reach the appliance through
 * an overlay on the file itself, with locking off (overlay.c). A passed fd
 * is served too: qemu-nbd opens our /proc/PID/fd/FD, which the
 * appliance's qemu, behind libguestfs, never sees. */
static bool disk_needs_nbd(const Disk *d) {
        return d->snapshot || d->by_fd;
}

static bool reap(pid_t pid, uint64_t timeout_usec) {
        uint64_t end = now_usec_monotonic() + timeout_usec;
        do {
                pid_t r = waitpid(pid, NULL, WNOHANG);
                if (r == pid || (r < 0 && errno == ECHILD))
                        return true;
                (void) usleep(10000);
        } while (now_usec_monotonic() < end);
        return false;
}

NbdServer *nbd_server_free(NbdServer *s) {
        if (!s)
                return NULL;
        if (s->pid > 0) {
                (void) kill(s->pid, SIGTERM);
                if (!reap(s->pid, NBD_STOP_TIMEOUT_USEC)) {
                        (void) kill(s->pid, SIGKILL);
                        (void) reap(s->pid, NBD_STOP_TIMEOUT_USEC);
                }
        }
        if (s->dir) {
                _cleanup_free_ char *err = path_join(s->dir, "stderr");
                if (err)
                        (void) unlink(err);
                if (s->socket)
                        (void) unlink(s->socket);
                (void) rmdir(s->dir);
        }
        free(s->socket);
        free(s->dir);
        free(s);
        return NULL;
}

static void nbd_server_freep(NbdServer **s) {
        nbd_server_free(*s);
}

/* The child: qemu-nbd, killed when the thread that started it ends (the
 * daemon's death included), with signals as a fresh process has them. */
static _Noreturn void exec_server(pid_t parent, const char *err_path, char *const argv[]) {
        sigset_t none;
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(127);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (null < 0 || err < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(err, 2) < 0)
                _exit(127);
        (void) close_range(3, ~0U, 0);
        execvp(argv[0], argv);
        _exit(127);
}

static bool socket_ready(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0;
}

static void first_line(const char *path, char *buf, size_t size) {
        buf[0] = 0;
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (f && fgets(buf, (int) size, f))
                buf[strcspn(buf, "\n")] = 0;
}

/* A value in qemu's KEY=VALUE,... syntax: its commas doubled. */
static char *qemu_opt_value(const char *v) {
        size_t commas = 0;
        for (const char *p = v; *p; p++)
                commas += *p == ',';
        char *r = malloc(strlen(v) + commas + 1), *q = r;
        if (!r)
                return NULL;
        for (const char *p = v; *p; p++) {
                *q++ = *p;
                if (*p == ',')
                        *q++ = ',';
        }
        *q = 0;
        return r;
}

/* "driver=FMT,file.driver=...,file.filename=PATH,file.locking=off". */
static char *image_opts(const Disk *d) {
        struct stat st;
        const char *proto = stat(d->path, &st) == 0 && S_ISBLK(st.st_mode) ? "host_device" : "file";
        _cleanup_free_ char *path = qemu_opt_value(d->path);
        if (!path)
                return NULL;
        char *r;
        if (asprintf(&r, "driver=%s,file.driver=%s,file.filename=%s,file.locking=off", d->format, proto, path) < 0)
                return NULL;
        return r;
}

static int nbd_start(Disk *d, const ProgressSink *progress, Error *e) {
        _cleanup_(nbd_server_freep) NbdServer *s = calloc(1, sizeof(*s));
        if (!s)
                return error_set(e, ERR_INTERNAL, "out of memory");
        /* Under the daemon's own directory: one killed leaves it to the next. */
        const char *tmp = run_dir() ?: getenv("TMPDIR");
        s->dir = path_join(tmp && tmp[0] ? tmp : "/tmp", "virt-diffd-nbd-XXXXXX");
        if (!s->dir || !mkdtemp(s->dir)) {
                free(s->dir);
                s->dir = NULL;
                return error_set(e, ERR_INTERNAL, "cannot create a private directory for qemu-nbd: %m");
        }
        s->socket = path_join(s->dir, "nbd.sock");
        _cleanup_free_ char *err_path = path_join(s->dir, "stderr"), *load = NULL;
        if (!s->socket || !err_path)
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (strlen(s->socket) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return error_set(e, ERR_INTERNAL, "socket path too long: %s", s->socket);
        _cleanup_free_ char *name = d->snapshot ? qemu_opt_value(d->snapshot) : NULL;
        if (d->snapshot && (!name || asprintf(&load, "snapshot.name=%s", name) < 0))
                return error_set(e, ERR_INTERNAL, "out of memory");

        /* -r: read-only; -t: stay up across the appliance's reconnects. The
         * files it reads are those the disk opened when it was checked
         * (with locking off: a running domain's qemu holds its image
         * locked, and this qemu-nbd, 7.2, has no --force-share). */
        _cleanup_free_ char *pinned = d->n_layers > 0 ? disk_qemu_filename(d) : NULL;
        _cleanup_free_ char *opts = !pinned && d->live ? image_opts(d) : NULL;
        if ((d->n_layers > 0 && !pinned) || (!pinned && d->live && !opts))
                return error_set(e, ERR_INTERNAL, "out of memory");
        char *argv[16];
        size_t k = 0;
        argv[k++] = "qemu-nbd";
        argv[k++] = "-r";
        argv[k++] = "-t";
        if (opts)
                argv[k++] = "--image-opts";
        else if (!pinned) {
                argv[k++] = "-f";
                argv[k++] = d->format;
        }
        if (load) {
                argv[k++] = "-l";
                argv[k++] = load;
        }
        argv[k++] = "-k";
        argv[k++] = s->socket;
        argv[k++] = "--";
        argv[k++] = pinned ? pinned : opts ? opts : d->path;
        argv[k] = NULL;

        pid_t parent = getpid();
        s->pid = fork();
        if (s->pid < 0)
                return error_set(e, ERR_INTERNAL, "cannot start qemu-nbd: %m");
        if (s->pid == 0)
                exec_server(parent, err_path, argv);

        uint64_t end = now_usec_monotonic() + NBD_READY_TIMEOUT_USEC;
        while (!socket_ready(s->socket)) {
                int status;
                if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
                        char line[512];
                        s->pid = 0;
                        first_line(err_path, line, sizeof line);
                        return error_set(e, ERR_INVALID_IMAGE, "%s%s%s: qemu-nbd cannot serve it: %s", d->path,
                                         d->snapshot ? "@" : "", strempty(d->snapshot),
                                         line[0] ? line : "exited");
                }
                if (progress_cancelled(progress))
                        return error_set(e, ERR_CANCELLED, "cancelled");
                if (now_usec_monotonic() > end)
                        return error_set(e, ERR_INVALID_IMAGE, "%s: qemu-nbd did not start serving it", d->path);
                (void) usleep(20000);
        }
        d->nbd = TAKE_PTR(s);
        return 0;
}

static int serve(Disk *disks, size_t n, bool (*needs)(const Disk *d), const ProgressSink *progress, Error *e) {
        for (size_t i = 0; i < n; i++)
                if (needs(&disks[i]) && !disks[i].nbd && nbd_start(&disks[i], progress, e) < 0) {
                        nbd_stop_disks(disks, n);
                        return -1;
                }
        return 0;
}

int nbd_serve_disks(Disk *disks, size_t n, const ProgressSink *progress, Error *e) {
        return serve(disks, n, disk_needs_nbd, progress, e);
}

bool nbd_direct_reads_in_place(const Disk *d) {
        return !d->snapshot && streq_ptr(d->format, "raw");
}

static bool direct_needs_nbd(const Disk *d) {
        return !nbd_direct_reads_in_place(d);
}

int nbd_serve_disks_for_direct(Disk *disks, size_t n, const ProgressSink *progress, Error *e) {
        return serve(disks, n, direct_needs_nbd, progress, e);
}

void nbd_stop_disks(Disk *disks, size_t n) {
        for (size_t i = 0; i < n; i++)
                disks[i].nbd = nbd_server_free(disks[i].nbd);
}

bool nbd_stop_disks_for_direct(Disk *disks, size_t n) {
        bool any = false;
        for (size_t i = 0; i < n; i++)
                if (disks[i].nbd && !disk_needs_nbd(&disks[i])) {
                        disks[i].nbd = nbd_server_free(disks[i].nbd);
                        any = true;
                }
        return any;
}

char *nbd_backing_json(const Disk *d) {
        const NbdServer *s = d->nbd;
        json_object *top = json_object_new_object(), *file = json_object_new_object(),
                    *server = json_object_new_object();
        char *r = NULL;
        if (top && file && server) {
                json_object_object_add(server, "type", json_object_new_string("unix"));
                json_object_object_add(server, "path", json_object_new_string(s->socket));
                json_object_object_add(file, "driver", json_object_new_string("nbd"));
                json_object_object_add(file, "server", TAKE_PTR(server));
                /* The export is the disk as its guest sees it, at the live
                 * image's size: cut to the snapshot's. */
                json_object_object_add(top, "driver", json_object_new_string("raw"));
                if (d->virtual_size > 0)
                        json_object_object_add(top, "size", json_object_new_int64((int64_t) d->virtual_size));
                json_object_object_add(top, "file", TAKE_PTR(file));
                const char *j = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN |
                                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
                if (j && asprintf(&r, "json:%s", j) < 0)
                        r = NULL;
        }
        json_object_put(top);
        json_object_put(file);
        json_object_put(server);
        return r;
}

#include "appliance/appliance.h"
#include "appliance/appliance-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <guestfs.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "appliance/kvm-probe.h"
#include "appliance/overlay.h"
#include "common/log.h"
#include "common/run-dir.h"
#include "common/wire.h"
#include "manifest/manifest-wire.h"
#include "packages/packages-wire.h"
#include "worker/protocol.h"

extern char **environ;

#define WORKER_EXIT_WAIT_USEC (30 * 1000000ULL)  /* a polite shutdown */
#define WORKER_GONE_WAIT_USEC (2 * 1000000ULL)   /* a worker whose socket closed */
#define WORKER_KILL_GRACE_USEC (3 * 1000000ULL)  /* a worker whose qemu was killed */

/* Where libguestfs would put its temporary files; by default the daemon's
 * own directory (run-dir.h), which a daemon that follows a killed one
 * removes. */
static const char *tmpdir_base(void) {
        const char *d = getenv("LIBGUESTFS_TMPDIR");
        if (!d || !*d)
                d = run_dir();
        if (!d || !*d)
                d = getenv("TMPDIR");
        return d && *d ? d : "/tmp";
}

/* The qemu whose command line names our private directory: the way to the
 * qemu of a launch that has not reported its pid yet. With kill, every
 * such qemu is killed (should one have left the worker's process group);
 * returns the first found, or 0. */
static pid_t find_by_tmpdir(const char *tmpdir, bool kill_them) {
        DIR *d = opendir("/proc");
        pid_t found = 0;
        if (!d)
                return 0;
        size_t tl = strlen(tmpdir);
        struct dirent *de;
        while ((de = readdir(d))) {
                char path[300], buf[8192];
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t n = read(fd, buf, sizeof buf - 1);
                if (n <= 0 || !strstr(buf, "qemu"))
                        continue;
                for (ssize_t i = 0; i < n; i++)
                        if (buf[i] == 0)
                                buf[i] = ' ';
                buf[n] = 0;
                if (!memmem(buf, (size_t) n, tmpdir, tl))
                        continue;
                if (!found)
                        found = (pid_t) atoi(de->d_name);
                if (!kill_them)
                        break;
                (void) kill((pid_t) atoi(de->d_name), SIGKILL);
        }
        closedir(d);
        return found;
}

void appliance_kill(Appliance *a) {
        if (!a)
                return;
        __atomic_store_n(&a->kill_usec, now_usec_monotonic(), __ATOMIC_SEQ_CST);
        __atomic_store_n(&a->killed, true, __ATOMIC_SEQ_CST);
        /* qemu only: the worker's call then fails at once, and the worker
         * lives to close its handle and clean up after it. One that does
         * not answer within WORKER_KILL_GRACE_USEC is killed by await(). */
        pid_t qemu = __atomic_load_n(&a->qemu_pid, __ATOMIC_SEQ_CST);
        if (qemu > 0)
                (void) kill(qemu, SIGKILL);
        else if (a->tmpdir)
                (void) find_by_tmpdir(a->tmpdir, true);
        else if (a->direct && a->worker_pid > 0)
                (void) kill(-a->worker_pid, SIGKILL); /* no qemu: the worker itself */
}

/* Waits (at most timeout_usec, then kills) until the worker has exited,
 * takes whatever is left of its process group with it, and reaps it. Its
 * pid stays ours until the reaping, so the group kill cannot hit a
 * stranger. */
static void worker_wait(Appliance *a, uint64_t timeout_usec) {
        if (a->worker_pid <= 0 || __atomic_load_n(&a->exited, __ATOMIC_SEQ_CST))
                return;
        uint64_t end = now_usec_monotonic() + timeout_usec;
        for (;;) {
                siginfo_t si = {};
                int r = waitid(P_PID, (id_t) a->worker_pid, &si, WEXITED | WNOHANG | WNOWAIT);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0 || si.si_pid == a->worker_pid)
                        break;
                if (now_usec_monotonic() >= end) {
                        (void) kill(-a->worker_pid, SIGKILL);
                        end = UINT64_MAX;
                }
                (void) usleep(10000);
        }
        (void) kill(-a->worker_pid, SIGKILL);
        int status = 0;
        while (waitpid(a->worker_pid, &status, 0) < 0 && errno == EINTR)
                ;
        a->status = status;
        __atomic_store_n(&a->exited, true, __ATOMIC_SEQ_CST);
}

/* The socket failed or the worker broke the protocol: why, as an error. */
int worker_gone(Appliance *a, int r, Error *e) {
        bool protocol = r != -ECONNRESET && r != -EPIPE;
        if (protocol)
                (void) kill(-a->worker_pid, SIGKILL);
        worker_wait(a, WORKER_GONE_WAIT_USEC);
        if (__atomic_load_n(&a->killed, __ATOMIC_SEQ_CST))
                return error_set(e, ERR_APPLIANCE_FAILED, "the appliance was stopped");
        if (protocol)
                return error_set(e, ERR_WORKER_CRASHED, "the worker process broke the protocol: %s", strerror(-r));
        if (WIFSIGNALED(a->status))
                return error_set(e, ERR_WORKER_CRASHED, "the worker process (pid %d) died of signal %d (%s)",
                                 (int) a->worker_pid, WTERMSIG(a->status), strsignal(WTERMSIG(a->status)));
        return error_set(e, ERR_WORKER_CRASHED, "the worker process (pid %d) exited unexpectedly with status %d",
                         (int) a->worker_pid, WIFEXITED(a->status) ? WEXITSTATUS(a->status) : -1);
}

int worker_request(Appliance *a, uint8_t type, const WireBuf *b, Error *e) {
        if (a->fd < 0 || __atomic_load_n(&a->exited, __ATOMIC_SEQ_CST))
                return error_set(e, ERR_APPLIANCE_FAILED, "the appliance is gone");
        int r = wire_send(a->fd, type, b);
        return r < 0 ? worker_gone(a, r, e) : 0;
}

static void forward_progress(const uint8_t *p, size_t len, const ProgressSink *progress) {
        WireReader r = {.p = p, .left = len};
        uint8_t kind = wire_get_u8(&r);
        uint64_t x = wire_get_u64(&r), y = wire_get_u64(&r);
        if (r.failed || r.left)
                return;
        if (kind == 0 && x < _PHASE_MAX)
                progress_phase(progress, (Phase) x);
        else if (kind == 1)
                progress_files(progress, x, y);
        else if (kind == 2)
                progress_bytes(progress, x, y);
}

/* Reads frames until the answer, passing progress on; an error answer
 * becomes *e. On success *ret_payload holds the answer's payload. */
int worker_await(Appliance *a, uint8_t want, const ProgressSink *progress, uint8_t **ret_payload, size_t *ret_len,
                 Error *e) {
        for (;;) {
                /* A killed appliance's worker answers at once, unless it is
                 * stuck itself: then it goes too. */
                struct pollfd pfd = {.fd = a->fd, .events = POLLIN};
                int k = poll(&pfd, 1, 1000);
                if (k < 0 && errno != EINTR)
                        return worker_gone(a, -errno, e);
                if (k <= 0) {
                        if (__atomic_load_n(&a->killed, __ATOMIC_SEQ_CST) &&
                            now_usec_monotonic() - __atomic_load_n(&a->kill_usec, __ATOMIC_SEQ_CST) >=
                                    WORKER_KILL_GRACE_USEC)
                                (void) kill(-a->worker_pid, SIGKILL);
                        continue;
                }

                uint8_t type;
                uint8_t *payload = NULL;
                size_t len = 0;
                int r = wire_recv(a->fd, WIRE_FRAME_MAX, &type, &payload, &len);
                if (r < 0)
                        return worker_gone(a, r, e);
                if (type == WK_PROGRESS) {
                        forward_progress(payload, len, progress);
                        free(payload);
                        continue;
                }
                if (type == WK_ERROR) {
                        WireReader rd = {.p = payload, .left = len};
                        uint32_t code = wire_get_u32(&rd);
                        _cleanup_free_ char *msg = wire_get_str(&rd);
                        free(payload);
                        if (rd.failed || code == ERR_OK || code >= _ERR_MAX)
                                return worker_gone(a, -EBADMSG, e);
                        return error_set(e, (ErrorCode) code, "%s", msg);
                }
                if (type != want) {
                        free(payload);
                        return worker_gone(a, -EBADMSG, e);
                }
                *ret_payload = payload;
                *ret_len = len;
                return 0;
        }
}

int worker_await_ok(Appliance *a, uint32_t *ret_value, Error *e) {
        _cleanup_free_ uint8_t *payload = NULL;
        size_t len = 0;
        if (worker_await(a, WK_OK, NULL, &payload, &len, e) < 0)
                return -1;
        WireReader r = {.p = payload, .left = len};
        uint32_t v = wire_get_u32(&r);
        if (r.failed || r.left)
                return worker_gone(a, -EBADMSG, e);
        if (ret_value)
                *ret_value = v;
        return 0;
}

/* A request answered by WK_OK, whose value goes to *ret_value. */
int worker_call_ok(Appliance *a, uint8_t type, const WireBuf *b, uint32_t *ret_value, Error *e) {
        if (worker_request(a, type, b, e) < 0)
                return -1;
        return worker_await_ok(a, ret_value, e);
}

/* A request answered by WK_DATA: a byte string. */
static int call_data(Appliance *a, uint8_t type, const WireBuf *b, char **ret, size_t *ret_len, Error *e) {
        _cleanup_free_ uint8_t *payload = NULL;
        size_t len = 0;
        if (worker_request(a, type, b, e) < 0 || worker_await(a, WK_DATA, NULL, &payload, &len, e) < 0)
                return -1;
        WireReader r = {.p = payload, .left = len};
        size_t n = 0;
        uint8_t *d = wire_get_bytes(&r, &n);
        if (!d || r.left) {
                free(d);
                return worker_gone(a, -EBADMSG, e);
        }
        *ret = (char *) d;
        *ret_len = n;
        return 0;
}

int worker_spawn(Appliance *a, char *const argv[], Error *e) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return error_set(e, ERR_APPLIANCE_FAILED, "cannot create a socket for the worker: %m");
        _cleanup_close_ int mine = sv[0], theirs = sv[1];
        /* Keep the child's end off the fd it will have, so that dup2 really
         * copies it (and so drops close-on-exec). */
        if (theirs <= WORKER_FD) {
                int moved = fcntl(theirs, F_DUPFD_CLOEXEC, WORKER_FD + 1);
                if (moved < 0)
                        return error_set(e, ERR_APPLIANCE_FAILED, "cannot prepare the worker's socket: %m");
                close(theirs);
                theirs = moved;
        }

        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        (void) sigemptyset(&none);
        (void) sigfillset(&all);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_adddup2(&fa, theirs, WORKER_FD);
        /* A process group of its own, which its qemu joins; the daemon's
         * blocked signals and handlers are not the worker's. */
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid;
        int r = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0)
                return error_set(e, ERR_APPLIANCE_FAILED, "cannot start a worker process: %s", strerror(r));
        a->worker_pid = pid;
        a->fd = TAKE_FD(mine);

        _cleanup_free_ uint8_t *payload = NULL;
        size_t len = 0;
        if (worker_await(a, WK_HELLO, NULL, &payload, &len, e) < 0)
                return -1;
        WireReader rd = {.p = payload, .left = len};
        uint32_t version = wire_get_u32(&rd);
        a->memsize_mb = wire_get_u64(&rd);
        if (rd.failed || version != WORKER_PROTOCOL)
                return worker_gone(a, -EPROTO, e);
        return 0;
}

int appliance_new(const Disk *disks, size_t n_disks, Appliance **ret, Error *e) {
        Appliance *a = calloc(1, sizeof(*a));
        if (!a)
                return error_set(e, ERR_INTERNAL, "out of memory");
        a->fd = -1;
        _cleanup_appliance_ Appliance *owned = a;

        /* A directory of our own for the drive overlays: qemu's command line
         * names it, which finds the qemu to kill before its pid is known. */
        a->tmpdir = path_join(tmpdir_base(), "virt-diffd-XXXXXX");
        if (!a->tmpdir || !mkdtemp(a->tmpdir)) {
                free(a->tmpdir);
                a->tmpdir = NULL;
                return error_set(e, ERR_APPLIANCE_FAILED, "cannot create a temporary directory: %m");
        }
        /* Each disk through an overlay of ours, every format named: see
         * overlay.h for why not libguestfs' read-only drives. */
        size_t n = 0;
        a->blocksizes = calloc(n_disks ? n_disks : 1, sizeof(uint32_t));
        if (!a->blocksizes)
                return error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < n_disks; i++) {
                char *overlay = NULL;
                a->blocksizes[i] = disks[i].blocksize;
                if (overlay_create(&disks[i], a->tmpdir, i, &overlay, e) < 0)
                        return -1;
                if (strv_push(&a->overlays, &n, overlay) < 0)
                        return error_set(e, ERR_INTERNAL, "out of memory");
        }
        char *argv[] = {(char *) "virt-diffd", (char *) "--worker", a->tmpdir, NULL};
        if (worker_spawn(a, argv, e) < 0)
                return -1;
        *ret = TAKE_PTR(owned);
        return 0;
}

uint64_t appliance_default_memsize_mb(void) {
        guestfs_h *g = guestfs_create_flags(GUESTFS_CREATE_NO_CLOSE_ON_EXIT | GUESTFS_CREATE_NO_ENVIRONMENT);
        if (!g)
                return 1280;
        guestfs_set_error_handler(g, NULL, NULL);
        int mb = guestfs_get_memsize(g);
        guestfs_close(g);
        return mb > 0 ? (uint64_t) mb : 1280;
}

static uint64_t launches;

uint64_t appliance_launch_count(void) {
        return __atomic_load_n(&launches, __ATOMIC_SEQ_CST);
}

int appliance_launch(Appliance *a, Error *e) {
        __atomic_add_fetch(&launches, 1, __ATOMIC_SEQ_CST);
        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_u8(&b, kvm_probe_get() == ACCELERATOR_TCG);
        wire_put_u8(&b, log_get_trace());
        wire_put_u32(&b, (uint32_t) strv_length(a->overlays));
        for (size_t i = 0; a->overlays && a->overlays[i]; i++) {
                wire_put_str(&b, a->overlays[i]);
                wire_put_u32(&b, a->blocksizes[i]);
        }
        uint32_t pid = 0;
        if (worker_call_ok(a, WK_LAUNCH, &b, &pid, e) < 0)
                return -1;
        __atomic_store_n(&a->qemu_pid, (pid_t) pid, __ATOMIC_SEQ_CST);
        return 0;
}

/* The WK_MANIFEST parts up to the END, each decoded into sink as it
 * comes: the daemon never holds more than one. */
static int receive_manifest(Appliance *a, const ProgressSink *progress, const ManifestSink *sink, Error *e) {
        _cleanup_manifest_decoder_ ManifestDecoder *d = manifest_decoder_new(sink);
        if (!d)
                return error_set(e, ERR_INTERNAL, "out of memory");
        for (int k = 0; k == 0;) {
                _cleanup_free_ uint8_t *payload = NULL;
                size_t len = 0;
                if (worker_await(a, WK_MANIFEST, progress, &payload, &len, e) < 0)
                        return -1;
                if (len > MANIFEST_PART_MAX)
                        return worker_gone(a, -EMSGSIZE, e);
                k = manifest_decoder_part(d, payload, len, e);
                if (k < 0)
                        return -1;
        }
        return 0;
}

int appliance_scan_stream(Appliance *a, const ProgressSink *progress, const ManifestSink *sink,
                          PackageSet **ret_packages, Error *e) {
        _cleanup_wire_buf_ WireBuf b = {};
        _cleanup_package_set_ PackageSet *ps = NULL;
        if (ret_packages)
                wire_put_u8(&b, WK_SCAN_PACKAGES);
        if (worker_request(a, WK_SCAN, ret_packages ? &b : NULL, e) < 0)
                return -1;
        if (ret_packages) {
                _cleanup_free_ uint8_t *payload = NULL;
                size_t len = 0;
                if (worker_await(a, WK_PACKAGES, progress, &payload, &len, e) < 0 ||
                    package_set_decode(payload, len, &ps, e) < 0)
                        return -1;
        }
        if (receive_manifest(a, progress, sink, e) < 0)
                return -1;
        if (ret_packages)
                *ret_packages = TAKE_PTR(ps);
        return 0;
}

int appliance_scan_packages(Appliance *a, const ProgressSink *progress, Manifest **ret, PackageSet **ret_packages,
                            Error *e) {
        _cleanup_(manifest_builder_done) ManifestBuilder builder = {};
        ManifestSink sink = manifest_builder_sink(&builder);
        if (appliance_scan_stream(a, progress, &sink, ret_packages, e) < 0)
                return -1;
        *ret = manifest_builder_take(&builder);
        return 0;
}

int appliance_scan(Appliance *a, const ProgressSink *progress, Manifest **ret, Error *e) {
        return appliance_scan_packages(a, progress, ret, NULL, e);
}

int appliance_unlock(Appliance *a, const KeyList *keys, char ***ret_locked, Error *e) {
        _cleanup_wire_buf_ WireBuf b = {};
        _cleanup_free_ char *list = NULL;
        size_t len = 0;

        wire_put_u32(&b, (uint32_t) keys->n);
        for (size_t i = 0; i < keys->n; i++) {
                wire_put_str(&b, keys->keys[i].selector);
                wire_put_bytes(&b, keys->keys[i].bytes, keys->keys[i].len);
        }
        int k = b.failed ? error_set(e, ERR_INTERNAL, "out of memory") : call_data(a, WK_UNLOCK, &b, &list, &len, e);
        explicit_bzero(b.data, b.len);
        if (k < 0)
                return -1;
        k = key_device_list_decode(list, len, ret_locked);
        if (k == -ENOMEM)
                return error_set(e, ERR_INTERNAL, "out of memory");
        return k < 0 ? worker_gone(a, k, e) : 0;
}

int appliance_mount_ro(Appliance *a, const char *device, const char *mountpoint, Error *e) {
        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_str(&b, device);
        wire_put_str(&b, mountpoint);
        return worker_call_ok(a, WK_MOUNT_RO, &b, NULL, e);
}

int appliance_umount_all(Appliance *a, Error *e) {
        return worker_call_ok(a, WK_UMOUNT_ALL, NULL, NULL, e);
}

int appliance_read_file(Appliance *a, const char *path, char **ret, size_t *ret_len, Error *e) {
        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_str(&b, path);
        return call_data(a, WK_READ_FILE, &b, ret, ret_len, e);
}

int appliance_checksum(Appliance *a, const char *algorithm, const char *path, char **ret, Error *e) {
        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_str(&b, algorithm);
        wire_put_str(&b, path);
        size_t len = 0;
        if (call_data(a, WK_CHECKSUM, &b, ret, &len, e) < 0)
                return -1;
        if (strlen(*ret) != len) {
                free(TAKE_PTR(*ret));
                return worker_gone(a, -EBADMSG, e);
        }
        return 0;
}

/* The state letter and utime + stime of the qemu, from /proc/PID/stat;
 * while it launches (its pid not reported yet), the one found by our
 * directory: a qemu stopped in the middle of its boot hangs the launch. */
static int qemu_stat(Appliance *a, char *ret_state, uint64_t *ret_ticks) {
        pid_t pid = a ? __atomic_load_n(&a->qemu_pid, __ATOMIC_SEQ_CST) : 0;
        if (pid <= 0 && a && a->tmpdir && a->worker_pid > 0 && !__atomic_load_n(&a->exited, __ATOMIC_SEQ_CST)) {
                pid_t known = __atomic_load_n(&a->launching_pid, __ATOMIC_SEQ_CST);
                pid = known > 0 && kill(known, 0) == 0 ? known : find_by_tmpdir(a->tmpdir, false);
                __atomic_store_n(&a->launching_pid, pid, __ATOMIC_SEQ_CST);
        }
        if (pid <= 0)
                return -1;
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return -1;
        buf[n] = 0;
        /* "PID (comm) S ppid ... utime stime": fields 14 and 15; the state
         * follows the last ')', as comm may hold anything. */
        const char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return -1;
        *ret_state = p[2];
        unsigned long long utime = 0, stime = 0;
        if (sscanf(p + 3, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &utime, &stime) != 2)
                return -1;
        *ret_ticks = utime + stime;
        return 0;
}

bool appliance_alive(Appliance *a) {
        char state;
        uint64_t ticks;
        return qemu_stat(a, &state, &ticks) >= 0 && state != 'Z' && state != 'X';
}

int appliance_cpu(Appliance *a, uint64_t *ret_ticks, bool *ret_stopped) {
        char state;
        if (qemu_stat(a, &state, ret_ticks) < 0 || state == 'Z' || state == 'X')
                return -1;
        *ret_stopped = state == 'T' || state == 't';
        return 0;
}

Appliance *appliance_free(Appliance *a) {
        if (!a)
                return NULL;
        /* The worker shuts its qemu down when the socket closes; read-only
         * drives, so a kill there would lose nothing either. */
        if (a->fd >= 0)
                close(TAKE_FD(a->fd));
        if (a->worker_pid > 0)
                worker_wait(a, __atomic_load_n(&a->killed, __ATOMIC_SEQ_CST) ? WORKER_KILL_GRACE_USEC
                                                                             : WORKER_EXIT_WAIT_USEC);
        /* Overlays, and whatever a killed libguestfs could not clean. */
        rm_rf(a->tmpdir);
        free(a->tmpdir);
        strv_free(a->overlays);
        free(a->blocksizes);
        free(a);
        return NULL;
}

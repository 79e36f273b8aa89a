#include "appliance.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>

#include "kvm-probe.h"
#include "log.h"
#include "overlay.h"

const char *appliance_last_error(guestfs_h *g) {
        const char *m = g ? guestfs_last_error(g) : NULL;
        return m ? m : "unknown libguestfs error";
}

static int force_tcg(guestfs_h *g) {
        _cleanup_strv_free_ char **settings = guestfs_get_backend_settings(g);
        char **l = NULL;
        size_t n = 0;

        if (!settings)
                return -1;
        for (char **s = settings; *s; s++)
                if (strv_extend(&l, &n, *s) < 0)
                        goto fail;
        if (!strv_contains(l, "force_tcg") && strv_extend(&l, &n, "force_tcg") < 0)
                goto fail;
        int r = guestfs_set_backend_settings(g, l);
        strv_free(l);
        return r;
fail:
        strv_free(l);
        return -1;
}

int appliance_new(const Disk *disks, size_t n_disks, Appliance **ret, Error *e) {
        Accelerator acc = kvm_probe_get();
        Appliance *a = calloc(1, sizeof(*a));
        if (!a)
                return error_set(e, ERR_INTERNAL, "out of memory");
        _cleanup_appliance_ Appliance *owned = a;

        a->g = guestfs_create_flags(GUESTFS_CREATE_NO_CLOSE_ON_EXIT);
        if (!a->g)
                return error_set(e, ERR_APPLIANCE_FAILED, "cannot create a libguestfs handle: %m");
        guestfs_set_error_handler(a->g, NULL, NULL);

        /* A directory of our own for the drive overlays: qemu's command line
         * names it, which finds the qemu to kill before its pid is known. */
        _cleanup_free_ char *base = guestfs_get_tmpdir(a->g);
        a->tmpdir = base ? path_join(base, "virt-diffd-XXXXXX") : NULL;
        if (!a->tmpdir || !mkdtemp(a->tmpdir)) {
                free(a->tmpdir);
                a->tmpdir = NULL;
                return error_set(e, ERR_APPLIANCE_FAILED, "cannot create a temporary directory: %m");
        }
        if (guestfs_set_tmpdir(a->g, a->tmpdir) < 0)
                return error_set(e, ERR_APPLIANCE_FAILED, "%s", appliance_last_error(a->g));
        if (log_get_trace()) {
                (void) guestfs_set_verbose(a->g, 1);
                (void) guestfs_set_trace(a->g, 1);
        }
        if (guestfs_set_backend(a->g, "direct") < 0)
                return error_set(e, ERR_APPLIANCE_FAILED, "%s", appliance_last_error(a->g));
        if (acc == ACCELERATOR_TCG && force_tcg(a->g) < 0)
                return error_set(e, ERR_APPLIANCE_FAILED, "%s", appliance_last_error(a->g));

        /* Each disk through an overlay of ours, every format named: see
         * overlay.h for why not libguestfs' read-only drives. */
        for (size_t i = 0; i < n_disks; i++) {
                _cleanup_free_ char *overlay = NULL;
                if (overlay_create(&disks[i], a->tmpdir, i, &overlay, e) < 0)
                        return -1;
                if (guestfs_add_drive_opts(a->g, overlay, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1) < 0)
                        return error_set(e, ERR_INVALID_IMAGE, "%s: %s", disks[i].path,
                                         appliance_last_error(a->g));
        }

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

/* The state letter and utime + stime of the qemu, from /proc/PID/stat. */
static int qemu_stat(Appliance *a, char *ret_state, uint64_t *ret_ticks) {
        pid_t pid = a ? __atomic_load_n(&a->qemu_pid, __ATOMIC_SEQ_CST) : 0;
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

static uint64_t launches;

uint64_t appliance_launch_count(void) {
        return __atomic_load_n(&launches, __ATOMIC_SEQ_CST);
}

int appliance_launch(Appliance *a, Error *e) {
        __atomic_add_fetch(&launches, 1, __ATOMIC_SEQ_CST);
        if (guestfs_launch(a->g) < 0)
                return error_set(e, ERR_APPLIANCE_FAILED, "appliance failed to start: %s",
                                 appliance_last_error(a->g));
        int pid = guestfs_get_pid(a->g);
        __atomic_store_n(&a->qemu_pid, pid > 0 ? pid : 0, __ATOMIC_SEQ_CST);
        return 0;
}

/* Kills every qemu whose command line names our private directory. */
static void kill_by_tmpdir(const char *tmpdir) {
        DIR *d = opendir("/proc");
        if (!d)
                return;
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
                if (memmem(buf, (size_t) n, tmpdir, tl))
                        (void) kill((pid_t) atoi(de->d_name), SIGKILL);
        }
        closedir(d);
}

void appliance_kill(Appliance *a) {
        if (!a)
                return;
        __atomic_store_n(&a->killed, true, __ATOMIC_SEQ_CST);
        pid_t pid = __atomic_load_n(&a->qemu_pid, __ATOMIC_SEQ_CST);
        if (pid > 0)
                (void) kill(pid, SIGKILL);
        else if (a->tmpdir)
                kill_by_tmpdir(a->tmpdir);
}

Appliance *appliance_free(Appliance *a) {
        if (!a)
                return NULL;
        if (a->g) {
                /* Shutdown waits for qemu to sync and exit; read-only, so a
                 * failure here loses nothing. */
                if (!__atomic_load_n(&a->killed, __ATOMIC_SEQ_CST))
                        (void) guestfs_shutdown(a->g);
                guestfs_close(a->g);
        }
        if (a->tmpdir) {
                overlay_remove_all(a->tmpdir);
                (void) rmdir(a->tmpdir);
                free(a->tmpdir);
        }
        free(a);
        return NULL;
}

#include "worker/worker.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/errors.h"
#include "common/log.h"
#include "common/wire.h"
#include "packages/packages-wire.h"
#include "worker/protocol.h"
#include "worker/scanner.h"
#include "worker/worker-link.h"
#include "worker/worker-watch.h"

typedef struct Worker {
        WorkerLink link;
        const char *tmpdir;
        guestfs_h *g;
        bool launched;
        Luks luks; /* encrypted volumes, once keys came */
        bool keys; /* some came: the scan reports locked volumes by them */
} Worker;

static void reply_ok(Worker *w, uint32_t value) {
        worker_reply_ok(&w->link, value);
}

static void reply_error(Worker *w, const Error *e) {
        worker_reply_error(&w->link, e);
}

static void reply_guest_error(Worker *w, ErrorCode code, const char *what) {
        Error e = {};
        error_set(&e, code, "%s%s%s", strempty(what), what ? ": " : "", guest_error(w->g));
        reply_error(w, &e);
}

static int force_tcg(guestfs_h *g) {
        _cleanup_strv_free_ char **settings = guestfs_get_backend_settings(g);
        if (!settings)
                return -1;
        if (strv_contains(settings, "force_tcg"))
                return 0;
        size_t n = strv_length(settings);
        _cleanup_free_ char **l = calloc(n + 2, sizeof(char *));
        if (!l)
                return -1;
        memcpy(l, settings, n * sizeof(char *));
        l[n] = (char *) "force_tcg";
        return guestfs_set_backend_settings(g, l);
}

static void do_launch(Worker *w, WireReader *r) {
        bool tcg = wire_get_u8(r), trace = wire_get_u8(r);
        uint32_t n = wire_get_count(r, 8);
        _cleanup_strv_free_ char **overlays = calloc((size_t) n + 1, sizeof(char *));
        _cleanup_free_ uint32_t *blocksizes = calloc((size_t) n + 1, sizeof(uint32_t));
        Error e = {};

        for (uint32_t i = 0; overlays && blocksizes && i < n; i++) {
                overlays[i] = wire_get_str(r);
                blocksizes[i] = wire_get_u32(r);
        }
        if (!overlays || !blocksizes || r->failed || w->launched) {
                error_set(&e, ERR_INTERNAL, "bad launch request");
                return reply_error(w, &e);
        }
        if (trace) {
                (void) guestfs_set_verbose(w->g, 1);
                (void) guestfs_set_trace(w->g, 1);
        }
        if (guestfs_set_backend(w->g, "direct") < 0 ||
            (tcg && force_tcg(w->g) < 0))
                return reply_guest_error(w, ERR_APPLIANCE_FAILED, "cannot set up the appliance");
        for (uint32_t i = 0; i < n; i++) {
                int k = blocksizes[i]
                                ? guestfs_add_drive_opts(w->g, overlays[i], GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2",
                                                         GUESTFS_ADD_DRIVE_OPTS_BLOCKSIZE, (int) blocksizes[i], -1)
                                : guestfs_add_drive_opts(w->g, overlays[i], GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1);
                if (k < 0)
                        return reply_guest_error(w, ERR_INVALID_IMAGE, NULL);
        }
        /* Whatever happens next, the handle is no longer blank. */
        w->launched = true;
        if (guestfs_launch(w->g) < 0)
                return reply_guest_error(w, ERR_APPLIANCE_FAILED, "appliance failed to start");
        int pid = guestfs_get_pid(w->g);
        reply_ok(w, pid > 0 ? (uint32_t) pid : 0);
}

static void do_scan(Worker *w, WireReader *r) {
        ProgressSink sink = worker_progress_sink(&w->link);
        _cleanup_manifest_ Manifest *m = NULL;
        _cleanup_package_set_ PackageSet *ps = NULL;
        Error e = {};

        /* An empty request is a plain scan (protocol 1 daemons send it). */
        uint8_t flags = r->left ? wire_get_u8(r) : 0;
        if (r->failed || (flags & ~WK_SCAN_PACKAGES)) {
                error_set(&e, ERR_INTERNAL, "bad scan request");
                return reply_error(w, &e);
        }
        ScanOptions opts = {.packages = flags & WK_SCAN_PACKAGES, .tmpdir = w->tmpdir,
                            .luks = w->keys ? &w->luks : NULL};
        if (!opts.packages) {
                /* Part by part as the walk makes them: the worker never
                 * holds a whole manifest. A failure after some parts went:
                 * the error ends the answer. */
                ManifestEncoder enc;
                ManifestSink ms = worker_manifest_sink(&w->link, &enc);
                if (scanner_scan_stream(w->g, &opts, &sink, &ms, &e) < 0 && w->link.send_error == 0)
                        reply_error(w, &e);
                manifest_encoder_done(&enc);
                return;
        }
        if (scanner_scan(w->g, &opts, &sink, &m, &ps, &e) < 0)
                return reply_error(w, &e);
        if (ps) {
                _cleanup_wire_buf_ WireBuf pb = {};
                package_set_encode(ps, &pb);
                if (pb.failed) {
                        error_set(&e, ERR_INTERNAL, "out of memory encoding the package list");
                        return reply_error(w, &e);
                }
                worker_send(&w->link, WK_PACKAGES, &pb);
        }
        worker_reply_manifest(&w->link, m);
}

/* Keys for encrypted volumes: each tried on the locked volumes its
 * selector names. Answers with the devices still locked, NUL-separated. */
static void do_unlock(Worker *w, WireReader *r) {
        KeyList keys = {};
        uint32_t n = wire_get_count(r, 8);
        Error e = {};

        for (uint32_t i = 0; i < n && !r->failed; i++) {
                _cleanup_free_ char *selector = wire_get_str(r);
                size_t len = 0;
                uint8_t *bytes = wire_get_bytes(r, &len);
                if (selector && bytes && key_list_add(&keys, selector, bytes, len) < 0)
                        r->failed = true;
                if (bytes)
                        explicit_bzero(bytes, len);
                free(bytes);
        }
        if (r->failed || r->left) {
                key_list_done(&keys);
                error_set(&e, ERR_INTERNAL, "bad unlock request");
                return reply_error(w, &e);
        }
        w->keys = true;
        int k = luks_unlock(w->g, &w->luks, &keys, &e);
        key_list_done(&keys);
        if (k < 0)
                return reply_error(w, &e);
        _cleanup_strv_free_ char **locked = luks_locked(&w->luks);
        _cleanup_free_ char *list = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&list, &len);
        STRV_FOREACH(d, locked)
                fwrite(*d, 1, strlen(*d) + 1, f ? f : stderr);
        if (!locked || !f || fclose(f) != 0) {
                error_set(&e, ERR_INTERNAL, "out of memory");
                return reply_error(w, &e);
        }
        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_bytes(&b, list, len);
        worker_send(&w->link, WK_DATA, &b);
}

static void do_read_file(Worker *w, WireReader *r) {
        _cleanup_free_ char *path = wire_get_str(r);
        if (!path || r->failed)
                return worker_reply_bad_request(&w->link, "read");
        size_t len = 0;
        _cleanup_free_ char *data = guestfs_read_file(w->g, path, &len);
        if (!data)
                return reply_guest_error(w, ERR_SCAN_FAILED, NULL);
        worker_reply_data(&w->link, data, len);
}

static void do_checksum(Worker *w, WireReader *r) {
        _cleanup_free_ char *alg = wire_get_str(r), *path = wire_get_str(r);
        if (!alg || !path || r->failed)
                return worker_reply_bad_request(&w->link, "checksum");
        _cleanup_free_ char *v = guestfs_checksum(w->g, alg, path);
        if (!v)
                return reply_guest_error(w, ERR_SCAN_FAILED, NULL);
        worker_reply_data(&w->link, v, strlen(v));
}

static void do_mount_ro(Worker *w, WireReader *r) {
        _cleanup_free_ char *device = wire_get_str(r), *mountpoint = wire_get_str(r);
        if (!device || !mountpoint || r->failed)
                return worker_reply_bad_request(&w->link, "mount");
        if (guestfs_mount_ro(w->g, device, mountpoint) < 0)
                return reply_guest_error(w, ERR_SCAN_FAILED, NULL);
        reply_ok(w, 0);
}

static void handle(void *userdata, uint8_t type, WireReader *r) {
        Worker *w = userdata;
        Error e = {};

        if (type != WK_LAUNCH && !w->launched) {
                error_set(&e, ERR_INTERNAL, "the appliance is not launched");
                return reply_error(w, &e);
        }
        switch (type) {
        case WK_LAUNCH:
                return do_launch(w, r);
        case WK_SCAN:
                return do_scan(w, r);
        case WK_UNLOCK:
                return do_unlock(w, r);
        case WK_MOUNT_RO:
                return do_mount_ro(w, r);
        case WK_UMOUNT_ALL:
                if (guestfs_umount_all(w->g) < 0)
                        return reply_guest_error(w, ERR_APPLIANCE_FAILED, NULL);
                return reply_ok(w, 0);
        case WK_READ_FILE:
                return do_read_file(w, r);
        case WK_CHECKSUM:
                return do_checksum(w, r);
        default:
                error_set(&e, ERR_INTERNAL, "unknown request %u", type);
                return reply_error(w, &e);
        }
}

int worker_main(int fd, const char *tmpdir) {
        Worker w = {.link = {.fd = fd}, .tmpdir = tmpdir};

        (void) prctl(PR_SET_NAME, WORKER_COMM);
        /* A crash here holds guest data in memory: no core file of it. */
        (void) setrlimit(RLIMIT_CORE, &(struct rlimit) {0, 0});
        (void) signal(SIGPIPE, SIG_IGN);

        /* libguestfs' sockets go where its temporary files go (it reads
         * this when the handle is created; as root it uses /tmp). */
        if (setenv("XDG_RUNTIME_DIR", tmpdir, 1) < 0)
                return 1;
        w.g = guestfs_create_flags(GUESTFS_CREATE_NO_CLOSE_ON_EXIT);
        if (!w.g) {
                log_error("worker: cannot create a libguestfs handle: %m");
                return 1;
        }
        guestfs_set_error_handler(w.g, NULL, NULL);
        if (guestfs_set_tmpdir(w.g, tmpdir) < 0) {
                log_error("worker: %s", guest_error(w.g));
                return 1;
        }

        /* qemu's own temporary files (the appliance's snapshot=on overlay,
         * vl.XXXXXX, unlinked only when qemu closes it) go into our
         * directory too, which goes when we do, however qemu ends. Set after
         * the handle read its environment (its cache stays where it is). */
        if (setenv("TMPDIR", tmpdir, 1) < 0)
                return 1;

        /* A daemon killed mid-call takes this worker and its qemu along. */
        int k = worker_watch_daemon(fd, tmpdir);
        if (k < 0)
                log_error("worker: cannot watch the daemon: %s", strerror(-k));

        int mb = guestfs_get_memsize(w.g);
        worker_send_hello(&w.link, mb > 0 ? (uint64_t) mb : 0);
        worker_serve(&w.link, handle, &w);

        /* Read-only drives: a shutdown only waits for qemu to go. */
        if (w.launched)
                (void) guestfs_shutdown(w.g);
        guestfs_close(w.g);
        luks_done(&w.luks);
        return 0;
}

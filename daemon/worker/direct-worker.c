#include "worker/direct-worker.h"

#include <signal.h>
#include <sys/prctl.h>

#include "common/input-limits.h"
#include "common/log.h"
#include "direct/content-sum.h"
#include "direct/direct.h"
#include "direct/sandbox.h"
#include "worker/worker-link.h"
#include "worker/protocol.h"

/* guestfs_read_file() refuses larger files; so does this. */
#define READ_FILE_MAX (64U << 20)

typedef struct DirectWorker {
        WorkerLink link;
        int sandbox_flags;
        DirectSide *side;
        char **mountpoints; /* kept for the side's mounts */
        size_t n_mountpoints;
} DirectWorker;

static void reply_error(DirectWorker *w, const Error *e) {
        worker_reply_error(&w->link, e);
}

static void do_open(DirectWorker *w, WireReader *r) {
        uint32_t n = wire_get_u32(r);
        uint8_t kinds[MAX_DISKS_PER_SIDE];
        uint64_t sizes[MAX_DISKS_PER_SIDE];
        int fds[MAX_DISKS_PER_SIDE];
        Error e = {};

        if (r->failed || n == 0 || n > MAX_DISKS_PER_SIDE)
                return worker_reply_bad_request(&w->link, "open");
        /* The fds follow the frame whatever else it says. */
        int k = wire_recv_fds(w->link.fd, fds, n);
        if (k < 0) {
                error_set(&e, ERR_INTERNAL, "cannot receive the disks: %s", strerror(-k));
                return reply_error(w, &e);
        }
        for (uint32_t i = 0; i < n; i++) {
                kinds[i] = wire_get_u8(r);
                sizes[i] = wire_get_u64(r);
        }
        if (r->failed || r->left || w->side) {
                for (uint32_t i = 0; i < n; i++)
                        (void) close(fds[i]);
                return worker_reply_bad_request(&w->link, "open");
        }
        ImageReader *readers[MAX_DISKS_PER_SIDE];
        for (uint32_t i = 0; i < n; i++) {
                k = kinds[i] == DIRECT_DISK_NBD ? image_reader_new_nbd_socket(fds[i], sizes[i], &readers[i])
                                                : image_reader_new_fd(fds[i], &readers[i]);
                if (k < 0) {
                        for (uint32_t j = 0; j < i; j++)
                                image_reader_free(readers[j]);
                        for (uint32_t j = i + 1; j < n; j++)
                                (void) close(fds[j]);
                        error_set(&e, ERR_DIRECT_UNSUPPORTED, "disk %u: cannot read it: %s", i, strerror(-k));
                        return reply_error(w, &e);
                }
        }
        if (direct_side_open(readers, n, &w->side, &e) < 0)
                return reply_error(w, &e);
        worker_reply_ok(&w->link, (uint32_t) w->sandbox_flags);
}

/* The manifest goes to the daemon part by part as the walk makes it: the
 * worker never holds a whole one. */
static void do_scan(DirectWorker *w, WireReader *r) {
        ProgressSink progress = worker_progress_sink(&w->link);
        Error e = {};
        /* Package databases are the appliance's (the job never asks). */
        uint8_t flags = r->left ? wire_get_u8(r) : 0;
        if (r->failed || flags != 0) {
                error_set(&e, ERR_DIRECT_UNSUPPORTED, "the direct engine does not read package databases");
                return reply_error(w, &e);
        }
        ManifestEncoder enc;
        ManifestSink sink = worker_manifest_sink(&w->link, &enc);
        /* A failure after some parts went: the error ends the answer. */
        if (direct_side_scan_stream(w->side, &progress, &sink, &e) < 0 && w->link.send_error == 0)
                reply_error(w, &e);
        manifest_encoder_done(&enc);
}

static void umount_all(DirectWorker *w) {
        direct_side_umount_all(w->side);
        for (size_t i = 0; i < w->n_mountpoints; i++)
                free(w->mountpoints[i]);
        free(w->mountpoints);
        w->mountpoints = NULL;
        w->n_mountpoints = 0;
}

static void do_mount_ro(DirectWorker *w, WireReader *r) {
        _cleanup_free_ char *device = wire_get_str(r), *mountpoint = wire_get_str(r);
        Error e = {};
        if (!device || !mountpoint || r->failed)
                return worker_reply_bad_request(&w->link, "mount");
        char **n = realloc(w->mountpoints, (w->n_mountpoints + 1) * sizeof(char *));
        if (!n) {
                error_set(&e, ERR_INTERNAL, "out of memory");
                return reply_error(w, &e);
        }
        w->mountpoints = n;
        if (direct_side_mount(w->side, device, mountpoint, &e) < 0)
                return reply_error(w, &e);
        w->mountpoints[w->n_mountpoints++] = TAKE_PTR(mountpoint);
        worker_reply_ok(&w->link, 0);
}

typedef struct Growing {
        char *data;
        size_t len, cap;
} Growing;

static int grow_sink(void *userdata, const void *data, size_t len) {
        Growing *g = userdata;
        if (len > READ_FILE_MAX - g->len)
                return -EFBIG;
        if (g->len + len > g->cap) {
                size_t ncap = g->cap ? g->cap : 65536;
                while (ncap < g->len + len)
                        ncap *= 2;
                char *n = realloc(g->data, ncap);
                if (!n)
                        return -ENOMEM;
                g->data = n;
                g->cap = ncap;
        }
        memcpy(g->data + g->len, data, len);
        g->len += len;
        return 0;
}

static void do_read_file(DirectWorker *w, WireReader *r) {
        _cleanup_free_ char *path = wire_get_str(r);
        Growing g = {};
        Error e = {};
        if (!path || r->failed)
                return worker_reply_bad_request(&w->link, "read");
        int k = direct_side_read(w->side, path, grow_sink, &g, &e);
        if (k < 0 && !e.code)
                error_set(&e, ERR_SCAN_FAILED, "%s: %s", path, strerror(-k));
        if (k < 0)
                reply_error(w, &e);
        else
                worker_reply_data(&w->link, g.data ? g.data : "", g.len);
        free(g.data);
}

static void do_checksum(DirectWorker *w, WireReader *r) {
        _cleanup_free_ char *alg = wire_get_str(r), *path = wire_get_str(r);
        ContentSum *sum = NULL;
        Error e = {};
        if (!alg || !path || r->failed)
                return worker_reply_bad_request(&w->link, "checksum");
        if (content_sum_new(alg, &sum) < 0) {
                error_set(&e, ERR_SCAN_FAILED, "unknown checksum type %s", alg);
                return reply_error(w, &e);
        }
        int k = direct_side_read(w->side, path, content_sum_update, sum, &e);
        if (k < 0) {
                content_sum_free(sum);
                if (!e.code)
                        error_set(&e, ERR_SCAN_FAILED, "%s: %s", path, strerror(-k));
                return reply_error(w, &e);
        }
        _cleanup_free_ char *v = content_sum_finish(sum);
        if (!v) {
                error_set(&e, ERR_INTERNAL, "out of memory");
                return reply_error(w, &e);
        }
        worker_reply_data(&w->link, v, strlen(v));
}

static void handle(void *userdata, uint8_t type, WireReader *r) {
        DirectWorker *w = userdata;
        Error e = {};

        if (type != WK_DIRECT_OPEN && !w->side) {
                error_set(&e, ERR_INTERNAL, "no disks are open");
                return reply_error(w, &e);
        }
        switch (type) {
        case WK_DIRECT_OPEN:
                return do_open(w, r);
        case WK_SCAN:
                return do_scan(w, r);
        case WK_MOUNT_RO:
                return do_mount_ro(w, r);
        case WK_UMOUNT_ALL:
                umount_all(w);
                return worker_reply_ok(&w->link, 0);
        case WK_READ_FILE:
                return do_read_file(w, r);
        case WK_CHECKSUM:
                return do_checksum(w, r);
        default:
                error_set(&e, ERR_INTERNAL, "unknown request %u", type);
                return reply_error(w, &e);
        }
}

int direct_worker_main(int fd) {
        DirectWorker w = {.link = {.fd = fd}};
        Error e = {};

        (void) prctl(PR_SET_NAME, DIRECT_WORKER_COMM);
        (void) signal(SIGPIPE, SIG_IGN);
        w.sandbox_flags = sandbox_enter(fd, &e);
        if (w.sandbox_flags < 0) {
                /* Said instead of hello: the daemon reports it. */
                reply_error(&w, &e);
                return 1;
        }
        worker_send_hello(&w.link, 0);
        worker_serve(&w.link, handle, &w);
        if (w.side)
                umount_all(&w);
        direct_side_free(w.side);
        return 0;
}

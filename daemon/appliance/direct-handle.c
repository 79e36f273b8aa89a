/* The daemon's side of the direct engine's worker: the disks as fds. */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "appliance/appliance-internal.h"
#include "common/input-limits.h"
#include "source/nbd.h"
#include "worker/direct-worker.h"
#include "worker/protocol.h"

static int connect_unix(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* A disk as the worker reads it: the image itself, read-only, or a socket
 * connected to its export. */
static int disk_fd(const Disk *d, uint8_t *ret_kind, uint64_t *ret_size, Error *e) {
        int fd;
        if (nbd_direct_reads_in_place(d)) {
                fd = open(d->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return error_set(e, ERR_NO_SUCH_FILE, "%s: %m", d->path);
                *ret_kind = DIRECT_DISK_FD;
                *ret_size = 0;
                return fd;
        }
        if (!d->nbd)
                return error_set(e, ERR_INTERNAL, "%s: not served for the direct engine", d->path);
        fd = connect_unix(d->nbd->socket);
        if (fd < 0)
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot reach its qemu-nbd: %s", d->path, strerror(-fd));
        *ret_kind = DIRECT_DISK_NBD;
        /* A snapshot's export is the live image's size; the guest saw the
         * snapshot's. */
        *ret_size = d->snapshot ? d->virtual_size : 0;
        return fd;
}

int appliance_new_direct(const Disk *disks, size_t n_disks, Appliance **ret, Error *e) {
        int fds[MAX_DISKS_PER_SIDE];
        size_t n_fds = 0;
        int r = -1;

        if (n_disks == 0 || n_disks > MAX_DISKS_PER_SIDE)
                return error_set(e, ERR_INVALID_ARGS, "%zu disks", n_disks);
        Appliance *a = calloc(1, sizeof(*a));
        if (!a)
                return error_set(e, ERR_INTERNAL, "out of memory");
        a->fd = -1;
        a->direct = true;
        _cleanup_appliance_ Appliance *owned = a;

        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_u32(&b, (uint32_t) n_disks);
        for (; n_fds < n_disks; n_fds++) {
                uint8_t kind = 0;
                uint64_t size = 0;
                int fd = disk_fd(&disks[n_fds], &kind, &size, e);
                if (fd < 0)
                        goto out;
                fds[n_fds] = fd;
                wire_put_u8(&b, kind);
                wire_put_u64(&b, size);
        }
        char *argv[] = {(char *) "virt-diffd", (char *) "--direct-worker", NULL};
        if (worker_spawn(a, argv, e) < 0 || worker_request(a, WK_DIRECT_OPEN, &b, e) < 0)
                goto out;
        int k = wire_send_fds(a->fd, fds, n_fds);
        if (k < 0) {
                worker_gone(a, k, e);
                goto out;
        }
        uint32_t flags = 0;
        if (worker_await_ok(a, &flags, e) < 0)
                goto out;
        a->sandbox = (int) flags;
        *ret = TAKE_PTR(owned);
        r = 0;
out:
        for (size_t i = 0; i < n_fds; i++)
                (void) close(fds[i]);
        return r;
}

#include "direct/image-reader.h"

#include <libnbd.h>

/* qemu-nbd answers reads of up to 32 MiB; smaller requests keep the
 * worker's buffers small and let the server stream. */
#define NBD_REQUEST_MAX (4U << 20)

typedef struct NbdReader {
        ImageReader base;
        struct nbd_handle *h;
} NbdReader;

static int nbd_errno(void) {
        int e = nbd_get_errno();
        return e > 0 ? -e : -EIO;
}

static int nbd_reader_pread(ImageReader *r, void *buf, size_t len, uint64_t offset) {
        NbdReader *n = (NbdReader *) r;
        if (offset > r->size || len > r->size - offset)
                return -EIO;
        for (size_t done = 0; done < len;) {
                size_t l = len - done < NBD_REQUEST_MAX ? len - done : NBD_REQUEST_MAX;
                if (nbd_pread(n->h, (char *) buf + done, l, offset + done, 0) < 0)
                        return nbd_errno();
                done += l;
        }
        return 0;
}

static void nbd_reader_free(ImageReader *r) {
        NbdReader *n = (NbdReader *) r;
        if (n->h)
                nbd_close(n->h);
}

static const ImageReaderOps nbd_ops = {
        .name = "nbd",
        .pread = nbd_reader_pread,
        .free = nbd_reader_free,
};

typedef int (*ConnectFn)(struct nbd_handle *h, void *how);

/* libnbd owns the socket once connected; before that, it is ours. */
typedef struct SocketHandOver {
        int sock;
        bool taken;
} SocketHandOver;

static int connect_socket(struct nbd_handle *h, void *how) {
        SocketHandOver *s = how;
        if (nbd_connect_socket(h, s->sock) < 0)
                return -1;
        s->taken = true;
        return 0;
}

static int connect_unix(struct nbd_handle *h, void *how) {
        return nbd_connect_unix(h, how);
}

static int reader_new(ConnectFn connect, void *how, uint64_t size, ImageReader **ret) {
        NbdReader *n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->base.ops = &nbd_ops;
        n->base.fd = -1;
        _cleanup_image_reader_ ImageReader *r = &n->base;

        n->h = nbd_create();
        if (!n->h)
                return nbd_errno();
        if (connect(n->h, how) < 0)
                return nbd_errno();
        int64_t s = nbd_get_size(n->h);
        if (s < 0)
                return nbd_errno();
        r->size = size > 0 && size < (uint64_t) s ? size : (uint64_t) s;
        *ret = TAKE_PTR(r);
        return 0;
}

int image_reader_new_nbd_socket(int sock, uint64_t size, ImageReader **ret) {
        SocketHandOver s = {.sock = sock};
        int r = reader_new(connect_socket, &s, size, ret);
        if (!s.taken)
                (void) close(sock);
        return r;
}

int image_reader_new_nbd_unix(const char *path, uint64_t size, ImageReader **ret) {
        return reader_new(connect_unix, (void *) path, size, ret);
}

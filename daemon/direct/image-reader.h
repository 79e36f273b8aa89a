/* The bytes of one disk as the guest sees them, for the direct engine. One
 * small ops table, one file per backend (as nbdcopy's rw_ops):
 *   image-reader-fd.c   a raw image or block device, read in place (pread)
 *   image-reader-nbd.c  anything else (qcow2, backing chains, internal
 *                       snapshots, passed fds) through the qemu-nbd export
 *                       the daemon already runs, read with libnbd
 * Readers only read: nothing here writes to an image or opens a path; the
 * worker is handed fds and connected sockets. */
#pragma once

#include "common/util.h"

typedef struct ImageReader ImageReader;

typedef struct ImageReaderOps {
        const char *name;
        /* Exactly len bytes at offset, or a negative errno (-EIO past the
         * end). */
        int (*pread)(ImageReader *r, void *buf, size_t len, uint64_t offset);
        void (*free)(ImageReader *r);
} ImageReaderOps;

struct ImageReader {
        const ImageReaderOps *ops;
        uint64_t size; /* the disk's virtual size in bytes */
        int fd;        /* a file holding the disk's bytes at their offsets, or -1 */
};

/* Takes fd (a raw image or a block device open for reading). */
int image_reader_new_fd(int fd, ImageReader **ret);
/* Takes sock, a stream socket already connected to an NBD server's export
 * (the daemon connects; the sandboxed worker never does). A size other than
 * 0 cuts the disk short of the export's (an internal snapshot smaller than
 * the live image). */
int image_reader_new_nbd_socket(int sock, uint64_t size, ImageReader **ret);
/* Connects to an NBD server's Unix socket (tools and tests). */
int image_reader_new_nbd_unix(const char *path, uint64_t size, ImageReader **ret);

int image_reader_pread(ImageReader *r, void *buf, size_t len, uint64_t offset);
ImageReader *image_reader_free(ImageReader *r);
static inline void image_reader_freep(ImageReader **r) {
        image_reader_free(*r);
}
#define _cleanup_image_reader_ _cleanup_(image_reader_freep)

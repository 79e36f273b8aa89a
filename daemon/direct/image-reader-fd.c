#include "direct/image-reader.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

static int fd_pread(ImageReader *r, void *buf, size_t len, uint64_t offset) {
        if (offset > r->size || len > r->size - offset)
                return -EIO;
        for (size_t done = 0; done < len;) {
                ssize_t n = pread(r->fd, (char *) buf + done, len - done, (off_t) (offset + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO; /* the file shrank under us */
                done += (size_t) n;
        }
        return 0;
}

static void fd_free(ImageReader *r) {
        if (r->fd >= 0)
                (void) close(r->fd);
}

static const ImageReaderOps fd_ops = {
        .name = "fd",
        .pread = fd_pread,
        .free = fd_free,
};

int image_reader_new_fd(int fd, ImageReader **ret) {
        _cleanup_close_ int owned = fd;
        struct stat st;
        uint64_t size;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                        return -errno;
        } else if (S_ISREG(st.st_mode))
                size = (uint64_t) st.st_size;
        else
                return -EBADFD;

        ImageReader *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->ops = &fd_ops;
        r->size = size;
        r->fd = TAKE_FD(owned);
        *ret = r;
        return 0;
}

int image_reader_pread(ImageReader *r, void *buf, size_t len, uint64_t offset) {
        return r->ops->pread(r, buf, len, offset);
}

ImageReader *image_reader_free(ImageReader *r) {
        if (!r)
                return NULL;
        r->ops->free(r);
        free(r);
        return NULL;
}

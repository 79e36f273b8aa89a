#include "source/disk-fd.h"

#include <fcntl.h>
#include <sys/stat.h>

int disk_fd_check(int fd, Error *e) {
        struct stat st;
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return error_set(e, ERR_INVALID_ARGS, "disk fd: not an open file descriptor: %m");
        /* Reopening through /proc would read what the caller could not. */
        if ((flags & O_PATH) || (flags & O_ACCMODE) == O_WRONLY)
                return error_set(e, ERR_INVALID_ARGS, "disk fd: not open for reading");
        if (fstat(fd, &st) < 0)
                return error_set(e, ERR_INVALID_IMAGE, "disk fd: cannot stat: %m");
        if (S_ISDIR(st.st_mode))
                return error_set(e, ERR_INVALID_IMAGE, "disk fd: a directory, not a disk image");
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return error_set(e, ERR_INVALID_IMAGE, "disk fd: not a regular file or block device");
        return 0;
}

int disk_set_fd(Disk *d, int fd) {
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return -errno;
        char *path;
        if (asprintf(&path, "/proc/%d/fd/%d", (int) getpid(), copy) < 0) {
                (void) close(copy);
                return -ENOMEM;
        }
        free(d->path);
        d->path = path;
        d->by_fd = true;
        d->fd = copy;
        return 0;
}

/* Big-endian 64-bit, as qcow2 headers store their offsets. */
static uint64_t be64(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

#define QCOW2_BACKING_FILE_OFFSET 8

int disk_fd_validate(const Disk *d, const uint8_t *magic, size_t len, Error *e) {
        if (strcmp(d->format, "raw") != 0 && strcmp(d->format, "qcow2") != 0)
                return error_set(e, ERR_UNSUPPORTED_FORMAT,
                                 "disk fd: format '%s' may name other files; by fd only raw and qcow2 are read",
                                 d->format);
        if (strcmp(d->format, "qcow2") != 0)
                return 0;
        /* Before qemu-img opens it: a backing file would be opened as root. */
        if (len < QCOW2_BACKING_FILE_OFFSET + 8)
                return error_set(e, ERR_TRUNCATED_IMAGE, "disk fd: truncated qcow2 header");
        if (be64(magic + QCOW2_BACKING_FILE_OFFSET) != 0)
                return error_set(e, ERR_INVALID_IMAGE,
                                 "disk fd: the qcow2 image has a backing file, which the caller did not pass; "
                                 "pass the image by path, or a flattened copy");
        return 0;
}

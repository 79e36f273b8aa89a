#include "packages/db-files.h"

#include <fcntl.h>
#include <sys/stat.h>

/* Opens each component with O_NOFOLLOW below the root. */
static int open_below(int root_fd, const char *relpath) {
        _cleanup_free_ char *copy = strdup(relpath);
        if (!copy)
                return -ENOMEM;
        int dir = root_fd;
        _cleanup_close_ int owned = -1;
        char *s = copy, *slash;
        while ((slash = strchr(s, '/'))) {
                *slash = 0;
                if (!*s || strcmp(s, "..") == 0 || strcmp(s, ".") == 0)
                        return -EINVAL;
                int fd = openat(dir, s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                closep(&owned);
                owned = fd;
                dir = fd;
                s = slash + 1;
        }
        if (!*s || strcmp(s, "..") == 0)
                return -EINVAL;
        int fd = openat(dir, s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        return fd < 0 ? -errno : fd;
}

int db_file_read(int root_fd, const char *relpath, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open_below(root_fd, relpath);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        size_t len = (size_t) st.st_size, got = 0;
        _cleanup_free_ char *buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        while (got < len) {
                ssize_t n = read(fd, buf + got, len - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        buf[got] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = got;
        return 0;
}

bool db_file_exists(int root_fd, const char *relpath) {
        struct stat st;
        return fstatat(root_fd, relpath, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

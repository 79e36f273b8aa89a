#include "side.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common/errors.h"

static int open_error(const char *path, int k, const char *other, sd_bus_error *err) {
        return sd_bus_error_setf(err,
                                 k == ENOENT || k == ENOTDIR ? VD_ERROR_PREFIX "NoSuchFile"
                                 : k == EACCES || k == EPERM ? VD_ERROR_PREFIX "AccessDenied"
                                                             : other,
                                 "%s: cannot open: %s", path, strerror(k));
}

/* --pass-fds: the image opened here, with our rights; the message keeps
 * its own copy of the fd. */
static int append_fd(sd_bus_message *m, const char *path, sd_bus_error *err) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return open_error(path, errno, VD_ERROR_PREFIX "InvalidImage", err);
        return sd_bus_message_append(m, "{sv}", "fd", "h", fd);
}

/* What cannot be passed as it is (a pipe, standard input) is copied into
 * an anonymous file first: the daemon reads only regular files. */
static int copy_to_memfd(int in, int *ret) {
        _cleanup_close_ int fd = memfd_create("virt-diff-manifest", MFD_CLOEXEC);
        char buf[65536];

        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(in, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(fd, buf + done, (size_t) (n - done));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return -errno;
                        done += w;
                }
        }
        *ret = TAKE_FD(fd);
        return 0;
}

/* An exported manifest, opened here ("-": standard input). */
static int append_manifest(sd_bus_message *m, const char *path, sd_bus_error *err) {
        bool in = strcmp(path, "-") == 0;
        _cleanup_close_ int fd = in ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;

        if (fd < 0)
                return open_error(in ? "standard input" : path, errno, VD_ERROR_PREFIX "InvalidManifest", err);
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode)) {
                int copy = -1, r = copy_to_memfd(fd, &copy);
                if (r < 0)
                        return sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidManifest", "%s: cannot read: %s",
                                                 in ? "standard input" : path, strerror(-r));
                closep(&fd);
                fd = copy;
        }
        return sd_bus_message_append(m, "{sv}", "manifest", "h", fd);
}

int side_append(sd_bus_message *m, const ClientDisk *disks, size_t n, bool pass_fds, sd_bus_error *err) {
        int r = sd_bus_message_open_container(m, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = sd_bus_message_open_container(m, 'a', "{sv}");
                if (r >= 0 && disks[i].manifest)
                        r = append_manifest(m, disks[i].path, err);
                else if (r >= 0 && disks[i].path && pass_fds)
                        r = append_fd(m, disks[i].path, err);
                else if (r >= 0 && disks[i].path)
                        r = sd_bus_message_append(m, "{sv}", "path", "s", disks[i].path);
                if (r >= 0 && disks[i].domain)
                        r = sd_bus_message_append(m, "{sv}", "domain", "s", disks[i].domain);
                if (r >= 0 && disks[i].uri)
                        r = sd_bus_message_append(m, "{sv}", "uri", "s", disks[i].uri);
                if (r >= 0 && disks[i].snapshot)
                        r = sd_bus_message_append(m, "{sv}", "snapshot", "s", disks[i].snapshot);
                if (r >= 0 && disks[i].format)
                        r = sd_bus_message_append(m, "{sv}", "format", "s", disks[i].format);
                if (r >= 0 && disks[i].blocksize)
                        r = sd_bus_message_append(m, "{sv}", "blocksize", "u", disks[i].blocksize);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}


void side_name_images(json_object *o, const ClientDisk *disks, size_t n) {
        json_object *images = NULL;
        if (!json_object_object_get_ex(o, "images", &images) || !json_object_is_type(images, json_type_array))
                return;
        for (size_t i = 0; i < n && i < json_object_array_length(images); i++) {
                json_object *img = json_object_array_get_idx(images, i);
                if (json_object_is_type(img, json_type_object) && disks[i].path)
                        (void) output_json_set_bytes(img, "path", disks[i].path);
        }
}

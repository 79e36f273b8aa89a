#include "source/backing-chain.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

#include "common/input-limits.h"
#include "source/qcow2-header.h"

typedef struct Seen {
        dev_t dev;
        ino_t ino;
} Seen;

/* qemu takes a name with a ':' before any '/' as a protocol (nbd:, http:,
 * json:...): never a local file we could check. */
static bool names_protocol(const char *name) {
        const char *colon = strchr(name, ':'), *slash = strchr(name, '/');
        return colon && (!slash || colon < slash);
}

/* As qemu resolves it: relative to the directory of the image naming it. */
static char *resolve_backing(const char *image, const char *name) {
        if (name[0] == '/')
                return strdup(name);
        _cleanup_free_ char *copy = strdup(image);
        if (!copy)
                return NULL;
        return path_join(dirname(copy), name);
}

static int read_header(int fd, const char *top, const char *path, Qcow2Header *h, Error *e) {
        _cleanup_free_ uint8_t *buf = malloc(QCOW2_HEADER_READ_MAX);
        const char *why = NULL;
        size_t len = 0;

        if (!buf)
                return error_set(e, ERR_INTERNAL, "out of memory");
        while (len < QCOW2_HEADER_READ_MAX) {
                ssize_t n = pread(fd, buf + len, QCOW2_HEADER_READ_MAX - len, (off_t) len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return error_set(e, ERR_INVALID_IMAGE, "%s: cannot read %s: %m", top, path);
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        if (qcow2_header_parse(buf, len, h, &why) < 0) {
                if (strcmp(top, path) == 0)
                        return error_set(e, ERR_INVALID_IMAGE, "%s: not a valid qcow2 image: %s", top, why);
                return error_set(e, ERR_INVALID_IMAGE, "%s: its backing file %s is not a valid qcow2 image: %s",
                                 top, path, why);
        }
        return 0;
}

static int open_error(const char *top, const char *path, int err, Error *e) {
        if (err == EACCES || err == EPERM)
                return error_set(e, ERR_ACCESS_DENIED,
                                 "%s: backing file %s: permission denied (the caller may not read it)", top, path);
        return error_set(e, ERR_MISSING_BACKING_FILE, "%s: cannot open its backing file %s: %s", top, path,
                         strerror(err));
}

int backing_chain_check(const char *path, const char *format, const CallerCreds *caller, Error *e) {
        Seen seen[MAX_BACKING_CHAIN_DEPTH + 1];
        _cleanup_free_ char *cur = NULL;
        const char *fmt = format;

        if (strcmp(format, "qcow2") != 0)
                return 0;
        cur = strdup(path);
        if (!cur)
                return error_set(e, ERR_INTERNAL, "out of memory");

        for (size_t depth = 0;; depth++) {
                struct stat st;
                Qcow2Header h;

                _cleanup_close_ int fd = open(cur, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd < 0)
                        return open_error(path, cur, errno, e);
                if (fstat(fd, &st) < 0)
                        return error_set(e, ERR_INVALID_IMAGE, "%s: cannot stat %s: %m", path, cur);
                if (depth > 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                        return error_set(e, ERR_INVALID_IMAGE,
                                         "%s: its backing file %s is not a regular file or block device", path, cur);
                for (size_t i = 0; i < depth; i++)
                        if (seen[i].dev == st.st_dev && seen[i].ino == st.st_ino)
                                return error_set(e, ERR_INVALID_IMAGE, "%s: its backing chain loops: %s comes back",
                                                 path, cur);
                seen[depth] = (Seen){st.st_dev, st.st_ino};
                if (strcmp(fmt, "raw") == 0)
                        return 0;

                if (read_header(fd, path, cur, &h, e) < 0)
                        return -1;
                if (h.external_data)
                        return error_set(e, ERR_UNSUPPORTED_FORMAT,
                                         "%s: %s keeps its data in an external data file: not supported", path, cur);
                if (!h.has_backing)
                        return 0;
                if (depth == MAX_BACKING_CHAIN_DEPTH)
                        return error_set(e, ERR_INVALID_IMAGE, "%s: backing chain deeper than %d files", path,
                                         MAX_BACKING_CHAIN_DEPTH);
                if (names_protocol(h.backing))
                        return error_set(e, ERR_ACCESS_DENIED,
                                         "%s: backing file '%s' of %s is not a local file name: refused", path,
                                         h.backing, cur);
                /* Never probed: a raw backing file holding a qcow2 header
                 * would name further files of its choosing. */
                if (!h.has_backing_format)
                        return error_set(e, ERR_UNSUPPORTED_FORMAT,
                                         "%s: backing file %s is named without its format, which would be probed: "
                                         "refused (set it with qemu-img rebase -u -F FORMAT -b BACKING IMAGE)",
                                         path, h.backing);
                if (strcmp(h.backing_format, "raw") != 0 && strcmp(h.backing_format, "qcow2") != 0)
                        return error_set(e, ERR_UNSUPPORTED_FORMAT,
                                         "%s: backing file %s has format '%s': only raw and qcow2 are supported",
                                         path, h.backing, h.backing_format);

                _cleanup_free_ char *next = resolve_backing(cur, h.backing);
                if (!next)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                /* As the caller first: the daemon opens nothing the caller
                 * could not. */
                int r = caller_may_read(caller, next);
                if (r < 0)
                        return open_error(path, next, -r, e);
                free(cur);
                cur = TAKE_PTR(next);
                fmt = strcmp(h.backing_format, "raw") == 0 ? "raw" : "qcow2";
        }
}

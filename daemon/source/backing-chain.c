#include "source/backing-chain.h"

#include <fcntl.h>
#include <json-c/json.h>
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

void disk_layers_free(DiskLayer *layers, size_t n) {
        for (size_t i = 0; layers && i < n; i++) {
                if (layers[i].fd >= 0)
                        (void) close(layers[i].fd);
                free(layers[i].path);
                free(layers[i].format);
        }
        free(layers);
}

typedef struct Chain {
        DiskLayer *l;
        size_t n;
} Chain;

static void chain_done(Chain *c) {
        disk_layers_free(c->l, c->n);
}

/* Takes fd and path, even on failure. */
static int chain_add(Chain *c, int fd, char *path, const char *format, bool block) {
        DiskLayer *l = realloc(c->l, (c->n + 1) * sizeof(DiskLayer));
        char *f = strdup(format);
        if (!l || !f) {
                if (l)
                        c->l = l;
                free(f);
                free(path);
                (void) close(fd);
                return -ENOMEM;
        }
        c->l = l;
        c->l[c->n++] = (DiskLayer){.fd = fd, .path = path, .format = f, .block = block};
        return 0;
}

int backing_chain_open(int top_fd, const char *path, const char *format, const CallerCreds *caller,
                       DiskLayer **ret, size_t *ret_n, Error *e) {
        Seen seen[MAX_BACKING_CHAIN_DEPTH + 1];
        _cleanup_close_ int fd = top_fd;
        _cleanup_(chain_done) Chain c = {0};
        _cleanup_free_ char *cur = strdup(path);
        const char *fmt = format;

        if (!cur)
                return error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t depth = 0;; depth++) {
                struct stat st;
                Qcow2Header h;

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
                int layer_fd = TAKE_FD(fd);
                if (chain_add(&c, layer_fd, TAKE_PTR(cur), fmt, S_ISBLK(st.st_mode)) < 0)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                const char *name = c.l[c.n - 1].path;
                if (strcmp(fmt, "qcow2") != 0)
                        break;

                if (read_header(layer_fd, path, name, &h, e) < 0)
                        return -1;
                if (h.external_data)
                        return error_set(e, ERR_UNSUPPORTED_FORMAT,
                                         "%s: %s keeps its data in an external data file: not supported", path, name);
                if (!h.has_backing)
                        break;
                if (depth == MAX_BACKING_CHAIN_DEPTH)
                        return error_set(e, ERR_INVALID_IMAGE, "%s: backing chain deeper than %d files", path,
                                         MAX_BACKING_CHAIN_DEPTH);
                if (names_protocol(h.backing))
                        return error_set(e, ERR_ACCESS_DENIED,
                                         "%s: backing file '%s' of %s is not a local file name: refused", path,
                                         h.backing, name);
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

                cur = resolve_backing(name, h.backing);
                if (!cur)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                /* Opened as the caller, and that open file is the layer: the
                 * daemon reads nothing the caller could not. */
                fd = caller_open(caller, cur);
                if (fd < 0)
                        return open_error(path, cur, -fd, e);
                fmt = strcmp(h.backing_format, "raw") == 0 ? "raw" : "qcow2";
        }
        *ret = TAKE_PTR(c.l);
        *ret_n = c.n;
        c.n = 0;
        return 0;
}

int backing_chain_check(const char *path, const char *format, const CallerCreds *caller, Error *e) {
        int fd = caller_open(caller, path);
        if (fd < 0)
                return open_error(path, path, -fd, e);
        DiskLayer *l = NULL;
        size_t n = 0;
        int r = backing_chain_open(fd, path, format, caller, &l, &n, e);
        disk_layers_free(l, n);
        return r;
}

char *disk_layers_json(const DiskLayer *layers, size_t n, pid_t pid) {
        json_object *below = NULL;
        for (size_t i = n; i-- > 0;) {
                char fd_path[64];
                snprintf(fd_path, sizeof fd_path, "/proc/%d/fd/%d", (int) pid, layers[i].fd);
                json_object *o = json_object_new_object(), *file = json_object_new_object();
                if (!o || !file) {
                        json_object_put(o);
                        json_object_put(file);
                        json_object_put(below);
                        return NULL;
                }
                json_object_object_add(file, "driver",
                                       json_object_new_string(layers[i].block ? "host_device" : "file"));
                json_object_object_add(file, "filename", json_object_new_string(fd_path));
                json_object_object_add(file, "locking", json_object_new_string("off"));
                json_object_object_add(o, "driver", json_object_new_string(layers[i].format));
                json_object_object_add(o, "file", file);
                /* What qcow2 reads below it is this, never the name in its
                 * header; null: nothing. */
                if (strcmp(layers[i].format, "qcow2") == 0)
                        json_object_object_add(o, "backing", below);
                else
                        json_object_put(below);
                below = o;
        }
        char *r = NULL;
        const char *s = below ? json_object_to_json_string_ext(below, JSON_C_TO_STRING_PLAIN |
                                                                              JSON_C_TO_STRING_NOSLASHESCAPE)
                              : NULL;
        if (s && asprintf(&r, "json:%s", s) < 0)
                r = NULL;
        json_object_put(below);
        return r;
}

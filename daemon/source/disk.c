#include "source/disk.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "common/input-limits.h"
#include "common/subprocess.h"
#include "source/backing-chain.h"
#include "source/disk-fd.h"
#include "source/nbd.h"
#include "source/snapshot.h"

#define QEMU_IMG_TIMEOUT_USEC (60ULL * 1000000ULL)

void disk_done(Disk *d) {
        free(d->path);
        free(d->format);
        strv_free(d->backing_chain);
        nbd_server_free(d->nbd);
        free(d->domain);
        free(d->uri);
        free(d->domain_snapshot);
        free(d->snapshot);
        if (d->by_fd && d->fd >= 0)
                (void) close(d->fd);
        disk_layers_free(d->layers, d->n_layers);
        memset(d, 0, sizeof(*d));
}

const char *disk_open_path(const Disk *d, char buf[static 64]) {
        if (d->n_layers == 0)
                return d->path;
        snprintf(buf, 64, "/proc/self/fd/%d", d->layers[0].fd);
        return buf;
}

char *disk_qemu_filename(const Disk *d) {
        return disk_layers_json(d->layers, d->n_layers, getpid());
}

/* qemu-img's message with our /proc/PID/fd/N names turned back into the
 * files they stand for. */
static char *name_layers(const Disk *d, const char *msg) {
        char prefix[64];
        int plen = snprintf(prefix, sizeof prefix, "/proc/%d/fd/", (int) getpid());
        size_t cap = strlen(msg) + 1, len = 0;
        for (size_t i = 0; i < d->n_layers; i++)
                cap += strlen(d->layers[i].path) * 4;
        char *out = malloc(cap);
        if (!out)
                return NULL;
        for (const char *p = msg; *p;) {
                char *end;
                if (strncmp(p, prefix, (size_t) plen) == 0) {
                        long fd = strtol(p + plen, &end, 10);
                        const char *name = NULL;
                        for (size_t i = 0; end != p + plen && i < d->n_layers; i++)
                                if (d->layers[i].fd == fd)
                                        name = d->layers[i].path;
                        if (name && len + strlen(name) < cap) {
                                memcpy(out + len, name, strlen(name));
                                len += strlen(name);
                                p = end;
                                continue;
                        }
                }
                if (len + 1 < cap)
                        out[len++] = *p;
                p++;
        }
        out[len] = 0;
        return out;
}

static int strdup_or_null(char **ret, const char *s) {
        if (!s || !s[0])
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int disk_set_source(Disk *d, const char *domain, const char *uri, const char *snapshot) {
        if (strdup_or_null(&d->domain, domain) < 0 || strdup_or_null(&d->uri, uri) < 0)
                return -ENOMEM;
        return strdup_or_null(domain ? &d->domain_snapshot : &d->snapshot, snapshot);
}

const char *image_format_from_magic(const uint8_t *buf, size_t len) {
        static const struct {
                size_t offset;
                const char *magic;
                size_t len;
                const char *format;
        } magics[] = {
                {0, "QFI\xfb", 4, "qcow2"},
                {0, "QED\0", 4, "qed"},
                {0, "KDMV", 4, "vmdk"},
                {0, "# Disk DescriptorFile", 21, "vmdk"},
                {0, "vhdxfile", 8, "vhdx"},
                {0, "conectix", 8, "vpc"},
                {0x40, "\x7f\x10\xda\xbe", 4, "vdi"},
        };

        for (size_t i = 0; i < ELEMENTSOF(magics); i++)
                if (len >= magics[i].offset + magics[i].len &&
                    memcmp(buf + magics[i].offset, magics[i].magic, magics[i].len) == 0) {
                        /* A qcow2 v1 header ("QFI\xfb" + version 1) is qcow, not qcow2. */
                        if (strcmp(magics[i].format, "qcow2") == 0 && len >= 8 && buf[4] == 0 &&
                            buf[5] == 0 && buf[6] == 0 && buf[7] == 1)
                                return "qcow";
                        return magics[i].format;
                }
        return "raw";
}

static bool format_supported(const char *f) {
        static const char *const known[] = {"raw", "qcow2", "qcow", "qed", "vmdk", "vhdx", "vpc", "vdi"};
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (strcmp(f, known[i]) == 0)
                        return true;
        return false;
}

/* qemu-img's first error line, without its "qemu-img: " prefix. */
static const char *qemu_img_message(char *err) {
        char *nl = strchr(err, '\n');
        if (nl)
                *nl = 0;
        if (strncmp(err, "qemu-img: ", 10) == 0)
                err += 10;
        return err;
}

/* The file qemu-img failed on, from "Could not open 'FILE': ...". */
static char *failed_file(const char *err) {
        const char *p = strstr(err, "Could not open '");
        if (!p)
                return NULL;
        p += strlen("Could not open '");
        const char *q = strchr(p, '\'');
        return q ? strndup(p, (size_t) (q - p)) : NULL;
}

/* Whether qemu's name for a failed file is the image itself: its path, or
 * a json: description whose first file is it (the top layer, as the
 * layers are spelled out when qemu reads them through open files). */
static bool names_image(const char *file, const char *path) {
        if (strcmp(file, path) == 0)
                return true;
        if (strncmp(file, "json:", 5) != 0)
                return false;
        const char *f = strstr(file, "\"filename\":\"");
        if (!f)
                return false;
        f += strlen("\"filename\":\"");
        size_t n = strlen(path);
        return strncmp(f, path, n) == 0 && f[n] == '"';
}

static int classify_qemu_img_error(Disk *d, char *raw, Error *e) {
        _cleanup_free_ char *named = name_layers(d, raw);
        char *err = named ? named : raw;
        _cleanup_free_ char *file = failed_file(err);

        /* qemu's own words for a lock another process holds ("Failed to
         * get "write" lock", "Is another process using the image"), not
         * any "lock" (a "block", a "file.locking" option in a json: name). */
        if ((strstr(err, "Failed to get") && strstr(err, " lock")) || strstr(err, "Is another process using the image"))
                return error_set(e, ERR_IMAGE_LOCKED,
                                 "%s: image is in use by a running virtual machine (write lock held)",
                                 d->path);
        /* A failure on a file other than the one we opened is its backing
         * chain's. */
        if (file ? !names_image(file, d->path) : strstr(err, "backing") != NULL)
                return error_set(e, ERR_MISSING_BACKING_FILE, "%s: cannot open its backing file%s%s: %s",
                                 d->path, file ? " " : "", strempty(file), qemu_img_message(err));
        if (strstr(err, "too short") || strstr(err, "truncated") || strstr(err, "end of file"))
                return error_set(e, ERR_TRUNCATED_IMAGE, "%s: truncated %s image: %s", d->path,
                                 d->format, qemu_img_message(err));
        return error_set(e, ERR_INVALID_IMAGE, "%s: not a valid %s image: %s", d->path, d->format,
                         qemu_img_message(err));
}

/* The image's virtual size from qemu-img info (one image, an object); the
 * chain's files are the layers we opened, named as their headers name
 * them. */
static int read_info(Disk *d, const char *json, Error *e) {
        json_object *root = json_tokener_parse(json), *v;
        if (!root || !json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                return error_set(e, ERR_INTERNAL, "%s: cannot parse qemu-img info output", d->path);
        }
        if (json_object_object_get_ex(root, "virtual-size", &v))
                d->virtual_size = (uint64_t) json_object_get_int64(v);
        json_object_put(root);
        size_t n = 0;
        for (size_t i = 1; i < d->n_layers; i++)
                if (strv_extend(&d->backing_chain, &n, d->layers[i].path) < 0)
                        return error_set(e, ERR_INTERNAL, "out of memory");
        return 0;
}

/* qcow2 keeps its tables anywhere in the file: a cut copy still opens, and
 * only qemu-img check sees clusters referenced past its end. */
static int check_qcow2(Disk *d, char *filename, Error *e) {
        char *argv[] = {"qemu-img", "check", "--output=json", filename, NULL};
        SpawnResult r = {0};

        if (spawn_capture(argv, QEMU_IMG_TIMEOUT_USEC, 1 << 20, &r) < 0)
                return error_set(e, ERR_INTERNAL, "cannot run qemu-img: %m");
        if (r.timed_out) {
                spawn_result_done(&r);
                return error_set(e, ERR_INVALID_IMAGE, "%s: qemu-img check timed out", d->path);
        }

        json_object *root = json_tokener_parse(r.out), *v;
        int64_t corruptions = 0;
        if (root && json_object_object_get_ex(root, "corruptions", &v))
                corruptions = json_object_get_int64(v);
        json_object_put(root);

        int ret = 0;
        if (!root && r.status != 0)
                ret = classify_qemu_img_error(d, r.err, e);
        else if (corruptions > 0 && strstr(r.err, "exceeding the end of the file"))
                ret = error_set(e, ERR_TRUNCATED_IMAGE,
                                "%s: truncated qcow2 image: %" PRIu64 " bytes, but clusters past its end are in use",
                                d->path, d->file_size);
        else if (corruptions > 0)
                ret = error_set(e, ERR_CORRUPT_IMAGE, "%s: corrupt qcow2 image: %" PRIi64 " corruptions",
                                d->path, corruptions);
        spawn_result_done(&r);
        return ret;
}

/* qemu marks each permission it holds on an image with an OFD read lock on
 * one byte from offset 100 on; "write" is bit 1. A write lock that cannot
 * be had there means a running qemu may be writing the image. Asking
 * changes nothing on the file. */
#define QEMU_LOCK_PERM_BASE 100
#define QEMU_PERM_WRITE_BIT 1

static bool held_for_writing(int fd) {
        struct flock fl = {
                .l_type = F_WRLCK,
                .l_whence = SEEK_SET,
                .l_start = QEMU_LOCK_PERM_BASE + QEMU_PERM_WRITE_BIT,
                .l_len = 1,
        };
        return fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

int disk_validate(Disk *d, Error *e) {
        struct stat st;
        uint8_t magic[512] = {0};

        if (!d->path || d->path[0] == 0)
                return error_set(e, ERR_INVALID_ARGS, "empty image path");
        if (strlen(d->path) > MAX_PATH_LENGTH)
                return error_set(e, ERR_INVALID_ARGS, "image path longer than %d bytes", MAX_PATH_LENGTH);
        if (!d->snapshot && !d->domain && snapshot_split_path(d) < 0)
                return error_set(e, ERR_INTERNAL, "out of memory");

        /* Opened once, here: what is checked below is what is read later. */
        _cleanup_close_ int fd = d->open_as_caller ? caller_open(d->caller, d->path)
                                                   : open(d->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int k = d->open_as_caller ? -fd : errno;
                if (k == ENOENT || k == ENOTDIR)
                        return error_set(e, ERR_NO_SUCH_FILE, "%s: no such file", d->path);
                if (k == EACCES || k == EPERM)
                        return error_set(e, ERR_ACCESS_DENIED, "%s: permission denied", d->path);
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot open: %s", d->path, strerror(k));
        }
        if (fstat(fd, &st) < 0)
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot stat: %m", d->path);
        if (S_ISDIR(st.st_mode))
                return error_set(e, ERR_INVALID_IMAGE, "%s: is a directory, not a disk image", d->path);
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return error_set(e, ERR_INVALID_IMAGE, "%s: not a regular file or block device", d->path);
        d->file_size = (uint64_t) st.st_size;
        if (S_ISREG(st.st_mode) && st.st_size == 0)
                return error_set(e, ERR_INVALID_IMAGE, "%s: empty file, not a disk image", d->path);

        /* libvirt lets a running domain's disks be read: not refused. */
        if (S_ISREG(st.st_mode) && !d->live && held_for_writing(fd))
                return error_set(e, ERR_IMAGE_LOCKED,
                                 "%s: image is in use by a running virtual machine (locked for writing)", d->path);

        ssize_t n = pread(fd, magic, sizeof magic, 0);
        if (n < 0)
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot read: %m", d->path);

        if (!d->format_given) {
                free(d->format);
                d->format = strdup(image_format_from_magic(magic, (size_t) n));
                if (!d->format)
                        return error_set(e, ERR_INTERNAL, "out of memory");
        }
        if (!format_supported(d->format))
                return error_set(e, ERR_UNSUPPORTED_FORMAT, "%s: unsupported image format '%s'", d->path,
                                 d->format);
        if (d->by_fd && disk_fd_validate(d, magic, (size_t) n, e) < 0)
                return -1;

        /* Before qemu follows the chain: it must not open what the caller
         * may not read, nor probe a format. Each file is opened once. */
        disk_layers_free(d->layers, d->n_layers);
        d->layers = NULL;
        d->n_layers = 0;
        if (backing_chain_open(TAKE_FD(fd), d->path, d->format, d->caller, &d->layers, &d->n_layers, e) < 0)
                return -1;
        /* qemu-img info and check read the image alone (they open no
         * backing file of a json: image spelling one out); the chain's files
         * were checked above, and the appliance reads them all. */
        _cleanup_free_ char *filename = disk_layers_json(d->layers, 1, getpid());
        if (!filename)
                return error_set(e, ERR_INTERNAL, "out of memory");

        /* Opening through qemu-img checks the header the way the
         * appliance's qemu will, on the same open file. */
        char *argv[] = {"qemu-img", "info", "--output=json", filename, d->live ? "-U" : NULL, NULL};
        SpawnResult r = {0};
        if (spawn_capture(argv, QEMU_IMG_TIMEOUT_USEC, 4 << 20, &r) < 0)
                return error_set(e, ERR_INTERNAL, "cannot run qemu-img: %m");
        int ret;
        if (r.timed_out)
                ret = error_set(e, ERR_INVALID_IMAGE, "%s: qemu-img info timed out", d->path);
        else if (r.status != 0)
                ret = classify_qemu_img_error(d, r.err, e);
        else
                ret = read_info(d, r.out, e);
        spawn_result_done(&r);
        if (ret < 0)
                return ret;

        /* A running qemu's image is mid-write: its check would not hold. */
        if (strcmp(d->format, "qcow2") == 0 && S_ISREG(st.st_mode) && !d->live && check_qcow2(d, filename, e) < 0)
                return -1;
        return d->snapshot ? snapshot_validate(d, e) : 0;
}

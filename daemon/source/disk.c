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
        memset(d, 0, sizeof(*d));
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

static int classify_qemu_img_error(Disk *d, char *err, Error *e) {
        _cleanup_free_ char *file = failed_file(err);

        if (strstr(err, "lock"))
                return error_set(e, ERR_IMAGE_LOCKED,
                                 "%s: image is in use by a running virtual machine (write lock held)",
                                 d->path);
        /* A failure on a file other than the one we opened is its backing
         * chain's. */
        if ((file && strcmp(file, d->path) != 0) || strstr(err, "backing"))
                return error_set(e, ERR_MISSING_BACKING_FILE, "%s: cannot open its backing file%s%s: %s",
                                 d->path, file ? " " : "", strempty(file), qemu_img_message(err));
        if (strstr(err, "too short") || strstr(err, "truncated") || strstr(err, "end of file"))
                return error_set(e, ERR_TRUNCATED_IMAGE, "%s: truncated %s image: %s", d->path,
                                 d->format, qemu_img_message(err));
        return error_set(e, ERR_INVALID_IMAGE, "%s: not a valid %s image: %s", d->path, d->format,
                         qemu_img_message(err));
}

static int read_backing_chain(Disk *d, const char *json, Error *e) {
        json_object *root = json_tokener_parse(json);
        if (!root || !json_object_is_type(root, json_type_array)) {
                json_object_put(root);
                return error_set(e, ERR_INTERNAL, "%s: cannot parse qemu-img info output", d->path);
        }
        size_t n = 0, len = json_object_array_length(root);
        for (size_t i = 0; i < len; i++) {
                json_object *img = json_object_array_get_idx(root, i), *v;
                if (i == 0 && json_object_object_get_ex(img, "virtual-size", &v))
                        d->virtual_size = (uint64_t) json_object_get_int64(v);
                if (i > 0 && json_object_object_get_ex(img, "filename", &v) &&
                    strv_extend(&d->backing_chain, &n, json_object_get_string(v)) < 0) {
                        json_object_put(root);
                        return error_set(e, ERR_INTERNAL, "out of memory");
                }
        }
        json_object_put(root);
        return 0;
}

/* qcow2 keeps its tables anywhere in the file: a cut copy still opens, and
 * only qemu-img check sees clusters referenced past its end. */
static int check_qcow2(Disk *d, Error *e) {
        char *argv[] = {"qemu-img", "check", "--output=json", "-f", "qcow2", d->path, NULL};
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

        _cleanup_close_ int fd = open(d->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return error_set(e, ERR_NO_SUCH_FILE, "%s: no such file", d->path);
                if (errno == EACCES || errno == EPERM)
                        return error_set(e, ERR_ACCESS_DENIED, "%s: permission denied", d->path);
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot open: %m", d->path);
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
         * may not read, nor probe a format. */
        if (backing_chain_check(d->path, d->format, d->caller, e) < 0)
                return -1;

        /* Opening through qemu-img checks the header, the backing chain and
         * the image lock the way the appliance's qemu will. */
        char *argv[] = {"qemu-img", "info", "--backing-chain", "--output=json", "-f", d->format, d->path,
                        d->live ? "-U" : NULL, NULL};
        SpawnResult r = {0};
        if (spawn_capture(argv, QEMU_IMG_TIMEOUT_USEC, 4 << 20, &r) < 0)
                return error_set(e, ERR_INTERNAL, "cannot run qemu-img: %m");
        int ret;
        if (r.timed_out)
                ret = error_set(e, ERR_INVALID_IMAGE, "%s: qemu-img info timed out", d->path);
        else if (r.status != 0)
                ret = classify_qemu_img_error(d, r.err, e);
        else
                ret = read_backing_chain(d, r.out, e);
        spawn_result_done(&r);
        if (ret < 0)
                return ret;

        /* A running qemu's image is mid-write: its check would not hold. */
        if (strcmp(d->format, "qcow2") == 0 && S_ISREG(st.st_mode) && !d->live && check_qcow2(d, e) < 0)
                return -1;
        return d->snapshot ? snapshot_validate(d, e) : 0;
}

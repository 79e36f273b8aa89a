#include "worker/package-scan.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common/log.h"
#include "worker/scanner.h"
#include "worker/scratch.h"
#include "worker/tree-hash.h"

/* Bytes of database files copied out of one guest: a large dpkg info/ is
 * tens of MB, an rpmdb.sqlite a few hundred. */
#define PACKAGE_DB_MAX (2ULL << 30)

/* Creates every directory of a relative path below dir_fd, never
 * following a symbolic link; returns an fd of the last one. */
static int mkdirs_at(int dir_fd, const char *rel) {
        _cleanup_free_ char *copy = strdup(rel);
        if (!copy)
                return -ENOMEM;
        int cur = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0) {
                        close(cur);
                        return -EINVAL;
                }
                if (mkdirat(cur, c, 0700) < 0 && errno != EEXIST) {
                        int r = -errno;
                        close(cur);
                        return r;
                }
                int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int r = -errno;
                close(cur);
                if (next < 0)
                        return r;
                cur = next;
        }
        return cur;
}

int tar_extract_files(const void *tar, size_t len, int dir_fd, const char *prefix, uint64_t max_bytes) {
        struct archive *a = archive_read_new();
        if (!a)
                return -ENOMEM;
        (void) archive_read_support_format_tar(a);
        (void) archive_read_support_format_gnutar(a);
        int r = 0;
        uint64_t total = 0;
        if (archive_read_open_memory(a, tar, len) != ARCHIVE_OK)
                r = -EBADMSG;
        struct archive_entry *en;
        while (r == 0) {
                int k = archive_read_next_header(a, &en);
                if (k == ARCHIVE_EOF)
                        break;
                if (k != ARCHIVE_OK && k != ARCHIVE_WARN) {
                        r = -EBADMSG;
                        break;
                }
                if (archive_entry_filetype(en) != AE_IFREG)
                        continue;
                const char *name = archive_entry_pathname(en);
                if (!name)
                        continue;
                while (name[0] == '.' && name[1] == '/')
                        name += 2;
                if (!name[0] || name[0] == '/' || strstr(name, "..") || archive_entry_size(en) < 0)
                        continue;
                total += (uint64_t) archive_entry_size(en);
                if (total > max_bytes) {
                        r = -EFBIG;
                        break;
                }
                _cleanup_free_ char *full = NULL;
                if (asprintf(&full, "%s/%s", prefix, name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                char *slash = strrchr(full, '/');
                *slash = 0;
                _cleanup_close_ int parent = mkdirs_at(dir_fd, full);
                if (parent < 0) {
                        r = parent == -EINVAL ? 0 : parent;
                        continue;
                }
                _cleanup_close_ int fd = openat(parent, slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0) {
                        r = errno == EEXIST ? 0 : -errno;
                        continue;
                }
                const void *buf;
                size_t size;
                la_int64_t offset;
                while ((k = archive_read_data_block(a, &buf, &size, &offset)) == ARCHIVE_OK)
                        if (pwrite(fd, buf, size, (off_t) offset) != (ssize_t) size) {
                                r = -errno;
                                break;
                        }
                if (r == 0 && k != ARCHIVE_EOF)
                        r = -EBADMSG;
        }
        archive_read_free(a);
        return r;
}

/* Copies one database path (a directory or a file, symlinks followed
 * inside the guest) to the same relative path below dir_fd. */
static int copy_out(guestfs_h *g, const char *path, int dir_fd, Error *e) {
        bool is_dir = guestfs_is_dir_opts(g, path, GUESTFS_IS_DIR_OPTS_FOLLOWSYMLINKS, 1, -1) > 0;
        bool is_file = !is_dir && guestfs_is_file_opts(g, path, GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, 1, -1) > 0;
        if (!is_dir && !is_file)
                return 0;
        ScratchFile m;
        if (scratch_open(&m, NULL) < 0)
                return error_set(e, ERR_INTERNAL, "memfd_create: %m");
        _cleanup_close_ int fd = m.fd;
        int r = is_dir ? guestfs_tar_out(g, path, m.path) : guestfs_download(g, path, m.path);
        if (r < 0)
                return error_set(e, ERR_SCAN_FAILED, "cannot copy %s out of the guest: %s", path, guest_error(g));
        void *data = NULL;
        size_t len = 0;
        if (scratch_map(&m, &data, &len) < 0)
                return error_set(e, ERR_INTERNAL, "cannot map the copy of %s: %m", path);
        if (is_dir)
                r = len ? tar_extract_files(data, len, dir_fd, path + 1, PACKAGE_DB_MAX) : 0;
        else {
                _cleanup_free_ char *parent = strdup(path + 1);
                char *slash = parent ? strrchr(parent, '/') : NULL;
                r = -ENOMEM;
                if (slash) {
                        *slash = 0;
                        _cleanup_close_ int pfd = mkdirs_at(dir_fd, parent);
                        _cleanup_close_ int out = pfd < 0 ? -1
                                                          : openat(pfd, slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                        r = out < 0 ? -errno : (len && write(out, data, len) != (ssize_t) len) ? -EIO : 0;
                }
        }
        if (len)
                munmap(data, len);
        if (r == -EFBIG)
                return error_set(e, ERR_SCAN_FAILED, "the guest's %s is larger than %llu bytes", path,
                                 (unsigned long long) PACKAGE_DB_MAX);
        if (r < 0)
                return error_set(e, ERR_SCAN_FAILED, "cannot copy %s out of the guest: %s", path, strerror(-r));
        return 0;
}

typedef struct Observe {
        PackageSet *ps;
        DigestAlgo algo;
        const char *dir; /* "" for the root */
} Observe;

static int observe_line(void *userdata, const char *name, const uint8_t *digest) {
        Observe *o = userdata;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s%s", o->dir, name) < 0)
                return -ENOMEM;
        (void) package_set_observe(o->ps, path, o->algo, digest);
        return 0;
}

/* The top directories holding owned regular files whose digest is in
 * algo, and whether a file right below / needs one. */
static int top_dirs(const PackageSet *ps, const Tree *tree, DigestAlgo algo, char ***ret, bool *ret_root_files) {
        _cleanup_strv_free_ char **dirs = NULL;
        size_t n = 0;
        *ret_root_files = false;
        for (size_t i = 0; i < ps->n_files; i++) {
                const OwnedFile *f = &ps->files[i];
                if (f->algo != algo)
                        continue;
                const Entry *en = tree_find_entry(tree, f->path);
                if (!en || en->kind != ENTRY_KIND_FILE)
                        continue;
                const char *slash = strchr(f->path + 1, '/');
                if (!slash) {
                        *ret_root_files = true;
                        continue;
                }
                _cleanup_free_ char *top = strndup(f->path, (size_t) (slash - f->path));
                if (!top)
                        return -ENOMEM;
                if (!strv_contains(dirs, top) && strv_push(&dirs, &n, TAKE_PTR(top)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(dirs);
        return 0;
}

static int measure(guestfs_h *g, PackageSet *ps, const Tree *tree, DigestAlgo algo, const ProgressSink *progress,
                   Error *e) {
        _cleanup_strv_free_ char **dirs = NULL;
        bool root_files;
        const char *name = digest_algo_to_string(algo);
        if (top_dirs(ps, tree, algo, &dirs, &root_files) < 0)
                return error_set(e, ERR_INTERNAL, "out of memory");
        STRV_FOREACH(d, dirs) {
                if (progress_cancelled(progress))
                        return error_set(e, ERR_CANCELLED, "cancelled");
                ScratchFile m;
                if (scratch_open(&m, NULL) < 0)
                        return error_set(e, ERR_INTERNAL, "memfd_create: %m");
                _cleanup_close_ int fd = m.fd;
                if (guestfs_checksums_out(g, name, *d, m.path) < 0) {
                        /* An unreadable file fails the bulk call: those
                         * files stay unmeasured, so unverified. */
                        log_info("%s checksums of %s failed: %s", name, *d, guest_error(g));
                        continue;
                }
                void *data = NULL;
                size_t len = 0;
                if (scratch_map(&m, &data, &len) < 0)
                        return error_set(e, ERR_INTERNAL, "cannot map checksums: %m");
                Observe o = {.ps = ps, .algo = algo, .dir = *d};
                int r = len ? checksum_lines_parse(data, len, digest_algo_size(algo), observe_line, &o) : 0;
                if (len)
                        munmap(data, len);
                if (r < 0)
                        return error_set(e, ERR_SCAN_FAILED, "cannot parse the appliance's %s list of %s", name, *d);
        }
        /* Files right below the root: few, one call each. */
        for (size_t i = 0; root_files && i < ps->n_files; i++) {
                OwnedFile *f = &ps->files[i];
                const Entry *en = f->algo == algo ? tree_find_entry(tree, f->path) : NULL;
                if (!en || en->kind != ENTRY_KIND_FILE || strchr(f->path + 1, '/'))
                        continue;
                _cleanup_free_ char *hex = guestfs_checksum(g, name, f->path);
                uint8_t d[DIGEST_MAX_SIZE];
                if (hex && strlen(hex) == 2 * digest_algo_size(algo) && unhexmem(hex, d, digest_algo_size(algo)) == 0)
                        (void) package_set_observe(ps, f->path, algo, d);
        }
        return 0;
}

int package_scan(guestfs_h *g, const Tree *tree, const char *tmpdir, const ProgressSink *progress,
                 PackageSet **ret, Error *e) {
        _cleanup_free_ char *dir = path_join(tmpdir, "packages-XXXXXX");
        if (!dir || !mkdtemp(dir))
                return error_set(e, ERR_INTERNAL, "cannot create a directory for the package database: %m");
        _cleanup_close_ int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_package_set_ PackageSet *ps = NULL;
        int r = dir_fd < 0 ? error_set(e, ERR_INTERNAL, "cannot open %s: %m", dir) : 0;

        for (const char *const *p = package_db_paths; r == 0 && *p; p++)
                r = copy_out(g, *p, dir_fd, e);
        if (r == 0)
                r = packages_read(dir, &ps, e);
        rm_rf(dir);
        if (r < 0)
                return -1;
        if (package_set_resolve_aliases(ps, tree) < 0)
                return error_set(e, ERR_INTERNAL, "out of memory");

        unsigned needed = package_set_digests_needed(ps, tree);
        for (DigestAlgo a = DIGEST_MD5; a < _DIGEST_MAX; a++)
                if ((needed & (1u << a)) && measure(g, ps, tree, a, progress, e) < 0)
                        return -1;
        *ret = TAKE_PTR(ps);
        return 0;
}

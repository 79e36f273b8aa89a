#include "worker/scanner.h"

#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common/input-limits.h"
#include "common/log.h"
#include "worker/devices.h"
#include "worker/fs-support.h"
#include "worker/package-scan.h"
#include "worker/tree-hash.h"

const char *guest_error(guestfs_h *g) {
        const char *m = g ? guestfs_last_error(g) : NULL;
        return m ? m : "unknown libguestfs error";
}

typedef struct Mount {
        const char *mountpoint;
        uint32_t fs;
} Mount;

typedef struct Walk {
        guestfs_h *g;
        const ProgressSink *progress;
        Tree *tree;
        const Mount *mounts; /* longest mount point first */
        size_t n_mounts;
        uint32_t default_fs;
} Walk;

/* An anonymous file libguestfs can write a FileOut result into. */
static int memfd_path(int *ret_fd, char path[static 32]) {
        int fd = memfd_create("virt-diffd-out", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        snprintf(path, 32, "/dev/fd/%d", fd);
        *ret_fd = fd;
        return 0;
}

static int read_fd_all(int fd, char **ret, size_t *ret_len) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        size_t len = (size_t) st.st_size;
        char *buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        size_t got = 0;
        while (got < len) {
                ssize_t n = pread(fd, buf + got, len - got, (off_t) got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        free(buf);
                        return n < 0 ? -errno : -EIO;
                }
                got += (size_t) n;
        }
        buf[len] = 0;
        *ret = buf;
        *ret_len = len;
        return 0;
}

static uint32_t fs_for_path(const Walk *w, const char *path) {
        for (size_t i = 0; i < w->n_mounts; i++) {
                const char *mp = w->mounts[i].mountpoint;
                size_t l = strlen(mp);
                if (strcmp(mp, "/") == 0 ||
                    (strncmp(path, mp, l) == 0 && (path[l] == 0 || path[l] == '/')))
                        return w->mounts[i].fs;
        }
        return w->default_fs;
}

static void fill_stat(Entry *e, const struct guestfs_statns *s) {
        e->kind = entry_kind_from_mode((uint32_t) s->st_mode);
        e->mode = (uint32_t) s->st_mode & 07777;
        e->uid = (uint32_t) s->st_uid;
        e->gid = (uint32_t) s->st_gid;
        e->size = (uint64_t) s->st_size;
        e->atime_ns = s->st_atime_sec * 1000000000LL + s->st_atime_nsec;
        e->mtime_ns = s->st_mtime_sec * 1000000000LL + s->st_mtime_nsec;
        e->ctime_ns = s->st_ctime_sec * 1000000000LL + s->st_ctime_nsec;
        e->nlink = (uint64_t) s->st_nlink;
        e->ino = (uint64_t) s->st_ino;
        e->dev = (uint64_t) s->st_dev;
        e->rdev = (uint64_t) s->st_rdev;
        e->blocks = (uint64_t) s->st_blocks;
        e->blksize = (uint64_t) s->st_blksize;
}

static int compare_xattr_name(const void *x, const void *y) {
        return strcmp(((const Xattr *) x)->name, ((const Xattr *) y)->name);
}

/* lxattrlist returns, per name, a header entry (empty attrname, the count as
 * its value) followed by that many attributes. */
static int fill_xattrs(Entry **entries, size_t n, const struct guestfs_xattr_list *xl, Error *err) {
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
                if (j >= xl->len || xl->val[j].attrname[0] != 0)
                        return error_set(err, ERR_SCAN_FAILED, "unexpected lxattrlist reply");
                char count_buf[32] = {0};
                size_t cl = xl->val[j].attrval_len < sizeof count_buf - 1 ? xl->val[j].attrval_len
                                                                         : sizeof count_buf - 1;
                memcpy(count_buf, xl->val[j].attrval, cl);
                unsigned long count = strtoul(count_buf, NULL, 10);
                j++;
                if (count > xl->len - j)
                        return error_set(err, ERR_SCAN_FAILED, "unexpected lxattrlist reply");
                if (count == 0)
                        continue;
                Entry *e = entries[i];
                e->xattrs = calloc(count, sizeof(Xattr));
                if (!e->xattrs)
                        return error_set(err, ERR_INTERNAL, "out of memory");
                for (unsigned long k = 0; k < count; k++, j++) {
                        Xattr *x = &e->xattrs[e->n_xattrs++];
                        x->name = strdup(xl->val[j].attrname);
                        x->len = xl->val[j].attrval_len;
                        x->value = malloc(x->len + 1);
                        if (!x->name || !x->value)
                                return error_set(err, ERR_INTERNAL, "out of memory");
                        memcpy(x->value, xl->val[j].attrval, x->len);
                        x->value[x->len] = 0;
                }
                qsort(e->xattrs, e->n_xattrs, sizeof(Xattr), compare_xattr_name);
        }
        return 0;
}

static int compare_entry_path(const void *x, const void *y) {
        return path_compare(((const Entry *) x)->path, ((const Entry *) y)->path);
}

static const char *base_name(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* One directory's children: their stats, xattrs and symlink targets in
 * three round trips whatever their number. */
static int scan_directory(const Walk *w, const char *dir, Entry **entries, size_t n, Error *err) {
        _cleanup_free_ char **names = calloc(n + 1, sizeof(char *));
        if (!names)
                return error_set(err, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < n; i++)
                names[i] = (char *) base_name(entries[i]->path);

        struct guestfs_statns_list *sl = guestfs_lstatnslist(w->g, dir, names);
        if (!sl)
                return error_set(err, ERR_SCAN_FAILED, "cannot list %s: %s", dir,
                                 guest_error(w->g));
        if (sl->len != n) {
                guestfs_free_statns_list(sl);
                return error_set(err, ERR_SCAN_FAILED, "short lstatnslist reply for %s", dir);
        }
        size_t n_links = 0;
        for (size_t i = 0; i < n; i++) {
                fill_stat(entries[i], &sl->val[i]);
                if (entries[i]->kind == ENTRY_KIND_SYMLINK)
                        n_links++;
        }
        guestfs_free_statns_list(sl);

        struct guestfs_xattr_list *xl = guestfs_lxattrlist(w->g, dir, names);
        if (!xl)
                return error_set(err, ERR_SCAN_FAILED, "cannot read extended attributes in %s: %s", dir,
                                 guest_error(w->g));
        int r = fill_xattrs(entries, n, xl, err);
        guestfs_free_xattr_list(xl);
        if (r < 0)
                return r;

        if (n_links == 0)
                return 0;
        _cleanup_free_ char **link_names = calloc(n_links + 1, sizeof(char *));
        _cleanup_free_ Entry **links = calloc(n_links, sizeof(Entry *));
        if (!link_names || !links)
                return error_set(err, ERR_INTERNAL, "out of memory");
        for (size_t i = 0, k = 0; i < n; i++)
                if (entries[i]->kind == ENTRY_KIND_SYMLINK) {
                        links[k] = entries[i];
                        link_names[k++] = names[i];
                }
        _cleanup_strv_free_ char **targets = guestfs_readlinklist(w->g, dir, link_names);
        if (!targets || strv_length(targets) != n_links)
                return error_set(err, ERR_SCAN_FAILED, "cannot read symbolic links in %s: %s", dir,
                                 guest_error(w->g));
        for (size_t k = 0; k < n_links; k++)
                links[k]->target = TAKE_PTR(targets[k]);
        return 0;
}

static int compare_parent_then_name(const void *x, const void *y) {
        const Entry *a = *(Entry *const *) x, *b = *(Entry *const *) y;
        size_t la = (size_t) (base_name(a->path) - a->path), lb = (size_t) (base_name(b->path) - b->path);
        int c = memcmp(a->path, b->path, la < lb ? la : lb);
        if (c != 0)
                return c;
        if (la != lb)
                return la < lb ? -1 : 1;
        return strcmp(base_name(a->path), base_name(b->path));
}

static int walk_tree(Walk *w, Error *err) {
        Tree *t = w->tree;
        char path[32];
        _cleanup_close_ int fd = -1;

        if (memfd_path(&fd, path) < 0)
                return error_set(err, ERR_INTERNAL, "memfd_create: %m");
        if (guestfs_find0(w->g, "/", path) < 0)
                return error_set(err, ERR_SCAN_FAILED, "cannot list files: %s", guest_error(w->g));

        _cleanup_free_ char *names = NULL;
        size_t len;
        if (read_fd_all(fd, &names, &len) < 0)
                return error_set(err, ERR_INTERNAL, "cannot read the file list: %m");

        size_t count = 1;
        for (size_t i = 0; i < len; i++)
                if (names[i] == 0)
                        count++;
        /* Bounds the daemon's memory and the result: a side's result
         * entries come from its trees' entries. */
        if (count > MAX_MANIFEST_ENTRIES)
                return error_set(err, ERR_SCAN_FAILED, "more than %d entries in one filesystem tree: not compared",
                                 MAX_MANIFEST_ENTRIES);
        t->entries = calloc(count, sizeof(Entry));
        if (!t->entries)
                return error_set(err, ERR_INTERNAL, "out of memory");

        struct guestfs_statns *root = guestfs_lstatns(w->g, "/");
        if (!root)
                return error_set(err, ERR_SCAN_FAILED, "cannot stat /: %s", guest_error(w->g));
        Entry *re = &t->entries[t->n_entries++];
        re->path = strdup("/");
        if (!re->path) {
                guestfs_free_statns(root);
                return error_set(err, ERR_INTERNAL, "out of memory");
        }
        fill_stat(re, root);
        guestfs_free_statns(root);
        re->fs = fs_for_path(w, "/");

        for (size_t i = 0; i < len;) {
                size_t l = strlen(names + i);
                if (l > 0) {
                        Entry *e = &t->entries[t->n_entries];
                        e->path = malloc(l + 2);
                        if (!e->path)
                                return error_set(err, ERR_INTERNAL, "out of memory");
                        e->path[0] = '/';
                        memcpy(e->path + 1, names + i, l + 1);
                        e->fs = fs_for_path(w, e->path);
                        t->n_entries++;
                }
                i += l + 1;
        }
        progress_files(w->progress, 1, t->n_entries);

        /* Group the children by directory: one batch of calls per group. */
        size_t n_children = t->n_entries - 1;
        _cleanup_free_ Entry **order = calloc(n_children ? n_children : 1, sizeof(Entry *));
        if (!order)
                return error_set(err, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < n_children; i++)
                order[i] = &t->entries[i + 1];
        qsort(order, n_children, sizeof(Entry *), compare_parent_then_name);

        for (size_t i = 0; i < n_children;) {
                if (progress_cancelled(w->progress))
                        return error_set(err, ERR_CANCELLED, "cancelled");
                const char *p = order[i]->path;
                size_t dl = (size_t) (base_name(p) - p);
                size_t j = i + 1;
                while (j < n_children && (size_t) (base_name(order[j]->path) - order[j]->path) == dl &&
                       memcmp(order[j]->path, p, dl) == 0)
                        j++;
                /* The parent without its trailing '/', but "/" stays "/". */
                _cleanup_free_ char *dir = strndup(p, dl > 1 ? dl - 1 : 1);
                if (!dir)
                        return error_set(err, ERR_INTERNAL, "out of memory");
                if (scan_directory(w, dir, order + i, j - i, err) < 0)
                        return -1;
                progress_files(w->progress, j - i, 0);
                i = j;
        }
        return 0;
}

/* Content hashes for every regular file of the mounted tree in one bulk call
 * inside the appliance. */
static int hash_tree(Walk *w, Error *err) {
        Tree *t = w->tree;
        uint64_t total = 0;
        for (size_t i = 0; i < t->n_entries; i++)
                if (t->entries[i].kind == ENTRY_KIND_FILE)
                        total += t->entries[i].size;
        progress_bytes(w->progress, 0, total);

        qsort(t->entries, t->n_entries, sizeof(Entry), compare_entry_path);

        char path[32];
        _cleanup_close_ int fd = -1;
        if (memfd_path(&fd, path) < 0)
                return error_set(err, ERR_INTERNAL, "memfd_create: %m");
        if (guestfs_checksums_out(w->g, "sha256", "/", path) < 0) {
                if (progress_cancelled(w->progress))
                        return error_set(err, ERR_CANCELLED, "cancelled");
                /* One unreadable file fails the bulk call: hash file by file
                 * then, so only that file goes without a hash. */
                log_info("bulk checksum failed (%s); hashing file by file", guest_error(w->g));
                return checksums_one_by_one(w->g, t, w->progress, err);
        }
        _cleanup_free_ char *out = NULL;
        size_t len;
        if (read_fd_all(fd, &out, &len) < 0)
                return error_set(err, ERR_INTERNAL, "cannot read checksums: %m");
        if (checksums_parse(out, len, t) < 0)
                return error_set(err, ERR_SCAN_FAILED, "cannot parse the appliance's checksum list");
        progress_bytes(w->progress, total, 0);
        return 0;
}

static int scan_mounted(guestfs_h *g, const ProgressSink *progress, Tree *t, const Mount *mounts,
                        size_t n_mounts, uint32_t default_fs, Error *err) {
        Walk w = {.g = g, .progress = progress, .tree = t, .mounts = mounts, .n_mounts = n_mounts,
                  .default_fs = default_fs};

        progress_phase(progress, PHASE_SCAN);
        if (walk_tree(&w, err) < 0)
                return -1;
        progress_phase(progress, PHASE_HASH);
        return hash_tree(&w, err);
}

/* libguestfs passes on mount(8)'s multi-line messages: keep the first. */
static char *error_line(guestfs_h *g) {
        const char *m = guest_error(g);
        return strndup(m, strcspn(m, "\n"));
}

/* Why F did not mount: the mount error, and what the appliance lacks for
 * F's type when that is the reason. */
static char *mount_error(guestfs_h *g, const Filesystem *f) {
        _cleanup_free_ char *line = error_line(g);
        const FsSupport *s = fs_support_lookup(f->type);
        const char *driver = s ? s->driver : f->type;
        int has_driver = -1, has_tools = -1;

        if (!line)
                return NULL;
        if (driver)
                has_driver = guestfs_filesystem_available(g, driver);
        if (s && s->feature)
                has_tools = guestfs_feature_available(g, (char *[]) {(char *) s->feature, NULL});
        return fs_support_error(f->type, line, has_driver, has_tools);
}

/* Adds a block device when blkid finds a filesystem (or swap, or an
 * encrypted volume) on it. One blkid call gives type, UUID, label and, for
 * a partition, its size. Devices with nothing blkid knows are added to the
 * list SEEN. */
static int probe_device(guestfs_h *g, const char *dev, const Luks *luks, Manifest *m, char *seen, size_t n_seen,
                        Error *err) {
        _cleanup_strv_free_ char **h = guestfs_blkid(g, dev);
        const char *type = blkid_get(h, "TYPE");
        if (!type) {
                size_t l = strlen(seen);
                snprintf(seen + l, n_seen - l, "%s%s", l ? ", " : "", dev);
        }
        /* No filesystem, a partition table, or a member of LVM or RAID (its
         * volumes are listed on their own). */
        if (!type || strcmp(type, "LVM2_member") == 0 || strcmp(type, "linux_raid_member") == 0)
                return 0;

        Filesystem *f = manifest_add_filesystem(m);
        if (!f)
                return error_set(err, ERR_INTERNAL, "out of memory");
        f->device = guestfs_canonical_device_name(g, dev);
        f->type = strdup(type);
        if (!f->device || !f->type)
                return error_set(err, ERR_INTERNAL, "out of memory");
        const char *uuid = blkid_get(h, "UUID"), *label = blkid_get(h, "LABEL");
        f->uuid = uuid && uuid[0] ? strdup(uuid) : NULL;
        f->label = label && label[0] ? strdup(label) : NULL;
        /* What an encrypted volume holds is a filesystem of its own, once
         * opened (listed below); locked, it is one that could not be read. */
        if (strcmp(type, "crypto_LUKS") == 0) {
                const LuksVolume *v = luks ? luks_find(luks, dev) : NULL;
                if ((!v || !v->mapper) && !(f->error = strdup(luks_locked_reason(v))))
                        return error_set(err, ERR_INTERNAL, "out of memory");
        }
        const char *sectors = blkid_get(h, "PART_ENTRY_SIZE");
        if (sectors)
                f->size = strtoull(sectors, NULL, 10) * 512;
        else {
                int64_t size = guestfs_blockdev_getsize64(g, dev);
                f->size = size > 0 ? (uint64_t) size : 0;
        }
        return 0;
}

/* Every filesystem (block_devices()), and what opened encrypted volumes
 * hold. */
static int list_filesystems(guestfs_h *g, const Luks *luks, Manifest *m, Error *err) {
        char seen[256] = "";
        _cleanup_strv_free_ char **devices = NULL;

        if (block_devices(g, &devices, err) < 0)
                return -1;
        for (char **d = devices; *d; d++)
                if (probe_device(g, *d, luks, m, seen, sizeof seen, err) < 0)
                        return -1;
        for (size_t i = 0; luks && i < luks->n; i++)
                if (luks->volumes[i].mapper && probe_device(g, luks->volumes[i].mapper, luks, m, seen, sizeof seen, err) < 0)
                        return -1;
        if (m->n_filesystems == 0)
                return error_set(err, ERR_NOTHING_MOUNTABLE, "no filesystems found (blkid recognises nothing on %s)",
                                 seen[0] ? seen : "any device");
        return 0;
}

static int find_fs(const Manifest *m, guestfs_h *g, const char *dev) {
        _cleanup_free_ char *canon = guestfs_canonical_device_name(g, dev);
        for (size_t i = 0; i < m->n_filesystems; i++)
                if (streq_ptr(m->filesystems[i].device, canon ? canon : dev))
                        return (int) i;
        return -1;
}

static int compare_mount_length_desc(const void *x, const void *y) {
        const Mount *a = x, *b = y;
        size_t la = strlen(a->mountpoint), lb = strlen(b->mountpoint);
        return la < lb ? 1 : la > lb ? -1 : strcmp(a->mountpoint, b->mountpoint);
}

/* Mounts the inspected OS as the guest would and scans it as the tree "/";
 * its packages too when asked, while it is mounted. */
static int scan_os(guestfs_h *g, const char *root, const ScanOptions *opts, const ProgressSink *progress, Manifest *m,
                   PackageSet **ret_packages, Error *err) {
        m->inspected = true;
        m->os_product = guestfs_inspect_get_product_name(g, root);

        _cleanup_strv_free_ char **mps = guestfs_inspect_get_mountpoints(g, root);
        if (!mps)
                return error_set(err, ERR_INSPECTION_FAILED, "cannot get the OS's mount points: %s",
                                 guest_error(g));
        size_t n = strv_length(mps) / 2, n_mounts = 0;
        _cleanup_free_ Mount *mounts = calloc(n ? n : 1, sizeof(Mount));
        if (!mounts)
                return error_set(err, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < n; i++) {
                int fs = find_fs(m, g, mps[2 * i + 1]);
                if (fs < 0)
                        continue;
                mounts[n_mounts++] = (Mount){.mountpoint = mps[2 * i], .fs = (uint32_t) fs};
        }
        /* Shortest first to mount, longest first to attribute paths. */
        qsort(mounts, n_mounts, sizeof(Mount), compare_mount_length_desc);
        bool root_mounted = false;
        for (size_t i = n_mounts; i-- > 0;) {
                Filesystem *f = &m->filesystems[mounts[i].fs];
                free(f->mountpoint);
                f->mountpoint = strdup(mounts[i].mountpoint);
                if (guestfs_mount_ro(g, f->device, mounts[i].mountpoint) < 0) {
                        free(f->error);
                        f->error = mount_error(g, f);
                        continue;
                }
                f->scanned = true;
                if (strcmp(mounts[i].mountpoint, "/") == 0)
                        root_mounted = true;
        }
        if (!root_mounted) {
                int fs = find_fs(m, g, root);
                const char *why = fs >= 0 ? m->filesystems[fs].error : NULL;
                return error_set(err, ERR_INSPECTION_FAILED, "cannot mount the OS's root filesystem %s%s%s", root,
                                 why ? ": " : "", strempty(why));
        }

        /* Mount points that failed to mount must not claim paths. */
        size_t k = 0;
        for (size_t i = 0; i < n_mounts; i++)
                if (m->filesystems[mounts[i].fs].scanned)
                        mounts[k++] = mounts[i];

        Tree *t = manifest_add_tree(m, "/");
        if (!t)
                return error_set(err, ERR_INTERNAL, "out of memory");
        int fs_root = find_fs(m, g, root);
        int r = scan_mounted(g, progress, t, mounts, k, fs_root < 0 ? 0 : (uint32_t) fs_root, err);
        if (r == 0 && opts && opts->packages) {
                qsort(t->entries, t->n_entries, sizeof(Entry), compare_entry_path);
                r = package_scan(g, t, opts->tmpdir, progress, ret_packages, err);
        }
        (void) guestfs_umount_all(g);
        return r;
}

/* Scans each filesystem the OS does not mount as a tree of its own. */
static int scan_standalone(guestfs_h *g, const ProgressSink *progress, Manifest *m, Error *err) {
        for (size_t i = 0; i < m->n_filesystems; i++) {
                Filesystem *f = &m->filesystems[i];
                if (f->mountpoint || strcmp(f->type, "swap") == 0 || strcmp(f->type, "crypto_LUKS") == 0)
                        continue;
                if (progress_cancelled(progress))
                        return error_set(err, ERR_CANCELLED, "cancelled");
                if (guestfs_mount_ro(g, f->device, "/") < 0) {
                        free(f->error);
                        f->error = mount_error(g, f);
                        continue;
                }
                Tree *t = manifest_add_tree(m, f->device);
                if (!t) {
                        (void) guestfs_umount_all(g);
                        return error_set(err, ERR_INTERNAL, "out of memory");
                }
                f = &m->filesystems[i];
                f->scanned = true;
                int r = scan_mounted(g, progress, t, NULL, 0, (uint32_t) i, err);
                (void) guestfs_umount_all(g);
                if (r < 0)
                        return r;
        }
        return 0;
}

int scanner_scan(guestfs_h *g, const ScanOptions *opts, const ProgressSink *progress, Manifest **ret,
                 PackageSet **ret_packages, Error *err) {
        const Luks *luks = opts ? opts->luks : NULL;
        _cleanup_manifest_ Manifest *m = manifest_new();
        _cleanup_package_set_ PackageSet *ps = NULL;
        if (!m)
                return error_set(err, ERR_INTERNAL, "out of memory");

        progress_phase(progress, PHASE_INSPECT);
        if (list_filesystems(g, luks, m, err) < 0)
                return -1;

        _cleanup_strv_free_ char **roots = guestfs_inspect_os(g);
        if (!roots)
                return error_set(err, ERR_INSPECTION_FAILED, "inspection failed: %s", guest_error(g));
        if (roots[0] && scan_os(g, roots[0], opts, progress, m, &ps, err) < 0)
                return -1;
        if (scan_standalone(g, progress, m, err) < 0)
                return -1;

        /* Locked volumes alone: each says why it was not read. */
        bool locked = false;
        for (size_t i = 0; i < m->n_filesystems; i++)
                locked |= strcmp(m->filesystems[i].type, "crypto_LUKS") == 0 && m->filesystems[i].error;
        if (m->n_trees == 0 && !locked) {
                char list[512] = "";
                for (size_t i = 0; i < m->n_filesystems; i++) {
                        size_t l = strlen(list);
                        snprintf(list + l, sizeof list - l, "%s%s (%s%s%s)", i ? ", " : "",
                                 m->filesystems[i].device, m->filesystems[i].type,
                                 m->filesystems[i].error ? ": " : "", strempty(m->filesystems[i].error));
                }
                return error_set(err, ERR_NOTHING_MOUNTABLE, "no filesystem could be mounted: %s", list);
        }
        manifest_sort(m);
        if (opts && opts->packages && !ps && !(ps = package_set_new()))
                return error_set(err, ERR_INTERNAL, "out of memory");
        *ret = TAKE_PTR(m);
        if (ret_packages)
                *ret_packages = TAKE_PTR(ps);
        return 0;
}

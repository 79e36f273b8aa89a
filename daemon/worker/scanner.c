#include "worker/scanner.h"

#include "common/log.h"
#include "worker/devices.h"
#include "worker/fs-support.h"
#include "worker/package-scan.h"
#include "worker/tree-walk.h"

const char *guest_error(guestfs_h *g) {
        const char *m = g ? guestfs_last_error(g) : NULL;
        return m ? m : "unknown libguestfs error";
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
        const TreeMount *a = x, *b = y;
        size_t la = strlen(a->mountpoint), lb = strlen(b->mountpoint);
        return la < lb ? 1 : la > lb ? -1 : strcmp(a->mountpoint, b->mountpoint);
}


/* What a scan mounts and walks, decided before its manifest's head goes
 * out (the head says which filesystems were scanned and why others were
 * not). */
typedef struct Plan {
        bool os;
        char **mps;        /* the OS's mount points and devices, owned */
        TreeMount *mounts; /* the OS's mounted ones, longest mount point first */
        size_t n_mounts;
        uint32_t fs_root;
        size_t *alone; /* filesystems scanned as trees of their own, by device */
        size_t n_alone;
} Plan;

static void plan_done(Plan *p) {
        strv_free(p->mps);
        free(p->mounts);
        free(p->alone);
}

/* Where the inspected OS mounts what: each filesystem gets its mount
 * point, so that it is not also scanned on its own. */
static int plan_os(guestfs_h *g, const char *root, Manifest *m, Plan *p, Error *err) {
        m->inspected = true;
        m->os_product = guestfs_inspect_get_product_name(g, root);
        p->os = true;
        p->mps = guestfs_inspect_get_mountpoints(g, root);
        if (!p->mps)
                return error_set(err, ERR_INSPECTION_FAILED, "cannot get the OS's mount points: %s", guest_error(g));
        size_t n = strv_length(p->mps) / 2;
        p->mounts = calloc(n ? n : 1, sizeof(TreeMount));
        if (!p->mounts)
                return error_set(err, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < n; i++) {
                int fs = find_fs(m, g, p->mps[2 * i + 1]);
                if (fs < 0)
                        continue;
                Filesystem *f = &m->filesystems[fs];
                free(f->mountpoint);
                if (!(f->mountpoint = strdup(p->mps[2 * i])))
                        return error_set(err, ERR_INTERNAL, "out of memory");
                p->mounts[p->n_mounts++] = (TreeMount){.mountpoint = p->mps[2 * i], .fs = (uint32_t) fs};
        }
        qsort(p->mounts, p->n_mounts, sizeof(TreeMount), compare_mount_length_desc);
        int fs_root = find_fs(m, g, root);
        p->fs_root = fs_root < 0 ? 0 : (uint32_t) fs_root;
        return 0;
}

/* Mounts the OS as the guest would, shortest mount point first; a mount
 * point that fails keeps its error and claims no paths. */
static int mount_os(guestfs_h *g, const char *root, Manifest *m, Plan *p, Error *err) {
        bool root_mounted = false;
        for (size_t i = p->n_mounts; i-- > 0;) {
                Filesystem *f = &m->filesystems[p->mounts[i].fs];
                if (guestfs_mount_ro(g, f->device, p->mounts[i].mountpoint) < 0) {
                        free(f->error);
                        f->error = mount_error(g, f);
                        continue;
                }
                f->scanned = true;
                root_mounted |= strcmp(p->mounts[i].mountpoint, "/") == 0;
        }
        if (!root_mounted) {
                int fs = find_fs(m, g, root);
                const char *why = fs >= 0 ? m->filesystems[fs].error : NULL;
                return error_set(err, ERR_INSPECTION_FAILED, "cannot mount the OS's root filesystem %s%s%s", root,
                                 why ? ": " : "", strempty(why));
        }
        size_t k = 0;
        for (size_t i = 0; i < p->n_mounts; i++)
                if (m->filesystems[p->mounts[i].fs].scanned)
                        p->mounts[k++] = p->mounts[i];
        p->n_mounts = k;
        return 0;
}

static int by_device(const void *x, const void *y, void *userdata) {
        const Manifest *m = userdata;
        return strcmp(m->filesystems[*(const size_t *) x].device, m->filesystems[*(const size_t *) y].device);
}

/* Each filesystem the OS does not mount is tried once now, so that the
 * head can say whether it was scanned; it is mounted again for its walk. */
static int probe_alone(guestfs_h *g, const ProgressSink *progress, Manifest *m, Plan *p, Error *err) {
        p->alone = calloc(m->n_filesystems ? m->n_filesystems : 1, sizeof(size_t));
        if (!p->alone)
                return error_set(err, ERR_INTERNAL, "out of memory");
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
                f->scanned = true;
                p->alone[p->n_alone++] = i;
                if (guestfs_umount_all(g) < 0)
                        return error_set(err, ERR_APPLIANCE_FAILED, "cannot unmount %s: %s", f->device,
                                         guest_error(g));
        }
        /* Trees go in key order: "/" before every device. */
        qsort_r(p->alone, p->n_alone, sizeof(size_t), by_device, m);
        return 0;
}

/* Locked volumes alone: each says why it was not read; else a guest with
 * nothing to walk is an error. */
static int check_something(const Manifest *m, const Plan *p, Error *err) {
        bool locked = false;
        for (size_t i = 0; i < m->n_filesystems; i++)
                locked |= strcmp(m->filesystems[i].type, "crypto_LUKS") == 0 && m->filesystems[i].error;
        if (p->os || p->n_alone > 0 || locked)
                return 0;
        char list[512] = "";
        for (size_t i = 0; i < m->n_filesystems; i++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s (%s%s%s)", i ? ", " : "", m->filesystems[i].device,
                         m->filesystems[i].type, m->filesystems[i].error ? ": " : "",
                         strempty(m->filesystems[i].error));
        }
        return error_set(err, ERR_NOTHING_MOUNTABLE, "no filesystem could be mounted: %s", list);
}

typedef int (*OsScanned)(void *userdata, guestfs_h *g, Error *e);

static int scan_stream(guestfs_h *g, const ScanOptions *opts, const ProgressSink *progress, const ManifestSink *sink,
                       OsScanned os_scanned, void *userdata, Error *err) {
        const Luks *luks = opts ? opts->luks : NULL;
        const char *tmpdir = opts ? opts->tmpdir : NULL;
        _cleanup_manifest_ Manifest *m = manifest_new();
        _cleanup_(plan_done) Plan p = {};
        if (!m)
                return error_set(err, ERR_INTERNAL, "out of memory");

        progress_phase(progress, PHASE_INSPECT);
        if (list_filesystems(g, luks, m, err) < 0)
                return -1;
        _cleanup_strv_free_ char **roots = guestfs_inspect_os(g);
        if (!roots)
                return error_set(err, ERR_INSPECTION_FAILED, "inspection failed: %s", guest_error(g));
        if (roots[0] && plan_os(g, roots[0], m, &p, err) < 0)
                return -1;
        if (probe_alone(g, progress, m, &p, err) < 0)
                return -1;
        if (p.os && mount_os(g, roots[0], m, &p, err) < 0) {
                (void) guestfs_umount_all(g);
                return -1;
        }
        if (check_something(m, &p, err) < 0 || sink->head(sink->userdata, m, err) < 0) {
                (void) guestfs_umount_all(g);
                return -1;
        }

        if (p.os) {
                int r = sink->tree(sink->userdata, "/", err);
                if (r >= 0)
                        r = tree_walk(g, tmpdir, p.mounts, p.n_mounts, p.fs_root, progress, sink, err);
                if (r >= 0 && os_scanned)
                        r = os_scanned(userdata, g, err);
                (void) guestfs_umount_all(g);
                if (r < 0)
                        return -1;
        }
        for (size_t k = 0; k < p.n_alone; k++) {
                const Filesystem *f = &m->filesystems[p.alone[k]];
                if (progress_cancelled(progress))
                        return error_set(err, ERR_CANCELLED, "cancelled");
                if (guestfs_mount_ro(g, f->device, "/") < 0)
                        return error_set(err, ERR_SCAN_FAILED, "cannot mount %s again: %s", f->device,
                                         guest_error(g));
                int r = sink->tree(sink->userdata, f->device, err);
                if (r >= 0)
                        r = tree_walk(g, tmpdir, NULL, 0, (uint32_t) p.alone[k], progress, sink, err);
                (void) guestfs_umount_all(g);
                if (r < 0)
                        return -1;
        }
        return sink->end(sink->userdata, err);
}

int scanner_scan_stream(guestfs_h *g, const ScanOptions *opts, const ProgressSink *progress,
                        const ManifestSink *sink, Error *err) {
        return scan_stream(g, opts, progress, sink, NULL, NULL, err);
}

typedef struct PackageStep {
        ManifestBuilder *builder;
        const ScanOptions *opts;
        const ProgressSink *progress;
        PackageSet *packages;
} PackageStep;

/* While the OS is still mounted, its tree just built. */
static int scan_packages(void *userdata, guestfs_h *g, Error *err) {
        PackageStep *s = userdata;
        return package_scan(g, s->builder->tree, s->opts->tmpdir, s->progress, &s->packages, err);
}

int scanner_scan(guestfs_h *g, const ScanOptions *opts, const ProgressSink *progress, Manifest **ret,
                 PackageSet **ret_packages, Error *err) {
        _cleanup_(manifest_builder_done) ManifestBuilder b = {};
        PackageStep step = {.builder = &b, .opts = opts, .progress = progress};
        ManifestSink sink = manifest_builder_sink(&b);
        bool packages = opts && opts->packages;

        int r = scan_stream(g, opts, progress, &sink, packages ? scan_packages : NULL, &step, err);
        _cleanup_package_set_ PackageSet *ps = TAKE_PTR(step.packages);
        if (r < 0)
                return -1;
        if (packages && !ps && !(ps = package_set_new()))
                return error_set(err, ERR_INTERNAL, "out of memory");
        *ret = manifest_builder_take(&b);
        if (ret_packages)
                *ret_packages = TAKE_PTR(ps);
        return 0;
}

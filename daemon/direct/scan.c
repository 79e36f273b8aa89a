#include "direct/direct.h"

#include "direct/ext-io.h"
#include "direct/inspect.h"
#include "direct/volumes.h"
#include "direct/walk.h"
#include "manifest/manifest-stream.h"

#define READ_BUFFER (1U << 20)

struct DirectSide {
        ImageReader **disks;
        size_t n_disks;
        Volumes volumes;
        ext2_filsys *fs; /* per volume; NULL for swap */
        Inspection inspection;
        WalkMount *mounts; /* what direct_side_mount() has mounted */
        size_t n_mounts;
        uint64_t max_file_size; /* 0: the kernel's */
        void *buf;
};

static bool is_ext(const char *type) {
        return streq_ptr(type, "ext2") || streq_ptr(type, "ext3") || streq_ptr(type, "ext4");
}

DirectSide *direct_side_free(DirectSide *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; s->fs && i < s->volumes.n; i++)
                if (s->fs[i])
                        (void) ext2fs_close_free(&s->fs[i]);
        free(s->fs);
        volumes_done(&s->volumes);
        inspection_done(&s->inspection);
        free(s->mounts);
        for (size_t i = 0; i < s->n_disks; i++)
                image_reader_free(s->disks[i]);
        free(s->disks);
        free(s->buf);
        free(s);
        return NULL;
}

static int refuse(Error *e, const Volume *v, const char *why) {
        return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: %s", v->device, why);
}

/* Opens an ext filesystem as the kernel would mount it read-only, or
 * refuses one whose reading would differ. */
static int open_fs(DirectSide *s, size_t i, Error *e) {
        const Volume *v = &s->volumes.v[i];
        ext2_filsys fs = NULL;
        errcode_t err = ext_io_open(s->disks[v->disk], v->offset, v->size, 0, &fs);
        if (err)
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: libext2fs cannot open it: %s", v->device,
                                 error_message(err));
        s->fs[i] = fs;
        struct ext2_super_block *sb = fs->super;
        if (ext2fs_has_feature_journal_needs_recovery(sb))
                return refuse(e, v, "its journal needs recovery (the kernel would replay it)");
        if (sb->s_last_orphan || ext2fs_has_feature_orphan_present(sb))
                return refuse(e, v, "orphaned inodes (the kernel would clean them up)");
        if (ext2fs_blocks_count(sb) > v->size / fs->blocksize)
                return refuse(e, v, "larger than its device");
        char opts[sizeof sb->s_mount_opts + 1] = "";
        memcpy(opts, sb->s_mount_opts, sizeof sb->s_mount_opts);
        if (strstr(opts, "acl") || strstr(opts, "xattr"))
                return refuse(e, v, "default mount options that change extended attributes");
        return 0;
}

int direct_side_open(ImageReader **disks, size_t n, DirectSide **ret, Error *e) {
        _cleanup_direct_side_ DirectSide *s = calloc(1, sizeof(*s));
        if (!s) {
                for (size_t i = 0; i < n; i++)
                        image_reader_free(disks[i]);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        s->disks = calloc(n + 1, sizeof(ImageReader *));
        if (s->disks) {
                memcpy(s->disks, disks, n * sizeof(ImageReader *));
                s->n_disks = n;
        } else {
                for (size_t i = 0; i < n; i++)
                        image_reader_free(disks[i]);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        s->buf = malloc(READ_BUFFER);
        if (!s->buf)
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (volumes_probe(s->disks, n, &s->volumes, e) < 0)
                return -1;
        s->fs = calloc(s->volumes.n + 1, sizeof(ext2_filsys));
        _cleanup_free_ InspectFs *ifs = calloc(s->volumes.n + 1, sizeof(InspectFs));
        if (!s->fs || !ifs)
                return error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < s->volumes.n; i++) {
                const Volume *v = &s->volumes.v[i];
                if (is_ext(v->type)) {
                        if (open_fs(s, i, e) < 0)
                                return -1;
                } else if (!streq_ptr(v->type, "swap")) {
                        char why[128];
                        snprintf(why, sizeof why, "a filesystem of type %s", v->type);
                        return refuse(e, v, why);
                }
                ifs[i] = (InspectFs) {.device = v->device, .type = v->type, .uuid = v->raw_uuid,
                                      .label = v->raw_label, .fs = s->fs[i]};
        }
        if (s->volumes.n > 0 && inspect_side(ifs, s->volumes.n, &s->inspection, e) < 0)
                return -1;
        *ret = TAKE_PTR(s);
        return 0;
}

static int add_filesystems(const DirectSide *s, Manifest *m, Error *e) {
        for (size_t i = 0; i < s->volumes.n; i++) {
                const Volume *v = &s->volumes.v[i];
                Filesystem *f = manifest_add_filesystem(m);
                if (!f)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                f->device = strdup(v->device);
                f->type = strdup(v->type);
                f->uuid = v->uuid ? strdup(v->uuid) : NULL;
                f->label = v->label ? strdup(v->label) : NULL;
                f->size = v->size;
                if (!f->device || !f->type || (v->uuid && !f->uuid) || (v->label && !f->label))
                        return error_set(e, ERR_INTERNAL, "out of memory");
        }
        return 0;
}

static int compare_mount_length_desc(const void *x, const void *y) {
        const InspectMount *a = x, *b = y;
        size_t la = strlen(a->mountpoint), lb = strlen(b->mountpoint);
        return la < lb ? 1 : la > lb ? -1 : strcmp(a->mountpoint, b->mountpoint);
}

/* As the scanner's scan_os(): the OS's filesystems mounted shortest mount
 * point first (then one walk of "/"). */
static int mount_os(DirectSide *s, Manifest *m, Error *e) {
        Inspection *in = &s->inspection;
        m->inspected = true;
        m->os_product = strdup(in->product);
        if (!m->os_product)
                return error_set(e, ERR_INTERNAL, "out of memory");

        _cleanup_free_ InspectMount *mounts = calloc(in->n_mounts + 1, sizeof(InspectMount));
        if (!mounts)
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (in->n_mounts > 0)
                memcpy(mounts, in->mounts, in->n_mounts * sizeof(InspectMount));
        qsort(mounts, in->n_mounts, sizeof(InspectMount), compare_mount_length_desc);

        direct_side_umount_all(s);
        bool root_mounted = false;
        for (size_t i = in->n_mounts; i-- > 0;) {
                Filesystem *f = &m->filesystems[mounts[i].fs];
                free(f->mountpoint);
                f->mountpoint = strdup(mounts[i].mountpoint);
                if (!f->mountpoint)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                if (direct_side_mount(s, f->device, mounts[i].mountpoint, e) < 0)
                        return -1;
                f->scanned = true;
                root_mounted |= strcmp(mounts[i].mountpoint, "/") == 0;
        }
        if (!root_mounted)
                return error_set(e, ERR_INSPECTION_FAILED, "cannot mount the OS's root filesystem %s",
                                 s->volumes.v[in->root].device);

        return 0;
}

static int emit_entries(void *userdata, const Entry *entries, size_t n, Error *e) {
        const ManifestSink *sink = userdata;
        return sink->entries(sink->userdata, entries, n, e);
}

static int by_device(const void *x, const void *y, void *userdata) {
        const Manifest *m = userdata;
        return strcmp(m->filesystems[*(const size_t *) x].device, m->filesystems[*(const size_t *) y].device);
}

int direct_side_scan_stream(DirectSide *s, const ProgressSink *progress, const ManifestSink *sink, Error *e) {
        _cleanup_manifest_ Manifest *m = manifest_new();
        if (!m)
                return error_set(e, ERR_INTERNAL, "out of memory");

        progress_phase(progress, PHASE_INSPECT);
        if (add_filesystems(s, m, e) < 0)
                return -1;
        if (m->n_filesystems == 0)
                return error_set(e, ERR_NOTHING_MOUNTABLE, "no filesystems found");
        bool os = s->inspection.found;
        if (os && mount_os(s, m, e) < 0)
                return -1;
        /* Every other filesystem is a tree of its own, by device. */
        _cleanup_free_ size_t *alone = calloc(m->n_filesystems, sizeof(size_t));
        size_t n_alone = 0;
        if (!alone)
                return error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < m->n_filesystems; i++)
                if (!m->filesystems[i].mountpoint && strcmp(m->filesystems[i].type, "swap") != 0) {
                        m->filesystems[i].scanned = true;
                        alone[n_alone++] = i;
                }
        if (!os && n_alone == 0) {
                char list[512] = "";
                for (size_t i = 0; i < m->n_filesystems; i++) {
                        size_t l = strlen(list);
                        snprintf(list + l, sizeof list - l, "%s%s (%s)", i ? ", " : "", m->filesystems[i].device,
                                 m->filesystems[i].type);
                }
                return error_set(e, ERR_NOTHING_MOUNTABLE, "no filesystem could be mounted: %s", list);
        }
        /* Trees in key order: "/" before every device. */
        qsort_r(alone, n_alone, sizeof(size_t), by_device, m);
        if (sink->head(sink->userdata, m, e) < 0)
                return -1;
        if (os) {
                int r = sink->tree(sink->userdata, "/", e);
                if (r >= 0)
                        r = walk_tree(s->mounts, s->n_mounts, s->max_file_size, emit_entries, (void *) sink,
                                      progress, e);
                direct_side_umount_all(s);
                if (r < 0)
                        return r;
        }
        for (size_t k = 0; k < n_alone; k++) {
                size_t i = alone[k];
                if (progress_cancelled(progress))
                        return error_set(e, ERR_CANCELLED, "cancelled");
                WalkMount root = {.path = "/", .fs = s->fs[i], .fs_index = (uint32_t) i,
                                  .st_dev = s->volumes.v[i].st_dev};
                if (sink->tree(sink->userdata, m->filesystems[i].device, e) < 0 ||
                    walk_tree(&root, 1, s->max_file_size, emit_entries, (void *) sink, progress, e) < 0)
                        return -1;
        }
        return sink->end(sink->userdata, e);
}

int direct_side_scan(DirectSide *s, const ProgressSink *progress, Manifest **ret, Error *e) {
        ManifestBuilder b = {};
        ManifestSink sink = manifest_builder_sink(&b);
        int r = direct_side_scan_stream(s, progress, &sink, e);
        if (r >= 0) {
                *ret = manifest_builder_take(&b);
                if (!*ret)
                        r = error_set(e, ERR_INTERNAL, "the scan's manifest did not end");
        }
        manifest_builder_done(&b);
        return r;
}

static ssize_t volume_index(const DirectSide *s, const char *device) {
        for (size_t i = 0; i < s->volumes.n; i++)
                if (strcmp(s->volumes.v[i].device, device) == 0)
                        return (ssize_t) i;
        return -1;
}

int direct_side_mount(DirectSide *s, const char *device, const char *mountpoint, Error *e) {
        ssize_t i = volume_index(s, device);
        if (i < 0 || !s->fs[i])
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: not a filesystem the direct engine reads", device);
        if (s->n_mounts == 0 && strcmp(mountpoint, "/") != 0)
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: nothing is mounted at /", mountpoint);
        if (s->n_mounts > 0) {
                size_t mount;
                ext2_ino_t ino;
                struct ext2_inode inode;
                int r = walk_lookup(s->mounts, s->n_mounts, mountpoint, &mount, &ino);
                if (r >= 0 && ext2fs_read_inode(s->mounts[mount].fs, ino, &inode) == 0 &&
                    !LINUX_S_ISDIR(inode.i_mode))
                        r = -ENOTDIR;
                if (r < 0)
                        return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: cannot mount %s there: %s", mountpoint,
                                         device, strerror(-r));
                for (size_t k = 0; k < s->n_mounts; k++)
                        if (strcmp(s->mounts[k].path, mountpoint) == 0 || s->mounts[k].fs == s->fs[i])
                                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: mounted twice", mountpoint);
        }
        WalkMount *n = realloc(s->mounts, (s->n_mounts + 1) * sizeof(WalkMount));
        if (!n)
                return error_set(e, ERR_INTERNAL, "out of memory");
        s->mounts = n;
        /* The mount point string belongs to the caller until unmounted. */
        s->mounts[s->n_mounts++] = (WalkMount) {.path = mountpoint, .fs = s->fs[i], .fs_index = (uint32_t) i,
                                                .st_dev = s->volumes.v[i].st_dev};
        return 0;
}

void direct_side_set_max_file_size(DirectSide *s, uint64_t max) {
        s->max_file_size = max;
}

void direct_side_umount_all(DirectSide *s) {
        free(s->mounts);
        s->mounts = NULL;
        s->n_mounts = 0;
}

int direct_side_read(DirectSide *s, const char *path, ContentSink sink, void *userdata, Error *e) {
        size_t mount;
        ext2_ino_t ino;
        struct ext2_inode_large inode;

        if (s->n_mounts == 0)
                return error_set(e, ERR_SCAN_FAILED, "%s: nothing is mounted", path);
        int r = walk_lookup(s->mounts, s->n_mounts, path, &mount, &ino);
        if (r < 0)
                return error_set(e, ERR_SCAN_FAILED, "%s: %s", path, strerror(-r));
        ext2_filsys fs = s->mounts[mount].fs;
        if (ext2fs_read_inode_full(fs, ino, EXT2_INODE(&inode), sizeof inode))
                return error_set(e, ERR_SCAN_FAILED, "%s: cannot read its inode", path);
        if (!LINUX_S_ISREG(inode.i_mode))
                return error_set(e, ERR_SCAN_FAILED, "%s: not a regular file", path);
        return file_content_stream(fs, ino, &inode, s->buf, READ_BUFFER, sink, userdata, e);
}

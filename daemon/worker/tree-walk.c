#include "worker/tree-walk.h"

#include "common/input-limits.h"
#include "common/log.h"
#include "worker/scanner.h"
#include "worker/scratch.h"
#include "worker/tree-order.h"

typedef struct Walk {
        guestfs_h *g;
        const ProgressSink *progress;
        const ManifestSink *sink;
        const TreeMount *mounts; /* longest mount point first */
        size_t n_mounts;
        uint32_t default_fs;
        uint64_t file_bytes;     /* of the regular files handed out */
        uint64_t hashed_alone;   /* files the bulk listing left to us */
} Walk;

static uint32_t fs_for_path(const Walk *w, const char *path) {
        for (size_t i = 0; i < w->n_mounts; i++) {
                const char *mp = w->mounts[i].mountpoint;
                size_t l = strlen(mp);
                if (strcmp(mp, "/") == 0 || (strncmp(path, mp, l) == 0 && (path[l] == 0 || path[l] == '/')))
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
static int fill_xattrs(Entry *entries, size_t n, const struct guestfs_xattr_list *xl, Error *err) {
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
                Entry *e = &entries[i];
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

/* A chunk of one directory's children: their stats, xattrs and symlink
 * targets in three round trips whatever their number. */
static int stat_children(void *userdata, const char *dir, char **names, Entry *entries, size_t n, Error *err) {
        Walk *w = userdata;
        if (progress_cancelled(w->progress))
                return error_set(err, ERR_CANCELLED, "cancelled");

        struct guestfs_statns_list *sl = guestfs_lstatnslist(w->g, dir, names);
        if (!sl)
                return error_set(err, ERR_SCAN_FAILED, "cannot list %s: %s", dir, guest_error(w->g));
        if (sl->len != n) {
                guestfs_free_statns_list(sl);
                return error_set(err, ERR_SCAN_FAILED, "short lstatnslist reply for %s", dir);
        }
        size_t n_links = 0;
        for (size_t i = 0; i < n; i++) {
                fill_stat(&entries[i], &sl->val[i]);
                n_links += entries[i].kind == ENTRY_KIND_SYMLINK;
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
        progress_files(w->progress, n, 0);
        if (n_links == 0)
                return 0;

        _cleanup_free_ char **link_names = calloc(n_links + 1, sizeof(char *));
        _cleanup_free_ Entry **links = calloc(n_links, sizeof(Entry *));
        if (!link_names || !links)
                return error_set(err, ERR_INTERNAL, "out of memory");
        for (size_t i = 0, k = 0; i < n; i++)
                if (entries[i].kind == ENTRY_KIND_SYMLINK) {
                        links[k] = &entries[i];
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

static int emit_entry(void *userdata, Entry *en, Error *err) {
        Walk *w = userdata;
        en->fs = fs_for_path(w, en->path);
        if (en->kind == ENTRY_KIND_FILE) {
                w->file_bytes += en->size;
                if (!en->has_sha256) {
                        if (progress_cancelled(w->progress))
                                return error_set(err, ERR_CANCELLED, "cancelled");
                        /* A file that cannot be read keeps no hash. */
                        _cleanup_free_ char *hex = guestfs_checksum(w->g, "sha256", en->path);
                        if (hex && unhexmem(hex, en->sha256, sizeof en->sha256) == 0)
                                en->has_sha256 = true;
                        else
                                log_info("cannot hash %s: %s", en->path, guest_error(w->g));
                        w->hashed_alone++;
                }
        }
        return w->sink->entries(w->sink->userdata, en, 1, err);
}

static int emit_root(Walk *w, Error *err) {
        struct guestfs_statns *st = guestfs_lstatns(w->g, "/");
        if (!st)
                return error_set(err, ERR_SCAN_FAILED, "cannot stat /: %s", guest_error(w->g));
        Entry root = {.path = (char *) "/"};
        fill_stat(&root, st);
        guestfs_free_statns(st);
        root.fs = fs_for_path(w, "/");
        return w->sink->entries(w->sink->userdata, &root, 1, err);
}

int tree_walk(guestfs_h *g, const char *tmpdir, const TreeMount *mounts, size_t n_mounts, uint32_t default_fs,
              const ProgressSink *progress, const ManifestSink *sink, Error *err) {
        Walk w = {.g = g, .progress = progress, .sink = sink, .mounts = mounts, .n_mounts = n_mounts,
                  .default_fs = default_fs};
        /* The listings one after the other in one file; their records in
         * two others. */
        ScratchFile list = {.fd = -1}, names = {.fd = -1}, sums = {.fd = -1};
        int k = scratch_open(&list, tmpdir);
        if (k >= 0)
                k = scratch_open(&names, tmpdir);
        if (k >= 0)
                k = scratch_open(&sums, tmpdir);
        _cleanup_close_ int list_fd = list.fd, names_fd = names.fd, sums_fd = sums.fd;
        if (k < 0)
                return error_set(err, ERR_INTERNAL, "cannot make a scratch file: %s", strerror(-k));

        progress_phase(progress, PHASE_SCAN);
        if (guestfs_find0(g, "/", list.path) < 0)
                return error_set(err, ERR_SCAN_FAILED, "cannot list files: %s", guest_error(g));
        uint64_t count = 0;
        if (tree_records_from_names(list_fd, names_fd, &count, err) < 0)
                return -1;
        /* Bounds the store and the result: a side's result entries come
         * from its trees' entries. */
        if (count + 1 > MAX_MANIFEST_ENTRIES)
                return error_set(err, ERR_SCAN_FAILED, "more than %d entries in one filesystem tree: not compared",
                                 MAX_MANIFEST_ENTRIES);

        /* Every regular file's content in one bulk call; then the names and
         * their stats in path order. */
        progress_phase(progress, PHASE_HASH);
        (void) ftruncate(list_fd, 0);
        uint64_t n_sums = 0;
        bool bulk = guestfs_checksums_out(g, "sha256", "/", list.path) == 0;
        if (!bulk) {
                if (progress_cancelled(progress))
                        return error_set(err, ERR_CANCELLED, "cancelled");
                /* One unreadable file fails the bulk call: every file is
                 * hashed on its own then, so only that one goes without. */
                log_info("bulk checksum failed (%s); hashing file by file", guest_error(g));
        } else if (tree_records_from_sums(list_fd, sums_fd, &n_sums, err) < 0)
                return -1;
        (void) ftruncate(list_fd, 0);

        /* Counted from here: a new phase counts from where it starts. */
        progress_phase(progress, PHASE_SCAN);
        progress_files(progress, 0, count + 1);
        if (emit_root(&w, err) < 0)
                return -1;
        progress_files(progress, 1, 0);
        TreeOrderOps ops = {.stat = stat_children, .emit = emit_entry, .userdata = &w};
        uint64_t unmatched = 0;
        if (tree_order_walk(names_fd, bulk ? sums_fd : -1, &ops, &unmatched, err) < 0)
                return -1;
        if (unmatched > 0)
                log_info("%" PRIu64 " of %" PRIu64 " lines of the bulk checksum list fit no file", unmatched, n_sums);
        if (w.hashed_alone > 0)
                log_info("%" PRIu64 " files hashed one by one", w.hashed_alone);
        progress_bytes(progress, w.file_bytes, w.file_bytes);
        return 0;
}

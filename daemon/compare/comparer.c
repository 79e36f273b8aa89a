#include "compare/comparer.h"

void change_done(Change *c) {
        Entry *ab[2] = {(Entry *) c->a, (Entry *) c->b};
        for (int s = 0; s < 2; s++)
                if (ab[s]) {
                        entry_done(ab[s]);
                        free(ab[s]);
                }
        c->a = c->b = NULL;
}

DiffResult *diff_result_free(DiffResult *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_changes; i++)
                change_done(&r->changes[i]);
        free(r->filesystems);
        free(r->changes);
        free(r);
        return NULL;
}

bool diff_result_differs(const DiffResult *r) {
        if (!r)
                return false;
        if (r->n_changes > 0)
                return true;
        for (ChangeKind k = 0; k < _CHANGE_KIND_MAX; k++)
                if (r->counts[k] > 0)
                        return true;
        for (size_t i = 0; i < r->n_filesystems; i++)
                if (r->filesystems[i].change != FS_UNCHANGED)
                        return true;
        return false;
}

/* Both lists are sorted by name (manifest_sort()): walk them side by side,
 * leaving out the names the caller ignores. */
static bool xattrs_equal(const Entry *a, const Entry *b, const Filters *f) {
        size_t i = 0, j = 0;

        for (;;) {
                while (i < a->n_xattrs && f->ignore_xattrs && !filters_keep_xattr(f, a->xattrs[i].name))
                        i++;
                while (j < b->n_xattrs && f->ignore_xattrs && !filters_keep_xattr(f, b->xattrs[j].name))
                        j++;
                if (i == a->n_xattrs || j == b->n_xattrs)
                        return i == a->n_xattrs && j == b->n_xattrs;

                const Xattr *x = &a->xattrs[i++], *y = &b->xattrs[j++];
                if (!streq_ptr(x->name, y->name) || x->len != y->len)
                        return false;
                if (x->len > 0 && memcmp(x->value, y->value, x->len) != 0)
                        return false;
        }
}

static unsigned entry_content_fields(const Entry *a, const Entry *b) {
        unsigned f = 0;

        switch (a->kind) {
        case ENTRY_KIND_FILE:
                if (a->size != b->size)
                        f |= FIELD_SIZE | FIELD_CONTENT;
                /* Without a hash on both sides, equal sizes are all we can
                 * go by: report nothing rather than guess. */
                else if (a->has_sha256 && b->has_sha256 && memcmp(a->sha256, b->sha256, sizeof(a->sha256)) != 0)
                        f |= FIELD_CONTENT;
                break;
        case ENTRY_KIND_SYMLINK:
                if (!streq_ptr(a->target, b->target))
                        f |= FIELD_TARGET;
                break;
        case ENTRY_KIND_CHAR:
        case ENTRY_KIND_BLOCK:
                if (a->rdev != b->rdev)
                        f |= FIELD_RDEV;
                break;
        default:
                break;
        }
        return f;
}

static unsigned entry_metadata_fields(const Entry *a, const Entry *b, const CompareOptions *o) {
        bool dir = a->kind == ENTRY_KIND_DIRECTORY;
        /* Directory times change whenever a child is added or removed, which
         * the child's own line already says. */
        bool times = !dir || o->dir_times;
        unsigned f = 0;

        if ((a->mode & 07777) != (b->mode & 07777))
                f |= FIELD_MODE;
        if (a->uid != b->uid)
                f |= FIELD_UID;
        if (a->gid != b->gid)
                f |= FIELD_GID;
        if (times && a->mtime_ns != b->mtime_ns)
                f |= FIELD_MTIME;
        if (!xattrs_equal(a, b, &o->filters))
                f |= FIELD_XATTRS;

        /* The rest differ on every rebuilt or copied image: only on request. */
        if (o->atime && times && a->atime_ns != b->atime_ns)
                f |= FIELD_ATIME;
        if (o->ctime && times && a->ctime_ns != b->ctime_ns)
                f |= FIELD_CTIME;
        if ((dir ? o->dir_links : o->extra_stats) && a->nlink != b->nlink)
                f |= FIELD_NLINK;
        if (o->extra_stats) {
                if (a->ino != b->ino)
                        f |= FIELD_INO;
                if (a->dev != b->dev)
                        f |= FIELD_DEV;
                if (a->blocks != b->blocks)
                        f |= FIELD_BLOCKS;
                if (a->blksize != b->blksize)
                        f |= FIELD_BLKSIZE;
        }
        return f;
}

/* Returns true and fills *ret when the pair differs. */
static bool entry_compare(const Entry *a, const Entry *b, const CompareOptions *o, Change *ret) {
        if (a->kind != b->kind) {
                *ret = (Change) { .change = CHANGE_TYPE, .a = a, .b = b };
                return true;
        }

        unsigned content = entry_content_fields(a, b);
        unsigned meta = entry_metadata_fields(a, b, o) & ~o->filters.ignore;

        if (content == 0 && meta == 0)
                return false;

        *ret = (Change) {
                .change = content ? CHANGE_MODIFIED : CHANGE_METADATA,
                .fields = content | meta,
                .a = a,
                .b = b,
        };
        return true;
}

/* A change keeps copies of its entries: the cursors' move on. */
static int diff_result_add_change(DiffResult *r, size_t *cap, const Change *c) {
        if (r->sink) {
                int k = r->sink->change(r->sink->userdata, r, c);
                if (k < 0)
                        return k;
                r->counts[c->change]++;
                return 0;
        }
        if (r->n_changes >= *cap) {
                size_t ncap = *cap ? *cap * 2 : 64;
                Change *p = reallocarray(r->changes, ncap, sizeof(Change));
                if (!p)
                        return -ENOMEM;
                r->changes = p;
                *cap = ncap;
        }
        Change *n = &r->changes[r->n_changes];
        *n = (Change){.change = c->change, .fields = c->fields, .tree = c->tree};
        const Entry *src[2] = {c->a, c->b};
        Entry *dst[2] = {};
        for (int s = 0; s < 2; s++) {
                if (!src[s])
                        continue;
                dst[s] = calloc(1, sizeof(Entry));
                if (!dst[s] || entry_copy(dst[s], src[s]) < 0) {
                        for (int t = 0; t <= s; t++)
                                if (dst[t]) {
                                        entry_done(dst[t]);
                                        free(dst[t]);
                                }
                        return -ENOMEM;
                }
        }
        n->a = dst[0];
        n->b = dst[1];
        r->n_changes++;
        r->counts[c->change]++;
        return 0;
}

/* One side's cursor in a merge: the current entry, and the path before it
 * (kept, as the cursor's entry lives only until its next step) so that
 * input out of order is refused rather than reported as false additions
 * and removals. */
typedef struct Side {
        EntryCursor *c;
        const Entry *cur;
        char *prev;
        size_t prev_size;
} Side;

static int side_next(Side *s, Error *e) {
        if (s->cur) {
                size_t n = strlen(s->cur->path) + 1;
                if (n > s->prev_size) {
                        char *p = realloc(s->prev, n);
                        if (!p)
                                return -ENOMEM;
                        s->prev = p;
                        s->prev_size = n;
                }
                memcpy(s->prev, s->cur->path, n);
        }
        s->cur = NULL;
        if (!s->c)
                return 0;
        const Entry *en = NULL;
        int k = entry_cursor_next(s->c, &en, e);
        if (k < 0)
                return -EIO;
        if (k == 0)
                return 0;
        if (!en->path || (s->prev && s->prev_size && path_compare(s->prev, en->path) >= 0)) {
                error_set(e, ERR_INTERNAL, "a manifest's entries are out of order");
                return -EINVAL;
        }
        s->cur = en;
        return 0;
}

static void side_done(Side *s) {
        entry_cursor_free(s->c);
        free(s->prev);
        *s = (Side){};
}

/* Merge join of two trees' entries in path order; either cursor may be
 * NULL (a tree on one side only). */
static int diff_trees(DiffResult *r, size_t *cap, EntryCursor *ca, EntryCursor *cb, const char *key,
                      const CompareOptions *o, Error *e) {
        bool filtering = o->filters.paths || o->filters.include || o->filters.exclude;
        _cleanup_(side_done) Side a = {.c = ca}, b = {.c = cb};
        int k;

        k = side_next(&a, e);
        k = k ?: side_next(&b, e);
        while (k == 0 && (a.cur || b.cur)) {
                int c = !a.cur ? 1 : !b.cur ? -1 : path_compare(a.cur->path, b.cur->path);
                bool differs = true;
                Change ch;

                if (c < 0)
                        ch = (Change) { .change = CHANGE_REMOVED, .a = a.cur };
                else if (c > 0)
                        ch = (Change) { .change = CHANGE_ADDED, .b = b.cur };
                else
                        differs = entry_compare(a.cur, b.cur, o, &ch);

                if (differs && (!filtering || filters_keep_path(&o->filters, (ch.b ?: ch.a)->path))) {
                        ch.tree = key;
                        k = diff_result_add_change(r, cap, &ch);
                        if (k < 0)
                                break;
                }
                if (c <= 0)
                        k = side_next(&a, e);
                if (c >= 0 && k == 0)
                        k = side_next(&b, e);
        }
        return k;
}

static int diff_all_trees(DiffResult *r, ManifestSource *sa, ManifestSource *sb, const CompareOptions *o, Error *e) {
        const Manifest *a = sa->head, *b = sb->head;
        size_t i = 0, j = 0, cap = 0;
        int k;

        for (size_t x = 1; x < a->n_trees; x++)
                if (strcmp(a->trees[x - 1].key, a->trees[x].key) >= 0)
                        return -EINVAL;
        for (size_t x = 1; x < b->n_trees; x++)
                if (strcmp(b->trees[x - 1].key, b->trees[x].key) >= 0)
                        return -EINVAL;

        while (i < a->n_trees || j < b->n_trees) {
                const Tree *ta = i < a->n_trees ? &a->trees[i] : NULL;
                const Tree *tb = j < b->n_trees ? &b->trees[j] : NULL;
                int c = !ta ? 1 : !tb ? -1 : strcmp(ta->key, tb->key);
                EntryCursor *ca = NULL, *cb = NULL;

                if (c <= 0 && manifest_source_open_tree(sa, i, &ca, e) < 0)
                        return -EIO;
                if (c >= 0 && manifest_source_open_tree(sb, j, &cb, e) < 0) {
                        entry_cursor_free(ca);
                        return -EIO;
                }
                if (c <= 0)
                        i++;
                if (c >= 0)
                        j++;
                /* diff_trees() owns the cursors. */
                k = diff_trees(r, &cap, ca, cb, c >= 0 ? tb->key : ta->key, o, e);
                if (k < 0)
                        return k;
        }
        return 0;
}

static unsigned filesystem_fields(const Filesystem *a, const Filesystem *b) {
        unsigned f = 0;

        if (!streq_ptr(a->type, b->type))
                f |= FS_FIELD_TYPE;
        if (!streq_ptr(a->uuid, b->uuid))
                f |= FS_FIELD_UUID;
        if (!streq_ptr(a->label, b->label))
                f |= FS_FIELD_LABEL;
        if (a->size != b->size)
                f |= FS_FIELD_SIZE;
        return f;
}

/* Match filesystems: by mount point when both sides have an inspected OS
 * (a reinstalled root keeps "/" but may move to another device), then the
 * rest by device. The second pass keeps a filesystem that only gained or
 * lost its fstab line from showing up as removed plus added. */
static int diff_filesystems(DiffResult *r, const Manifest *a, const Manifest *b) {
        bool inspected = a->inspected && b->inspected;
        _cleanup_free_ size_t *match_b = NULL;  /* index in a, or SIZE_MAX */
        _cleanup_free_ bool *used_a = NULL;
        _cleanup_free_ bool *by_mp = NULL;

        match_b = calloc(b->n_filesystems + 1, sizeof(size_t));
        used_a = calloc(a->n_filesystems + 1, sizeof(bool));
        by_mp = calloc(b->n_filesystems + 1, sizeof(bool));
        r->filesystems = calloc(a->n_filesystems + b->n_filesystems + 1, sizeof(FsChange));
        if (!match_b || !used_a || !by_mp || !r->filesystems)
                return -ENOMEM;

        for (size_t j = 0; j < b->n_filesystems; j++)
                match_b[j] = SIZE_MAX;

        for (int pass = 0; pass < 2; pass++)
                for (size_t j = 0; j < b->n_filesystems; j++) {
                        const Filesystem *fb = &b->filesystems[j];

                        if (match_b[j] != SIZE_MAX)
                                continue;
                        if (pass == 0 && (!inspected || !fb->mountpoint))
                                continue;

                        for (size_t i = 0; i < a->n_filesystems; i++) {
                                const Filesystem *fa = &a->filesystems[i];

                                if (used_a[i])
                                        continue;
                                if (pass == 0 ? !streq_ptr(fa->mountpoint, fb->mountpoint)
                                              : !streq_ptr(fa->device, fb->device))
                                        continue;

                                match_b[j] = i;
                                used_a[i] = true;
                                by_mp[j] = pass == 0;
                                break;
                        }
                }

        for (size_t j = 0; j < b->n_filesystems; j++) {
                const Filesystem *fb = &b->filesystems[j];
                FsChange *c = &r->filesystems[r->n_filesystems++];

                if (match_b[j] == SIZE_MAX)
                        *c = (FsChange) {
                                .change = FS_ADDED,
                                .b = fb,
                                .by_mountpoint = inspected && fb->mountpoint,
                        };
                else {
                        const Filesystem *fa = &a->filesystems[match_b[j]];
                        unsigned f = filesystem_fields(fa, fb);

                        *c = (FsChange) {
                                .change = f ? FS_CHANGED : FS_UNCHANGED,
                                .fields = f,
                                .a = fa,
                                .b = fb,
                                .by_mountpoint = by_mp[j],
                        };
                }
                r->fs_counts[c->change]++;
        }

        for (size_t i = 0; i < a->n_filesystems; i++) {
                const Filesystem *fa = &a->filesystems[i];

                if (used_a[i])
                        continue;
                r->filesystems[r->n_filesystems++] = (FsChange) {
                        .change = FS_REMOVED,
                        .a = fa,
                        .by_mountpoint = inspected && fa->mountpoint,
                };
                r->fs_counts[FS_REMOVED]++;
        }
        return 0;
}

int compare_sources(ManifestSource *a, ManifestSource *b, const CompareOptions *opts, DiffResult **ret,
                    Error *e) {
        return compare_sources_to(a, b, opts, NULL, ret, e);
}

int compare_sources_to(ManifestSource *a, ManifestSource *b, const CompareOptions *opts, const ChangeSink *sink,
                       DiffResult **ret, Error *e) {
        static const CompareOptions defaults = {};
        _cleanup_diff_result_ DiffResult *r = NULL;
        int k;

        if (!a || !b || !a->head || !b->head || !ret)
                return -EINVAL;

        r = calloc(1, sizeof(DiffResult));
        if (!r)
                return -ENOMEM;
        r->a = a->head;
        r->b = b->head;

        k = diff_filesystems(r, a->head, b->head);
        if (k < 0)
                return k;
        if (sink) {
                k = sink->filesystems(sink->userdata, r);
                if (k < 0)
                        return k;
                r->sink = sink;
        }

        k = diff_all_trees(r, a, b, opts ?: &defaults, e);
        r->sink = NULL;
        if (k < 0)
                return k;

        *ret = TAKE_PTR(r);
        return 0;
}

int compare_manifests(const Manifest *a, const Manifest *b, const CompareOptions *opts, DiffResult **ret) {
        if (!a || !b)
                return -EINVAL;
        ManifestSource sa = manifest_memory_source(a), sb = manifest_memory_source(b);
        Error e = {};
        return compare_sources(&sa, &sb, opts, ret, &e);
}

#include "manifest/manifest.h"

#include <malloc.h>
#include <sys/stat.h>

void entry_done(Entry *e) {
        if (!e)
                return;
        free(e->path);
        free(e->target);
        for (size_t i = 0; i < e->n_xattrs; i++) {
                free(e->xattrs[i].name);
                free(e->xattrs[i].value);
        }
        free(e->xattrs);
        *e = (Entry) {};
}

void filesystem_done(Filesystem *f) {
        if (!f)
                return;
        free(f->device);
        free(f->type);
        free(f->uuid);
        free(f->label);
        free(f->mountpoint);
        free(f->error);
        *f = (Filesystem) {};
}

static int strdup_opt(char **dst, const char *src) {
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

int entry_copy(Entry *dst, const Entry *src) {
        *dst = *src;
        dst->path = dst->target = NULL;
        dst->xattrs = NULL;
        dst->n_xattrs = 0;
        if (strdup_opt(&dst->path, src->path) < 0 || strdup_opt(&dst->target, src->target) < 0)
                return -ENOMEM;
        if (src->n_xattrs == 0)
                return 0;
        dst->xattrs = calloc(src->n_xattrs, sizeof(Xattr));
        if (!dst->xattrs)
                return -ENOMEM;
        for (size_t i = 0; i < src->n_xattrs; i++) {
                Xattr *x = &dst->xattrs[i];
                const Xattr *y = &src->xattrs[i];
                dst->n_xattrs = i + 1;
                x->name = strdup(y->name);
                /* Never NULL, even when empty: a value is data. */
                x->value = malloc(y->len ? y->len : 1);
                if (!x->name || !x->value)
                        return -ENOMEM;
                if (y->len)
                        memcpy(x->value, y->value, y->len);
                x->len = y->len;
        }
        return 0;
}

Manifest *manifest_copy_head(const Manifest *m) {
        _cleanup_manifest_ Manifest *c = manifest_new();
        if (!c)
                return NULL;
        c->inspected = m->inspected;
        if (strdup_opt(&c->os_product, m->os_product) < 0)
                return NULL;
        for (size_t i = 0; i < m->n_filesystems; i++) {
                const Filesystem *f = &m->filesystems[i];
                Filesystem *g = manifest_add_filesystem(c);
                if (!g)
                        return NULL;
                g->size = f->size;
                g->scanned = f->scanned;
                if (strdup_opt(&g->device, f->device) < 0 || strdup_opt(&g->type, f->type) < 0 ||
                    strdup_opt(&g->uuid, f->uuid) < 0 || strdup_opt(&g->label, f->label) < 0 ||
                    strdup_opt(&g->mountpoint, f->mountpoint) < 0 || strdup_opt(&g->error, f->error) < 0)
                        return NULL;
        }
        return TAKE_PTR(c);
}

static void tree_done(Tree *t) {
        for (size_t i = 0; i < t->n_entries; i++)
                entry_done(&t->entries[i]);
        free(t->entries);
        free(t->key);
        *t = (Tree) {};
}

Manifest *manifest_new(void) {
        return calloc(1, sizeof(Manifest));
}

Manifest *manifest_free(Manifest *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_filesystems; i++)
                filesystem_done(&m->filesystems[i]);
        free(m->filesystems);
        for (size_t i = 0; i < m->n_trees; i++)
                tree_done(&m->trees[i]);
        free(m->trees);
        free(m->os_product);
        free(m);
        return NULL;
}

/* Grows *array by one zeroed element. The spare room is read from the
 * allocator rather than stored, so that the structs stay plain and an
 * array built elsewhere with malloc() can still be appended to; doubling
 * keeps a scan of 100k entries from copying 100k times. */
static void *array_append(void **array, size_t *n, size_t size) {
        size_t cap = *array ? malloc_usable_size(*array) / size : 0;

        if (*n >= cap) {
                size_t ncap = *n < 8 ? 16 : *n * 2;
                if (ncap > SIZE_MAX / size)
                        return NULL;
                void *p = realloc(*array, ncap * size);
                if (!p)
                        return NULL;
                *array = p;
        }

        void *slot = (char *) *array + *n * size;
        memset(slot, 0, size);
        (*n)++;
        return slot;
}

Filesystem *manifest_add_filesystem(Manifest *m) {
        return array_append((void **) &m->filesystems, &m->n_filesystems, sizeof(Filesystem));
}

Tree *manifest_add_tree(Manifest *m, const char *key) {
        _cleanup_free_ char *k = strdup(key);
        if (!k)
                return NULL;

        Tree *t = array_append((void **) &m->trees, &m->n_trees, sizeof(Tree));
        if (!t)
                return NULL;
        t->key = TAKE_PTR(k);
        return t;
}

Entry *tree_add_entry(Tree *t) {
        return array_append((void **) &t->entries, &t->n_entries, sizeof(Entry));
}

static int tree_cmp(const void *a, const void *b) {
        return strcmp(((const Tree *) a)->key, ((const Tree *) b)->key);
}

static int entry_cmp(const void *a, const void *b) {
        return path_compare(((const Entry *) a)->path, ((const Entry *) b)->path);
}

static int xattr_cmp(const void *a, const void *b) {
        return strcmp(((const Xattr *) a)->name, ((const Xattr *) b)->name);
}

void manifest_sort(Manifest *m) {
        if (m->n_trees > 1)
                qsort(m->trees, m->n_trees, sizeof(Tree), tree_cmp);
        for (size_t i = 0; i < m->n_trees; i++) {
                Tree *t = &m->trees[i];

                if (t->n_entries > 1)
                        qsort(t->entries, t->n_entries, sizeof(Entry), entry_cmp);
                /* The comparer walks xattrs pairwise, so they must be in
                 * order too. */
                for (size_t j = 0; j < t->n_entries; j++) {
                        Entry *e = &t->entries[j];
                        if (e->n_xattrs > 1)
                                qsort(e->xattrs, e->n_xattrs, sizeof(Xattr), xattr_cmp);
                }
        }
}

/* Linear: a manifest has a handful of trees, and this stays correct even
 * before manifest_sort() ran. */
const Tree *manifest_find_tree(const Manifest *m, const char *key) {
        for (size_t i = 0; i < m->n_trees; i++)
                if (streq_ptr(m->trees[i].key, key))
                        return &m->trees[i];
        return NULL;
}

Entry *tree_find_entry(const Tree *t, const char *path) {
        size_t lo = 0, hi = t->n_entries;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = path_compare(t->entries[mid].path, path);
                if (c == 0)
                        return &t->entries[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

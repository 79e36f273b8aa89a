/* Manifests into the store (schema: schemas/store.sql), part by part from
 * a ManifestSink, each batch of entries inserted as it comes: a manifest is
 * never whole in memory here. What goes in is checked as store-load.c will
 * check it coming out, so the store only holds what loads. */
#include "common/log.h"
#include "store/store-internal.h"

/* Rough costs for the byte budget, so that the sum of manifests' bytes
 * comes near the file's size: an integer column (SQLite stores a varint),
 * a row's header and its share of the B-tree. */
#define ROW_INT_BYTES 3
#define ROW_OVERHEAD_BYTES 24

typedef struct Buf {
        uint8_t *data;
        size_t size, allocated;
} Buf;

static int buf_put(Buf *b, const void *p, size_t n) {
        if (n > SIZE_MAX - b->size)
                return -E2BIG;
        if (b->size + n > b->allocated) {
                size_t want = b->size + n, a = b->allocated ? b->allocated : 256;
                while (a < want)
                        a = a > SIZE_MAX / 2 ? want : a * 2;
                uint8_t *d = realloc(b->data, a);
                if (!d)
                        return -ENOMEM;
                b->data = d;
                b->allocated = a;
        }
        if (n > 0)
                memcpy(b->data + b->size, p, n);
        b->size += n;
        return 0;
}

static int buf_put_le32(Buf *b, size_t v) {
        uint8_t le[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff };
        return buf_put(b, le, sizeof le);
}

/* For each xattr: name length, name, value length, value (lengths 4 bytes,
 * little endian). */
static int xattrs_serialise(const Entry *en, Buf *b) {
        int r = 0;

        b->size = 0;
        for (size_t i = 0; r >= 0 && i < en->n_xattrs; i++) {
                const Xattr *x = &en->xattrs[i];
                size_t name_len = strlen(x->name);

                if (name_len > UINT32_MAX || x->len > UINT32_MAX)
                        return -E2BIG;
                r = buf_put_le32(b, name_len);
                r = r ?: buf_put(b, x->name, name_len);
                r = r ?: buf_put_le32(b, x->len);
                r = r ?: buf_put(b, x->value, x->len);
        }
        return r;
}

/* One entry as the comparer and the result writers rely on, after prev
 * (NULL for a tree's first) on a manifest of n_filesystems. */
static const char *entry_invalid(const Entry *en, const char *prev, size_t n_filesystems) {
        if (!en->path)
                return "an entry without a path";
        if (prev && path_compare(prev, en->path) >= 0)
                return "entries out of order";
        if (en->fs >= n_filesystems)
                return "an entry on a filesystem not listed";
        if ((unsigned) en->kind >= _ENTRY_KIND_MAX)
                return "an entry of no known kind";
        if (en->n_xattrs > 0 && !en->xattrs)
                return "an entry with missing xattrs";
        for (size_t k = 0; k < en->n_xattrs; k++) {
                const Xattr *x = &en->xattrs[k];
                if (!x->name || !x->name[0] || (x->len > 0 && !x->value))
                        return "an xattr without a name or value";
                if (k > 0 && strcmp(en->xattrs[k - 1].name, x->name) >= 0)
                        return "xattrs out of order";
        }
        return NULL;
}

/* What the comparer and the result writers rely on; checked before saving
 * and after loading, so that the store only ever holds what loads. */
const char *store_manifest_invalid(const Manifest *m) {
        for (size_t i = 0; i < m->n_filesystems; i++)
                if (!m->filesystems[i].device || !m->filesystems[i].type)
                        return "a filesystem without device or type";

        for (size_t i = 0; i < m->n_trees; i++) {
                const Tree *t = &m->trees[i];

                if (!t->key)
                        return "a tree without a key";
                if (i > 0 && strcmp(m->trees[i - 1].key, t->key) >= 0)
                        return "trees out of order";
                for (size_t j = 0; j < t->n_entries; j++) {
                        const char *why = entry_invalid(&t->entries[j], j > 0 ? t->entries[j - 1].path : NULL,
                                                        m->n_filesystems);
                        if (why)
                                return why;
                }
        }
        return NULL;
}

static int bind_bytes(sqlite3_stmt *q, int i, const void *p, size_t n) {
        /* A non-NULL pointer with no bytes is an empty BLOB, not NULL. */
        return p ? sqlite3_bind_blob64(q, i, p, n, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

static int bind_str(sqlite3_stmt *q, int i, const char *s) {
        return bind_bytes(q, i, s, s ? strlen(s) : 0);
}

static int bind_u64(sqlite3_stmt *q, int i, uint64_t v) {
        return sqlite3_bind_int64(q, i, (sqlite3_int64) v);
}

/* Least recently used first, never the manifest just saved, until the
 * rest fits the budget. */
int store_evict(Store *s, int64_t keep) {
        _cleanup_stmt_ sqlite3_stmt *total = NULL, *oldest = NULL, *del = NULL;
        int64_t bytes;
        int rc;

        rc = sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(bytes), 0) FROM manifests", -1, &total, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(total);
        if (rc != SQLITE_ROW)
                return rc;
        bytes = sqlite3_column_int64(total, 0);

        rc = sqlite3_prepare_v2(s->db, "SELECT id, bytes FROM manifests WHERE id <> ? ORDER BY used_usec, id LIMIT 1",
                                -1, &oldest, NULL);
        rc = rc ?: sqlite3_prepare_v2(s->db, "DELETE FROM manifests WHERE id = ?", -1, &del, NULL);
        rc = rc ?: sqlite3_bind_int64(oldest, 1, keep);
        while (rc == SQLITE_OK && bytes > 0 && (uint64_t) bytes > s->budget) {
                rc = sqlite3_step(oldest);
                if (rc != SQLITE_ROW)
                        break;
                int64_t id = sqlite3_column_int64(oldest, 0);
                bytes -= sqlite3_column_int64(oldest, 1);
                (void) sqlite3_reset(oldest);
                rc = sqlite3_bind_int64(del, 1, id);
                rc = rc ?: store_step_once(del);
        }
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* A manifest being saved: one transaction from its head to its end, with
 * the store held throughout (see store.h). */
struct StoreWriter {
        Store *store;
        uint8_t key[FINGERPRINT_SIZE];
        StoreDisk *disks;
        size_t n_disks;
        int64_t id;
        uint64_t bytes, n_entries, tree_entries;
        size_t n_filesystems;
        int64_t tree_idx; /* -1 before the first tree */
        char *last_key, *last_path;
        sqlite3_stmt *fs, *tree, *entry, *tree_count;
        Buf xattrs;
        bool headed, ended;
};

static int save_entry(StoreWriter *w, const Entry *en) {
        sqlite3_stmt *q = w->entry;
        size_t path_len = strlen(en->path), target_len = en->target ? strlen(en->target) : 0;
        int r, rc;

        r = xattrs_serialise(en, &w->xattrs);
        if (r < 0)
                return r == -ENOMEM ? SQLITE_NOMEM : SQLITE_TOOBIG;

        rc = sqlite3_bind_int64(q, 1, w->id);
        rc = rc ?: sqlite3_bind_int64(q, 2, w->tree_idx);
        rc = rc ?: bind_u64(q, 3, w->tree_entries);
        rc = rc ?: bind_bytes(q, 4, en->path, path_len);
        rc = rc ?: bind_u64(q, 5, en->fs);
        rc = rc ?: sqlite3_bind_text(q, 6, entry_kind_to_string(en->kind), -1, SQLITE_STATIC);
        rc = rc ?: bind_u64(q, 7, en->mode);
        rc = rc ?: bind_u64(q, 8, en->uid);
        rc = rc ?: bind_u64(q, 9, en->gid);
        rc = rc ?: bind_u64(q, 10, en->size);
        rc = rc ?: sqlite3_bind_int64(q, 11, en->atime_ns);
        rc = rc ?: sqlite3_bind_int64(q, 12, en->mtime_ns);
        rc = rc ?: sqlite3_bind_int64(q, 13, en->ctime_ns);
        rc = rc ?: bind_u64(q, 14, en->nlink);
        rc = rc ?: bind_u64(q, 15, en->ino);
        rc = rc ?: bind_u64(q, 16, en->dev);
        rc = rc ?: bind_u64(q, 17, en->rdev);
        rc = rc ?: bind_u64(q, 18, en->blocks);
        rc = rc ?: bind_u64(q, 19, en->blksize);
        rc = rc ?: bind_bytes(q, 20, en->target, target_len);
        rc = rc ?: bind_bytes(q, 21, en->has_sha256 ? en->sha256 : NULL, sizeof(en->sha256));
        rc = rc ?: bind_bytes(q, 22, en->n_xattrs > 0 ? w->xattrs.data : NULL, w->xattrs.size);
        rc = rc ?: store_step_once(q);

        w->bytes += ROW_OVERHEAD_BYTES + 18 * ROW_INT_BYTES + path_len + target_len + w->xattrs.size +
                    (en->has_sha256 ? sizeof(en->sha256) : 0);
        return rc;
}

static int save_filesystem(StoreWriter *w, size_t idx, const Filesystem *f) {
        sqlite3_stmt *q = w->fs;
        int rc;

        rc = sqlite3_bind_int64(q, 1, w->id);
        rc = rc ?: bind_u64(q, 2, idx);
        rc = rc ?: bind_str(q, 3, f->device);
        rc = rc ?: bind_str(q, 4, f->type);
        rc = rc ?: bind_str(q, 5, f->uuid);
        rc = rc ?: bind_str(q, 6, f->label);
        rc = rc ?: bind_u64(q, 7, f->size);
        rc = rc ?: bind_str(q, 8, f->mountpoint);
        rc = rc ?: sqlite3_bind_int(q, 9, f->scanned);
        rc = rc ?: bind_str(q, 10, f->error);
        rc = rc ?: store_step_once(q);
        w->bytes += ROW_OVERHEAD_BYTES + 4 * ROW_INT_BYTES + strlen(f->device) + strlen(f->type) +
                    strlen(strempty(f->uuid)) + strlen(strempty(f->label)) + strlen(strempty(f->mountpoint)) +
                    strlen(strempty(f->error));
        return rc;
}

static int writer_fail(StoreWriter *w, int rc, Error *e) {
        return store_error(w->store, rc, "cannot save", e);
}

static int refuse(const char *why, Error *e) {
        return error_set(e, ERR_INVALID_ARGS, "refusing to cache a manifest with %s", why);
}

static int writer_head(void *userdata, const Manifest *m, Error *e) {
        StoreWriter *w = userdata;
        _cleanup_stmt_ sqlite3_stmt *q = NULL, *disk = NULL;
        sqlite3 *db = w->store->db;
        _cleanup_free_ char *label = NULL;
        size_t label_size = 0;
        int rc;

        if (w->headed)
                return refuse("two heads", e);
        for (size_t i = 0; i < m->n_filesystems; i++)
                if (!m->filesystems[i].device || !m->filesystems[i].type)
                        return refuse("a filesystem without device or type", e);
        _cleanup_fclose_ FILE *f = open_memstream(&label, &label_size);
        if (!f)
                return error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < w->n_disks; i++)
                fprintf(f, "%s%s", i > 0 ? ", " : "", w->disks[i].path);
        if (fflush(f) != 0 || ferror(f))
                return error_set(e, ERR_INTERNAL, "out of memory");

        /* Replacing: the old rows go with their manifest (ON DELETE
         * CASCADE). */
        rc = sqlite3_prepare_v2(db, "DELETE FROM manifests WHERE key = ?", -1, &q, NULL);
        rc = rc ?: sqlite3_bind_blob(q, 1, w->key, FINGERPRINT_SIZE, SQLITE_STATIC);
        rc = rc ?: store_step_once(q);
        if (rc == SQLITE_OK)
                (void) sqlite3_finalize(TAKE_PTR(q));
        rc = rc ?: sqlite3_prepare_v2(db,
                                      "INSERT INTO manifests (key, label, inspected, os_product, created_usec, "
                                      "used_usec, n_entries, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?5, 0, 0)",
                                      -1, &q, NULL);
        rc = rc ?: sqlite3_bind_blob(q, 1, w->key, FINGERPRINT_SIZE, SQLITE_STATIC);
        rc = rc ?: bind_bytes(q, 2, w->n_disks > 0 ? label : NULL, label_size);
        rc = rc ?: sqlite3_bind_int(q, 3, m->inspected);
        rc = rc ?: bind_str(q, 4, m->os_product);
        rc = rc ?: sqlite3_bind_int64(q, 5, (int64_t) now_usec_realtime());
        rc = rc ?: store_step_once(q);
        if (rc != SQLITE_OK)
                return writer_fail(w, rc, e);
        w->id = sqlite3_last_insert_rowid(db);
        w->bytes = ROW_OVERHEAD_BYTES + 6 * ROW_INT_BYTES + FINGERPRINT_SIZE + label_size +
                   strlen(strempty(m->os_product));

        rc = sqlite3_prepare_v2(db, "INSERT INTO manifest_disks VALUES (?, ?, ?, ?)", -1, &disk, NULL);
        for (size_t i = 0; rc == SQLITE_OK && i < w->n_disks; i++) {
                rc = sqlite3_bind_int64(disk, 1, w->id);
                rc = rc ?: bind_u64(disk, 2, i);
                rc = rc ?: bind_str(disk, 3, w->disks[i].path);
                rc = rc ?: sqlite3_bind_blob(disk, 4, w->disks[i].key, FINGERPRINT_SIZE, SQLITE_STATIC);
                rc = rc ?: store_step_once(disk);
                w->bytes += ROW_OVERHEAD_BYTES + 2 * ROW_INT_BYTES + strlen(w->disks[i].path) + FINGERPRINT_SIZE;
        }
        rc = rc ?: sqlite3_prepare_v2(db, "INSERT INTO filesystems VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &w->fs,
                                      NULL);
        for (size_t i = 0; rc == SQLITE_OK && i < m->n_filesystems; i++)
                rc = save_filesystem(w, i, &m->filesystems[i]);
        rc = rc ?: sqlite3_prepare_v2(db, "INSERT INTO trees VALUES (?, ?, ?, 0)", -1, &w->tree, NULL);
        rc = rc ?: sqlite3_prepare_v2(db, "UPDATE trees SET n_entries = ? WHERE manifest_id = ? AND idx = ?", -1,
                                      &w->tree_count, NULL);
        rc = rc ?: sqlite3_prepare_v2(db,
                                      "INSERT INTO entries VALUES "
                                      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                      -1, &w->entry, NULL);
        if (rc != SQLITE_OK)
                return writer_fail(w, rc, e);
        w->n_filesystems = m->n_filesystems;
        w->headed = true;
        return 0;
}

/* The tree's row learns how many entries it got. */
static int close_tree(StoreWriter *w) {
        if (w->tree_idx < 0)
                return SQLITE_OK;
        int rc = bind_u64(w->tree_count, 1, w->tree_entries);
        rc = rc ?: sqlite3_bind_int64(w->tree_count, 2, w->id);
        rc = rc ?: sqlite3_bind_int64(w->tree_count, 3, w->tree_idx);
        return rc ?: store_step_once(w->tree_count);
}

static int writer_tree(void *userdata, const char *key, Error *e) {
        StoreWriter *w = userdata;
        if (!w->headed)
                return refuse("a tree before its head", e);
        if (!key)
                return refuse("a tree without a key", e);
        if (w->last_key && strcmp(w->last_key, key) >= 0)
                return refuse("trees out of order", e);
        int rc = close_tree(w);
        if (rc != SQLITE_OK)
                return writer_fail(w, rc, e);
        w->tree_idx++;
        rc = sqlite3_bind_int64(w->tree, 1, w->id);
        rc = rc ?: sqlite3_bind_int64(w->tree, 2, w->tree_idx);
        rc = rc ?: bind_str(w->tree, 3, key);
        rc = rc ?: store_step_once(w->tree);
        if (rc != SQLITE_OK)
                return writer_fail(w, rc, e);
        w->bytes += ROW_OVERHEAD_BYTES + 3 * ROW_INT_BYTES + strlen(key);
        free(w->last_key);
        free(w->last_path);
        w->last_path = NULL;
        w->last_key = strdup(key);
        w->tree_entries = 0;
        return w->last_key ? 0 : error_set(e, ERR_INTERNAL, "out of memory");
}

static int writer_entries(void *userdata, const Entry *entries, size_t n, Error *e) {
        StoreWriter *w = userdata;
        if (w->tree_idx < 0)
                return refuse("entries outside a tree", e);
        for (size_t i = 0; i < n; i++) {
                const char *bad = entry_invalid(&entries[i], i ? entries[i - 1].path : w->last_path, w->n_filesystems);
                if (bad)
                        return refuse(bad, e);
                int rc = save_entry(w, &entries[i]);
                if (rc != SQLITE_OK)
                        return writer_fail(w, rc, e);
                w->tree_entries++;
                w->n_entries++;
        }
        if (n == 0)
                return 0;
        free(w->last_path);
        w->last_path = strdup(entries[n - 1].path);
        return w->last_path ? 0 : error_set(e, ERR_INTERNAL, "out of memory");
}

static int writer_end(void *userdata, Error *e) {
        StoreWriter *w = userdata;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        if (!w->headed)
                return refuse("no head", e);
        int rc = close_tree(w);
        rc = rc ?: sqlite3_prepare_v2(w->store->db, "UPDATE manifests SET n_entries = ?, bytes = ? WHERE id = ?", -1,
                                      &q, NULL);
        rc = rc ?: bind_u64(q, 1, w->n_entries);
        rc = rc ?: bind_u64(q, 2, w->bytes);
        rc = rc ?: sqlite3_bind_int64(q, 3, w->id);
        rc = rc ?: store_step_once(q);
        rc = rc ?: store_evict(w->store, w->id);
        rc = rc ?: sqlite3_exec(w->store->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return writer_fail(w, rc, e);
        w->ended = true;
        return 0;
}

ManifestSink store_writer_sink(StoreWriter *w) {
        return (ManifestSink){.head = writer_head, .tree = writer_tree, .entries = writer_entries,
                              .end = writer_end, .userdata = w};
}

StoreWriter *store_writer_free(StoreWriter *w) {
        if (!w)
                return NULL;
        (void) sqlite3_finalize(w->fs);
        (void) sqlite3_finalize(w->tree);
        (void) sqlite3_finalize(w->tree_count);
        (void) sqlite3_finalize(w->entry);
        if (!w->ended)
                store_rollbackp(&w->store->db);
        (void) pthread_mutex_unlock(&w->store->lock);
        for (size_t i = 0; i < w->n_disks; i++)
                free((char *) w->disks[i].path);
        free(w->disks);
        free(w->last_key);
        free(w->last_path);
        free(w->xattrs.data);
        free(w);
        return NULL;
}

int store_writer_new(Store *s, const uint8_t key[FINGERPRINT_SIZE], const StoreDisk *disks, size_t n_disks,
                     StoreWriter **ret, Error *e) {
        if (!s || !key || (n_disks > 0 && !disks))
                return error_set(e, ERR_INVALID_ARGS, "no manifest to save");
        for (size_t i = 0; i < n_disks; i++)
                if (!disks[i].path || !disks[i].key)
                        return error_set(e, ERR_INVALID_ARGS, "a disk of the manifest without path or key");

        /* Held until the writer is freed: the transaction is the store's. */
        if (!store_lock(s)) {
                (void) error_set(e, ERR_INTERNAL, "manifest store %s cannot be opened", s->path);
                return -EROFS;
        }
        StoreWriter *w = calloc(1, sizeof(*w));
        if (!w) {
                (void) pthread_mutex_unlock(&s->lock);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        w->store = s;
        w->tree_idx = -1;
        memcpy(w->key, key, FINGERPRINT_SIZE);
        w->disks = calloc(n_disks + 1, sizeof(StoreDisk) + FINGERPRINT_SIZE);
        if (!w->disks) {
                store_writer_free(w);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        uint8_t *keys = (uint8_t *) (w->disks + n_disks + 1);
        for (size_t i = 0; i < n_disks; i++) {
                memcpy(keys + i * FINGERPRINT_SIZE, disks[i].key, FINGERPRINT_SIZE);
                w->disks[i] = (StoreDisk){.path = strdup(disks[i].path), .key = keys + i * FINGERPRINT_SIZE};
                w->n_disks = i + 1;
                if (!w->disks[i].path) {
                        store_writer_free(w);
                        return error_set(e, ERR_INTERNAL, "out of memory");
                }
        }
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                w->ended = true; /* nothing to roll back */
                int r = store_error(s, rc, "cannot save", e);
                store_writer_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

int store_save_manifest(Store *s, const uint8_t key[FINGERPRINT_SIZE], const StoreDisk *disks, size_t n_disks,
                        const Manifest *m, Error *e) {
        if (!m)
                return error_set(e, ERR_INVALID_ARGS, "no manifest to save");
        const char *bad = store_manifest_invalid(m);
        if (bad)
                return refuse(bad, e);
        StoreWriter *w = NULL;
        if (store_writer_new(s, key, disks, n_disks, &w, e) < 0)
                return -1;
        ManifestSink sink = store_writer_sink(w);
        int r = manifest_play(m, &sink, e);
        store_writer_free(w);
        return r;
}

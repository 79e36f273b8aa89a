/* Manifests out of the store.
 *
 * What is read back is checked as if hostile: a damaged or tampered
 * database must neither crash the daemon nor hand the comparer arrays it
 * cannot merge. A manifest that fails a check is logged once, dropped and
 * counted as a miss: the daemon then scans the image again and saves a good
 * copy, which an error would not achieve. */
#include "common/log.h"
#include "store/store-internal.h"

static uint32_t get_le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void xattrs_free(Xattr *x, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(x[i].name);
                free(x[i].value);
        }
        free(x);
}

/* One field of the format: its length is checked against what is left. */
static int xattr_field(const uint8_t *p, size_t size, size_t *offset, const uint8_t **ret, size_t *ret_len) {
        if (size - *offset < 4)
                return -EBADMSG;
        size_t len = get_le32(p + *offset);
        *offset += 4;
        if (size - *offset < len)
                return -EBADMSG;
        *ret = p + *offset;
        *ret_len = len;
        *offset += len;
        return 0;
}

static int xattrs_parse(const uint8_t *p, size_t size, Entry *en) {
        const uint8_t *name, *value;
        size_t n = 0, name_len, value_len;
        Xattr *x;

        /* Counted first: the array is sized by what is really there, never
         * by a number read from the file. */
        for (size_t o = 0; o < size; n++)
                if (xattr_field(p, size, &o, &name, &name_len) < 0 || xattr_field(p, size, &o, &value, &value_len) < 0)
                        return -EBADMSG;
        if (n == 0)
                return 0;

        x = calloc(n, sizeof(Xattr));
        if (!x)
                return -ENOMEM;
        for (size_t i = 0, o = 0; i < n; i++) {
                (void) xattr_field(p, size, &o, &name, &name_len);
                (void) xattr_field(p, size, &o, &value, &value_len);
                if (name_len == 0 || memchr(name, 0, name_len)) {
                        xattrs_free(x, i);
                        return -EBADMSG;
                }
                x[i].name = strndup((const char *) name, name_len);
                /* Never NULL, even when empty: a value is data. */
                x[i].value = malloc(value_len ?: 1);
                if (!x[i].name || !x[i].value) {
                        xattrs_free(x, i + 1);
                        return -ENOMEM;
                }
                if (value_len > 0)
                        memcpy(x[i].value, value, value_len);
                x[i].len = value_len;
        }
        en->xattrs = x;
        en->n_xattrs = n;
        return 0;
}

/* Reading back: every column's type and range are checked. */

static bool col_is_int(sqlite3_stmt *q, int i) {
        return sqlite3_column_type(q, i) == SQLITE_INTEGER;
}

static bool in_u32(int64_t v) {
        return v >= 0 && v <= UINT32_MAX;
}

/* A byte string column; NULL only when nullable. */
static int col_str(sqlite3_stmt *q, int i, bool nullable, char **ret) {
        int type = sqlite3_column_type(q, i);

        if (type == SQLITE_NULL && nullable) {
                *ret = NULL;
                return 0;
        }
        if (type != SQLITE_BLOB && type != SQLITE_TEXT)
                return -EBADMSG;
        const char *p = sqlite3_column_blob(q, i);
        size_t n = (size_t) sqlite3_column_bytes(q, i);
        if (n > 0 && memchr(p, 0, n))
                return -EBADMSG;
        char *s = malloc(n + 1);
        if (!s)
                return -ENOMEM;
        if (n > 0)
                memcpy(s, p, n);
        s[n] = 0;
        *ret = s;
        return 0;
}

typedef struct Loader {
        Store *store;
        int64_t id;
        const char *bad; /* why the rows cannot be a manifest */
        Error *e;
} Loader;

/* A failure as load_rows() reports it: damage (-EBADMSG, with a reason),
 * or an error in *e. */
static int load_fail(Loader *l, int r, int rc, const char *bad) {
        if (r == -ENOMEM || rc == SQLITE_NOMEM) {
                (void) error_set(l->e, ERR_INTERNAL, "out of memory");
                return -ENOMEM;
        }
        if (r == -EBADMSG) {
                l->bad = bad;
                return -EBADMSG;
        }
        return store_error(l->store, rc, "cannot read a manifest", l->e);
}

int store_row_entry(sqlite3_stmt *q, int col0, Entry *en, const char **ret_bad) {
        enum { C_PATH, C_FS, C_KIND, C_MODE, C_UID, C_GID, C_SIZE, C_ATIME, C_MTIME, C_CTIME, C_NLINK, C_INO,
               C_DEV, C_RDEV, C_BLOCKS, C_BLKSIZE, C_TARGET, C_SHA256, C_XATTRS };
#define COL(c) (col0 + (c))
        int r;

        for (int c = C_FS; c <= C_BLKSIZE; c++)
                if (c != C_KIND && !col_is_int(q, COL(c))) {
                        *ret_bad = "an entry with a number of the wrong type";
                        return -EBADMSG;
                }
        if (!in_u32(sqlite3_column_int64(q, COL(C_FS))) || !in_u32(sqlite3_column_int64(q, COL(C_MODE))) ||
            !in_u32(sqlite3_column_int64(q, COL(C_UID))) || !in_u32(sqlite3_column_int64(q, COL(C_GID)))) {
                *ret_bad = "an entry with a number out of range";
                return -EBADMSG;
        }

        /* Types first: reading a column as another type converts it. */
        int kind_type = sqlite3_column_type(q, COL(C_KIND)), sha_type = sqlite3_column_type(q, COL(C_SHA256)),
            xattrs_type = sqlite3_column_type(q, COL(C_XATTRS));
        const char *kind = (const char *) sqlite3_column_text(q, COL(C_KIND));
        EntryKind k = entry_kind_from_string(kind);
        if (kind_type != SQLITE_TEXT || (k == ENTRY_KIND_UNKNOWN && !streq_ptr(kind, "unknown"))) {
                *ret_bad = "an entry of no known kind";
                return -EBADMSG;
        }
        if (sha_type != SQLITE_NULL && (sha_type != SQLITE_BLOB || sqlite3_column_bytes(q, COL(C_SHA256)) != 32)) {
                *ret_bad = "an entry with a bad SHA-256";
                return -EBADMSG;
        }
        if (xattrs_type != SQLITE_NULL && xattrs_type != SQLITE_BLOB) {
                *ret_bad = "an entry with bad xattrs";
                return -EBADMSG;
        }

        *en = (Entry) {
                .fs = (uint32_t) sqlite3_column_int64(q, COL(C_FS)),
                .kind = k,
                .mode = (uint32_t) sqlite3_column_int64(q, COL(C_MODE)),
                .uid = (uint32_t) sqlite3_column_int64(q, COL(C_UID)),
                .gid = (uint32_t) sqlite3_column_int64(q, COL(C_GID)),
                .size = (uint64_t) sqlite3_column_int64(q, COL(C_SIZE)),
                .atime_ns = sqlite3_column_int64(q, COL(C_ATIME)),
                .mtime_ns = sqlite3_column_int64(q, COL(C_MTIME)),
                .ctime_ns = sqlite3_column_int64(q, COL(C_CTIME)),
                .nlink = (uint64_t) sqlite3_column_int64(q, COL(C_NLINK)),
                .ino = (uint64_t) sqlite3_column_int64(q, COL(C_INO)),
                .dev = (uint64_t) sqlite3_column_int64(q, COL(C_DEV)),
                .rdev = (uint64_t) sqlite3_column_int64(q, COL(C_RDEV)),
                .blocks = (uint64_t) sqlite3_column_int64(q, COL(C_BLOCKS)),
                .blksize = (uint64_t) sqlite3_column_int64(q, COL(C_BLKSIZE)),
                .has_sha256 = sha_type == SQLITE_BLOB,
        };
        if (en->has_sha256)
                memcpy(en->sha256, sqlite3_column_blob(q, COL(C_SHA256)), sizeof(en->sha256));

        r = col_str(q, COL(C_PATH), false, &en->path);
        if (r < 0) {
                *ret_bad = "an entry with a bad path";
                return r;
        }
        r = col_str(q, COL(C_TARGET), true, &en->target);
        if (r < 0) {
                *ret_bad = "an entry with a bad symlink target";
                return r;
        }
        if (xattrs_type == SQLITE_BLOB) {
                r = xattrs_parse(sqlite3_column_blob(q, COL(C_XATTRS)), (size_t) sqlite3_column_bytes(q, COL(C_XATTRS)),
                                 en);
                if (r < 0) {
                        *ret_bad = "an entry with bad xattrs";
                        return r;
                }
        }
        return 0;
#undef COL
}

static int load_entry(Loader *l, sqlite3_stmt *q, Manifest *m) {
        const char *bad = NULL;

        if (!col_is_int(q, 0))
                return load_fail(l, -EBADMSG, 0, "an entry with a number of the wrong type");
        int64_t tree = sqlite3_column_int64(q, 0);
        if (tree < 0 || (uint64_t) tree >= m->n_trees)
                return load_fail(l, -EBADMSG, 0, "an entry in a tree that does not exist");
        Entry *en = tree_add_entry(&m->trees[tree]);
        if (!en)
                return load_fail(l, -ENOMEM, 0, NULL);
        int r = store_row_entry(q, 1, en, &bad);
        return r < 0 ? load_fail(l, r, 0, bad) : 0;
}

static int load_filesystem(Loader *l, sqlite3_stmt *q, Manifest *m) {
        Filesystem *f;
        int r;

        if (!col_is_int(q, 0) || sqlite3_column_int64(q, 0) != (int64_t) m->n_filesystems || !col_is_int(q, 5) ||
            !col_is_int(q, 7))
                return load_fail(l, -EBADMSG, 0, "a bad filesystem row");
        f = manifest_add_filesystem(m);
        if (!f)
                return load_fail(l, -ENOMEM, 0, NULL);
        f->size = (uint64_t) sqlite3_column_int64(q, 5);
        f->scanned = sqlite3_column_int64(q, 7) != 0;
        r = col_str(q, 1, false, &f->device);
        r = r ?: col_str(q, 2, false, &f->type);
        r = r ?: col_str(q, 3, true, &f->uuid);
        r = r ?: col_str(q, 4, true, &f->label);
        r = r ?: col_str(q, 6, true, &f->mountpoint);
        r = r ?: col_str(q, 8, true, &f->error);
        return r < 0 ? load_fail(l, r, 0, "a bad filesystem row") : 0;
}

static int load_tree(Loader *l, sqlite3_stmt *q, Manifest *m, uint64_t **counts) {
        _cleanup_free_ char *key = NULL;
        int r;

        if (!col_is_int(q, 0) || sqlite3_column_int64(q, 0) != (int64_t) m->n_trees || !col_is_int(q, 2) ||
            sqlite3_column_int64(q, 2) < 0)
                return load_fail(l, -EBADMSG, 0, "a bad tree row");
        r = col_str(q, 1, false, &key);
        if (r < 0)
                return load_fail(l, r, 0, "a bad tree row");
        uint64_t *c = reallocarray(*counts, m->n_trees + 1, sizeof(uint64_t));
        if (!c)
                return load_fail(l, -ENOMEM, 0, NULL);
        *counts = c;
        c[m->n_trees] = (uint64_t) sqlite3_column_int64(q, 2);
        if (!manifest_add_tree(m, key))
                return load_fail(l, -ENOMEM, 0, NULL);
        return 0;
}

/* The rows of one manifest, in the read transaction the caller holds; its
 * head only (trees without their entries, and how many each should have in
 * *ret_counts) with ret_counts. Returns 1 with the manifest, 0 when there
 * is none, -EBADMSG (l->bad says why) when its rows cannot be one, another
 * error with l->e set. */
static int load_rows(Loader *l, const uint8_t *key, Manifest **ret, uint64_t **ret_counts) {
        static const char *const queries[] = {
                "SELECT idx, device, type, uuid, label, size, mountpoint, scanned, error FROM filesystems "
                "WHERE manifest_id = ? ORDER BY idx",
                "SELECT idx, key, n_entries FROM trees WHERE manifest_id = ? ORDER BY idx",
                "SELECT tree_idx, path, fs, kind, mode, uid, gid, size, atime_ns, mtime_ns, ctime_ns, nlink, ino, "
                "dev, rdev, blocks, blksize, target, sha256, xattrs FROM entries WHERE manifest_id = ? "
                "ORDER BY tree_idx, seq",
        };
        _cleanup_manifest_ Manifest *m = NULL;
        _cleanup_free_ uint64_t *tree_counts = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int64_t n_entries;
        int r = 0, rc;

        rc = sqlite3_prepare_v2(l->store->db,
                                "SELECT id, inspected, os_product, n_entries FROM manifests WHERE key = ?", -1, &q,
                                NULL);
        rc = rc ?: sqlite3_bind_blob(q, 1, key, FINGERPRINT_SIZE, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return load_fail(l, 0, rc, NULL);

        l->id = sqlite3_column_int64(q, 0);
        m = manifest_new();
        if (!m)
                return load_fail(l, -ENOMEM, 0, NULL);
        if (!col_is_int(q, 1) || !col_is_int(q, 3) || sqlite3_column_int64(q, 3) < 0)
                return load_fail(l, -EBADMSG, 0, "a bad manifest row");
        m->inspected = sqlite3_column_int64(q, 1) != 0;
        n_entries = sqlite3_column_int64(q, 3);
        r = col_str(q, 2, true, &m->os_product);
        if (r < 0)
                return load_fail(l, r, 0, "a bad manifest row");

        for (size_t i = 0; i < (ret_counts ? 2 : ELEMENTSOF(queries)); i++) {
                (void) sqlite3_finalize(TAKE_PTR(q));
                rc = sqlite3_prepare_v2(l->store->db, queries[i], -1, &q, NULL);
                rc = rc ?: sqlite3_bind_int64(q, 1, l->id);
                while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
                        r = i == 0   ? load_filesystem(l, q, m)
                            : i == 1 ? load_tree(l, q, m, &tree_counts)
                                     : load_entry(l, q, m);
                        if (r < 0)
                                return r;
                        rc = SQLITE_OK;
                }
                if (rc != SQLITE_DONE)
                        return load_fail(l, 0, rc, NULL);
        }

        if (ret_counts) {
                const char *bad = store_manifest_invalid(m);
                if (bad)
                        return load_fail(l, -EBADMSG, 0, bad);
                for (size_t i = 0; i < m->n_trees; i++)
                        n_entries -= (int64_t) tree_counts[i];
                if (n_entries != 0)
                        return load_fail(l, -EBADMSG, 0, "missing or extra entries");
                *ret_counts = TAKE_PTR(tree_counts);
                *ret = TAKE_PTR(m);
                return 1;
        }

        /* A row lost or added behind our back shows in the counts. */
        for (size_t i = 0; i < m->n_trees; i++) {
                if (m->trees[i].n_entries != tree_counts[i])
                        return load_fail(l, -EBADMSG, 0, "a tree with missing or extra entries");
                n_entries -= (int64_t) m->trees[i].n_entries;
        }
        if (n_entries != 0)
                return load_fail(l, -EBADMSG, 0, "missing or extra entries");
        const char *bad = store_manifest_invalid(m);
        if (bad)
                return load_fail(l, -EBADMSG, 0, bad);

        *ret = TAKE_PTR(m);
        return 1;
}

/* A hit marks the manifest used; a miss drops the bad one if any.
 * Bookkeeping only: a busy or read-only database must not cost a scan, so
 * its failures are ignored. */
static void note_lookup(Store *s, int64_t id, bool hit) {
        _cleanup_rollback_ sqlite3 *txn = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc;

        if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
                return;
        txn = s->db;
        rc = id == 0 ? SQLITE_OK
                     : sqlite3_prepare_v2(s->db,
                                          hit ? "UPDATE manifests SET used_usec = ?2 WHERE id = ?1"
                                              : "DELETE FROM manifests WHERE id = ?1",
                                          -1, &q, NULL);
        if (q) {
                rc = rc ?: sqlite3_bind_int64(q, 1, id);
                rc = rc ?: (hit ? sqlite3_bind_int64(q, 2, (int64_t) now_usec_realtime()) : SQLITE_OK);
                rc = rc ?: store_step_once(q);
        }
        rc = rc ?: store_count(s, hit ? "hits" : "misses");
        if (rc == SQLITE_OK)
                (void) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

int store_load_manifest(Store *s, const uint8_t key[FINGERPRINT_SIZE], Manifest **ret, Error *e) {
        if (!s || !key || !ret)
                return error_set(e, ERR_INVALID_ARGS, "no manifest key");

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (!locked)
                return 0; /* a miss */
        _cleanup_manifest_ Manifest *m = NULL;
        Loader l = { .store = s, .e = e };
        int r, rc;

        {
                /* One read transaction: one snapshot of all the rows. */
                _cleanup_rollback_ sqlite3 *snapshot = NULL;

                rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
                if (rc != SQLITE_OK)
                        return store_error(s, rc, "cannot read a manifest", e);
                snapshot = s->db;
                r = load_rows(&l, key, &m, NULL);
        }

        if (r == -EBADMSG) {
                _cleanup_free_ char *hex = hexmem(key, FINGERPRINT_SIZE);
                log_error("Manifest store %s: dropping the manifest %s, it has %s.", s->path, strempty(hex), l.bad);
                note_lookup(s, l.id, false);
                return 0;
        }
        if (r < 0)
                return r;
        note_lookup(s, r > 0 ? l.id : 0, r > 0);
        if (r == 0)
                return 0;
        *ret = TAKE_PTR(m);
        return 1;
}

void store_drop_damaged(Store *s, int64_t id, const char *hex, const char *why) {
        _cleanup_store_unlock_ Store *locked = store_lock(s);
        log_error("Manifest store %s: dropping the manifest %s, it has %s.", s->path, strempty(hex), why);
        if (locked)
                note_lookup(s, id, false);
}

int store_load_head(Store *s, Store *reader, const uint8_t key[FINGERPRINT_SIZE], Manifest **ret,
                    uint64_t **ret_counts, int64_t *ret_id, Error *e) {
        _cleanup_manifest_ Manifest *m = NULL;
        Loader l = { .store = reader, .e = e };
        int r = load_rows(&l, key, &m, ret_counts);

        _cleanup_store_unlock_ Store *locked = store_lock(s);
        if (r == -EBADMSG) {
                _cleanup_free_ char *hex = hexmem(key, FINGERPRINT_SIZE);
                log_error("Manifest store %s: dropping the manifest %s, it has %s.", s->path, strempty(hex), l.bad);
                if (locked)
                        note_lookup(s, l.id, false);
                return 0;
        }
        if (r < 0)
                return r;
        /* The store's bookkeeping, when it can be written. */
        if (locked)
                note_lookup(s, r > 0 ? l.id : 0, r > 0);
        if (r == 0)
                return 0;
        *ret_id = l.id;
        *ret = TAKE_PTR(m);
        return 1;
}

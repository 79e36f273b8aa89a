/* A stored manifest as ordered cursors (manifest/manifest-stream.h): its
 * head in memory, each tree's entries read row by row in path order, so
 * that the comparer merges two manifests of any size in bounded memory.
 *
 * The source has a connection of its own in one read transaction: a
 * snapshot that another job's save or eviction cannot change under it
 * (WAL), and that no other thread's statements on the store's connection
 * can end. Rows are checked as store-load.c checks them, and as they come:
 * order, filesystem index, and each tree's count at its end. */
#include "common/log.h"
#include "store/store-internal.h"

struct StoreSource {
        Store reader;
        Manifest *head;
        uint64_t *counts;
        int64_t id;
        char *hex; /* the key, for messages */
        const char *damage; /* what a cursor found wrong in a row, or NULL */
};

typedef struct StoreCursor {
        EntryCursor cursor;
        StoreSource *src;
        sqlite3_stmt *q;
        size_t tree;
        uint64_t seen;
        Entry cur;
        char *prev; /* the path before cur's */
} StoreCursor;

static int damaged(StoreSource *src, const char *why, Error *e) {
        src->damage = why;
        return error_set(e, ERR_INTERNAL, "the stored manifest %s in %s is damaged: %s", strempty(src->hex),
                         src->reader.path, why);
}

static int cursor_next(EntryCursor *c, const Entry **ret, Error *e) {
        StoreCursor *sc = (StoreCursor *) c;
        StoreSource *src = sc->src;
        const char *bad = NULL;

        free(sc->prev);
        sc->prev = TAKE_PTR(sc->cur.path);
        entry_done(&sc->cur);

        int rc = sqlite3_step(sc->q);
        if (rc == SQLITE_DONE) {
                if (sc->seen != src->counts[sc->tree])
                        return damaged(src, "a tree with missing or extra entries", e);
                return 0;
        }
        if (rc != SQLITE_ROW)
                return store_error(&src->reader, rc, "cannot read a manifest", e), -1;
        int r = store_row_entry(sc->q, 0, &sc->cur, &bad);
        if (r == -ENOMEM)
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (r < 0)
                return damaged(src, bad, e);
        if (sc->prev && path_compare(sc->prev, sc->cur.path) >= 0)
                return damaged(src, "entries out of order", e);
        if (sc->cur.fs >= src->head->n_filesystems)
                return damaged(src, "an entry on a filesystem not listed", e);
        sc->seen++;
        *ret = &sc->cur;
        return 1;
}

static void cursor_free(EntryCursor *c) {
        StoreCursor *sc = (StoreCursor *) c;
        (void) sqlite3_finalize(sc->q);
        entry_done(&sc->cur);
        free(sc->prev);
        free(sc);
}

static int source_open_tree(ManifestSource *s, size_t tree, EntryCursor **ret, Error *e) {
        StoreSource *src = s->userdata;
        if (!src->reader.db)
                return error_set(e, ERR_INTERNAL, "the stored manifest %s was released", strempty(src->hex));
        if (tree >= src->head->n_trees)
                return error_set(e, ERR_INTERNAL, "no tree %zu", tree);
        StoreCursor *sc = calloc(1, sizeof(*sc));
        if (!sc)
                return error_set(e, ERR_INTERNAL, "out of memory");
        *sc = (StoreCursor){.cursor = {.next = cursor_next, .free = cursor_free}, .src = src, .tree = tree};
        int rc = sqlite3_prepare_v2(src->reader.db,
                                    "SELECT path, fs, kind, mode, uid, gid, size, atime_ns, mtime_ns, ctime_ns, nlink, "
                                    "ino, dev, rdev, blocks, blksize, target, sha256, xattrs FROM entries "
                                    "WHERE manifest_id = ? AND tree_idx = ? ORDER BY seq",
                                    -1, &sc->q, NULL);
        rc = rc ?: sqlite3_bind_int64(sc->q, 1, src->id);
        rc = rc ?: sqlite3_bind_int64(sc->q, 2, (int64_t) tree);
        if (rc != SQLITE_OK) {
                cursor_free(&sc->cursor);
                return store_error(&src->reader, rc, "cannot read a manifest", e), -1;
        }
        *ret = &sc->cursor;
        return 0;
}

ManifestSource store_source(StoreSource *src) {
        return (ManifestSource){.head = src->head, .open_tree = source_open_tree, .userdata = src};
}

const Manifest *store_source_head(const StoreSource *src) {
        return src ? src->head : NULL;
}

void store_source_release(StoreSource *src) {
        if (!src || !src->reader.db)
                return;
        store_rollbackp(&src->reader.db);
        (void) sqlite3_close(src->reader.db);
        src->reader.db = NULL;
}

bool store_source_damaged(const StoreSource *src) {
        return src && src->damage;
}

void store_source_drop(StoreSource *src, Store *s) {
        if (src && src->damage && s)
                store_drop_damaged(s, src->id, src->hex, src->damage);
}

StoreSource *store_source_free(StoreSource *src) {
        if (!src)
                return NULL;
        store_source_release(src);
        (void) pthread_mutex_destroy(&src->reader.lock);
        free(src->reader.path);
        manifest_free(src->head);
        free(src->counts);
        free(src->hex);
        free(src);
        return NULL;
}

int store_source_open(Store *s, const uint8_t key[FINGERPRINT_SIZE], StoreSource **ret, Error *e) {
        if (!s || !key || !ret)
                return error_set(e, ERR_INVALID_ARGS, "no manifest key");

        _cleanup_(store_source_freep) StoreSource *src = calloc(1, sizeof(*src));
        if (!src)
                return error_set(e, ERR_INTERNAL, "out of memory");
        (void) pthread_mutex_init(&src->reader.lock, NULL);
        src->reader.path = strdup(s->path);
        src->hex = hexmem(key, FINGERPRINT_SIZE);
        if (!src->reader.path || !src->hex)
                return error_set(e, ERR_INTERNAL, "out of memory");

        /* Read only by use: a WAL file's readers need its shared memory. */
        int rc = sqlite3_open_v2(src->reader.path, &src->reader.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                 NULL);
        if (rc == SQLITE_OK) {
                (void) sqlite3_extended_result_codes(src->reader.db, 1);
                (void) sqlite3_busy_timeout(src->reader.db, 5000);
                rc = sqlite3_exec(src->reader.db, "PRAGMA query_only = ON; BEGIN", NULL, NULL, NULL);
        }
        if (rc != SQLITE_OK)
                return store_error(&src->reader, rc, "cannot read a manifest", e);

        int r = store_load_head(s, &src->reader, key, &src->head, &src->counts, &src->id, e);
        if (r <= 0)
                return r;
        *ret = TAKE_PTR(src);
        return 1;
}

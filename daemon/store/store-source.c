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

/* A cursor reads ahead: a thread of its own steps the statement and
 * decodes rows (most of a cached comparison's time) into batches while the
 * comparer merges the last ones, so that the two sides of a comparison
 * are read at once. Only that thread touches the statement until it has
 * ended; what it found wrong is said when the comparer reaches it. */
#define BATCH 512

typedef struct Batch {
        Entry e[BATCH];
        size_t n;
} Batch;

typedef struct StoreCursor {
        EntryCursor cursor;
        StoreSource *src;
        sqlite3_stmt *q;
        size_t tree;
        pthread_t thread;
        bool started;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        Batch *full;           /* read, for the comparer to take */
        Batch *spare;          /* given back, for the reader to fill */
        bool ended;            /* the reader is done: full is the last */
        bool stop;             /* the comparer is done: stop reading */
        int status;            /* at the end: 0, or -1 with err (and bad: damage) */
        Error err;
        const char *bad;

        /* the comparer's */
        Batch *cur;
        size_t pos;
        bool last_taken; /* cur is the reader's last batch */
} StoreCursor;

static int damaged(StoreSource *src, const char *why, Error *e) {
        src->damage = why;
        return error_set(e, ERR_INTERNAL, "the stored manifest %s in %s is damaged: %s", strempty(src->hex),
                         src->reader.path, why);
}

static void batch_clear(Batch *b) {
        for (size_t i = 0; b && i < b->n; i++)
                entry_done(&b->e[i]);
        if (b)
                b->n = 0;
}

/* One row into e, checked as store-load.c checks it: 1, 0 at the end of
 * the tree, or -1 with sc->err (and sc->bad for damage). */
static int read_row(StoreCursor *sc, uint64_t *seen, const char *prev, Entry *e) {
        StoreSource *src = sc->src;
        int rc = sqlite3_step(sc->q);
        if (rc == SQLITE_DONE) {
                if (*seen != src->counts[sc->tree])
                        sc->bad = "a tree with missing or extra entries";
                return sc->bad ? -1 : 0;
        }
        if (rc != SQLITE_ROW) {
                store_error(&src->reader, rc, "cannot read a manifest", &sc->err);
                return -1;
        }
        int r = store_row_entry(sc->q, 0, e, &sc->bad);
        if (r == -ENOMEM) {
                sc->bad = NULL;
                error_set(&sc->err, ERR_INTERNAL, "out of memory");
                return -1;
        }
        if (r >= 0 && prev && path_compare(prev, e->path) >= 0)
                sc->bad = "entries out of order";
        else if (r >= 0 && e->fs >= src->head->n_filesystems)
                sc->bad = "an entry on a filesystem not listed";
        if (r < 0 || sc->bad) {
                entry_done(e);
                return -1;
        }
        (*seen)++;
        return 1;
}

static void *reader_thread(void *userdata) {
        StoreCursor *sc = userdata;
        Batch *b = calloc(1, sizeof(Batch));
        char *carried = NULL; /* the last path of the batch handed over */
        uint64_t seen = 0;
        int r = 1;
        if (!b) {
                error_set(&sc->err, ERR_INTERNAL, "out of memory");
                r = -1;
        }
        for (;;) {
                while (r > 0 && b->n < BATCH) {
                        r = read_row(sc, &seen, b->n ? b->e[b->n - 1].path : carried, &b->e[b->n]);
                        if (r > 0)
                                b->n++;
                }
                if (r > 0) {
                        free(carried);
                        carried = strdup(b->e[b->n - 1].path);
                        if (!carried) {
                                error_set(&sc->err, ERR_INTERNAL, "out of memory");
                                r = -1;
                        }
                }
                pthread_mutex_lock(&sc->lock);
                while (sc->full && !sc->stop)
                        pthread_cond_wait(&sc->cond, &sc->lock);
                if (sc->stop) {
                        pthread_mutex_unlock(&sc->lock);
                        break;
                }
                sc->full = TAKE_PTR(b);
                if (r <= 0) {
                        sc->ended = true;
                        sc->status = r < 0 ? -1 : 0;
                }
                pthread_cond_broadcast(&sc->cond);
                while (r > 0 && !sc->spare && !sc->stop)
                        pthread_cond_wait(&sc->cond, &sc->lock);
                if (r > 0 && !sc->stop)
                        b = TAKE_PTR(sc->spare);
                pthread_mutex_unlock(&sc->lock);
                if (!b)
                        break;
        }
        if (b) {
                batch_clear(b);
                free(b);
        }
        free(carried);
        return NULL;
}

/* Where the reader ended: 0, or -1 and e. */
static int reader_status(StoreCursor *sc, Error *e) {
        if (sc->status == 0)
                return 0;
        if (sc->bad)
                return damaged(sc->src, sc->bad, e);
        *e = sc->err;
        return -1;
}

static int cursor_next(EntryCursor *c, const Entry **ret, Error *e) {
        StoreCursor *sc = (StoreCursor *) c;
        if (sc->cur && sc->pos < sc->cur->n) {
                *ret = &sc->cur->e[sc->pos++];
                return 1;
        }
        /* This batch's last entry was needed until this call: no longer. */
        batch_clear(sc->cur);
        if (sc->last_taken)
                return reader_status(sc, e);
        pthread_mutex_lock(&sc->lock);
        /* Given back, unless the reader has not taken the last one yet. */
        if (sc->cur && !sc->spare)
                sc->spare = TAKE_PTR(sc->cur);
        free(TAKE_PTR(sc->cur));
        pthread_cond_broadcast(&sc->cond);
        while (!sc->full)
                pthread_cond_wait(&sc->cond, &sc->lock);
        sc->cur = TAKE_PTR(sc->full);
        sc->pos = 0;
        sc->last_taken = sc->ended;
        pthread_cond_broadcast(&sc->cond);
        pthread_mutex_unlock(&sc->lock);
        if (sc->pos < sc->cur->n) {
                *ret = &sc->cur->e[sc->pos++];
                return 1;
        }
        return reader_status(sc, e);
}

static void cursor_free(EntryCursor *c) {
        StoreCursor *sc = (StoreCursor *) c;
        if (sc->started) {
                pthread_mutex_lock(&sc->lock);
                sc->stop = true;
                pthread_cond_broadcast(&sc->cond);
                pthread_mutex_unlock(&sc->lock);
                (void) pthread_join(sc->thread, NULL);
        }
        (void) sqlite3_finalize(sc->q);
        Batch *batches[] = {sc->cur, sc->full, sc->spare};
        for (size_t i = 0; i < ELEMENTSOF(batches); i++) {
                batch_clear(batches[i]);
                free(batches[i]);
        }
        pthread_mutex_destroy(&sc->lock);
        pthread_cond_destroy(&sc->cond);
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
        pthread_mutex_init(&sc->lock, NULL);
        pthread_cond_init(&sc->cond, NULL);
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
        sc->spare = calloc(1, sizeof(Batch));
        int r = sc->spare ? pthread_create(&sc->thread, NULL, reader_thread, sc) : ENOMEM;
        if (r != 0) {
                cursor_free(&sc->cursor);
                return error_set(e, ERR_INTERNAL, "cannot read a manifest: %s", strerror(r));
        }
        sc->started = true;
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

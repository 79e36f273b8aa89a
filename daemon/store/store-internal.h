/* What store.c (the database: opening), store-admin.c (stat records,
 * housekeeping), store-manifest.c and store-load.c (manifests in and out),
 * store-content.c and store-jobs.c share. Not for other modules. */
#pragma once

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"

struct Store {
        pthread_mutex_t lock;
        sqlite3 *db;
        char *path;
        uint64_t budget;
        uint64_t retry_usec;    /* no database yet: open it again from then on */
        uint64_t retry_interval; /* STORE_RETRY_USEC; tests shorten it */
        bool temporary; /* store_open_temporary(): its file goes with it */
};

/* How often a store that cannot be opened is tried again. */
#define STORE_RETRY_USEC (10 * 1000000ULL)

static inline void sqlite3_finalizep(sqlite3_stmt **st) {
        if (*st)
                (void) sqlite3_finalize(*st);
}
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)

/* Holds s->lock for the scope of the variable. A store that could not be
 * opened yet is tried again first (at most every retry_interval): NULL,
 * and no lock held, when it still cannot. */
Store *store_lock(Store *s);
void store_unlockp(Store **s);
#define _cleanup_store_unlock_ _cleanup_(store_unlockp) _unused_

/* Rolls back a transaction left open by an early return; a no-op after
 * COMMIT. */
void store_rollbackp(sqlite3 **db);
#define _cleanup_rollback_ _cleanup_(store_rollbackp)

/* An SQLite result code as a negative errno. */
int store_errno(int rc);
/* Fills e from the connection's last error and returns store_errno(rc). */
int store_error(Store *s, int rc, const char *what, Error *e);

/* Adds one to a counter ("hits", "misses"); an SQLite code. */
int store_count(Store *s, const char *name);

/* Why a manifest cannot be stored or used (its arrays out of order, an
 * entry on a missing filesystem...), or NULL when it is sound. */
const char *store_manifest_invalid(const Manifest *m);

/* A NUL-terminated copy of a column's bytes: 1, or -ENOMEM. */
int store_copy_blob(const void *data, size_t len, void **ret, size_t *ret_len);
/* Evicts least recently used manifests, never keep, until the rest fits
 * the budget; an SQLite code. */
int store_evict(Store *s, int64_t keep);

/* One entry from the row of q whose columns from col0 are path, fs, kind,
 * mode, uid, gid, size, atime_ns, mtime_ns, ctime_ns, nlink, ino, dev,
 * rdev, blocks, blksize, target, sha256, xattrs; each checked. 0, -ENOMEM,
 * or -EBADMSG with *ret_bad (en then holds what was read: entry_done()). */
int store_row_entry(sqlite3_stmt *q, int col0, Entry *en, const char **ret_bad);

/* The head of key's manifest (trees without entries; ret_counts: how many
 * each has) read on reader, a connection to s's file in a read
 * transaction the caller holds; the bookkeeping (used, hits, misses, a bad
 * manifest dropped) on s. As store_load_manifest() returns. */
/* Drops the manifest of row id from s as a damaged one (why, logged with
 * its key's hex), counted as a miss. */
void store_drop_damaged(Store *s, int64_t id, const char *hex, const char *why);
int store_load_head(Store *s, Store *reader, const uint8_t key[FINGERPRINT_SIZE], Manifest **ret,
                    uint64_t **ret_counts, int64_t *ret_id, Error *e);

/* Runs a prepared statement once and resets it; an SQLite code. */
int store_step_once(sqlite3_stmt *q);

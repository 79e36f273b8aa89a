/* The manifest store: an SQLite database of manifests keyed by the content
 * key of the side they describe, plus the stat records that spare
 * re-hashing an untouched image. Schema: schemas/store.sql.
 *
 * Every function is safe to call from several threads (one connection per
 * Store, serialised by a mutex) and from several processes (WAL, busy
 * timeout). A manifest is written in one transaction: a crash leaves it
 * whole or absent. */
#pragma once

#include "common/errors.h"
#include "common/names.h"
#include "manifest/manifest-stream.h"
#include "packages/packages.h"
#include "source/disk-key.h"
#include "source/image-key.h"

typedef struct Store Store;

/* Opens (creating, migrating) the database at path. A file that is not a
 * database of ours or fails its integrity check is renamed to
 * PATH.corrupt-TIMESTAMP (never deleted) and a fresh one is made; a
 * warning naming both files is logged. Returns 1 with *ret and e set when
 * the database cannot be opened now for a reason that may pass (a
 * read-only or full filesystem, a directory it may not write): every call
 * then fails (loads as misses) and opens it again, at most every ten
 * seconds, until it can. A newer schema is an error (-1, e set). */
int store_open(const char *path, uint64_t budget_bytes, Store **ret, Error *e);
Store *store_close(Store *s);

/* Whether the database can be used now (opening it when it could not be
 * opened before, at most every ten seconds). */
bool store_online(Store *s);

/* The default path: $XDG_CACHE_HOME/virt-diffd/manifests.sqlite (or
 * ~/.cache/...) for a session daemon, /var/cache/virt-diffd/... for the
 * system one. */
char *store_default_path(bool system);

/* Stat records: the key a file had when it had this stat. */
int store_lookup_stat(Store *s, const char *path, const FileStat *st, uint8_t ret_key[FINGERPRINT_SIZE]);
int store_save_stat(Store *s, const char *path, const FileStat *st, const uint8_t key[FINGERPRINT_SIZE]);
/* The stat records as disk_identify() takes them; s may be NULL (no memo). */
KeyMemo store_key_memo(Store *s);

/* A store of our schema in a private file of its own (under $TMPDIR, else
 * /var/tmp), removed when it is closed: where a scan streams its manifest
 * when there is no cache, and before the cache takes it (one path). No
 * budget: nothing is evicted. */
int store_open_temporary(Store **ret, Error *e);

/* Returns 1 and the manifest when cached (and marks it used), 0 when not. */
int store_load_manifest(Store *s, const uint8_t key[FINGERPRINT_SIZE], Manifest **ret, Error *e);
/* One disk of a side: its path when scanned and its own content key. */
typedef struct StoreDisk {
        const char *path;
        const uint8_t *key; /* FINGERPRINT_SIZE bytes */
} StoreDisk;

/* Saves (replacing) a manifest with the disks it was scanned from, then
 * evicts least recently used manifests beyond the byte budget. */
int store_save_manifest(Store *s, const uint8_t key[FINGERPRINT_SIZE], const StoreDisk *disks, size_t n_disks,
                        const Manifest *m, Error *e);

/* A manifest saved as it streams (manifest/manifest-stream.h): head,
 * trees, batches of entries, end, each checked as store-load.c checks what
 * it reads (out of order, an unknown filesystem or kind...: InvalidArgs).
 * One transaction from store_writer_new() to the sink's end, which commits
 * (replacing a manifest of that key, then evicting beyond the budget); a
 * writer freed before its end rolls back. The store is held throughout:
 * write into a store of one's own (store_open_temporary()), then import. */
typedef struct StoreWriter StoreWriter;
int store_writer_new(Store *s, const uint8_t key[FINGERPRINT_SIZE], const StoreDisk *disks, size_t n_disks,
                     StoreWriter **ret, Error *e);
ManifestSink store_writer_sink(StoreWriter *w);
StoreWriter *store_writer_free(StoreWriter *w);
static inline void store_writer_freep(StoreWriter **w) {
        store_writer_free(*w);
}
#define _cleanup_store_writer_ _cleanup_(store_writer_freep)

/* A stored manifest as a ManifestSource: its head in memory, each tree's
 * entries read in path order as the cursor goes, on a connection of its own
 * holding one snapshot until freed (so another job's eviction cannot take
 * it away). Returns 1 and the source (the manifest marked used), 0 when
 * there is none (a damaged head is dropped, as by store_load_manifest()).
 * A damaged row met later fails the cursor (Internal). */
typedef struct StoreSource StoreSource;
int store_source_open(Store *s, const uint8_t key[FINGERPRINT_SIZE], StoreSource **ret, Error *e);
ManifestSource store_source(StoreSource *src);
const Manifest *store_source_head(const StoreSource *src);
/* Ends the snapshot and closes the connection, keeping the head: a
 * cursor opened after fails. */
void store_source_release(StoreSource *src);
/* True once a cursor met a damaged row; store_source_drop() then removes
 * that manifest from s, the store it came from (a miss, logged), so that
 * its side is scanned again. */
bool store_source_damaged(const StoreSource *src);
void store_source_drop(StoreSource *src, Store *s);
StoreSource *store_source_free(StoreSource *src);
static inline void store_source_freep(StoreSource **src) {
        store_source_free(*src);
}

/* The manifest of key in the temporary store from copied into s (a cache),
 * replacing one of that key, then evicting beyond the budget. */
int store_import_manifest(Store *s, Store *from, const uint8_t key[FINGERPRINT_SIZE], Error *e);

/* A side's package set (packages/packages.h), saved after its manifest
 * (which must be there: -ENOENT otherwise) and replaced with it. Load
 * returns 1 and the set, 0 when the manifest was saved without one (or
 * the row failed its check and was dropped). */
int store_save_packages(Store *s, const uint8_t key[FINGERPRINT_SIZE], const PackageSet *ps, Error *e);
int store_load_packages(Store *s, const uint8_t key[FINGERPRINT_SIZE], PackageSet **ret, Error *e);

typedef struct StoreStats {
        uint64_t manifests, entries, bytes, budget_bytes, hits, misses;
        char *path;
} StoreStats;

typedef struct StoreItem {
        uint8_t key[FINGERPRINT_SIZE];
        char *label; /* the disks' paths, ", "-separated */
        uint64_t entries, bytes;
        int64_t created_usec, used_usec; /* CLOCK_REALTIME */
} StoreItem;

int store_stats(Store *s, StoreStats *ret);
void store_stats_done(StoreStats *st);
int store_list(Store *s, StoreItem **ret, size_t *ret_n);
void store_items_free(StoreItem *items, size_t n);
/* Removes every manifest scanned from a disk with this content key, or all
 * manifests and stat records when disk_key is NULL. */
int store_purge(Store *s, const uint8_t *disk_key, uint64_t *ret_removed);
/* The manifests scanned from the current content of the image at path
 * (absolute; NULL: all of them). An image whose current content was never
 * scanned is a NotCached error, a relative path InvalidArgs (-1, e set). */
int store_purge_image(Store *s, const char *path, uint64_t *ret_removed, Error *e);
/* Small files' contents, deduplicated by SHA-256 (for content diffs
 * against a cached side). Load returns 1 and a NUL-terminated copy when
 * present and intact, 0 when not; save refuses data whose hash is not
 * sha256 or that is larger than STORE_CONTENT_MAX. */
#define STORE_CONTENT_MAX (1024 * 1024)
int store_load_content(Store *s, const uint8_t sha256[32], void **ret, size_t *ret_len);
int store_save_content(Store *s, const uint8_t sha256[32], const void *data, size_t len);
/* A content's checksum under another algorithm (md5, sha1, ...). */
int store_load_checksum(Store *s, const uint8_t sha256[32], const char *algorithm, char **ret);
int store_save_checksum(Store *s, const uint8_t sha256[32], const char *algorithm, const char *value);

/* PRAGMA integrity_check and foreign_key_check; fills a message. */
int store_verify(Store *s, bool *ret_ok, char **ret_message);

/* ---- jobs (store-jobs.c): what a client may still ask about once the
 * daemon that ran a job is gone ---- */

/* A result document larger than this is not kept. */
#define STORE_RESULT_MAX (64 * 1024 * 1024)
/* Rows kept at most, the oldest ended ones going first. */
#define STORE_JOBS_MAX 2000

typedef struct StoreJob {
        uint64_t id;
        char *daemon;          /* the daemon that ran it (an opaque name) */
        JobKind kind;
        char *owner;           /* NULL: none */
        int64_t owner_uid;     /* -1: none */
        bool detached;
        uint64_t created_usec; /* CLOCK_REALTIME */
        JobState state;        /* JOB_STATE_RUNNING until it ends */
        bool differences;
        ErrorCode error;       /* of a job that failed or was cancelled */
        char *error_message;
        uint64_t finished_usec; /* 0 while it runs */
        bool has_result;
} StoreJob;

void store_jobs_free(StoreJob *jobs, size_t n);

/* A new job's row, as j says. With j->id 0 the row gets an id this
 * database never gave before (*ret_id); else j->id, an id the daemon chose
 * while it could not write here (-EEXIST when taken). */
int store_job_add(Store *s, const StoreJob *j, uint64_t *ret_id);
/* A job's end: its state, error and finished_usec from j, and its result
 * document when result is not NULL (kept if no larger than
 * STORE_RESULT_MAX). Then the housekeeping: rows ended more than keep_usec
 * ago go, the oldest ended rows beyond STORE_JOBS_MAX too, and results
 * beyond their budget (an eighth of the store's, at least
 * STORE_RESULT_MAX) lose their document, oldest first. */
int store_job_end(Store *s, const StoreJob *j, const void *result, size_t len, uint64_t keep_usec);
/* Every row that has not expired (ended less than keep_usec ago, or still
 * running), in id order, without the results. */
int store_jobs_list(Store *s, uint64_t keep_usec, StoreJob **ret, size_t *ret_n);
/* 1 and the row of that id when it has not expired (its strings freed by
 * store_job_done()), 0 when there is none. */
int store_job_get(Store *s, uint64_t id, uint64_t keep_usec, StoreJob *ret);
void store_job_done(StoreJob *j);
/* 1 and the job's result document when kept and intact, 0 when not. */
int store_job_load_result(Store *s, uint64_t id, void **ret, size_t *ret_len);

/* The job records the manifest store refused (read-only, full, locked),
 * kept in the daemon's runtime directory until the store takes them: a job
 * listed while the store could not be written is not forgotten when its
 * daemon dies, and the next daemon answers JobLost for it (or tells how it
 * ended), never "no such job". One small text file a job, DIR/ID, replaced
 * whole; the runtime directory outlives the daemon (not the boot). The
 * store's path is in each file: daemons with other stores skip it. */
#pragma once

#include "store/store.h"

/* Writes row as DIR/ID (DIR made when missing). */
int job_pending_write(const char *dir, const char *store_path, const StoreJob *row);
/* 1 and the row kept for id (freed with store_job_done()), 0 when none. */
int job_pending_read(const char *dir, const char *store_path, uint64_t id, StoreJob *ret);
/* A detached job's result beside its record, DIR/ID.result: copied from
 * fd once; read back whole (1), or 0 when there is none. */
int job_pending_write_result(const char *dir, uint64_t id, int fd);
int job_pending_read_result(const char *dir, uint64_t id, void **ret, size_t *ret_len);
/* The record and its result. */
void job_pending_remove(const char *dir, uint64_t id);
/* The ids kept for this store, in rising order; files older than keep_usec
 * (or unreadable) are removed on the way. */
int job_pending_list(const char *dir, const char *store_path, uint64_t keep_usec, uint64_t **ret_ids,
                     size_t *ret_n);

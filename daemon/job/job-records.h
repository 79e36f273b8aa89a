/* Jobs in the store (store/store-jobs.c), so that what a client may still
 * ask about outlives the daemon: a listed job's row is written when it is
 * listed and again when it ends, with the result of a detached job that
 * succeeded. A daemon that starts ends the rows its dead predecessors left
 * running as JobLost, and brings back every row that has not expired as a
 * finished, restored Job. Main thread; the store serialises its callers. */
#pragma once

#include "job/job.h"

/* This daemon's name in the rows, "BOOT-ID PID START-TICKS": no other
 * process will ever have it. NULL when /proc cannot tell. */
char *job_records_daemon_name(void);

/* What of a job the store holds (Job.recorded). */
enum {
        JOB_RECORD_NONE,
        JOB_RECORD_ROW, /* its row, as it was listed */
        JOB_RECORD_END, /* and its end */
};

/* A job just listed: an id the store never gave before, and its row; 0
 * when the store cannot be written (the caller then picks an id, and
 * job_record_sync() writes the row later). */
uint64_t job_record_add(Store *s, const char *daemon, Job *j);
/* Writes what the store lacks of j: its row (with j->id), its end once it
 * ended (with the result of a detached job that succeeded). True when the
 * store holds all there is; quiet: a retry, failures are not news. */
bool job_record_sync(Store *s, const char *daemon, Job *j, uint64_t keep_usec, bool quiet);
/* A listed job that will never end: its daemon stops under it. */
void job_record_lost(Store *s, const char *daemon, Job *j, uint64_t keep_usec);

/* At start: rows that the dead daemons left running are ended as JobLost,
 * and every row that has ended and not expired comes back as a restored
 * Job (finished, listed, in id order). Jobs that daemons still running
 * (sharing the store) run are theirs, and left alone. */
int job_records_restore(Store *s, const JobContext *ctx, uint64_t keep_usec, Job ***ret, size_t *ret_n);

/* The one row of that id as a restored Job, when it has not expired and
 * its daemon is gone (one that was stopping when this one started, say). */
Job *job_records_restore_one(Store *s, const JobContext *ctx, uint64_t keep_usec, uint64_t id);

/* What the store should hold of j now, as a row (its end, once it ended;
 * e holds the error message the row points to). */
void job_record_row(const char *daemon, Job *j, StoreJob *ret, Error *e);

/* A row the store refused, kept aside (job-pending.h), as a restored Job:
 * one its dead daemon left running is lost. The store is given the row and
 * the result kept with it, if any (*ret_stored when it took them); the job
 * holds that result. NULL: a job a live daemon runs, or no memory. */
Job *job_records_restore_pending(Store *s, const JobContext *ctx, uint64_t keep_usec, StoreJob *row,
                                 const void *result, size_t len, bool *ret_stored);

/* A restored job's result from the store into j->result_fd; JobLost (-1,
 * e set) when it was not kept. */
int job_record_load_result(Job *j, Error *e);

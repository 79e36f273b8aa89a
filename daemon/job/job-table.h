/* The daemon's jobs, whichever front-end (D-Bus, varlink) started them:
 * ids, the scheduler, the hang watch, and how long a finished job stays
 * readable. Its event loop reacts to what the jobs' threads report and
 * tells each front-end through its listener; a front-end keeps its own
 * state for a job in j->frontend[slot]. Main thread only. */
#pragma once

#include <systemd/sd-event.h>

#include "job/job.h"
#include "job/scheduler.h"

typedef struct JobTable JobTable;

typedef struct JobListener {
        /* A new job was submitted (through any front-end). */
        void (*added)(Job *j, void *userdata);
        /* Its inputs were checked: refused when j->published.state is
         * JOB_STATE_FAILED (it is removed right after), else listed with
         * an id. */
        void (*validated)(Job *j, void *userdata);
        /* Its published status changed while it runs (not coalesced). */
        void (*changed)(Job *j, void *userdata);
        /* It ended: the published state, error and result are final. */
        void (*finished)(Job *j, void *userdata);
        /* It is about to be freed: drop j->frontend[slot]. */
        void (*removed)(Job *j, void *userdata);
        void *userdata;
} JobListener;

typedef struct JobTableOptions {
        SchedulerLimits limits;
        uint64_t retain_usec; /* how long a finished job stays readable */
        /* Keep jobs in the store (job-records.h), so that they outlive this
         * daemon; not for a private daemon, whose jobs nobody else sees. */
        bool persist;
        Pool *pool;
        Store *store;         /* NULL: no cache */
        /* Where job records the store refuses wait for it (job-pending.h):
         * a directory that outlives the daemon, and the store's path. */
        const char *records_dir;
        const char *store_path;
        bool no_direct;       /* every side in an appliance (--no-direct) */
        /* Called when the jobs' counts may have changed: one submitted,
         * admitted, finished or gone (job_table_busy(), scheduler_counts()). */
        void (*counts_changed)(void *userdata);
        void *userdata;
} JobTableOptions;

int job_table_new(sd_event *event, const JobTableOptions *options, JobTable **ret);
/* Cancels every job and waits for their threads. */
JobTable *job_table_free(JobTable *t);
static inline void job_table_freep(JobTable **t) {
        job_table_free(*t);
}

/* Registers a front-end; *ret_slot is its index in Job.frontend. It hears
 * at once of the jobs the table holds already (restored ones). */
int job_table_add_listener(JobTable *t, const JobListener *l, size_t *ret_slot);

/* A job bound to the table's context, not submitted yet: the front-end
 * fills in its disks and options, then submits it or frees it. */
Job *job_table_new_job(JobTable *t);
/* Takes the job and starts its pipeline; -EBUSY when the scheduler has no
 * room (TooManyJobs). */
int job_table_submit(JobTable *t, Job *j);

/* The listed job of that id, or NULL; one that only the store knows (its
 * daemon gone) is read back first. */
Job *job_table_find(JobTable *t, uint64_t id);
/* False while the jobs kept in the store cannot be read (it cannot be
 * opened now): a job not found may still be there. */
bool job_table_records_readable(JobTable *t);
/* All jobs, listed or still validating, in submission order. */
Job *const *job_table_jobs(JobTable *t, size_t *ret_n);
Scheduler *job_table_scheduler(JobTable *t);

/* Cancels every job; their threads end quickly. */
void job_table_cancel_all(JobTable *t);
/* The daemon stops: every job not finished is recorded as lost (a client
 * may ask after it), then all are cancelled. */
void job_table_stop(JobTable *t);
/* Any job not finished yet? */
bool job_table_busy(JobTable *t);

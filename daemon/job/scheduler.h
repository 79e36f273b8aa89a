/* The job scheduler: at most max_running jobs run, the others wait in a
 * bounded queue. It holds every unfinished job, in submission order, from
 * job_table_submit() until the job is finished or gone. Admission is
 * round-robin by owner (the submitter's uid when its creds are known, as on
 * the system bus, else its bus name), so one client or user with many jobs
 * cannot starve another. Main thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "job/job.h"

typedef struct Scheduler Scheduler;

typedef struct SchedulerLimits {
        unsigned max_running;         /* jobs running at once */
        unsigned max_queue;           /* jobs waiting beyond those */
        unsigned max_jobs_per_caller; /* queued + running of one caller */
} SchedulerLimits;

/* The default for --max-running: one job a core, two appliances' memory a
 * job (memsize_mb each), at least one. */
unsigned scheduler_default_max_running(uint64_t memsize_mb);

int scheduler_new(const SchedulerLimits *limits, Scheduler **ret);
Scheduler *scheduler_free(Scheduler *s);
/* Its limits; the caller may change them (they apply from the next run). */
SchedulerLimits *scheduler_limits(Scheduler *s);

/* May one more job be accepted (running or queued)? */
bool scheduler_has_room(Scheduler *s);
/* Unfinished jobs of one caller: by uid when creds are known (the system
 * bus, where one uid may open many connections), else by owner. */
unsigned scheduler_count_caller(Scheduler *s, const char *owner, const CallerCreds *caller);

/* A new unfinished job; -ENOMEM. */
int scheduler_add(Scheduler *s, Job *j);
/* A job finished or gone: its slot is free, and its owner's turn is
 * forgotten once the owner has no job left. */
void scheduler_remove(Scheduler *s, Job *j);

/* Admits queued jobs into free slots and renumbers the queue. */
void scheduler_run(Scheduler *s);

/* Counts of unfinished jobs, for the status line. Validating counts as
 * queued: it will want a slot. */
void scheduler_counts(Scheduler *s, unsigned *ret_running, unsigned *ret_queued);

/* The job scheduler: at most max_running jobs run, the others wait in a
 * bounded queue. Admission is round-robin by owner (the submitter's bus
 * name), so one client with many jobs cannot starve another. Main thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct Manager Manager;

/* The default for --max-running: one job a core, two appliances' memory a
 * job (memsize_mb each), at least one. */
unsigned scheduler_default_max_running(uint64_t memsize_mb);

/* May one more job be accepted (running or queued)? */
bool scheduler_has_room(Manager *m);

/* Admits queued jobs into free slots and renumbers the queue. */
void scheduler_run(Manager *m);

/* Counts of unfinished jobs, for the status line. */
void scheduler_counts(Manager *m, unsigned *ret_running, unsigned *ret_queued);

/* Forgets an owner's turn once it has no job left. */
void scheduler_forget_owner(Manager *m, const char *owner);

/* The progress line on a terminal while a job runs, as apt, virt-resize or
 * importctl show theirs: the phase, how long it has taken so far, and
 *   - where the phase has a total (fingerprint, scan, hash): a bar, the
 *     percentage, what is done of how much, the rate and the time left;
 *   - where it has none (launch, inspect): the time it took last time on
 *     this host, and a bar of the time so far against it.
 * Pure formatting: the caller owns the terminal (client/diff.c). */
#pragma once

#include "common/names.h"
#include "common/util.h"

/* A job's progress properties, as the Job object last reported them
 * (PropertiesChanged carries only what changed: keep the rest). */
typedef struct JobProgress {
        JobState state;
        Phase phase;
        uint32_t queue_position; /* 1 = next */
        bool valid;              /* progress and the rate mean something */
        double progress;         /* 0..1 within the phase */
        uint64_t files_done, files_total, bytes_done, bytes_total; /* cumulative over the job */
        uint64_t rate;              /* files (scan) or bytes (hash, fingerprint) a second */
        uint64_t expected_end_usec; /* CLOCK_REALTIME; 0 unknown */
} JobProgress;

/* How long each phase without a total took the last time, on this host. */
typedef struct PhaseTimes {
        uint64_t usec[_PHASE_MAX];
} PhaseTimes;

/* $XDG_STATE_HOME/virt-diff/phase-times, else ~/.local/state/...; NULL
 * when there is no home. */
char *phase_times_path(void);
/* A missing or unreadable file is no history at all. */
void phase_times_load(PhaseTimes *t, const char *path);
/* Written beside and renamed; failures are ignored by the caller (it is
 * only a hint for next time). */
int phase_times_save(const PhaseTimes *t, const char *path);

typedef struct ProgressLine {
        JobProgress p;
        Phase phase;                   /* the phase shown, since phase_start (monotonic) */
        uint64_t phase_start;
        uint64_t base_files, base_bytes; /* the counters when it began */
        PhaseTimes last;               /* from the last runs; updated as phases end */
        bool last_changed;             /* a phase ended: worth saving */
} ProgressLine;

void progress_line_init(ProgressLine *l, const PhaseTimes *last, uint64_t now);
/* Takes the job's latest values; when the phase changes, remembers how
 * long a phase without a total took. */
void progress_line_update(ProgressLine *l, const JobProgress *p, uint64_t now);
/* The line for a terminal of width columns: at most width - 1 of them, so
 * that the cursor never wraps. */
void progress_line_format(const ProgressLine *l, uint64_t now, uint64_t now_realtime, unsigned width, char *buf,
                          size_t size);

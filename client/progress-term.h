/* The progress line on the terminal: stderr, redrawn in place only when it
 * changed, as wide as the terminal, cleared before anything else prints;
 * the phases' lengths kept for next time. Shared by the D-Bus and the
 * varlink ways of following a job. */
#pragma once

#include "progress-line.h"

typedef struct ProgressTerm {
        JobProgress progress; /* the job's properties as last reported */
        ProgressLine line;
        bool started, shown;
        char drawn[512];
        char *times_path;
} ProgressTerm;

/* Loads the phase times of the last runs. */
void progress_term_start(ProgressTerm *t);
/* After progress changed: the line again. */
void progress_term_update(ProgressTerm *t);
/* The elapsed time moves on: draws when the text changed. */
void progress_term_draw(ProgressTerm *t);
/* Erases the line (another message, or the result, comes next). */
void progress_term_clear(ProgressTerm *t);
/* Erases it for good and saves the phase times; idempotent. */
void progress_term_stop(ProgressTerm *t);

#include "progress-term.h"

#include <sys/ioctl.h>

static unsigned terminal_width(void) {
        struct winsize w;
        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0)
                return w.ws_col;
        return 80;
}

void progress_term_start(ProgressTerm *t) {
        PhaseTimes last;

        t->times_path = phase_times_path();
        phase_times_load(&last, t->times_path);
        progress_line_init(&t->line, &last, now_usec_monotonic());
        t->started = true;
}

void progress_term_clear(ProgressTerm *t) {
        if (t->shown) {
                fputs("\r\033[K", stderr);
                fflush(stderr);
                t->shown = false;
        }
}

void progress_term_draw(ProgressTerm *t) {
        char buf[sizeof t->drawn];

        if (!t->started)
                return;
        progress_line_format(&t->line, now_usec_monotonic(), now_usec_realtime(), terminal_width(), buf, sizeof buf);
        if (!buf[0] || (t->shown && strcmp(buf, t->drawn) == 0))
                return;
        memcpy(t->drawn, buf, sizeof buf);
        /* In place: back to the line's start, the new text, the rest erased. */
        fprintf(stderr, "\r%s\033[K", buf);
        fflush(stderr);
        t->shown = true;
}

void progress_term_update(ProgressTerm *t) {
        if (!t->started)
                return;
        progress_line_update(&t->line, &t->progress, now_usec_monotonic());
        progress_term_draw(t);
}

void progress_term_stop(ProgressTerm *t) {
        progress_term_clear(t);
        if (!t->started)
                return;
        t->started = false;
        /* The last phase ends here too. */
        progress_line_update(&t->line, &(JobProgress) {.state = JOB_STATE_SUCCEEDED}, now_usec_monotonic());
        if (t->line.last_changed)
                (void) phase_times_save(&t->line.last, t->times_path);
        free(t->times_path);
        t->times_path = NULL;
}

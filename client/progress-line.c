#include "progress-line.h"

#include <inttypes.h>
#include <math.h>
#include <sys/stat.h>

/* Phases whose length nothing measures in advance: shown against history. */
static bool phase_without_total(Phase p) {
        return p == PHASE_LAUNCH || p == PHASE_INSPECT;
}

/* A pooled appliance "launches" in no time: that is not what a cold launch
 * takes, and would make the next one look stuck. */
#define MIN_REMEMBERED_USEC (1000000ULL)

char *phase_times_path(void) {
        const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        char *p;

        if (state && state[0] == '/')
                return asprintf(&p, "%s/virt-diff/phase-times", state) < 0 ? NULL : p;
        if (home && home[0] == '/')
                return asprintf(&p, "%s/.local/state/virt-diff/phase-times", home) < 0 ? NULL : p;
        return NULL;
}

void phase_times_load(PhaseTimes *t, const char *path) {
        _cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
        char name[32];
        double secs;

        *t = (PhaseTimes) {};
        /* "launch 21.40": a phase and its seconds a line. */
        while (f && fscanf(f, "%31s %lf", name, &secs) == 2) {
                Phase p = phase_from_string(name);
                if (p > PHASE_NONE && p < _PHASE_MAX && phase_without_total(p) && isfinite(secs) && secs > 0 &&
                    secs < 86400)
                        t->usec[p] = (uint64_t) (secs * 1e6);
        }
}

static int mkdir_parents(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        for (char *s = strchr(dir + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

int phase_times_save(const PhaseTimes *t, const char *path) {
        char *tmp;
        FILE *f;
        int r;

        if (!path)
                return -EINVAL;
        r = mkdir_parents(path);
        if (r < 0)
                return r;
        r = fopen_temporary(path, &f, &tmp);
        if (r < 0)
                return r;
        for (Phase p = PHASE_NONE + 1; p < _PHASE_MAX; p++)
                if (t->usec[p])
                        fprintf(f, "%s %.2f\n", phase_to_string(p), (double) t->usec[p] / 1e6);
        return fclose_and_rename(f, tmp, path, ferror(f) ? -EIO : 0);
}

void progress_line_init(ProgressLine *l, const PhaseTimes *last, uint64_t now) {
        *l = (ProgressLine) {.phase_start = now};
        if (last)
                l->last = *last;
}

void progress_line_update(ProgressLine *l, const JobProgress *p, uint64_t now) {
        if (p->phase != l->phase) {
                uint64_t took = now - l->phase_start;
                if (phase_without_total(l->phase) && took >= MIN_REMEMBERED_USEC) {
                        l->last.usec[l->phase] = took;
                        l->last_changed = true;
                }
                l->phase = p->phase;
                l->phase_start = now;
                /* Where the counters stood before this news: the update
                 * that brings a phase may bring its first work too. */
                l->base_files = l->p.files_done;
                l->base_bytes = l->p.bytes_done;
        }
        l->p = *p;
}

/* "0:07", "12:34", "1:02:03" */
static void duration(char buf[static 32], uint64_t usec) {
        uint64_t s = usec / 1000000;
        if (s >= 3600)
                snprintf(buf, 32, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60, s % 60);
        else
                snprintf(buf, 32, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
}

/* "135M", "4.2G": powers of 1024 with the units ls -h uses. */
static void size(char buf[static 32], uint64_t n) {
        static const char units[] = "KMGTPE";
        double v = (double) n;
        int u = -1;

        while (v >= 1024 && u + 1 < (int) sizeof(units) - 1) {
                v /= 1024;
                u++;
        }
        if (u < 0)
                snprintf(buf, 32, "%" PRIu64 "B", n);
        else
                snprintf(buf, 32, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

/* The parts of the line, most important first; the least important are
 * left out until it fits. */
enum { PART_NAME, PART_ELAPSED, PART_PERCENT, PART_ETA, PART_BAR, PART_RATE, PART_COUNT, _PART_MAX };

static void bar(char *buf, size_t size, unsigned width, double fraction) {
        unsigned filled = (unsigned) (fraction * width + 0.5);
        size_t o = 0;

        if (fraction < 0)
                filled = 0;
        if (filled > width)
                filled = width;
        if (size < width + 3)
                return;
        buf[o++] = '[';
        for (unsigned i = 0; i < width; i++)
                buf[o++] = i < filled ? '#' : '.';
        buf[o++] = ']';
        buf[o] = 0;
}

void progress_line_format(const ProgressLine *l, uint64_t now, uint64_t now_realtime, unsigned width, char *buf,
                          size_t bufsize) {
        const JobProgress *p = &l->p;
        char parts[_PART_MAX][96] = {};
        char a[32], b[32];
        double fraction = -1;
        uint64_t elapsed = now - l->phase_start;

        if (bufsize == 0)
                return;
        buf[0] = 0;
        if (width < 2)
                return;

        if (p->state == JOB_STATE_QUEUED) {
                duration(a, elapsed);
                snprintf(parts[PART_NAME], sizeof parts[0], "queued, %" PRIu32 " job%s ahead",
                         p->queue_position > 0 ? p->queue_position - 1 : 0, p->queue_position == 2 ? "" : "s");
                snprintf(parts[PART_ELAPSED], sizeof parts[0], "%s", a);
        } else if (p->phase > PHASE_NONE && p->phase < _PHASE_MAX) {
                snprintf(parts[PART_NAME], sizeof parts[0], "%-7s", phase_to_string(p->phase));
                duration(a, elapsed);
                snprintf(parts[PART_ELAPSED], sizeof parts[0], "%s", a);
                bool files = p->phase == PHASE_SCAN;
                uint64_t done = files ? p->files_done - l->base_files : p->bytes_done - l->base_bytes;
                uint64_t total = files ? p->files_total - l->base_files : p->bytes_total - l->base_bytes;

                if (p->valid) {
                        fraction = p->progress;
                        snprintf(parts[PART_PERCENT], sizeof parts[0], "%3.0f%%", fraction * 100);
                        if (total > 0 && done <= total) {
                                if (files)
                                        snprintf(parts[PART_COUNT], sizeof parts[0], "%" PRIu64 "/%" PRIu64 " files",
                                                 done, total);
                                else {
                                        size(a, done);
                                        size(b, total);
                                        snprintf(parts[PART_COUNT], sizeof parts[0], "%s/%s", a, b);
                                }
                        }
                        if (p->rate > 0) {
                                if (files)
                                        snprintf(parts[PART_RATE], sizeof parts[0], "%" PRIu64 " files/s", p->rate);
                                else {
                                        size(a, p->rate);
                                        snprintf(parts[PART_RATE], sizeof parts[0], "%s/s", a);
                                }
                        }
                        if (p->expected_end_usec > now_realtime) {
                                duration(a, p->expected_end_usec - now_realtime + 999999);
                                snprintf(parts[PART_ETA], sizeof parts[0], "ETA %s", a);
                        }
                } else if (phase_without_total(p->phase) && l->last.usec[p->phase]) {
                        /* Against last time: the bar fills as that time passes. */
                        duration(a, l->last.usec[p->phase]);
                        fraction = (double) elapsed / (double) l->last.usec[p->phase];
                        snprintf(parts[PART_ETA], sizeof parts[0], "last time %s", a);
                }
        } else
                return;

        /* What is left of the width goes to the bar, 10 to 30 columns. */
        for (int drop = _PART_MAX; drop >= PART_PERCENT; drop--) {
                size_t used = 0, n = 0;
                for (int i = 0; i < drop; i++)
                        if (parts[i][0] && i != PART_BAR) {
                                used += strlen(parts[i]) + (n ? 1 : 0);
                                n++;
                        }
                bool with_bar = fraction >= 0 && drop > PART_BAR;
                if (with_bar) {
                        /* Too narrow for a bar: first leave out what is
                         * worth less than it. */
                        long room = (long) width - 1 - (long) used - 3;
                        if (room < 10)
                                continue;
                        bar(parts[PART_BAR], sizeof parts[0], room > 30 ? 30 : (unsigned) room, fraction);
                }
                size_t o = 0;
                buf[0] = 0;
                for (int i = 0; i < drop; i++) {
                        if (!parts[i][0] || (i == PART_BAR && !with_bar))
                                continue;
                        int k = snprintf(buf + o, bufsize - o, "%s%s", o ? " " : "", parts[i]);
                        if (k < 0 || (size_t) k >= bufsize - o)
                                break;
                        o += (size_t) k;
                }
                if (o <= width - 1)
                        return;
        }
        /* Not even the name and the time fit: as much of it as does. */
        if (strlen(buf) > width - 1)
                buf[width - 1] = 0;
}

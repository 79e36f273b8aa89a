/* Unit test of the progress line: what it shows in each kind of phase, that
 * it always fits the width, and the phase times kept between runs. */
#include <string.h>

#include "common/test-util.h"
#include "progress-line.h"

#define SEC 1000000ULL

static const char *line(const ProgressLine *l, uint64_t now, unsigned width) {
        static char buf[512];
        progress_line_format(l, now, 1000 * SEC, width, buf, sizeof buf);
        return buf;
}

static void test_phases(void) {
        PhaseTimes last = {};
        ProgressLine l;
        JobProgress p = {.state = JOB_STATE_QUEUED, .queue_position = 3};

        progress_line_init(&l, NULL, 0);
        progress_line_update(&l, &p, 0);
        CHECK(strcmp(line(&l, 5 * SEC, 80), "queued, 2 jobs ahead 0:05") == 0);

        /* A launch with no history: the phase and its time. Counters from
         * the phases before it stand where they stood. */
        p = (JobProgress) {.state = JOB_STATE_RUNNING, .phase = PHASE_LAUNCH, .files_done = 100, .files_total = 100};
        progress_line_update(&l, &p, 10 * SEC);
        CHECK(strcmp(line(&l, 22 * SEC, 80), "launch  0:12") == 0);

        /* With history: against how long it took last time. */
        last.usec[PHASE_LAUNCH] = 24 * SEC;
        progress_line_init(&l, &last, 0);
        progress_line_update(&l, &p, 0);
        const char *s = line(&l, 12 * SEC, 80);
        CHECK(strncmp(s, "launch  0:12 last time 0:24 [###############...............]", 59) == 0);
        CHECK(strlen(s) <= 79);

        /* Scanning: percent, files of files, the rate, the time left. */
        p = (JobProgress) {.state = JOB_STATE_RUNNING, .phase = PHASE_SCAN, .valid = true, .progress = 0.5,
                           .files_done = 100, .files_total = 100, .rate = 1200, .expected_end_usec = 1004 * SEC};
        progress_line_update(&l, &p, 30 * SEC);
        CHECK(l.last.usec[PHASE_LAUNCH] == 30 * SEC && l.last_changed);
        p.files_done = 3500;
        p.files_total = 7100;
        progress_line_update(&l, &p, 32 * SEC);
        s = line(&l, 33 * SEC, 120);
        CHECK(strcmp(s, "scan    0:03  50% ETA 0:04 [###############...............] 1200 files/s 3400/7000 files") == 0);

        /* Narrow terminals lose the least useful parts first, never wrap. */
        s = line(&l, 33 * SEC, 60);
        CHECK(strcmp(s, "scan    0:03  50% ETA 0:04 [#########........] 1200 files/s") == 0);
        s = line(&l, 33 * SEC, 30);
        CHECK(strcmp(s, "scan    0:03  50% ETA 0:04") == 0);
        for (unsigned w = 2; w < 140; w++)
                CHECK(strlen(line(&l, 33 * SEC, w)) <= w - 1);

        /* Hashing: bytes. */
        p = (JobProgress) {.state = JOB_STATE_RUNNING, .phase = PHASE_HASH, .valid = true, .progress = 0.25,
                           .bytes_done = 10, .bytes_total = 10, .rate = 20 << 20};
        progress_line_update(&l, &p, 40 * SEC);
        p.bytes_done += 35 << 20;
        p.bytes_total += 140 << 20;
        progress_line_update(&l, &p, 41 * SEC);
        s = line(&l, 42 * SEC, 100);
        CHECK(strstr(s, "hash    0:02  25%") == s && strstr(s, " 20M/s 35M/140M"));
        /* A scan never passes through launch's history. */
        CHECK(l.last.usec[PHASE_SCAN] == 0);
}

static void test_phase_times(void) {
        char dir[] = "/tmp/test-progress-line.XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        _cleanup_free_ char *path = path_join(dir, "state/virt-diff/phase-times");
        PhaseTimes t = {}, back;

        phase_times_load(&back, path);
        CHECK(back.usec[PHASE_LAUNCH] == 0);
        t.usec[PHASE_LAUNCH] = 21400000;
        t.usec[PHASE_INSPECT] = 6200000;
        CHECK(phase_times_save(&t, path) == 0);
        phase_times_load(&back, path);
        CHECK(back.usec[PHASE_LAUNCH] == 21400000 && back.usec[PHASE_INSPECT] == 6200000);

        /* Nonsense lines are no history. */
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f) {
                fputs("launch -5\ninspect nan\nscan 3\nwhatever 4\n", f);
                fclose(f);
        }
        phase_times_load(&back, path);
        CHECK(back.usec[PHASE_LAUNCH] == 0 && back.usec[PHASE_INSPECT] == 0 && back.usec[PHASE_SCAN] == 0);
        rm_rf(dir);
}

int main(void) {
        test_phases();
        test_phase_times();
        return test_report();
}

/* Progress from the pipeline's threads into the job's shared status, and
 * the rates and expected end the front-ends publish. */
#include "common/log.h"
#include "job/job-internal.h"

static void on_phase(void *userdata, int side, Phase p) {
        Job *j = userdata;
        pthread_mutex_lock(&j->lock);
        j->sides[side].phase = p;
        /* The job is as far as its slower side. */
        Phase lowest = j->sides[0].phase < j->sides[1].phase ? j->sides[0].phase : j->sides[1].phase;
        if (lowest != j->status.phase) {
                log_debug("Job %" PRIu64 ": phase %s.", j->id, phase_to_string(lowest));
                j->status.phase = lowest;
                j->phase_start_usec = now_usec_monotonic();
                j->phase_base = j->status;
        }
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
}

static void on_files(void *userdata, uint64_t done, uint64_t total) {
        Job *j = userdata;
        pthread_mutex_lock(&j->lock);
        j->status.files_done += done;
        j->status.files_total += total;
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
}

static void on_bytes(void *userdata, uint64_t done, uint64_t total) {
        Job *j = userdata;
        pthread_mutex_lock(&j->lock);
        j->status.bytes_done += done;
        j->status.bytes_total += total;
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
}

static bool on_cancelled(void *userdata) {
        return job_cancelled(userdata);
}

bool job_cancelled(Job *j) {
        return j->cancel_requested;
}

ProgressSink job_progress_sink(Job *j, int side) {
        return (ProgressSink){.phase = on_phase, .files = on_files, .bytes = on_bytes,
                              .cancelled = on_cancelled, .userdata = j, .side = side < 0 ? 0 : side};
}

void job_set_phase(Job *j, int side, Phase p) {
        if (side >= 0) {
                on_phase(j, side, p);
                return;
        }
        on_phase(j, 0, p);
        on_phase(j, 1, p);
}

/* Counters are cumulative: within a phase they count from where they stood
 * when it began. */
void job_compute_rates(Job *j, JobStatus *st) {
        uint64_t elapsed = now_usec_monotonic() - j->phase_start_usec;
        uint64_t done = 0, total = 0;
        const JobStatus *b = &j->phase_base;

        if (st->phase == PHASE_SCAN) {
                done = st->files_done - b->files_done;
                total = st->files_total - b->files_total;
        } else if (st->phase == PHASE_HASH || st->phase == PHASE_FINGERPRINT) {
                done = st->bytes_done - b->bytes_done;
                total = st->bytes_total - b->bytes_total;
        }
        if (st->state != JOB_STATE_RUNNING)
                total = 0;
        st->progress_valid = total > 0;
        st->progress = st->progress_valid ? (double) done / (double) total : 0.0;
        if (st->progress > 1.0)
                st->progress = 1.0;
        st->rate = total > 0 && elapsed > 100000 ? done * 1000000u / elapsed : 0;
        st->expected_end_usec = st->rate > 0 && total > done
                                        ? now_usec_realtime() + (total - done) * 1000000u / st->rate
                                        : 0;
}

/* The hang watch: a qemu that stops running or stops using CPU in the
 * middle of a job is killed, so only that job fails. */
#include "common/log.h"
#include "job/job-internal.h"

#define HANG_STOPPED_USEC (5 * 1000000ULL)
#define HANG_IDLE_USEC (60 * 1000000ULL)

void job_watch_appliances(Job *j, uint64_t now) {
        for (int i = 0; i < 2; i++) {
                JobSide *s = &j->sides[i];
                uint64_t ticks;
                bool stopped, kill_it = false;

                pthread_mutex_lock(&s->appliance_lock);
                if (!s->appliance || appliance_cpu(s->appliance, &ticks, &stopped) < 0) {
                        s->watch_busy_usec = s->watch_running_usec = 0;
                        pthread_mutex_unlock(&s->appliance_lock);
                        continue;
                }
                if (s->watch_busy_usec == 0 || ticks != s->watch_ticks) {
                        s->watch_ticks = ticks;
                        s->watch_busy_usec = now;
                }
                if (s->watch_running_usec == 0 || !stopped)
                        s->watch_running_usec = now;
                /* A working appliance under a call always burns some CPU. */
                if (now - s->watch_running_usec >= HANG_STOPPED_USEC || now - s->watch_busy_usec >= HANG_IDLE_USEC) {
                        s->hung = kill_it = true;
                        appliance_kill(s->appliance);
                }
                pthread_mutex_unlock(&s->appliance_lock);
                if (kill_it)
                        log_error("Job %" PRIu64 ": the appliance of side %c stopped responding, killed it.", j->id,
                                  i ? 'B' : 'A');
        }
}

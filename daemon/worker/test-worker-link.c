/* The worker's progress sink says cancelled once its daemon hung up (a
 * daemon killed mid-scan, or done with the worker), so that a long scan
 * stops instead of running to its end; never while the daemon listens. */
#include <sys/socket.h>
#include <unistd.h>

#include "common/test-util.h"
#include "worker/worker-link.h"

static bool cancelled_within(const ProgressSink *s, unsigned calls) {
        for (unsigned i = 0; i < calls; i++)
                if (progress_cancelled(s))
                        return true;
        return false;
}

int main(void) {
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        WorkerLink link = {.fd = sv[1]};
        ProgressSink sink = worker_progress_sink(&link);

        /* The daemon listens: thousands of checks, none cancelled, and
         * progress frames still go out. */
        CHECK(!cancelled_within(&sink, 5000));
        progress_phase(&sink, PHASE_SCAN);
        CHECK(link.send_error == 0);

        /* It hangs up: cancelled within one round of checks. */
        CHECK(close(sv[0]) == 0);
        CHECK(cancelled_within(&sink, 64));

        /* A link whose sends failed is cancelled at once. */
        WorkerLink broken = {.fd = sv[1], .send_error = -EPIPE};
        ProgressSink b = worker_progress_sink(&broken);
        CHECK(progress_cancelled(&b));
        close(sv[1]);
        return test_report();
}

/* The worker's watch on its daemon, with real processes: a stand-in daemon
 * forks a stand-in worker (in a process group of its own, with a child that
 * plays its qemu) that never reads its socket, as in a long call. Killing
 * the daemon takes the worker, its "qemu" and its directory with it; a
 * daemon that only closes the socket leaves the worker to end by itself. */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/test-util.h"
#include "common/util.h"
#include "worker/worker-watch.h"

typedef struct Pids {
        pid_t daemon, worker, qemu;
} Pids;

/* The daemon: a worker under it, the pids to the test through report, then
 * either nothing (to be killed) or a close of the worker's socket. */
static Pids start(const char *dir, bool close_socket) {
        int report[2];
        Pids p = {0};
        if (pipe(report) < 0)
                return p;
        pid_t daemon = fork();
        if (daemon == 0) {
                int sv[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                        _exit(1);
                pid_t worker = fork();
                if (worker == 0) {
                        (void) setpgid(0, 0);
                        pid_t qemu = fork();
                        if (qemu == 0) {
                                for (;;)
                                        pause();
                        }
                        /* Watching before it reports: a daemon killed
                         * earlier would leave a watch on its successor. */
                        if (worker_watch_daemon(sv[1], dir) < 0 ||
                            write(report[1], &qemu, sizeof qemu) != sizeof qemu)
                                _exit(1);
                        /* A long call: the socket is not read. */
                        for (;;)
                                pause();
                }
                close(sv[1]);
                if (write(report[1], &worker, sizeof worker) != sizeof worker)
                        _exit(1);
                if (close_socket)
                        close(sv[0]);
                for (;;)
                        pause();
        }
        close(report[1]);
        p.daemon = daemon;
        pid_t a = 0, b = 0;
        if (read(report[0], &a, sizeof a) != sizeof a || read(report[0], &b, sizeof b) != sizeof b)
                p.daemon = 0;
        close(report[0]);
        /* The order of the two writes is the two processes' race: the
         * worker leads its process group. */
        p.worker = getpgid(a) == a ? a : b;
        p.qemu = p.worker == a ? b : a;
        return p;
}

/* Reaps pid (re-parented to us, the subreaper) within seconds: true. */
static bool reaped(pid_t pid, unsigned seconds) {
        for (unsigned i = 0; i < seconds * 20; i++) {
                pid_t r = waitpid(pid, NULL, WNOHANG);
                if (r == pid)
                        return true;
                usleep(50000);
        }
        return false;
}

int main(void) {
        char tmpl[] = "/tmp/test-worker-watch.XXXXXX";
        char *dir = mkdtemp(tmpl);
        struct stat st;
        if (!dir || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return EXIT_FAILURE;
        _cleanup_free_ char *file = path_join(dir, "overlay-0.qcow2");
        FILE *f = fopen(file, "w");
        CHECK(f && fclose(f) == 0);

        /* Killed: the worker notices at once, its qemu and directory go. */
        Pids p = start(dir, false);
        CHECK(p.daemon > 0 && p.worker > 0 && p.qemu > 0);
        CHECK(kill(p.daemon, SIGKILL) == 0 && reaped(p.daemon, 5));
        CHECK(reaped(p.worker, 10));
        CHECK(reaped(p.qemu, 10));
        CHECK(stat(dir, &st) < 0 && errno == ENOENT);

        /* Done with it: the daemon lives on, and so does the worker. */
        CHECK(mkdir(dir, 0700) == 0);
        p = start(dir, true);
        CHECK(p.daemon > 0 && p.worker > 0 && p.qemu > 0);
        sleep(3);
        uint64_t ticks;
        CHECK(process_start_ticks(p.worker, &ticks) == 0 && process_start_ticks(p.qemu, &ticks) == 0);
        CHECK(stat(dir, &st) == 0);
        kill(-p.worker, SIGKILL);
        kill(p.daemon, SIGKILL);
        CHECK(reaped(p.daemon, 5) && reaped(p.worker, 5) && reaped(p.qemu, 5));
        rm_rf(dir);
        return test_report();
}

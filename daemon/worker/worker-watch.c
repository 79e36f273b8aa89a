#include "worker/worker-watch.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include "common/util.h"

/* After a hang-up, how long the parent may take to change: the kernel
 * closes a dying process's files before it re-parents its children. */
#define REPARENT_WAIT_USEC (2 * 1000000ULL)
/* Without a hang-up, how often the parent is looked at all the same. */
#define POLL_MSEC 1000

typedef struct Watch {
        int fd;
        pid_t daemon;
        char *tmpdir;
} Watch;

static bool daemon_gone(const Watch *w) {
        return getppid() != w->daemon;
}

static _Noreturn void die_with_daemon(Watch *w) {
        /* Files first: a qemu killed first would leave nothing to say so,
         * and removing what it holds open is harmless. */
        if (w->tmpdir)
                rm_rf(w->tmpdir);
        (void) kill(0, SIGKILL);
        _exit(1);
}

static void *watch(void *userdata) {
        Watch *w = userdata;
        for (;;) {
                struct pollfd p = {.fd = w->fd, .events = POLLRDHUP};
                int r = poll(&p, 1, POLL_MSEC);
                if (daemon_gone(w))
                        die_with_daemon(w);
                if (r <= 0 || !(p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
                        continue;
                /* Hung up: dead, or done with us. */
                uint64_t end = now_usec_monotonic() + REPARENT_WAIT_USEC;
                while (!daemon_gone(w) && now_usec_monotonic() < end)
                        (void) usleep(10000);
                if (daemon_gone(w))
                        die_with_daemon(w);
                free(w->tmpdir);
                free(w);
                return NULL;
        }
}

int worker_watch_daemon(int fd, const char *tmpdir) {
        Watch *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (Watch){.fd = fd, .daemon = getppid(), .tmpdir = tmpdir ? strdup(tmpdir) : NULL};
        if (tmpdir && !w->tmpdir) {
                free(w);
                return -ENOMEM;
        }
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* Its own signals stay the process's: this thread takes none. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int r = pthread_create(&t, &attr, watch, w);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                free(w->tmpdir);
                free(w);
                return -r;
        }
        return 0;
}

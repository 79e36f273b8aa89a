#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

void spawn_result_done(SpawnResult *r) {
        free(r->out);
        free(r->err);
        r->out = r->err = NULL;
}

typedef struct Buffer {
        char *data;
        size_t len, max;
} Buffer;

static int buffer_read(Buffer *b, int fd) {
        char tmp[8192];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n <= 0)
                return n < 0 && errno == EINTR ? 1 : 0;
        size_t keep = b->len + (size_t) n > b->max ? b->max - b->len : (size_t) n;
        if (keep > 0) {
                char *d = realloc(b->data, b->len + keep + 1);
                if (!d)
                        return -ENOMEM;
                memcpy(d + b->len, tmp, keep);
                b->len += keep;
                d[b->len] = 0;
                b->data = d;
        }
        return 1;
}

int spawn_capture(char *const argv[], uint64_t timeout_usec, size_t max_output, SpawnResult *ret) {
        int out[2] = {-1, -1}, err[2] = {-1, -1};
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r;

        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                goto close_out;
        }

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, err[1], 2);
        r = -posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        (void) close(out[1]);
        (void) close(err[1]);
        out[1] = err[1] = -1;
        if (r < 0)
                goto close_all;

        Buffer bo = {.max = max_output}, be = {.max = max_output};
        struct pollfd p[2] = {{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
        uint64_t deadline = now_usec_monotonic() + timeout_usec;
        bool timed_out = false;

        while (p[0].fd >= 0 || p[1].fd >= 0) {
                uint64_t now = now_usec_monotonic();
                if (now >= deadline) {
                        timed_out = true;
                        (void) kill(pid, SIGKILL);
                        break;
                }
                int k = poll(p, 2, (int) ((deadline - now) / 1000 + 1));
                if (k < 0 && errno != EINTR)
                        break;
                for (int i = 0; i < 2; i++) {
                        if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        int q = buffer_read(i == 0 ? &bo : &be, p[i].fd);
                        if (q < 0) {
                                (void) kill(pid, SIGKILL);
                                timed_out = true;
                                p[0].fd = p[1].fd = -1;
                                break;
                        }
                        if (q == 0)
                                p[i].fd = -1;
                }
        }

        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        ret->timed_out = timed_out;
        if (timed_out)
                ret->status = -1;
        else if (WIFEXITED(status))
                ret->status = WEXITSTATUS(status);
        else
                ret->status = 128 + WTERMSIG(status);
        ret->out = bo.data ? bo.data : strdup("");
        ret->err = be.data ? be.data : strdup("");
        r = 0;

close_all:
        (void) close(err[0]);
close_out:
        (void) close(out[0]);
        if (out[1] >= 0)
                (void) close(out[1]);
        return r;
}

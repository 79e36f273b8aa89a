/* The sandbox, from the outside: a child locks itself down, then tries
 * what it must not be able to do; the parent reads its status from /proc
 * (seccomp filter mode, no_new_privs, uid) while it waits. */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "common/test-util.h"
#include "common/wire.h"
#include "direct/sandbox.h"

enum {
        GIVEN_FD_READS = 1 << 0,
        OPEN_REFUSED = 1 << 1,
        OPEN_ANY_REFUSED = 1 << 2,
        SOCKET_REFUSED = 1 << 3,
        CONNECT_REFUSED = 1 << 4,
        EXEC_REFUSED = 1 << 5,
        FORK_REFUSED = 1 << 6,
        ENTERED = 1 << 7,
};

static int child(int sock, const char *listening) {
        Error e = {};
        int result = 0, flags = sandbox_enter(sock, &e), fds[2];
        char c;

        if (flags < 0 || !(flags & SANDBOX_SECCOMP)) {
                fprintf(stderr, "sandbox: %s\n", e.message);
                return 1;
        }
        /* What it is given comes afterwards, as the disks come to the
         * worker. */
        if (wire_recv_fds(sock, fds, 2) < 0)
                return 1;
        int given = fds[0], unconnected = fds[1];
        result |= ENTERED;
        if (pread(given, &c, 1, 0) == 1 && c == 'g')
                result |= GIVEN_FD_READS;
        if (open("/etc/hostname", O_RDONLY | O_CLOEXEC) < 0 && errno == EPERM)
                result |= OPEN_REFUSED;
        if (openat(AT_FDCWD, "/proc/self/status", O_RDONLY) < 0)
                result |= OPEN_ANY_REFUSED;
        if (socket(AF_UNIX, SOCK_STREAM, 0) < 0 && socket(AF_INET, SOCK_STREAM, 0) < 0)
                result |= SOCKET_REFUSED;
        /* A socket it holds cannot reach anything either. */
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strncpy(sa.sun_path, listening, sizeof sa.sun_path - 1);
        if (connect(unconnected, (struct sockaddr *) &sa, sizeof sa) < 0 && errno == EPERM)
                result |= CONNECT_REFUSED;
        char *argv[] = {(char *) "/bin/true", NULL};
        if (execv(argv[0], argv) < 0)
                result |= EXEC_REFUSED;
        if (fork() < 0)
                result |= FORK_REFUSED;
        if (write(sock, &result, sizeof result) != sizeof result)
                return 1;
        /* Wait while the parent looks at /proc. */
        (void) read(sock, &c, 1);
        return 0;
}

int main(void) {
        char tmpl[] = "/tmp/test-sandbox-XXXXXX";
        int given = mkstemp(tmpl);
        CHECK(given >= 0 && write(given, "g", 1) == 1);
        (void) unlink(tmpl);

        /* Something to try to connect to. */
        char listening[64];
        snprintf(listening, sizeof listening, "/tmp/test-sandbox-%d.sock", (int) getpid());
        int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strncpy(sa.sun_path, listening, sizeof sa.sun_path - 1);
        CHECK(server >= 0 && bind(server, (struct sockaddr *) &sa, sizeof sa) == 0 && listen(server, 1) == 0);
        int unconnected = socket(AF_UNIX, SOCK_STREAM, 0);

        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        pid_t pid = fork();
        if (pid == 0) {
                close(sv[0]);
                _exit(child(sv[1], listening));
        }
        close(sv[1]);
        /* The fd it may read and a socket it may not use. */
        CHECK(wire_send_fds(sv[0], (int[]) {given, unconnected}, 2) == 0);
        int result = 0;
        CHECK(read(sv[0], &result, sizeof result) == sizeof result);
        CHECK(result & ENTERED);
        CHECK(result & GIVEN_FD_READS);
        CHECK(result & OPEN_REFUSED);
        CHECK(result & OPEN_ANY_REFUSED);
        CHECK(result & SOCKET_REFUSED);
        CHECK(result & CONNECT_REFUSED);
        CHECK(result & EXEC_REFUSED);
        CHECK(result & FORK_REFUSED);
        CHECK(proc_status_has(pid, "Seccomp:\t2"));
        CHECK(proc_status_has(pid, "NoNewPrivs:\t1"));
        if (geteuid() == 0)
                CHECK(proc_status_has(pid, "Uid:\t65534\t65534\t65534\t65534"));
        CHECK(write(sv[0], "x", 1) == 1);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* Nobody connected. */
        int fl = fcntl(server, F_GETFL);
        (void) fcntl(server, F_SETFL, fl | O_NONBLOCK);
        CHECK(accept(server, NULL, NULL) < 0);
        (void) unlink(listening);
        return test_report();
}

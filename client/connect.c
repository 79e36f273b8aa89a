#include "connect.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/names.h"


int connection_open_bus(Connection *c, ConnectMode mode) {
        memset(c, 0, sizeof(*c));
        int r = mode == CONNECT_SYSTEM ? sd_bus_open_system(&c->bus) : sd_bus_open_user(&c->bus);
        if (r < 0)
                return r;
        c->destination = VD_BUS_NAME;
        return 0;
}

/* $VIRT_DIFFD, else beside this program (the build tree), else installed. */
static char *daemon_path(void) {
        const char *env = getenv("VIRT_DIFFD");
        if (env && env[0])
                return strdup(env);

        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
                self[n] = 0;
                _cleanup_free_ char *p = path_join(dirname(self), "virt-diffd");
                if (p && access(p, X_OK) == 0)
                        return TAKE_PTR(p);
        }
        return strdup(VIRT_DIFFD_PATH);
}

int connection_open_peer(Connection *c, bool verbose, bool trace) {
        int sv[2];
        memset(c, 0, sizeof(*c));

        _cleanup_free_ char *path = daemon_path();
        if (!path)
                return -ENOMEM;
        if (access(path, X_OK) < 0)
                return -errno;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;

        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                (void) close(sv[0]);
                (void) close(sv[1]);
                return r;
        }
        if (pid == 0) {
                /* Its own session: a Ctrl-C on the terminal is the client's to
                 * turn into Cancel(), not a signal that kills the daemon. */
                (void) setsid();
                /* dup2 clears close-on-exec on the copy. */
                if (dup2(sv[1], 3) < 0)
                        _exit(127);
                char *argv[5] = {"virt-diffd", "--peer-fd=3"}, **a = argv + 2; /* NULL-terminated */
                if (verbose)
                        *a++ = "--verbose";
                if (trace)
                        *a++ = "--trace";
                execv(path, argv);
                fprintf(stderr, "virt-diff: cannot run %s: %m\n", path);
                _exit(127);
        }
        (void) close(sv[1]);

        int r = sd_bus_new(&c->bus);
        if (r >= 0)
                r = sd_bus_set_fd(c->bus, sv[0], sv[0]);
        else
                (void) close(sv[0]);
        if (r >= 0)
                r = sd_bus_negotiate_fds(c->bus, 1);
        if (r >= 0)
                r = sd_bus_start(c->bus);
        c->peer = true;
        c->daemon_pid = pid;
        if (r < 0) {
                connection_close(c);
                return r;
        }
        return 0;
}

void connection_close(Connection *c) {
        c->bus = sd_bus_flush_close_unref(c->bus);
        if (c->daemon_pid > 0) {
                /* The private daemon exits once its socket closes. */
                while (waitpid(c->daemon_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                c->daemon_pid = 0;
        }
}

bool connection_error_is_unreachable(const sd_bus_error *e) {
        return sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
               sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
               sd_bus_error_has_name(e, SD_BUS_ERROR_NO_SERVER) ||
               sd_bus_error_has_name(e, SD_BUS_ERROR_DISCONNECTED) ||
               sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.Spawn.ChildExited") ||
               sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.Spawn.ExecFailed");
}

int connection_open_auto(Connection *c, ConnectMode mode, bool verbose, bool trace) {
        if (mode == CONNECT_PEER)
                return connection_open_peer(c, verbose, trace);
        int r = connection_open_bus(c, mode);
        if (r >= 0) {
                /* Ping activates the daemon; no answer means no daemon here. */
                sd_bus_error err = SD_BUS_ERROR_NULL;
                r = sd_bus_call_method(c->bus, c->destination, "/org/virtdiff/VirtDiff1", "org.freedesktop.DBus.Peer",
                                       "Ping", &err, NULL, NULL);
                sd_bus_error_free(&err);
                if (r >= 0)
                        return 0;
                connection_close(c);
        }
        if (mode != CONNECT_AUTO)
                return r;
        return connection_open_peer(c, verbose, trace);
}

bool connection_mode_option(int c, ConnectMode *mode) {
        switch (c) {
        case CONNECT_ARG_SESSION:
                *mode = CONNECT_SESSION;
                return true;
        case CONNECT_ARG_SYSTEM:
                *mode = CONNECT_SYSTEM;
                return true;
        case CONNECT_ARG_PRIVATE:
                *mode = CONNECT_PEER;
                return true;
        default:
                return false;
        }
}

int connection_open_or_say(Connection *c, ConnectMode mode, bool bus_only, const char *prog) {
        int r = bus_only ? connection_open_bus(c, mode) : connection_open_auto(c, mode, false, false);
        if (r < 0)
                fprintf(stderr, "%s: cannot reach virt-diffd%s: %s\n", prog, bus_only ? " on the bus" : "",
                        strerror(-r));
        return r;
}

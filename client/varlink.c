#include "varlink.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/util.h"

struct VarlinkClient {
        int fd;
        VarlinkReader in;
        VarlinkWriter out;
};

char *varlink_default_address(bool system) {
        if (system)
                return strdup(VD_VARLINK_SYSTEM_ADDRESS);
        const char *run = getenv("XDG_RUNTIME_DIR");
        if (!run || run[0] != '/')
                return NULL;
        return path_join(run, VD_VARLINK_USER_ADDRESS);
}

int varlink_client_new(int fd, VarlinkClient **ret) {
        /* Reads and writes never block: waits are poll()'s, with timeouts. */
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        VarlinkClient *c = calloc(1, sizeof(*c));
        if (!c) {
                (void) close(fd);
                return -ENOMEM;
        }
        c->fd = fd;
        *ret = c;
        return 0;
}

int varlink_client_connect(const char *path, VarlinkClient **ret) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        return varlink_client_new(fd, ret);
}

VarlinkClient *varlink_client_free(VarlinkClient *c) {
        if (!c)
                return NULL;
        if (c->fd >= 0)
                (void) close(c->fd);
        varlink_reader_done(&c->in);
        varlink_writer_done(&c->out);
        free(c);
        return NULL;
}

int varlink_client_fd(const VarlinkClient *c) {
        return c->fd;
}

/* Waits for fd to be ready for events; 0 on timeout. */
static int wait_fd(int fd, short events, uint64_t timeout_usec) {
        struct pollfd p = {.fd = fd, .events = events};
        uint64_t ms = timeout_usec == UINT64_MAX ? UINT64_MAX : (timeout_usec + 999) / 1000;
        int ms_int = ms > INT32_MAX ? -1 : (int) ms;
        for (;;) {
                int r = poll(&p, 1, ms_int);
                if (r >= 0)
                        return r;
                if (errno != EINTR)
                        return -errno;
        }
}

int varlink_client_send(VarlinkClient *c, const char *method, json_object *parameters, unsigned flags) {
        _cleanup_json_ json_object *m = varlink_message_new_call(method, parameters, flags);
        if (!m)
                return -ENOMEM;
        int r = varlink_writer_put(&c->out, m);
        while (r >= 0 && (r = varlink_writer_flush(&c->out, c->fd)) == 0)
                r = wait_fd(c->fd, POLLOUT, UINT64_MAX);
        return r < 0 ? r : 0;
}

void varlink_reply_done(VarlinkReply *r) {
        json_object_put(r->parameters);
        free(r->error);
        *r = (VarlinkReply){0};
}

int varlink_client_receive(VarlinkClient *c, uint64_t timeout_usec, VarlinkReply *ret) {
        uint64_t deadline = timeout_usec == UINT64_MAX ? UINT64_MAX : now_usec_monotonic() + timeout_usec;
        for (;;) {
                json_object *m = NULL;
                int r = varlink_reader_next(&c->in, &m);
                if (r < 0)
                        return -EBADMSG;
                if (r > 0) {
                        _cleanup_json_ json_object *owned = m;
                        const char *error;
                        json_object *params;
                        bool continues;
                        if (varlink_message_parse_reply(m, &error, &params, &continues) < 0)
                                return -EBADMSG;
                        *ret = (VarlinkReply){
                                .parameters = params ? json_object_get(params) : json_object_new_object(),
                                .error = error ? strdup(error) : NULL,
                                .continues = continues,
                        };
                        if (!ret->parameters || (error && !ret->error)) {
                                varlink_reply_done(ret);
                                return -ENOMEM;
                        }
                        return 1;
                }
                ssize_t k = varlink_reader_fill(&c->in, c->fd);
                if (k == 0)
                        return -ECONNRESET;
                if (k > 0)
                        continue;
                if (k != -EAGAIN)
                        return k == -ENOBUFS ? -EBADMSG : (int) k;
                uint64_t now = now_usec_monotonic();
                if (now >= deadline)
                        return 0;
                r = wait_fd(c->fd, POLLIN, deadline == UINT64_MAX ? UINT64_MAX : deadline - now);
                if (r < 0)
                        return r;
        }
}

void varlink_reply_error(const VarlinkReply *r, Error *e) {
        static const char prefix[] = VD_VARLINK_INTERFACE ".";
        json_object *v = NULL;
        const char *message = json_object_object_get_ex(r->parameters, "message", &v) ? varlink_json_string(v) : NULL;
        if (strncmp(r->error, prefix, strlen(prefix)) == 0) {
                char dbus[256];
                snprintf(dbus, sizeof dbus, VD_ERROR_PREFIX "%s", r->error + strlen(prefix));
                (void) error_set(e, error_code_from_dbus_name(dbus), "%s", message ? message : r->error);
                return;
        }
        if (json_object_object_get_ex(r->parameters, "parameter", &v) && varlink_json_string(v)) {
                (void) error_set(e, ERR_INVALID_ARGS, "invalid parameter '%s'", varlink_json_string(v));
                return;
        }
        (void) error_set(e,
                         strcmp(r->error, "org.varlink.service.MethodNotFound") == 0 ||
                                         strcmp(r->error, "org.varlink.service.InterfaceNotFound") == 0
                                 ? ERR_INVALID_ARGS
                                 : ERR_INTERNAL,
                         "the daemon answered %s", r->error);
}

int varlink_client_call(VarlinkClient *c, const char *method, json_object *parameters, json_object **ret,
                        Error *e) {
        VarlinkReply reply = {0};
        int r = varlink_client_send(c, method, parameters, 0);
        if (r < 0)
                return error_set(e, ERR_INTERNAL, "cannot send to virt-diffd: %s", strerror(-r));
        r = varlink_client_receive(c, UINT64_MAX, &reply);
        if (r <= 0)
                return error_set(e, ERR_INTERNAL, "no reply from virt-diffd: %s",
                                 r == -EBADMSG ? "not a varlink reply" : strerror(r < 0 ? -r : ETIMEDOUT));
        if (reply.error) {
                varlink_reply_error(&reply, e);
                varlink_reply_done(&reply);
                return -1;
        }
        *ret = TAKE_PTR(reply.parameters);
        varlink_reply_done(&reply);
        return 0;
}

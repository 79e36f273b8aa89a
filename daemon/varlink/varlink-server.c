/* The server: its interfaces, listening sockets, and the dispatch of a
 * call to its method after checking it against the definition. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "org-varlink-service.h"
#include "varlink/varlink-internal.h"

static int method_get_info(VarlinkCall *call, json_object *parameters, void *userdata);
static int method_get_interface_description(VarlinkCall *call, json_object *parameters, void *userdata);

static const VarlinkMethod service_methods[] = {
        {"GetInfo", method_get_info, 0},
        {"GetInterfaceDescription", method_get_interface_description, 0},
};

VarlinkServer *varlink_server_free(VarlinkServer *s) {
        if (!s)
                return NULL;
        while (s->connections)
                connection_close(s->connections, 0);
        for (size_t i = 0; i < s->n_listeners; i++)
                sd_event_source_disable_unref(s->listeners[i]);
        free(s->listeners);
        for (size_t i = 0; i < s->n_interfaces; i++) {
                varlink_interface_free(s->interfaces[i].idl);
                free(s->interfaces[i].methods);
        }
        free(s->interfaces);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

int varlink_server_new(sd_event *event, const VarlinkServerInfo *info, VarlinkServer **ret) {
        _cleanup_varlink_server_ VarlinkServer *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->info = *info;
        Error e = {0};
        if (varlink_server_add_interface(s, org_varlink_service_idl, service_methods, ELEMENTSOF(service_methods),
                                         s, &e) < 0)
                return e.code == ERR_INTERNAL ? -ENOMEM : -EINVAL;
        *ret = TAKE_PTR(s);
        return 0;
}

void varlink_server_set_hooks(VarlinkServer *s, const VarlinkServerHooks *hooks) {
        s->hooks = *hooks;
}

int varlink_server_add_interface(VarlinkServer *s, const char *idl, const VarlinkMethod *methods,
                                 size_t n_methods, void *userdata, Error *e) {
        _cleanup_varlink_interface_ VarlinkInterface *iface = NULL;
        int r = varlink_interface_parse(idl, &iface, e);
        if (r < 0)
                return r;
        if (varlink_server_interface_text(s, iface->name))
                return error_set(e, ERR_INVALID_ARGS, "interface %s served twice", iface->name);
        /* One handler for each method, and a method for each handler. */
        size_t n_defined = 0;
        for (size_t i = 0; i < iface->n_symbols; i++) {
                const VarlinkSymbol *sym = &iface->symbols[i];
                if (sym->kind != VARLINK_SYMBOL_METHOD)
                        continue;
                n_defined++;
                bool found = false;
                for (size_t j = 0; j < n_methods && !found; j++)
                        found = strcmp(methods[j].name, sym->name) == 0 && methods[j].handler;
                if (!found)
                        return error_set(e, ERR_INVALID_ARGS, "%s.%s has no implementation", iface->name,
                                         sym->name);
        }
        for (size_t j = 0; j < n_methods; j++)
                if (!varlink_interface_find(iface, VARLINK_SYMBOL_METHOD, methods[j].name))
                        return error_set(e, ERR_INVALID_ARGS, "%s.%s is not defined", iface->name,
                                         methods[j].name);
        if (n_methods != n_defined)
                return error_set(e, ERR_INVALID_ARGS, "a method of %s is implemented twice", iface->name);

        ServedInterface *l = realloc(s->interfaces, (s->n_interfaces + 1) * sizeof(*l));
        if (!l)
                return error_set(e, ERR_INTERNAL, "out of memory");
        s->interfaces = l;
        VarlinkMethod *copy = malloc(n_methods * sizeof(*copy));
        if (!copy)
                return error_set(e, ERR_INTERNAL, "out of memory");
        memcpy(copy, methods, n_methods * sizeof(*copy));
        l[s->n_interfaces++] = (ServedInterface){
                .idl = TAKE_PTR(iface),
                .methods = copy,
                .n_methods = n_methods,
                .userdata = userdata,
        };
        return 0;
}

static const ServedInterface *find_interface(const VarlinkServer *s, const char *name, size_t len) {
        for (size_t i = 0; i < s->n_interfaces; i++)
                if (strlen(s->interfaces[i].idl->name) == len && strncmp(s->interfaces[i].idl->name, name, len) == 0)
                        return &s->interfaces[i];
        return NULL;
}

const char *varlink_server_interface_text(const VarlinkServer *s, const char *name) {
        const ServedInterface *i = find_interface(s, name, strlen(name));
        return i ? i->idl->text : NULL;
}

unsigned varlink_server_n_connections(const VarlinkServer *s) {
        return s->n_connections;
}

/* "iface.Name": the interface and the name after its last dot. */
static const ServedInterface *split_name(const VarlinkServer *s, const char *qualified, const char **ret_name) {
        const char *dot = strrchr(qualified, '.');
        if (!dot)
                return NULL;
        *ret_name = dot + 1;
        return find_interface(s, qualified, (size_t) (dot - qualified));
}

const VarlinkSymbol *server_find_symbol(const VarlinkServer *s, VarlinkSymbolKind kind, const char *name) {
        const char *short_name;
        const ServedInterface *i = split_name(s, name, &short_name);
        return i ? varlink_interface_find(i->idl, kind, short_name) : NULL;
}

/* ---- connections ---- */

static bool may_connect(VarlinkServer *s, uid_t uid) {
        unsigned n = 0;
        for (VarlinkConnection *c = s->connections; c; c = c->next)
                if (c->peer.uid == uid)
                        n++;
        return s->n_connections < VARLINK_CONNECTIONS_MAX && n < VARLINK_CONNECTIONS_PER_UID_MAX;
}

int varlink_server_add_connection(VarlinkServer *s, int fd, VarlinkConnection **ret) {
        _cleanup_close_ int owned = fd;
        struct ucred peer = {0};
        socklen_t n = sizeof(peer);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &n) < 0)
                return -errno;
        if (!may_connect(s, peer.uid)) {
                if (s->hooks.on_refuse)
                        s->hooks.on_refuse(peer.uid, s->hooks.userdata);
                return -EUSERS;
        }
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                return -errno;
        VarlinkConnection *c;
        int r = connection_new(s, TAKE_FD(owned), &c);
        if (r < 0)
                return r;
        if (ret)
                *ret = c;
        return 0;
}

static int on_accept(sd_event_source *src _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        VarlinkServer *s = userdata;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        /* A client that gave up, or no fd left: the next one may do better. */
        if (cfd >= 0)
                (void) varlink_server_add_connection(s, cfd, NULL);
        return 0;
}

int varlink_server_listen_fd(VarlinkServer *s, int fd) {
        _cleanup_close_ int owned = fd;
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                return -errno;
        sd_event_source **l = realloc(s->listeners, (s->n_listeners + 1) * sizeof(*l));
        if (!l)
                return -ENOMEM;
        s->listeners = l;
        int r = sd_event_add_io(s->event, &l[s->n_listeners], fd, EPOLLIN, on_accept, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_io_fd_own(l[s->n_listeners], 1);
        TAKE_FD(owned);
        s->n_listeners++;
        return 0;
}

/* A socket file nobody listens on any more: connecting is refused. */
static bool socket_is_stale(const struct sockaddr_un *sa) {
        struct stat st;
        if (lstat(sa->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
                return false;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        return connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) < 0 && errno == ECONNREFUSED;
}

int varlink_server_listen_path(VarlinkServer *s, const char *path, mode_t mode) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (socket_is_stale(&sa))
                (void) unlink(path);
        /* Born with its mode: no moment when anyone may connect. */
        mode_t old = umask(~mode & 0777);
        int r = bind(fd, (const struct sockaddr *) &sa, sizeof(sa));
        umask(old);
        if (r < 0)
                return -errno;
        if (listen(fd, SOMAXCONN) < 0) {
                r = -errno;
                (void) unlink(path);
                return r;
        }
        r = varlink_server_listen_fd(s, TAKE_FD(fd));
        if (r < 0)
                (void) unlink(path);
        return r;
}

int varlink_server_listen_inherited(VarlinkServer *s) {
        int n = sd_listen_fds(1);
        if (n < 0)
                return n;
        int taken = 0;
        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
                if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
                        (void) close(fd);
                        continue;
                }
                int r = varlink_server_listen_fd(s, fd);
                if (r < 0)
                        return r;
                taken++;
        }
        return taken;
}

/* ---- dispatch ---- */

static int reply_error_string(VarlinkCall *call, const char *error, const char *key, const char *value) {
        json_object *p = json_object_new_object();
        if (!p || json_object_object_add(p, key, json_object_new_string(value)) < 0) {
                json_object_put(p);
                return -ENOMEM;
        }
        return varlink_call_error(call, error, p);
}

int server_dispatch(VarlinkServer *s, VarlinkConnection *c, json_object *message) {
        const char *method, *short_name = NULL;
        json_object *parameters;
        unsigned flags;
        int r = varlink_message_parse_call(message, &method, &parameters, &flags);
        if (r < 0)
                return r;

        VarlinkCall *call = calloc(1, sizeof(*call));
        if (!call)
                return -ENOMEM;
        *call = (VarlinkCall){.n_ref = 1, .conn = c, .flags = flags, .method = strdup(method)};
        if (!call->method) {
                free(call);
                return -ENOMEM;
        }
        c->current = call;
        /* Ours across the handler, which may answer and drop the rest. */
        _cleanup_(varlink_call_unrefp) VarlinkCall *hold = varlink_call_ref(call);

        const ServedInterface *iface = split_name(s, method, &short_name);
        const VarlinkMethod *impl = NULL;
        if (iface)
                for (size_t i = 0; i < iface->n_methods && !impl; i++)
                        if (strcmp(iface->methods[i].name, short_name) == 0)
                                impl = &iface->methods[i];
        char bad[VARLINK_FIELD_PATH_MAX];
        if (!iface) {
                const char *dot = strrchr(method, '.');
                _cleanup_free_ char *name = strndup(method, dot ? (size_t) (dot - method) : strlen(method));
                r = name ? reply_error_string(call, VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", name) : -ENOMEM;
        } else if (!impl)
                r = reply_error_string(call, VARLINK_ERROR_METHOD_NOT_FOUND, "method", method);
        else if ((flags & VARLINK_CALL_UPGRADE) && !(impl->flags & VARLINK_METHOD_UPGRADE))
                r = varlink_call_error_invalid_parameter(call, "upgrade");
        else {
                call->symbol = varlink_interface_find(iface->idl, VARLINK_SYMBOL_METHOD, short_name);
                if (varlink_validate(call->symbol->input, parameters, bad) < 0)
                        r = varlink_call_error_invalid_parameter(call, bad);
                else
                        r = impl->handler(call, parameters, iface->userdata);
        }
        if (r < 0 && !call->answered)
                return r;
        /* A oneway call is over for the connection once its handler ran. */
        if ((flags & VARLINK_CALL_ONEWAY) && c->current == call) {
                call->conn = NULL;
                c->current = NULL;
                varlink_call_unref(call);
        }
        return 0;
}

/* ---- org.varlink.service ---- */

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int method_get_info(VarlinkCall *call, json_object *parameters _unused_, void *userdata) {
        VarlinkServer *s = userdata;
        const char **names = calloc(s->n_interfaces, sizeof(char *));
        json_object *reply = json_object_new_object(), *list = json_object_new_array();
        int r = names && reply && list ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < s->n_interfaces; i++)
                names[i] = s->interfaces[i].idl->name;
        if (r >= 0)
                qsort(names, s->n_interfaces, sizeof(char *), compare_strings);
        for (size_t i = 0; r >= 0 && i < s->n_interfaces; i++)
                r = json_object_array_add(list, json_object_new_string(names[i]));
        const struct {
                const char *key, *value;
        } fields[] = {
                {"vendor", s->info.vendor},
                {"product", s->info.product},
                {"version", s->info.version},
                {"url", s->info.url},
        };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fields); i++)
                r = json_object_object_add(reply, fields[i].key, json_object_new_string(strempty(fields[i].value)));
        free(names);
        if (r >= 0) {
                r = json_object_object_add(reply, "interfaces", list);
                list = NULL;
        }
        json_object_put(list);
        if (r < 0) {
                json_object_put(reply);
                return -ENOMEM;
        }
        return varlink_call_reply(call, reply);
}

static int method_get_interface_description(VarlinkCall *call, json_object *parameters, void *userdata) {
        VarlinkServer *s = userdata;
        const char *name = json_object_get_string(json_object_object_get(parameters, "interface"));
        const char *text = varlink_server_interface_text(s, name);
        if (!text)
                return reply_error_string(call, VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", name);
        json_object *reply = json_object_new_object();
        if (!reply || json_object_object_add(reply, "description", json_object_new_string(text)) < 0) {
                json_object_put(reply);
                return -ENOMEM;
        }
        return varlink_call_reply(call, reply);
}

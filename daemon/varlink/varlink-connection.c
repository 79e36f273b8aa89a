/* One client's connection: its buffered reader and writer, the state of
 * its current call, and the answers to it. */
#include <sys/epoll.h>

#include "varlink/varlink-internal.h"

static VarlinkConnection *connection_ref(VarlinkConnection *c) {
        c->n_ref++;
        return c;
}

VarlinkConnection *connection_unref(VarlinkConnection *c) {
        if (!c || --c->n_ref > 0)
                return NULL;
        varlink_reader_done(&c->in);
        varlink_writer_done(&c->out);
        free(c->groups);
        free(c);
        return NULL;
}

static void connection_unrefp(VarlinkConnection **c) {
        connection_unref(*c);
}

static void call_free(VarlinkCall *c) {
        free(c->method);
        free(c);
}

VarlinkCall *varlink_call_ref(VarlinkCall *c) {
        if (c)
                c->n_ref++;
        return c;
}

VarlinkCall *varlink_call_unref(VarlinkCall *c) {
        if (c && --c->n_ref == 0)
                call_free(c);
        return NULL;
}

/* Reading while there is room and the client may still send; writing
 * while there is something to send. Hang-ups are always reported. */
static void update_events(VarlinkConnection *c) {
        if (!c->io)
                return;
        uint32_t events = 0;
        if (!c->eof && !c->upgrade && varlink_reader_pending(&c->in) < VARLINK_MESSAGE_MAX)
                events |= EPOLLIN | EPOLLRDHUP;
        if (varlink_writer_pending(&c->out) > 0)
                events |= EPOLLOUT;
        (void) sd_event_source_set_io_events(c->io, events);
}

/* Closing waits for the loop: never from inside a handler's answer. */
static void connection_fail(VarlinkConnection *c, int reason) {
        if (c->failed == 0)
                c->failed = reason < 0 ? reason : -ECONNRESET;
        (void) sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

void connection_close(VarlinkConnection *c, int reason) {
        VarlinkServer *s = c->server;
        if (!s)
                return;
        _cleanup_(connection_unrefp) VarlinkConnection *hold = connection_ref(c);
        c->server = NULL;
        if (c->prev)
                c->prev->next = c->next;
        else
                s->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_connections--;
        c->io = sd_event_source_disable_unref(c->io);
        c->defer = sd_event_source_disable_unref(c->defer);
        if (c->fd >= 0)
                (void) close(c->fd);
        c->fd = -1;

        VarlinkCall *call = TAKE_PTR(c->current);
        if (call) {
                call->conn = NULL;
                if (call->gone)
                        call->gone(call, call->gone_userdata);
                varlink_call_unref(call);
        }
        if (s->hooks.on_close)
                s->hooks.on_close(c, reason, s->hooks.userdata);
        connection_unref(c); /* the server's */
}

/* Hands the socket and what was read past the call to the upgrade
 * handler, and forgets the connection. */
static void finish_upgrade(VarlinkConnection *c) {
        c->io = sd_event_source_disable_unref(c->io);
        int fd = TAKE_FD(c->fd);
        c->upgrade(fd, varlink_reader_pending_data(&c->in), varlink_reader_pending(&c->in), c->upgrade_userdata);
        connection_close(c, 0);
}

static int flush(VarlinkConnection *c) {
        int r = varlink_writer_flush(&c->out, c->fd);
        if (r < 0) {
                connection_close(c, r);
                return r;
        }
        if (r > 0 && c->upgrade) {
                finish_upgrade(c);
                return -ENOTCONN;
        }
        return 0;
}

/* Takes the messages buffered while no call is being answered. */
static void process(VarlinkConnection *c) {
        _cleanup_(connection_unrefp) VarlinkConnection *hold = connection_ref(c);
        if (c->server && !c->failed && c->upgrade && varlink_writer_pending(&c->out) == 0) {
                finish_upgrade(c);
                return;
        }
        /* The next call waits until the client has taken the answers so
         * far: one that sends and never reads cannot make us buffer
         * answers without end. */
        while (c->server && !c->failed && !c->current && !c->upgrade && varlink_writer_pending(&c->out) == 0) {
                json_object *m = NULL;
                int r = varlink_reader_next(&c->in, &m);
                if (r == 0)
                        break;
                if (r > 0) {
                        r = server_dispatch(c->server, c, m);
                        json_object_put(m);
                }
                if (r < 0) {
                        connection_close(c, r);
                        return;
                }
        }
        if (!c->server)
                return;
        if (c->failed) {
                connection_close(c, c->failed);
                return;
        }
        /* A client that has gone cannot take an answer: its call is over. A
         * client done sending is done once its answers are out; what it
         * left unfinished was never a message. */
        if (c->hup && c->current) {
                connection_close(c, 0);
                return;
        }
        if (c->eof && !c->current && !c->upgrade && varlink_writer_pending(&c->out) == 0) {
                connection_close(c, varlink_reader_pending(&c->in) > 0 ? -EBADMSG : 0);
                return;
        }
        update_events(c);
}

static int on_io(sd_event_source *src _unused_, int fd _unused_, uint32_t revents, void *userdata) {
        VarlinkConnection *c = userdata;
        _cleanup_(connection_unrefp) VarlinkConnection *hold = connection_ref(c);

        if ((revents & EPOLLOUT) && flush(c) < 0)
                return 0;
        if (revents & EPOLLHUP)
                c->hup = true;
        if ((revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !c->eof && !c->upgrade) {
                for (;;) {
                        ssize_t k = varlink_reader_fill(&c->in, c->fd);
                        if (k == 0)
                                c->eof = true;
                        if (k == -EAGAIN || k == -ENOBUFS || k == 0)
                                break;
                        if (k < 0) {
                                connection_close(c, (int) k);
                                return 0;
                        }
                }
        }
        if (c->hup)
                c->eof = true;
        process(c);
        return 0;
}

static int on_defer(sd_event_source *src _unused_, void *userdata) {
        process(userdata);
        return 0;
}

/* The peer's groups: SO_PEERGROUPS says how much room it needs. */
static void read_peer_groups(VarlinkConnection *c) {
        socklen_t len = 16 * sizeof(gid_t);
        for (int tries = 0; tries < 4; tries++) {
                gid_t *g = malloc(len ? len : 1);
                if (!g)
                        return;
                socklen_t n = len;
                if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, g, &n) == 0) {
                        c->groups = g;
                        c->n_groups = n / sizeof(gid_t);
                        return;
                }
                free(g);
                if (errno != ERANGE || n <= len)
                        return;
                len = n;
        }
}

int connection_new(VarlinkServer *s, int fd, VarlinkConnection **ret) {
        _cleanup_close_ int owned = fd;
        VarlinkConnection *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        c->fd = -1;
        socklen_t n = sizeof(c->peer);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &n) < 0) {
                int r = -errno;
                free(c);
                return r;
        }
        c->fd = TAKE_FD(owned);
        read_peer_groups(c);
        int r = sd_event_add_io(s->event, &c->io, c->fd, EPOLLIN | EPOLLRDHUP, on_io, c);
        if (r >= 0)
                r = sd_event_add_defer(s->event, &c->defer, on_defer, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
        if (r < 0) {
                sd_event_source_disable_unref(c->io);
                sd_event_source_disable_unref(c->defer);
                (void) close(c->fd);
                connection_unref(c);
                return r;
        }
        c->server = s;
        c->id = ++s->next_id;
        c->next = s->connections;
        if (c->next)
                c->next->prev = c;
        s->connections = c;
        s->n_connections++;
        *ret = c;
        return 0;
}

const struct ucred *varlink_connection_peer(const VarlinkConnection *c) {
        return &c->peer;
}

const gid_t *varlink_connection_peer_groups(const VarlinkConnection *c, size_t *ret_n) {
        *ret_n = c->n_groups;
        return c->groups;
}

uint64_t varlink_connection_id(const VarlinkConnection *c) {
        return c->id;
}

/* ---- calls ---- */

const char *varlink_call_method(const VarlinkCall *c) {
        return c->method;
}

bool varlink_call_wants_more(const VarlinkCall *c) {
        return c->flags & VARLINK_CALL_MORE;
}

bool varlink_call_is_oneway(const VarlinkCall *c) {
        return c->flags & VARLINK_CALL_ONEWAY;
}

VarlinkConnection *varlink_call_connection(const VarlinkCall *c) {
        return c->conn;
}

size_t varlink_call_output_pending(const VarlinkCall *c) {
        return c->conn ? varlink_writer_pending(&c->conn->out) : 0;
}

void varlink_call_set_gone_handler(VarlinkCall *c, void (*fn)(VarlinkCall *c, void *userdata), void *userdata) {
        c->gone = fn;
        c->gone_userdata = userdata;
}

/* Queues message (taken) for the call's client and tries to send it; a
 * final answer ends the call and lets the next one in. */
static int send_answer(VarlinkCall *call, json_object *message, bool final) {
        _cleanup_json_ json_object *m = message;
        VarlinkConnection *c = call->conn;
        if (!m)
                return -ENOMEM;
        if (!c || c->failed)
                return -ENOTCONN;
        _cleanup_(connection_unrefp) VarlinkConnection *hold = connection_ref(c);
        int r = varlink_writer_put(&c->out, m);
        if (r < 0)
                return r;
        if (final) {
                call->answered = true;
                if (c->current == call) {
                        c->current = NULL;
                        call->conn = NULL;
                        varlink_call_unref(call);
                }
                /* The next call, if one is buffered, from the loop. */
                (void) sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
        }
        r = varlink_writer_flush(&c->out, c->fd);
        if (r < 0)
                connection_fail(c, r);
        else if (r > 0 && c->upgrade)
                (void) sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
        update_events(c);
        return 0;
}

/* What every answer checks first; 1 when it goes nowhere (oneway). */
static int answer_begin(VarlinkCall *c, json_object *parameters) {
        if (c->answered) {
                json_object_put(parameters);
                return -EALREADY;
        }
        if (c->flags & VARLINK_CALL_ONEWAY) {
                json_object_put(parameters);
                return 1;
        }
        if (!c->conn) {
                json_object_put(parameters);
                return -ENOTCONN;
        }
        return 0;
}

static int answer(VarlinkCall *c, json_object *parameters, bool final) {
        int r = answer_begin(c, parameters);
        if (r != 0) {
                if (r > 0 && final)
                        c->answered = true;
                return r > 0 ? 0 : r;
        }
        char bad[VARLINK_FIELD_PATH_MAX];
        if (c->symbol && varlink_validate(c->symbol->output, parameters, bad) < 0) {
                json_object_put(parameters);
                return -EBADMSG;
        }
        return send_answer(c, varlink_message_new_reply(parameters, !final), final);
}

int varlink_call_reply(VarlinkCall *c, json_object *parameters) {
        return answer(c, parameters, true);
}

int varlink_call_notify(VarlinkCall *c, json_object *parameters) {
        if (!(c->flags & VARLINK_CALL_MORE) && !c->answered) {
                json_object_put(parameters);
                return 0;
        }
        return answer(c, parameters, false);
}

int varlink_call_reply_upgrade(VarlinkCall *c, json_object *parameters, VarlinkUpgradeHandler fn, void *userdata) {
        if (!(c->flags & VARLINK_CALL_UPGRADE) && !c->answered) {
                json_object_put(parameters);
                return -EINVAL;
        }
        VarlinkConnection *conn = c->conn;
        if (conn && !c->answered) {
                conn->upgrade = fn;
                conn->upgrade_userdata = userdata;
        }
        int r = answer(c, parameters, true);
        if (r < 0 && conn && conn->server)
                conn->upgrade = NULL;
        return r;
}

int varlink_call_error(VarlinkCall *c, const char *error, json_object *parameters) {
        int r = answer_begin(c, parameters);
        if (r != 0) {
                if (r > 0)
                        c->answered = true;
                return r > 0 ? 0 : r;
        }
        char bad[VARLINK_FIELD_PATH_MAX];
        const VarlinkSymbol *e = server_find_symbol(c->conn->server, VARLINK_SYMBOL_ERROR, error);
        if (!e || varlink_validate(e->type, parameters, bad) < 0) {
                json_object_put(parameters);
                return -EBADMSG;
        }
        return send_answer(c, varlink_message_new_error(error, parameters), true);
}

int varlink_call_error_invalid_parameter(VarlinkCall *c, const char *parameter) {
        json_object *p = json_object_new_object();
        if (!p || json_object_object_add(p, "parameter", json_object_new_string(parameter)) < 0) {
                json_object_put(p);
                return -ENOMEM;
        }
        return varlink_call_error(c, VARLINK_ERROR_INVALID_PARAMETER, p);
}

/* Unit test of the varlink server over socketpairs: dispatch and its
 * checks, more, oneway, upgrade, pipelined calls, calls answered later,
 * clients that go away, malformed input, limits and listening sockets. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "common/json-util.h"
#include "common/test-util.h"
#include "common/varlink-wire.h"
#include "varlink/varlink-server.h"

static const char test_idl[] =
        "# For the test\n"
        "interface org.example.test\n"
        "type Item (name: string, count: ?int)\n"
        "method Echo(text: string, items: ?[]Item) -> (text: string, items: ?[]Item)\n"
        "method Count(to: int) -> (n: int)\n"
        "method Hold() -> ()\n"
        "method Misbehave(how: string) -> ()\n"
        "method Raw() -> ()\n"
        "error Broken (reason: string)\n";

typedef struct Test {
        sd_event *event;
        VarlinkServer *server;
        VarlinkCall *held;
        unsigned gone, closed, refused;
        int close_reason;
        int upgraded_fd;
        char upgraded_data[64];
} Test;

static int method_echo(VarlinkCall *call, json_object *parameters, void *userdata) {
        return varlink_call_reply(call, json_object_get(parameters));
}

static json_object *n_object(int64_t n) {
        json_object *o = must(json_object_new_object());
        json_object_object_add(o, "n", json_object_new_int64(n));
        return o;
}

static int method_count(VarlinkCall *call, json_object *parameters, void *userdata) {
        int64_t to = json_object_get_int64(json_object_object_get(parameters, "to"));
        for (int64_t i = 1; i < to; i++)
                CHECK(varlink_call_notify(call, n_object(i)) == 0);
        return varlink_call_reply(call, n_object(to));
}

static void on_gone(VarlinkCall *call, void *userdata) {
        Test *t = userdata;
        t->gone++;
        CHECK(varlink_call_connection(call) == NULL);
}

static int method_hold(VarlinkCall *call, json_object *parameters, void *userdata) {
        Test *t = userdata;
        t->held = varlink_call_ref(call);
        varlink_call_set_gone_handler(call, on_gone, t);
        return 0;
}

static json_object *reason(const char *why) {
        json_object *o = must(json_object_new_object());
        json_object_object_add(o, "reason", json_object_new_string(why));
        return o;
}

static int method_misbehave(VarlinkCall *call, json_object *parameters, void *userdata) {
        const char *how = json_object_get_string(json_object_object_get(parameters, "how"));
        if (strcmp(how, "error") == 0) {
                /* Undeclared names and wrong parameters are refused, unsent. */
                CHECK(varlink_call_error(call, "org.example.test.Undeclared", NULL) == -EBADMSG);
                CHECK(varlink_call_error(call, "org.example.test.Broken", NULL) == -EBADMSG);
                CHECK(varlink_call_error(call, "org.example.test.Broken", reason("it broke")) == 0);
                CHECK(varlink_call_reply(call, NULL) == -EALREADY);
                return 0;
        }
        if (strcmp(how, "reply") == 0) {
                CHECK(varlink_call_reply(call, n_object(1)) == -EBADMSG);
                return varlink_call_reply(call, NULL);
        }
        if (strcmp(how, "upgrade") == 0)
                return varlink_call_reply_upgrade(call, NULL, NULL, NULL) == -EINVAL ? varlink_call_reply(call, NULL)
                                                                                     : -EIO;
        return -EIO; /* unanswered: the connection is closed */
}

static void on_upgraded(int fd, const void *data, size_t n, void *userdata) {
        Test *t = userdata;
        t->upgraded_fd = fd;
        memcpy(t->upgraded_data, data, n < sizeof(t->upgraded_data) - 1 ? n : sizeof(t->upgraded_data) - 1);
}

static int method_raw(VarlinkCall *call, json_object *parameters, void *userdata) {
        return varlink_call_reply_upgrade(call, NULL, on_upgraded, userdata);
}

static void on_close(VarlinkConnection *c, int why, void *userdata) {
        Test *t = userdata;
        t->closed++;
        t->close_reason = why;
}

static void on_refuse(uid_t uid, void *userdata) {
        Test *t = userdata;
        t->refused++;
}

static void test_setup(Test *t) {
        *t = (Test){.upgraded_fd = -1};
        static const VarlinkServerInfo info = {"Example", "test-server", "1.2", "https://example.org/"};
        static const VarlinkMethod methods[] = {
                {"Echo", method_echo, 0},           {"Count", method_count, 0},
                {"Hold", method_hold, 0},           {"Misbehave", method_misbehave, 0},
                {"Raw", method_raw, VARLINK_METHOD_UPGRADE},
        };
        Error e = {0};
        CHECK(sd_event_new(&t->event) >= 0);
        CHECK(varlink_server_new(t->event, &info, &t->server) == 0);
        CHECK(varlink_server_add_interface(t->server, test_idl, methods, ELEMENTSOF(methods), t, &e) == 0);
        varlink_server_set_hooks(t->server, &(VarlinkServerHooks){on_close, on_refuse, t});
}

static void test_done(Test *t) {
        varlink_call_unref(t->held);
        varlink_server_free(t->server);
        sd_event_unref(t->event);
        if (t->upgraded_fd >= 0)
                close(t->upgraded_fd);
}

/* A client end: the server serves the other one. */
static int connect_client(Test *t) {
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        CHECK(varlink_server_add_connection(t->server, sv[0], NULL) == 0);
        CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
        return sv[1];
}

static void send_raw(int fd, const char *s, size_t n) {
        CHECK(write(fd, s, n) == (ssize_t) n);
}

static void send_msg(int fd, const char *json) {
        send_raw(fd, json, strlen(json) + 1);
}

/* Runs the loop until the client has a message (1), sees its end (0), or
 * a bounded number of turns pass with neither (-EAGAIN). */
static int receive(Test *t, int fd, VarlinkReader *r, json_object **ret) {
        for (int turn = 0; turn < 200; turn++) {
                int q = varlink_reader_next(r, ret);
                if (q != 0)
                        return q;
                ssize_t k = varlink_reader_fill(r, fd);
                if (k == 0)
                        return 0;
                if (k > 0)
                        continue;
                (void) sd_event_run(t->event, turn < 100 ? 0 : 10000);
        }
        return -EAGAIN;
}

/* Runs the loop until *what is no longer unchanged (bounded). */
static void run_until(Test *t, const int *what, int unchanged) {
        for (int i = 0; i < 1000 && *what == unchanged; i++)
                (void) sd_event_run(t->event, i < 500 ? 0 : 10000);
}

/* The next message, printed compactly, or "EOF" / "nothing". */
static char *next(Test *t, int fd, VarlinkReader *r) {
        json_object *m = NULL;
        int q = receive(t, fd, r, &m);
        if (q <= 0)
                return must(strdup(q == 0 ? "EOF" : q == -EAGAIN ? "nothing" : "bad"));
        char *s = must(strdup(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN)));
        json_object_put(m);
        return s;
}

#define EXPECT(t, fd, r, want)                                                          \
        do {                                                                            \
                _cleanup_free_ char *_got = next(t, fd, r);                             \
                CHECK(strcmp(_got, want) == 0);                                         \
                if (strcmp(_got, want) != 0)                                            \
                        fprintf(stderr, "  got:  %s\n  want: %s\n", _got, want);        \
        } while (0)

static void test_calls(void) {
        Test t;
        test_setup(&t);
        int fd = connect_client(&t);
        VarlinkReader r = {0};

        send_msg(fd, "{\"method\":\"org.varlink.service.GetInfo\"}");
        EXPECT(&t, fd, &r,
               "{\"parameters\":{\"vendor\":\"Example\",\"product\":\"test-server\",\"version\":\"1.2\","
               "\"url\":\"https:\\/\\/example.org\\/\",\"interfaces\":[\"org.example.test\",\"org.varlink.service\"]}}");
        send_msg(fd, "{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{\"interface\":\"org.example.test\"}}");
        json_object *m = NULL;
        CHECK(receive(&t, fd, &r, &m) == 1);
        CHECK(strcmp(json_object_get_string(json_object_object_get(json_object_object_get(m, "parameters"), "description")),
                     test_idl) == 0);
        json_object_put(m);
        send_msg(fd, "{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{\"interface\":\"org.nope\"}}");
        EXPECT(&t, fd, &r, "{\"error\":\"org.varlink.service.InterfaceNotFound\",\"parameters\":{\"interface\":\"org.nope\"}}");
        send_msg(fd, "{\"method\":\"org.varlink.service.GetInterfaceDescription\"}");
        EXPECT(&t, fd, &r, "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"interface\"}}");

        send_msg(fd, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"hi\",\"items\":[{\"name\":\"a\",\"count\":2}]}}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"text\":\"hi\",\"items\":[{\"name\":\"a\",\"count\":2}]}}");
        send_msg(fd, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"hi\",\"items\":[{\"name\":\"a\",\"count\":\"2\"}]}}");
        EXPECT(&t, fd, &r, "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"items[0].count\"}}");
        send_msg(fd, "{\"method\":\"org.example.test.Echo\"}");
        EXPECT(&t, fd, &r, "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"text\"}}");
        send_msg(fd, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"x\",\"bogus\":1}}");
        EXPECT(&t, fd, &r, "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"bogus\"}}");

        send_msg(fd, "{\"method\":\"org.example.test.Nope\"}");
        EXPECT(&t, fd, &r, "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{\"method\":\"org.example.test.Nope\"}}");
        send_msg(fd, "{\"method\":\"org.example.other.Nope\"}");
        EXPECT(&t, fd, &r, "{\"error\":\"org.varlink.service.InterfaceNotFound\",\"parameters\":{\"interface\":\"org.example.other\"}}");
        send_msg(fd, "{\"method\":\"Nodot\"}");
        EXPECT(&t, fd, &r, "{\"error\":\"org.varlink.service.InterfaceNotFound\",\"parameters\":{\"interface\":\"Nodot\"}}");
        /* An error is not one of the method's, and a reply that does not
         * match the definition: refused, then answered properly. */
        send_msg(fd, "{\"method\":\"org.example.test.Misbehave\",\"parameters\":{\"how\":\"error\"}}");
        EXPECT(&t, fd, &r, "{\"error\":\"org.example.test.Broken\",\"parameters\":{\"reason\":\"it broke\"}}");
        send_msg(fd, "{\"method\":\"org.example.test.Misbehave\",\"parameters\":{\"how\":\"reply\"}}");
        EXPECT(&t, fd, &r, "{\"parameters\":{}}");

        /* more: replies that continue, then the last; without it, the last. */
        send_msg(fd, "{\"method\":\"org.example.test.Count\",\"parameters\":{\"to\":3},\"more\":true}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"n\":1},\"continues\":true}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"n\":2},\"continues\":true}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"n\":3}}");
        send_msg(fd, "{\"method\":\"org.example.test.Count\",\"parameters\":{\"to\":3}}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"n\":3}}");

        /* oneway: no answer, so the next reply is the next call's. */
        send_msg(fd, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"quiet\"},\"oneway\":true}");
        send_msg(fd, "{\"method\":\"org.example.test.Nope\",\"oneway\":true}");
        send_msg(fd, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"loud\"}}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"text\":\"loud\"}}");

        /* Three calls in one write: three answers, in order. */
        static const char three[] = "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"1\"}}\0"
                                    "{\"method\":\"org.example.test.Count\",\"parameters\":{\"to\":2},\"more\":true}\0"
                                    "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"3\"}}";
        send_raw(fd, three, sizeof three);
        EXPECT(&t, fd, &r, "{\"parameters\":{\"text\":\"1\"}}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"n\":1},\"continues\":true}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"n\":2}}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"text\":\"3\"}}");

        /* Calls sent ahead while their answers are not taken: the server
         * stops answering (and reading) instead of buffering without end,
         * and goes on as the client reads. */
        static const char describe[] = "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                                       "\"parameters\":{\"interface\":\"org.example.test\"}}";
        /* White space after the object keeps it a call and makes it big. */
        size_t call_size = 16384;
        _cleanup_free_ char *call = must(malloc(call_size));
        memset(call, ' ', call_size);
        memcpy(call, describe, strlen(describe));
        call[call_size - 1] = 0;
        unsigned n_sent = 0, n_got = 0;
        for (int turn = 0; turn < 3000; turn++) {
                if (write(fd, call, call_size) == (ssize_t) call_size)
                        n_sent++;
                (void) sd_event_run(t.event, 0);
        }
        /* The input buffer's 16 MiB and the sockets', no more. */
        CHECK(n_sent < 3000 && (size_t) n_sent * call_size < VARLINK_MESSAGE_MAX + (8U << 20));
        while (n_got < n_sent) {
                json_object *o = NULL;
                if (receive(&t, fd, &r, &o) != 1)
                        break;
                json_object_put(o);
                n_got++;
        }
        CHECK(n_got == n_sent);

        /* A call answered later holds the next one back. */
        send_msg(fd, "{\"method\":\"org.example.test.Hold\",\"more\":true}");
        send_msg(fd, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"after\"}}");
        EXPECT(&t, fd, &r, "nothing");
        CHECK(t.held && varlink_call_wants_more(t.held) && !varlink_call_is_oneway(t.held));
        CHECK(strcmp(varlink_call_method(t.held), "org.example.test.Hold") == 0);
        CHECK(varlink_call_notify(t.held, NULL) == 0);
        EXPECT(&t, fd, &r, "{\"parameters\":{},\"continues\":true}");
        CHECK(varlink_call_reply(t.held, NULL) == 0);
        CHECK(varlink_call_reply(t.held, NULL) == -EALREADY);
        t.held = varlink_call_unref(t.held);
        EXPECT(&t, fd, &r, "{\"parameters\":{}}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"text\":\"after\"}}");

        /* Upgrade to a method that does not allow it, then to one that does:
         * the reply, then the socket and what followed the call are its. */
        send_msg(fd, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"x\"},\"upgrade\":true}");
        EXPECT(&t, fd, &r, "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"upgrade\"}}");
        send_msg(fd, "{\"method\":\"org.example.test.Misbehave\",\"parameters\":{\"how\":\"upgrade\"}}");
        EXPECT(&t, fd, &r, "{\"parameters\":{}}");
        static const char up[] = "{\"method\":\"org.example.test.Raw\",\"upgrade\":true}\0RAW";
        send_raw(fd, up, sizeof up - 1);
        EXPECT(&t, fd, &r, "{\"parameters\":{}}");
        run_until(&t, &t.upgraded_fd, -1);
        CHECK(t.upgraded_fd >= 0 && strcmp(t.upgraded_data, "RAW") == 0);
        CHECK(varlink_server_n_connections(t.server) == 0 && t.closed == 1 && t.close_reason == 0);
        send_raw(fd, "more", 4);
        char buf[8] = {0};
        CHECK(read(t.upgraded_fd, buf, sizeof buf) == 4 && strcmp(buf, "more") == 0);
        CHECK(write(t.upgraded_fd, "back", 4) == 4);
        CHECK(read(fd, buf, 4) == 4 && memcmp(buf, "back", 4) == 0);

        close(fd);
        varlink_reader_done(&r);
        test_done(&t);
}

/* Clients that leave: with a call pending its handler hears of it; one
 * that only stops sending still gets its answer. */
static void test_gone(void) {
        Test t;
        test_setup(&t);
        VarlinkReader r = {0};

        int fd = connect_client(&t);
        send_msg(fd, "{\"method\":\"org.example.test.Hold\"}");
        EXPECT(&t, fd, &r, "nothing");
        CHECK(t.held && t.gone == 0);
        close(fd);
        for (int i = 0; i < 10; i++)
                (void) sd_event_run(t.event, 0);
        CHECK(t.gone == 1 && t.closed == 1 && t.close_reason == 0);
        CHECK(varlink_server_n_connections(t.server) == 0);
        CHECK(varlink_call_reply(t.held, NULL) == -ENOTCONN);
        t.held = varlink_call_unref(t.held);

        fd = connect_client(&t);
        send_msg(fd, "{\"method\":\"org.example.test.Hold\"}");
        CHECK(shutdown(fd, SHUT_WR) == 0);
        EXPECT(&t, fd, &r, "nothing");
        CHECK(t.held && t.gone == 1);
        CHECK(varlink_call_reply(t.held, NULL) == 0);
        t.held = varlink_call_unref(t.held);
        EXPECT(&t, fd, &r, "{\"parameters\":{}}");
        EXPECT(&t, fd, &r, "EOF");
        CHECK(t.closed == 2 && t.gone == 1);
        close(fd);

        /* A oneway call's sender may leave at once: the call still runs. */
        fd = connect_client(&t);
        send_msg(fd, "{\"method\":\"org.example.test.Hold\",\"oneway\":true}");
        close(fd);
        for (int i = 0; i < 10; i++)
                (void) sd_event_run(t.event, 0);
        CHECK(t.held && varlink_call_is_oneway(t.held) && t.gone == 1 && t.closed == 3);
        CHECK(varlink_call_reply(t.held, NULL) == 0);
        t.held = varlink_call_unref(t.held);

        varlink_reader_done(&r);
        test_done(&t);
}

/* Malformed input closes that connection only; the others are served. */
static void test_malformed(void) {
        static const char *const bad[] = {
                "not json", "[]", "{}", "{\"method\":1}", "{\"method\":\"a.b.C\",\"parameters\":[]}",
                "{\"method\":\"a.b.C\",\"more\":true,\"oneway\":true}", "{\"method\":\"a.b.C\",\"junk\":0}",
                "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"\xff\"}}",
        };
        Test t;
        test_setup(&t);
        VarlinkReader r = {0}, r2 = {0};
        int good = connect_client(&t);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int fd = connect_client(&t);
                send_msg(fd, bad[i]);
                EXPECT(&t, fd, &r, "EOF");
                CHECK(t.close_reason == -EBADMSG);
                close(fd);
                varlink_reader_done(&r);
                send_msg(good, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"still\"}}");
                EXPECT(&t, good, &r2, "{\"parameters\":{\"text\":\"still\"}}");
        }

        /* A message that never ends: cut off at the limit. */
        int fd = connect_client(&t);
        _cleanup_free_ char *chunk = must(malloc(1 << 16));
        memset(chunk, ' ', 1 << 16);
        size_t sent = 0;
        bool closed = false;
        for (int turn = 0; turn < 100000 && !closed; turn++) {
                ssize_t k = write(fd, chunk, 1 << 16);
                if (k > 0)
                        sent += (size_t) k;
                else if (errno == EPIPE || errno == ECONNRESET)
                        closed = true;
                (void) sd_event_run(t.event, 0);
                char b[16];
                if (read(fd, b, sizeof b) == 0)
                        closed = true;
        }
        CHECK(closed && t.close_reason == -EMSGSIZE);
        CHECK(sent >= VARLINK_MESSAGE_MAX && sent < VARLINK_MESSAGE_MAX + (4U << 20));
        close(fd);

        /* Half a message, then nothing more. */
        fd = connect_client(&t);
        send_raw(fd, "{\"method\":\"org.exa", strlen("{\"method\":\"org.exa"));
        CHECK(shutdown(fd, SHUT_WR) == 0);
        EXPECT(&t, fd, &r, "EOF");
        CHECK(t.close_reason == -EBADMSG);
        close(fd);

        /* A handler that fails without an answer. */
        fd = connect_client(&t);
        send_msg(fd, "{\"method\":\"org.example.test.Misbehave\",\"parameters\":{\"how\":\"fail\"}}");
        EXPECT(&t, fd, &r, "EOF");
        CHECK(t.close_reason == -EIO);
        close(fd);

        send_msg(good, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"still\"}}");
        EXPECT(&t, good, &r2, "{\"parameters\":{\"text\":\"still\"}}");
        close(good);
        varlink_reader_done(&r);
        varlink_reader_done(&r2);
        test_done(&t);
}

static void test_limits_and_peer(void) {
        Test t;
        test_setup(&t);
        int fds[VARLINK_CONNECTIONS_PER_UID_MAX];
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = connect_client(&t);
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        CHECK(varlink_server_add_connection(t.server, sv[0], NULL) == -EUSERS);
        CHECK(t.refused == 1);
        close(sv[1]);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
        for (int i = 0; i < 1000 && varlink_server_n_connections(t.server) > 0; i++)
                (void) sd_event_run(t.event, 0);
        CHECK(varlink_server_n_connections(t.server) == 0);

        VarlinkConnection *c = NULL;
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        CHECK(varlink_server_add_connection(t.server, sv[0], &c) == 0);
        const struct ucred *peer = varlink_connection_peer(c);
        CHECK(peer->uid == getuid() && peer->gid == getgid() && peer->pid == getpid());
        size_t n_groups;
        (void) varlink_connection_peer_groups(c, &n_groups);
        CHECK(n_groups == (size_t) getgroups(0, NULL));
        CHECK(varlink_connection_id(c) > 0);
        close(sv[1]);
        test_done(&t);
}

static void test_listen(void) {
        Test t;
        test_setup(&t);
        char dir[] = "/tmp/test-varlink-XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        _cleanup_free_ char *path = must(path_join(dir, "sock"));

        CHECK(varlink_server_listen_path(t.server, path, 0660) == 0);
        struct stat st;
        CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0660);
        /* Someone serves it: a second server may not take it over. */
        VarlinkServer *other = NULL;
        CHECK(varlink_server_new(t.event, &(VarlinkServerInfo){0}, &other) == 0);
        CHECK(varlink_server_listen_path(other, path, 0600) == -EADDRINUSE);

        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0);
        CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
        VarlinkReader r = {0};
        send_msg(fd, "{\"method\":\"org.example.test.Echo\",\"parameters\":{\"text\":\"sock\"}}");
        EXPECT(&t, fd, &r, "{\"parameters\":{\"text\":\"sock\"}}");
        close(fd);
        varlink_reader_done(&r);

        /* The first server gone, its socket file is stale: replaced. */
        varlink_server_free(t.server);
        t.server = NULL;
        CHECK(access(path, F_OK) == 0);
        CHECK(varlink_server_listen_path(other, path, 0600) == 0);
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        varlink_server_free(other);
        (void) unlink(path);
        (void) rmdir(dir);
        test_done(&t);
}

/* Socket activation: fd 3 as systemd passes it. */
static void test_inherited(void) {
        if (fcntl(3, F_GETFD) >= 0) {
                fprintf(stderr, "fd 3 is taken, not testing socket activation\n");
                return;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        CHECK(bind(fd, (struct sockaddr *) &sa, sizeof(sa_family_t)) == 0); /* autobind */
        CHECK(listen(fd, 4) == 0);
        if (fd != 3) {
                CHECK(dup2(fd, 3) == 3);
                close(fd);
        }
        char pid[32];
        snprintf(pid, sizeof pid, "%d", (int) getpid());
        setenv("LISTEN_FDS", "1", 1);
        setenv("LISTEN_PID", pid, 1);
        Test t;
        test_setup(&t);
        CHECK(varlink_server_listen_inherited(t.server) == 1);
        CHECK(getenv("LISTEN_FDS") == NULL);
        test_done(&t);
        CHECK(fcntl(3, F_GETFD) < 0); /* the server owned it */
}

int main(void) {
        test_inherited();
        test_calls();
        test_gone();
        test_malformed();
        test_limits_and_peer();
        test_listen();
        return test_report();
}

/* The varlink server's reader and dispatch: the input is what a client
 * sends on a connection (any bytes, any number of messages), served by a
 * server with our interface whose methods all answer with an error. Every
 * call is checked against the definition on the way; whatever the server
 * writes back must be NUL-framed, strict JSON and a valid reply, and the
 * connection must end once the client stops sending. */
#include <fcntl.h>
#include <sys/socket.h>

#include "common/varlink-wire.h"
#include "fuzz-util.h"
#include "varlink/org-virtdiff-VirtDiff1.h"
#include "varlink/varlink-server.h"

/* Every method answers with an error: this target is about the reader,
 * the checks against the definition and the replies, not the methods. */
static int answer_internal_error(VarlinkCall *call, json_object *parameters, void *userdata) {
        json_object *p = json_object_new_object();
        FUZZ_ASSERT(p);
        json_object_object_add(p, "message", json_object_new_string("fuzz"));
        /* Progress that does not match the definition is refused. */
        if (varlink_call_wants_more(call))
                FUZZ_ASSERT(varlink_call_notify(call, json_object_new_object()) == -EBADMSG);
        int r = varlink_call_error(call, "org.virtdiff.VirtDiff1.Internal", p);
        FUZZ_ASSERT(r == 0);
        return 0;
}

static VarlinkServer *server(sd_event **ret_event) {
        static sd_event *event;
        static VarlinkServer *s;
        if (!s) {
                static const VarlinkMethod methods[] = {
                        {"Describe", answer_internal_error, 0},   {"Compare", answer_internal_error, 0},   {"Wait", answer_internal_error, 0},
                        {"Cancel", answer_internal_error, 0},     {"ListJobs", answer_internal_error, 0},  {"Warm", answer_internal_error, 0},
                        {"ListPool", answer_internal_error, 0},   {"ListSnapshots", answer_internal_error, 0},
                        {"CacheStats", answer_internal_error, 0}, {"CacheList", answer_internal_error, 0},
                        {"CachePurge", answer_internal_error, 0}, {"CacheVerify", answer_internal_error, 0},
                };
                static const VarlinkServerInfo info = {"virt-diffd", "fuzz", "0", ""};
                Error e = {0};
                FUZZ_ASSERT(sd_event_new(&event) >= 0);
                FUZZ_ASSERT(varlink_server_new(event, &info, &s) == 0);
                FUZZ_ASSERT(varlink_server_add_interface(s, org_virtdiff_VirtDiff1_idl, methods, ELEMENTSOF(methods),
                                                         NULL, &e) == 0);
        }
        *ret_event = event;
        return s;
}

/* Every message the server wrote is a well-formed reply. */
static void drain(int fd, VarlinkReader *r) {
        while (varlink_reader_fill(r, fd) > 0) {
                json_object *m;
                int q;
                while ((q = varlink_reader_next(r, &m)) == 1) {
                        const char *error;
                        json_object *params;
                        bool continues;
                        FUZZ_ASSERT(varlink_message_parse_reply(m, &error, &params, &continues) == 0);
                        json_object_put(m);
                }
                FUZZ_ASSERT(q == 0);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        sd_event *event;
        VarlinkServer *s = server(&event);
        VarlinkReader r = {0};
        int sv[2];
        FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        FUZZ_ASSERT(varlink_server_add_connection(s, sv[0], NULL) == 0);
        FUZZ_ASSERT(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);

        size_t sent = 0;
        bool shut = false;
        /* Each turn moves something: the loop ends well before the bound. */
        for (unsigned turn = 0; turn < 100000 && varlink_server_n_connections(s) > 0; turn++) {
                if (sent < size) {
                        ssize_t k = write(sv[1], data + sent, size - sent);
                        if (k > 0)
                                sent += (size_t) k;
                        else
                                FUZZ_ASSERT(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET);
                        if (k < 0 && errno != EAGAIN)
                                sent = size;
                }
                if (sent == size && !shut) {
                        (void) shutdown(sv[1], SHUT_WR);
                        shut = true;
                }
                (void) sd_event_run(event, 0);
                drain(sv[1], &r);
        }
        FUZZ_ASSERT(varlink_server_n_connections(s) == 0);
        drain(sv[1], &r);
        close(sv[1]);
        varlink_reader_done(&r);
        return 0;
}

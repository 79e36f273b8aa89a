/* A varlink server for tests/test-varlink-client.sh: serves a small test
 * interface on the socket path it is given until SIGTERM, so that the
 * Python test client can be checked against the real protocol code
 * without a daemon. */
#include <signal.h>

#include "common/json-util.h"
#include "varlink/varlink-server.h"

static const char idl[] =
        "interface org.example.serve\n"
        "method Echo(text: string) -> (text: string)\n"
        "method Count(to: int) -> (n: int)\n"
        "error Refused (why: string)\n";

static int method_echo(VarlinkCall *call, json_object *parameters, void *userdata) {
        if (strcmp(json_object_get_string(json_object_object_get(parameters, "text")), "refuse") == 0) {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "why", json_object_new_string("asked to"));
                return varlink_call_error(call, "org.example.serve.Refused", p);
        }
        return varlink_call_reply(call, json_object_get(parameters));
}

static int method_count(VarlinkCall *call, json_object *parameters, void *userdata) {
        int64_t to = json_object_get_int64(json_object_object_get(parameters, "to"));
        for (int64_t i = 1; i <= to; i++) {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "n", json_object_new_int64(i));
                int r = i < to ? varlink_call_notify(call, p) : varlink_call_reply(call, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        static const VarlinkMethod methods[] = {{"Echo", method_echo, 0}, {"Count", method_count, 0}};
        static const VarlinkServerInfo info = {"virt-diffd tests", "test-varlink-serve", "1", ""};
        sd_event *e = NULL;
        VarlinkServer *s = NULL;
        Error err = {0};
        sigset_t ss;
        if (argc != 2) {
                fprintf(stderr, "usage: test-varlink-serve SOCKET\n");
                return 2;
        }
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        if (sd_event_default(&e) < 0 || sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL) < 0 ||
            varlink_server_new(e, &info, &s) < 0 ||
            varlink_server_add_interface(s, idl, methods, ELEMENTSOF(methods), NULL, &err) < 0 ||
            varlink_server_listen_path(s, argv[1], 0600) < 0) {
                fprintf(stderr, "test-varlink-serve: cannot serve %s %s\n", argv[1], err.message);
                return 1;
        }
        int r = sd_event_loop(e);
        varlink_server_free(s);
        sd_event_unref(e);
        return r < 0 ? 1 : 0;
}

/* Unit test of the client's varlink transport against a scripted peer on
 * a socketpair: replies, streams, error names, a peer that breaks the
 * protocol or goes away, and the default addresses. */
#include <pthread.h>
#include <sys/socket.h>

#include "common/test-util.h"
#include "varlink.h"

/* The peer: for each call it reads, writes the next scripted answer (NUL
 * separated messages in one string, sent as they are); "" closes. */
typedef struct Peer {
        int fd;
        const char *const *script;
        char calls[8][256];
        unsigned n_calls;
} Peer;

static void *peer_run(void *userdata) {
        Peer *p = userdata;
        VarlinkReader r = {0};
        for (const char *const *s = p->script; *s; s++) {
                json_object *m = NULL;
                int q;
                while ((q = varlink_reader_next(&r, &m)) == 0)
                        if (varlink_reader_fill(&r, p->fd) <= 0)
                                goto out;
                if (q < 0)
                        break;
                snprintf(p->calls[p->n_calls++ % 8], 256, "%s", json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN));
                json_object_put(m);
                if (!**s)
                        break;
                size_t n = 0;
                while ((*s)[n] || (*s)[n + 1]) /* a double NUL ends the answer */
                        n++;
                CHECK(write(p->fd, *s, n + 1) == (ssize_t) (n + 1));
        }
out:
        varlink_reader_done(&r);
        close(p->fd);
        return NULL;
}

static VarlinkClient *start(Peer *p, pthread_t *t, const char *const *script) {
        int sv[2];
        VarlinkClient *c = NULL;
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        *p = (Peer){.fd = sv[1], .script = script};
        CHECK(pthread_create(t, NULL, peer_run, p) == 0);
        CHECK(varlink_client_new(sv[0], &c) == 0);
        return must(c);
}

static void test_calls(void) {
        static const char *const script[] = {
                "{\"parameters\":{\"version\":\"1\"}}\0",
                "{\"error\":\"org.virtdiff.VirtDiff1.NoSuchFile\",\"parameters\":{\"message\":\"/x: not there\"}}\0",
                "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"a[0].path\"}}\0",
                "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{\"method\":\"x.Y\"}}\0",
                "{\"parameters\":{\"n\":1},\"continues\":true}\0{\"parameters\":{\"n\":2}}\0",
                "not json\0",
                NULL,
        };
        Peer p;
        pthread_t t;
        _cleanup_varlink_client_ VarlinkClient *c = start(&p, &t, script);
        json_object *reply = NULL;
        Error e = {0};

        CHECK(varlink_client_call(c, VD_VARLINK_INTERFACE ".Describe", NULL, &reply, &e) == 0);
        CHECK(strcmp(json_object_get_string(json_object_object_get(reply, "version")), "1") == 0);
        json_object_put(reply);

        CHECK(varlink_client_call(c, VD_VARLINK_INTERFACE ".Compare", json_object_new_object(), &reply, &e) < 0);
        CHECK(e.code == ERR_NO_SUCH_FILE && strcmp(e.message, "/x: not there") == 0);
        e = (Error){0};
        CHECK(varlink_client_call(c, VD_VARLINK_INTERFACE ".Compare", NULL, &reply, &e) < 0);
        CHECK(e.code == ERR_INVALID_ARGS && strcmp(e.message, "invalid parameter 'a[0].path'") == 0);
        e = (Error){0};
        CHECK(varlink_client_call(c, "x.Y", NULL, &reply, &e) < 0);
        CHECK(e.code == ERR_INVALID_ARGS && strstr(e.message, "org.varlink.service.MethodNotFound"));

        VarlinkReply r = {0};
        CHECK(varlink_client_send(c, VD_VARLINK_INTERFACE ".Wait", NULL, VARLINK_CALL_MORE) == 0);
        CHECK(varlink_client_receive(c, UINT64_MAX, &r) == 1 && r.continues && !r.error);
        CHECK(json_object_get_int(json_object_object_get(r.parameters, "n")) == 1);
        varlink_reply_done(&r);
        CHECK(varlink_client_receive(c, UINT64_MAX, &r) == 1 && !r.continues);
        varlink_reply_done(&r);

        CHECK(varlink_client_send(c, "x.Garbage", NULL, 0) == 0);
        CHECK(varlink_client_receive(c, UINT64_MAX, &r) == -EBADMSG);
        CHECK(pthread_join(t, NULL) == 0);
        CHECK(strcmp(p.calls[0], "{\"method\":\"org.virtdiff.VirtDiff1.Describe\",\"parameters\":{}}") == 0);
        CHECK(strcmp(p.calls[4], "{\"method\":\"org.virtdiff.VirtDiff1.Wait\",\"parameters\":{},\"more\":true}") == 0);
}

static void test_gone(void) {
        static const char *const script[] = {"", NULL};
        Peer p;
        pthread_t t;
        _cleanup_varlink_client_ VarlinkClient *c = start(&p, &t, script);
        VarlinkReply r = {0};
        CHECK(varlink_client_receive(c, 1000, &r) == 0); /* nothing yet: the timeout */
        CHECK(varlink_client_send(c, "x.Y", NULL, 0) == 0);
        CHECK(varlink_client_receive(c, UINT64_MAX, &r) == -ECONNRESET);
        Error e = {0};
        json_object *reply = NULL;
        CHECK(varlink_client_call(c, "x.Y", NULL, &reply, &e) < 0 && e.code == ERR_INTERNAL);
        CHECK(pthread_join(t, NULL) == 0);
}

static void test_addresses(void) {
        _cleanup_free_ char *sys = varlink_default_address(true);
        CHECK(sys && strcmp(sys, "/run/virt-diffd/io.virtdiff.VirtDiff1") == 0);
        setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
        _cleanup_free_ char *user = varlink_default_address(false);
        CHECK(user && strcmp(user, "/run/user/1000/virt-diffd/io.virtdiff.VirtDiff1") == 0);
        unsetenv("XDG_RUNTIME_DIR");
        CHECK(varlink_default_address(false) == NULL);
        VarlinkClient *c = NULL;
        CHECK(varlink_client_connect("/nonexistent/socket", &c) == -ENOENT && !c);
}

int main(void) {
        test_calls();
        test_gone();
        test_addresses();
        return test_report();
}

/* Unit test of varlink's framing: NUL-terminated JSON objects, the size
 * limit, strict parsing, and the call and reply envelopes. */
#include <sys/socket.h>

#include "common/test-util.h"
#include "common/varlink-wire.h"

static int feed_str(VarlinkReader *r, const char *s) {
        return varlink_reader_feed(r, s, strlen(s) + 1);
}

static void test_framing(void) {
        VarlinkReader r = {0};
        json_object *o = NULL;

        /* Two messages in one read, then one in two pieces. */
        static const char two[] = "{\"a\":1}\0 {\"b\": [true]} \0{\"c\"";
        CHECK(varlink_reader_feed(&r, two, sizeof(two) - 1) == 0);
        CHECK(varlink_reader_next(&r, &o) == 1);
        CHECK(json_object_get_int(json_object_object_get(o, "a")) == 1);
        json_object_put(o);
        CHECK(varlink_reader_next(&r, &o) == 1);
        CHECK(json_object_is_type(json_object_object_get(o, "b"), json_type_array));
        json_object_put(o);
        CHECK(varlink_reader_next(&r, &o) == 0);
        CHECK(varlink_reader_pending(&r) == 4);
        CHECK(varlink_reader_feed(&r, ":\"x\"}", 6) == 0);
        CHECK(varlink_reader_next(&r, &o) == 1);
        CHECK(strcmp(json_object_get_string(json_object_object_get(o, "c")), "x") == 0);
        json_object_put(o);
        CHECK(varlink_reader_pending(&r) == 0);

        /* Not an object, not JSON, trailing bytes, JSON extensions,
         * invalid UTF-8, an empty message: each consumed as bad, and the
         * next good one still reads. */
        static const char *const bad[] = {
                "[1,2]", "42", "\"s\"", "{", "not json", "{} x", "{}{}", "{'a':1}", "{\"a\":1,}", "{\"a\":Infinity}", "{\"a\":[-NaN]}", "{\"a\" /* c */ :1}",
                "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}", "", "{\"a\":NaN}", "{a:1}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CHECK(feed_str(&r, bad[i]) == 0);
                CHECK(feed_str(&r, "{\"ok\":true}") == 0);
                CHECK(varlink_reader_next(&r, &o) == -EBADMSG);
                CHECK(varlink_reader_next(&r, &o) == 1);
                json_object_put(o);
        }
        /* White space around the object is JSON's. */
        CHECK(feed_str(&r, "\n {\"ok\":true}\r\n\t") == 0);
        CHECK(varlink_reader_next(&r, &o) == 1);
        json_object_put(o);

        /* Nesting past the limit. */
        char deep[2 * VARLINK_DEPTH_MAX + 16];
        size_t n = 0;
        deep[n++] = '{';
        deep[n++] = '"';
        deep[n++] = 'a';
        deep[n++] = '"';
        deep[n++] = ':';
        for (int i = 0; i < VARLINK_DEPTH_MAX; i++)
                deep[n++] = '[';
        for (int i = 0; i < VARLINK_DEPTH_MAX; i++)
                deep[n++] = ']';
        deep[n++] = '}';
        deep[n++] = 0;
        CHECK(varlink_reader_feed(&r, deep, n) == 0);
        CHECK(varlink_reader_next(&r, &o) == -EBADMSG);
        varlink_reader_done(&r);
}

static void test_limit(void) {
        VarlinkReader r = {.max = 64};
        json_object *o = NULL;
        char big[64];
        memset(big, ' ', sizeof big);

        /* A message that fills the whole buffer without a NUL. */
        CHECK(varlink_reader_feed(&r, big, 40) == 0);
        CHECK(varlink_reader_next(&r, &o) == 0);
        CHECK(varlink_reader_feed(&r, big, 30) == -ENOBUFS);
        CHECK(varlink_reader_feed(&r, big, 24) == 0);
        CHECK(varlink_reader_next(&r, &o) == -EMSGSIZE);
        varlink_reader_done(&r);

        /* Through a socket: fill stops at the limit. */
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
        r = (VarlinkReader){.max = 64};
        CHECK(write(sv[1], big, sizeof big) == sizeof big);
        CHECK(write(sv[1], big, sizeof big) == sizeof big);
        CHECK(varlink_reader_fill(&r, sv[0]) == 64);
        CHECK(varlink_reader_fill(&r, sv[0]) == -ENOBUFS);
        CHECK(varlink_reader_next(&r, &o) == -EMSGSIZE);
        varlink_reader_done(&r);
        close(sv[0]);
        close(sv[1]);

        /* Taken messages make room: many small ones through a small buffer. */
        r = (VarlinkReader){.max = 64};
        static const char msg[] = "{\"n\":12345}";
        unsigned got = 0;
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
        for (int i = 0; i < 20; i++)
                CHECK(write(sv[1], msg, sizeof msg) == sizeof msg);
        while (varlink_reader_fill(&r, sv[0]) > 0 || varlink_reader_pending(&r) > 0) {
                int q;
                while ((q = varlink_reader_next(&r, &o)) == 1) {
                        got++;
                        json_object_put(o);
                }
                if (q < 0 || (q == 0 && varlink_reader_pending(&r) == 0))
                        break;
        }
        CHECK(got == 20);
        CHECK(varlink_reader_fill(&r, sv[0]) == -EAGAIN);
        close(sv[1]);
        CHECK(varlink_reader_fill(&r, sv[0]) == 0);
        close(sv[0]);
        varlink_reader_done(&r);
}

static void test_writer(void) {
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
        VarlinkWriter w = {0};
        VarlinkReader r = {0};
        json_object *o = NULL;

        _cleanup_json_ json_object *call = must(varlink_message_new_call(
                "org.example.Ping", json_object_new_object(), VARLINK_CALL_MORE));
        CHECK(varlink_writer_put(&w, call) == 0);
        CHECK(varlink_writer_flush(&w, sv[1]) == 1);
        CHECK(varlink_writer_pending(&w) == 0);
        CHECK(varlink_reader_fill(&r, sv[0]) > 0);
        CHECK(varlink_reader_next(&r, &o) == 1);
        const char *method;
        json_object *params;
        unsigned flags;
        CHECK(varlink_message_parse_call(o, &method, &params, &flags) == 0);
        CHECK(strcmp(method, "org.example.Ping") == 0 && flags == VARLINK_CALL_MORE && params);
        json_object_put(o);

        /* A full socket: flush reports 0 and keeps the rest. */
        _cleanup_json_ json_object *big = json_object_new_object();
        _cleanup_free_ char *s = must(malloc(1 << 20));
        memset(s, 'x', (1 << 20) - 1);
        s[(1 << 20) - 1] = 0;
        json_object_object_add(big, "s", json_object_new_string(s));
        CHECK(varlink_writer_put(&w, big) == 0);
        CHECK(varlink_writer_flush(&w, sv[1]) == 0);
        CHECK(varlink_writer_pending(&w) > 0);
        close(sv[0]);
        CHECK(varlink_writer_flush(&w, sv[1]) == -EPIPE);
        close(sv[1]);
        varlink_writer_done(&w);
        varlink_reader_done(&r);
}

static json_object *parse(const char *s) {
        return must(json_tokener_parse(s));
}

static void test_envelopes(void) {
        static const char *const good_calls[] = {
                "{\"method\":\"a.b.C\"}",
                "{\"method\":\"a.b.C\",\"parameters\":null}",
                "{\"method\":\"a.b.C\",\"parameters\":{},\"more\":true,\"oneway\":false}",
                "{\"method\":\"a.b.C\",\"oneway\":true}",
                "{\"method\":\"a.b.C\",\"upgrade\":true,\"more\":null}",
        };
        static const char *const bad_calls[] = {
                "{}",
                "{\"method\":1}",
                "{\"method\":\"a.b.C\",\"parameters\":[]}",
                "{\"method\":\"a.b.C\",\"parameters\":\"x\"}",
                "{\"method\":\"a.b.C\",\"more\":1}",
                "{\"method\":\"a.b.C\",\"more\":true,\"oneway\":true}",
                "{\"method\":\"a.b.C\",\"upgrade\":true,\"more\":true}",
                "{\"method\":\"a.b.C\",\"extra\":true}",
                "{\"method\":\"a.b\\u0000C\"}",
        };
        const char *method, *error;
        json_object *params;
        unsigned flags;
        bool continues;

        for (size_t i = 0; i < ELEMENTSOF(good_calls); i++) {
                _cleanup_json_ json_object *m = parse(good_calls[i]);
                CHECK(varlink_message_parse_call(m, &method, &params, &flags) == 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_calls); i++) {
                _cleanup_json_ json_object *m = parse(bad_calls[i]);
                CHECK(varlink_message_parse_call(m, &method, &params, &flags) == -EBADMSG);
        }

        _cleanup_json_ json_object *e = must(varlink_message_new_error("a.b.Failed", NULL));
        CHECK(varlink_message_parse_reply(e, &error, &params, &continues) == 0);
        CHECK(strcmp(error, "a.b.Failed") == 0 && !continues && params);
        _cleanup_json_ json_object *c = must(varlink_message_new_reply(NULL, true));
        CHECK(varlink_message_parse_reply(c, &error, &params, &continues) == 0);
        CHECK(!error && continues);
        CHECK(strcmp(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN),
                     "{\"parameters\":{},\"continues\":true}") == 0);

        static const char *const bad_replies[] = {
                "{\"error\":\"a.b.E\",\"continues\":true}",
                "{\"error\":2}",
                "{\"parameters\":3}",
                "{\"method\":\"a.b.C\"}",
                "{\"continues\":\"yes\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_replies); i++) {
                _cleanup_json_ json_object *m = parse(bad_replies[i]);
                CHECK(varlink_message_parse_reply(m, &error, &params, &continues) == -EBADMSG);
        }
}

int main(void) {
        test_framing();
        test_limit();
        test_writer();
        test_envelopes();
        return test_report();
}

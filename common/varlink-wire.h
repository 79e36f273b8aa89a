/* Varlink's wire (varlink.org), shared by the daemon's server and the
 * client: every message is one JSON object followed by a NUL byte, on a
 * Unix stream socket. The reader treats its input as hostile: a message is
 * bounded in size, must be valid UTF-8 strict JSON and an object, and a
 * call or reply may carry only the keys varlink defines. */
#pragma once

#include <json-c/json.h>
#include <sys/types.h>

#include "common/json-util.h"
#include "common/util.h"

/* One message, its NUL included. Past it without a NUL the peer is cut
 * off: the largest valid call (two sides of disks and four filter lists at
 * their limits, escaped) stays well below. */
#define VARLINK_MESSAGE_MAX (16U << 20)
/* Nesting of arrays and objects in one message. */
#define VARLINK_DEPTH_MAX 32

typedef struct VarlinkReader {
        char *buf;
        size_t start, len, cap; /* the unread bytes: buf[start, start + len) */
        size_t scanned;         /* of those, how many are known to hold no NUL */
        size_t max;     /* VARLINK_MESSAGE_MAX unless set */
} VarlinkReader;

void varlink_reader_done(VarlinkReader *r);

/* Reads what fd has, at most up to the size limit: the bytes read, 0 at
 * end of file, -EAGAIN when nothing is there, -ENOBUFS when the buffer
 * already holds max bytes (take a message first), or -errno. */
ssize_t varlink_reader_fill(VarlinkReader *r, int fd);
/* Appends bytes (for tests and the fuzzer); -ENOBUFS past the limit. */
int varlink_reader_feed(VarlinkReader *r, const void *p, size_t n);

/* The next complete message as a JSON object: 1 and *ret, 0 when no whole
 * message is buffered yet, -EMSGSIZE when max bytes came without a NUL,
 * -EBADMSG when a message is not a JSON object (the message is consumed
 * either way, so the stream stays in step). */
int varlink_reader_next(VarlinkReader *r, json_object **ret);
/* Bytes buffered after the last message taken (a protocol upgrade's). */
static inline size_t varlink_reader_pending(const VarlinkReader *r) {
        return r->len;
}
static inline const char *varlink_reader_pending_data(const VarlinkReader *r) {
        return r->buf ? r->buf + r->start : NULL;
}

typedef struct VarlinkWriter {
        char *buf;
        size_t start, len, cap;
} VarlinkWriter;

void varlink_writer_done(VarlinkWriter *w);
/* Queues a message: its JSON text and the NUL. */
int varlink_writer_put(VarlinkWriter *w, json_object *message);
/* Writes what is queued: 1 when all of it is out, 0 when the socket is
 * full (wait for EPOLLOUT), -errno. Never raises SIGPIPE. */
int varlink_writer_flush(VarlinkWriter *w, int fd);
static inline size_t varlink_writer_pending(const VarlinkWriter *w) {
        return w->len;
}

/* A call's flags. */
typedef enum VarlinkCallFlags {
        VARLINK_CALL_ONEWAY = 1 << 0,
        VARLINK_CALL_MORE = 1 << 1,
        VARLINK_CALL_UPGRADE = 1 << 2,
} VarlinkCallFlags;

/* A call's envelope: "method" (a string without NUL bytes), "parameters"
 * (an object, null or absent), and at most one of "oneway", "more",
 * "upgrade" true; no other key. -EBADMSG for anything else. The pointers
 * borrow from m; *ret_parameters is NULL when there are none. */
int varlink_message_parse_call(json_object *m, const char **ret_method, json_object **ret_parameters,
                               unsigned *ret_flags);
/* A reply's envelope: "parameters" (object or null), "continues" (bool),
 * "error" (string); an error never continues. -EBADMSG otherwise. */
int varlink_message_parse_reply(json_object *m, const char **ret_error, json_object **ret_parameters,
                                bool *ret_continues);

/* New messages; each takes parameters (may be NULL), also on failure. */
json_object *varlink_message_new_call(const char *method, json_object *parameters, unsigned flags);
json_object *varlink_message_new_reply(json_object *parameters, bool continues);
json_object *varlink_message_new_error(const char *error, json_object *parameters);

/* A string of a JSON value, or NULL when it is not a string or holds a NUL
 * byte (which C would silently cut). */
const char *varlink_json_string(json_object *v);

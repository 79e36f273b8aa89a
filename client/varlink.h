/* Reaching virt-diffd over varlink, for callers without a bus: a blocking
 * client on common/varlink-wire.h. One call at a time on a connection, as
 * varlink has it. */
#pragma once

#include <json-c/json.h>

#include "common/errors.h"
#include "common/varlink-wire.h"

#define VD_VARLINK_INTERFACE "org.virtdiff.VirtDiff1"
/* The sockets (systemd/virt-diffd-*.socket): the system service's, and
 * under $XDG_RUNTIME_DIR the user's daemon's. */
#define VD_VARLINK_SOCKET_NAME "io.virtdiff.VirtDiff1"
#define VD_VARLINK_SYSTEM_ADDRESS "/run/virt-diffd/" VD_VARLINK_SOCKET_NAME
#define VD_VARLINK_USER_ADDRESS "virt-diffd/" VD_VARLINK_SOCKET_NAME

/* The system socket, or the user's; NULL when the user has no runtime
 * directory (or out of memory). */
char *varlink_default_address(bool system);

typedef struct VarlinkClient VarlinkClient;

/* -ENOENT, -ECONNREFUSED, -EACCES, ... when nobody serves path. */
int varlink_client_connect(const char *path, VarlinkClient **ret);
/* On a connected socket (takes fd). */
int varlink_client_new(int fd, VarlinkClient **ret);
VarlinkClient *varlink_client_free(VarlinkClient *c);
static inline void varlink_client_freep(VarlinkClient **c) {
        varlink_client_free(*c);
}
#define _cleanup_varlink_client_ _cleanup_(varlink_client_freep)

/* To wait on in an event loop: readable when a reply may be there. */
int varlink_client_fd(const VarlinkClient *c);

/* Sends a call (takes parameters). */
int varlink_client_send(VarlinkClient *c, const char *method, json_object *parameters, unsigned flags);

typedef struct VarlinkReply {
        json_object *parameters; /* never NULL after a reply */
        char *error;             /* the error's name, or NULL */
        bool continues;
} VarlinkReply;

void varlink_reply_done(VarlinkReply *r);

/* The next reply, waiting at most timeout_usec (UINT64_MAX: for ever): 1,
 * 0 when none came in time, -ECONNRESET when the daemon closed the
 * connection, -EBADMSG when it broke the protocol. */
int varlink_client_receive(VarlinkClient *c, uint64_t timeout_usec, VarlinkReply *ret);

/* A reply's error as ours: the daemon's named errors keep their code and
 * message; varlink's own (an invalid parameter, an unknown method) are
 * InvalidArgs, anything else Internal. */
void varlink_reply_error(const VarlinkReply *r, Error *e);

/* A call with one reply: 0 and its parameters, or -1 and e set (from an
 * error reply, or naming what failed on the way). */
int varlink_client_call(VarlinkClient *c, const char *method, json_object *parameters, json_object **ret,
                        Error *e);

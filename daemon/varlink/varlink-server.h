/* A varlink server (varlink.org) on sd-event: listening sockets (socket
 * activation or a path), one connection a client, and method calls
 * dispatched through the interfaces' definitions: a call whose parameters
 * do not match its method's is answered with InvalidParameter before any
 * handler runs, and every reply and error a handler sends is checked
 * against the definition too. org.varlink.service (GetInfo,
 * GetInterfaceDescription) is answered here.
 *
 * A connection serves one call at a time, in order; calls a client sends
 * ahead wait in its bounded input buffer. A message that is not a valid
 * call closes the connection. Main thread only. */
#pragma once

#include <json-c/json.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "common/errors.h"

/* Open connections in all, and of one uid: past them a new connection is
 * closed at once. */
#define VARLINK_CONNECTIONS_MAX 256
#define VARLINK_CONNECTIONS_PER_UID_MAX 64

#define VARLINK_SERVICE_INTERFACE "org.varlink.service"
#define VARLINK_ERROR_INTERFACE_NOT_FOUND VARLINK_SERVICE_INTERFACE ".InterfaceNotFound"
#define VARLINK_ERROR_METHOD_NOT_FOUND VARLINK_SERVICE_INTERFACE ".MethodNotFound"
#define VARLINK_ERROR_METHOD_NOT_IMPLEMENTED VARLINK_SERVICE_INTERFACE ".MethodNotImplemented"
#define VARLINK_ERROR_INVALID_PARAMETER VARLINK_SERVICE_INTERFACE ".InvalidParameter"
#define VARLINK_ERROR_PERMISSION_DENIED VARLINK_SERVICE_INTERFACE ".PermissionDenied"
#define VARLINK_ERROR_EXPECTED_MORE VARLINK_SERVICE_INTERFACE ".ExpectedMore"

typedef struct VarlinkServer VarlinkServer;
typedef struct VarlinkConnection VarlinkConnection;
typedef struct VarlinkCall VarlinkCall;

/* Answers call now or later (keeping a reference). Returning < 0 without
 * an answer closes the connection: expected failures are named errors the
 * handler sends itself. */
typedef int (*VarlinkMethodHandler)(VarlinkCall *call, json_object *parameters, void *userdata);
/* After an upgrade's reply has gone out: the socket (now the handler's)
 * and the bytes the client sent after its call that were already read. */
typedef void (*VarlinkUpgradeHandler)(int fd, const void *data, size_t n, void *userdata);

typedef enum VarlinkMethodFlags {
        VARLINK_METHOD_UPGRADE = 1 << 0, /* may be called with "upgrade" */
} VarlinkMethodFlags;

typedef struct VarlinkMethod {
        const char *name; /* unqualified: "Compare" */
        VarlinkMethodHandler handler;
        unsigned flags;
} VarlinkMethod;

typedef struct VarlinkServerInfo {
        const char *vendor, *product, *version, *url;
} VarlinkServerInfo;

typedef struct VarlinkServerHooks {
        /* A connection ends: 0 the client closed it, -EBADMSG it sent a
         * message that is not a call, -EMSGSIZE one past the size limit,
         * else -errno of the I/O. Its unanswered call was told first. */
        void (*on_close)(VarlinkConnection *c, int reason, void *userdata);
        /* A connection was refused: too many of them, or of this uid. */
        void (*on_refuse)(uid_t uid, void *userdata);
        void *userdata;
} VarlinkServerHooks;

/* info's strings must outlive the server. */
int varlink_server_new(sd_event *event, const VarlinkServerInfo *info, VarlinkServer **ret);
VarlinkServer *varlink_server_free(VarlinkServer *s);
static inline void varlink_server_freep(VarlinkServer **s) {
        varlink_server_free(*s);
}
#define _cleanup_varlink_server_ _cleanup_(varlink_server_freep)

void varlink_server_set_hooks(VarlinkServer *s, const VarlinkServerHooks *hooks);

/* Serves an interface: idl is its definition (kept, and served as is),
 * methods implement every method it defines and nothing else; a mismatch
 * or a bad definition is an InvalidArgs error. */
int varlink_server_add_interface(VarlinkServer *s, const char *idl, const VarlinkMethod *methods,
                                 size_t n_methods, void *userdata, Error *e);

/* Listens on a socket already bound and listening; takes fd. */
int varlink_server_listen_fd(VarlinkServer *s, int fd);
/* Binds a Unix socket at path with mode. A stale socket file is replaced;
 * one another process still serves is -EADDRINUSE. */
int varlink_server_listen_path(VarlinkServer *s, const char *path, mode_t mode);
/* Takes the listening Unix stream sockets passed by socket activation
 * (sd_listen_fds): how many, or -errno. */
int varlink_server_listen_inherited(VarlinkServer *s);
/* Serves one connected socket (a socketpair's end); takes fd. */
int varlink_server_add_connection(VarlinkServer *s, int fd, VarlinkConnection **ret);

unsigned varlink_server_n_connections(const VarlinkServer *s);
/* The interface definition served under name, or NULL. */
const char *varlink_server_interface_text(const VarlinkServer *s, const char *name);

/* ---- connections ---- */

/* The peer's pid, uid and gid when it connected (SO_PEERCRED). */
const struct ucred *varlink_connection_peer(const VarlinkConnection *c);
/* Its supplementary groups then (SO_PEERGROUPS); none when unknown. */
const gid_t *varlink_connection_peer_groups(const VarlinkConnection *c, size_t *ret_n);
/* A number that names the connection while the daemon runs. */
uint64_t varlink_connection_id(const VarlinkConnection *c);

/* ---- calls ---- */

VarlinkCall *varlink_call_ref(VarlinkCall *c);
VarlinkCall *varlink_call_unref(VarlinkCall *c);
static inline void varlink_call_unrefp(VarlinkCall **c) {
        varlink_call_unref(*c);
}

const char *varlink_call_method(const VarlinkCall *c);
bool varlink_call_wants_more(const VarlinkCall *c);
bool varlink_call_is_oneway(const VarlinkCall *c);
/* The caller's connection; NULL once it has gone. */
VarlinkConnection *varlink_call_connection(const VarlinkCall *c);
/* Bytes of earlier replies not yet taken by the client. */
size_t varlink_call_output_pending(const VarlinkCall *c);

/* Told once when the connection ends before the call's final answer. */
void varlink_call_set_gone_handler(VarlinkCall *c, void (*fn)(VarlinkCall *c, void *userdata), void *userdata);

/* The answers, each taking parameters (NULL: none). A final one ends the
 * call; notify sends a reply with "continues" (only with "more"; without
 * it, nothing is sent). 0 on success (also on a oneway call, whose answers
 * go nowhere), -ENOTCONN when the client has gone, -EALREADY after the
 * final answer, -EBADMSG when parameters do not match the definition or
 * the error is not one of the served interfaces' (nothing is sent). */
int varlink_call_reply(VarlinkCall *c, json_object *parameters);
int varlink_call_notify(VarlinkCall *c, json_object *parameters);
int varlink_call_error(VarlinkCall *c, const char *error, json_object *parameters);
int varlink_call_error_invalid_parameter(VarlinkCall *c, const char *parameter);
/* The final reply to a call made with "upgrade" to a method that allows
 * it: once it has gone out the connection leaves varlink and fn gets it. */
int varlink_call_reply_upgrade(VarlinkCall *c, json_object *parameters, VarlinkUpgradeHandler fn, void *userdata);

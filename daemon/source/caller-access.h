/* Who asked, and may they read a file? On the system bus the daemon runs
 * as root for callers who may not read everything it can: a file an image
 * names (its backing chain) is opened first as the caller, in a
 * short-lived child that has dropped to the caller's uid and groups, so
 * modes, ACLs and group lists count exactly as for the caller. On the
 * session bus and in peer mode the daemon is its caller: no creds, and the
 * daemon's own open() is the check. */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "common/util.h"

typedef struct CallerCreds {
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
} CallerCreds;

CallerCreds *caller_creds_free(CallerCreds *c);
static inline void caller_creds_freep(CallerCreds **c) {
        caller_creds_free(*c);
}
#define _cleanup_caller_creds_ _cleanup_(caller_creds_freep)

/* The uid the bus vouches for, with its gid and groups (from the bus, or
 * else from the user database). */
int caller_creds_from_message(sd_bus_message *msg, CallerCreds **ret);
/* A user's creds from the user database (tests, and the fallback above). */
int caller_creds_from_uid(uid_t uid, CallerCreds **ret);
/* What the kernel recorded of a socket's peer when it connected
 * (SO_PEERCRED, SO_PEERGROUPS): a varlink caller. Without groups (an old
 * kernel), the user database's. */
int caller_creds_from_peer(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, CallerCreds **ret);

/* 0 if the caller may open path for reading, else -errno (-EACCES,
 * -ENOENT, ...). NULL creds: the daemon's own rights. A daemon that is not
 * root cannot act as another user: -EPERM, refused. */
int caller_may_read(const CallerCreds *c, const char *path);

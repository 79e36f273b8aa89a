/* The locked-down process the direct engine runs in. libguestfs exists so
 * that no host kernel parses a guest's filesystem; the direct engine keeps
 * that (nothing is mounted: libext2fs parses the guest's bytes in user
 * space) and confines the user-space parser instead, before it sees a byte
 * of guest data:
 * - every fd but the ones kept is closed; the disks arrive later as fds
 *   and connected sockets the daemon opened;
 * - resource limits: no core file, few fds, no new processes, bounded
 *   address space and CPU time (an hour: the daemon's hang watch follows
 *   qemu, not this worker);
 * - not dumpable, no_new_privs;
 * - new namespaces where the kernel allows them (user, as an unprivileged
 *   daemon; network, IPC, UTS, mount), so there is no network to reach;
 * - as root, all groups dropped and the uid and gid set to nobody's;
 * - a seccomp filter (libseccomp) allowing what reading fds and answering
 *   on the socket needs: no open, no socket or connect, no exec, no
 *   ptrace; anything else fails with EPERM.
 * Libraries that read a file lazily (OpenSSL's configuration, error
 * tables) are initialised first. */
#pragma once

#include "common/errors.h"

typedef enum SandboxFlags {
        SANDBOX_USER_NS = 1 << 0, /* a user namespace was made */
        SANDBOX_NET_NS = 1 << 1,  /* network, IPC, UTS and mount namespaces */
        SANDBOX_DROPPED_UID = 1 << 2,
        SANDBOX_SECCOMP = 1 << 3,
} SandboxFlags;

/* Locks the calling process down for good, keeping fds 0-2 and keep_fd
 * (-1: none).
 * Returns what it managed (SANDBOX_SECCOMP always: without the filter it
 * fails), or -1 with e set. Single-threaded processes only. */
int sandbox_enter(int keep_fd, Error *e);

/* "user, net namespaces, uid dropped, seccomp" for a log line. */
const char *sandbox_describe(int flags, char *buf, size_t size);

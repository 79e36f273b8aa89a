/* A worker's watch on its daemon. A daemon killed (SIGKILL, a crash) in
 * the middle of a long call left its workers running that call to its end
 * (a minute and more under TCG), their qemu with them, re-parented to PID
 * 1. With this watch a worker notices at once: its socket to the daemon
 * hangs up and its parent is no longer the daemon. It then removes its
 * directory (overlays, libguestfs' sockets) and kills its process group:
 * itself, its qemu and libguestfs' helpers. A daemon that just closes the
 * socket (it is done with the worker) is told apart by the parent that
 * stays: the worker's own loop ends it then. */
#pragma once

#include <sys/types.h>

/* Starts the watch on fd (the socket to the daemon, which is the worker's
 * parent now) in a thread of its own. tmpdir: removed first (NULL: none).
 * 0, or -errno when the thread cannot be started. */
int worker_watch_daemon(int fd, const char *tmpdir);

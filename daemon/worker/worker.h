/* The worker process: one libguestfs handle, and everything that touches
 * guest data through it (launch, scan, file reads), in a process of its
 * own, so that a crash there fails one job instead of the daemon.
 *
 * The daemon starts a worker per appliance (`virt-diffd --worker TMPDIR`,
 * its own binary again, with the socket on fd 3 and a process group of its
 * own that its qemu joins). Everything libguestfs leaves on disk goes under
 * TMPDIR, which the daemon removes whatever way the worker ends. It sends one request at a time and reads frames
 * (common/wire.h, messages in worker/protocol.h) back until the answer: WK_OK, WK_DATA, WK_MANIFEST or WK_ERROR,
 * with WK_PROGRESS frames before it during a scan. The worker exits when
 * the daemon closes the socket. appliance.c is the daemon's side. */
#pragma once

/* The worker's main loop on the socket fd; returns its exit status. */
int worker_main(int fd, const char *tmpdir);

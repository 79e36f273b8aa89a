/* virt-diffd on varlink: org.virtdiff.VirtDiff1 served on its sockets,
 * on the daemon's event loop and its job table, beside D-Bus. A job
 * started here is listed on the bus too, and the other way round.
 *
 * The system instance (run as root) checks each caller by its socket
 * credentials, as polkit's default rules do on the bus: images by path
 * are opened with the caller's rights (caller-access.h), libvirt domains
 * and the cache's management are root's, and only root cancels another
 * user's job. Main thread only. */
#pragma once

#include <systemd/sd-event.h>

#include "job/job-table.h"

typedef struct VarlinkDaemon VarlinkDaemon;

typedef struct VarlinkDaemonOptions {
        sd_event *event;
        JobTable *jobs;
        Pool *pool;
        Store *store; /* NULL: no cache */
        bool system;  /* the system instance: callers are checked */
        /* Connections or calls came or went (the daemon's idle timer). */
        void (*busy_changed)(void *userdata);
        void *userdata;
} VarlinkDaemonOptions;

int varlink_daemon_new(const VarlinkDaemonOptions *options, VarlinkDaemon **ret);
VarlinkDaemon *varlink_daemon_free(VarlinkDaemon *d);
static inline void varlink_daemon_freep(VarlinkDaemon **d) {
        varlink_daemon_free(*d);
}

/* Listens at path (its directory is made if missing); a socket of the
 * system instance is for everyone (0666), a user's for the user (0600). */
int varlink_daemon_listen_path(VarlinkDaemon *d, const char *path);
/* The sockets socket activation passed: how many. */
int varlink_daemon_listen_inherited(VarlinkDaemon *d);
/* Anyone connected, or a call still working? */
bool varlink_daemon_busy(const VarlinkDaemon *d);

/* What the varlink front-end's files share; not for other modules. */
#pragma once

#include "common/json-util.h"
#include "common/varlink-wire.h"
#include "source/caller-access.h"
#include "varlink/varlink-daemon.h"
#include "varlink/varlink-server.h"

struct VarlinkDaemon {
        VarlinkDaemonOptions o;
        VarlinkServer *server;
        size_t job_slot;  /* ours in Job.frontend */
        unsigned n_tasks; /* Warm and ListSnapshots calls on their threads */
};

/* Answers call with a named error; for handlers: returns what to return. */
int vd_reply_error(VarlinkCall *call, const Error *e);
_printf_(3, 4) int vd_reply_errorf(VarlinkCall *call, ErrorCode code, const char *fmt, ...);
/* The caller's uid and groups when this is the system instance (else
 * NULL: the daemon is its caller). */
int vd_caller_creds(VarlinkDaemon *d, VarlinkCall *call, CallerCreds **ret);
/* On the system instance, root may do anything; false for others. */
bool vd_caller_is_root(VarlinkDaemon *d, VarlinkCall *call);
/* Reads a side of disks (a JSON array checked against the definition). */
int vd_parse_disks(Job *j, int side, json_object *disks, Error *e);
/* On the system instance, may the caller read what these disks name?
 * AccessDenied or NoSuchFile when not. */
int vd_check_access(VarlinkDaemon *d, const Job *j, const CallerCreds *creds, Error *e);

void vd_notify_busy(VarlinkDaemon *d);

/* varlink-jobs.c: Compare, Wait, Cancel, ListJobs and the job table's news. */
int vd_jobs_register(VarlinkDaemon *d);
int vd_method_compare(VarlinkCall *call, json_object *parameters, void *userdata);
int vd_method_wait(VarlinkCall *call, json_object *parameters, void *userdata);
int vd_method_cancel(VarlinkCall *call, json_object *parameters, void *userdata);
int vd_method_list_jobs(VarlinkCall *call, json_object *parameters, void *userdata);

/* varlink-tasks.c: the methods that run on threads. */
int vd_method_warm(VarlinkCall *call, json_object *parameters, void *userdata);
int vd_method_list_snapshots(VarlinkCall *call, json_object *parameters, void *userdata);

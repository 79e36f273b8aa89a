/* The daemon on D-Bus: its event loop, its bus connection, the Manager
 * object and the Job objects of the job table. The method groups live in
 * manager-*.c, the Job objects in job-bus.c. */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "appliance/pool.h"
#include "bus/polkit.h"
#include "job/job-table.h"
#include "store/store.h"

typedef enum BusMode {
        BUS_MODE_SESSION,
        BUS_MODE_SYSTEM,
        BUS_MODE_PEER,
} BusMode;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        BusMode mode;
        int peer_fd;
        Polkit polkit;

        JobTable *jobs;
        size_t job_slot;              /* the bus's slot in Job.frontend */
        SchedulerLimits limits;       /* --max-running, --max-queue, --max-jobs-per-caller */
        uint64_t retain_usec;         /* how long a finished job stays readable */

        uint64_t idle_timeout_usec; /* 0: never exit on idle */
        sd_event_source *idle_timer;

        int wake_fd;                /* the pool's news, from any thread */
        sd_event_source *wake_source;
        Pool *pool;
        PoolLimits pool_limits;
        sd_event_source *pool_timer;
        struct WarmRequest **warms; /* Warm calls still launching */
        size_t n_warms;
        char status[128];           /* last STATUS= sent to systemd */

        Store *store;               /* NULL: no cache */
        char *store_path;           /* NULL: the default */
        bool no_cache;
        uint64_t cache_budget;
        bool no_direct;             /* --no-direct: the appliance for every side */

        /* Another front-end (varlink) serves too: without a bus to reach,
         * the daemon serves that one alone; while it is busy, no idle exit. */
        bool bus_optional;
        bool (*frontend_busy)(void *userdata);
        void *frontend_userdata;
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        manager_free(*m);
}

int manager_connect(Manager *m);
int manager_run(Manager *m);

/* Thread-safe: makes the main loop look at the pool and the Warm calls. */
void manager_wake(Manager *m);
void manager_update_idle(Manager *m);

/* A job for a Compare or Warm call to fill in, bound to the job table. */
Job *manager_new_job(Manager *m);

/* Reads one side's disks (aa{sv}) of a Compare or Warm call into j. */
int manager_parse_side(sd_bus_message *msg, Job *j, int side, sd_bus_error *err);

/* Sets err from e when e holds a named error and returns a negative
 * number; else returns r (a negative errno). */
int manager_set_error(sd_bus_error *err, const Error *e, int r);
/* Turns an Error into a D-Bus reply error. */
int manager_reply_error(sd_bus_message *call, const Error *e);

/* The Job objects (job-bus.c): registered on the job table and the bus. */
int job_bus_register(Manager *m);
/* After a Compare call's job was submitted: the call to answer once the
 * inputs are checked, and its owner to follow (NULL in peer mode). */
int job_bus_adopt(Manager *m, Job *j, sd_bus_message *compare_call, const char *owner);
/* "/org/virtdiff/VirtDiff1/job/ID" */
char *job_bus_path(const Job *j);

/* The daemon's state: its event loop, its bus connection and its jobs. */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "appliance/pool.h"
#include "job/job.h"
#include "store/store.h"


typedef enum BusMode {
        BUS_MODE_SESSION,
        BUS_MODE_SYSTEM,
        BUS_MODE_PEER,
} BusMode;

/* When an owner's job was last admitted: the scheduler's round robin. */
typedef struct OwnerTurn {
        char *owner;
        uint64_t last_admit;
} OwnerTurn;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        BusMode mode;
        int peer_fd;

        int wake_fd;
        sd_event_source *wake_source;

        Job **jobs;
        size_t n_jobs;
        uint64_t next_id;
        unsigned max_running; /* jobs running at once */
        unsigned max_queue;   /* jobs waiting beyond those */
        unsigned max_jobs_per_caller; /* queued + running of one caller */
        uint64_t admit_seq;
        OwnerTurn *turns;
        size_t n_turns;

        uint64_t idle_timeout_usec; /* 0: never exit on idle */
        sd_event_source *idle_timer;
        sd_event_source *watch_timer; /* the appliances' hang watch, each second */
        uint64_t retain_usec;       /* how long a finished job stays readable */

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
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        manager_free(*m);
}

int manager_connect(Manager *m);
int manager_run(Manager *m);

/* Thread-safe: makes the main loop look at every job. */
void manager_wake(Manager *m);

Job *manager_find_job_by_path(Manager *m, const char *path);
bool manager_has_job(Manager *m, const Job *j);
void manager_remove_job(Manager *m, Job *j);
void manager_update_idle(Manager *m);

/* Reads one side's disks (aa{sv}) of a Compare or Warm call into j. */
int manager_parse_side(sd_bus_message *msg, Job *j, int side, sd_bus_error *err);

/* Turns an Error into a D-Bus reply error. */
int manager_reply_error(sd_bus_message *call, const Error *e);

/* A comparison job. The worker thread validates the inputs, launches one
 * appliance per side in parallel, scans, compares and writes the result;
 * the main loop publishes what it reports. Fields under "shared" are
 * guarded by lock; "published" fields belong to the main thread and back
 * the D-Bus properties. */
#pragma once

#include <pthread.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "appliance/appliance.h"
#include "appliance/pool.h"
#include "common/errors.h"
#include "common/progress.h"
#include "compare/comparer.h"
#include "compare/content-diff.h"
#include "source/disk.h"
#include "source/image-key.h"

typedef struct Manager Manager;

typedef struct JobSide {
        Disk *disks;
        size_t n_disks;
        Manifest *manifest;
        Appliance *appliance; /* set while launched; read by cancel */
        PoolHandle *handle;   /* the worker's, from the pool, while in use */
        pthread_mutex_t appliance_lock;
        Error error;
        Phase phase;
        uint8_t (*disk_keys)[FINGERPRINT_SIZE];
        uint8_t key[FINGERPRINT_SIZE]; /* the side's content key */
        bool cached;                   /* manifest came from the store */
        /* Hang watch, main thread: when the qemu last used CPU or ran. */
        uint64_t watch_ticks, watch_busy_usec, watch_running_usec;
        _Atomic bool hung;             /* killed by the hang watch */
} JobSide;

/* No padding: published copies are compared with memcmp(). */
typedef struct JobStatus {
        uint32_t state;
        uint32_t phase;
        uint32_t queue_position;    /* 1 = next to run; 0 when not queued */
        uint32_t unused;
        double progress;
        int32_t progress_valid;
        int32_t differences;
        uint64_t files_done, files_total;
        uint64_t bytes_done, bytes_total;
        uint64_t rate;              /* files or bytes a second in the phase */
        uint64_t expected_end_usec; /* CLOCK_REALTIME, 0 if unknown */
} JobStatus;

typedef struct Job {
        Manager *manager;
        uint64_t id;       /* 0 until the inputs are valid: a refusal takes no id */
        char *object_path; /* NULL until then too */
        char *owner;       /* unique bus name of the submitter; NULL in peer mode */
        CallerCreds *caller; /* the submitter's uid and groups on the system bus, else NULL */
        uid_t owner_uid;   /* the submitter's, on the system bus: may cancel without polkit */
        bool detached;
        CompareOptions compare;
        ContentOptions content; /* -u diffs, other checksums */
        JobSide sides[2];
        uint64_t created_usec;

        pthread_t thread;
        bool thread_started;
        _Atomic bool cancel_requested;

        /* shared */
        pthread_mutex_t lock;
        JobStatus status;
        bool validated, finished;
        bool admitted; /* the scheduler let it run */
        pthread_cond_t admit_cond;
        Error error;
        int result_fd;
        uint64_t phase_start_usec;
        JobStatus phase_base; /* the counters when the phase began */

        /* main thread only */
        JobStatus published;
        char *error_name, *error_message; /* published */
        sd_bus_message *pending_compare;
        sd_bus_message **waiters;
        size_t n_waiters;
        bool validated_handled, finished_handled, exported;
        uint64_t admit_seq; /* order of admission, 0 while queued */
        sd_event_source *emit_timer;
        uint64_t last_emit_usec;
        uint32_t emitted_state; /* the State last sent */
        sd_bus_track *track;
        sd_event_source *expire_timer;
} Job;

Job *job_new(Manager *m);
/* Gives a validated job its id and object path. Main thread. */
int job_set_id(Job *j, uint64_t id);
Job *job_free(Job *j);
static inline void job_freep(Job **j) {
        job_free(*j);
}
#define _cleanup_job_ _cleanup_(job_freep)

/* Adds a disk to side 0 or 1; takes nothing. */
int job_add_disk(Job *j, int side, const char *path, const char *format);

/* Starts the worker: it validates, then waits in the Queued state until
 * job_admit(). */
int job_start(Job *j);
void job_admit(Job *j);
/* The scheduler's view, main thread: queue position 0 = not queued. */
void job_set_queue_position(Job *j, uint32_t position);
bool job_is_queued(Job *j);
void job_cancel(Job *j);

/* Kills the qemu of a side that has been stopped for 5 s or has used no
 * CPU for 60 s in the middle of the job: only that job fails, with
 * ApplianceFailed. Main thread, about once a second. */
void job_watch_appliances(Job *j, uint64_t now_usec);

/* Copies the shared state into the published one; returns which of the
 * JOB_CHANGED_* happened since the last call. Main thread. */
enum {
        JOB_CHANGED_STATUS = 1 << 0,
        JOB_CHANGED_VALIDATED = 1 << 1,
        JOB_CHANGED_FINISHED = 1 << 2,
};
unsigned job_sync(Job *j);

/* A new read-only fd on the sealed JSON result, or -errno. */
int job_open_result(Job *j);

/* Bus side, in job-bus.c. */
extern const sd_bus_vtable job_vtable[];
void job_dispatch(Job *j);

/* A job: its inputs, its state, and what it publishes. A comparison of two
 * sides, or the export of one side's manifest (side A). Its pipeline
 * (job-pipeline.c) runs on a thread of its own: it validates the inputs,
 * waits for the scheduler's slot, then runs the stages one after another
 * (identify, serve, scan, compare, content, write). The main loop
 * copies what the thread reports into `published` (job_sync()) for the
 * front-ends (D-Bus, varlink) to show.
 *
 * Fields under "shared" are guarded by lock; "main thread" fields belong to
 * the event loop. The job knows nothing of any front-end: each keeps its own
 * state for a job in the job's frontend slot (see job-table.h). */
#pragma once

#include <json-c/json.h>
#include <pthread.h>
#include <sys/types.h>

#include "appliance/appliance.h"
#include "appliance/pool.h"
#include "common/errors.h"
#include "common/keys.h"
#include "common/names.h"
#include "common/progress.h"
#include "compare/comparer.h"
#include "compare/content-diff.h"
#include "compare/package-notes.h"
#include "compare/result-stream.h"
#include "source/caller-access.h"
#include "source/disk.h"
#include "source/image-key.h"
#include "store/store.h"

/* What a job needs of the daemon, borrowed: it outlives every job. */
typedef struct JobContext {
        Pool *pool;
        Store *store; /* NULL: no cache */
        bool no_direct; /* the daemon's --no-direct: every side in an appliance */
        /* Thread-safe: the job has news for the main loop. */
        void (*wake)(void *userdata);
        void *userdata;
} JobContext;

typedef struct JobSide {
        Disk *disks;
        size_t n_disks;
        Manifest *manifest;
        Store *scan_store;    /* a scanned side's manifest, streamed in (temporary) */
        StoreSource *source;  /* the side's manifest in a store (cache or scan_store), read as it merges */
        Appliance *appliance; /* set while launched; read by cancel */
        PoolHandle *handle;   /* the worker's, from the pool, while in use */
        Appliance *direct;    /* the direct engine's worker, while in use */
        Engine engine;        /* what scanned it: ENGINE_AUTO until scanned */
        Error direct_refused; /* why the direct engine gave the side to the appliance */
        pthread_mutex_t appliance_lock;
        Error error;
        Phase phase;
        uint8_t (*disk_keys)[FINGERPRINT_SIZE];
        uint8_t key[FINGERPRINT_SIZE]; /* the side's content key */
        bool cached;                   /* manifest came from the store */
        bool scanned;                  /* scanned already (not again when the other side is) */
        PackageSet *packages;          /* when asked for: from the scan or the store */
        /* A side given as an exported manifest (a file the caller passed)
         * instead of disks: read and checked when the job validates. */
        int manifest_fd;               /* -1: none */
        bool from_manifest;
        json_object *manifest_images;  /* where it was made, as it says */
        char *manifest_exported_at;
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

#define JOB_MAX_FRONTENDS 4

typedef struct Job {
        const JobContext *ctx;
        JobKind kind;
        uint64_t id;         /* 0 until the inputs are valid: a refusal takes no id */
        char *owner;         /* who submitted it (a unique bus name...); NULL: the one peer */
        CallerCreds *caller; /* the submitter's uid and groups on the system bus, else NULL */
        uid_t owner_uid;     /* the submitter's, on the system bus: may cancel without polkit */
        bool detached;
        /* Read back from the store after a restart (job-records.c): no
         * thread, no disks; finished, its result read from the store. */
        bool restored;
        CompareOptions compare;
        ContentOptions content; /* -u diffs, other checksums */
        Engine engine;          /* asked for: ENGINE_AUTO unless the caller chose */
        PackageOptions packages; /* --packages, --explain, --cause */
        JobSide sides[2];
        /* Keys for encrypted volumes, held from the call to the end of the
         * scan, then wiped (job-keys.c). With keys, no appliance goes back
         * to the pool warm and no opened volume's manifest is cached. */
        KeyList keys;         /* each tried on the volumes its selector names */
        KeyList ordered_keys; /* one for each volume still locked: side A's first */
        bool had_keys;
        pthread_mutex_t keys_lock;
        pthread_cond_t keys_cond;
        long keys_taken_by_a; /* ordered keys side A took; -1 until known */
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
        /* The changes as the comparison finds them (compare/result-stream.h):
         * made by the first of the pipeline and job_open_changes(). */
        ResultStream *stream;
        uint64_t phase_start_usec;
        JobStatus phase_base; /* the counters when the phase began */

        /* main thread */
        JobStatus published;
        char *error_name, *error_message; /* published */
        bool validated_handled, finished_handled;
        uint64_t finished_usec; /* CLOCK_REALTIME, once finished_handled */
        uint8_t recorded;       /* what the store holds of it (job-records.h) */
        bool kept_aside;        /* what the store lacks is in the runtime directory (job-pending.h) */
        bool listed;        /* valid, with an id: visible to every front-end */
        uint64_t admit_seq; /* order of admission, 0 while queued */
        void *frontend[JOB_MAX_FRONTENDS];
} Job;

Job *job_new(const JobContext *ctx);
Job *job_free(Job *j);
static inline void job_freep(Job **j) {
        job_free(*j);
}
#define _cleanup_job_ _cleanup_(job_freep)
/* Once the job has ended (its thread joined): lets go of what it read, the
 * disks' open files (the checked image and backing chain, a passed fd),
 * qemu-nbd, a direct worker and a manifest file, while the job itself stays
 * readable for --keep-jobs (its state, result and the disks' names). */
void job_release_inputs(Job *j);

/* Adds a disk to side 0 or 1; takes nothing. */
int job_add_disk(Job *j, int side, const char *path, const char *format);
/* Makes side 0 or 1 the manifest read from fd (a regular file); takes fd. */
int job_set_manifest(Job *j, int side, int fd);

/* Starts the pipeline's thread: it validates, then waits in the Queued
 * state until job_admit(). */
int job_start(Job *j);
void job_admit(Job *j);
/* The scheduler's view, main thread: queue position 0 = not queued. */
void job_set_queue_position(Job *j, uint32_t position);
bool job_is_queued(Job *j);
/* Idempotent; thread-safe. */
void job_cancel(Job *j);
/* Main thread: not finished as far as the front-ends know. */
static inline bool job_unfinished(const Job *j) {
        return !j->finished_handled;
}

/* Copies the shared state into the published one; returns which of the
 * JOB_CHANGED_* happened since the last call. Main thread. */
enum {
        JOB_CHANGED_STATUS = 1 << 0,
        JOB_CHANGED_VALIDATED = 1 << 1,
        JOB_CHANGED_FINISHED = 1 << 2,
};
unsigned job_sync(Job *j);

/* The error the pipeline ended with (ERR_OK while it runs or succeeded). */
Error job_get_error(Job *j);

/* A new read-only fd on the sealed JSON result of a job that succeeded:
 * its own, or for a restored job the one the store kept. A result that
 * was not kept across a restart is a JobLost error (-1, e set). */
int job_open_result(Job *j, Error *e);

/* A new read-only fd on the job's change stream, from its head line, for
 * a client to print from while the job runs; -1 and e for a job that has
 * none: one whose result needs its content or package stage (-u,
 * --packages, ...), an export, one read back after a restart, or one
 * that ended and let its stream go. */
int job_open_changes(Job *j, Error *e);
/* Whether the job's comparison goes through a change stream. */
bool job_streams_changes(const Job *j);

/* Kills the qemu of a side that has been stopped for 5 s or has used no
 * CPU for 60 s in the middle of the job: only that job fails, with
 * ApplianceFailed. Main thread, about once a second. (job-watch.c) */
void job_watch_appliances(Job *j, uint64_t now_usec);

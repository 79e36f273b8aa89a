/* The appliance pool: launched libguestfs handles kept after use, each
 * attached to the image set (and content key) it was launched on, so that
 * a later job on the same images needs no launch. A handle is closed when
 * its images change, after an idle timeout, or when the count limit or the
 * memory budget (each appliance's memsize) needs room, least recently used
 * first. A handle that a job gives back unhealthy (cancelled, failed in a
 * call, qemu gone) is closed, never reused.
 *
 * For job code: pool_acquire() a handle for a side, publish
 * pool_handle_appliance() where a cancel can kill it, pool_handle_launch()
 * (nothing to do for a warm one), use ->g, pool_release(). Thread-safe. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "appliance/appliance.h"
#include "common/progress.h"
#include "source/disk.h"
#include "source/image-key.h"

typedef struct Pool Pool;
typedef struct PoolHandle PoolHandle;

typedef struct PoolLimits {
        unsigned max_handles;  /* idle and in use; 0 keeps none after use */
        uint64_t max_memory;   /* bytes of appliance memory */
        uint64_t idle_usec;    /* an unused handle is closed after this */
} PoolLimits;

/* One handle as listed. */
typedef struct PoolInfo {
        char **paths;
        uint8_t key[FINGERPRINT_SIZE];
        bool in_use, launched;
        uint64_t memory;        /* bytes */
        uint64_t created_usec;  /* CLOCK_REALTIME */
        uint64_t last_used_usec;
        uint64_t uses;
} PoolInfo;

/* changed (may be NULL) is called, from any thread, when the pool's
 * contents change. */
int pool_new(const PoolLimits *limits, void (*changed)(void *userdata), void *userdata, Pool **ret);
/* Kills and closes every appliance; none may be in use. */
Pool *pool_free(Pool *p);

/* Kills every appliance's qemu, in use or not, so that calls on them end
 * at once; for the daemon's exit. */
void pool_kill_all(Pool *p);

/* A handle on these disks, whose side has content key `key`: a warm one
 * (checked to answer) when there is one, else a new one, not launched yet.
 * Waits for a handle that Warm is launching on the same images, unless
 * progress (may be NULL) says the caller was cancelled: then ERR_CANCELLED. */
int pool_acquire(Pool *p, const Disk *disks, size_t n_disks, const uint8_t key[FINGERPRINT_SIZE],
                 const ProgressSink *progress, PoolHandle **ret, Error *e);
Appliance *pool_handle_appliance(PoolHandle *h);
bool pool_handle_reused(PoolHandle *h);
/* Launches the handle unless it already runs, first closing idle handles
 * as the limits need. */
int pool_handle_launch(Pool *p, PoolHandle *h, Error *e);
/* Gives a handle back. healthy: the last call succeeded and nothing was
 * cancelled; the handle is then cleaned (filesystems unmounted) and kept
 * if the limits allow. Otherwise it is closed. */
void pool_release(Pool *p, PoolHandle *h, bool healthy);

/* Closes idle handles past the idle timeout and those whose images have
 * changed on disk (their stat records differ). Returns how many remain. */
size_t pool_expire(Pool *p);

/* A snapshot of the handles, least recently used first. */
int pool_list(Pool *p, PoolInfo **ret, size_t *ret_n);
void pool_info_free(PoolInfo *l, size_t n);
/* Handles, the idle (warm) ones among them, and the memory they take. */
void pool_counts(Pool *p, size_t *ret_handles, size_t *ret_idle, uint64_t *ret_memory);

/* Launches a handle ahead of need and keeps it: 1 when one was warm
 * already, 0 when launched, -1 on error. Jobs that want it meanwhile wait
 * for the launch instead of starting their own. */
int pool_warm(Pool *p, const Disk *disks, size_t n_disks, const uint8_t key[FINGERPRINT_SIZE], Error *e);

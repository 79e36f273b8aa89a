#include "appliance/pool.h"

#include <pthread.h>
#include <time.h>

#include "common/log.h"

struct PoolHandle {
        Appliance *appliance;
        char **paths, **formats;
        char **watched;         /* the disks and their backing files */
        FileStat *stats;        /* of watched, when launched */
        uint8_t key[FINGERPRINT_SIZE];
        uint64_t memory;
        bool in_use, launched, reused;
        bool warming; /* launched by pool_warm(): others wait for it */
        uint64_t created_usec, last_used_usec, last_used_mono, uses;
};

struct Pool {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* a launch ended */
        PoolLimits limits;
        PoolHandle **handles;
        size_t n;
        void (*changed)(void *userdata);
        void *userdata;
};

static PoolHandle *handle_free(PoolHandle *h) {
        if (!h)
                return NULL;
        /* Read-only appliances: nothing to flush, so no polite shutdown. */
        appliance_kill(h->appliance);
        appliance_free(h->appliance);
        strv_free(h->paths);
        strv_free(h->formats);
        strv_free(h->watched);
        free(h->stats);
        free(h);
        return NULL;
}

static void notify(Pool *p) {
        if (p->changed)
                p->changed(p->userdata);
}

int pool_new(const PoolLimits *limits, void (*changed)(void *userdata), void *userdata, Pool **ret) {
        Pool *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        p->limits = *limits;
        p->changed = changed;
        p->userdata = userdata;
        *ret = p;
        return 0;
}

void pool_kill_all(Pool *p) {
        pthread_mutex_lock(&p->lock);
        for (size_t i = 0; i < p->n; i++)
                appliance_kill(p->handles[i]->appliance);
        pthread_mutex_unlock(&p->lock);
}

Pool *pool_free(Pool *p) {
        if (!p)
                return NULL;
        pool_kill_all(p);
        for (size_t i = 0; i < p->n; i++)
                handle_free(p->handles[i]);
        free(p->handles);
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}

/* Under the lock. */
static void unlink_handle(Pool *p, PoolHandle *h) {
        for (size_t i = 0; i < p->n; i++)
                if (p->handles[i] == h) {
                        memmove(p->handles + i, p->handles + i + 1, (p->n - i - 1) * sizeof(PoolHandle *));
                        p->n--;
                        return;
                }
}

static bool same_images(const PoolHandle *h, const Disk *disks, size_t n) {
        if (strv_length(h->paths) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(h->paths[i], disks[i].path) != 0)
                        return false;
        return true;
}

static PoolHandle *handle_new(const Disk *disks, size_t n, const uint8_t key[FINGERPRINT_SIZE], Error *e) {
        PoolHandle *h = calloc(1, sizeof(*h));
        if (!h) {
                error_set(e, ERR_INTERNAL, "out of memory");
                return NULL;
        }
        size_t np = 0, nf = 0, nw = 0;
        for (size_t i = 0; i < n; i++) {
                if (strv_extend(&h->paths, &np, disks[i].path) < 0 ||
                    strv_extend(&h->formats, &nf, strempty(disks[i].format)) < 0 ||
                    strv_extend(&h->watched, &nw, disks[i].path) < 0)
                        goto oom;
                for (char **b = disks[i].backing_chain; b && *b; b++)
                        if (strv_extend(&h->watched, &nw, *b) < 0)
                                goto oom;
        }
        memcpy(h->key, key, FINGERPRINT_SIZE);
        if (appliance_new(disks, n, &h->appliance, e) < 0)
                return handle_free(h);
        h->memory = h->appliance->memsize_mb << 20;
        h->created_usec = now_usec_realtime();
        return h;
oom:
        error_set(e, ERR_INTERNAL, "out of memory");
        return handle_free(h);
}

static bool formats_match(const PoolHandle *h, const Disk *disks, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(h->formats[i], strempty(disks[i].format)) != 0)
                        return false;
        return true;
}

static bool handle_matches(const PoolHandle *h, const Disk *disks, size_t n, const uint8_t key[FINGERPRINT_SIZE]) {
        if (strv_length(h->paths) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(h->paths[i], disks[i].path) != 0)
                        return false;
        return formats_match(h, disks, n) && memcmp(h->key, key, FINGERPRINT_SIZE) == 0;
}

/* Is an idle handle's qemu still there, running, and its daemon answering?
 * A cheap round trip, which also leaves nothing mounted; a stopped qemu
 * would never answer it. */
static bool handle_answers(PoolHandle *h) {
        uint64_t ticks;
        bool stopped;
        return appliance_cpu(h->appliance, &ticks, &stopped) >= 0 && !stopped &&
               appliance_umount_all(h->appliance, NULL) == 0;
}

int pool_acquire(Pool *p, const Disk *disks, size_t n_disks, const uint8_t key[FINGERPRINT_SIZE],
                 const ProgressSink *progress, PoolHandle **ret, Error *e) {
        for (;;) {
                PoolHandle *found = NULL, *stale = NULL;
                bool launching = false;

                pthread_mutex_lock(&p->lock);
                for (size_t i = 0; i < p->n && !found && !stale; i++) {
                        PoolHandle *h = p->handles[i];
                        if (handle_matches(h, disks, n_disks, key)) {
                                if (!h->in_use)
                                        found = h;
                                else if (h->warming)
                                        launching = true; /* ready soon: wait for it */
                        } else if (!h->in_use && same_images(h, disks, n_disks)) {
                                /* The same files with other content: changed. */
                                stale = h;
                        }
                }
                if (found) {
                        found->in_use = true;
                        found->reused = true;
                } else if (stale)
                        unlink_handle(p, stale);
                else if (launching) {
                        /* Woken by the launch's end; looks at cancellation
                         * a few times a second meanwhile. */
                        struct timespec until;
                        clock_gettime(CLOCK_REALTIME, &until);
                        until.tv_nsec += 200 * 1000000L;
                        if (until.tv_nsec >= 1000000000L) {
                                until.tv_sec++;
                                until.tv_nsec -= 1000000000L;
                        }
                        (void) pthread_cond_timedwait(&p->cond, &p->lock, &until);
                        pthread_mutex_unlock(&p->lock);
                        if (progress_cancelled(progress))
                                return error_set(e, ERR_CANCELLED, "cancelled");
                        continue;
                }
                pthread_mutex_unlock(&p->lock);

                if (stale) {
                        log_info("Closing the appliance on %s: the image changed.", stale->paths[0]);
                        handle_free(stale);
                        notify(p);
                        continue;
                }
                if (found) {
                        if (handle_answers(found)) {
                                log_debug("Reusing the warm appliance on %s.", found->paths[0]);
                                *ret = found;
                                return 0;
                        }
                        log_info("The warm appliance on %s no longer answers, replacing it.", found->paths[0]);
                        pthread_mutex_lock(&p->lock);
                        unlink_handle(p, found);
                        pthread_mutex_unlock(&p->lock);
                        handle_free(found);
                        notify(p);
                        continue;
                }
                break;
        }

        PoolHandle *h = handle_new(disks, n_disks, key, e);
        if (!h)
                return -1;
        h->in_use = true;
        pthread_mutex_lock(&p->lock);
        PoolHandle **nh = realloc(p->handles, (p->n + 1) * sizeof(PoolHandle *));
        if (nh) {
                p->handles = nh;
                p->handles[p->n++] = h;
        }
        pthread_mutex_unlock(&p->lock);
        if (!nh) {
                handle_free(h);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        notify(p);
        *ret = h;
        return 0;
}

Appliance *pool_handle_appliance(PoolHandle *h) {
        return h ? h->appliance : NULL;
}

bool pool_handle_reused(PoolHandle *h) {
        return h->reused && h->launched;
}

/* Under the lock: unlinks idle handles, least recently used first, until
 * `extra` more handles of extra_memory fit; returns them to be closed. */
static size_t make_room(Pool *p, size_t extra, uint64_t extra_memory, PoolHandle **victims) {
        size_t nv = 0;
        for (;;) {
                uint64_t memory = extra_memory;
                for (size_t i = 0; i < p->n; i++)
                        memory += p->handles[i]->memory;
                if (p->n + extra <= p->limits.max_handles && memory <= p->limits.max_memory)
                        return nv;
                PoolHandle *lru = NULL;
                for (size_t i = 0; i < p->n; i++) {
                        PoolHandle *h = p->handles[i];
                        if (!h->in_use && (!lru || h->last_used_mono < lru->last_used_mono))
                                lru = h;
                }
                if (!lru)
                        return nv;
                unlink_handle(p, lru);
                victims[nv++] = lru;
        }
}

static void close_victims(Pool *p, PoolHandle **victims, size_t n, const char *why) {
        for (size_t i = 0; i < n; i++) {
                log_info("Closing the appliance on %s: %s.", victims[i]->paths[0], why);
                handle_free(victims[i]);
        }
        if (n)
                notify(p);
}

static void record_stats(PoolHandle *h) {
        size_t n = strv_length(h->watched);
        h->stats = calloc(n ? n : 1, sizeof(FileStat));
        for (size_t i = 0; h->stats && i < n; i++)
                (void) fingerprint_stat(h->watched[i], &h->stats[i]);
}

int pool_handle_launch(Pool *p, PoolHandle *h, Error *e) {
        if (h->launched)
                return 0;
        pthread_mutex_lock(&p->lock);
        _cleanup_free_ PoolHandle **victims = calloc(p->n + 1, sizeof(PoolHandle *));
        /* This handle is already counted. */
        size_t nv = victims ? make_room(p, 0, 0, victims) : 0;
        pthread_mutex_unlock(&p->lock);
        close_victims(p, victims, nv, "room for a new one");

        /* Stat before launching: a change while qemu opens the image then
         * shows as a change later, never the other way round. */
        record_stats(h);
        int r = appliance_launch(h->appliance, e);
        pthread_mutex_lock(&p->lock);
        h->launched = r >= 0;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
        notify(p);
        return r;
}

void pool_release(Pool *p, PoolHandle *h, bool healthy) {
        if (!h)
                return;
        /* Clean for the next user: nothing mounted, and the daemon answers. */
        if (healthy && (!h->launched || !handle_answers(h)))
                healthy = false;

        pthread_mutex_lock(&p->lock);
        h->in_use = false;
        h->uses++;
        h->last_used_usec = now_usec_realtime();
        h->last_used_mono = now_usec_monotonic();
        _cleanup_free_ PoolHandle **victims = calloc(p->n + 1, sizeof(PoolHandle *));
        size_t nv = 0;
        if (!healthy || !victims)
                unlink_handle(p, h);
        else
                nv = make_room(p, 0, 0, victims);
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);

        if (!healthy || !victims) {
                if (h->launched)
                        log_info("Closing the appliance on %s: it may be in an unknown state.", h->paths[0]);
                handle_free(h);
        }
        close_victims(p, victims, nv, "the pool's limits");
        notify(p);
}

int pool_warm(Pool *p, const Disk *disks, size_t n_disks, const uint8_t key[FINGERPRINT_SIZE], Error *e) {
        PoolHandle *h;
        if (p->limits.max_handles == 0)
                return error_set(e, ERR_INVALID_ARGS, "this daemon keeps no appliances (its --pool-size is 0)");
        if (pool_acquire(p, disks, n_disks, key, NULL, &h, e) < 0)
                return -1;
        if (h->launched) {
                pool_release(p, h, true);
                return 1;
        }
        pthread_mutex_lock(&p->lock);
        h->warming = true;
        pthread_mutex_unlock(&p->lock);
        int r = pool_handle_launch(p, h, e);
        pthread_mutex_lock(&p->lock);
        h->warming = false;
        pthread_mutex_unlock(&p->lock);
        pool_release(p, h, r >= 0);
        return r < 0 ? -1 : 0;
}

static bool images_changed(const PoolHandle *h) {
        if (!h->stats)
                return false;
        for (size_t i = 0; h->watched[i]; i++) {
                FileStat st;
                if (fingerprint_stat(h->watched[i], &st) < 0 || !file_stat_equal(&st, &h->stats[i]))
                        return true;
        }
        return false;
}

size_t pool_expire(Pool *p) {
        uint64_t now = now_usec_monotonic();
        pthread_mutex_lock(&p->lock);
        _cleanup_free_ PoolHandle **victims = calloc(p->n + 1, sizeof(PoolHandle *));
        size_t nv = 0, changed = 0;
        for (size_t i = 0; victims && i < p->n;) {
                PoolHandle *h = p->handles[i];
                bool old = !h->in_use && h->launched && now - h->last_used_mono >= p->limits.idle_usec;
                bool gone = !h->in_use && h->launched && !old && images_changed(h);
                if (old || gone) {
                        unlink_handle(p, h);
                        victims[nv++] = h;
                        changed += gone;
                        continue;
                }
                i++;
        }
        size_t left = p->n;
        pthread_mutex_unlock(&p->lock);
        close_victims(p, victims, nv, changed ? "idle too long, or its image changed" : "idle too long");
        return left;
}

int pool_list(Pool *p, PoolInfo **ret, size_t *ret_n) {
        pthread_mutex_lock(&p->lock);
        size_t n = p->n;
        PoolInfo *l = calloc(n ? n : 1, sizeof(PoolInfo));
        for (size_t i = 0; l && i < n; i++) {
                const PoolHandle *h = p->handles[i];
                size_t np = 0;
                for (char **s = h->paths; *s; s++)
                        if (strv_extend(&l[i].paths, &np, *s) < 0) {
                                pool_info_free(l, n);
                                l = NULL;
                                break;
                        }
                if (!l)
                        break;
                memcpy(l[i].key, h->key, FINGERPRINT_SIZE);
                l[i].in_use = h->in_use;
                l[i].launched = h->launched;
                l[i].memory = h->memory;
                l[i].created_usec = h->created_usec;
                l[i].last_used_usec = h->last_used_usec;
                l[i].uses = h->uses;
        }
        pthread_mutex_unlock(&p->lock);
        if (!l)
                return -ENOMEM;
        *ret = l;
        *ret_n = n;
        return 0;
}

void pool_info_free(PoolInfo *l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                strv_free(l[i].paths);
        free(l);
}

void pool_counts(Pool *p, size_t *ret_handles, size_t *ret_idle, uint64_t *ret_memory) {
        pthread_mutex_lock(&p->lock);
        uint64_t memory = 0;
        size_t idle = 0;
        for (size_t i = 0; i < p->n; i++) {
                memory += p->handles[i]->memory;
                idle += p->handles[i]->launched && !p->handles[i]->in_use;
        }
        *ret_handles = p->n;
        *ret_idle = idle;
        *ret_memory = memory;
        pthread_mutex_unlock(&p->lock);
}

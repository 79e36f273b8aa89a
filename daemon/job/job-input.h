/* A Compare or Warm call's inputs as every front-end (D-Bus, varlink)
 * checks them before a job is submitted: a disk's keys and their limits
 * (common/input-limits.h), and the options by their names. A refusal is
 * an InvalidArgs error (-1, e set); out of memory is -ENOMEM. */
#pragma once

#include "job/job.h"

/* One disk: an image by path (format and snapshot optional), or a libvirt
 * domain (uri and snapshot optional). Unset keys are NULL. */
typedef struct JobDiskSpec {
        const char *path, *format, *snapshot, *domain, *uri;
        uint32_t blocksize; /* the sector size the guest sees: 512 or 4096; 0 for the default */
} JobDiskSpec;

int job_input_add_disk(Job *j, int side, const JobDiskSpec *spec, Error *e);
/* 0 (the default), 512 or 4096: what libguestfs takes, checked before a
 * launch would refuse it. */
int job_input_check_blocksize(uint32_t blocksize, Error *e);
/* A side may hold at most MAX_DISKS_PER_SIDE disks, and not none (unless
 * it is one exported manifest). */
int job_input_check_room(const Job *j, int side, Error *e);
int job_input_check_side(const Job *j, int side, Error *e);

/* detached, unified, packages, atime, times, dir_times, dir_links, extra_stats;
 * -ENOENT (no error set) for another name. */
int job_input_set_flag(Job *j, const char *name, bool value);
/* ignore, include, exclude, paths: true for those names. */
bool job_input_is_filter(const char *name);
int job_input_add_filter(Job *j, const char *name, const char *item, Error *e);
/* "causes": tampered, config, package, unowned (implies packages). */
int job_input_set_causes(Job *j, char *const *names, Error *e);
/* A key for encrypted volumes: by selector (a device, a volume UUID or
 * "all"), or with selector NULL the next of the ordered keys. Bounded
 * (MAX_KEYS of each, 1 to MAX_KEY_LENGTH bytes, no NUL); an error never
 * quotes the key. */
int job_input_add_key(Job *j, const char *selector, const void *key, size_t len, Error *e);
/* md5, sha1, sha224, sha256, sha384, sha512 or crc. */
int job_input_set_checksum(Job *j, const char *algorithm, Error *e);
/* auto, direct or appliance; direct is refused by a daemon with
 * --no-direct. */
int job_input_set_engine(Job *j, const char *name, Error *e);

/* Warm's disks (side 0 of a job that is never submitted): files only,
 * at least one. */
int job_input_check_warm(const Job *disks, Error *e);
/* Validates and identifies Warm's disks and launches an appliance on them
 * into the pool (pool_warm()'s result: 1 when one was warm already).
 * Blocks: on a thread of its own. */
int job_warm(Job *disks, Pool *pool, Store *store, Error *e);

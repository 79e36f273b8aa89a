#include "job/job-input.h"

#include "common/input-limits.h"
#include "source/disk-key.h"

static int check_length(const char *what, const char *s, size_t max, Error *e) {
        if (s && strlen(s) > max)
                return error_set(e, ERR_INVALID_ARGS, "a disk's '%s' is longer than %zu bytes", what, max);
        return 0;
}

int job_input_check_room(const Job *j, int side, Error *e) {
        if (j->sides[side].n_disks >= MAX_DISKS_PER_SIDE)
                return error_set(e, ERR_INVALID_ARGS, "at most %d disks a side", MAX_DISKS_PER_SIDE);
        return 0;
}

int job_input_check_side(const Job *j, int side, Error *e) {
        if (j->sides[side].n_disks == 0 && !j->sides[side].from_manifest)
                return error_set(e, ERR_INVALID_ARGS, "side %c has no disk", side ? 'B' : 'A');
        return 0;
}

int job_input_check_blocksize(uint32_t blocksize, Error *e) {
        if (blocksize != 0 && blocksize != 512 && blocksize != 4096)
                return error_set(e, ERR_INVALID_ARGS, "disk option 'blocksize' is not 512 or 4096");
        return 0;
}

int job_input_add_disk(Job *j, int side, const JobDiskSpec *d, Error *e) {
        if (j->sides[side].from_manifest)
                return error_set(e, ERR_INVALID_ARGS, "side %c is either disks or one manifest", side ? 'B' : 'A');
        if (d->domain && !d->domain[0])
                return error_set(e, ERR_INVALID_ARGS, "a disk's 'domain' is empty");
        if (d->snapshot && !d->snapshot[0])
                return error_set(e, ERR_INVALID_ARGS, "a disk's 'snapshot' is empty");
        if (d->domain && (d->path || d->format))
                return error_set(e, ERR_INVALID_ARGS,
                                 "a disk is either a 'path' or a 'domain' (whose disks have their formats)");
        if (!d->domain && d->uri)
                return error_set(e, ERR_INVALID_ARGS, "a disk has a 'uri' but no 'domain'");
        if (!d->domain && !d->path)
                return error_set(e, ERR_INVALID_ARGS, "a disk has no 'path' (or 'domain')");
        /* A domain's disks are as its definition says. */
        if (d->domain && d->blocksize)
                return error_set(e, ERR_INVALID_ARGS, "a disk is either a 'domain' or has a 'blocksize'");
        if (job_input_check_blocksize(d->blocksize, e) < 0)
                return -1;
        if (check_length("path", d->path, MAX_PATH_LENGTH, e) < 0 ||
            check_length("domain", d->domain, MAX_NAME_LENGTH, e) < 0 ||
            check_length("uri", d->uri, MAX_NAME_LENGTH, e) < 0 ||
            check_length("snapshot", d->snapshot, MAX_NAME_LENGTH, e) < 0 || job_input_check_room(j, side, e) < 0)
                return -1;
        int r = job_add_disk(j, side, d->path ? d->path : d->domain, d->format);
        if (r < 0)
                return r;
        j->sides[side].disks[j->sides[side].n_disks - 1].blocksize = d->blocksize;
        return disk_set_source(&j->sides[side].disks[j->sides[side].n_disks - 1], d->domain, d->uri, d->snapshot);
}

int job_input_set_flag(Job *j, const char *name, bool value) {
        static const struct {
                const char *name;
                size_t offset;
        } flags[] = {
                {"atime", offsetof(CompareOptions, atime)},
                {"times", offsetof(CompareOptions, ctime)},
                {"dir_times", offsetof(CompareOptions, dir_times)},
                {"dir_links", offsetof(CompareOptions, dir_links)},
                {"extra_stats", offsetof(CompareOptions, extra_stats)},
        };
        if (strcmp(name, "detached") == 0) {
                j->detached = value;
                return 0;
        }
        if (strcmp(name, "unified") == 0) {
                j->content.unified = value;
                return 0;
        }
        if (strcmp(name, "packages") == 0) {
                j->packages.wanted = value;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (strcmp(name, flags[i].name) == 0) {
                        *(bool *) ((char *) &j->compare + flags[i].offset) = value;
                        return 0;
                }
        return -ENOENT;
}

bool job_input_is_filter(const char *name) {
        static const char *const filter_keys[] = {"ignore", "include", "exclude", "paths"};
        for (size_t i = 0; i < ELEMENTSOF(filter_keys); i++)
                if (strcmp(name, filter_keys[i]) == 0)
                        return true;
        return false;
}

int job_input_add_filter(Job *j, const char *name, const char *item, Error *e) {
        Filters *f = &j->compare.filters;
        const char *why = NULL;
        int r = strcmp(name, "ignore") == 0  ? filters_add_ignore(f, item, &why)
                : strcmp(name, "paths") == 0 ? filters_add_path(f, item, &why)
                                             : filters_add_glob(f, strcmp(name, "include") == 0, item, &why);
        /* A message of one line: a long item is cut. */
        if (r == -EINVAL)
                return error_set(e, ERR_INVALID_ARGS, "%s '%.64s%s': %s", name, item, strlen(item) > 64 ? "..." : "",
                                 why);
        return r;
}

int job_input_set_causes(Job *j, char *const *names, Error *e) {
        const char *bad = NULL;
        if (causes_parse(names, &j->packages.causes, &bad) < 0)
                return error_set(e, ERR_INVALID_ARGS, "causes: '%.64s' is not a cause (tampered, config, package, unowned)",
                                 bad);
        return 0;
}

int job_input_add_key(Job *j, const char *selector, const void *key, size_t len, Error *e) {
        KeyList *l = selector ? &j->keys : &j->ordered_keys;
        const char *option = selector ? "keys" : "ordered_keys";

        if (selector && (!selector[0] || strlen(selector) > MAX_PATH_LENGTH))
                return error_set(e, ERR_INVALID_ARGS, "a selector of option 'keys' is empty or longer than %d bytes",
                                 MAX_PATH_LENGTH);
        if (l->n >= MAX_KEYS)
                return error_set(e, ERR_INVALID_ARGS, "more than %d keys in option '%s'", MAX_KEYS, option);
        if (key_check(key, len) < 0)
                return error_set(e, ERR_INVALID_ARGS,
                                 "a key of option '%s' is not 1 to %d bytes without a NUL byte (which libguestfs "
                                 "cannot pass)", option, MAX_KEY_LENGTH);
        if (key_list_add(l, selector, key, len) < 0)
                return -ENOMEM;
        j->had_keys = true;
        return 0;
}

int job_input_set_checksum(Job *j, const char *algorithm, Error *e) {
        if (!algorithm || content_checksum_check(algorithm) < 0)
                return error_set(e, ERR_INVALID_ARGS,
                                 "option 'checksum' is not an algorithm (md5, sha1, sha224, sha256, sha384, sha512, crc)");
        char *copy = strdup(algorithm);
        if (!copy)
                return -ENOMEM;
        free(j->content.checksum);
        j->content.checksum = copy;
        return 0;
}

int job_input_set_engine(Job *j, const char *name, Error *e) {
        Engine engine = name ? engine_from_string(name) : _ENGINE_MAX;
        if (engine == _ENGINE_MAX)
                return error_set(e, ERR_INVALID_ARGS, "option 'engine' is not auto, direct or appliance");
        if (engine == ENGINE_DIRECT && j->ctx->no_direct)
                return error_set(e, ERR_INVALID_ARGS, "the direct engine is turned off in this daemon (--no-direct)");
        j->engine = engine;
        return 0;
}

int job_warm(Job *disks, Pool *pool, Store *store, Error *e) {
        JobSide *s = &disks->sides[0];
        uint8_t key[FINGERPRINT_SIZE];
        KeyMemo memo = store_key_memo(store);

        s->disk_keys = calloc(s->n_disks, FINGERPRINT_SIZE);
        if (!s->disk_keys)
                return error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < s->n_disks; i++) {
                s->disks[i].caller = disks->caller;
                if (disk_validate(&s->disks[i], e) < 0 ||
                    disk_identify(&memo, &s->disks[i], NULL, s->disk_keys[i], e) < 0)
                        return error_set(e, ERR_INTERNAL, "%s: cannot identify the image", s->disks[i].path);
        }
        side_identify((const uint8_t(*)[FINGERPRINT_SIZE]) s->disk_keys, s->n_disks, key);
        return pool_warm(pool, s->disks, s->n_disks, key, e);
}

int job_input_check_warm(const Job *disks, Error *e) {
        /* A snapshot is read through a qemu-nbd that lives as long as its
         * job: nothing of it can stay warm. */
        for (size_t i = 0; i < disks->sides[0].n_disks; i++) {
                const Disk *d = &disks->sides[0].disks[i];
                if (d->domain || d->snapshot || d->by_fd)
                        return error_set(e, ERR_INVALID_ARGS,
                                         "Warm takes image files, not libvirt domains, snapshots or file descriptors");
        }
        return job_input_check_side(disks, 0, e);
}

/* Encrypted volumes in a job: the keys a comparison was given, which
 * volume of which side gets which, and what that means for the cache.
 *
 * Keys by selector (--key DEVICE|UUID|all:...) are tried on every volume
 * they name, on both sides, as libguestfs virt-diff applies its one key
 * store to both guests. Ordered keys (--keys-from-stdin) go one to each
 * volume still locked after that, in the order upstream reads them: side
 * A's volumes first, each side's in device order. */
#include "job/job-internal.h"

static bool is_luks(const Filesystem *f) {
        return streq_ptr(f->type, "crypto_LUKS");
}

bool job_keys_cache_usable(const Job *j, const Manifest *m) {
        if (!j->had_keys)
                return true;
        for (size_t i = 0; i < m->n_filesystems; i++)
                if (is_luks(&m->filesystems[i]) && m->filesystems[i].error)
                        return false;
        return true;
}

bool job_keys_cacheable(const Manifest *m) {
        /* What only a key shows stays out of the cache, where anyone who
         * may compare the image would read it without the key. */
        for (size_t i = 0; i < m->n_filesystems; i++)
                if (is_luks(&m->filesystems[i]) && !m->filesystems[i].error)
                        return false;
        return true;
}

void job_keys_side_done(Job *j, int side) {
        if (side != 0)
                return;
        pthread_mutex_lock(&j->keys_lock);
        if (j->keys_taken_by_a < 0) {
                j->keys_taken_by_a = 0;
                pthread_cond_broadcast(&j->keys_cond);
        }
        pthread_mutex_unlock(&j->keys_lock);
}

/* Side A says how many ordered keys it takes; side B waits for that. */
static size_t ordered_offset(Job *j, int side, size_t locked) {
        size_t offset = 0;

        pthread_mutex_lock(&j->keys_lock);
        if (side == 0) {
                j->keys_taken_by_a = (long) (locked < j->ordered_keys.n ? locked : j->ordered_keys.n);
                pthread_cond_broadcast(&j->keys_cond);
        } else {
                while (j->keys_taken_by_a < 0)
                        pthread_cond_wait(&j->keys_cond, &j->keys_lock);
                offset = (size_t) j->keys_taken_by_a;
        }
        pthread_mutex_unlock(&j->keys_lock);
        return offset;
}

int job_keys_unlock(Job *j, int side, Appliance *a, Error *e) {
        _cleanup_strv_free_ char **locked = NULL;

        if (!j->had_keys)
                return 0;
        if (appliance_unlock(a, &j->keys, &locked, e) < 0)
                return -1;
        if (j->ordered_keys.n == 0)
                return 0;

        size_t n = strv_length(locked), offset = ordered_offset(j, side, n);
        KeyList assigned = {};
        int k = 0;
        for (size_t i = 0; i < n && offset + i < j->ordered_keys.n && k >= 0; i++) {
                const Key *key = &j->ordered_keys.keys[offset + i];
                k = key_list_add(&assigned, locked[i], key->bytes, key->len);
        }
        if (k < 0) {
                key_list_done(&assigned);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        strv_free(TAKE_PTR(locked));
        k = assigned.n ? appliance_unlock(a, &assigned, &locked, e) : 0;
        key_list_done(&assigned);
        return k;
}

void job_keys_drop(Job *j) {
        key_list_done(&j->keys);
        key_list_done(&j->ordered_keys);
}

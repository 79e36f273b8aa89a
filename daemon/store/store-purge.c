/* Purging what was scanned from an image's current content: its key from
 * the stat records alone, so that a purge never reads the whole image. */
#include "source/disk-key.h"
#include "source/disk.h"
#include "store/store.h"

/* An image's key from the stat records alone: purging must not cost a
 * full read of the image on the main loop. */
static int known_disk_key(Store *s, const char *path, uint8_t ret[FINGERPRINT_SIZE], Error *e) {
        Disk d = {.path = strdup(path)};
        if (!d.path)
                return error_set(e, ERR_INTERNAL, "out of memory");
        int r = disk_validate(&d, e);
        if (r >= 0) {
                size_t n = 1 + strv_length(d.backing_chain);
                uint8_t(*keys)[FINGERPRINT_SIZE] = calloc(n, FINGERPRINT_SIZE);
                const char **labels = calloc(n, sizeof(char *));
                if (!keys || !labels)
                        r = error_set(e, ERR_INTERNAL, "out of memory");
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        const char *p = i == 0 ? d.path : d.backing_chain[i - 1];
                        FileStat st;
                        labels[i] = i == 0 ? d.format : "backing";
                        if (fingerprint_stat(p, &st) < 0 || store_lookup_stat(s, p, &st, keys[i]) <= 0)
                                r = error_set(e, ERR_NOT_CACHED,
                                              "%s: not in the cache (its current content was never scanned)", p);
                }
                if (r >= 0)
                        fingerprint_combine("disk", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, n, labels, ret);
                free(keys);
                free(labels);
        }
        disk_done(&d);
        return r;
}

int store_purge_image(Store *s, const char *path, uint64_t *ret_removed, Error *e) {
        uint8_t key[FINGERPRINT_SIZE];
        if (!path)
                return store_purge(s, NULL, ret_removed);
        if (path[0] != '/')
                return error_set(e, ERR_INVALID_ARGS, "%s: not an absolute path", path);
        if (known_disk_key(s, path, key, e) < 0)
                return -1;
        return store_purge(s, key, ret_removed);
}

#include "source/disk-key.h"

#include "source/snapshot.h"

/* One file's key: remembered by its stat record, else hashed. */
static int file_key(const KeyMemo *memo, const char *path, const ProgressSink *progress,
                    uint8_t ret[FINGERPRINT_SIZE], Error *e) {
        FileStat st;

        if (memo && memo->lookup && fingerprint_stat(path, &st) >= 0 &&
            memo->lookup(memo->userdata, path, &st, ret) > 0)
                return 0;
        if (fingerprint_file(path, progress, ret, &st, e) < 0)
                return -1;
        /* Forgetting costs only speed next time. */
        if (memo && memo->save)
                (void) memo->save(memo->userdata, path, &st, ret);
        return 0;
}

int disk_identify(const KeyMemo *memo, const Disk *d, const ProgressSink *progress, uint8_t ret[FINGERPRINT_SIZE],
                  Error *e) {
        size_t n = 1 + strv_length(d->backing_chain);
        _cleanup_free_ uint8_t(*keys)[FINGERPRINT_SIZE] = calloc(n, FINGERPRINT_SIZE);
        _cleanup_free_ const char **labels = calloc(n, sizeof(char *));
        _cleanup_free_ char *sized = NULL;
        if (!keys || !labels)
                return error_set(e, ERR_INTERNAL, "out of memory");
        /* Another sector size is another partition table: another key. */
        if (d->blocksize && asprintf(&sized, "%s/%u", d->format, d->blocksize) < 0)
                return error_set(e, ERR_INTERNAL, "out of memory");

        /* The chain is part of the content: a changed backing file changes
         * what the guest sees through the overlay. */
        for (size_t i = 0; i < n; i++) {
                const char *path = i == 0 ? d->path : d->backing_chain[i - 1];
                /* The live file keeps changing under a snapshot that does
                 * not: the snapshot has its own key. */
                /* A passed fd's /proc path means nothing next time: hash it,
                 * remember nothing by its name. */
                if (i == 0 && d->snapshot ? snapshot_key(d, keys[i], e) < 0
                                          : file_key(d->by_fd ? NULL : memo, path, progress, keys[i], e) < 0)
                        return -1;
                labels[i] = i > 0 ? "backing" : d->snapshot ? "qcow2-snapshot" : sized ? sized : d->format;
        }
        fingerprint_combine("disk", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, n, labels, ret);
        return 0;
}

void side_identify(const uint8_t (*disk_keys)[FINGERPRINT_SIZE], size_t n, uint8_t ret[FINGERPRINT_SIZE]) {
        fingerprint_combine("side", disk_keys, n, NULL, ret);
}

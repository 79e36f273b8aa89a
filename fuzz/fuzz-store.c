/* A manifest cache file someone else wrote: the store opens it (renaming
 * it aside when it is not ours or fails its integrity check), lists it and
 * loads every manifest it holds through its row and blob decoders; what
 * loads goes on to the comparer and the writers. Input: the database file. */
#include <fcntl.h>
#include <sys/stat.h>

#include "common/log.h"
#include "fuzz-util.h"
#include "store/store.h"

static char dir[64];

static void clean_dir(void) {
        rm_rf(dir);
        FUZZ_ASSERT(mkdir(dir, 0700) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (!dir[0]) {
                snprintf(dir, sizeof dir, "/tmp/fuzz-store.%d", (int) getpid());
                log_set_quiet(true);
        }
        clean_dir();
        char path[96];
        snprintf(path, sizeof path, "%s/m.sqlite", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FUZZ_ASSERT(fd >= 0);
        FUZZ_ASSERT(write(fd, data, size) == (ssize_t) size);
        (void) close(fd);

        Store *s = NULL;
        Error e = {0};
        if (store_open(path, 1 << 20, &s, &e) < 0)
                return 0;
        StoreItem *items = NULL;
        size_t n = 0;
        if (store_list(s, &items, &n) >= 0) {
                Manifest *prev = NULL;
                for (size_t i = 0; i < n && i < 8; i++) {
                        Manifest *m = NULL;
                        e = (Error){0};
                        if (store_load_manifest(s, items[i].key, &m, &e) > 0) {
                                FUZZ_ASSERT(m);
                                fuzz_diff_and_render(prev ? prev : m, m);
                                manifest_free(prev);
                                prev = m;
                        }
                }
                manifest_free(prev);
                store_items_free(items, n);
        }
        bool ok;
        char *msg = NULL;
        (void) store_verify(s, &ok, &msg);
        free(msg);
        store_close(s);
        return 0;
}

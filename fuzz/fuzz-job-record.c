/* A job record kept aside in the runtime directory while the store
 * refused it (daemon/job/job-pending.c), read back by the next daemon:
 * whatever the file holds, it is refused (-EBADMSG), left to another
 * store's daemon (0), or read into a row whose numbers are in range. */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz-util.h"
#include "job/job-pending.h"

#define STORE "/var/cache/virt-diffd/cache.sqlite"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char dir[] = "/tmp/fuzz-job-record.XXXXXX";
        static bool made;
        if (!made) {
                FUZZ_ASSERT(mkdtemp(dir));
                made = true;
        }
        char path[sizeof dir + 16];
        snprintf(path, sizeof path, "%s/7", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FUZZ_ASSERT(fd >= 0);
        FUZZ_ASSERT(write(fd, data, size) == (ssize_t) size);
        close(fd);

        StoreJob row = {0};
        int r = job_pending_read(dir, STORE, 7, &row);
        FUZZ_ASSERT(r == 1 || r == 0 || r == -EBADMSG || r == -ENOMEM);
        if (r == 1) {
                FUZZ_ASSERT(row.id == 7 && row.daemon);
                FUZZ_ASSERT(row.state < _JOB_STATE_MAX && row.error < _ERR_MAX);
                FUZZ_ASSERT(row.owner_uid >= -1 && row.owner_uid <= (int64_t) UINT32_MAX);
                /* What the daemon would write of it again is read the same. */
                FUZZ_ASSERT(job_pending_write(dir, STORE, &row) == 0);
                StoreJob again = {0};
                FUZZ_ASSERT(job_pending_read(dir, STORE, 7, &again) == 1);
                FUZZ_ASSERT(again.state == row.state && again.error == row.error && again.kind == row.kind &&
                            again.created_usec == row.created_usec && again.owner_uid == row.owner_uid &&
                            again.detached == row.detached);
                store_job_done(&again);
        }
        store_job_done(&row);
        return 0;
}

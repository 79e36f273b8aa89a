/* The client's reading of a job's change stream (client/change-stream.c):
 * any bytes, cut anywhere, give a named refusal or lines printed, and
 * never a crash; a stream that prints has a head. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "change-stream.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const OutputOptions options[] = {
                {.format = OUTPUT_TEXT, .long_listing = true, .uids = true, .times = true, .xattrs = true},
                {.format = OUTPUT_CSV},
                {.format = OUTPUT_NDJSON},
                {.format = OUTPUT_SUMMARY},
        };
        const OutputOptions *o = &options[size ? data[0] % ELEMENTSOF(options) : 0];
        int w = memfd_create("fuzz-changes", MFD_CLOEXEC);
        FUZZ_ASSERT(w >= 0);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", w);
        ChangeStream cs = {.fd = open(path, O_RDONLY | O_CLOEXEC), .prog = "fuzz"};
        FUZZ_ASSERT(cs.fd >= 0);
        FILE *out = fopen("/dev/null", "we");
        FUZZ_ASSERT(out);
        /* In two writes, read after each: a line cut where the input says. */
        size_t cut = size > 1 ? data[1] * size / 256 : size;
        int r = 0;
        for (int part = 0; part < 2 && r >= 0; part++) {
                size_t off = part ? cut : 0, n = part ? size - cut : cut;
                FUZZ_ASSERT(write(w, data + off, n) == (ssize_t) n);
                r = change_stream_read(&cs, out, o);
                FUZZ_ASSERT(r >= 0 || r == -EBADMSG || r == -ENOMEM);
        }
        if (cs.printing)
                FUZZ_ASSERT(cs.head != NULL);
        if (r >= 0 && cs.ended && cs.printing)
                (void) output_stream_end(out, cs.head, o);
        fclose(out);
        change_stream_done(&cs);
        close(w);
        return 0;
}

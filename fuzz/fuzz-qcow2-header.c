/* The qcow2 header of an untrusted image, read before qemu opens it. */
#include "fuzz-util.h"
#include "source/qcow2-header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Qcow2Header h;
        const char *why = NULL;

        if (qcow2_header_parse(data, size, &h, &why) < 0) {
                FUZZ_ASSERT(why);
                return 0;
        }
        /* What is accepted names exactly what qemu would open. */
        FUZZ_ASSERT(!h.has_backing || (strlen(h.backing) > 0 && strlen(h.backing) <= QCOW2_BACKING_NAME_MAX));
        FUZZ_ASSERT(!h.has_backing_format || strlen(h.backing_format) <= QCOW2_BACKING_FORMAT_MAX);
        FUZZ_ASSERT(h.version == 2 || h.version == 3);
        return 0;
}

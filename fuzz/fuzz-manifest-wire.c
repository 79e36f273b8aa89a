/* The worker's manifest as the daemon decodes it: a worker reads guest
 * data, so these bytes are hostile. A decoded manifest must also survive
 * everything the daemon does next: encode again, compare, render as JSON. */
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Manifest *m = NULL;
        Error e = {0};

        if (manifest_decode(data, size, &m, &e) < 0) {
                FUZZ_ASSERT(!m && e.code != ERR_OK);
                return 0;
        }
        /* What decodes, encodes to the same bytes' meaning: decode again. */
        WireBuf b = {0};
        manifest_encode(m, &b);
        FUZZ_ASSERT(!b.failed);
        Manifest *again = NULL;
        FUZZ_ASSERT(manifest_decode(b.data, b.len, &again, &e) == 0);
        wire_buf_done(&b);
        fuzz_diff_and_render(m, again);
        manifest_free(again);
        /* Every entry and filesystem added, then removed: all of the
         * hostile names reach every writer. */
        Manifest *empty = manifest_new();
        FUZZ_ASSERT(empty);
        fuzz_diff_and_render(empty, m);
        fuzz_diff_and_render(m, empty);
        manifest_free(empty);
        manifest_free(m);
        return 0;
}

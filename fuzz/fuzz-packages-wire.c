/* A package set as the worker sends it and the store keeps it: decoded,
 * then diffed and explained against itself and an empty side, as the
 * comparer would. */
#include "fuzz-util.h"
#include "packages/explain.h"
#include "packages/packages-wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        PackageSet *ps = NULL;
        Error e = {0};

        if (package_set_decode(data, size, &ps, &e) < 0) {
                FUZZ_ASSERT(e.code == ERR_SCAN_FAILED || e.code == ERR_INTERNAL);
                return 0;
        }
        for (size_t i = 0; i < ps->n_files; i++) {
                FUZZ_ASSERT(ps->files[i].package < ps->n_packages);
                FUZZ_ASSERT(i == 0 || path_compare(ps->files[i - 1].path, ps->files[i].path) <= 0);
        }
        /* Re-encoding gives the same bytes. */
        WireBuf b = {0};
        package_set_encode(ps, &b);
        FUZZ_ASSERT(!b.failed && b.len == size && memcmp(b.data, data, size) == 0);
        wire_buf_done(&b);

        PackageDiff *same = NULL, *gone = NULL;
        FUZZ_ASSERT(package_diff(ps, ps, &same) == 0 && package_diff(ps, NULL, &gone) == 0);
        FUZZ_ASSERT(!same->usable || same->n_changes == 0);
        FUZZ_ASSERT(!gone->usable || gone->counts[PACKAGE_REMOVED] == ps->n_packages);
        for (size_t i = 0; i < ps->n_files && i < 64; i++) {
                Entry en = {.path = ps->files[i].path, .kind = ENTRY_KIND_FILE, .has_sha256 = true};
                Explanation x;
                const char *names[8];
                package_explain(same, en.path, &en, &en, &x);
                FUZZ_ASSERT(!x.known || (unsigned) x.cause < _CAUSE_MAX);
                FUZZ_ASSERT(explanation_owners(same, &x, names, 8) <= x.n_owned_a + x.n_owned_b);
                package_explain(gone, en.path, &en, NULL, &x);
                FUZZ_ASSERT(!x.known || x.cause == CAUSE_PACKAGE || x.cause == CAUSE_TAMPERED ||
                            x.cause == CAUSE_CONFIG || x.cause == CAUSE_UNOWNED);
        }
        package_diff_free(same);
        package_diff_free(gone);
        package_set_free(ps);
        return 0;
}

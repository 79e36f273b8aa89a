/* The validators a Compare's options a{sv} goes through. parse_options()
 * itself reads an sd_bus_message, which cannot be built without a bus
 * connection: these are the functions it calls on each value. Input: a
 * selector byte, then NUL-separated items. */
#include "common/filters.h"
#include "compare/content-diff.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Filters f = {0};
        const char *why;

        if (size < 1)
                return 0;
        char *copy = malloc(size); /* data[1..] plus a final NUL */
        FUZZ_ASSERT(copy);
        memcpy(copy, data + 1, size - 1);
        copy[size - 1] = 0;

        for (char *item = copy; item < copy + size; item += strlen(item) + 1) {
                int r;
                why = NULL;
                switch (data[0] % 5) {
                case 0:
                        r = filters_add_ignore(&f, item, &why);
                        break;
                case 1:
                        r = filters_add_path(&f, item, &why);
                        break;
                case 2:
                case 3:
                        r = filters_add_glob(&f, data[0] % 5 == 2, item, &why);
                        break;
                default:
                        r = content_checksum_check(item);
                        break;
                }
                FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM);
                FUZZ_ASSERT(r != -EINVAL || data[0] % 5 == 4 || why);
        }
        /* What was accepted is used: the filters decide on each item. */
        (void) filters_empty(&f);
        for (char *item = copy; item < copy + size; item += strlen(item) + 1) {
                (void) filters_keep_path(&f, item);
                (void) filters_keep_xattr(&f, item);
        }
        filters_done(&f);
        free(copy);
        return 0;
}

/* The validators a Compare's options a{sv} goes through. parse_options()
 * itself reads an sd_bus_message, which cannot be built without a bus
 * connection: these are the functions it calls on each value (filters,
 * checksum, keys). Input: a selector byte, then NUL-separated items; the
 * whole input is also a worker's list of locked devices. */
#include "common/filters.h"
#include "common/keys.h"
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
                switch (data[0] % 6) {
                case 0:
                        r = filters_add_ignore(&f, item, &why);
                        break;
                case 1:
                        r = filters_add_path(&f, item, &why);
                        break;
                case 2:
                case 3:
                        r = filters_add_glob(&f, data[0] % 6 == 2, item, &why);
                        break;
                case 5:
                        /* A key; with its trailing NUL, never one. */
                        r = key_check(item, strlen(item));
                        FUZZ_ASSERT(key_check(item, strlen(item) + 1) == -EINVAL);
                        break;
                default:
                        r = content_checksum_check(item);
                        break;
                }
                FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM);
                FUZZ_ASSERT(r != -EINVAL || data[0] % 6 >= 4 || why);
        }
        /* What was accepted is used: the filters decide on each item. */
        (void) filters_empty(&f);
        for (char *item = copy; item < copy + size; item += strlen(item) + 1) {
                (void) filters_keep_path(&f, item);
                (void) filters_keep_xattr(&f, item);
        }
        filters_done(&f);
        free(copy);

        /* The worker's list of locked devices, from the same bytes. */
        char **devices = NULL;
        int r = key_device_list_decode((const char *) data, size, &devices);
        FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -ENOMEM);
        for (size_t i = 0; r == 0 && devices[i]; i++)
                FUZZ_ASSERT(devices[i][0]);
        strv_free(devices);
        return 0;
}

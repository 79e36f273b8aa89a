#include "worker/devices.h"

#include "worker/scanner.h"

int block_devices(guestfs_h *g, char ***ret, Error *e) {
        _cleanup_strv_free_ char **devices = guestfs_list_devices(g);
        _cleanup_strv_free_ char **partitions = guestfs_list_partitions(g);
        _cleanup_strv_free_ char **md = guestfs_list_md_devices(g);
        _cleanup_strv_free_ char **lvs = guestfs_lvs(g);
        _cleanup_strv_free_ char **all = NULL;
        size_t n = 0;

        if (!devices || !partitions || !md || !lvs)
                return error_set(e, ERR_INSPECTION_FAILED, "cannot list block devices: %s", guest_error(g));
        for (char **d = devices; *d; d++) {
                bool partitioned = false;
                size_t l = strlen(*d);
                for (char **p = partitions; *p && !partitioned; p++)
                        partitioned = strncmp(*p, *d, l) == 0 && (*p)[l] >= '0' && (*p)[l] <= '9';
                if (!partitioned && strv_extend(&all, &n, *d) < 0)
                        return error_set(e, ERR_INTERNAL, "out of memory");
        }
        char **lists[] = {partitions, md, lvs};
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                for (char **d = lists[i]; *d; d++)
                        if (strv_extend(&all, &n, *d) < 0)
                                return error_set(e, ERR_INTERNAL, "out of memory");
        if (!all && !(all = calloc(1, sizeof(char *))))
                return error_set(e, ERR_INTERNAL, "out of memory");
        *ret = TAKE_PTR(all);
        return 0;
}

const char *blkid_get(char **h, const char *key) {
        for (size_t i = 0; h && h[i] && h[i + 1]; i += 2)
                if (strcmp(h[i], key) == 0)
                        return h[i + 1];
        return NULL;
}

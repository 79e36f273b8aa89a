#include "worker/luks.h"

#include "worker/devices.h"
#include "worker/scanner.h"

/* Adds the LUKS volumes not known yet: after LVM volumes inside opened
 * ones are activated, there may be more. */
static int luks_list(guestfs_h *g, Luks *l, Error *e) {
        _cleanup_strv_free_ char **devices = NULL;

        if (block_devices(g, &devices, e) < 0)
                return -1;
        for (char **d = devices; *d; d++) {
                if (luks_find(l, *d))
                        continue;
                _cleanup_strv_free_ char **h = guestfs_blkid(g, *d);
                if (!streq_ptr(blkid_get(h, "TYPE"), "crypto_LUKS"))
                        continue;
                LuksVolume *v = realloc(l->volumes, (l->n + 1) * sizeof(LuksVolume));
                if (!v)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                l->volumes = v;
                v += l->n;
                const char *uuid = blkid_get(h, "UUID");
                *v = (LuksVolume){.device = strdup(*d), .uuid = uuid && uuid[0] ? strdup(uuid) : NULL};
                if (!v->device) {
                        free(v->uuid);
                        return error_set(e, ERR_INTERNAL, "out of memory");
                }
                l->n++;
        }
        l->listed = true;
        return 0;
}

/* "luks-sda2" for /dev/sda2, "luks-VG-LV" for /dev/VG/LV: the same on
 * both sides when their disks are laid out alike, so their filesystems
 * pair. */
static char *mapper_name(const char *device) {
        const char *p = strncmp(device, "/dev/", 5) == 0 ? device + 5 : device;
        char *name = NULL;
        if (asprintf(&name, "luks-%s", p) < 0)
                return NULL;
        for (char *c = name; *c; c++)
                if (*c == '/')
                        *c = '-';
        return name;
}

/* One attempt; the key's bytes are a C string here (the bus refuses NUL
 * bytes). Tracing is off meanwhile: libguestfs would print the key. */
static bool try_key(guestfs_h *g, LuksVolume *v, const Key *k) {
        _cleanup_free_ char *name = mapper_name(v->device);
        _cleanup_free_ char *key = malloc(k->len + 1);
        int trace = guestfs_get_trace(g);
        int r = -1;

        if (name && key) {
                memcpy(key, k->bytes, k->len);
                key[k->len] = 0;
                (void) guestfs_set_trace(g, 0);
                r = guestfs_cryptsetup_open(g, v->device, key, name, GUESTFS_CRYPTSETUP_OPEN_READONLY, 1, -1);
                (void) guestfs_set_trace(g, trace);
                explicit_bzero(key, k->len);
        }
        v->tried = true;
        if (r < 0)
                return false;
        if (asprintf(&v->mapper, "/dev/mapper/%s", name) < 0)
                v->mapper = NULL;
        return v->mapper != NULL;
}

int luks_unlock(guestfs_h *g, Luks *l, const KeyList *keys, Error *e) {
        bool opened = false;

        if (luks_list(g, l, e) < 0)
                return -1;
        for (size_t i = 0; i < l->n; i++)
                for (size_t k = 0; k < keys->n && !l->volumes[i].mapper; k++)
                        if (key_selector_matches(keys->keys[k].selector, l->volumes[i].device, l->volumes[i].uuid))
                                opened |= try_key(g, &l->volumes[i], &keys->keys[k]);
        /* LVM inside what was opened (LVM on LUKS, the usual encrypted
         * install): its volume groups become visible and active. */
        if (opened && guestfs_lvm_scan(g, 1) < 0)
                return error_set(e, ERR_INSPECTION_FAILED, "cannot activate LVM in the opened volumes: %s",
                                 guest_error(g));
        return 0;
}

char **luks_locked(const Luks *l) {
        char **r = calloc(l->n + 1, sizeof(char *));
        size_t n = 0;

        if (!r)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                if (!l->volumes[i].mapper && !(r[n++] = strdup(l->volumes[i].device))) {
                        strv_free(r);
                        return NULL;
                }
        return r;
}

const LuksVolume *luks_find(const Luks *l, const char *device) {
        for (size_t i = 0; i < l->n; i++)
                if (streq_ptr(l->volumes[i].device, device))
                        return &l->volumes[i];
        return NULL;
}

const char *luks_locked_reason(const LuksVolume *v) {
        if (v && v->tried)
                return "encrypted (LUKS): none of the keys given opens it";
        return "encrypted (LUKS): no key given for it (--key DEVICE:key:PASSPHRASE, --key all:file:FILE "
               "or --keys-from-stdin)";
}

void luks_done(Luks *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->volumes[i].device);
                free(l->volumes[i].uuid);
                free(l->volumes[i].mapper);
        }
        free(l->volumes);
        *l = (Luks){};
}

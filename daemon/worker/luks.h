/* Encrypted (LUKS) volumes of the appliance's disks: found with blkid,
 * opened read-only with the keys whose selector names them, and their
 * contents (a filesystem, or LVM volumes, which are then activated) left
 * for the scanner. A volume no key opens stays locked: the scanner reports
 * it as a filesystem that could not be read. */
#pragma once

#include <guestfs.h>

#include "common/errors.h"
#include "common/keys.h"

typedef struct LuksVolume {
        char *device; /* as libguestfs names it: /dev/sda2, /dev/VG/LV */
        char *uuid;   /* the LUKS header's, or NULL */
        char *mapper; /* /dev/mapper/NAME once opened, else NULL */
        bool tried;   /* some key was tried on it */
} LuksVolume;

typedef struct Luks {
        LuksVolume *volumes;
        size_t n;
        bool listed;
} Luks;

/* Lists the LUKS volumes (once) and opens those still locked with each key
 * whose selector matches, first match first; activates LVM volumes found
 * inside. Keys are never traced. */
int luks_unlock(guestfs_h *g, Luks *l, const KeyList *keys, Error *e);

/* The devices still locked, in the order they were found (NULL-terminated;
 * NULL on out of memory). */
char **luks_locked(const Luks *l);

/* The volume of DEVICE, or NULL. */
const LuksVolume *luks_find(const Luks *l, const char *device);

/* Why a locked volume could not be read, for its filesystem's error. */
const char *luks_locked_reason(const LuksVolume *v);

void luks_done(Luks *l);

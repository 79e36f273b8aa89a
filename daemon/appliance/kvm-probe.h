/* Decides once per daemon whether hardware virtualisation works. /dev/kvm
 * can exist while qemu aborts or hangs under it (nested guests), and then
 * every appliance must use TCG instead. */
#pragma once

#include "common/util.h"

typedef enum Accelerator {
        ACCELERATOR_UNKNOWN,
        ACCELERATOR_KVM,
        ACCELERATOR_TCG,
} Accelerator;

const char *accelerator_to_string(Accelerator a);

/* Probes on the first call (time-boxed), remembers the answer and logs it
 * once; thread-safe. LIBGUESTFS_BACKEND_SETTINGS=force_tcg or force_kvm
 * set by the user is obeyed without probing. */
Accelerator kvm_probe_get(void);

/* The answer so far, without probing. */
Accelerator kvm_probe_peek(void);

/* The appliance: one libguestfs handle, launched read-only on the disks of
 * one side, with the accelerator the KVM probe chose. */
#pragma once

#include <guestfs.h>
#include <sys/types.h>

#include "errors.h"
#include "image-source.h"

typedef struct Appliance {
        guestfs_h *g;
        char *tmpdir;   /* private: its path is in qemu's command line */
        pid_t qemu_pid; /* 0 until launched; read by other threads to cancel */
        bool killed;    /* appliance_kill() ran: no polite shutdown left to do */
} Appliance;

/* Creates a handle with the disks added, ready to launch. */
int appliance_new(const Disk *disks, size_t n_disks, Appliance **ret, Error *e);
int appliance_launch(Appliance *a, Error *e);
/* The memory (MiB) libguestfs gives an appliance by default. */
uint64_t appliance_default_memsize_mb(void);
/* Is the appliance's qemu still running (not exited, not a zombie)? */
bool appliance_alive(Appliance *a);
/* The qemu's CPU time in clock ticks and whether it is stopped (SIGSTOP,
 * traced); -1 when it is not running. */
int appliance_cpu(Appliance *a, uint64_t *ret_ticks, bool *ret_stopped);
/* Launches attempted since the daemon started (tests count them). */
uint64_t appliance_launch_count(void);
Appliance *appliance_free(Appliance *a);
static inline void appliance_freep(Appliance **a) {
        appliance_free(*a);
}
#define _cleanup_appliance_ _cleanup_(appliance_freep)

/* Kills the appliance's qemu so that a long call in another thread returns
 * at once with an error, even during the launch. Safe from any thread. */
void appliance_kill(Appliance *a);

/* The handle's last error, for messages. */
const char *appliance_last_error(guestfs_h *g);

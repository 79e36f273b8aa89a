/* The daemon's own temporary directory, $TMPDIR/virt-diffd.PID.TICKS.BOOT
 * (0700): qemu-nbd's sockets and the appliances' overlays go under it. A
 * daemon that stops removes it; one killed cannot, and the next daemon
 * removes the directories of those that are gone (its name says whose it
 * is: no other process will ever have that pid, start time and boot). */
#pragma once

/* The directory, made on first use; NULL (errno set) when it cannot be.
 * Thread-safe. */
const char *run_dir(void);
/* Removes this process's directory, if it made one. */
void run_dir_remove(void);
/* Removes, under parent ($TMPDIR or /tmp when NULL), the directories of
 * daemons that have ended. How many it removed. */
unsigned run_dir_sweep(const char *parent);

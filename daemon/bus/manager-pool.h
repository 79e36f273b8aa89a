/* The pool side of the Manager: Warm() and ListPool(), the timer that
 * closes idle or changed appliances, and the daemon's status for systemd. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef struct Manager Manager;
typedef struct WarmRequest WarmRequest;

int method_warm(sd_bus_message *msg, void *userdata, sd_bus_error *err);
int method_list_pool(sd_bus_message *msg, void *userdata, sd_bus_error *err);

/* Creates the pool with the manager's limits. */
int manager_pool_setup(Manager *m);
/* Main thread, on every wake: answers finished Warm calls, arms the
 * expiry timer, updates the idle timer and the status line. */
void manager_pool_dispatch(Manager *m);
/* Kills every appliance, waits for the Warm threads, frees the pool. */
void manager_pool_done(Manager *m);
/* Are Warm calls still launching? */
bool manager_pool_busy(Manager *m);

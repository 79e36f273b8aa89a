/* polkit on the system bus: the actions a caller needs, asked of
 * org.freedesktop.PolicyKit1 without blocking the event loop. The session
 * bus and a peer connection never ask: there the daemon runs as its
 * caller. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#define POLKIT_ACTION_COMPARE_PATH "org.virtdiff.VirtDiff1.compare-path"
#define POLKIT_ACTION_CANCEL_OTHER "org.virtdiff.VirtDiff1.cancel-other"
#define POLKIT_ACTION_MANAGE_CACHE "org.virtdiff.VirtDiff1.manage-cache"

/* polkit is asked on the system bus only. */
typedef struct Polkit {
        sd_bus *bus;
        bool enabled;
} Polkit;

/* How a handler finds its userdata again once polkit has answered, when
 * the object the call was for may be gone by then: returns it, or NULL
 * (the call is answered NoSuchJob). NULL find: userdata is find_data. */
typedef void *(*PolkitFind)(sd_bus_message *call, void *find_data);

/* Called at the top of a method handler. Returns 1 when the caller may go
 * on (no polkit on this bus, or polkit said yes and this is the handler
 * running again); 0 when the question is on its way: the handler returns
 * 1 and runs again with the same message once polkit has said yes (a no
 * is answered with AccessDenied); <0 on failure. */
int polkit_check(const Polkit *pk, sd_bus_message *call, const char *action, PolkitFind find, void *find_data,
                 sd_bus_message_handler_t handler, sd_bus_error *err);

/* The effective uid of a call's sender, or -errno. */
int polkit_sender_uid(sd_bus_message *call, uid_t *ret);

/* Reaching a daemon: on a bus, or a private one over a socketpair that
 * speaks the same protocol. */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "options.h"

typedef struct Connection {
        sd_bus *bus;
        bool peer;
        pid_t daemon_pid;        /* private daemon, or 0 */
        const char *destination; /* bus name, NULL on a peer connection */
} Connection;

int connection_open_bus(Connection *c, ConnectMode mode);
int connection_open_peer(Connection *c, bool verbose, bool trace);
/* The bus daemon when one answers, else (in CONNECT_AUTO) a private one. */
int connection_open_auto(Connection *c, ConnectMode mode, bool verbose, bool trace);
void connection_close(Connection *c);
/* connection_open_bus() (bus_only) or connection_open_auto(); on failure
 * says "PROG: cannot reach virt-diffd..." on stderr. */
int connection_open_or_say(Connection *c, ConnectMode mode, bool bus_only, const char *prog);

/* --session, --system and --private of the commands besides diff: their
 * getopt entries, and the mode each sets (false for another option). */
enum { CONNECT_ARG_SESSION = 0x180, CONNECT_ARG_SYSTEM, CONNECT_ARG_PRIVATE };
#define CONNECT_LONG_OPTIONS                                                  \
        {"session", no_argument, NULL, CONNECT_ARG_SESSION},                  \
        {"system", no_argument, NULL, CONNECT_ARG_SYSTEM},                    \
        {"private", no_argument, NULL, CONNECT_ARG_PRIVATE}
bool connection_mode_option(int c, ConnectMode *mode);

/* True for the errors that mean "no daemon can be reached on this bus". */
bool connection_error_is_unreachable(const sd_bus_error *e);

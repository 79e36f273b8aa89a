#include "snapshots.h"

#include <getopt.h>
#include <time.h>

#include "common/names.h"
#include "connect.h"


static void snapshots_help(const char *prog) {
        printf("Usage: %s [-c URI] [--session|--system|--private] DOMAIN\n\n"
               "Lists the snapshots of a libvirt domain, oldest first: name, creation time,\n"
               "the domain's state when taken, internal or external, parent, and '*' for\n"
               "the current one.\n\n"
               "  -c, --connect URI  Libvirt URI (default: libvirt's)\n"
               "  -h, --help         Show this help\n"
               "Exit status: 0 success, 2 trouble.\n",
               prog);
}

static int list(Connection *c, const char *uri, const char *domain, sd_bus_error *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(c->bus, c->destination, VD_OBJECT_PATH, VD_MANAGER_INTERFACE, "ListSnapshots",
                                   err, &reply, "ss", uri ? uri : "", domain);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sxsssb)");
        if (r < 0)
                return r;
        printf("%-20s %-19s %-13s %-8s %-20s %s\n", "NAME", "CREATED", "STATE", "LOCATION", "PARENT", "CURRENT");
        const char *name, *state, *location, *parent;
        int64_t created;
        int current;
        while ((r = sd_bus_message_read(reply, "(sxsssb)", &name, &created, &state, &location, &parent,
                                        &current)) > 0) {
                char when[32];
                time_t t = (time_t) created;
                struct tm tm;
                if (!localtime_r(&t, &tm) || strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                        snprintf(when, sizeof when, "-");
                printf("%-20s %-19s %-13s %-8s %-20s %s\n", name, when, state[0] ? state : "-", location,
                       parent[0] ? parent : "-", current ? "*" : "");
        }
        return r;
}

int snapshots_command(const char *prog, int argc, char *argv[]) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"connect", required_argument, NULL, 'c'},
                CONNECT_LONG_OPTIONS,
                {},
        };
        ConnectMode mode = CONNECT_AUTO;
        const char *uri = NULL;
        int c;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+:hc:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        snapshots_help(prog);
                        return 0;
                case 'c':
                        uri = optarg;
                        break;
                case ':':
                        fprintf(stderr, "%s: option '%s' needs an argument (try --help)\n", prog, argv[optind - 1]);
                        return 2;
                default:
                        if (connection_mode_option(c, &mode))
                                break;
                        fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, argv[optind - 1]);
                        return 2;
                }
        if (argc - optind != 1) {
                fprintf(stderr, "%s: expected one DOMAIN (try --help)\n", prog);
                return 2;
        }

        Connection conn;
        int r = connection_open_or_say(&conn, mode, false, prog);
        if (r < 0)
                return 2;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        r = list(&conn, uri, argv[optind], &err);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", prog, sd_bus_error_is_set(&err) ? err.message : strerror(-r));
        sd_bus_error_free(&err);
        connection_close(&conn);
        return r < 0 ? 2 : 0;
}

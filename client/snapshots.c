#include "snapshots.h"

#include <getopt.h>
#include <time.h>

#include "command.h"
#include "common/names.h"


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

static bool snapshots_option(int c, const char *arg, void *userdata) {
        if (c != 'c')
                return false;
        *(const char **) userdata = arg;
        return true;
}

static const char *check_domain(char **operands _unused_, int n) {
        return n != 1 ? "expected one DOMAIN" : NULL;
}

static int snapshots_run(Connection *c, char **operands, int n _unused_, void *userdata, sd_bus_error *err) {
        return list(c, *(const char **) userdata, operands[0], err);
}

int snapshots_command(const char *prog, int argc, char *argv[]) {
        static const struct option options[] = {
                {"connect", required_argument, NULL, 'c'},
                {},
        };
        static const Command cmd = {
                .usage = "[-c URI] [--session|--system|--private] DOMAIN",
                .help = "\nLists the snapshots of a libvirt domain, oldest first: name, creation time,\n"
                        "the domain's state when taken, internal or external, parent, and '*' for\n"
                        "the current one.\n\n"
                        "  -c, --connect URI  Libvirt URI (default: libvirt's)\n"
                        "  -h, --help         Show this help\n"
                        "Exit status: 0 success, 2 trouble.\n",
                .options = options,
                .short_options = "c:",
                .option = snapshots_option,
                .min_operands = 1,
                .max_operands = -1,
                .operands_error = "expected one DOMAIN",
                .check_operands = check_domain,
                .run = snapshots_run,
        };
        const char *uri = NULL;
        return command_run(&cmd, prog, argc, argv, &uri);
}

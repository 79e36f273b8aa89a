#include "warm.h"

#include <getopt.h>
#include <time.h>

#include "command.h"
#include "common/names.h"

#define WARM_TIMEOUT_USEC (600ULL * 1000000ULL)

static int warm_run(Connection *conn, char **images, int n, void *userdata _unused_, sd_bus_error *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r = sd_bus_message_new_method_call(conn->bus, &m, conn->destination, VD_OBJECT_PATH,
                                               VD_MANAGER_INTERFACE, "Warm");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "a{sv}");
        for (int i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *abs = command_absolute_path(images[i]);
                r = abs ? sd_bus_message_append(m, "a{sv}", 1, "path", "s", abs) : -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(conn->bus, m, WARM_TIMEOUT_USEC, err, &reply);
        int was_warm = 0;
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &was_warm);
        if (r < 0)
                return r;
        printf("%s: %s\n", images[0], was_warm ? "was warm already" : "warm");
        return 0;
}

int warm_command(const char *prog, int argc, char *argv[]) {
        static const Command cmd = {
                .usage = "[--session|--system] IMAGE...",
                .help = "\nLaunches an appliance on one guest's disks ahead of a diff and keeps it\n"
                        "warm in the daemon's pool; returns once it is up.\n",
                .min_operands = 1,
                .max_operands = -1,
                .operands_error = "expected at least one image",
                .bus_only = true,
                .run = warm_run,
        };
        return command_run(&cmd, prog, argc, argv, NULL);
}

static void format_time(uint64_t usec, char buf[static 32]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, 32, "%H:%M:%S", &tm) == 0)
                snprintf(buf, 32, "-");
}

static int pool_run(Connection *conn, char **operands _unused_, int n _unused_, void *userdata _unused_,
                    sd_bus_error *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(conn->bus, conn->destination, VD_OBJECT_PATH, VD_MANAGER_INTERFACE, "ListPool",
                                   err, &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(assbtttt)");
        if (r >= 0)
                printf("%-6s %-16s %7s %8s %8s %4s %s\n", "STATE", "KEY", "MEMORY", "LAUNCHED", "USED", "USES",
                       "IMAGES");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "assbtttt")) > 0) {
                _cleanup_strv_free_ char **paths = NULL;
                const char *key;
                int busy;
                uint64_t memory, created, used, uses;
                char c[32], u[32];
                r = sd_bus_message_read_strv(reply, &paths);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "sbtttt", &key, &busy, &memory, &created, &used, &uses);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        break;
                format_time(created, c);
                format_time(used, u);
                printf("%-6s %-16.16s %6" PRIu64 "M %8s %8s %4" PRIu64, busy ? "busy" : "warm", key, memory >> 20, c,
                       u, uses);
                for (char **p = paths; p && *p; p++)
                        printf("%s%s", p == paths ? " " : ", ", *p);
                putchar('\n');
        }
        return r < 0 ? r : 0;
}

int pool_command(const char *prog, int argc, char *argv[]) {
        static const Command cmd = {
                .usage = "[--session|--system]",
                .help = "\nLists the daemon's launched appliances, least recently used first.\n",
                .max_operands = 0,
                .bus_only = true,
                .run = pool_run,
        };
        return command_run(&cmd, prog, argc, argv, NULL);
}

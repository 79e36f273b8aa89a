#include "warm.h"

#include <getopt.h>
#include <time.h>

#include "common/names.h"
#include "connect.h"

#define WARM_TIMEOUT_USEC (600ULL * 1000000ULL)

static void warm_help(const char *prog) {
        printf("Usage: %s [--session|--system] IMAGE...\n\n"
               "Launches an appliance on one guest's disks ahead of a diff and keeps it\n"
               "warm in the daemon's pool; returns once it is up.\n",
               prog);
}

static void pool_help(const char *prog) {
        printf("Usage: %s [--session|--system]\n\n"
               "Lists the daemon's launched appliances, least recently used first.\n",
               prog);
}

/* --session, --system and -h; returns the index of the first operand, or
 * -1 after help (0) or an error (2) in *ret_status. */
static int parse_common(const char *prog, int argc, char *argv[], void (*help)(const char *), ConnectMode *mode,
                        int *ret_status) {
        enum { ARG_SESSION = 0x100, ARG_SYSTEM };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"session", no_argument, NULL, ARG_SESSION},
                {"system", no_argument, NULL, ARG_SYSTEM},
                {},
        };
        int c;
        *mode = CONNECT_SESSION;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help(prog);
                        *ret_status = 0;
                        return -1;
                case ARG_SESSION:
                        *mode = CONNECT_SESSION;
                        break;
                case ARG_SYSTEM:
                        *mode = CONNECT_SYSTEM;
                        break;
                default:
                        fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, argv[optind - 1]);
                        *ret_status = 2;
                        return -1;
                }
        return optind;
}

int warm_command(const char *prog, int argc, char *argv[]) {
        ConnectMode mode;
        int status = 2, first = parse_common(prog, argc, argv, warm_help, &mode, &status);
        if (first < 0)
                return status;
        if (first >= argc) {
                fprintf(stderr, "%s: expected at least one image (try --help)\n", prog);
                return 2;
        }

        Connection conn;
        int r = connection_open_or_say(&conn, mode, true, prog);
        if (r < 0)
                return 2;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        r = sd_bus_message_new_method_call(conn.bus, &m, conn.destination, VD_OBJECT_PATH, VD_MANAGER_INTERFACE,
                                           "Warm");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "a{sv}");
        for (int i = first; r >= 0 && i < argc; i++) {
                _cleanup_free_ char *cwd = argv[i][0] == '/' ? NULL : getcwd(NULL, 0);
                _cleanup_free_ char *abs = cwd ? path_join(cwd, argv[i]) : strdup(argv[i]);
                if (!abs) {
                        r = -ENOMEM;
                        break;
                }
                r = sd_bus_message_append(m, "a{sv}", 1, "path", "s", abs);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(conn.bus, m, WARM_TIMEOUT_USEC, &err, &reply);
        int was_warm = 0;
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &was_warm);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", prog, sd_bus_error_is_set(&err) ? err.message : strerror(-r));
        else
                printf("%s: %s\n", argv[first], was_warm ? "was warm already" : "warm");
        sd_bus_error_free(&err);
        connection_close(&conn);
        return r < 0 ? 2 : 0;
}

static void format_time(uint64_t usec, char buf[static 32]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, 32, "%H:%M:%S", &tm) == 0)
                snprintf(buf, 32, "-");
}

int pool_command(const char *prog, int argc, char *argv[]) {
        ConnectMode mode;
        int status = 2, first = parse_common(prog, argc, argv, pool_help, &mode, &status);
        if (first < 0)
                return status;
        if (first < argc) {
                fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", prog, argv[first]);
                return 2;
        }
        Connection conn;
        int r = connection_open_or_say(&conn, mode, true, prog);
        if (r < 0)
                return 2;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        r = sd_bus_call_method(conn.bus, conn.destination, VD_OBJECT_PATH, VD_MANAGER_INTERFACE, "ListPool", &err,
                               &reply, NULL);
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
        if (r < 0)
                fprintf(stderr, "%s: %s\n", prog, sd_bus_error_is_set(&err) ? err.message : strerror(-r));
        sd_bus_error_free(&err);
        connection_close(&conn);
        return r < 0 ? 2 : 0;
}

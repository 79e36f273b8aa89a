#include "command.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

#define MAX_COMMAND_OPTIONS 16

char *command_absolute_path(const char *path) {
        if (path[0] == '/')
                return strdup(path);
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        return cwd ? path_join(cwd, path) : NULL;
}

int command_run(const Command *cmd, const char *prog, int argc, char *argv[], void *userdata) {
        struct option options[MAX_COMMAND_OPTIONS] = {
                {"help", no_argument, NULL, 'h'},
                {"session", no_argument, NULL, CONNECT_ARG_SESSION},
                {"system", no_argument, NULL, CONNECT_ARG_SYSTEM},
        };
        size_t n = 3;
        if (!cmd->bus_only)
                options[n++] = (struct option){"private", no_argument, NULL, CONNECT_ARG_PRIVATE};
        for (const struct option *o = cmd->options; o && o->name; o++)
                if (n < MAX_COMMAND_OPTIONS - 1)
                        options[n++] = *o;
        char short_options[32];
        snprintf(short_options, sizeof short_options, "+:h%s", strempty(cmd->short_options));

        ConnectMode mode = cmd->bus_only ? CONNECT_SESSION : CONNECT_AUTO;
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, short_options, options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: %s %s\n%s", prog, cmd->usage, strempty(cmd->help));
                        return 0;
                case ':':
                        fprintf(stderr, "%s: option '%s' needs an argument (try --help)\n", prog, argv[optind - 1]);
                        return 2;
                default:
                        if (connection_mode_option(c, &mode) || (cmd->option && cmd->option(c, optarg, userdata)))
                                break;
                        fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, argv[optind - 1]);
                        return 2;
                }
        int n_operands = argc - optind;
        const char *why = n_operands < cmd->min_operands ? cmd->operands_error
                          : cmd->check_operands         ? cmd->check_operands(argv + optind, n_operands)
                                                        : NULL;
        if (why) {
                fprintf(stderr, "%s: %s (try --help)\n", prog, why);
                return 2;
        }
        if (cmd->max_operands >= 0 && n_operands > cmd->max_operands) {
                fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", prog, argv[optind + cmd->max_operands]);
                return 2;
        }

        Connection conn;
        if (connection_open_or_say(&conn, mode, cmd->bus_only, prog) < 0)
                return 2;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = cmd->run(&conn, argv + optind, n_operands, userdata, &err);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", prog, sd_bus_error_is_set(&err) ? err.message : strerror(-r));
        sd_bus_error_free(&err);
        connection_close(&conn);
        return r < 0 ? 2 : r;
}

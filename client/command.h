/* What every virt-diffctl command besides diff does: read its options
 * (--help, --session, --system, --private and its own), check its
 * operands, reach the daemon, make its call and report, and end with the
 * exit status: 0 success, 2 trouble (said on one stderr line). */
#pragma once

#include <getopt.h>
#include <systemd/sd-bus.h>

#include "connect.h"

typedef struct Command {
        const char *usage; /* what follows "Usage: PROG " */
        const char *help;  /* the rest of --help, from a blank line on */
        /* Its own options (NULL or ending with {}), and their short letters
         * for getopt ("c:"). */
        const struct option *options;
        const char *short_options;
        bool (*option)(int c, const char *arg, void *userdata); /* false: unknown */
        int min_operands, max_operands; /* max -1: any number */
        const char *operands_error;     /* too few: "expected one DOMAIN" */
        /* Beyond their count (may be NULL): why the operands will not do. */
        const char *(*check_operands)(char **operands, int n_operands);
        /* Only a daemon on a bus will do (a private one's pool and cache
         * die with it): no --private, and session by default. */
        bool bus_only;
        /* The call and its report: an exit status, or a negative errno
         * (with err set when the daemon said why). */
        int (*run)(Connection *c, char **operands, int n_operands, void *userdata, sd_bus_error *err);
} Command;

int command_run(const Command *cmd, const char *prog, int argc, char *argv[], void *userdata);

/* An operand path made absolute: the daemon has another working directory. */
char *command_absolute_path(const char *path);

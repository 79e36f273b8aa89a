/* virt-diffctl, and virt-diff: the same program under the name users know,
 * where it is the diff command. */
#include <libgen.h>

#include "cache.h"
#include "diff.h"
#include "manifest.h"
#include "options.h"
#include "snapshots.h"
#include "warm.h"

static void help(void) {
        printf("Usage: virt-diffctl COMMAND [OPTIONS]\n\n"
               "Commands:\n"
               "  diff [OPTIONS] IMAGE1 IMAGE2   Compare two disk images (see 'virt-diffctl diff --help')\n"
               "  diff --domain VM --snapshot S1 [--snapshot S2] [-c URI]\n"
               "                                 What changed in VM since snapshot S1 (or until S2)\n"
               "  wait [OPTIONS] JOB             Follow a job (diff --detach) and print its result\n"
               "  manifest [OPTIONS] IMAGE...    Every entry of a guest's disks with its SHA-256, as an\n"
               "                                 exported manifest (--output=json|csv|mtree)\n"
               "  warm IMAGE...                  Launch an appliance on a guest's disks ahead of need\n"
               "  pool                           List the daemon's launched appliances\n"
               "  cache stats|list|purge [IMAGE]|verify\n"
               "                                 Inspect or trim the manifest cache\n"
               "  snapshots [-c URI] DOMAIN      List a libvirt domain's snapshots\n"
               "  help                           Show this help\n"
               "  version                        Show the version\n\n"
               "'virt-diff ARGS' is 'virt-diffctl diff ARGS'.\n");
}

static int run_diff(const char *prog, int argc, char *argv[], bool wait) {
        DiffArgs args;
        int r = wait ? wait_args_parse(argc, argv, prog, &args) : diff_args_parse(argc, argv, prog, &args);
        if (r != 0) {
                diff_args_done(&args);
                /* A bad command line is trouble, which upstream's virt-diff
                 * says with 1. */
                return r > 0 ? 0 : diff_args_exit_status_argv(argc, argv, 2);
        }
        int status = wait ? follow_wait(prog, &args) : follow_diff(prog, &args);
        diff_args_done(&args);
        return status;
}

int main(int argc, char *argv[]) {
        const char *prog = basename(argv[0]);

        if (strcmp(prog, "virt-diff") == 0)
                return run_diff(prog, argc, argv, false);

        if (argc < 2) {
                help();
                return 2;
        }
        const char *cmd = argv[1];
        if (strcmp(cmd, "diff") == 0)
                return run_diff("virt-diffctl diff", argc - 1, argv + 1, false);
        if (strcmp(cmd, "wait") == 0)
                return run_diff("virt-diffctl wait", argc - 1, argv + 1, true);
        if (strcmp(cmd, "manifest") == 0)
                return manifest_command("virt-diffctl manifest", argc - 1, argv + 1);
        if (strcmp(cmd, "warm") == 0)
                return warm_command("virt-diffctl warm", argc - 1, argv + 1);
        if (strcmp(cmd, "pool") == 0)
                return pool_command("virt-diffctl pool", argc - 1, argv + 1);
        if (strcmp(cmd, "cache") == 0)
                return cache_command("virt-diffctl cache", argc - 1, argv + 1);
        if (strcmp(cmd, "snapshots") == 0)
                return snapshots_command("virt-diffctl snapshots", argc - 1, argv + 1);
        if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
                help();
                return 0;
        }
        if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
                printf("virt-diffctl %s\n", VIRT_DIFFD_VERSION);
                return 0;
        }
        fprintf(stderr, "virt-diffctl: unknown command '%s' (try 'virt-diffctl help')\n", cmd);
        return 2;
}

/* The diff command's options, as virt-diff users know them. */
#pragma once

#include <getopt.h>

#include "common/filters.h"
#include "common/keys.h"
#include "common/names.h"
#include "common/util.h"
#include "domain-args.h"
#include "output/output.h"

typedef enum ConnectMode {
        CONNECT_AUTO,    /* session bus, else a private daemon */
        CONNECT_SESSION,
        CONNECT_SYSTEM,
        CONNECT_PEER,    /* always a private daemon over a socketpair */
} ConnectMode;

typedef struct ClientDisk {
        char *path;   /* NULL for a domain */
        char *format; /* NULL: detected */
        char *domain, *uri, *snapshot;
        bool manifest; /* path is an exported manifest ("-": standard input), its side's only disk */
        uint32_t blocksize; /* --blocksize: sector size, 0 for the default */
} ClientDisk;

struct DiffArgs {
        ClientDisk *disks[2];
        size_t n_disks[2];
        OutputOptions output;
        bool atime, times, dir_times, dir_links, extra_stats;
        bool quiet, verbose, trace;
        Filters filters;   /* --path, --include, --exclude, --ignore */
        char *checksum;    /* --checksum: the algorithm (NULL: none) */
        char **causes;     /* --cause: only changes with these causes */
        char *packages_csv; /* --packages-csv=FILE */
        Engine engine;     /* --engine (ENGINE_AUTO: the daemon's default, not sent) */
        int progress; /* -1: when stderr is a terminal */
        ConnectMode connect;
        DomainArgs domain;
        KeyList keys;         /* --key: by selector */
        KeyList ordered_keys; /* --keys-from-stdin: one a locked volume, in order */
        bool keys_from_stdin, echo_keys;
        bool detach;  /* submit, print the job, exit */
        bool pass_fds; /* open the images here, pass file descriptors */
        bool varlink;  /* through varlink instead of D-Bus */
        char *varlink_path; /* its socket; NULL: the default one */
        char *job;    /* wait: the job to follow */
};

void diff_args_done(DiffArgs *a);

/* --output=virt-diff is the compatibility mode: libguestfs virt-diff's
 * output, defaults and exit status. */
static inline bool diff_args_compat(const DiffArgs *a) {
        return a->output.format == OUTPUT_VIRT_DIFF;
}
/* The exit status of a diff that ended with STATUS (0 identical, 1
 * differences, 2 trouble): in the compatibility mode upstream's, 0 when the
 * comparison ran and 1 on error. */
static inline int diff_args_exit_status(const DiffArgs *a, int status) {
        return diff_args_compat(a) ? status == 2 : status;
}
/* The same for a command line that could not be parsed into DiffArgs: the
 * compatibility mode if it asks for it anywhere. */
int diff_args_exit_status_argv(int argc, char *argv[], int status);

/* Returns 0 to go on, 1 when help or the version was printed, or -EINVAL
 * after printing one line about what is wrong. */
int diff_args_parse(int argc, char *argv[], const char *prog, DiffArgs *ret);
void diff_help(const char *prog);
/* virt-diffctl wait [OPTIONS] JOB: the diff command's output and
 * connection options, and a job instead of images. */
int wait_args_parse(int argc, char *argv[], const char *prog, DiffArgs *ret);
void wait_help(const char *prog);
/* --long-options and --short-options, as libguestfs tools print them for
 * their bash completion (options-help.c). */
void options_print_long(const struct option *options);
void options_print_short(const char *optstring);

#include "options.h"

#include <getopt.h>

void diff_args_done(DiffArgs *a) {
        for (int s = 0; s < 2; s++) {
                for (size_t i = 0; i < a->n_disks[s]; i++) {
                        free(a->disks[s][i].path);
                        free(a->disks[s][i].format);
                }
                free(a->disks[s]);
        }
        strv_free(a->output.types);
        free(a->job);
        memset(a, 0, sizeof(*a));
}

static int add_disk(DiffArgs *a, int side, const char *path, const char *format) {
        ClientDisk *d = realloc(a->disks[side], sizeof(ClientDisk) * (a->n_disks[side] + 1));
        if (!d)
                return -ENOMEM;
        a->disks[side] = d;
        d += a->n_disks[side];
        /* The daemon has its own working directory. */
        if (path[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);
                d->path = cwd ? path_join(cwd, path) : NULL;
        } else
                d->path = strdup(path);
        d->format = format ? strdup(format) : NULL;
        if (!d->path || (format && !d->format)) {
                free(d->path);
                free(d->format);
                return -ENOMEM;
        }
        a->n_disks[side]++;
        return 0;
}

static int add_types(DiffArgs *a, const char *list) {
        size_t n = strv_length(a->output.types);
        _cleanup_free_ char *copy = strdup(list);
        if (!copy)
                return -ENOMEM;
        for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (strv_extend(&a->output.types, &n, t) < 0)
                        return -ENOMEM;
        return 0;
}

void diff_help(const char *prog) {
        printf("Usage: %s [OPTIONS] IMAGE1 IMAGE2\n"
               "       %s [OPTIONS] -a IMAGE1 [-a ...] -A IMAGE2 [-A ...]\n\n"
               "Shows which filesystems and files differ between two disk images.\n"
               "Exit status: 0 no differences, 1 differences, 2 trouble.\n\n"
               "Disks:\n"
               "  -a, --add IMAGE        Add a disk to the first guest\n"
               "  -A IMAGE               Add a disk to the second guest\n"
               "      --format[=FORMAT]  Format of the disks that follow (raw, qcow2, ...);\n"
               "                         without FORMAT, detect it again\n"
               "Output:\n"
               "  -l, --long             Long listing: change kind and size of files,\n"
               "                         type, size and mount point of filesystems\n"
               "  -m, --mount            Show the mount point of each filesystem\n"
               "  -t, --type FSTYPE      Only filesystems of this type (repeatable, comma list)\n"
               "      --json             The result as JSON (see diff-result.schema.json)\n"
               "      --csv              CSV with a header row, names as their exact bytes\n"
               "      --summary          One line: N added, N removed, N modified, N metadata\n"
               "      --output=FORMAT    text, json, csv, ndjson (one record a line) or summary\n"
               "Comparison (not compared by default):\n"
               "      --atime            Access times\n"
               "      --times            Change times (ctime)\n"
               "      --dir-times        Times of directories\n"
               "      --dir-links        Link counts of directories\n"
               "      --extra-stats      Inode numbers, devices, blocks, link counts\n"
               "      --all              All of the above\n"
               "Connection:\n"
               "      --session          Use the daemon on the session bus\n"
               "      --system           Use the daemon on the system bus\n"
               "      --private          Run a private daemon over a socket pair\n"
               "                         (default: session bus, else private daemon)\n"
               "      --detach           Submit the job, print its path and exit; it runs on\n"
               "                         (follow it with 'virt-diffctl wait JOB')\n"
               "Other:\n"
               "      --progress         Show progress even when stderr is not a terminal\n"
               "  -q, --quiet            No progress\n"
               "  -v, --verbose          Verbose messages\n"
               "  -x                     Trace libguestfs calls (private daemon only)\n"
               "  -V, --version          Show the version\n"
               "  -h, --help             Show this help\n",
               prog, prog);
}

void wait_help(const char *prog) {
        printf("Usage: %s [OPTIONS] JOB\n\n"
               "Waits for a job (its object path or its number, as 'diff --detach' printed it)\n"
               "and prints its result as 'virt-diffctl diff' does, with its exit status.\n"
               "Ctrl-C stops waiting and leaves the job running.\n\n"
               "Options: -l, -m, -t, --json, --csv, --summary, --output=FORMAT, --session,\n"
               "--system, -q, -v, -h, as for 'virt-diffctl diff'.\n",
               prog);
}

static int parse_args(int argc, char *argv[], const char *prog, DiffArgs *a, bool wait);

int diff_args_parse(int argc, char *argv[], const char *prog, DiffArgs *a) {
        return parse_args(argc, argv, prog, a, false);
}

int wait_args_parse(int argc, char *argv[], const char *prog, DiffArgs *a) {
        return parse_args(argc, argv, prog, a, true);
}

static int parse_args(int argc, char *argv[], const char *prog, DiffArgs *a, bool wait) {
        enum {
                ARG_FORMAT = 0x100, ARG_JSON, ARG_ATIME, ARG_TIMES, ARG_DIR_TIMES, ARG_DIR_LINKS,
                ARG_EXTRA_STATS, ARG_ALL, ARG_SESSION, ARG_SYSTEM, ARG_PRIVATE, ARG_PROGRESS, ARG_CSV,
                ARG_SUMMARY, ARG_OUTPUT, ARG_DETACH,
        };
        static const struct option options[] = {
                {"add", required_argument, NULL, 'a'},
                {"format", optional_argument, NULL, ARG_FORMAT},
                {"long", no_argument, NULL, 'l'},
                {"mount", no_argument, NULL, 'm'},
                {"type", required_argument, NULL, 't'},
                {"json", no_argument, NULL, ARG_JSON},
                {"csv", no_argument, NULL, ARG_CSV},
                {"summary", no_argument, NULL, ARG_SUMMARY},
                {"output", required_argument, NULL, ARG_OUTPUT},
                {"atime", no_argument, NULL, ARG_ATIME},
                {"times", no_argument, NULL, ARG_TIMES},
                {"dir-times", no_argument, NULL, ARG_DIR_TIMES},
                {"dir-links", no_argument, NULL, ARG_DIR_LINKS},
                {"extra-stats", no_argument, NULL, ARG_EXTRA_STATS},
                {"all", no_argument, NULL, ARG_ALL},
                {"session", no_argument, NULL, ARG_SESSION},
                {"system", no_argument, NULL, ARG_SYSTEM},
                {"private", no_argument, NULL, ARG_PRIVATE},
                {"progress", no_argument, NULL, ARG_PROGRESS},
                {"detach", no_argument, NULL, ARG_DETACH},
                {"quiet", no_argument, NULL, 'q'},
                {"verbose", no_argument, NULL, 'v'},
                {"version", no_argument, NULL, 'V'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *format = NULL;
        int c;

        memset(a, 0, sizeof(*a));
        a->progress = -1;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+:a:A:lmt:qvxVh", options, NULL)) >= 0) {
                switch (c) {
                case 'a':
                case 'A':
                        if (add_disk(a, c == 'A', optarg, format) < 0)
                                goto oom;
                        break;
                case ARG_FORMAT:
                        format = optarg && strcmp(optarg, "auto") != 0 ? optarg : NULL;
                        break;
                case 'l':
                        a->output.long_listing = true;
                        break;
                case 'm':
                        a->output.mount = true;
                        break;
                case 't':
                        if (add_types(a, optarg) < 0)
                                goto oom;
                        break;
                case ARG_JSON:
                        a->output.format = OUTPUT_JSON;
                        break;
                case ARG_CSV:
                        a->output.format = OUTPUT_CSV;
                        break;
                case ARG_SUMMARY:
                        a->output.format = OUTPUT_SUMMARY;
                        break;
                case ARG_OUTPUT: {
                        static const char *const names[] = {
                                [OUTPUT_TEXT] = "text", [OUTPUT_JSON] = "json", [OUTPUT_CSV] = "csv",
                                [OUTPUT_NDJSON] = "ndjson", [OUTPUT_SUMMARY] = "summary",
                        };
                        size_t i = 0;
                        while (i < ELEMENTSOF(names) && strcmp(optarg, names[i]) != 0)
                                i++;
                        if (i == ELEMENTSOF(names)) {
                                fprintf(stderr, "%s: unknown output format '%s' (text, json, csv, ndjson, summary)\n",
                                        prog, optarg);
                                return -EINVAL;
                        }
                        a->output.format = (OutputFormat) i;
                        break;
                }
                case ARG_ATIME:
                        a->atime = true;
                        break;
                case ARG_TIMES:
                        a->times = true;
                        break;
                case ARG_DIR_TIMES:
                        a->dir_times = true;
                        break;
                case ARG_DIR_LINKS:
                        a->dir_links = true;
                        break;
                case ARG_EXTRA_STATS:
                        a->extra_stats = true;
                        break;
                case ARG_ALL:
                        a->atime = a->times = a->dir_times = a->dir_links = a->extra_stats = true;
                        break;
                case ARG_SESSION:
                        a->connect = CONNECT_SESSION;
                        break;
                case ARG_SYSTEM:
                        a->connect = CONNECT_SYSTEM;
                        break;
                case ARG_PRIVATE:
                        a->connect = CONNECT_PEER;
                        break;
                case ARG_PROGRESS:
                        a->progress = 1;
                        break;
                case ARG_DETACH:
                        a->detach = true;
                        break;
                case 'q':
                        a->quiet = true;
                        a->progress = 0;
                        break;
                case 'v':
                        a->verbose = true;
                        break;
                case 'x':
                        a->trace = true;
                        break;
                case 'V':
                        printf("%s %s\n", prog, VIRT_DIFFD_VERSION);
                        return 1;
                case 'h':
                        if (wait)
                                wait_help(prog);
                        else
                                diff_help(prog);
                        return 1;
                case ':':
                        fprintf(stderr, "%s: option '%s' needs an argument (try --help)\n", prog, argv[optind - 1]);
                        return -EINVAL;
                default:
                        fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, argv[optind - 1]);
                        return -EINVAL;
                }
        }

        int npos = argc - optind;
        if (wait) {
                if (npos != 1 || a->n_disks[0] || a->n_disks[1] || a->detach || a->connect == CONNECT_PEER) {
                        fprintf(stderr, "%s: expected one job and no images, --detach or --private (try --help)\n",
                                prog);
                        return -EINVAL;
                }
                a->job = strdup(argv[optind]);
                if (!a->job)
                        goto oom;
                return 0;
        }
        if (a->detach && a->connect == CONNECT_PEER) {
                fprintf(stderr, "%s: --detach needs the daemon on a bus, not --private\n", prog);
                return -EINVAL;
        }

        /* Positional IMAGE1 IMAGE2 come first on their sides; -a/-A add to them. */
        if (npos != 0 && npos != 2) {
                fprintf(stderr, "%s: expected two images, got %d argument%s (try --help)\n", prog, npos,
                        npos == 1 ? "" : "s");
                return -EINVAL;
        }
        for (int i = 0; i < npos; i++) {
                ClientDisk first = {0};
                if (add_disk(a, i, argv[optind + i], format) < 0)
                        goto oom;
                first = a->disks[i][a->n_disks[i] - 1];
                memmove(a->disks[i] + 1, a->disks[i], sizeof(ClientDisk) * (a->n_disks[i] - 1));
                a->disks[i][0] = first;
        }
        if (a->n_disks[0] == 0 || a->n_disks[1] == 0) {
                fprintf(stderr, "%s: two images are needed: IMAGE1 IMAGE2, or -a IMAGE1 -A IMAGE2 (try --help)\n",
                        prog);
                return -EINVAL;
        }
        return 0;
oom:
        fprintf(stderr, "%s: out of memory\n", prog);
        return -ENOMEM;
}

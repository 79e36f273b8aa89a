#include "options.h"

#include <ctype.h>
#include <getopt.h>
#include <libgen.h>

#include "common/names.h"
#include "key-args.h"
#include "options-values.h"

void diff_args_done(DiffArgs *a) {
        for (int s = 0; s < 2; s++) {
                for (size_t i = 0; i < a->n_disks[s]; i++) {
                        free(a->disks[s][i].path);
                        free(a->disks[s][i].format);
                        free(a->disks[s][i].domain);
                        free(a->disks[s][i].uri);
                        free(a->disks[s][i].snapshot);
                }
                free(a->disks[s]);
        }
        strv_free(a->output.types);
        free(a->output.html_path);
        free(a->varlink_path);
        free(a->job);
        filters_done(&a->filters);
        free(a->checksum);
        strv_free(a->causes);
        free(a->packages_csv);
        key_list_done(&a->keys);
        key_list_done(&a->ordered_keys);
        domain_args_done(&a->domain);
        memset(a, 0, sizeof(*a));
}

int diff_args_exit_status_argv(int argc, char *argv[], int status) {
        for (int i = 1; i < argc && !streq_ptr(argv[i], "--"); i++)
                if (streq_ptr(argv[i], "--output=virt-diff") ||
                    (streq_ptr(argv[i], "--output") && i + 1 < argc && streq_ptr(argv[i + 1], "virt-diff")))
                        return status == 2;
        return status;
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
                ARG_SUMMARY, ARG_OUTPUT, ARG_CHECKSUM, ARG_UIDS, ARG_XATTRS, ARG_TIME_T, ARG_TIME_RELATIVE,
                ARG_TIME_DAYS, ARG_HUMAN, ARG_SNAPSHOT, ARG_DETACH, ARG_PASS_FDS, ARG_HTML, ARG_MAX_BYTES,
                ARG_MANIFEST_A, ARG_MANIFEST_B, ARG_VARLINK, ARG_PACKAGES, ARG_EXPLAIN, ARG_CAUSE, ARG_PACKAGES_CSV,
                ARG_NO_UNIFIED, ARG_BLOCKSIZE, ARG_LONG_OPTIONS, ARG_SHORT_OPTIONS, ARG_KEY, ARG_KEYS_FROM_STDIN,
                ARG_ECHO_KEYS, ARG_ENGINE,
        };
        /* The short options, after the ':' that makes getopt report a
         * missing argument as such. */
        static const char short_options[] = ":a:A:d:D:c:lmt:uqvxVh";
        static const struct option options[] = {
                {"add", required_argument, NULL, 'a'},
                {"manifest-a", required_argument, NULL, ARG_MANIFEST_A},
                {"manifest-b", required_argument, NULL, ARG_MANIFEST_B},
                {"format", optional_argument, NULL, ARG_FORMAT},
                {"blocksize", optional_argument, NULL, ARG_BLOCKSIZE},
                {"domain", required_argument, NULL, 'd'},
                {"connect", required_argument, NULL, 'c'},
                {"snapshot", required_argument, NULL, ARG_SNAPSHOT},
                {"key", required_argument, NULL, ARG_KEY},
                {"keys-from-stdin", no_argument, NULL, ARG_KEYS_FROM_STDIN},
                {"echo-keys", no_argument, NULL, ARG_ECHO_KEYS},
                {"long", no_argument, NULL, 'l'},
                {"mount", no_argument, NULL, 'm'},
                {"type", required_argument, NULL, 't'},
                {"json", no_argument, NULL, ARG_JSON},
                {"csv", no_argument, NULL, ARG_CSV},
                {"summary", no_argument, NULL, ARG_SUMMARY},
                {"output", required_argument, NULL, ARG_OUTPUT},
                {"html", required_argument, NULL, ARG_HTML},
                {"max-bytes", required_argument, NULL, ARG_MAX_BYTES},
                {"unified", no_argument, NULL, 'u'},
                {"no-unified", no_argument, NULL, ARG_NO_UNIFIED},
                {"checksum", optional_argument, NULL, ARG_CHECKSUM},
                {"checksums", optional_argument, NULL, ARG_CHECKSUM},
                {"uids", no_argument, NULL, ARG_UIDS},
                {"uid", no_argument, NULL, ARG_UIDS},
                {"xattrs", no_argument, NULL, ARG_XATTRS},
                {"xattr", no_argument, NULL, ARG_XATTRS},
                {"time-t", no_argument, NULL, ARG_TIME_T},
                {"time-relative", no_argument, NULL, ARG_TIME_RELATIVE},
                {"time-days", no_argument, NULL, ARG_TIME_DAYS},
                {"human-readable", no_argument, NULL, ARG_HUMAN},
                {"packages", no_argument, NULL, ARG_PACKAGES},
                {"explain", no_argument, NULL, ARG_EXPLAIN},
                {"cause", required_argument, NULL, ARG_CAUSE},
                {"packages-csv", required_argument, NULL, ARG_PACKAGES_CSV},
                {"path", required_argument, NULL, 'P'},
                {"include", required_argument, NULL, 'N'},
                {"exclude", required_argument, NULL, 'X'},
                {"ignore", required_argument, NULL, 'I'},
                {"atime", no_argument, NULL, ARG_ATIME},
                {"times", no_argument, NULL, ARG_TIMES},
                {"time", no_argument, NULL, ARG_TIMES},
                {"dir-times", no_argument, NULL, ARG_DIR_TIMES},
                {"dir-time", no_argument, NULL, ARG_DIR_TIMES},
                {"dir-links", no_argument, NULL, ARG_DIR_LINKS},
                {"dir-link", no_argument, NULL, ARG_DIR_LINKS},
                {"dir-nlinks", no_argument, NULL, ARG_DIR_LINKS},
                {"dir-nlink", no_argument, NULL, ARG_DIR_LINKS},
                {"extra-stats", no_argument, NULL, ARG_EXTRA_STATS},
                {"extra-stat", no_argument, NULL, ARG_EXTRA_STATS},
                {"all", no_argument, NULL, ARG_ALL},
                {"session", no_argument, NULL, ARG_SESSION},
                {"system", no_argument, NULL, ARG_SYSTEM},
                {"private", no_argument, NULL, ARG_PRIVATE},
                {"progress", no_argument, NULL, ARG_PROGRESS},
                {"detach", no_argument, NULL, ARG_DETACH},
                {"pass-fds", no_argument, NULL, ARG_PASS_FDS},
                {"varlink", optional_argument, NULL, ARG_VARLINK},
                {"engine", required_argument, NULL, ARG_ENGINE},
                {"quiet", no_argument, NULL, 'q'},
                {"verbose", no_argument, NULL, 'v'},
                {"long-options", no_argument, NULL, ARG_LONG_OPTIONS},
                {"short-options", no_argument, NULL, ARG_SHORT_OPTIONS},
                {"version", no_argument, NULL, 'V'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        Choice format_choice = {}, time_choice = {}, connect_choice = {}, progress_choice = {};
        Deferred deferred = {};
        const char *format = NULL;
        uint32_t blocksize = 0;
        int c, r;

        memset(a, 0, sizeof(*a));
        a->progress = -1;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, short_options, options, NULL)) >= 0) {
                const char *opt = argv[optind - 1];
                switch (c) {
                case 'a':
                case 'A':
                        if (add_disk(a, c == 'A', optarg, format, false, blocksize) < 0)
                                goto oom;
                        break;
                case ARG_MANIFEST_A:
                case ARG_MANIFEST_B:
                        if (add_disk(a, c == ARG_MANIFEST_B, optarg, NULL, true, 0) < 0)
                                goto oom;
                        break;
                case 'd':
                case 'D':
                        if (domain_args_add_domain(a, c == 'D', optarg) < 0)
                                goto oom;
                        break;
                case 'c':
                        if (domain_args_set_uri(a, prog, optarg) < 0)
                                return -EINVAL;
                        break;
                case ARG_SNAPSHOT:
                        if (domain_args_add_snapshot(a, prog, optarg) < 0)
                                return -EINVAL;
                        break;
                case ARG_FORMAT:
                        format = optarg && strcmp(optarg, "auto") != 0 ? optarg : NULL;
                        if (format && strspn(format, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(format)) {
                                fprintf(stderr, "%s: --format '%s': not a disk format name (raw, qcow2, ...)\n", prog,
                                        format);
                                return -EINVAL;
                        }
                        break;
                case ARG_KEY:
                        r = key_args_add(a, prog, optarg);
                        if (r == -ENOMEM)
                                goto oom;
                        if (r < 0)
                                return r;
                        break;
                case ARG_KEYS_FROM_STDIN:
                        a->keys_from_stdin = true;
                        break;
                case ARG_ECHO_KEYS:
                        a->echo_keys = true;
                        break;
                case ARG_BLOCKSIZE:
                        /* Checked here, where libguestfs would refuse it only
                         * once an appliance is launched. */
                        if (!optarg || !optarg[0])
                                blocksize = 0;
                        else if (streq_ptr(optarg, "512") || streq_ptr(optarg, "4096"))
                                blocksize = (uint32_t) atoi(optarg);
                        else {
                                fprintf(stderr, "%s: --blocksize '%s': a sector size is 512 or 4096\n", prog, optarg);
                                return -EINVAL;
                        }
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
                case ARG_CSV:
                        /* CSV, or with --output=virt-diff upstream's CSV. */
                        deferred.csv = opt;
                        break;
                case ARG_JSON:
                case ARG_SUMMARY:
                case ARG_OUTPUT:
                        r = c == ARG_JSON      ? OUTPUT_JSON
                            : c == ARG_SUMMARY ? OUTPUT_SUMMARY
                                               : output_format_from_string(optarg);
                        if (r < 0) {
                                fprintf(stderr, "%s: unknown output format '%s' (text, json, csv, ndjson, summary, "
                                        "virt-diff, markdown, html)\n", prog, optarg);
                                return -EINVAL;
                        }
                        if (choose(&format_choice, r, opt, prog) < 0)
                                return -EINVAL;
                        a->output.format = (OutputFormat) r;
                        break;
                case ARG_HTML:
                        if (!optarg[0]) {
                                fprintf(stderr, "%s: --html needs a file name\n", prog);
                                return -EINVAL;
                        }
                        free(a->output.html_path);
                        a->output.html_path = strdup(optarg);
                        if (!a->output.html_path)
                                goto oom;
                        break;
                case ARG_MAX_BYTES:
                        if (parse_max_bytes(optarg, &a->output.max_bytes) < 0) {
                                fprintf(stderr, "%s: --max-bytes '%s': not a size of at least %d bytes (65536, 64K, 1M)\n",
                                        prog, optarg, OUTPUT_MIN_MAX_BYTES);
                                return -EINVAL;
                        }
                        break;
                case 'u':
                case ARG_NO_UNIFIED:
                        if (choose(&deferred.unified, c == 'u', opt, prog) < 0)
                                return -EINVAL;
                        break;
                case ARG_CHECKSUM: {
                        const char *alg = optarg && optarg[0] ? optarg : NULL;
                        size_t i = 0;
                        /* The default depends on the output (md5 for
                         * virt-diff's). */
                        deferred.checksum = !alg;
                        if (!alg) {
                                a->output.checksum = true;
                                break;
                        }
                        while (checksum_algorithms[i] && strcmp(checksum_algorithms[i], alg) != 0)
                                i++;
                        if (!checksum_algorithms[i]) {
                                fprintf(stderr, "%s: --checksum '%s': unknown algorithm (sha256, md5, sha1, sha224, "
                                        "sha384, sha512, crc)\n", prog, alg);
                                return -EINVAL;
                        }
                        free(a->checksum);
                        a->checksum = strdup(alg);
                        if (!a->checksum)
                                goto oom;
                        a->output.checksum = true;
                        break;
                }
                case ARG_ENGINE:
                        if (engine_from_string(optarg) == _ENGINE_MAX) {
                                fprintf(stderr, "%s: --engine '%s': not auto, direct or appliance\n", prog, optarg);
                                return -EINVAL;
                        }
                        a->engine = engine_from_string(optarg);
                        break;
                case ARG_UIDS:
                        a->output.uids = true;
                        break;
                case ARG_XATTRS:
                        a->output.xattrs = true;
                        break;
                case ARG_TIME_T:
                case ARG_TIME_RELATIVE:
                case ARG_TIME_DAYS:
                        r = c == ARG_TIME_T ? TIME_T : c == ARG_TIME_RELATIVE ? TIME_RELATIVE : TIME_DAYS;
                        if (choose(&time_choice, r, opt, prog) < 0)
                                return -EINVAL;
                        a->output.time_format = (TimeFormat) r;
                        a->output.times = true;
                        break;
                case ARG_HUMAN:
                        a->output.human = true;
                        break;
                case ARG_PACKAGES:
                        a->output.packages = true;
                        break;
                case ARG_EXPLAIN:
                        a->output.explain = true;
                        break;
                case ARG_CAUSE:
                        r = add_causes(a, optarg, prog);
                        if (r == -ENOMEM)
                                goto oom;
                        if (r < 0)
                                return r;
                        break;
                case ARG_PACKAGES_CSV:
                        free(a->packages_csv);
                        a->packages_csv = strdup(optarg);
                        if (!a->packages_csv)
                                goto oom;
                        break;
                case 'P':
                case 'N':
                case 'X':
                case 'I':
                        r = add_filter(a, c, optarg, prog);
                        if (r == -ENOMEM)
                                goto oom;
                        if (r < 0)
                                return r;
                        break;
                case ARG_ATIME:
                        a->atime = a->output.atime = true;
                        break;
                case ARG_TIMES:
                        a->times = a->output.times = true;
                        break;
                case ARG_DIR_TIMES:
                        a->dir_times = true;
                        break;
                case ARG_DIR_LINKS:
                        a->dir_links = true;
                        break;
                case ARG_EXTRA_STATS:
                        a->extra_stats = a->output.extra_stats = true;
                        break;
                case ARG_ALL:
                        deferred.all = true;
                        break;
                case ARG_SESSION:
                case ARG_SYSTEM:
                case ARG_PRIVATE:
                        r = c == ARG_SESSION ? CONNECT_SESSION : c == ARG_SYSTEM ? CONNECT_SYSTEM : CONNECT_PEER;
                        if (choose(&connect_choice, r, opt, prog) < 0)
                                return -EINVAL;
                        a->connect = (ConnectMode) r;
                        break;
                case ARG_PROGRESS:
                        if (choose(&progress_choice, 1, opt, prog) < 0)
                                return -EINVAL;
                        a->progress = 1;
                        break;
                case ARG_DETACH:
                        a->detach = true;
                        break;
                case ARG_PASS_FDS:
                        a->pass_fds = true;
                        break;
                case ARG_VARLINK:
                        a->varlink = true;
                        free(a->varlink_path);
                        a->varlink_path = optarg ? strdup(optarg) : NULL;
                        if (optarg && !a->varlink_path)
                                goto oom;
                        break;
                case 'q':
                        if (choose(&progress_choice, 0, opt, prog) < 0)
                                return -EINVAL;
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
                case ARG_LONG_OPTIONS:
                        options_print_long(options);
                        return 1;
                case ARG_SHORT_OPTIONS:
                        options_print_short(short_options);
                        return 1;
                case 'h':
                        if (wait)
                                wait_help(prog);
                        else
                                diff_help(prog);
                        return 1;
                case ':':
                        fprintf(stderr, "%s: option '%s' needs an argument (try --help)\n", prog, opt);
                        return -EINVAL;
                default:
                        fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, opt);
                        return -EINVAL;
                }
        }

        r = settle_output(a, &deferred, &format_choice, prog);
        if (r == -ENOMEM)
                goto oom;
        if (r < 0)
                return r;

        /* Options that only mean something for some outputs. */
        OutputFormat of = a->output.format;
        if ((a->output.long_listing || a->output.mount) && of != OUTPUT_TEXT) {
                fprintf(stderr, "%s: conflicting options %s and %s (-l and -m shape the text output)\n", prog,
                        a->output.long_listing ? "-l" : "-m", format_choice.set_by);
                return -EINVAL;
        }
        if (a->output.max_bytes && of != OUTPUT_MARKDOWN) {
                fprintf(stderr, "%s: --max-bytes cuts the markdown output: add --output=markdown\n", prog);
                return -EINVAL;
        }
        /* Better now than after a long diff. */
        if (a->output.html_path && report_dir_check(a->output.html_path, prog) < 0)
                return -EINVAL;
        /* With --html the diffs have a place to go. */
        if (a->output.unified && (of == OUTPUT_CSV || of == OUTPUT_SUMMARY) && !a->output.html_path) {
                fprintf(stderr, "%s: conflicting options -u and %s (diffs go in text, virt-diff, json, ndjson, "
                        "markdown or html, or --html)\n", prog, format_choice.set_by);
                return -EINVAL;
        }

        int npos = argc - optind;
        if (wait) {
                if (npos != 1 || a->n_disks[0] || a->n_disks[1] || a->detach || a->connect == CONNECT_PEER ||
                    a->keys.n || a->keys_from_stdin) {
                        fprintf(stderr, "%s: expected one job and no images, keys, --detach or --private (try --help)\n",
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

        /* Positional IMAGE1 IMAGE2 come first on their sides; -a/-A add to
         * them. One alone is the side the options left empty
         * (--manifest-a FILE IMAGE). */
        int lone = npos == 1 && (a->n_disks[0] == 0) != (a->n_disks[1] == 0) ? (a->n_disks[0] == 0 ? 0 : 1) : -1;
        if (npos != 0 && npos != 2 && lone < 0) {
                fprintf(stderr, "%s: expected two images, got %d argument%s (try --help)\n", prog, npos,
                        npos == 1 ? "" : "s");
                return -EINVAL;
        }
        for (int i = 0; i < npos; i++) {
                int side = lone >= 0 ? lone : i;
                ClientDisk first = {0};
                if (add_disk(a, side, argv[optind + i], format, false, blocksize) < 0)
                        goto oom;
                first = a->disks[side][a->n_disks[side] - 1];
                memmove(a->disks[side] + 1, a->disks[side], sizeof(ClientDisk) * (a->n_disks[side] - 1));
                a->disks[side][0] = first;
        }
        if (domain_args_finish(a, prog) < 0)
                return -EINVAL;
        /* Last: a command line with a mistake reads nothing. */
        if (a->keys_from_stdin) {
                r = key_args_read_stdin(a, prog);
                if (r == -ENOMEM)
                        goto oom;
                if (r < 0)
                        return r;
        }
        if (a->n_disks[0] == 0 || a->n_disks[1] == 0) {
                fprintf(stderr, "%s: two images are needed: IMAGE1 IMAGE2, or -a IMAGE1 -A IMAGE2 (try --help)\n",
                        prog);
                return -EINVAL;
        }
        for (int s = 0; s < 2; s++)
                for (size_t i = 0; i < a->n_disks[s]; i++)
                        if (a->disks[s][i].manifest && a->n_disks[s] > 1) {
                                fprintf(stderr, "%s: side %c is either images or one manifest\n", prog, s ? 'B' : 'A');
                                return -EINVAL;
                        }
        for (int s = 0; a->pass_fds && s < 2; s++)
                for (size_t i = 0; i < a->n_disks[s]; i++)
                        if (a->disks[s][i].domain || a->disks[s][i].snapshot) {
                                fprintf(stderr, "%s: --pass-fds takes image files, not libvirt domains or snapshots\n",
                                        prog);
                                return -EINVAL;
                        }
        return 0;
oom:
        fprintf(stderr, "%s: out of memory\n", prog);
        return -ENOMEM;
}

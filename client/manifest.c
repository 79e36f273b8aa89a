/* virt-diffctl manifest: every entry of one guest's disks with its fields
 * and SHA-256, from the cache when it is there (ExportManifest), written as
 * the exported manifest (JSON, what virt-diff --manifest-a reads back), CSV
 * or an mtree(5) specification. */
#include "manifest.h"

#include <getopt.h>

#include "command.h"
#include "follow.h"
#include "options.h"
#include "side.h"

typedef struct ManifestArgs {
        ClientDisk *disks;
        size_t n_disks;
        ManifestFormat output;
        ConnectMode connect;
        bool pass_fds, verbose, trace;
        int progress; /* -1: when stderr is a terminal */
} ManifestArgs;

static void manifest_args_done(ManifestArgs *a) {
        for (size_t i = 0; i < a->n_disks; i++) {
                free(a->disks[i].path);
                free(a->disks[i].format);
                free(a->disks[i].domain);
                free(a->disks[i].uri);
                free(a->disks[i].snapshot);
        }
        free(a->disks);
}

static void help(const char *prog) {
        printf("Usage: %s [OPTIONS] IMAGE...\n"
               "       %s [OPTIONS] -d DOMAIN [-c URI] [--snapshot SNAP]\n\n"
               "Lists every entry of one guest's disks with its fields and SHA-256, from the\n"
               "daemon's cache when it is there. The JSON form is an exported manifest:\n"
               "'virt-diff --manifest-a FILE' compares it with no access to the images.\n\n"
               "Options:\n"
               "      --output=FORMAT    json (the exported manifest, the default), csv, or\n"
               "                         mtree (BSD mtree, for bsdtar and mtree -f)\n"
               "      --format[=FORMAT]  Format of the images (raw, qcow2, ...; default: detected)\n"
               "  IMAGE@SNAPSHOT         An internal snapshot of a qcow2 image\n"
               "  -d, --domain DOMAIN    A libvirt domain's disks\n"
               "  -c, --connect URI      Libvirt URI of the domain\n"
               "      --snapshot SNAP    The domain as this snapshot recorded it\n"
               "      --pass-fds         Open the images here and pass them as file descriptors\n"
               "      --session          Use the daemon on the session bus\n"
               "      --system           Use the daemon on the system bus\n"
               "      --private          Run a private daemon over a socket pair\n"
               "      --progress         Show progress even when stderr is not a terminal\n"
               "  -q, --quiet            No progress\n"
               "  -v, --verbose          Verbose messages\n"
               "  -h, --help             Show this help\n",
               prog, prog);
}

static ClientDisk *add_disk(ManifestArgs *a) {
        ClientDisk *d = realloc(a->disks, sizeof(ClientDisk) * (a->n_disks + 1));
        if (!d)
                return NULL;
        a->disks = d;
        d = &a->disks[a->n_disks++];
        *d = (ClientDisk) {};
        return d;
}

static int parse(int argc, char *argv[], const char *prog, ManifestArgs *a) {
        enum { ARG_OUTPUT = 0x100, ARG_FORMAT, ARG_SNAPSHOT, ARG_PASS_FDS, ARG_PROGRESS };
        static const struct option options[] = {
                {"output", required_argument, NULL, ARG_OUTPUT},
                {"format", optional_argument, NULL, ARG_FORMAT},
                {"domain", required_argument, NULL, 'd'},
                {"connect", required_argument, NULL, 'c'},
                {"snapshot", required_argument, NULL, ARG_SNAPSHOT},
                {"pass-fds", no_argument, NULL, ARG_PASS_FDS},
                CONNECT_LONG_OPTIONS,
                {"progress", no_argument, NULL, ARG_PROGRESS},
                {"quiet", no_argument, NULL, 'q'},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *format = NULL, *domain = NULL, *uri = NULL, *snapshot = NULL;
        int c, r;

        a->progress = -1;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":d:c:qvxh", options, NULL)) >= 0) {
                const char *opt = argv[optind - 1];
                switch (c) {
                case ARG_OUTPUT:
                        r = manifest_format_from_string(optarg);
                        if (r < 0) {
                                fprintf(stderr, "%s: unknown output format '%s' (json, csv, mtree)\n", prog, optarg);
                                return -EINVAL;
                        }
                        a->output = (ManifestFormat) r;
                        break;
                case ARG_FORMAT:
                        format = optarg && strcmp(optarg, "auto") != 0 ? optarg : NULL;
                        break;
                case 'd':
                        domain = optarg;
                        break;
                case 'c':
                        uri = optarg;
                        break;
                case ARG_SNAPSHOT:
                        snapshot = optarg;
                        break;
                case ARG_PASS_FDS:
                        a->pass_fds = true;
                        break;
                case ARG_PROGRESS:
                        a->progress = 1;
                        break;
                case 'q':
                        a->progress = 0;
                        break;
                case 'v':
                        a->verbose = true;
                        break;
                case 'x':
                        a->trace = true;
                        break;
                case 'h':
                        help(prog);
                        return 1;
                case ':':
                        fprintf(stderr, "%s: option '%s' needs an argument (try --help)\n", prog, opt);
                        return -EINVAL;
                default:
                        if (connection_mode_option(c, &a->connect))
                                break;
                        fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, opt);
                        return -EINVAL;
                }
        }

        if ((domain ? 1 : 0) + (optind < argc ? 1 : 0) != 1) {
                fprintf(stderr, "%s: expected images or one -d DOMAIN (try --help)\n", prog);
                return -EINVAL;
        }
        if ((uri || snapshot) && !domain) {
                fprintf(stderr, "%s: %s needs -d DOMAIN\n", prog, uri ? "-c" : "--snapshot");
                return -EINVAL;
        }
        if (domain && a->pass_fds) {
                fprintf(stderr, "%s: --pass-fds takes image files, not libvirt domains\n", prog);
                return -EINVAL;
        }
        if (domain) {
                ClientDisk *d = add_disk(a);
                if (!d || !(d->domain = strdup(domain)) || (uri && !(d->uri = strdup(uri))) ||
                    (snapshot && !(d->snapshot = strdup(snapshot))))
                        goto oom;
        }
        for (int i = optind; i < argc; i++) {
                ClientDisk *d = add_disk(a);
                if (!d || !(d->path = command_absolute_path(argv[i])) || (format && !(d->format = strdup(format))))
                        goto oom;
        }
        return 0;
oom:
        fprintf(stderr, "%s: out of memory\n", prog);
        return -ENOMEM;
}

static int build_export(Follow *f, sd_bus_message *m, sd_bus_error *err) {
        const ManifestArgs *a = f->userdata;
        int r = side_append(m, a->disks, a->n_disks, a->pass_fds, err);
        if (r >= 0)
                r = sd_bus_message_append(m, "a{sv}", 0);
        return r;
}

/* With --pass-fds the daemon knows the images only by its own fds: name
 * them as they were opened here. */
static void name_passed_images(json_object *doc, const ManifestArgs *a) {
        if (a->pass_fds)
                side_name_images(doc, a->disks, a->n_disks);
}

static int print_manifest(Follow *f, sd_bus_error *err) {
        const ManifestArgs *a = f->userdata;
        json_object *doc = NULL;
        int r = follow_get_result(f, &doc, err);
        if (r < 0)
                return r;
        name_passed_images(doc, a);
        r = manifest_output_write(stdout, doc, a->output);
        json_object_put(doc);
        if (r < 0)
                return r;
        f->exit_status = 0;
        return 0;
}

int manifest_command(const char *prog, int argc, char *argv[]) {
        ManifestArgs a = {};
        int r = parse(argc, argv, prog, &a);
        if (r != 0) {
                manifest_args_done(&a);
                return r > 0 ? 0 : 2;
        }
        Follow f = {.prog = prog, .userdata = &a, .done = print_manifest, .fds_passed = a.pass_fds,
                    .show_progress = a.progress > 0 || (a.progress < 0 && isatty(STDERR_FILENO))};
        r = follow_submit(&f, a.connect, a.verbose, a.trace, false, "ExportManifest", build_export);
        manifest_args_done(&a);
        return r;
}

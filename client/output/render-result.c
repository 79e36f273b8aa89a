/* A test helper: writes a saved result document (virt-diff --json) in
 * another format, as virt-diff would have, with no daemon and no image.
 *   render-result [--output=FORMAT] [--max-bytes=N] [-t TYPE] [-u] [FILE]
 * or an exported manifest as virt-diffctl manifest would:
 *   render-result --manifest=json|csv|mtree [FILE]
 * Reads stdin without FILE; exit status 0, or 2 with one line on stderr. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "output/output.h"

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                {"output", required_argument, NULL, 'o'},
                {"max-bytes", required_argument, NULL, 'M'},
                {"type", required_argument, NULL, 't'},
                {"unified", no_argument, NULL, 'u'},
                {"manifest", required_argument, NULL, 'm'},
                {},
        };
        OutputOptions o = {.now = 1700000000};
        char *types[2] = {};
        int c, r, manifest = -1;

        while ((c = getopt_long(argc, argv, "t:u", options, NULL)) >= 0)
                switch (c) {
                case 'o':
                        r = output_format_from_string(optarg);
                        if (r < 0) {
                                fprintf(stderr, "render-result: unknown format '%s'\n", optarg);
                                return 2;
                        }
                        o.format = (OutputFormat) r;
                        break;
                case 'M':
                        o.max_bytes = strtoull(optarg, NULL, 10);
                        break;
                case 't':
                        types[0] = optarg;
                        o.types = types;
                        break;
                case 'u':
                        o.unified = true;
                        break;
                case 'm':
                        manifest = manifest_format_from_string(optarg);
                        if (manifest < 0) {
                                fprintf(stderr, "render-result: unknown manifest format '%s'\n", optarg);
                                return 2;
                        }
                        break;
                default:
                        return 2;
                }

        json_object *result = optind < argc ? json_object_from_file(argv[optind]) : json_object_from_fd(STDIN_FILENO);
        if (!result) {
                fprintf(stderr, "render-result: cannot read the result: %s\n", json_util_get_last_err());
                return 2;
        }
        r = manifest >= 0 ? manifest_output_write(stdout, result, (ManifestFormat) manifest)
                          : output_write(stdout, result, &o);
        json_object_put(result);
        if (r < 0) {
                fprintf(stderr, "render-result: %s\n", strerror(-r));
                return 2;
        }
        return 0;
}

/* Where a side came from, for the "# A:" line of the long listing and the
 * reports: scanned or cached (and by which engine), or an exported
 * manifest; the libvirt domain and snapshot; crash-consistency. */
#include "output/output-internal.h"

void output_domain_write(FILE *f, json_object *side) {
        json_object *domain = json_get(side, "domain", json_type_object), *v;
        bool crash = json_object_object_get_ex(side, "crash_consistent", &v) && json_object_get_boolean(v);
        if (domain) {
                const char *snapshot = json_get_string(domain, "snapshot");
                fprintf(f, "; domain %s", strempty(json_get_string(domain, "name")));
                if (snapshot)
                        fprintf(f, " at snapshot %s", snapshot);
        }
        /* Read while the guest could write: as after a power cut. */
        if (crash)
                fputs("; running, crash-consistent only", f);
}

void output_side_origin_write(FILE *f, json_object *side) {
        json_object *manifest = json_get(side, "manifest", json_type_object), *v;
        const char *engine = json_get_string(side, "engine");

        if (manifest) {
                _cleanup_free_ char *path = json_get(manifest, "path", json_type_string) ? output_display_bytes(manifest, "path")
                                                                                          : NULL;
                const char *when = json_get_string(manifest, "exported_at");
                fputs("manifest", f);
                if (path)
                        fprintf(f, " %s", path);
                if (when)
                        fprintf(f, ", exported %s", when);
        } else
                fputs(json_object_object_get_ex(side, "cached", &v) && json_object_get_boolean(v) ? "cached" : "scanned",
                      f);
        if (engine)
                fprintf(f, ", %s", engine);
        if (json_get_string(side, "direct_refused")) {
                _cleanup_free_ char *q = output_display_bytes(side, "direct_refused");
                fprintf(f, "; the direct engine could not: %s", q ? q : "?");
        }
        output_domain_write(f, side);
}

/* The libvirt part of a side's "# A:" line in the long listing. */
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

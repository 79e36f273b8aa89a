/* What --packages, --explain and --packages-csv show: the package changes,
 * each side's package database when it could not be read, and the file
 * changes grouped under their causes, tampered first. */
#include "output/output-internal.h"

/* "vd-base 1.0-1 -> 1.1-1: upgraded", with the arch under -l. */
static void package_write(FILE *f, json_object *p, const OutputOptions *o) {
        const char *old = json_get_string(p, "old_version"), *new = json_get_string(p, "new_version");
        fputs(strempty(json_get_string(p, "name")), f);
        if (o->long_listing)
                fprintf(f, " %s", strempty(json_get_string(p, "arch")));
        if (old)
                fprintf(f, " %s", old);
        if (old && new)
                fputs(" ->", f);
        if (new)
                fprintf(f, " %s", new);
        fprintf(f, ": %s\n", strempty(json_get_string(p, "change")));
}

/* "Packages of A: cannot be read (CorruptPackageDatabase: ...)". */
static void database_errors_write(FILE *f, json_object *result) {
        for (int s = 0; s < 2; s++) {
                json_object *db = json_get(json_get(result, s ? "b" : "a", json_type_object), "packages", json_type_object);
                json_object *err = json_get(db, "error", json_type_object);
                if (err)
                        fprintf(f, "Packages of %c: cannot be read (%s: %s)\n", s ? 'B' : 'A',
                                strempty(json_get_string(err, "code")), strempty(json_get_string(err, "message")));
        }
}

int output_packages_text(FILE *f, json_object *result, const OutputOptions *o) {
        json_object *list = json_get(result, "packages", json_type_array);
        database_errors_write(f, result);
        for (size_t i = 0; i < json_array_length(list); i++)
                package_write(f, json_object_array_get_idx(list, i), o);
        return ferror(f) ? -EIO : 0;
}

/* The causes in the order --explain lists them; then changes the daemon
 * could not explain (a side's packages unknown). */
static const char *const cause_order[] = {"tampered", "config", "package", "unowned", NULL};
static const char *const cause_titles[] = {
        "Tampered (no package change explains them)",
        "Configuration files edited",
        "Installed, upgraded or removed with their packages",
        "Not owned by any package",
        "Not explained (a side's packages are unknown)",
};

int output_explain_text(FILE *f, json_object *result, const OutputOptions *o,
                        int (*change_write)(FILE *f, json_object *c, bool with_tree, const OutputOptions *o)) {
        json_object *changes = json_get(result, "changes", json_type_array);
        bool with_tree = output_several_trees(changes);
        for (size_t k = 0; k < ELEMENTSOF(cause_order); k++) {
                size_t n = 0;
                for (size_t i = 0; i < json_array_length(changes); i++)
                        n += streq_ptr(json_get_string(json_object_array_get_idx(changes, i), "cause"), cause_order[k]);
                if (n == 0)
                        continue;
                fprintf(f, "%s (%zu):\n", cause_titles[k], n);
                for (size_t i = 0; i < json_array_length(changes); i++) {
                        json_object *c = json_object_array_get_idx(changes, i);
                        if (!streq_ptr(json_get_string(c, "cause"), cause_order[k]))
                                continue;
                        fputs("  ", f);
                        int r = change_write(f, c, with_tree, o);
                        if (r < 0)
                                return r;
                }
        }
        return ferror(f) ? -EIO : 0;
}

/* " [vd-base, vd-same]": the owners after a change's line. */
void output_owners_write(FILE *f, json_object *c) {
        json_object *owners = json_get(c, "owner", json_type_array);
        if (json_array_length(owners) == 0)
                return;
        fputs(" [", f);
        for (size_t i = 0; i < json_array_length(owners); i++) {
                const char *name = strempty(json_object_get_string(json_object_array_get_idx(owners, i)));
                _cleanup_free_ char *q = quote_bytes(name, strlen(name));
                fprintf(f, "%s%s", i ? ", " : "", q ? q : "?");
        }
        fputc(']', f);
}

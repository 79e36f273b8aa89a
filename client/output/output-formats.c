/* The machine-readable writers besides JSON: CSV with a header row, NDJSON
 * (one record a line, for streaming very large results) and the one-line
 * summary. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "output/output-internal.h"

/* RFC 4180: quoted when it holds a comma, a quote or a line break, quotes
 * doubled. Names are written as their exact bytes. */
void csv_field(FILE *f, const char *s, size_t len, bool last) {
        if (s && strcspn(s, ",\"\r\n") < len) {
                fputc('"', f);
                for (size_t i = 0; i < len; i++) {
                        if (s[i] == '"')
                                fputc('"', f);
                        fputc(s[i], f);
                }
                fputc('"', f);
        } else if (s)
                fwrite(s, 1, len, f);
        fputc(last ? '\n' : ',', f);
}

void csv_string(FILE *f, const char *s, bool last) {
        csv_field(f, s, s ? strlen(s) : 0, last);
}

void csv_bytes(FILE *f, json_object *o, const char *key, bool last) {
        _cleanup_free_ char *b = NULL;
        size_t n = 0;
        if (o && json_get_bytes(o, key, &b, &n) < 0)
                b = NULL;
        csv_field(f, b, b ? n : 0, last);
}

static void csv_fields(FILE *f, json_object *fields) {
        char buf[512] = "";
        for (size_t i = 0; i < json_array_length(fields); i++) {
                size_t l = strlen(buf);
                snprintf(buf + l, sizeof buf - l, "%s%s", i ? ";" : "",
                         json_object_get_string(json_object_array_get_idx(fields, i)));
        }
        csv_string(f, buf, false);
}

/* "name;name": a change's owners as one field. */
static void csv_owners(FILE *f, json_object *c, bool last) {
        json_object *owners = json_get(c, "owner", json_type_array);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m)
                return;
        for (size_t i = 0; i < json_array_length(owners); i++)
                fprintf(m, "%s%s", i ? ";" : "", strempty(json_object_get_string(json_object_array_get_idx(owners, i))));
        fclose(m);
        csv_field(f, strempty(buf), len, last);
}

int output_csv_head(FILE *f, json_object *result, const OutputOptions *o) {
        /* --packages and --explain add the cause and owner columns. */
        bool causes = o->packages || o->explain;
        json_object *fss = json_get(result, "filesystems", json_type_array);
        char num[32];

        fputs(causes ? "scope,change,kind,path,tree,filesystem,size,fields,target,cause,owner\n"
                     : "scope,change,kind,path,tree,filesystem,size,fields,target\n",
              f);
        for (size_t i = 0; i < json_array_length(fss); i++) {
                json_object *fs = json_object_array_get_idx(fss, i), *side = present_side(fs);
                const char *change = json_get_string(fs, "change");
                if (fs_change_kind_from_string(change) == FS_UNCHANGED || !change)
                        continue;
                csv_string(f, "filesystem", false);
                csv_string(f, change, false);
                csv_string(f, json_get_string(fs, "type"), false);
                csv_string(f, json_get_string(fs, "device"), false);
                csv_string(f, "", false);
                csv_string(f, json_get_string(fs, "device"), false);
                snprintf(num, sizeof num, "%" PRIi64, json_object_get_int64(json_get(side, "size", json_type_int)));
                csv_string(f, num, false);
                csv_fields(f, json_get(fs, "fields", json_type_array));
                csv_string(f, "", !causes);
                if (causes) {
                        csv_string(f, "", false);
                        csv_string(f, "", true);
                }
        }
        return ferror(f) ? -EIO : 0;
}

int output_csv_change(FILE *f, json_object *c, const OutputOptions *o) {
        bool causes = o->packages || o->explain;
        json_object *side = present_side(c);
        const char *change = json_get_string(c, "change"), *kind = json_get_string(c, "kind");
        char kinds[64], num[32];
        if (change && strcmp(change, "type") == 0) {
                snprintf(kinds, sizeof kinds, "%s->%s", json_get_string(json_get(c, "old", json_type_object), "kind"),
                         kind);
                kind = kinds;
        }
        csv_string(f, "entry", false);
        csv_string(f, change, false);
        csv_string(f, kind, false);
        csv_bytes(f, c, "path", false);
        csv_string(f, json_get_string(c, "tree"), false);
        csv_string(f, json_get_string(c, "filesystem"), false);
        snprintf(num, sizeof num, "%" PRIi64, json_object_get_int64(json_get(c, "size", json_type_int)));
        csv_string(f, num, false);
        csv_fields(f, json_get(c, "fields", json_type_array));
        csv_bytes(f, json_get(side, "target", json_type_string) ? side : NULL, "target", !causes);
        if (causes) {
                csv_string(f, strempty(json_get_string(c, "cause")), false);
                csv_owners(f, c, true);
        }
        return ferror(f) ? -EIO : 0;
}

int output_csv(FILE *f, json_object *result, const OutputOptions *o) {
        json_object *changes = json_get(result, "changes", json_type_array);
        int k = output_csv_head(f, result, o);
        for (size_t i = 0; k >= 0 && i < json_array_length(changes); i++)
                k = output_csv_change(f, json_object_array_get_idx(changes, i), o);
        return k;
}

int output_packages_csv(FILE *f, json_object *result) {
        json_object *list = json_get(result, "packages", json_type_array);
        fputs("name,arch,change,old_version,new_version\n", f);
        for (size_t i = 0; i < json_array_length(list); i++) {
                json_object *p = json_object_array_get_idx(list, i);
                csv_string(f, strempty(json_get_string(p, "name")), false);
                csv_string(f, strempty(json_get_string(p, "arch")), false);
                csv_string(f, strempty(json_get_string(p, "change")), false);
                csv_string(f, strempty(json_get_string(p, "old_version")), false);
                csv_string(f, strempty(json_get_string(p, "new_version")), true);
        }
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}

static int ndjson_line(FILE *f, const char *record, json_object *value) {
        _cleanup_json_ json_object *line = json_object_new_object();
        if (!line || json_object_object_add(line, record, json_object_get(value)) < 0)
                return -ENOMEM;
        const char *s = json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        fputs(s, f);
        fputc('\n', f);
        return 0;
}

int output_ndjson_head(FILE *f, json_object *result, const OutputOptions *o _unused_) {
        static const char *const sides[] = {"a", "b"};
        json_object *fss = json_get(result, "filesystems", json_type_array);
        int k = 0;

        for (size_t i = 0; k >= 0 && i < ELEMENTSOF(sides); i++)
                k = ndjson_line(f, sides[i], json_get(result, sides[i], json_type_object));
        json_object *packages = json_get(result, "packages", json_type_array);
        for (size_t i = 0; k >= 0 && i < json_array_length(packages); i++)
                k = ndjson_line(f, "package", json_object_array_get_idx(packages, i));
        for (size_t i = 0; k >= 0 && i < json_array_length(fss); i++)
                k = ndjson_line(f, "filesystem", json_object_array_get_idx(fss, i));
        if (k < 0)
                return k;
        return ferror(f) ? -EIO : 0;
}

int output_ndjson_change(FILE *f, json_object *c, const OutputOptions *o _unused_) {
        int k = ndjson_line(f, "change", c);
        if (k < 0)
                return k;
        return ferror(f) ? -EIO : 0;
}

int output_ndjson_end(FILE *f, json_object *result, const OutputOptions *o _unused_) {
        int k = ndjson_line(f, "summary", json_get(result, "summary", json_type_object));
        if (k < 0)
                return k;
        return ferror(f) ? -EIO : 0;
}

int output_ndjson(FILE *f, json_object *result, const OutputOptions *o) {
        json_object *changes = json_get(result, "changes", json_type_array);
        int k = output_ndjson_head(f, result, o);
        for (size_t i = 0; k >= 0 && i < json_array_length(changes); i++)
                k = output_ndjson_change(f, json_object_array_get_idx(changes, i), o);
        return k < 0 ? k : output_ndjson_end(f, result, o);
}

int output_summary(FILE *f, json_object *result, const OutputOptions *o _unused_) {
        json_object *s = json_get(result, "summary", json_type_object);

        for (ChangeKind k = 0; k < _CHANGE_KIND_MAX; k++) {
                int64_t n = json_object_get_int64(json_get(s, change_kind_to_string(k), json_type_int));
                /* Type changes are rare: named only when there are some. */
                if (k != CHANGE_TYPE || n > 0)
                        fprintf(f, "%s%" PRIi64 " %s", k > 0 ? ", " : "", n, change_kind_to_string(k));
        }
        fputc('\n', f);
        /* With --packages: the package changes and the causes. */
        json_object *p = json_get(s, "packages", json_type_object), *c = json_get(s, "causes", json_type_object);
        if (p)
                fprintf(f, "packages: %" PRIi64 " added, %" PRIi64 " removed, %" PRIi64 " upgraded, %" PRIi64
                           " downgraded\n",
                        json_get_i64(p, "added"), json_get_i64(p, "removed"), json_get_i64(p, "upgraded"),
                        json_get_i64(p, "downgraded"));
        if (c)
                fprintf(f, "causes: %" PRIi64 " tampered, %" PRIi64 " config, %" PRIi64 " package, %" PRIi64
                           " unowned\n",
                        json_get_i64(c, "tampered"), json_get_i64(c, "config"), json_get_i64(c, "package"),
                        json_get_i64(c, "unowned"));
        return ferror(f) ? -EIO : 0;
}

/* virt-diffctl manifest: an exported manifest (schemas/manifest.schema.json)
 * written as it is (JSON), as CSV with exact name bytes, or as an mtree(5)
 * specification that bsdtar, libarchive and mtree(8) read:
 *
 *   #mtree
 *   ./etc type=dir mode=0755 uid=0 gid=0 nlink=2 time=1700000000.000000000
 *   ./etc/hostname type=file mode=0644 ... size=8 sha256digest=...
 *
 * Each entry's full path: "." for a tree's root, "./etc/hostname" in the
 * inspected OS's tree, "./dev/sdb1:/x" in a filesystem's own tree (as the
 * text output names it "/dev/sdb1:/x"; the colon keeps it apart from the
 * guest's own /dev/sdb1). Names and
 * link targets are written as vis(3) does with VIS_OCTAL: every byte but
 * printable ASCII, and '\\', '#' and the glob characters '*', '?', '[', as a
 * backslash and three octal digits. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "output/output-internal.h"

static const char *const manifest_formats[_MANIFEST_FORMAT_MAX] = {
        [MANIFEST_JSON] = "json",
        [MANIFEST_CSV] = "csv",
        [MANIFEST_MTREE] = "mtree",
};

const char *manifest_format_to_string(ManifestFormat f) {
        return (unsigned) f < _MANIFEST_FORMAT_MAX ? manifest_formats[f] : NULL;
}

int manifest_format_from_string(const char *s) {
        for (size_t i = 0; i < _MANIFEST_FORMAT_MAX; i++)
                if (streq_ptr(s, manifest_formats[i]))
                        return (int) i;
        return -EINVAL;
}

static void vis_write(FILE *f, const char *s, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c > 0x20 && c < 0x7f && !strchr("\\#*?[", c))
                        fputc(c, f);
                else
                        fprintf(f, "\\%03o", c);
        }
}

/* "./dev/sdb1:" for a tree of its own, "." for the inspected OS's. */
static void tree_prefix(FILE *f, const char *tree) {
        fputc('.', f);
        if (strcmp(tree, "/") != 0) {
                vis_write(f, tree, strlen(tree));
                fputc(':', f);
        }
}

/* The types libarchive reads; BSD mtree's "socket" it refuses, so a
 * socket (which no archive can hold anyway) is written as a comment. */
static const char *mtree_type(const char *kind) {
        static const struct {
                const char *kind, *type;
        } types[] = {
                {"file", "file"}, {"directory", "dir"}, {"symlink", "link"},
                {"char", "char"}, {"block", "block"},   {"fifo", "fifo"},
        };
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (streq_ptr(kind, types[i].kind))
                        return types[i].type;
        return NULL;
}

static int mtree_entry(FILE *f, const char *tree, json_object *e) {
        _cleanup_free_ char *path = NULL;
        const char *kind = json_get_string(e, "kind"), *type = mtree_type(kind), *sha = json_get_string(e, "sha256");
        int64_t mtime = json_get_i64(e, "mtime_ns");
        size_t len;

        if (json_get_bytes(e, "path", &path, &len) < 0)
                return -EINVAL;
        if (streq_ptr(kind, "socket"))
                fputs("#socket ", f);
        tree_prefix(f, tree);
        if (strcmp(path, "/") != 0)
                vis_write(f, path, len);
        if (type)
                fprintf(f, " type=%s", type);
        fprintf(f, " mode=%04" PRIo64 " uid=%" PRIu64 " gid=%" PRIu64 " nlink=%" PRIu64 " time=%" PRIi64 ".%09" PRIi64,
                json_get_u64(e, "mode") & 07777, json_get_u64(e, "uid"), json_get_u64(e, "gid"),
                json_get_u64(e, "nlink"), mtime / 1000000000 - (mtime % 1000000000 < 0),
                (mtime % 1000000000 + 1000000000) % 1000000000);
        if (streq_ptr(kind, "file"))
                fprintf(f, " size=%" PRIu64, json_get_u64(e, "size"));
        if (streq_ptr(kind, "symlink")) {
                _cleanup_free_ char *target = NULL;
                size_t tlen;
                if (json_get_bytes(e, "target", &target, &tlen) >= 0) {
                        fputs(" link=", f);
                        vis_write(f, target, tlen);
                }
        }
        if (streq_ptr(kind, "char") || streq_ptr(kind, "block")) {
                uint64_t rdev = json_get_u64(e, "rdev");
                fprintf(f, " device=native,%u,%u", major((dev_t) rdev), minor((dev_t) rdev));
        }
        if (sha)
                fprintf(f, " sha256digest=%s", sha);
        fputc('\n', f);
        return 0;
}

static int manifest_mtree(FILE *f, json_object *m) {
        json_object *trees = json_get(m, "trees", json_type_array), *images = json_get(m, "images", json_type_array);

        fputs("#mtree\n# virt-diff manifest", f);
        for (size_t i = 0; i < json_array_length(images); i++) {
                _cleanup_free_ char *p = output_display_bytes(json_object_array_get_idx(images, i), "path");
                fprintf(f, "%s%s", i ? ", " : " of ", strempty(p));
        }
        fprintf(f, "\n# key %s\n", strempty(json_get_string(m, "key")));
        for (size_t i = 0; i < json_array_length(trees); i++) {
                json_object *t = json_object_array_get_idx(trees, i), *entries = json_get(t, "entries", json_type_array);
                const char *tree = strempty(json_get_string(t, "tree"));
                for (size_t j = 0; j < json_array_length(entries); j++) {
                        int k = mtree_entry(f, tree, json_object_array_get_idx(entries, j));
                        if (k < 0)
                                return k;
                }
        }
        return ferror(f) ? -EIO : 0;
}

static int manifest_csv(FILE *f, json_object *m) {
        json_object *trees = json_get(m, "trees", json_type_array);
        char num[64];

        fputs("tree,path,filesystem,kind,mode,uid,gid,size,mtime_ns,sha256,target\n", f);
        for (size_t i = 0; i < json_array_length(trees); i++) {
                json_object *t = json_object_array_get_idx(trees, i), *entries = json_get(t, "entries", json_type_array);
                for (size_t j = 0; j < json_array_length(entries); j++) {
                        json_object *e = json_object_array_get_idx(entries, j);
                        csv_string(f, json_get_string(t, "tree"), false);
                        csv_bytes(f, e, "path", false);
                        csv_string(f, json_get_string(e, "filesystem"), false);
                        csv_string(f, json_get_string(e, "kind"), false);
                        snprintf(num, sizeof num, "%04" PRIo64, json_get_u64(e, "mode") & 07777);
                        csv_string(f, num, false);
                        static const char *const numbers[] = {"uid", "gid", "size"};
                        for (size_t k = 0; k < ELEMENTSOF(numbers); k++) {
                                snprintf(num, sizeof num, "%" PRIu64, json_get_u64(e, numbers[k]));
                                csv_string(f, num, false);
                        }
                        snprintf(num, sizeof num, "%" PRIi64, json_get_i64(e, "mtime_ns"));
                        csv_string(f, num, false);
                        csv_string(f, json_get_string(e, "sha256"), false);
                        csv_bytes(f, json_get(e, "target", json_type_string) ? e : NULL, "target", true);
                }
        }
        return ferror(f) ? -EIO : 0;
}

int manifest_output_write(FILE *f, json_object *manifest, ManifestFormat format) {
        int k;

        if (!f || !json_object_is_type(manifest, json_type_object))
                return -EINVAL;
        switch (format) {
        case MANIFEST_JSON: {
                const char *s = json_object_to_json_string_ext(manifest, JSON_C_TO_STRING_PRETTY |
                                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
                if (!s)
                        return -ENOMEM;
                fputs(s, f);
                fputc('\n', f);
                k = 0;
                break;
        }
        case MANIFEST_CSV:
                k = manifest_csv(f, manifest);
                break;
        case MANIFEST_MTREE:
                k = manifest_mtree(f, manifest);
                break;
        default:
                return -EINVAL;
        }
        if (k < 0)
                return k;
        return fflush(f) != 0 || ferror(f) ? -EIO : 0;
}

/* The text writer: one line a change, in the style of virt-diff's
 * listing, with -l (long), -m (mount points) and the field options. */
#include <errno.h>
#include <inttypes.h>

#include "common/quote.h"
#include "output/output-internal.h"

/* Quotes the bytes of o's KEY; NULL when absent or out of memory. */
static char *json_quote(json_object *o, const char *key) {
        _cleanup_free_ char *b = NULL;
        size_t n;

        if (json_get_bytes(o, key, &b, &n) < 0)
                return NULL;
        return quote_bytes(b, n);
}

static const struct {
        const char *kind, *noun;
} kind_nouns[] = {
        { "file", "File" },
        { "directory", "Directory" },
        { "symlink", "Symlink" },
        { "char", "Character device" },
        { "block", "Block device" },
        { "fifo", "FIFO" },
        { "socket", "Socket" },
};

static const char *kind_noun(const char *kind) {
        for (size_t i = 0; i < ELEMENTSOF(kind_nouns); i++)
                if (streq_ptr(kind, kind_nouns[i].kind))
                        return kind_nouns[i].noun;
        return "Entry";
}

static void fields_write(FILE *f, json_object *fields, const char *sep) {
        for (size_t i = 0; i < json_array_length(fields); i++)
                fprintf(f, "%s%s", i > 0 ? sep : "", strempty(json_object_get_string(json_object_array_get_idx(fields, i))));
}

static int filesystem_write(FILE *f, json_object *fs, const OutputOptions *o) {
        const char *change = json_get_string(fs, "change");
        json_object *fields = json_get(fs, "fields", json_type_array);
        _cleanup_free_ char *device = json_quote(fs, "device");
        _cleanup_free_ char *mountpoint = json_quote(fs, "mountpoint");

        if (!device)
                return -EINVAL;
        if (fs_change_kind_from_string(change) == FS_UNCHANGED)
                return 0;

        fprintf(f, "%s: Filesystem %s", device, strempty(change));
        if (o->long_listing) {
                fprintf(f, ", type: %s, size: %" PRIu64, strempty(json_get_string(fs, "type")),
                        json_object_get_uint64(json_get(json_get(fs, "new", json_type_object) ?: json_get(fs, "old", json_type_object),
                                                        "size", json_type_int)));
                if (mountpoint)
                        fprintf(f, ", mount point: %s", mountpoint);
                if (json_array_length(fields) > 0) {
                        fputs(", changed: ", f);
                        fields_write(f, fields, ",");
                }
        } else {
                if (json_array_length(fields) > 0) {
                        fputs(" (", f);
                        fields_write(f, fields, ", ");
                        fputc(')', f);
                }
                if (o->mount && mountpoint)
                        fprintf(f, " (mounted on %s)", mountpoint);
        }
        fputc('\n', f);
        return 0;
}

/* "TREE:PATH" when changes come from several trees, else "PATH". */
int output_change_label_bytes(json_object *c, bool with_tree, char **ret, size_t *ret_len) {
        _cleanup_free_ char *path = NULL;
        const char *tree = strempty(json_get_string(c, "tree"));
        size_t n;
        int k = json_get_bytes(c, "path", &path, &n);

        if (k < 0)
                return k;
        /* The inspected OS's tree "/" holds guest paths: they need no name. */
        if (!with_tree || strcmp(tree, "/") == 0) {
                *ret = TAKE_PTR(path);
                *ret_len = n;
                return 0;
        }
        size_t t = strlen(tree);
        char *joined = malloc(t + 1 + n + 1);
        if (!joined)
                return -ENOMEM;
        memcpy(joined, tree, t);
        joined[t] = ':';
        memcpy(joined + t + 1, path, n);
        joined[t + 1 + n] = 0;
        *ret = joined;
        *ret_len = t + 1 + n;
        return 0;
}

char *output_change_label(json_object *c, bool with_tree) {
        _cleanup_free_ char *b = NULL;
        size_t n;

        if (output_change_label_bytes(c, with_tree, &b, &n) < 0)
                return NULL;
        return quote_bytes(b, n);
}

/* For -l: is there more to say than the size and the target, which the
 * line shows anyway? */
static bool fields_beyond_content(json_object *fields) {
        for (size_t i = 0; i < json_array_length(fields); i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(fields, i));
                if (!streq_ptr(s, "content") && !streq_ptr(s, "size") && !streq_ptr(s, "target"))
                        return true;
        }
        return false;
}

/* ", NAME: VALUE", or "OLD -> NEW" when the sides differ. */
static void pair_write(FILE *f, const char *name, const char *a, const char *b) {
        if (!a && !b)
                return;
        if (a && b && !streq_ptr(a, b))
                fprintf(f, ", %s: %s -> %s", name, a, b);
        else
                fprintf(f, ", %s: %s", name, b ?: a);
}

/* What --uids, --times, --checksum and --xattrs add to a -l line. */
static void extras_write(FILE *f, json_object *old, json_object *new, const OutputOptions *o) {
        char a[64], b[64];

        if (o->uids) {
                snprintf(a, sizeof a, "%" PRIu64 ":%" PRIu64, json_get_u64(old, "uid"), json_get_u64(old, "gid"));
                snprintf(b, sizeof b, "%" PRIu64 ":%" PRIu64, json_get_u64(new, "uid"), json_get_u64(new, "gid"));
                pair_write(f, "owner", old ? a : NULL, new ? b : NULL);
        }
        if (o->times) {
                static const char *const keys[] = {"atime_ns", "mtime_ns", "ctime_ns"};
                for (size_t i = o->atime ? 0 : 1; i < ELEMENTSOF(keys); i++) {
                        char name[8];
                        format_time(a, json_get_i64(old, keys[i]), o);
                        format_time(b, json_get_i64(new, keys[i]), o);
                        snprintf(name, sizeof name, "%.5s", keys[i]);
                        pair_write(f, name, old ? a : NULL, new ? b : NULL);
                }
        }
        if (o->checksum)
                pair_write(f, "checksum", old ? stat_checksum(old) : NULL, new ? stat_checksum(new) : NULL);
        if (o->xattrs && json_array_length(json_get(new ?: old, "xattrs", json_type_array)) > 0) {
                fputs(", xattrs:", f);
                xattrs_write(f, new ?: old, ' ');
        }
}

/* -u: the unified diff the daemon attached to a content change. */
static void content_diff_write(FILE *f, json_object *c) {
        _cleanup_free_ char *d = NULL;
        json_object *bin = json_get(c, "binary", json_type_boolean);
        const char *why = json_get_string(c, "diff_omitted");
        size_t n;

        if (bin && json_object_get_boolean(bin))
                fputs("Binary files differ\n", f);
        else if (json_get_bytes(c, "diff", &d, &n) >= 0) {
                fwrite(d, 1, n, f);
                if (n > 0 && d[n - 1] != '\n')
                        fputs("\n\\ No newline at end of diff\n", f);
        } else if (why)
                fprintf(f, "(no diff: %s)\n", why);
}

static int change_write(FILE *f, json_object *c, bool with_tree, const OutputOptions *o) {
        _cleanup_free_ char *label = output_change_label(c, with_tree);
        const char *change = strempty(json_get_string(c, "change"));
        const char *kind = json_get_string(c, "kind");
        json_object *fields = json_get(c, "fields", json_type_array);
        json_object *old = json_get(c, "old", json_type_object), *new = json_get(c, "new", json_type_object);
        const char *old_kind = json_get_string(old, "kind") ?: kind, *new_kind = json_get_string(new, "kind") ?: kind;

        ChangeKind ck = change_kind_from_string(change);
        if (!label)
                return -EINVAL;

        fprintf(f, "%s: ", label);
        if (!o->long_listing) {
                if (ck == CHANGE_TYPE)
                        fprintf(f, "Type changed (%s -> %s)", strempty(old_kind), strempty(new_kind));
                else if (ck == CHANGE_METADATA) {
                        fprintf(f, "%s metadata changed (", kind_noun(kind));
                        fields_write(f, fields, ", ");
                        fputc(')', f);
                } else
                        fprintf(f, "%s %s", kind_noun(kind), change);
                if (o->explain)
                        output_owners_write(f, c);
                fputc('\n', f);
                if (o->unified)
                        content_diff_write(f, c);
                return 0;
        }

        char size[32];
        format_size(size, json_object_get_uint64(json_get(c, "size", json_type_int)), o->human);
        fprintf(f, "%s, size: %s", change, size);
        if (ck == CHANGE_TYPE)
                fprintf(f, ", kind: %s -> %s", strempty(old_kind), strempty(new_kind));
        else if (!streq_ptr(kind, "file"))
                fprintf(f, ", kind: %s", strempty(kind));
        if (ck == CHANGE_METADATA || (ck == CHANGE_MODIFIED && fields_beyond_content(fields))) {
                fputs(", fields: ", f);
                fields_write(f, fields, ",");
        }

        json_object *link = streq_ptr(new_kind, "symlink") && new ? new : streq_ptr(old_kind, "symlink") ? old : NULL;
        if (link) {
                _cleanup_free_ char *target = json_quote(link, "target");
                if (target)
                        fprintf(f, ", target: %s", target);
        }
        extras_write(f, old, new, o);
        if (o->explain)
                output_owners_write(f, c);
        fputc('\n', f);
        if (o->unified)
                content_diff_write(f, c);
        return 0;
}

/* "# A: /img/a.qcow2 (cached)", "(scanned, direct)": where each side's
 * manifest came from, and which engine scanned it. */
static int side_write(FILE *f, json_object *side, int which) {
        json_object *images = json_get(side, "images", json_type_array);
        if (!images)
                return 0;
        fprintf(f, "# %c:", which ? 'B' : 'A');
        for (size_t i = 0; i < json_array_length(images); i++) {
                json_object *img = json_object_array_get_idx(images, i);
                _cleanup_free_ char *q = json_quote(img, "path");
                const char *snapshot = json_get_string(img, "snapshot");
                fprintf(f, "%s %s%s%s", i ? "," : "", q ? q : "?", snapshot ? "@" : "", strempty(snapshot));
        }
        fputs(" (", f);
        output_side_origin_write(f, side);
        fputs(")\n", f);
        return ferror(f) ? -EIO : 0;
}

/* Paths of different filesystems scanned on their own would look alike:
 * name the tree once there is more than one. */
bool output_several_trees(json_object *changes) {
        const char *first_tree = NULL;

        for (size_t i = 0; i < json_array_length(changes); i++) {
                const char *t = json_get_string(json_object_array_get_idx(changes, i), "tree");
                if (i == 0)
                        first_tree = t;
                else if (!streq_ptr(first_tree, t))
                        return true;
        }
        return false;
}

/* What comes before the changes: the sides with -l, the package section,
 * the filesystems. */
int output_text_head(FILE *f, json_object *result, const OutputOptions *o) {
        json_object *fss = json_get(result, "filesystems", json_type_array);
        int k;

        if (o->long_listing)
                for (int side = 0; side < 2; side++) {
                        k = side_write(f, json_get(result, side ? "b" : "a", json_type_object), side);
                        if (k < 0)
                                return k;
                }

        if (o->packages && (k = output_packages_text(f, result, o)) < 0)
                return k;
        for (size_t i = 0; i < json_array_length(fss); i++) {
                k = filesystem_write(f, json_object_array_get_idx(fss, i), o);
                if (k < 0)
                        return k;
        }
        return 0;
}

int output_text_change(FILE *f, json_object *c, bool with_tree, const OutputOptions *o) {
        return change_write(f, c, with_tree, o);
}

int output_text(FILE *f, json_object *result, const OutputOptions *o) {
        json_object *changes = json_get(result, "changes", json_type_array);
        bool with_tree = output_several_trees(changes);
        int k = output_text_head(f, result, o);

        if (k < 0)
                return k;
        if (o->explain)
                return output_explain_text(f, result, o, change_write);
        for (size_t i = 0; i < json_array_length(changes); i++) {
                k = change_write(f, json_object_array_get_idx(changes, i), with_tree, o);
                if (k < 0)
                        return k;
        }
        return 0;
}

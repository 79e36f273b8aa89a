#include "output/output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/quote.h"
#include "common/util.h"
#include "output/output-internal.h"

/* Quotes the bytes of o's KEY; NULL when absent or out of memory. */
static char *json_quote(json_object *o, const char *key) {
        _cleanup_free_ char *b = NULL;
        size_t n;

        if (json_get_bytes(o, key, &b, &n) < 0)
                return NULL;
        return quote_bytes(b, n);
}

/* -t: the devices of the filesystems to show and of those to hide. A change
 * is dropped only when its device is hidden and not also shown (mount
 * point matching can pair a device on one side with another device). */
typedef struct FsFilter {
        const char **shown, **hidden;
        size_t n_shown, n_hidden;
} FsFilter;

static void fs_filter_done(FsFilter *f) {
        free(f->shown);
        free(f->hidden);
}

static bool device_in(const char **l, size_t n, const char *device) {
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(l[i], device))
                        return true;
        return false;
}

static bool fs_filter_keeps_fs(const OutputOptions *o, json_object *fs) {
        return !o->types || strv_contains(o->types, strempty(json_get_string(fs, "type")));
}

static bool fs_filter_keeps_change(const FsFilter *f, json_object *change) {
        const char *device = json_get_string(change, "filesystem");

        return !device_in(f->hidden, f->n_hidden, device) || device_in(f->shown, f->n_shown, device);
}

static int summary_count(json_object *summary, const char *key, size_t n) {
        json_object *v = json_object_new_uint64(n);

        if (!v)
                return -ENOMEM;
        if (json_object_object_add(summary, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* The summary of what is left after -t, in the daemon's shape. */
static json_object *summary_build(json_object *fss, json_object *changes) {
        static const char *const change_kinds[] = { "added", "removed", "modified", "metadata", "type" };
        static const char *const fs_kinds[] = { "added", "removed", "changed", "unchanged" };
        _cleanup_json_ json_object *s = json_object_new_object(), *fs = json_object_new_object();
        bool differs = json_array_length(changes) > 0;
        json_object *b;

        if (!s || !fs)
                return NULL;
        for (size_t k = 0; k < ELEMENTSOF(change_kinds); k++) {
                size_t n = 0;
                for (size_t i = 0; i < json_array_length(changes); i++)
                        n += streq_ptr(json_get_string(json_object_array_get_idx(changes, i), "change"), change_kinds[k]);
                if (summary_count(s, change_kinds[k], n) < 0)
                        return NULL;
        }
        for (size_t k = 0; k < ELEMENTSOF(fs_kinds); k++) {
                size_t n = 0;
                for (size_t i = 0; i < json_array_length(fss); i++)
                        n += streq_ptr(json_get_string(json_object_array_get_idx(fss, i), "change"), fs_kinds[k]);
                if (summary_count(fs, fs_kinds[k], n) < 0)
                        return NULL;
                if (n > 0 && k != ELEMENTSOF(fs_kinds) - 1)
                        differs = true;
        }
        if (json_object_object_add(s, "filesystems", fs) < 0)
                return NULL;
        TAKE_PTR(fs);

        b = json_object_new_boolean(differs);
        if (!b)
                return NULL;
        if (json_object_object_add(s, "differences", b) < 0) {
                json_object_put(b);
                return NULL;
        }
        return TAKE_PTR(s);
}

static int array_append_ref(json_object *a, json_object *v) {
        if (json_object_array_add(a, json_object_get(v)) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* A new result holding only what passes -t; the elements are shared with
 * the original by reference. */
static int result_filter(json_object *result, const OutputOptions *o, json_object **ret) {
        _cleanup_(fs_filter_done) FsFilter f = {};
        _cleanup_json_ json_object *view = json_object_new_object();
        _cleanup_json_ json_object *fss = json_object_new_array(), *changes = json_object_new_array();
        _cleanup_json_ json_object *summary = NULL;
        json_object *in_fss = json_get(result, "filesystems", json_type_array);
        json_object *in_changes = json_get(result, "changes", json_type_array);
        size_t n = json_array_length(in_fss);
        int k;

        if (!view || !fss || !changes)
                return -ENOMEM;
        f.shown = calloc(n + 1, sizeof(char *));
        f.hidden = calloc(n + 1, sizeof(char *));
        if (!f.shown || !f.hidden)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                json_object *fs = json_object_array_get_idx(in_fss, i);

                if (fs_filter_keeps_fs(o, fs)) {
                        f.shown[f.n_shown++] = json_get_string(fs, "device");
                        k = array_append_ref(fss, fs);
                        if (k < 0)
                                return k;
                } else
                        f.hidden[f.n_hidden++] = json_get_string(fs, "device");
        }

        for (size_t i = 0; i < json_array_length(in_changes); i++) {
                json_object *c = json_object_array_get_idx(in_changes, i);

                if (!fs_filter_keeps_change(&f, c))
                        continue;
                k = array_append_ref(changes, c);
                if (k < 0)
                        return k;
        }

        summary = summary_build(fss, changes);
        if (!summary)
                return -ENOMEM;

        json_object_object_foreach(result, key, val) {
                json_object *v;

                if (streq_ptr(key, "filesystems"))
                        v = TAKE_PTR(fss);
                else if (streq_ptr(key, "changes"))
                        v = TAKE_PTR(changes);
                else if (streq_ptr(key, "summary"))
                        v = TAKE_PTR(summary);
                else
                        v = json_object_get(val);

                if (json_object_object_add(view, key, v) < 0) {
                        json_object_put(v);
                        return -ENOMEM;
                }
        }

        *ret = TAKE_PTR(view);
        return 0;
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
        if (streq_ptr(change, "unchanged"))
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

static const char *const format_names[_OUTPUT_FORMAT_MAX] = {
        [OUTPUT_TEXT] = "text", [OUTPUT_JSON] = "json",       [OUTPUT_CSV] = "csv",
        [OUTPUT_NDJSON] = "ndjson", [OUTPUT_SUMMARY] = "summary", [OUTPUT_VIRT_DIFF] = "virt-diff",
};

const char *output_format_to_string(OutputFormat f) {
        return (unsigned) f < _OUTPUT_FORMAT_MAX ? format_names[f] : NULL;
}

int output_format_from_string(const char *s) {
        for (size_t i = 0; i < _OUTPUT_FORMAT_MAX; i++)
                if (streq_ptr(s, format_names[i]))
                        return (int) i;
        return -EINVAL;
}

/* "TREE:PATH" when changes come from several trees, else "PATH". */
char *output_change_label(json_object *c, bool with_tree) {
        _cleanup_free_ char *path = NULL, *joined = NULL;
        const char *tree = strempty(json_get_string(c, "tree"));
        size_t n;

        if (json_get_bytes(c, "path", &path, &n) < 0)
                return NULL;
        /* The inspected OS's tree "/" holds guest paths: they need no name. */
        if (!with_tree || strcmp(tree, "/") == 0)
                return quote_bytes(path, n);

        size_t t = strlen(tree);
        joined = malloc(t + 1 + n + 1);
        if (!joined)
                return NULL;
        memcpy(joined, tree, t);
        joined[t] = ':';
        memcpy(joined + t + 1, path, n);
        return quote_bytes(joined, t + 1 + n);
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

        if (!label)
                return -EINVAL;

        fprintf(f, "%s: ", label);
        if (!o->long_listing) {
                if (streq_ptr(change, "type"))
                        fprintf(f, "Type changed (%s -> %s)", strempty(old_kind), strempty(new_kind));
                else if (streq_ptr(change, "metadata")) {
                        fprintf(f, "%s metadata changed (", kind_noun(kind));
                        fields_write(f, fields, ", ");
                        fputc(')', f);
                } else
                        fprintf(f, "%s %s", kind_noun(kind), change);
                fputc('\n', f);
                if (o->unified)
                        content_diff_write(f, c);
                return 0;
        }

        char size[32];
        format_size(size, json_object_get_uint64(json_get(c, "size", json_type_int)), o->human);
        fprintf(f, "%s, size: %s", change, size);
        if (streq_ptr(change, "type"))
                fprintf(f, ", kind: %s -> %s", strempty(old_kind), strempty(new_kind));
        else if (!streq_ptr(kind, "file"))
                fprintf(f, ", kind: %s", strempty(kind));
        if (streq_ptr(change, "metadata") || (streq_ptr(change, "modified") && fields_beyond_content(fields))) {
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
        fputc('\n', f);
        if (o->unified)
                content_diff_write(f, c);
        return 0;
}

/* "# A: /img/a.qcow2 (cached)": where each side's manifest came from. */
static int side_write(FILE *f, json_object *side, int which) {
        json_object *images = json_get(side, "images", json_type_array), *cached;
        if (!images)
                return 0;
        fprintf(f, "# %c:", which ? 'B' : 'A');
        for (size_t i = 0; i < json_array_length(images); i++) {
                json_object *img = json_object_array_get_idx(images, i);
                _cleanup_free_ char *q = json_quote(img, "path");
                const char *snapshot = json_get_string(img, "snapshot");
                fprintf(f, "%s %s%s%s", i ? "," : "", q ? q : "?", snapshot ? "@" : "", strempty(snapshot));
        }
        bool from_cache = json_object_object_get_ex(side, "cached", &cached) && json_object_get_boolean(cached);
        fprintf(f, " (%s", from_cache ? "cached" : "scanned");
        output_domain_write(f, side);
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

static int output_text(FILE *f, json_object *result, const OutputOptions *o) {
        json_object *fss = json_get(result, "filesystems", json_type_array);
        json_object *changes = json_get(result, "changes", json_type_array);
        bool with_tree = output_several_trees(changes);
        int k;

        if (o->long_listing)
                for (int side = 0; side < 2; side++) {
                        k = side_write(f, json_get(result, side ? "b" : "a", json_type_object), side);
                        if (k < 0)
                                return k;
                }

        for (size_t i = 0; i < json_array_length(fss); i++) {
                k = filesystem_write(f, json_object_array_get_idx(fss, i), o);
                if (k < 0)
                        return k;
        }
        for (size_t i = 0; i < json_array_length(changes); i++) {
                k = change_write(f, json_object_array_get_idx(changes, i), with_tree, o);
                if (k < 0)
                        return k;
        }
        return 0;
}

int output_write(FILE *f, json_object *result, const OutputOptions *o) {
        return output_write_view(f, result, o, NULL);
}

int output_write_view(FILE *f, json_object *result, const OutputOptions *o, bool *ret_differs) {
        static const OutputOptions defaults = {};
        _cleanup_json_ json_object *view = NULL;
        int k;

        if (!f || !json_object_is_type(result, json_type_object))
                return -EINVAL;
        if (!o)
                o = &defaults;

        if (o->types) {
                k = result_filter(result, o, &view);
                if (k < 0)
                        return k;
        } else
                view = json_object_get(result);
        if (ret_differs) {
                json_object *d = json_get(json_get(view, "summary", json_type_object), "differences", json_type_boolean);
                *ret_differs = d && json_object_get_boolean(d);
        }

        if (o->format == OUTPUT_JSON) {
                const char *s = json_object_to_json_string_ext(view, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
                if (!s)
                        return -ENOMEM;
                fputs(s, f);
                fputc('\n', f);
        } else {
                k = o->format == OUTPUT_CSV      ? output_csv(f, view)
                    : o->format == OUTPUT_NDJSON  ? output_ndjson(f, view)
                    : o->format == OUTPUT_SUMMARY ? output_summary(f, view)
                    : o->format == OUTPUT_VIRT_DIFF ? output_virt_diff(f, view, o)
                                                  : output_text(f, view, o);
                if (k < 0)
                        return k;
        }

        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}

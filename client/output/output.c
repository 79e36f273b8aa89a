/* The writers behind one table, and the view of a result they write: the
 * whole result, or what -t leaves of it. */
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
        _cleanup_json_ json_object *s = json_object_new_object(), *fs = json_object_new_object();
        bool differs = json_array_length(changes) > 0;
        json_object *b;

        if (!s || !fs)
                return NULL;
        for (ChangeKind k = 0; k < _CHANGE_KIND_MAX; k++) {
                size_t n = 0;
                for (size_t i = 0; i < json_array_length(changes); i++)
                        n += change_kind_from_string(json_get_string(json_object_array_get_idx(changes, i), "change")) == k;
                if (summary_count(s, change_kind_to_string(k), n) < 0)
                        return NULL;
        }
        /* In the order the daemon writes them. */
        static const FsChangeKind fs_kinds[] = {FS_ADDED, FS_REMOVED, FS_CHANGED, FS_UNCHANGED};
        for (size_t k = 0; k < ELEMENTSOF(fs_kinds); k++) {
                size_t n = 0;
                for (size_t i = 0; i < json_array_length(fss); i++)
                        n += fs_change_kind_from_string(json_get_string(json_object_array_get_idx(fss, i), "change")) ==
                             fs_kinds[k];
                if (summary_count(fs, fs_change_kind_to_string(fs_kinds[k]), n) < 0)
                        return NULL;
                if (n > 0 && fs_kinds[k] != FS_UNCHANGED)
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

/* With packages: the package counts as they were (-t hides no package),
 * the causes counted again over what is left. */
static int summary_packages(json_object *summary, json_object *original, json_object *changes) {
        static const char *const causes[] = {"tampered", "config", "package", "unowned"};
        json_object *p = json_get(original, "packages", json_type_object);
        if (!p)
                return 0;
        if (json_object_object_add(summary, "packages", json_object_get(p)) < 0) {
                json_object_put(p);
                return -ENOMEM;
        }
        _cleanup_json_ json_object *c = json_object_new_object();
        if (!c)
                return -ENOMEM;
        for (size_t k = 0; k < ELEMENTSOF(causes); k++) {
                size_t n = 0;
                for (size_t i = 0; i < json_array_length(changes); i++)
                        n += streq_ptr(json_get_string(json_object_array_get_idx(changes, i), "cause"), causes[k]);
                if (summary_count(c, causes[k], n) < 0)
                        return -ENOMEM;
        }
        if (json_object_object_add(summary, "causes", c) < 0)
                return -ENOMEM;
        TAKE_PTR(c);
        return 0;
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
        k = summary_packages(summary, json_get(result, "summary", json_type_object), changes);
        if (k < 0)
                return k;

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

/* One writer per format; each writes the whole (filtered) result. */
static int write_json(FILE *f, json_object *result, const OutputOptions *o _unused_) {
        const char *s = json_object_to_json_string_ext(result, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        fputs(s, f);
        fputc('\n', f);
        return 0;
}

static const struct {
        const char *name;
        int (*write)(FILE *f, json_object *result, const OutputOptions *o);
} writers[_OUTPUT_FORMAT_MAX] = {
        [OUTPUT_TEXT] = {"text", output_text},
        [OUTPUT_JSON] = {"json", write_json},
        [OUTPUT_CSV] = {"csv", output_csv},
        [OUTPUT_NDJSON] = {"ndjson", output_ndjson},
        [OUTPUT_SUMMARY] = {"summary", output_summary},
        [OUTPUT_VIRT_DIFF] = {"virt-diff", output_virt_diff},
        [OUTPUT_MARKDOWN] = {"markdown", output_markdown},
        [OUTPUT_HTML] = {"html", output_html},
};

const char *output_format_to_string(OutputFormat f) {
        return (unsigned) f < _OUTPUT_FORMAT_MAX ? writers[f].name : NULL;
}

int output_format_from_string(const char *s) {
        for (size_t i = 0; i < _OUTPUT_FORMAT_MAX; i++)
                if (streq_ptr(s, writers[i].name))
                        return (int) i;
        return -EINVAL;
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

        if ((unsigned) o->format >= _OUTPUT_FORMAT_MAX)
                return -EINVAL;
        k = writers[o->format].write(f, view, o);
        if (k < 0)
                return k;

        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}

int output_write_file(const char *path, json_object *result, const OutputOptions *o) {
        char *tmp;
        FILE *f;
        int k = fopen_temporary(path, &f, &tmp);

        if (k < 0)
                return k;
        return fclose_and_rename(f, tmp, path, output_write(f, result, o));
}

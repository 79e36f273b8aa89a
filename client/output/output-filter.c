/* -t: the result as seen through a filesystem type filter. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
int output_result_filter(json_object *result, const OutputOptions *o, json_object **ret) {
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

#include "compare/result-json.h"

#include "common/base64.h"

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

static json_object *fields_to_json(unsigned fields, unsigned n_bits, const char *(*to_string)(unsigned)) {
        _cleanup_json_ json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (unsigned i = 0; i < n_bits; i++)
                if ((fields & (1u << i)) && json_append(a, json_object_new_string(to_string(i))) < 0)
                        return NULL;
        return TAKE_PTR(a);
}

static int json_add_filesystem(json_object *obj, const char *key, const Filesystem *f) {
        if (!f)
                return json_add_null(obj, key);
        return json_add(obj, key, filesystem_to_json(f));
}

static json_object *fs_change_to_json(const FsChange *c) {
        _cleanup_json_ json_object *o = json_object_new_object();
        const Filesystem *f = c->b ?: c->a;

        if (!o || !f)
                return NULL;
        if (json_add_text(o, "device", strempty(f->device)) < 0 ||
            json_add_text(o, "type", strempty(f->type)) < 0 ||
            json_add(o, "change", json_object_new_string(fs_change_kind_to_string(c->change))) < 0 ||
            json_add(o, "matched_by", json_object_new_string(c->by_mountpoint ? "mountpoint" : "device")) < 0 ||
            json_add_name(o, "mountpoint", f->mountpoint) < 0 ||
            json_add(o, "fields",
                     fields_to_json(c->change == FS_CHANGED ? c->fields : 0, _FS_FIELD_COUNT, fs_field_to_string)) < 0 ||
            json_add_filesystem(o, "old", c->a) < 0 ||
            json_add_filesystem(o, "new", c->b) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int json_add_entry(json_object *obj, const char *key, const Entry *e) {
        if (!e)
                return json_add_null(obj, key);
        return json_add(obj, key, entry_stat_to_json(e));
}

static const char *entry_device(const Manifest *m, const Entry *e) {
        if (!m || !e || e->fs >= m->n_filesystems)
                return NULL;
        return m->filesystems[e->fs].device;
}

json_object *diff_change_to_json(const DiffResult *r, const Change *c) {
        _cleanup_json_ json_object *o = json_object_new_object();
        const Entry *e = c->b ?: c->a;
        const char *device = c->b ? entry_device(r->b, c->b) : entry_device(r->a, c->a);
        /* Added, removed and type changes concern the whole entry. */
        unsigned fields = c->change == CHANGE_MODIFIED || c->change == CHANGE_METADATA ? c->fields : 0;

        if (!o || !e)
                return NULL;
        if (json_add_bytes(o, "path", strempty(e->path), strlen(strempty(e->path))) < 0 ||
            json_add_text(o, "tree", strempty(c->tree)) < 0 ||
            json_add_text(o, "filesystem", device) < 0 ||
            json_add(o, "change", json_object_new_string(change_kind_to_string(c->change))) < 0 ||
            json_add(o, "kind", json_object_new_string(strempty(entry_kind_to_string(e->kind)))) < 0 ||
            json_add(o, "fields", fields_to_json(fields, _FIELD_COUNT, change_field_to_string)) < 0 ||
            json_add(o, "size", json_object_new_uint64(e->size)) < 0 ||
            json_add_entry(o, "old", c->a) < 0 ||
            json_add_entry(o, "new", c->b) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *summary_to_json(const DiffResult *r) {
        _cleanup_json_ json_object *o = json_object_new_object(), *fs = json_object_new_object();

        if (!o || !fs)
                return NULL;
        for (ChangeKind k = 0; k < _CHANGE_KIND_MAX; k++)
                if (json_add(o, change_kind_to_string(k), json_object_new_uint64(r->counts[k])) < 0)
                        return NULL;
        for (FsChangeKind k = 0; k < _FS_CHANGE_KIND_MAX; k++)
                if (json_add(fs, fs_change_kind_to_string(k), json_object_new_uint64(r->fs_counts[k])) < 0)
                        return NULL;
        if (json_add(o, "filesystems", TAKE_PTR(fs)) < 0 ||
            json_add(o, "differences", json_object_new_boolean(diff_result_differs(r))) < 0)
                return NULL;
        return TAKE_PTR(o);
}

json_object *diff_result_to_json(const DiffResult *r) {
        _cleanup_json_ json_object *o = json_object_new_object();
        _cleanup_json_ json_object *fss = json_object_new_array();
        _cleanup_json_ json_object *changes = json_object_new_array();

        if (!o || !fss || !changes)
                return NULL;
        for (size_t i = 0; i < r->n_filesystems; i++)
                if (json_append(fss, fs_change_to_json(&r->filesystems[i])) < 0)
                        return NULL;
        for (size_t i = 0; i < r->n_changes; i++)
                if (json_append(changes, diff_change_to_json(r, &r->changes[i])) < 0)
                        return NULL;

        if (json_add(o, "filesystems", TAKE_PTR(fss)) < 0 ||
            json_add(o, "changes", TAKE_PTR(changes)) < 0 ||
            json_add(o, "summary", summary_to_json(r)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int content_notes_to_json(json_object *root, const ContentNote *notes, size_t n, const char *algorithm) {
        json_object *changes = NULL;
        int k = 0;

        if (!json_object_object_get_ex(root, "changes", &changes) || json_object_array_length(changes) != n)
                return -EINVAL;
        if (algorithm)
                k = json_add(root, "checksum_algorithm", json_object_new_string(algorithm));
        for (size_t i = 0; k >= 0 && i < n; i++) {
                json_object *c = json_object_array_get_idx(changes, i);
                const ContentNote *note = &notes[i];

                if (note->diff)
                        k = json_add_bytes(c, "diff", note->diff, note->diff_len);
                else if (note->binary)
                        k = json_add(c, "binary", json_object_new_boolean(true));
                else if (note->omitted)
                        k = json_add(c, "diff_omitted", json_object_new_string(note->omitted));
                for (int s = 0; k >= 0 && s < 2; s++) {
                        json_object *st = NULL;
                        if (!note->checksum[s] || !json_object_object_get_ex(c, s ? "new" : "old", &st) ||
                            !json_object_is_type(st, json_type_object))
                                continue;
                        k = json_add(st, "checksum", json_object_new_string(note->checksum[s]));
                }
        }
        return k < 0 ? -ENOMEM : 0;
}

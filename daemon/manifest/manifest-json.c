/* A manifest to JSON, and the JSON builders the result's writer shares. */
#include "manifest/manifest-json.h"

#include "common/base64.h"

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

int json_add(json_object *obj, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(obj, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int json_add_null(json_object *obj, const char *key) {
        return json_object_object_add(obj, key, NULL) < 0 ? -ENOMEM : 0;
}

int json_append(json_object *array, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(array, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static bool bytes_are_text(const char *bytes, size_t len) {
        return utf8_is_valid(bytes, len) && !memchr(bytes, 0, len);
}

int json_add_bytes(json_object *obj, const char *name, const char *bytes, size_t len) {
        _cleanup_free_ char *lossy = NULL, *b64 = NULL, *b64name = NULL;
        size_t n;
        int k;

        /* json-c lengths are int, and the lossy copy may triple. */
        if (len > INT32_MAX / 3)
                return -E2BIG;
        if (bytes_are_text(bytes, len))
                return json_add(obj, name, json_object_new_string_len(bytes, (int) len));

        lossy = utf8_lossy(bytes, len, &n);
        b64 = base64_encode((const uint8_t *) bytes, len);
        b64name = malloc(strlen(name) + sizeof("_base64"));
        if (!lossy || !b64 || !b64name)
                return -ENOMEM;
        strcpy(stpcpy(b64name, name), "_base64");

        k = json_add(obj, name, json_object_new_string_len(lossy, (int) n));
        if (k < 0)
                return k;
        return json_add(obj, b64name, json_object_new_string(b64));
}

/* For names nobody needs byte for byte (devices, types, error messages):
 * NULL as null, otherwise a string made valid UTF-8 if need be. */
int json_add_text(json_object *obj, const char *key, const char *s) {
        _cleanup_free_ char *lossy = NULL;
        size_t len, n;

        if (!s)
                return json_add_null(obj, key);
        len = strlen(s);
        if (utf8_is_valid(s, len))
                return json_add(obj, key, json_object_new_string(s));
        lossy = utf8_lossy(s, len, &n);
        if (!lossy)
                return -ENOMEM;
        return json_add(obj, key, json_object_new_string_len(lossy, (int) n));
}

/* Like json_add_bytes() on a NUL-terminated string, with NULL as null. */
int json_add_name(json_object *obj, const char *key, const char *s) {
        if (!s)
                return json_add_null(obj, key);
        return json_add_bytes(obj, key, s, strlen(s));
}

json_object *filesystem_to_json(const Filesystem *f) {
        _cleanup_json_ json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (json_add_text(o, "device", strempty(f->device)) < 0 ||
            json_add_text(o, "type", strempty(f->type)) < 0 ||
            json_add_text(o, "uuid", f->uuid) < 0 ||
            json_add_name(o, "label", f->label) < 0 ||
            json_add(o, "size", json_object_new_uint64(f->size)) < 0 ||
            json_add_name(o, "mountpoint", f->mountpoint) < 0 ||
            json_add(o, "scanned", json_object_new_boolean(f->scanned)) < 0 ||
            json_add_text(o, "error", f->error) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *xattrs_to_json(const Entry *e) {
        _cleanup_json_ json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < e->n_xattrs; i++) {
                _cleanup_json_ json_object *x = json_object_new_object();
                _cleanup_free_ char *v = NULL;

                if (!x)
                        return NULL;
                v = base64_encode(e->xattrs[i].value, e->xattrs[i].len);
                if (!v)
                        return NULL;
                if (json_add_bytes(x, "name", strempty(e->xattrs[i].name), strlen(strempty(e->xattrs[i].name))) < 0 ||
                    json_add(x, "value_base64", json_object_new_string(v)) < 0 ||
                    json_append(a, TAKE_PTR(x)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

json_object *entry_stat_to_json(const Entry *e) {
        _cleanup_json_ json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (json_add(o, "kind", json_object_new_string(strempty(entry_kind_to_string(e->kind)))) < 0 ||
            json_add(o, "mode", json_object_new_int64(e->mode & 07777)) < 0 ||
            json_add(o, "uid", json_object_new_int64(e->uid)) < 0 ||
            json_add(o, "gid", json_object_new_int64(e->gid)) < 0 ||
            json_add(o, "size", json_object_new_uint64(e->size)) < 0 ||
            json_add(o, "mtime_ns", json_object_new_int64(e->mtime_ns)) < 0 ||
            json_add(o, "atime_ns", json_object_new_int64(e->atime_ns)) < 0 ||
            json_add(o, "ctime_ns", json_object_new_int64(e->ctime_ns)) < 0 ||
            json_add(o, "nlink", json_object_new_uint64(e->nlink)) < 0 ||
            json_add(o, "ino", json_object_new_uint64(e->ino)) < 0 ||
            /* dev, blocks and blksize are here so that --extra-stats
             * fields name values a reader can see. */
            json_add(o, "dev", json_object_new_uint64(e->dev)) < 0 ||
            json_add(o, "blocks", json_object_new_uint64(e->blocks)) < 0 ||
            json_add(o, "blksize", json_object_new_uint64(e->blksize)) < 0)
                return NULL;

        if ((e->kind == ENTRY_KIND_CHAR || e->kind == ENTRY_KIND_BLOCK) && json_add(o, "rdev", json_object_new_uint64(e->rdev)) < 0)
                return NULL;
        if (e->kind == ENTRY_KIND_SYMLINK && json_add_bytes(o, "target", strempty(e->target), strlen(strempty(e->target))) < 0)
                return NULL;
        if (e->kind == ENTRY_KIND_FILE && e->has_sha256) {
                _cleanup_free_ char *hex = hexmem(e->sha256, sizeof(e->sha256));
                if (!hex || json_add(o, "sha256", json_object_new_string(hex)) < 0)
                        return NULL;
        }
        if (json_add(o, "xattrs", xattrs_to_json(e)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* An entry: its path and the filesystem it is on, then its stat. */
static json_object *entry_to_json(const Manifest *m, const Entry *e) {
        _cleanup_json_ json_object *o = json_object_new_object(), *stat = entry_stat_to_json(e);

        if (!o || !stat)
                return NULL;
        if (json_add_bytes(o, "path", strempty(e->path), strlen(strempty(e->path))) < 0 ||
            json_add_text(o, "filesystem", e->fs < m->n_filesystems ? m->filesystems[e->fs].device : NULL) < 0)
                return NULL;
        json_object_object_foreach(stat, key, val)
                if (json_add(o, key, json_object_get(val)) < 0)
                        return NULL;
        return TAKE_PTR(o);
}

json_object *manifest_to_json(const Manifest *m, const char *key) {
        _cleanup_json_ json_object *o = json_object_new_object();
        _cleanup_json_ json_object *fss = json_object_new_array(), *trees = json_object_new_array();

        if (!o || !fss || !trees)
                return NULL;
        for (size_t i = 0; i < m->n_filesystems; i++)
                if (json_append(fss, filesystem_to_json(&m->filesystems[i])) < 0)
                        return NULL;
        for (size_t i = 0; i < m->n_trees; i++) {
                const Tree *t = &m->trees[i];
                _cleanup_json_ json_object *tree = json_object_new_object();
                _cleanup_json_ json_object *entries = json_object_new_array_ext((int) (t->n_entries < INT32_MAX ? t->n_entries : 0));

                if (!tree || !entries || json_add_text(tree, "tree", t->key) < 0)
                        return NULL;
                for (size_t j = 0; j < t->n_entries; j++)
                        if (json_append(entries, entry_to_json(m, &t->entries[j])) < 0)
                                return NULL;
                if (json_add(tree, "entries", TAKE_PTR(entries)) < 0 || json_append(trees, TAKE_PTR(tree)) < 0)
                        return NULL;
        }
        if (json_add(o, "format", json_object_new_string(MANIFEST_JSON_FORMAT)) < 0 ||
            json_add(o, "version", json_object_new_int(MANIFEST_JSON_VERSION)) < 0 ||
            json_add_text(o, "key", key) < 0 ||
            json_add(o, "inspected", json_object_new_boolean(m->inspected)) < 0 ||
            json_add_text(o, "os", m->os_product) < 0 ||
            json_add(o, "filesystems", TAKE_PTR(fss)) < 0 ||
            json_add(o, "trees", TAKE_PTR(trees)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* Reading an exported manifest: hostile input, checked member by member.
 * Each fault names where it is ("trees[0].entries[12].mode") so that
 * whoever made the file can find it. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/base64.h"
#include "common/input-limits.h"
#include "manifest/manifest-json.h"

/* The document's nesting: manifest, trees, tree, entries, entry, xattrs,
 * xattr, and a little room. */
#define MAX_DEPTH 10

typedef struct Reader {
        Error *e;
        char where[160]; /* the member being read, for messages */
        size_t n_entries;
} Reader;

static int bad(Reader *r, const char *key, const char *what) {
        return error_set(r->e, ERR_INVALID_MANIFEST, "invalid manifest: %s%s%s: %s", r->where,
                         r->where[0] && key ? "." : "", strempty(key), what);
}

static int oom(Reader *r) {
        return error_set(r->e, ERR_INTERNAL, "out of memory reading a manifest");
}

/* o's key of this type; NULL (with an error unless optional) when absent
 * or of another type. A JSON null counts as absent. */
static json_object *member(Reader *r, json_object *o, const char *key, json_type type, bool optional) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v) || !v) {
                if (!optional)
                        (void) bad(r, key, "missing");
                return NULL;
        }
        if (!json_object_is_type(v, type)) {
                (void) bad(r, key, type == json_type_string    ? "not a string"
                                   : type == json_type_int     ? "not an integer"
                                   : type == json_type_boolean ? "not true or false"
                                   : type == json_type_array   ? "not an array"
                                                               : "not an object");
                return NULL;
        }
        return v;
}

static int get_u64(Reader *r, json_object *o, const char *key, uint64_t max, uint64_t *ret) {
        json_object *v = member(r, o, key, json_type_int, false);

        if (!v)
                return -1;
        /* json-c keeps integers above INT64_MAX unsigned, and reads
         * negative ones as 0 unsigned: the signed view tells them apart. */
        if (json_object_get_int64(v) < 0 || json_object_get_uint64(v) > max)
                return bad(r, key, "out of range");
        *ret = json_object_get_uint64(v);
        return 0;
}

static int get_i64(Reader *r, json_object *o, const char *key, int64_t *ret) {
        json_object *v = member(r, o, key, json_type_int, false);

        if (!v)
                return -1;
        if (json_object_get_int64(v) == INT64_MAX && json_object_get_uint64(v) > INT64_MAX)
                return bad(r, key, "out of range");
        *ret = json_object_get_int64(v);
        return 0;
}

static int get_bool(Reader *r, json_object *o, const char *key, bool *ret) {
        json_object *v = member(r, o, key, json_type_boolean, false);

        if (!v)
                return -1;
        *ret = json_object_get_boolean(v);
        return 0;
}

/* A string that is a C string: no NUL inside. NULL when absent and
 * optional; -1 after an error. */
static int get_text(Reader *r, json_object *o, const char *key, bool optional, char **ret) {
        json_object *v = member(r, o, key, json_type_string, optional);

        *ret = NULL;
        if (!v)
                return r->e->code ? -1 : 0;
        const char *s = json_object_get_string(v);
        if ((size_t) json_object_get_string_len(v) != strlen(s))
                return bad(r, key, "holds a NUL character");
        *ret = strdup(s);
        return *ret ? 0 : oom(r);
}

/* Exact bytes: KEY_base64 when present, else KEY; never holding a NUL,
 * which no name on a filesystem holds. */
static int get_name(Reader *r, json_object *o, const char *key, bool optional, char **ret) {
        char b64key[64];
        json_object *v;

        snprintf(b64key, sizeof b64key, "%s_base64", key);
        v = member(r, o, b64key, json_type_string, true);
        if (r->e->code)
                return -1;
        if (!v)
                return get_text(r, o, key, optional, ret);

        uint8_t *p = NULL;
        long n = base64_decode(json_object_get_string(v), &p);
        if (n < 0)
                return bad(r, b64key, "not base64");
        if (memchr(p, 0, (size_t) n)) {
                free(p);
                return bad(r, b64key, "holds a NUL byte");
        }
        *ret = (char *) p;
        return 0;
}

static int read_filesystem(Reader *r, json_object *o, Manifest *m) {
        Filesystem *f = manifest_add_filesystem(m);

        if (!f)
                return oom(r);
        if (!json_object_is_type(o, json_type_object))
                return bad(r, NULL, "not an object");
        if (get_text(r, o, "device", false, &f->device) < 0 || get_text(r, o, "type", false, &f->type) < 0 ||
            get_text(r, o, "uuid", true, &f->uuid) < 0 || get_name(r, o, "label", true, &f->label) < 0 ||
            get_u64(r, o, "size", UINT64_MAX, &f->size) < 0 || get_name(r, o, "mountpoint", true, &f->mountpoint) < 0 ||
            get_bool(r, o, "scanned", &f->scanned) < 0 || get_text(r, o, "error", true, &f->error) < 0)
                return -1;
        if (!f->device[0])
                return bad(r, "device", "empty");
        for (size_t i = 0; i + 1 < m->n_filesystems; i++)
                if (strcmp(m->filesystems[i].device, f->device) == 0)
                        return bad(r, "device", "named twice");
        return 0;
}

/* "/" or "/a/b": no empty, "." or ".." component, no trailing slash. */
static bool path_is_normal(const char *p) {
        if (p[0] != '/')
                return false;
        if (p[1] == 0)
                return true;
        for (const char *c = p + 1;; ) {
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (!c[n])
                        return true;
                c += n + 1;
        }
}

static int read_xattrs(Reader *r, json_object *o, Entry *en) {
        json_object *xs = member(r, o, "xattrs", json_type_array, false);

        if (!xs)
                return -1;
        size_t n = json_object_array_length(xs);
        if (n == 0)
                return 0;
        en->xattrs = calloc(n, sizeof(Xattr));
        if (!en->xattrs)
                return oom(r);
        for (size_t i = 0; i < n; i++) {
                json_object *x = json_object_array_get_idx(xs, i);
                Xattr *xa = &en->xattrs[en->n_xattrs++];
                char *value;

                if (!json_object_is_type(x, json_type_object))
                        return bad(r, "xattrs", "an element is not an object");
                if (get_name(r, x, "name", false, &xa->name) < 0 || get_text(r, x, "value_base64", false, &value) < 0)
                        return -1;
                long len = base64_decode(value, &xa->value);
                free(value);
                if (len < 0)
                        return bad(r, "xattrs", "a value is not base64");
                if (!xa->name[0])
                        return bad(r, "xattrs", "a name is empty");
                xa->len = (size_t) len;
        }
        return 0;
}

static int read_entry(Reader *r, json_object *o, Manifest *m, Tree *t) {
        Entry *en = tree_add_entry(t);
        _cleanup_free_ char *device = NULL, *kind = NULL, *sha = NULL;
        uint64_t mode, uid, gid;

        if (!en)
                return oom(r);
        if (!json_object_is_type(o, json_type_object))
                return bad(r, NULL, "not an object");
        if (get_name(r, o, "path", false, &en->path) < 0)
                return -1;
        if (!path_is_normal(en->path))
                return bad(r, "path", "not an absolute path of plain components");
        if (get_text(r, o, "filesystem", false, &device) < 0 || get_text(r, o, "kind", false, &kind) < 0)
                return -1;
        en->fs = UINT32_MAX;
        for (size_t i = 0; i < m->n_filesystems; i++)
                if (strcmp(m->filesystems[i].device, device) == 0)
                        en->fs = (uint32_t) i;
        if (en->fs == UINT32_MAX)
                return bad(r, "filesystem", "not one of the manifest's filesystems");
        en->kind = entry_kind_from_string(kind);
        if (en->kind == ENTRY_KIND_UNKNOWN && strcmp(kind, "unknown") != 0)
                return bad(r, "kind", "not a kind of entry");

        if (get_u64(r, o, "mode", 07777, &mode) < 0 || get_u64(r, o, "uid", UINT32_MAX, &uid) < 0 ||
            get_u64(r, o, "gid", UINT32_MAX, &gid) < 0 || get_u64(r, o, "size", UINT64_MAX, &en->size) < 0 ||
            get_i64(r, o, "mtime_ns", &en->mtime_ns) < 0 || get_i64(r, o, "atime_ns", &en->atime_ns) < 0 ||
            get_i64(r, o, "ctime_ns", &en->ctime_ns) < 0 || get_u64(r, o, "nlink", UINT64_MAX, &en->nlink) < 0 ||
            get_u64(r, o, "ino", UINT64_MAX, &en->ino) < 0 || get_u64(r, o, "dev", UINT64_MAX, &en->dev) < 0 ||
            get_u64(r, o, "blocks", UINT64_MAX, &en->blocks) < 0 ||
            get_u64(r, o, "blksize", UINT64_MAX, &en->blksize) < 0)
                return -1;
        en->mode = (uint32_t) mode;
        en->uid = (uint32_t) uid;
        en->gid = (uint32_t) gid;

        if ((en->kind == ENTRY_KIND_CHAR || en->kind == ENTRY_KIND_BLOCK) &&
            get_u64(r, o, "rdev", UINT64_MAX, &en->rdev) < 0)
                return -1;
        if (en->kind == ENTRY_KIND_SYMLINK && get_name(r, o, "target", true, &en->target) < 0)
                return -1;
        if (get_text(r, o, "sha256", true, &sha) < 0)
                return -1;
        if (sha) {
                if (en->kind != ENTRY_KIND_FILE)
                        return bad(r, "sha256", "only regular files have one");
                if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64 ||
                    unhexmem(sha, en->sha256, sizeof en->sha256) < 0)
                        return bad(r, "sha256", "not 64 lowercase hex digits");
                en->has_sha256 = true;
        }
        return read_xattrs(r, o, en);
}

static int read_tree(Reader *r, json_object *o, Manifest *m) {
        _cleanup_free_ char *key = NULL;
        json_object *entries;
        size_t len = strlen(r->where);

        if (!json_object_is_type(o, json_type_object))
                return bad(r, NULL, "not an object");
        if (get_text(r, o, "tree", false, &key) < 0)
                return -1;
        if (!key[0])
                return bad(r, "tree", "empty");
        if (manifest_find_tree(m, key))
                return bad(r, "tree", "named twice");
        entries = member(r, o, "entries", json_type_array, false);
        if (!entries)
                return -1;
        size_t n = json_object_array_length(entries);
        if (n > MAX_MANIFEST_ENTRIES - r->n_entries)
                return bad(r, "entries", "more entries than virt-diffd reads in one manifest");
        r->n_entries += n;

        Tree *t = manifest_add_tree(m, key);
        if (!t)
                return oom(r);
        for (size_t i = 0; i < n; i++) {
                snprintf(r->where + len, sizeof r->where - len, ".entries[%zu]", i);
                if (read_entry(r, json_object_array_get_idx(entries, i), m, t) < 0)
                        return -1;
        }
        r->where[len] = 0;
        return 0;
}

/* After sorting: a path twice in a tree, or an xattr twice on an entry,
 * would make the comparer pair the wrong things. */
static int check_unique(Reader *r, const Manifest *m) {
        for (size_t i = 0; i < m->n_trees; i++) {
                const Tree *t = &m->trees[i];
                for (size_t j = 0; j < t->n_entries; j++) {
                        const Entry *en = &t->entries[j];
                        if (j > 0 && path_compare(t->entries[j - 1].path, en->path) == 0) {
                                snprintf(r->where, sizeof r->where, "tree %s", t->key);
                                return bad(r, NULL, "a path is listed twice");
                        }
                        for (size_t k = 1; k < en->n_xattrs; k++)
                                if (strcmp(en->xattrs[k - 1].name, en->xattrs[k].name) == 0) {
                                        snprintf(r->where, sizeof r->where, "tree %s", t->key);
                                        return bad(r, NULL, "an extended attribute is listed twice");
                                }
                }
        }
        return 0;
}

void manifest_origin_done(ManifestOrigin *o) {
        if (!o)
                return;
        json_object_put(o->images);
        free(o->exported_at);
        *o = (ManifestOrigin) {};
}

/* The images it names, rebuilt from checked members: they go into results
 * as they are. */
static int read_images(Reader *r, json_object *root, ManifestOrigin *origin) {
        json_object *in = member(r, root, "images", json_type_array, true);

        if (r->e->code)
                return -1;
        origin->images = json_object_new_array();
        if (!origin->images)
                return oom(r);
        for (size_t i = 0; in && i < json_object_array_length(in); i++) {
                json_object *img = json_object_array_get_idx(in, i), *out;
                _cleanup_free_ char *path = NULL, *format = NULL, *snapshot = NULL;
                uint64_t size;

                snprintf(r->where, sizeof r->where, "images[%zu]", i);
                if (!json_object_is_type(img, json_type_object))
                        return bad(r, NULL, "not an object");
                if (get_name(r, img, "path", false, &path) < 0 || get_text(r, img, "format", false, &format) < 0 ||
                    get_u64(r, img, "virtual_size", UINT64_MAX, &size) < 0 ||
                    get_text(r, img, "snapshot", true, &snapshot) < 0)
                        return -1;
                out = json_object_new_object();
                if (!out || json_append(origin->images, out) < 0 || json_add_bytes(out, "path", path, strlen(path)) < 0 ||
                    json_add(out, "format", json_object_new_string(format)) < 0 ||
                    json_add(out, "virtual_size", json_object_new_uint64(size)) < 0 ||
                    (snapshot && json_add(out, "snapshot", json_object_new_string(snapshot)) < 0))
                        return oom(r);
        }
        r->where[0] = 0;
        return get_text(r, root, "exported_at", true, &origin->exported_at);
}

static int read_manifest(Reader *r, json_object *root, Manifest *m, ManifestOrigin *origin) {
        _cleanup_free_ char *format = NULL, *key = NULL;
        json_object *fss, *trees, *version;

        if (!json_object_is_type(root, json_type_object))
                return bad(r, NULL, "not a JSON object");
        if (get_text(r, root, "format", true, &format) < 0)
                return -1;
        if (!streq_ptr(format, MANIFEST_JSON_FORMAT))
                return bad(r, "format", "not \"" MANIFEST_JSON_FORMAT "\" (not a virt-diff manifest)");
        version = member(r, root, "version", json_type_int, false);
        if (!version)
                return -1;
        if (json_object_get_int64(version) != MANIFEST_JSON_VERSION)
                return error_set(r->e, ERR_INVALID_MANIFEST,
                                 "invalid manifest: format version %" PRIi64 " is not supported (this virt-diffd reads "
                                 "version %d)", json_object_get_int64(version), MANIFEST_JSON_VERSION);
        if (get_text(r, root, "key", false, &key) < 0)
                return -1;
        if (strlen(key) != 64 || strspn(key, "0123456789abcdef") != 64)
                return bad(r, "key", "not 64 lowercase hex digits");
        if (get_bool(r, root, "inspected", &m->inspected) < 0 || get_text(r, root, "os", true, &m->os_product) < 0 ||
            read_images(r, root, origin) < 0)
                return -1;

        fss = member(r, root, "filesystems", json_type_array, false);
        trees = fss ? member(r, root, "trees", json_type_array, false) : NULL;
        if (!trees)
                return -1;
        for (size_t i = 0; i < json_object_array_length(fss); i++) {
                snprintf(r->where, sizeof r->where, "filesystems[%zu]", i);
                if (read_filesystem(r, json_object_array_get_idx(fss, i), m) < 0)
                        return -1;
        }
        for (size_t i = 0; i < json_object_array_length(trees); i++) {
                snprintf(r->where, sizeof r->where, "trees[%zu]", i);
                if (read_tree(r, json_object_array_get_idx(trees, i), m) < 0)
                        return -1;
        }
        manifest_sort(m);
        if (check_unique(r, m) < 0)
                return -1;
        memcpy(origin->key, key, 65);
        return 0;
}

int manifest_from_json(const char *text, size_t len, Manifest **ret, ManifestOrigin *ret_origin, Error *e) {
        _cleanup_manifest_ Manifest *m = NULL;
        _cleanup_(manifest_origin_done) ManifestOrigin origin = {};
        json_tokener *tok;
        json_object *root;
        Error local = {};
        Reader r = {.e = e ?: &local};
        int k;

        e = r.e;
        if (len > MAX_MANIFEST_BYTES)
                return error_set(e, ERR_INVALID_MANIFEST, "invalid manifest: larger than %d bytes", MAX_MANIFEST_BYTES);
        tok = json_tokener_new_ex(MAX_DEPTH);
        if (!tok)
                return oom(&r);
        root = json_tokener_parse_ex(tok, text, (int) len);
        enum json_tokener_error err = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!root || err != json_tokener_success) {
                json_object_put(root);
                /* An unfinished document reads as "continue": it was cut short. */
                return error_set(e, ERR_INVALID_MANIFEST, "invalid manifest: not JSON (%s, at byte %zu)",
                                 err == json_tokener_continue ? "it ends too early" : json_tokener_error_desc(err), end);
        }
        for (size_t i = end; i < len; i++)
                if (!strchr(" \t\r\n", text[i])) {
                        json_object_put(root);
                        return error_set(e, ERR_INVALID_MANIFEST, "invalid manifest: more after the JSON document (at byte %zu)", i);
                }

        m = manifest_new();
        if (!m) {
                json_object_put(root);
                return oom(&r);
        }
        k = read_manifest(&r, root, m, &origin);
        json_object_put(root);
        if (k < 0)
                return -1;
        *ret = TAKE_PTR(m);
        *ret_origin = origin;
        origin = (ManifestOrigin) {};
        return 0;
}

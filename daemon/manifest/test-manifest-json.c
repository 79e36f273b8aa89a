/* Unit test of exported manifests: a manifest with hostile names goes to
 * JSON and back unchanged, and every kind of broken document is an
 * InvalidManifest error naming where it is broken. */
#include <string.h>

#include "common/test-util.h"
#include "manifest/manifest-json.h"

static Manifest *hostile_manifest(void) {
        Manifest *m = must(manifest_new());
        Filesystem *f = must(manifest_add_filesystem(m));
        Tree *t;

        m->inspected = true;
        m->os_product = must(strdup("Debian GNU/Linux 12"));
        f->device = must(strdup("/dev/sda1"));
        f->type = must(strdup("ext4"));
        f->uuid = must(strdup("0c1d"));
        f->label = must(strdup("lab\xff"));
        f->mountpoint = must(strdup("/"));
        f->size = 1ULL << 40;
        f->scanned = true;
        f = must(manifest_add_filesystem(m));
        f->device = must(strdup("/dev/sdb"));
        f->type = must(strdup("unknown"));
        f->error = must(strdup("no filesystem"));

        t = must(manifest_add_tree(m, "/"));
        static const struct {
                const char *path;
                EntryKind kind;
        } entries[] = {
                {"/", ENTRY_KIND_DIRECTORY},
                {"/a b\n<script>", ENTRY_KIND_FILE},
                {"/dev", ENTRY_KIND_DIRECTORY},
                {"/dev/null", ENTRY_KIND_CHAR},
                {"/link", ENTRY_KIND_SYMLINK},
                {"/\xff\xfe", ENTRY_KIND_FILE},
        };
        for (size_t i = 0; i < ELEMENTSOF(entries); i++) {
                Entry *e = must(tree_add_entry(t));
                e->path = must(strdup(entries[i].path));
                e->kind = entries[i].kind;
                e->mode = 04755;
                e->uid = UINT32_MAX;
                e->gid = 7;
                e->size = UINT64_MAX - i;
                e->mtime_ns = -1;
                e->atime_ns = INT64_MIN;
                e->ctime_ns = INT64_MAX;
                e->nlink = 2;
                e->ino = 1ULL << 63;
                e->dev = 2049;
                e->blocks = 8;
                e->blksize = 4096;
                if (e->kind == ENTRY_KIND_CHAR)
                        e->rdev = (1 << 8) | 3;
                if (e->kind == ENTRY_KIND_SYMLINK)
                        e->target = must(strdup("../\xc3\x28"));
                if (e->kind == ENTRY_KIND_FILE) {
                        e->has_sha256 = true;
                        memset(e->sha256, (int) i * 17, sizeof e->sha256);
                        e->xattrs = must(calloc(2, sizeof(Xattr)));
                        e->xattrs[0] = (Xattr) {must(strdup("security.selinux")), must(malloc(3)), 3};
                        memcpy(e->xattrs[0].value, "a\0b", 3);
                        e->xattrs[1] = (Xattr) {must(strdup("user.\xff")), (uint8_t *) must(strdup("")), 0};
                        e->n_xattrs = 2;
                }
        }
        return m;
}

static char *to_text(const Manifest *m, const char *key) {
        json_object *o = must(manifest_to_json(m, key));
        char *s = must(strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)));
        json_object_put(o);
        return s;
}

static const char key[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void test_round_trip(void) {
        _cleanup_manifest_ Manifest *m = hostile_manifest(), *back = NULL;
        _cleanup_free_ char *text = to_text(m, key), *again = NULL;
        _cleanup_(manifest_origin_done) ManifestOrigin origin = {};
        Error e = {};

        CHECK(manifest_from_json(text, strlen(text), &back, &origin, &e) == 0);
        CHECK(e.code == ERR_OK);
        if (!back)
                return;
        CHECK(strcmp(origin.key, key) == 0);
        CHECK(origin.images && json_object_array_length(origin.images) == 0 && !origin.exported_at);
        again = to_text(back, key);
        CHECK(strcmp(text, again) == 0);
        CHECK(back->n_trees == 1 && back->trees[0].n_entries == 6);
        const Entry *x = &back->trees[0].entries[5];
        CHECK(strcmp(x->path, "/\xff\xfe") == 0 && x->size == UINT64_MAX - 5 && x->atime_ns == INT64_MIN);
        CHECK(x->n_xattrs == 2 && x->xattrs[0].len == 3 && memcmp(x->xattrs[0].value, "a\0b", 3) == 0);
        CHECK(strcmp(back->filesystems[0].label, "lab\xff") == 0 && back->filesystems[1].error);
        CHECK(strcmp(back->trees[0].entries[4].target, "../\xc3\x28") == 0);
        CHECK(back->trees[0].entries[3].rdev == ((1 << 8) | 3));
}

/* Entries in any order come back sorted. */
static void test_unsorted(void) {
        _cleanup_manifest_ Manifest *m = hostile_manifest(), *back = NULL;
        Tree *t = &m->trees[0];
        Entry first = t->entries[0];
        t->entries[0] = t->entries[5];
        t->entries[5] = first;
        _cleanup_free_ char *text = to_text(m, key);
        _cleanup_(manifest_origin_done) ManifestOrigin got = {};
        Error e = {};

        CHECK(manifest_from_json(text, strlen(text), &back, &got, &e) == 0);
        CHECK(back && strcmp(back->trees[0].entries[0].path, "/") == 0);
}

/* The hostile manifest's JSON with FROM replaced by TO must fail naming WANT. */
static void broken(const char *from, const char *to, const char *want) {
        _cleanup_manifest_ Manifest *m = hostile_manifest(), *back = NULL;
        _cleanup_free_ char *text = to_text(m, key);
        char *at = strstr(text, from);
        ManifestOrigin got = {};
        Error e = {};

        CHECK(at != NULL);
        if (!at)
                return;
        _cleanup_free_ char *doc = must(malloc(strlen(text) - strlen(from) + strlen(to) + 1));
        memcpy(doc, text, (size_t) (at - text));
        strcpy(stpcpy(doc + (at - text), to), at + strlen(from));

        CHECK(manifest_from_json(doc, strlen(doc), &back, &got, &e) < 0);
        CHECK(back == NULL);
        CHECK(e.code == ERR_INVALID_MANIFEST);
        if (!strstr(e.message, want)) {
                fprintf(stderr, "replacing %s by %s: got \"%s\", expected \"%s\"\n", from, to, e.message, want);
                CHECK(false);
        }
}

static void text_fails(const char *doc, const char *want) {
        Manifest *back = NULL;
        ManifestOrigin got = {};
        Error e = {};

        CHECK(manifest_from_json(doc, strlen(doc), &back, &got, &e) < 0);
        CHECK(back == NULL && e.code == ERR_INVALID_MANIFEST);
        if (!strstr(e.message, want)) {
                fprintf(stderr, "%.40s: got \"%s\", expected \"%s\"\n", doc, e.message, want);
                CHECK(false);
        }
}

static void test_errors(void) {
        text_fails("", "not JSON (it ends too early");
        text_fails("{\"format\": \"virt-diff-manifest\"", "it ends too early");
        text_fails("[1, 2]", "not a JSON object");
        text_fails("{} {}", "more after the JSON document");
        text_fails("{\"format\": \"tar\"}", "format: not \"virt-diff-manifest\"");
        text_fails("{\"version\": 1}", "(not a virt-diff manifest)");
        text_fails("{\"format\": \"virt-diff-manifest\", \"version\": 2}", "format version 2 is not supported");
        text_fails("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "not JSON (nesting too deep");

        broken("\"key\":\"0123", "\"key\":\"X123", "key: not 64 lowercase hex digits");
        broken("\"inspected\":true", "\"inspected\":1", "inspected: not true or false");
        broken("\"inspected\":true,", "", "inspected: missing");
        broken("\"filesystems\":[", "\"filesystems\":{},\"x\":[", "filesystems: not an array");
        broken("\"device\":\"\\/dev\\/sdb\"", "\"device\":\"\\/dev\\/sda1\"", "filesystems[1].device: named twice");
        broken("\"uid\":4294967295", "\"uid\":4294967296", "trees[0].entries[0].uid: out of range");
        broken("\"uid\":4294967295", "\"uid\":-1", "trees[0].entries[0].uid: out of range");
        broken("\"mode\":2541", "\"mode\":4096", "trees[0].entries[0].mode: out of range");
        broken("\"size\":18446744073709551615", "\"size\":\"big\"", "trees[0].entries[0].size: not an integer");
        broken("\"ctime_ns\":9223372036854775807", "\"ctime_ns\":9223372036854775808", "entries[0].ctime_ns: out of range");
        broken("\"filesystem\":\"\\/dev\\/sda1\"", "\"filesystem\":\"\\/dev\\/sdz\"",
               "entries[0].filesystem: not one of the manifest's filesystems");
        broken("\"kind\":\"directory\"", "\"kind\":\"door\"", "entries[0].kind: not a kind of entry");
        broken("\"path\":\"\\/dev\"", "\"path\":\"dev\"", "entries[2].path: not an absolute path");
        broken("\"path\":\"\\/dev\"", "\"path\":\"\\/dev\\/..\"", "entries[2].path: not an absolute path");
        broken("\"path\":\"\\/dev\"", "\"path\":\"\\/dev\\/\"", "entries[2].path: not an absolute path");
        broken("\"path\":\"\\/dev\"", "\"path\":\"\\/link\"", "tree /: a path is listed twice");
        broken("\"path\":\"\\/dev\"", "\"path\":\"\\/d\\u0000v\"", "entries[2].path: holds a NUL character");
        broken("\"path_base64\":\"L\\/\\/+\"", "\"path_base64\":\"L\\/\\/\"", "path_base64: not base64");
        broken("\"path_base64\":\"L\\/\\/+\"", "\"path_base64\":\"LwA=\"", "path_base64: holds a NUL byte");
        broken("\"rdev\":259", "\"rdevx\":259", "entries[3].rdev: missing");
        broken("\"xattrs\":[]", "\"xattrs\":[7]", "entries[0].xattrs: an element is not an object");
        broken("\"name\":\"security.selinux\"", "\"name\":\"x\",\"name_base64\":\"dXNlci7\\/\"",
               "an extended attribute is listed twice");
        broken("\"value_base64\":\"YQBi\"", "\"value_base64\":\"Y\"", "xattrs: a value is not base64");
        broken("\"entries\":[", "\"entries\":[{},", "trees[0].entries[0].path: missing");
        broken("\"tree\":\"\\/\"", "\"tree\":\"\"", "trees[0].tree: empty");
        broken("\"inspected\":true", "\"images\":[{\"path\":\"a\",\"format\":\"raw\"}],\"inspected\":true",
               "images[0].virtual_size: missing");
        broken("\"inspected\":true", "\"images\":[{\"path\":\"a\",\"format\":7,\"virtual_size\":1}],\"inspected\":true",
               "images[0].format: not a string");
}

/* Where it was made comes back rebuilt: only the result's members. */
static void test_origin(void) {
        _cleanup_manifest_ Manifest *m = hostile_manifest(), *back = NULL;
        json_object *o = must(manifest_to_json(m, key)), *imgs = must(json_object_new_array());
        json_object *img = must(json_tokener_parse("{\"path\": \"x\", \"path_base64\": \"L2ltZy//\", \"format\": \"qcow2\", "
                                                   "\"virtual_size\": 1073741824, \"snapshot\": \"s1\", \"evil\": \"<x>\"}"));
        json_object_array_add(imgs, img);
        json_object_object_add(o, "images", imgs);
        json_object_object_add(o, "exported_at", json_object_new_string("2026-12-05T10:00:00Z"));
        _cleanup_free_ char *text = must(strdup(json_object_to_json_string(o)));
        json_object_put(o);
        _cleanup_(manifest_origin_done) ManifestOrigin origin = {};
        Error e = {};

        CHECK(manifest_from_json(text, strlen(text), &back, &origin, &e) == 0);
        CHECK(streq_ptr(origin.exported_at, "2026-12-05T10:00:00Z"));
        CHECK(origin.images && json_object_array_length(origin.images) == 1);
        const char *got = json_object_to_json_string_ext(json_object_array_get_idx(origin.images, 0), JSON_C_TO_STRING_PLAIN);
        CHECK(strstr(got, "evil") == NULL && strstr(got, "\"snapshot\":\"s1\"") && strstr(got, "\"format\":\"qcow2\"") &&
              strstr(got, "\"path_base64\":\"L2ltZy\\/\\/\"") && strstr(got, "\"virtual_size\":1073741824"));
}

int main(void) {
        test_round_trip();
        test_origin();
        test_unsorted();
        test_errors();
        return test_report();
}

/* Unit tests of the comparer and the JSON encoder, on
 * manifests built in memory. */
#include <json-c/json.h>

#include "common/base64.h"
#include "compare/comparer.h"
#include "compare/result-json.h"
#include "compare/test-compare-util.h"
#include "manifest/manifest.h"

static void test_identical(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();
        _cleanup_diff_result_ DiffResult *r = diff(a, b, NULL);

        CHECK(r->n_changes == 0);
        CHECK(r->n_filesystems == 1 && r->filesystems[0].change == FS_UNCHANGED);
        CHECK(r->fs_counts[FS_UNCHANGED] == 1);
        CHECK(!diff_result_differs(r));
}

static void test_added_removed(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();

        entry_make(&a->trees[0], "/etc/gone", ENTRY_KIND_FILE);
        entry_make(&b->trees[0], "/etc/new", ENTRY_KIND_FILE);
        _cleanup_diff_result_ DiffResult *r = diff(a, b, NULL);

        CHECK(r->n_changes == 2);
        CHECK(r->changes[0].change == CHANGE_REMOVED && r->changes[0].b == NULL &&
              strcmp(r->changes[0].a->path, "/etc/gone") == 0);
        CHECK(r->changes[1].change == CHANGE_ADDED && r->changes[1].a == NULL &&
              strcmp(r->changes[1].b->path, "/etc/new") == 0);
        CHECK(r->counts[CHANGE_ADDED] == 1 && r->counts[CHANGE_REMOVED] == 1);
        CHECK(r->changes[1].tree == b->trees[0].key);
        CHECK(diff_result_differs(r));
}

static void test_content(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();

        /* Edited in place, size and mtime kept: only the hash shows it. */
        entry_find(b, "/etc/passwd")->sha256[31] ^= 1;
        CHECK(one_change(a, b, NULL, "/etc/passwd", CHANGE_MODIFIED, FIELD_CONTENT));

        entry_find(b, "/etc/passwd")->size = 11;
        CHECK(one_change(a, b, NULL, "/etc/passwd", CHANGE_MODIFIED, FIELD_CONTENT | FIELD_SIZE));

        /* A side without a hash and the same size: nothing to go by. */
        entry_find(b, "/etc/passwd")->size = 10;
        entry_find(b, "/etc/passwd")->has_sha256 = false;
        CHECK(no_change(a, b, NULL));

        /* Content and metadata together: modified, with both named. */
        entry_find(b, "/etc/passwd")->size = 12;
        entry_find(b, "/etc/passwd")->mode = 0600;
        CHECK(one_change(a, b, NULL, "/etc/passwd", CHANGE_MODIFIED, FIELD_CONTENT | FIELD_SIZE | FIELD_MODE));
}

static void test_metadata(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();
        Entry *e = entry_find(b, "/etc/passwd");

        e->mode = 0600;
        CHECK(one_change(a, b, NULL, "/etc/passwd", CHANGE_METADATA, FIELD_MODE));
        e->mode = 0644;

        e->uid = 1000;
        e->gid = 1000;
        CHECK(one_change(a, b, NULL, "/etc/passwd", CHANGE_METADATA, FIELD_UID | FIELD_GID));
        e->uid = e->gid = 0;

        e->xattrs[0].value[0] = 'x';
        CHECK(one_change(a, b, NULL, "/etc/passwd", CHANGE_METADATA, FIELD_XATTRS));
        e->xattrs[0].value[0] = 'e';
        CHECK(no_change(a, b, NULL));

        entry_add_xattr(e, "user.comment", "hi");
        CHECK(one_change(a, b, NULL, "/etc/passwd", CHANGE_METADATA, FIELD_XATTRS));
}

static void test_times(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();

        entry_find(b, "/etc/passwd")->mtime_ns = 5000;
        CHECK(one_change(a, b, NULL, "/etc/passwd", CHANGE_METADATA, FIELD_MTIME));
        entry_find(b, "/etc/passwd")->mtime_ns = 1000;

        entry_find(b, "/bin/sh")->mtime_ns = 5000;
        CHECK(one_change(a, b, NULL, "/bin/sh", CHANGE_METADATA, FIELD_MTIME));
        entry_find(b, "/bin/sh")->mtime_ns = 1000;

        entry_find(b, "/etc")->mtime_ns = 5000;
        CHECK(no_change(a, b, NULL));
        CHECK(one_change(a, b, &(CompareOptions) { .dir_times = true }, "/etc", CHANGE_METADATA, FIELD_MTIME));
}

static void test_noise_ignored(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();
        Entry *f = entry_find(b, "/etc/passwd"), *d = entry_find(b, "/etc");

        f->atime_ns = f->ctime_ns = 9999;
        f->ino = 99;
        f->nlink = 3;
        f->blocks = 16;
        f->dev = 7;
        f->blksize = 1024;
        d->atime_ns = d->ctime_ns = 9999;
        d->nlink = 5;
        CHECK(no_change(a, b, NULL));

        unsigned extra = FIELD_INO | FIELD_NLINK | FIELD_BLOCKS | FIELD_DEV | FIELD_BLKSIZE;
        CHECK(one_change(a, b, &(CompareOptions) { .atime = true }, "/etc/passwd", CHANGE_METADATA, FIELD_ATIME));
        CHECK(one_change(a, b, &(CompareOptions) { .ctime = true }, "/etc/passwd", CHANGE_METADATA, FIELD_CTIME));
        CHECK(one_change(a, b, &(CompareOptions) { .extra_stats = true }, "/etc/passwd", CHANGE_METADATA, extra));
        CHECK(one_change(a, b, &(CompareOptions) { .dir_links = true }, "/etc", CHANGE_METADATA, FIELD_NLINK));

        _cleanup_diff_result_ DiffResult *r = diff(a, b, &(CompareOptions) { .atime = true, .dir_times = true });
        CHECK(r->n_changes == 2 && r->changes[0].fields == FIELD_ATIME && r->changes[1].fields == FIELD_ATIME);
}

static void test_kinds(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();

        free(entry_find(b, "/bin/sh")->target);
        entry_find(b, "/bin/sh")->target = must(strdup("/usr/bin/bash"));
        CHECK(one_change(a, b, NULL, "/bin/sh", CHANGE_MODIFIED, FIELD_TARGET));
        free(entry_find(b, "/bin/sh")->target);
        entry_find(b, "/bin/sh")->target = must(strdup("/usr/bin/dash"));

        entry_find(b, "/dev/null")->rdev = 0x105;
        CHECK(one_change(a, b, NULL, "/dev/null", CHANGE_MODIFIED, FIELD_RDEV));
        entry_find(b, "/dev/null")->rdev = 0x103;

        /* Same permissions etc. but another kind: a type change, fields empty. */
        entry_find(b, "/etc/passwd")->kind = ENTRY_KIND_DIRECTORY;
        entry_find(b, "/etc/passwd")->mode = 0755;
        CHECK(one_change(a, b, NULL, "/etc/passwd", CHANGE_TYPE, 0));
}

static Manifest *order_manifest(bool with_a) {
        Manifest *m = must(manifest_new());
        Tree *t = must(manifest_add_tree(m, "/"));
        const char *paths[] = { "/dir", "/dir/a", "/dir-x", "/dir.d", "/dir/b" };

        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                if (with_a || strcmp(paths[i], "/dir/a") != 0)
                        entry_make(t, paths[i], i == 0 ? ENTRY_KIND_DIRECTORY : ENTRY_KIND_FILE);
        manifest_sort(m);
        return m;
}

static void test_ordering(void) {
        _cleanup_manifest_ Manifest *a = order_manifest(true), *b = order_manifest(true), *c = order_manifest(false);
        const char *sorted[] = { "/dir", "/dir/a", "/dir/b", "/dir-x", "/dir.d" };

        for (size_t i = 0; i < ELEMENTSOF(sorted); i++)
                CHECK(strcmp(a->trees[0].entries[i].path, sorted[i]) == 0);
        CHECK(no_change(a, b, NULL));
        CHECK(one_change(a, c, NULL, "/dir/a", CHANGE_REMOVED, 0));

        /* Unsorted input is refused rather than merged wrongly. */
        Entry tmp = a->trees[0].entries[1];
        a->trees[0].entries[1] = a->trees[0].entries[3];
        a->trees[0].entries[3] = tmp;
        DiffResult *r = NULL;
        CHECK(compare_manifests(a, b, NULL, &r) == -EINVAL && r == NULL);
}

static void test_trees(void) {
        _cleanup_manifest_ Manifest *a = must(manifest_new()), *b = must(manifest_new());
        Tree *t;

        fs_make(a, "/dev/sda1", "ext4", "1", NULL);
        fs_make(a, "/dev/sdc1", "xfs", "3", NULL);
        fs_make(b, "/dev/sda1", "ext4", "1", NULL);
        fs_make(b, "/dev/sdb1", "vfat", "2", NULL);

        t = must(manifest_add_tree(b, "/dev/sdb1"));
        entry_make(t, "/", ENTRY_KIND_DIRECTORY)->fs = 1;
        entry_make(t, "/EFI", ENTRY_KIND_DIRECTORY)->fs = 1;
        t = must(manifest_add_tree(b, "/dev/sda1"));
        entry_make(t, "/", ENTRY_KIND_DIRECTORY);
        t = must(manifest_add_tree(a, "/dev/sda1"));
        entry_make(t, "/", ENTRY_KIND_DIRECTORY);
        t = must(manifest_add_tree(a, "/dev/sdc1"));
        entry_make(t, "/", ENTRY_KIND_DIRECTORY)->fs = 1;

        _cleanup_diff_result_ DiffResult *r = diff(a, b, NULL);
        CHECK(r->n_changes == 3);
        CHECK(r->changes[0].change == CHANGE_ADDED && strcmp(r->changes[0].tree, "/dev/sdb1") == 0 &&
              strcmp(r->changes[0].b->path, "/") == 0);
        CHECK(r->changes[1].change == CHANGE_ADDED && strcmp(r->changes[1].b->path, "/EFI") == 0);
        CHECK(r->changes[2].change == CHANGE_REMOVED && r->changes[2].tree == a->trees[1].key);
        CHECK(manifest_find_tree(b, "/dev/sdb1") == &b->trees[1] && manifest_find_tree(b, "/x") == NULL);

        /* Not inspected: matched by device; b's order, then the removed. */
        CHECK(r->n_filesystems == 3);
        CHECK(r->filesystems[0].change == FS_UNCHANGED && !r->filesystems[0].by_mountpoint);
        CHECK(r->filesystems[1].change == FS_ADDED && r->filesystems[1].b == &b->filesystems[1]);
        CHECK(r->filesystems[2].change == FS_REMOVED && r->filesystems[2].a == &a->filesystems[1]);
        CHECK(r->fs_counts[FS_UNCHANGED] == 1 && r->fs_counts[FS_ADDED] == 1 && r->fs_counts[FS_REMOVED] == 1);
}

static void test_filesystems(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();

        /* Reinstalled onto another partition: "/" still matches "/". */
        free(b->filesystems[0].device);
        b->filesystems[0].device = must(strdup("/dev/sda2"));
        {
                _cleanup_diff_result_ DiffResult *r = diff(a, b, NULL);
                CHECK(r->n_filesystems == 1 && r->filesystems[0].change == FS_UNCHANGED);
                CHECK(r->filesystems[0].by_mountpoint && r->filesystems[0].a == &a->filesystems[0]);
                CHECK(!diff_result_differs(r));
        }

        /* Without inspection the device decides. */
        a->inspected = false;
        {
                _cleanup_diff_result_ DiffResult *r = diff(a, b, NULL);
                CHECK(r->n_filesystems == 2 && r->filesystems[0].change == FS_ADDED &&
                      r->filesystems[1].change == FS_REMOVED);
                CHECK(diff_result_differs(r));
        }
        a->inspected = true;

        free(b->filesystems[0].uuid);
        b->filesystems[0].uuid = must(strdup("2222"));
        {
                _cleanup_diff_result_ DiffResult *r = diff(a, b, NULL);
                CHECK(r->n_filesystems == 1 && r->filesystems[0].change == FS_CHANGED);
                CHECK(r->filesystems[0].fields == FS_FIELD_UUID && r->fs_counts[FS_CHANGED] == 1);
                CHECK(r->n_changes == 0 && diff_result_differs(r));
        }

        b->filesystems[0].label = must(strdup("root"));
        b->filesystems[0].size = 5;
        {
                _cleanup_diff_result_ DiffResult *r = diff(a, b, NULL);
                CHECK(r->filesystems[0].fields == (FS_FIELD_UUID | FS_FIELD_LABEL | FS_FIELD_SIZE));
        }
}

static void test_tables(void) {
        CHECK(strcmp(entry_kind_to_string(ENTRY_KIND_CHAR), "char") == 0);
        CHECK(entry_kind_from_string("fifo") == ENTRY_KIND_FIFO);
        CHECK(entry_kind_from_string("nonsense") == ENTRY_KIND_UNKNOWN);
        CHECK(entry_kind_from_mode(0120777) == ENTRY_KIND_SYMLINK);
        CHECK(entry_kind_from_mode(0040755) == ENTRY_KIND_DIRECTORY);
        CHECK(entry_kind_from_mode(0060660) == ENTRY_KIND_BLOCK);
        CHECK(strcmp(change_field_to_string(15), "blksize") == 0 && change_field_to_string(16) == NULL);
        CHECK(strcmp(fs_field_to_string(1), "uuid") == 0);
}

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

static const char *jstr(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static void test_json(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();
        const char raw[] = "/caf\xe9\n";

        entry_make(&b->trees[0], raw, ENTRY_KIND_FILE);
        entry_add_xattr(entry_find(b, "/etc/passwd"), "user.\xff", "v");
        _cleanup_diff_result_ DiffResult *r = diff(a, b, NULL);
        _cleanup_(json_object_putp) json_object *o = diff_result_to_json(r);
        CHECK(o != NULL);
        if (!o)
                return;

        /* Through text and back, as the client receives it. */
        _cleanup_(json_object_putp) json_object *p = json_tokener_parse(json_object_to_json_string(o));
        CHECK(p != NULL);
        if (!p)
                return;

        json_object *changes = json_object_object_get(p, "changes");
        CHECK(json_object_array_length(changes) == 2);
        json_object *c = json_object_array_get_idx(changes, 0);
        CHECK(strcmp(jstr(c, "path"), "/caf\xef\xbf\xbd\n") == 0);
        CHECK(strcmp(jstr(c, "change"), "added") == 0 && strcmp(jstr(c, "kind"), "file") == 0);
        CHECK(strcmp(jstr(c, "filesystem"), "/dev/sda1") == 0 && strcmp(jstr(c, "tree"), "/") == 0);
        _cleanup_free_ uint8_t *bytes = NULL;
        CHECK(base64_decode(jstr(c, "path_base64"), &bytes) == (long) strlen(raw) && memcmp(bytes, raw, strlen(raw)) == 0);
        CHECK(json_object_get_type(json_object_object_get(c, "old")) == json_type_null);
        json_object *st = json_object_object_get(c, "new");
        CHECK(strcmp(jstr(st, "sha256"), "abababababababababababababababababababababababababababababababab") == 0);

        c = json_object_array_get_idx(changes, 1);
        CHECK(strcmp(jstr(c, "change"), "metadata") == 0 && strcmp(json_object_to_json_string(json_object_object_get(c, "fields")), "[ \"xattrs\" ]") == 0);
        json_object *x = json_object_array_get_idx(json_object_object_get(json_object_object_get(c, "new"), "xattrs"), 1);
        CHECK(strcmp(jstr(x, "name_base64"), "dXNlci7/") == 0 && strcmp(jstr(x, "value_base64"), "dg==") == 0);

        json_object *s = json_object_object_get(p, "summary");
        CHECK(json_object_get_int(json_object_object_get(s, "added")) == 1);
        CHECK(json_object_get_int(json_object_object_get(s, "metadata")) == 1);
        CHECK(json_object_get_boolean(json_object_object_get(s, "differences")));
        json_object *fs = json_object_array_get_idx(json_object_object_get(p, "filesystems"), 0);
        CHECK(strcmp(jstr(fs, "change"), "unchanged") == 0 && strcmp(jstr(fs, "matched_by"), "mountpoint") == 0);
}

int main(void) {
        test_identical();
        test_added_removed();
        test_content();
        test_metadata();
        test_times();
        test_noise_ignored();
        test_kinds();
        test_ordering();
        test_trees();
        test_filesystems();
        test_tables();
        test_json();

        return test_report();
}

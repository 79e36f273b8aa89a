/* The package stage on manifests and package sets built in memory: each
 * change's cause and owner, the --cause filter recounting the summary, and
 * all of it in the result document. */
#include "compare/package-notes.h"
#include "compare/result-json.h"
#include "manifest/test-manifest-util.h"

static PackageSet *packages(const char *version, uint8_t fill) {
        PackageSet *ps = must(package_set_new());
        uint8_t d[32];
        ps->format = PACKAGE_FORMAT_DPKG;
        CHECK(package_set_add_package(ps, "sh", "amd64", "1.0") == 0);
        CHECK(package_set_add_package(ps, "base", "all", version) == 0);
        memset(d, 0xab, sizeof d);
        /* /etc/passwd: a conffile of base; /bin: base's directory. */
        CHECK(package_set_add_file(ps, "/etc/passwd", 1, OWNED_CONFIG, DIGEST_SHA256, d, NULL) == 0);
        CHECK(package_set_add_file(ps, "/bin", 1, 0, DIGEST_NONE, NULL, NULL) == 0);
        memset(d, fill, sizeof d);
        CHECK(package_set_add_file(ps, "/bin/tool", 0, 0, DIGEST_SHA256, d, NULL) == 0);
        CHECK(package_set_finish(ps) == 0);
        return ps;
}

static json_object *field(json_object *o, const char *k) {
        json_object *v = NULL;
        json_object_object_get_ex(o, k, &v);
        return v;
}

static const char *cause_of(json_object *root, const char *path) {
        json_object *changes = field(root, "changes");
        for (size_t i = 0; i < json_object_array_length(changes); i++) {
                json_object *c = json_object_array_get_idx(changes, i);
                if (strcmp(json_object_get_string(field(c, "path")), path) == 0)
                        return json_object_get_string(field(c, "cause"));
        }
        return NULL;
}

int main(void) {
        Manifest *a = base_manifest(), *b = base_manifest();
        Tree *ta = &a->trees[0], *tb = &b->trees[0];
        entry_make(ta, "/bin/tool", ENTRY_KIND_FILE);
        entry_make(tb, "/bin/tool", ENTRY_KIND_FILE)->sha256[0] = 0xcd;
        entry_find(b, "/etc/passwd")->sha256[1] = 0x01; /* an edited conffile */
        entry_make(tb, "/var", ENTRY_KIND_DIRECTORY);
        entry_make(tb, "/var/log.txt", ENTRY_KIND_FILE); /* nobody's */
        manifest_sort(a);
        manifest_sort(b);
        /* /bin/tool on A is all 0xab, on B 0xab with one byte 0xcd: B's
         * package did not record that: tampered. */
        PackageSet *pa = packages("1.0", 0xab), *pb = packages("1.0", 0xab);

        CompareOptions co = {0};
        DiffResult *r = NULL;
        CHECK(compare_manifests(a, b, &co, &r) == 0);
        size_t all = r->n_changes;
        PackageOptions po = {.wanted = true};
        PackageNotes *n = NULL;
        CHECK(package_notes_compute(r, pa, pb, &po, &n) == 0 && n->n == all && r->n_changes == all);
        CHECK(n->cause_counts[CAUSE_TAMPERED] == 1 && n->cause_counts[CAUSE_CONFIG] == 1);
        CHECK(n->cause_counts[CAUSE_UNOWNED] == 2); /* /var and /var/log.txt */

        json_object *root = diff_result_to_json(r);
        CHECK(root && package_notes_to_json(root, n) == 0);
        CHECK(streq_ptr(cause_of(root, "/bin/tool"), "tampered"));
        CHECK(streq_ptr(cause_of(root, "/etc/passwd"), "config"));
        CHECK(streq_ptr(cause_of(root, "/var/log.txt"), "unowned"));
        json_object *changes = field(root, "changes");
        for (size_t i = 0; i < json_object_array_length(changes); i++) {
                json_object *c = json_object_array_get_idx(changes, i);
                if (strcmp(json_object_get_string(field(c, "path")), "/bin/tool") == 0) {
                        CHECK(json_object_array_length(field(c, "owner")) == 1);
                        CHECK(strcmp(json_object_get_string(json_object_array_get_idx(field(c, "owner"), 0)), "sh") == 0);
                        CHECK(json_object_array_length(field(c, "mismatch")) == 1);
                }
        }
        CHECK(json_object_array_length(field(root, "packages")) == 0);
        json_object *causes = field(field(root, "summary"), "causes");
        CHECK(json_object_get_int(field(causes, "tampered")) == 1);
        json_object_put(root);
        package_notes_free(n);
        diff_result_free(r);

        /* --cause=tampered: one change left, the summary says so. */
        CHECK(compare_manifests(a, b, &co, &r) == 0);
        po.causes = 1u << CAUSE_TAMPERED;
        CHECK(package_notes_compute(r, pa, pb, &po, &n) == 0);
        CHECK(r->n_changes == 1 && n->n == 1 && strcmp(r->changes[0].b->path, "/bin/tool") == 0);
        CHECK(r->counts[CHANGE_MODIFIED] == 1 && r->counts[CHANGE_ADDED] == 0 && diff_result_differs(r));
        package_notes_free(n);
        diff_result_free(r);

        /* An upgrade of base: its directory's change is the package's. */
        PackageSet *pb2 = packages("1.1", 0xab);
        entry_find(b, "/bin")->mode = 0700;
        CHECK(compare_manifests(a, b, &co, &r) == 0);
        po.causes = 0;
        CHECK(package_notes_compute(r, pa, pb2, &po, &n) == 0);
        root = diff_result_to_json(r);
        CHECK(root && package_notes_to_json(root, n) == 0);
        CHECK(streq_ptr(cause_of(root, "/bin"), "package"));
        json_object *list = field(root, "packages");
        CHECK(json_object_array_length(list) == 1);
        json_object *p = json_object_array_get_idx(list, 0);
        CHECK(streq_ptr(json_object_get_string(field(p, "name")), "base") &&
              streq_ptr(json_object_get_string(field(p, "change")), "upgraded") &&
              streq_ptr(json_object_get_string(field(p, "old_version")), "1.0") &&
              streq_ptr(json_object_get_string(field(p, "new_version")), "1.1"));
        CHECK(json_object_get_int(field(field(field(root, "summary"), "packages"), "upgraded")) == 1);
        json_object_put(root);
        package_notes_free(n);
        diff_result_free(r);

        /* A side whose database failed: no causes, the error in its summary. */
        Error fail = {.code = ERR_CORRUPT_PACKAGE_DB};
        strcpy(fail.message, "status, line 2: a NUL byte");
        CHECK(package_set_fail(pb2, &fail) == 0);
        CHECK(compare_manifests(a, b, &co, &r) == 0);
        CHECK(package_notes_compute(r, pa, pb2, &po, &n) == 0 && r->n_changes == all + 1);
        root = diff_result_to_json(r);
        CHECK(root && package_notes_to_json(root, n) == 0);
        CHECK(cause_of(root, "/bin/tool") == NULL);
        json_object_put(root);
        json_object *side = package_set_summary_to_json(pb2);
        CHECK(streq_ptr(json_object_get_string(field(field(side, "error"), "code")), "CorruptPackageDatabase"));
        json_object_put(side);
        package_notes_free(n);
        diff_result_free(r);

        unsigned set = 0;
        const char *bad = NULL;
        char *good[] = {"tampered", "config", NULL}, *wrong[] = {"tampered", "bogus", NULL};
        CHECK(causes_parse(good, &set, &bad) == 0 && set == ((1u << CAUSE_TAMPERED) | (1u << CAUSE_CONFIG)));
        CHECK(causes_parse(wrong, &set, &bad) == -EINVAL && strcmp(bad, "bogus") == 0);

        package_set_free(pa);
        package_set_free(pb);
        package_set_free(pb2);
        manifest_free(a);
        manifest_free(b);
        return test_report();
}

/* Unit tests of the bulk checksum listing's parser: sha256sum's plain and
 * escaped lines, the "-" line of an empty filesystem, malformed input. */
#include "manifest/test-manifest-util.h"
#include "worker/tree-hash.h"

#define H_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static Manifest *tree_manifest(void) {
        Manifest *m = must(manifest_new());
        Tree *t = must(manifest_add_tree(m, "/"));
        entry_make(t, "/", ENTRY_KIND_DIRECTORY);
        entry_make(t, "/a.txt", ENTRY_KIND_FILE)->has_sha256 = false;
        entry_make(t, "/dir", ENTRY_KIND_DIRECTORY);
        entry_make(t, "/dir/back\\slash\nline", ENTRY_KIND_FILE)->has_sha256 = false;
        entry_make(t, "/fifo", ENTRY_KIND_FIFO);
        manifest_sort(m);
        return m;
}

static int parse(Tree *t, const char *text) {
        return checksums_parse(text, strlen(text), t);
}

static void test_plain_and_escaped(void) {
        _cleanup_manifest_ Manifest *m = tree_manifest();
        Tree *t = &m->trees[0];

        CHECK(parse(t, H_A "  ./a.txt\n\\" H_B "  ./dir/back\\\\slash\\nline\n") == 0);
        CHECK(entry_find(m, "/a.txt")->has_sha256);
        CHECK(entry_find(m, "/a.txt")->sha256[0] == 0xaa);
        Entry *e = entry_find(m, "/dir/back\\slash\nline");
        CHECK(e->has_sha256);
        CHECK(e->sha256[0] == 0x01 && e->sha256[31] == 0xef);
        /* Binary mode's " *" and a missing final newline. */
        e->has_sha256 = false;
        CHECK(parse(t, "\\" H_A " *./dir/back\\\\slash\\nline") == 0);
        CHECK(e->has_sha256 && e->sha256[0] == 0xaa);
}

static void test_empty_filesystem(void) {
        _cleanup_manifest_ Manifest *m = tree_manifest();
        Tree *t = &m->trees[0];

        /* No regular file: sha256sum hashed its empty standard input. */
        CHECK(parse(t, H_EMPTY "  -\n") == 0);
        CHECK(!entry_find(m, "/a.txt")->has_sha256);
        /* Nothing at all, and blank lines. */
        CHECK(parse(t, "") == 0);
        CHECK(parse(t, "\n\n") == 0);
        /* A name outside the tree, or not a regular file, changes nothing. */
        CHECK(parse(t, H_A "  ./nowhere\n" H_A "  ./fifo\n" H_A "  /a.txt\n") == 0);
        CHECK(!entry_find(m, "/a.txt")->has_sha256);
        CHECK(!entry_find(m, "/fifo")->has_sha256);
}

static void test_malformed(void) {
        _cleanup_manifest_ Manifest *m = tree_manifest();
        Tree *t = &m->trees[0];

        CHECK(parse(t, "zz" H_A "  ./a.txt\n") == -EINVAL);
        CHECK(parse(t, "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  ./a.txt\n") == -EINVAL);
        CHECK(parse(t, H_A "./a.txt\n") == -EINVAL);
        CHECK(parse(t, H_A " \n") == -EINVAL);
        CHECK(parse(t, "short  ./a.txt\n") == -EINVAL);
        CHECK(!entry_find(m, "/a.txt")->has_sha256);
}

int main(void) {
        test_plain_and_escaped();
        test_empty_filesystem();
        test_malformed();
        return test_report();
}

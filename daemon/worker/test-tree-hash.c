/* Unit tests of the bulk checksum listing's parser: sha256sum's plain and
 * escaped lines, the "-" line of an empty filesystem, malformed input. The
 * listing matched to a tree is test-tree-order's. */
#include "common/test-util.h"
#include "worker/tree-hash.h"

#define H_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct Seen {
        char names[4][64];
        uint8_t first[4], last[4];
        size_t n;
} Seen;

static int seen(void *userdata, const char *name, const uint8_t *digest) {
        Seen *s = userdata;
        if (s->n < 4) {
                snprintf(s->names[s->n], sizeof s->names[s->n], "%s", name);
                s->first[s->n] = digest[0];
                s->last[s->n] = digest[31];
        }
        s->n++;
        return 0;
}

static int parse(Seen *s, const char *text) {
        *s = (Seen){};
        return checksum_lines_parse(text, strlen(text), 32, seen, s);
}

static void test_plain_and_escaped(void) {
        Seen s;
        CHECK(parse(&s, H_A "  ./a.txt\n\\" H_B "  ./dir/back\\\\slash\\nline\n") == 0);
        CHECK(s.n == 2);
        CHECK(strcmp(s.names[0], "/a.txt") == 0 && s.first[0] == 0xaa);
        CHECK(strcmp(s.names[1], "/dir/back\\slash\nline") == 0);
        CHECK(s.first[1] == 0x01 && s.last[1] == 0xef);
        /* Binary mode's " *" and a missing final newline. */
        CHECK(parse(&s, "\\" H_A " *./dir/back\\\\slash\\nline") == 0);
        CHECK(s.n == 1 && strcmp(s.names[0], "/dir/back\\slash\nline") == 0 && s.first[0] == 0xaa);
}

static void test_empty_filesystem(void) {
        Seen s;
        /* No regular file: sha256sum hashed its empty standard input. */
        CHECK(parse(&s, H_EMPTY "  -\n") == 0 && s.n == 0);
        /* Nothing at all, and blank lines. */
        CHECK(parse(&s, "") == 0 && s.n == 0);
        CHECK(parse(&s, "\n\n") == 0 && s.n == 0);
        /* A name that is not "./...": not a file of the tree. */
        CHECK(parse(&s, H_A "  /a.txt\n") == 0 && s.n == 0);
}

static void test_malformed(void) {
        Seen s;
        CHECK(parse(&s, "zz" H_A "  ./a.txt\n") == -EINVAL);
        CHECK(parse(&s, "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  ./a.txt\n") == -EINVAL);
        CHECK(parse(&s, H_A "./a.txt\n") == -EINVAL);
        CHECK(parse(&s, H_A " \n") == -EINVAL);
        CHECK(parse(&s, "short  ./a.txt\n") == -EINVAL);
        /* One line at a time, as the tree walk reads them. */
        char line[] = "\\" H_B "  ./x\\ny";
        const char *name = NULL;
        uint8_t d[32];
        CHECK(checksum_line_parse(line, 32, &name, d) == 1 && strcmp(name, "/x\ny") == 0 && d[0] == 0x01);
        char blank[] = "";
        CHECK(checksum_line_parse(blank, 32, &name, d) == 0);
}

int main(void) {
        test_plain_and_escaped();
        test_empty_filesystem();
        test_malformed();
        return test_report();
}

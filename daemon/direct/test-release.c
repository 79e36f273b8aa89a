/* Product names as libguestfs 1.48 finds them, on release files held in
 * memory. */
#include "common/test-util.h"
#include "direct/release.h"

typedef struct File {
        const char *path, *text;
} File;

static const File *files;

static const File *find(const char *path) {
        for (const File *f = files; f && f->path; f++)
                if (strcmp(f->path, path) == 0)
                        return f;
        return NULL;
}

static bool fake_is_file(void *userdata, const char *path) {
        return find(path) != NULL;
}

static int fake_read(void *userdata, const char *path, size_t max, char **ret, size_t *ret_len) {
        const File *f = find(path);
        if (!f)
                return -ENOENT;
        if (strlen(f->text) > max)
                return -EFBIG;
        *ret = must(strdup(f->text));
        *ret_len = strlen(f->text);
        return 0;
}

static char *product(const File *fs, ErrorCode *code) {
        ReleaseSource src = {.is_file = fake_is_file, .read = fake_read};
        Error e = {};
        char *p = NULL;
        files = fs;
        *code = release_product_name(&src, &p, &e) < 0 ? e.code : ERR_OK;
        return p;
}

static void expect(const File *fs, const char *want) {
        ErrorCode code;
        _cleanup_free_ char *p = product(fs, &code);
        CHECK(code == ERR_OK && streq_ptr(p, want));
        if (!streq_ptr(p, want))
                fprintf(stderr, "  got \"%s\", want \"%s\"\n", strempty(p), want);
}

static void test_products(void) {
        /* Debian: os-release gives up (VERSION_ID has no minor), its
         * PRETTY_NAME stays, and debian_version's first line wins. */
        expect((const File[]) {{"/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian\"\n"
                                                   "VERSION_ID=\"12\"\nID=debian\n"},
                               {"/etc/debian_version", "12.5\nsecond line\n"},
                               {}},
               "12.5");
        /* Without debian_version, PRETTY_NAME is what is left. */
        expect((const File[]) {{"/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n"
                                                   "ID=debian\n"},
                               {}},
               "Debian GNU/Linux 12 (bookworm)");
        /* Ubuntu: os-release is enough. */
        expect((const File[]) {{"/etc/os-release", "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\n"
                                                   "PRETTY_NAME=\"Ubuntu 22.04.3 LTS\"\n"},
                               {"/etc/lsb-release", "DISTRIB_DESCRIPTION=\"other\"\n"},
                               {"/etc/debian_version", "bookworm/sid\n"},
                               {}},
               "Ubuntu 22.04.3 LTS");
        /* Fedora: one-number versions are enough outside Debian/CentOS. */
        expect((const File[]) {{"/etc/os-release", "ID=fedora\nVERSION_ID=39\nPRETTY_NAME='Fedora Linux 39'\n"},
                               {"/etc/redhat-release", "Fedora release 39\n"},
                               {}},
               "Fedora Linux 39");
        /* An unknown ID: lsb-release's description. */
        expect((const File[]) {{"/etc/os-release", "ID=mylinux\nPRETTY_NAME=\"My Linux\"\nVERSION_ID=1.0\n"},
                               {"/etc/lsb-release", "DISTRIB_ID=Mine\nDISTRIB_DESCRIPTION=\"Mine 1\"\n"},
                               {}},
               "Mine 1");
        /* Arch: rolling, no VERSION_ID needed. */
        expect((const File[]) {{"/etc/os-release", "NAME=\"Arch Linux\"\nID=arch\nPRETTY_NAME=\"Arch Linux\"\n"}, {}},
               "Arch Linux");
        /* Double quotes unescaped the shell's way; comments and blank lines
         * skipped; a later key wins. */
        expect((const File[]) {{"/etc/os-release", "# comment\n\nID=ubuntu\nPRETTY_NAME=old\nVERSION_ID=\"1.2\"\n"
                                                   "PRETTY_NAME=\"say \\\"hi\\\" \\$x\"\n"},
                               {}},
               "say \"hi\" $x");
        /* Nothing at all. */
        expect((const File[]) {{}}, "unknown");
        /* An empty debian_version does not count. */
        expect((const File[]) {{"/etc/debian_version", ""}, {}}, "unknown");
}

static void test_refused(void) {
        ErrorCode code;
        /* CentOS 7: os-release gives up and centos-release would decide. */
        _cleanup_free_ char *p = product((const File[]) {{"/etc/os-release", "ID=\"centos\"\nVERSION_ID=\"7\"\n"
                                                                              "PRETTY_NAME=\"CentOS Linux 7\"\n"},
                                                         {"/etc/centos-release", "CentOS Linux release 7.9\n"},
                                                         {}},
                                         &code);
        CHECK(code == ERR_DIRECT_UNSUPPORTED && !p);
        /* A version number OCaml's int_of_string cannot hold. */
        char *q = product((const File[]) {{"/etc/os-release", "ID=fedora\nPRETTY_NAME=x\n"
                                                              "VERSION_ID=1234567890123456789012\n"},
                                          {}},
                          &code);
        CHECK(code == ERR_DIRECT_UNSUPPORTED && !q);
        free(q);
}

static void test_unquote(void) {
        const struct {
                const char *in, *out;
        } cases[] = {{"plain", "plain"}, {"'single \\$'", "single \\$"}, {"\"a\\\\b\"", "a\\b"},
                     {"\"ends\\\"", "ends\\"}, {"\"", "\""}, {"''", ""}};
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *u = release_shell_unquote(cases[i].in);
                CHECK(streq_ptr(u, cases[i].out));
        }
}

int main(void) {
        test_products();
        test_refused();
        test_unquote();
        return test_report();
}

/* The dpkg reader against dpkg itself: trees that dpkg --root installed
 * (tests/make-package-trees.sh) and a copy of this machine's own dpkg
 * database (a real tree of a thousand packages, with diversions), each
 * read by us and by dpkg-query; then every kind of corrupt input. */
#include <fcntl.h>
#include <sys/stat.h>

#include "packages/test-packages-util.h"

static const char *oracle;

static void check_against_dpkg_query(const char *dir, const char *tree) {
        char *root;
        must(asprintf(&root, "%s/%s", dir, tree) >= 0 ? (void *) 1 : NULL);
        PackageSet *ps = read_tree(dir, tree);
        CHECK(ps->format == PACKAGE_FORMAT_DPKG);
        CHECK(ps->error == ERR_OK);
        if (ps->error)
                fprintf(stderr, "%s: %s\n", tree, ps->error_message);

        CHECK(oracle_agrees("packages", package_lines(ps), oracle, "dpkg-packages", root));
        CHECK(oracle_agrees("files", file_lines(ps, 0), oracle, "dpkg-files", root));
        /* Configuration files with the digest they shipped with. */
        CHECK(oracle_agrees("config files", config_lines(ps), oracle, "dpkg-conffiles", root));
        package_set_free(ps);
        free(root);
}

static void check_fixture(const char *script) {
        char *dir = make_trees(script, "dpkg");
        check_against_dpkg_query(dir, "dpkg-a");
        check_against_dpkg_query(dir, "dpkg-b");

        PackageSet *a = read_tree(dir, "dpkg-a"), *b = read_tree(dir, "dpkg-b");
        const Package *p = find_package(a, "vd-base");
        CHECK(p && strcmp(p->arch, "amd64") == 0 && strcmp(p->version, "1.0-1") == 0);
        p = find_package(b, "vd-epoch");
        CHECK(p && strcmp(p->arch, "all") == 0 && strcmp(p->version, "1:1.0-1") == 0);
        CHECK(!find_package(b, "vd-old"));

        /* An offline debsums: A is pristine; on B the rewritten binary
         * (same size and mtime), the edited conffile and the deleted file. */
        char *fails = failing_paths(dir, "dpkg-a", a);
        CHECK(fails && strcmp(fails, "") == 0);
        free(fails);
        fails = failing_paths(dir, "dpkg-b", b);
        CHECK(fails && strcmp(fails, "/etc/vd/same.conf\n/usr/bin/vd-same\n/usr/lib/vd/same.dat\n") == 0);
        if (fails)
                fprintf(stderr, "failing on B:\n%s", fails);
        free(fails);

        size_t n;
        const OwnedFile *f = package_set_find(b, "/etc/vd/same.conf", &n);
        CHECK(n == 1 && f && (f->flags & OWNED_CONFIG) && f->algo == DIGEST_MD5);
        f = package_set_find(b, "/usr/bin/vd-same", &n);
        CHECK(n == 1 && f && !(f->flags & OWNED_CONFIG) && f->algo == DIGEST_MD5);
        /* /etc/vd belongs to both vd-base and vd-same. */
        f = package_set_find(b, "/etc/vd", &n);
        CHECK(n == 2 && f && f->algo == DIGEST_NONE);
        package_set_free(a);
        package_set_free(b);
        rm_rf(dir);
        free(dir);
}

/* This machine's dpkg database, copied first so that an apt run elsewhere
 * cannot change it between our read and dpkg-query's. */
static void check_real_tree(void) {
        if (access("/var/lib/dpkg/status", R_OK) < 0) {
                fprintf(stderr, "no dpkg database on this machine: real tree skipped\n");
                return;
        }
        char dir[] = "/var/tmp/vd-dpkg-real-XXXXXX";
        must(mkdtemp(dir));
        char *out = capture("mkdir -p %s/root/var/lib && cp -a /var/lib/dpkg %s/root/var/lib/", dir, dir);
        CHECK(out != NULL);
        free(out);
        check_against_dpkg_query(dir, "root");

        /* Every diversion: the diverting package owns the path, the
         * package diverted from owns the new place. */
        PackageSet *ps = read_tree(dir, "root");
        char *div = capture("cat %s/root/var/lib/dpkg/diversions 2>/dev/null || true", dir);
        char *save = NULL, *from, *to, *by;
        unsigned checked = 0;
        for (char *s = div; (from = strtok_r(s, "\n", &save)) && (to = strtok_r(NULL, "\n", &save)) &&
                            (by = strtok_r(NULL, "\n", &save));
             s = NULL) {
                size_t n;
                const OwnedFile *f = package_set_find(ps, to, &n);
                for (size_t i = 0; i < n; i++)
                        CHECK(strcmp(ps->packages[f[i].package].name, by) != 0);
                checked++;
        }
        fprintf(stderr, "real tree: %zu packages, %zu ownership records, %u diversions\n", ps->n_packages,
                ps->n_files, checked);
        free(div);
        package_set_free(ps);
        rm_rf(dir);
}

static void write_file(const char *dir, const char *rel, const char *content, size_t len) {
        char *path;
        must(asprintf(&path, "%s/%s", dir, rel) >= 0 ? (void *) 1 : NULL);
        char *parent = must(strdup(path));
        *strrchr(parent, '/') = 0;
        char *out = capture("mkdir -p '%s'", parent);
        free(out);
        free(parent);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        CHECK(fd >= 0 && write(fd, content, len) == (ssize_t) len);
        close(fd);
        free(path);
}

#define GOOD_STATUS                                                                                     \
        "Package: ok\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n\n"

/* One status file (and optionally one info file) that must be refused as
 * a corrupt database, naming what is wrong. */
static void check_corrupt(const char *status, size_t len, const char *info_rel, const char *info,
                          const char *message_part) {
        char dir[] = "/var/tmp/vd-dpkg-bad-XXXXXX";
        must(mkdtemp(dir));
        write_file(dir, "var/lib/dpkg/status", status, len);
        write_file(dir, "var/lib/dpkg/info/ok.list", "/usr\n/usr/bin\n/usr/bin/x\n", 22);
        if (info_rel)
                write_file(dir, info_rel, info, strlen(info));
        PackageSet *ps = NULL;
        Error e = {0};
        CHECK(packages_read(dir, &ps, &e) == 0);
        CHECK(ps && ps->format == PACKAGE_FORMAT_DPKG && ps->error == ERR_CORRUPT_PACKAGE_DB);
        CHECK(ps && ps->n_packages == 0 && ps->n_files == 0);
        CHECK(ps && ps->error_message && strstr(ps->error_message, message_part));
        if (ps && (!ps->error_message || !strstr(ps->error_message, message_part)))
                fprintf(stderr, "expected \"%s\" in: %s\n", message_part, strempty(ps->error_message));
        package_set_free(ps);
        rm_rf(dir);
}

static void check_corrupt_inputs(void) {
        static const char nul[] = "Package: a\0b\nStatus: install ok installed\n";
        check_corrupt(GOOD_STATUS "garbage line\n", strlen(GOOD_STATUS "garbage line\n"), NULL, NULL, "line 6");
        check_corrupt(" continued\nPackage: x\n", 22, NULL, NULL, "continuation line before any field");
        check_corrupt(nul, sizeof nul - 1, NULL, NULL, "NUL byte");
        check_corrupt("Package: x\nPackage: y\n", 22, NULL, NULL, "given twice");
        check_corrupt("Status: install ok installed\nVersion: 1\n", 40, NULL, NULL, "no Package field");
        check_corrupt("Package: ../../etc\nStatus: install ok installed\nVersion: 1\n", 58, NULL, NULL,
                      "invalid Package field");
        check_corrupt("Package: x\nVersion: 1\n", 22, NULL, NULL, "no Status field");
        check_corrupt("Package: x\nStatus: install ok\nVersion: 1\n", 40, NULL, NULL, "invalid Status field");
        check_corrupt("Package: x\nStatus: install ok dancing\nVersion: 1\n", 48, NULL, NULL,
                      "invalid Status field");
        check_corrupt("Package: x\nStatus: install ok installed\n", 40, NULL, NULL, "without a Version");
        check_corrupt("Package: x\nStatus: install ok installed\nVersion: a:1\n", 52, NULL, NULL,
                      "epoch in version is not a number");
        check_corrupt("Package: x\nStatus: install ok installed\nVersion: 1.0-\n", 53, NULL, NULL,
                      "revision number is empty");
        check_corrupt("Package: x\nStatus: install ok installed\nVersion: 1\nConffiles:\n /etc/x\n", 69, NULL,
                      NULL, "malformed Conffiles line");
        check_corrupt(GOOD_STATUS, strlen(GOOD_STATUS), "var/lib/dpkg/info/ok.list", "/usr\nrelative/path\n",
                      "info/ok.list, line 2: not an absolute path");
        check_corrupt(GOOD_STATUS, strlen(GOOD_STATUS), "var/lib/dpkg/info/ok.md5sums", "abc  usr/bin/x\n",
                      "info/ok.md5sums, line 1: not an md5sum line");
        check_corrupt(GOOD_STATUS, strlen(GOOD_STATUS), "var/lib/dpkg/info/ok.md5sums",
                      "zz0123456789abcdef0123456789abcd  usr/bin/x\n", "not an md5 digest");
        check_corrupt(GOOD_STATUS, strlen(GOOD_STATUS), "var/lib/dpkg/diversions", "/usr/bin/a\n/usr/bin/a.real\n",
                      "incomplete diversion");

        /* Not corrupt: removed packages are left out, blank lines of
         * blanks separate paragraphs, CRLF endings, "newconffile". */
        char dir[] = "/var/tmp/vd-dpkg-ok-XXXXXX";
        must(mkdtemp(dir));
        static const char fine[] = "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n"
                                   "Conffiles:\n /etc/gone.conf 0123456789abcdef0123456789abcdef\n"
                                   " \t \n"
                                   "Package: new\r\nStatus: install ok installed\r\nVersion: 2.0\r\n"
                                   "Conffiles:\n /etc/new.conf newconffile\n";
        write_file(dir, "var/lib/dpkg/status", fine, sizeof fine - 1);
        write_file(dir, "var/lib/dpkg/info/new.list", "/.\n/etc\n/etc/new.conf\n", 22);
        PackageSet *ps = NULL;
        Error e = {0};
        CHECK(packages_read(dir, &ps, &e) == 0 && ps->error == ERR_OK);
        if (ps->error)
                fprintf(stderr, "%s\n", ps->error_message);
        CHECK(ps->n_packages == 1 && strcmp(ps->packages[0].name, "new") == 0 &&
              strcmp(ps->packages[0].version, "2.0") == 0 && strcmp(ps->packages[0].arch, "") == 0);
        size_t n;
        const OwnedFile *f = package_set_find(ps, "/etc/new.conf", &n);
        CHECK(n == 1 && (f->flags & OWNED_CONFIG) && f->algo == DIGEST_NONE);
        CHECK(!package_set_find(ps, "/etc/gone.conf", &n) && n == 0);
        CHECK(!package_set_find(ps, "/.", &n) && package_set_find(ps, "/etc", &n));
        package_set_free(ps);
        rm_rf(dir);

        /* No database at all: a data disk. */
        char empty[] = "/var/tmp/vd-dpkg-none-XXXXXX";
        must(mkdtemp(empty));
        ps = NULL;
        CHECK(packages_read(empty, &ps, &e) == 0 && ps->format == PACKAGE_FORMAT_NONE && ps->error == ERR_OK &&
              ps->n_packages == 0);
        package_set_free(ps);
        rm_rf(empty);
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: %s make-package-trees.sh package-oracle.py\n", argv[0]);
                return 2;
        }
        if (!have_program("dpkg-deb") || !have_program("dpkg-query")) {
                fprintf(stderr, "no dpkg-deb or dpkg-query: skipped\n");
                return 77;
        }
        oracle = argv[2];
        check_fixture(argv[1]);
        check_real_tree();
        check_corrupt_inputs();
        return test_report();
}

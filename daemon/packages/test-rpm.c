/* The rpm reader against rpm itself: trees that rpm --root installed
 * (tests/make-package-trees.sh), in the sqlite and Berkeley DB forms, read
 * by us through librpm and by rpm -qa; then damaged databases. */
#include <fcntl.h>

#include "packages/rpm.h"
#include "packages/test-packages-util.h"

static const char *oracle;

static void check_against_rpm(const char *dir, const char *tree, const char *oracle_tree) {
        char *root;
        must(asprintf(&root, "%s/%s", dir, oracle_tree) >= 0 ? (void *) 1 : NULL);
        PackageSet *ps = read_tree(dir, tree);
        CHECK(ps->format == PACKAGE_FORMAT_RPM && ps->error == ERR_OK);
        if (ps->error)
                fprintf(stderr, "%s: %s\n", tree, ps->error_message);
        CHECK(ps->n_packages > 0);

        CHECK(oracle_agrees("packages", package_lines(ps), oracle, "rpm-packages", root));
        CHECK(oracle_agrees("files", file_lines(ps, 0), oracle, "rpm-files", root));
        /* Configuration files with the digest they shipped with. */
        CHECK(oracle_agrees("config files", config_lines(ps), oracle, "rpm-config", root));
        package_set_free(ps);
        free(root);
}

static void check_fixture(const char *dir) {
        check_against_rpm(dir, "rpm-a", "rpm-a");
        check_against_rpm(dir, "rpm-b", "rpm-b");
        /* The Berkeley DB copy holds rpm-a's packages. */
        check_against_rpm(dir, "rpm-a-bdb", "rpm-a");

        PackageSet *a = read_tree(dir, "rpm-a"), *b = read_tree(dir, "rpm-b");
        const Package *p = find_package(a, "vd-base");
        CHECK(p && strcmp(p->arch, "x86_64") == 0 && strcmp(p->version, "1.0-1") == 0);
        p = find_package(b, "vd-epoch");
        CHECK(p && strcmp(p->arch, "noarch") == 0 && strcmp(p->version, "1:1.0-1") == 0);
        p = find_package(b, "vd-tilde");
        CHECK(p && strcmp(p->version, "1.0-1") == 0);
        CHECK(!find_package(b, "vd-old") && find_package(a, "vd-old"));

        /* An offline rpm -V: A is pristine, B fails on the rewritten binary
         * (same size and mtime), the edited %config file and the deleted
         * file. vd-same records md5 digests, vd-base sha256. */
        char *fails = failing_paths(dir, "rpm-a", a);
        CHECK(fails && strcmp(fails, "") == 0);
        free(fails);
        fails = failing_paths(dir, "rpm-b", b);
        CHECK(fails && strcmp(fails, "/etc/vd/same.conf\n/usr/bin/vd-same\n/usr/lib/vd/same.dat\n") == 0);
        if (fails)
                fprintf(stderr, "failing on B:\n%s", fails);
        free(fails);

        size_t n;
        const OwnedFile *f = package_set_find(b, "/usr/bin/vd-same", &n);
        CHECK(n == 1 && f->algo == DIGEST_MD5 && !(f->flags & OWNED_CONFIG));
        f = package_set_find(b, "/usr/bin/vd-base", &n);
        CHECK(n == 1 && f->algo == DIGEST_SHA256);
        f = package_set_find(b, "/etc/vd/base.conf", &n);
        CHECK(n == 1 && (f->flags & OWNED_CONFIG) && f->algo == DIGEST_SHA256);
        f = package_set_find(b, "/etc/vd", &n);
        CHECK(n == 2 && f->algo == DIGEST_NONE);
        package_set_free(a);
        package_set_free(b);
}

static void overwrite(const char *path, off_t offset, const char *bytes, size_t len) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        CHECK(fd >= 0 && pwrite(fd, bytes, len, offset) == (ssize_t) len);
        close(fd);
}

/* A damaged database is a named error for that side's packages, never a
 * crash, and nothing printed by librpm. */
static void check_damaged(const char *dir) {
        char *out = capture("cd %s && cp -a rpm-a bad-sqlite && cp -a rpm-a bad-header && cp -a rpm-a-bdb bad-bdb && "
                            "cp -a rpm-a ndb && rm ndb/var/lib/rpm/rpmdb.sqlite* && "
                            "head -c 8192 /dev/urandom > ndb/var/lib/rpm/Packages.db && "
                            "sqlite3 -version >/dev/null 2>&1; true",
                            dir);
        free(out);
        char *path;
        Error e = {0};
        PackageSet *ps = NULL;

        /* Not a database at all. */
        must(asprintf(&path, "%s/bad-sqlite/var/lib/rpm/rpmdb.sqlite", dir) >= 0 ? (void *) 1 : NULL);
        overwrite(path, 0, "this is not an sqlite file", 26);
        free(path);
        must(asprintf(&path, "%s/bad-sqlite", dir) >= 0 ? (void *) 1 : NULL);
        CHECK(packages_read(path, &ps, &e) == 0);
        CHECK(ps->format == PACKAGE_FORMAT_RPM && ps->error == ERR_CORRUPT_PACKAGE_DB && ps->n_packages == 0);
        fprintf(stderr, "bad sqlite: %s\n", strempty(ps->error_message));
        ps = package_set_free(ps);
        free(path);

        /* A Berkeley DB file cut short. */
        must(asprintf(&path, "%s/bad-bdb/var/lib/rpm/Packages", dir) >= 0 ? (void *) 1 : NULL);
        CHECK(truncate(path, 4096) == 0);
        free(path);
        must(asprintf(&path, "%s/bad-bdb", dir) >= 0 ? (void *) 1 : NULL);
        CHECK(packages_read(path, &ps, &e) == 0);
        CHECK(ps->error == ERR_CORRUPT_PACKAGE_DB && ps->n_packages == 0);
        fprintf(stderr, "bad bdb: %s\n", strempty(ps->error_message));
        ps = package_set_free(ps);
        free(path);

        /* The ndb form: this librpm may lack it (Debian's does); either way
         * a named error, since the file is noise. */
        must(asprintf(&path, "%s/ndb", dir) >= 0 ? (void *) 1 : NULL);
        CHECK(packages_read(path, &ps, &e) == 0);
        CHECK(ps->error == ERR_UNSUPPORTED_PACKAGE_DB || ps->error == ERR_CORRUPT_PACKAGE_DB);
        fprintf(stderr, "ndb: %s: %s\n", error_code_to_string(ps->error), strempty(ps->error_message));
        ps = package_set_free(ps);
        free(path);

        /* A header blob damaged inside an intact sqlite file: the header
         * digest catches it. */
        if (have_program("sqlite3")) {
                out = capture("cd %s/bad-header/var/lib/rpm && sqlite3 rpmdb.sqlite "
                              "\"UPDATE Packages SET blob = substr(blob, 1, 200) || zeroblob(64) || substr(blob, 265) "
                              "WHERE hnum = (SELECT min(hnum) FROM Packages)\"",
                              dir);
                CHECK(out != NULL);
                free(out);
                must(asprintf(&path, "%s/bad-header", dir) >= 0 ? (void *) 1 : NULL);
                CHECK(packages_read(path, &ps, &e) == 0);
                CHECK(ps->error == ERR_CORRUPT_PACKAGE_DB && ps->n_packages == 0);
                fprintf(stderr, "bad header: %s\n", strempty(ps->error_message));
                ps = package_set_free(ps);
                free(path);
        } else
                fprintf(stderr, "no sqlite3: damaged header skipped\n");
}

static void versions(void) {
        static const struct {
                const char *a, *b;
                int order;
        } pairs[] = {
                {"1.0-1", "1.0-1", 0},   {"1.0-1", "1.0-2", -1},    {"1.0-1", "1.0.1-1", -1},
                {"1.0~rc1-1", "1.0-1", -1}, {"1:1.0-1", "2.0-1", 1}, {"0:1.0-1", "1.0-1", 0},
                {"1.10-1", "1.9-1", 1},  {"1.0a-1", "1.0-1", 1},    {"1.0^git1-1", "1.0-1", 1},
                {"1.0^git1-1", "1.0.1-1", -1}, {"2.0-1.el9", "2.0-1.el10", -1},
        };
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
                int c = rpm_version_compare(pairs[i].a, pairs[i].b);
                c = c < 0 ? -1 : c > 0;
                CHECK(c == pairs[i].order);
                if (c != pairs[i].order)
                        fprintf(stderr, "%s vs %s: %d\n", pairs[i].a, pairs[i].b, c);
        }
        CHECK(package_version_compare(PACKAGE_FORMAT_RPM, "1.0~rc1-1", "1.0-1") < 0);
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: %s make-package-trees.sh package-oracle.py\n", argv[0]);
                return 2;
        }
        versions();
        if (!have_program("rpmbuild") || !have_program("rpm") || !have_program("db5.3_load")) {
                fprintf(stderr, "no rpmbuild, rpm or db5.3_load: the readers' tests skipped\n");
                return n_failed ? EXIT_FAILURE : 77;
        }
        oracle = argv[2];
        char *dir = make_trees(argv[1], "rpm");
        check_fixture(dir);
        check_damaged(dir);
        rm_rf(dir);
        free(dir);
        return test_report();
}

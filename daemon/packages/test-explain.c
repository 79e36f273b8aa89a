/* The package diff and the cause of each changed path, on package sets and
 * entries built in memory; merged-/usr aliases; measured digests. */
#include "common/test-util.h"
#include "packages/explain.h"

static void add(PackageSet *ps, const char *name, const char *arch, const char *version) {
        CHECK(package_set_add_package(ps, name, arch, version) == 0);
}

static uint32_t index_of(const PackageSet *ps, const char *name) {
        for (size_t i = 0; i < ps->n_packages; i++)
                if (strcmp(ps->packages[i].name, name) == 0)
                        return (uint32_t) i;
        abort();
}

static void own(PackageSet *ps, const char *path, const char *name, unsigned flags, DigestAlgo algo, uint8_t fill) {
        uint8_t d[DIGEST_MAX_SIZE];
        memset(d, fill, sizeof d);
        CHECK(package_set_add_file(ps, path, index_of(ps, name), flags, algo, algo ? d : NULL, NULL) == 0);
}

static Entry file_entry(const char *path, uint8_t fill) {
        Entry e = {.path = (char *) path, .kind = ENTRY_KIND_FILE, .has_sha256 = true};
        memset(e.sha256, fill, sizeof e.sha256);
        return e;
}

static const PackageChange *find_change(const PackageDiff *d, const char *name, const char *arch) {
        for (size_t i = 0; i < d->n_changes; i++) {
                const Package *p = d->changes[i].a ? d->changes[i].a : d->changes[i].b;
                if (strcmp(p->name, name) == 0 && strcmp(p->arch, arch) == 0)
                        return &d->changes[i];
        }
        return NULL;
}

static void package_changes(void) {
        PackageSet *a = package_set_new(), *b = package_set_new();
        a->format = b->format = PACKAGE_FORMAT_DPKG;
        add(a, "up", "amd64", "1.0-1");
        add(a, "same", "all", "1.0");
        add(a, "down", "all", "2.0-1");
        add(a, "gone", "all", "1");
        add(a, "kernel", "amd64", "5.1");
        add(a, "kernel", "amd64", "5.2");
        add(a, "multi", "i386", "1");
        add(a, "multi", "amd64", "1");
        add(a, "epoch", "all", "2.0");
        add(a, "zero", "all", "0:1.0");
        add(b, "up", "amd64", "1.0-2");
        add(b, "same", "all", "1.0");
        add(b, "down", "all", "1.9-1");
        add(b, "new", "all", "1");
        add(b, "kernel", "amd64", "5.3");
        add(b, "kernel", "amd64", "5.2");
        add(b, "multi", "amd64", "1");
        add(b, "epoch", "all", "1:1.0");
        add(b, "zero", "all", "1.0");
        CHECK(package_set_finish(a) == 0 && package_set_finish(b) == 0);

        PackageDiff *d = NULL;
        CHECK(package_diff(a, b, &d) == 0 && d->usable);
        CHECK(d->n_changes == 7);
        CHECK(d->counts[PACKAGE_ADDED] == 1 && d->counts[PACKAGE_REMOVED] == 2);
        CHECK(d->counts[PACKAGE_UPGRADED] == 3 && d->counts[PACKAGE_DOWNGRADED] == 1);
        const PackageChange *c = find_change(d, "up", "amd64");
        CHECK(c && c->change == PACKAGE_UPGRADED && strcmp(c->a->version, "1.0-1") == 0 &&
              strcmp(c->b->version, "1.0-2") == 0);
        c = find_change(d, "down", "all");
        CHECK(c && c->change == PACKAGE_DOWNGRADED);
        c = find_change(d, "gone", "all");
        CHECK(c && c->change == PACKAGE_REMOVED && !c->b);
        c = find_change(d, "new", "all");
        CHECK(c && c->change == PACKAGE_ADDED && !c->a);
        /* Two kernels installed at once: 5.2 stays, 5.1 became 5.3. */
        c = find_change(d, "kernel", "amd64");
        CHECK(c && c->change == PACKAGE_UPGRADED && strcmp(c->a->version, "5.1") == 0 &&
              strcmp(c->b->version, "5.3") == 0);
        c = find_change(d, "multi", "i386");
        CHECK(c && c->change == PACKAGE_REMOVED);
        CHECK(!find_change(d, "multi", "amd64"));
        c = find_change(d, "epoch", "all");
        CHECK(c && c->change == PACKAGE_UPGRADED);
        CHECK(!find_change(d, "zero", "all")); /* 0:1.0 is 1.0 */
        CHECK(!find_change(d, "same", "all"));
        /* In name, then arch order. */
        for (size_t i = 1; i < d->n_changes; i++) {
                const Package *p = d->changes[i - 1].a ? d->changes[i - 1].a : d->changes[i - 1].b;
                const Package *q = d->changes[i].a ? d->changes[i].a : d->changes[i].b;
                int o = strcmp(p->name, q->name);
                CHECK(o < 0 || (o == 0 && strcmp(p->arch, q->arch) < 0));
        }
        package_diff_free(d);

        /* No database on one side: all added; a side that failed: nothing. */
        CHECK(package_diff(NULL, b, &d) == 0 && d->usable && d->counts[PACKAGE_ADDED] == b->n_packages);
        package_diff_free(d);
        Error e = {.code = ERR_CORRUPT_PACKAGE_DB};
        strcpy(e.message, "bad");
        CHECK(package_set_fail(a, &e) == 0 && a->n_packages == 0 && a->error == ERR_CORRUPT_PACKAGE_DB);
        CHECK(package_diff(a, b, &d) == 0 && !d->usable && d->n_changes == 0);
        Explanation x;
        package_explain(d, "/usr/bin/up", NULL, NULL, &x);
        CHECK(!x.known);
        package_diff_free(d);
        package_set_free(a);
        package_set_free(b);
}

/* Two sides: "up" upgraded, "same" unchanged, "gone" removed, "new" added,
 * "rebuilt" same version with other digests, "old" (md5 digests, as dpkg
 * and old rpm record them). */
static void causes(void) {
        PackageSet *a = package_set_new(), *b = package_set_new();
        a->format = b->format = PACKAGE_FORMAT_RPM;
        add(a, "up", "x86_64", "1.0-1");
        add(a, "same", "noarch", "1.0-1");
        add(a, "gone", "noarch", "1.0-1");
        add(a, "rebuilt", "noarch", "1.0-1");
        add(a, "old", "noarch", "1.0-1");
        add(b, "up", "x86_64", "1.1-1");
        add(b, "same", "noarch", "1.0-1");
        add(b, "new", "noarch", "1.0-1");
        add(b, "rebuilt", "noarch", "1.0-1");
        add(b, "old", "noarch", "1.0-1");
        CHECK(package_set_finish(a) == 0 && package_set_finish(b) == 0);
        own(a, "/usr/bin/up", "up", 0, DIGEST_SHA256, 0x11);
        own(b, "/usr/bin/up", "up", 0, DIGEST_SHA256, 0x12);
        own(a, "/usr/bin/same", "same", 0, DIGEST_SHA256, 0x21);
        own(b, "/usr/bin/same", "same", 0, DIGEST_SHA256, 0x21);
        own(a, "/etc/same.conf", "same", OWNED_CONFIG, DIGEST_SHA256, 0x22);
        own(b, "/etc/same.conf", "same", OWNED_CONFIG, DIGEST_SHA256, 0x22);
        own(a, "/usr/share/shared", "same", 0, DIGEST_NONE, 0);
        own(a, "/usr/share/shared", "up", 0, DIGEST_NONE, 0);
        own(b, "/usr/share/shared", "same", 0, DIGEST_NONE, 0);
        own(b, "/usr/share/shared", "up", 0, DIGEST_NONE, 0);
        own(a, "/usr/bin/gone", "gone", 0, DIGEST_SHA256, 0x31);
        own(b, "/usr/bin/new", "new", 0, DIGEST_SHA256, 0x41);
        own(a, "/usr/bin/rebuilt", "rebuilt", 0, DIGEST_SHA256, 0x51);
        own(b, "/usr/bin/rebuilt", "rebuilt", 0, DIGEST_SHA256, 0x52);
        own(a, "/usr/bin/old", "old", 0, DIGEST_MD5, 0x61);
        own(b, "/usr/bin/old", "old", 0, DIGEST_MD5, 0x61);
        own(a, "/var/log/same.log", "same", OWNED_GHOST, DIGEST_NONE, 0);
        own(b, "/var/log/same.log", "same", OWNED_GHOST, DIGEST_NONE, 0);
        own(a, "/etc/opt.conf", "same", OWNED_CONFIG | OWNED_MISSING_OK, DIGEST_SHA256, 0x71);
        own(b, "/etc/opt.conf", "same", OWNED_CONFIG | OWNED_MISSING_OK, DIGEST_SHA256, 0x71);
        CHECK(package_set_finish(a) == 0 && package_set_finish(b) == 0);

        PackageDiff *d = NULL;
        CHECK(package_diff(a, b, &d) == 0 && d->usable);
        Explanation x;
        Entry ea, eb;

        /* Upgraded, and B's file is what the new version recorded. */
        ea = file_entry("/usr/bin/up", 0x11), eb = file_entry("/usr/bin/up", 0x12);
        package_explain(d, "/usr/bin/up", &ea, &eb, &x);
        CHECK(x.known && x.cause == CAUSE_PACKAGE && x.n_owned_a == 1 && x.n_owned_b == 1);
        CHECK(!x.mismatch_a && !x.mismatch_b);
        const char *names[4];
        CHECK(explanation_owners(d, &x, names, 4) == 1 && strcmp(names[0], "up") == 0);
        /* Upgraded, but B's file matches neither version: tampered after. */
        eb = file_entry("/usr/bin/up", 0x99);
        package_explain(d, "/usr/bin/up", &ea, &eb, &x);
        CHECK(x.cause == CAUSE_TAMPERED && x.mismatch_b && !x.mismatch_a);

        /* Unchanged package, content no longer its digest: tampered. */
        ea = file_entry("/usr/bin/same", 0x21), eb = file_entry("/usr/bin/same", 0x29);
        package_explain(d, "/usr/bin/same", &ea, &eb, &x);
        CHECK(x.cause == CAUSE_TAMPERED && x.mismatch_b);
        /* ... or only its mode changed: still not the package's doing. */
        eb = file_entry("/usr/bin/same", 0x21);
        eb.mode = 04755;
        package_explain(d, "/usr/bin/same", &ea, &eb, &x);
        CHECK(x.cause == CAUSE_TAMPERED && !x.mismatch_a && !x.mismatch_b);
        /* ... or deleted: missing. */
        package_explain(d, "/usr/bin/same", &ea, NULL, &x);
        CHECK(x.cause == CAUSE_TAMPERED && x.mismatch_b);
        /* ... or replaced by a symlink. */
        eb = (Entry){.path = "/usr/bin/same", .kind = ENTRY_KIND_SYMLINK, .target = "/tmp/x"};
        package_explain(d, "/usr/bin/same", &ea, &eb, &x);
        CHECK(x.cause == CAUSE_TAMPERED && x.mismatch_b);

        /* A configuration file edited: config; deleted: config. */
        ea = file_entry("/etc/same.conf", 0x22), eb = file_entry("/etc/same.conf", 0x23);
        package_explain(d, "/etc/same.conf", &ea, &eb, &x);
        CHECK(x.cause == CAUSE_CONFIG && x.mismatch_b);
        package_explain(d, "/etc/same.conf", &ea, NULL, &x);
        CHECK(x.cause == CAUSE_CONFIG);
        /* missingok: its absence fails nothing. */
        ea = file_entry("/etc/opt.conf", 0x71);
        package_explain(d, "/etc/opt.conf", &ea, NULL, &x);
        CHECK(x.cause == CAUSE_CONFIG && !x.mismatch_b);

        /* A directory owned by an upgraded and an unchanged package. */
        Entry da = {.path = "/usr/share/shared", .kind = ENTRY_KIND_DIRECTORY, .mode = 0755};
        Entry db = da;
        db.mode = 0775;
        package_explain(d, "/usr/share/shared", &da, &db, &x);
        CHECK(x.cause == CAUSE_PACKAGE && x.n_owned_a == 2);
        CHECK(explanation_owners(d, &x, names, 4) == 2 && strcmp(names[0], "same") == 0 &&
              strcmp(names[1], "up") == 0);

        /* Removed and added with their packages. */
        ea = file_entry("/usr/bin/gone", 0x31);
        package_explain(d, "/usr/bin/gone", &ea, NULL, &x);
        CHECK(x.cause == CAUSE_PACKAGE && x.n_owned_b == 0);
        eb = file_entry("/usr/bin/new", 0x41);
        package_explain(d, "/usr/bin/new", NULL, &eb, &x);
        CHECK(x.cause == CAUSE_PACKAGE);
        /* Added with its package but not what it recorded. */
        eb = file_entry("/usr/bin/new", 0x42);
        package_explain(d, "/usr/bin/new", NULL, &eb, &x);
        CHECK(x.cause == CAUSE_TAMPERED);

        /* Rebuilt with the same version: the package, by its digests. */
        ea = file_entry("/usr/bin/rebuilt", 0x51), eb = file_entry("/usr/bin/rebuilt", 0x52);
        package_explain(d, "/usr/bin/rebuilt", &ea, &eb, &x);
        CHECK(x.cause == CAUSE_PACKAGE);

        /* A %ghost file is not the package's content. */
        ea = file_entry("/var/log/same.log", 1), eb = file_entry("/var/log/same.log", 2);
        package_explain(d, "/var/log/same.log", &ea, &eb, &x);
        CHECK(x.cause == CAUSE_UNOWNED);
        CHECK(explanation_owners(d, &x, names, 4) == 0);

        /* Nobody's file. */
        ea = file_entry("/var/log/messages", 1), eb = file_entry("/var/log/messages", 2);
        package_explain(d, "/var/log/messages", &ea, &eb, &x);
        CHECK(x.cause == CAUSE_UNOWNED && x.n_owned_a == 0 && x.n_owned_b == 0);

        /* md5 digests need the measured digest: unmeasured, the change is
         * still nobody's package's doing; measured, it shows which side. */
        ea = file_entry("/usr/bin/old", 1), eb = file_entry("/usr/bin/old", 2);
        package_explain(d, "/usr/bin/old", &ea, &eb, &x);
        CHECK(x.cause == CAUSE_TAMPERED && !x.mismatch_a && !x.mismatch_b);
        uint8_t md5[16];
        memset(md5, 0x61, sizeof md5);
        CHECK(package_set_observe(a, "/usr/bin/old", DIGEST_MD5, md5) == 1);
        memset(md5, 0x66, sizeof md5);
        CHECK(package_set_observe(b, "/usr/bin/old", DIGEST_MD5, md5) == 1);
        CHECK(package_set_observe(b, "/usr/bin/old", DIGEST_SHA1, md5) == 0);
        CHECK(package_set_observe(b, "/nowhere", DIGEST_MD5, md5) == 0);
        package_explain(d, "/usr/bin/old", &ea, &eb, &x);
        CHECK(x.cause == CAUSE_TAMPERED && !x.mismatch_a && x.mismatch_b);

        package_diff_free(d);
        package_set_free(a);
        package_set_free(b);

        /* Two data disks: nothing owns anything. */
        CHECK(package_diff(NULL, NULL, &d) == 0 && d->usable && d->n_changes == 0);
        package_explain(d, "/data.txt", &ea, &eb, &x);
        CHECK(x.known && x.cause == CAUSE_UNOWNED);
        package_diff_free(d);
}

static void tree_add(Tree *t, const char *path, EntryKind kind, const char *target) {
        Entry *e = must(tree_add_entry(t));
        e->path = must(strdup(path));
        e->kind = kind;
        e->target = target ? must(strdup(target)) : NULL;
        if (kind == ENTRY_KIND_FILE)
                e->has_sha256 = true;
}

static int compare_entries(const void *x, const void *y) {
        return path_compare(((const Entry *) x)->path, ((const Entry *) y)->path);
}

static void aliases(void) {
        Manifest *m = must(manifest_new());
        Tree *t = must(manifest_add_tree(m, "/"));
        tree_add(t, "/", ENTRY_KIND_DIRECTORY, NULL);
        tree_add(t, "/bin", ENTRY_KIND_SYMLINK, "usr/bin");
        tree_add(t, "/lib64", ENTRY_KIND_SYMLINK, "/usr/lib64");
        tree_add(t, "/usr", ENTRY_KIND_DIRECTORY, NULL);
        tree_add(t, "/usr/bin", ENTRY_KIND_DIRECTORY, NULL);
        tree_add(t, "/usr/bin/ls", ENTRY_KIND_FILE, NULL);
        tree_add(t, "/usr/lib64", ENTRY_KIND_SYMLINK, "../usr/./lib");
        tree_add(t, "/usr/lib", ENTRY_KIND_DIRECTORY, NULL);
        tree_add(t, "/usr/lib/ld.so", ENTRY_KIND_FILE, NULL);
        tree_add(t, "/loop1", ENTRY_KIND_SYMLINK, "loop2");
        tree_add(t, "/loop2", ENTRY_KIND_SYMLINK, "/loop1");
        tree_add(t, "/up", ENTRY_KIND_SYMLINK, "../../..");
        tree_add(t, "/etc", ENTRY_KIND_DIRECTORY, NULL);
        tree_add(t, "/etc/passwd", ENTRY_KIND_FILE, NULL);
        qsort(t->entries, t->n_entries, sizeof(Entry), compare_entries);

        PackageSet *ps = package_set_new();
        add(ps, "coreutils", "amd64", "9.1");
        add(ps, "libc6", "amd64", "2.36");
        own(ps, "/bin", "coreutils", 0, DIGEST_NONE, 0);
        own(ps, "/bin/ls", "coreutils", 0, DIGEST_MD5, 0xaa);
        own(ps, "/usr/bin/ls", "coreutils", 0, DIGEST_NONE, 0);
        own(ps, "/lib64/ld.so", "libc6", 0, DIGEST_MD5, 0xbb);
        own(ps, "/loop1/x", "libc6", 0, DIGEST_NONE, 0);
        own(ps, "/up/etc/passwd", "libc6", 0, DIGEST_NONE, 0);
        CHECK(package_set_finish(ps) == 0);
        CHECK(package_set_resolve_aliases(ps, t) == 0);

        size_t n;
        /* The symlink itself stays; the file behind it is found, the two
         * records of coreutils merged keeping the digest. */
        CHECK(package_set_find(ps, "/bin", &n) && n == 1);
        const OwnedFile *f = package_set_find(ps, "/usr/bin/ls", &n);
        CHECK(f && n == 1 && f->algo == DIGEST_MD5);
        CHECK(!package_set_find(ps, "/bin/ls", &n));
        /* Two links deep, one of them relative with "..". */
        CHECK(package_set_find(ps, "/usr/lib/ld.so", &n) && n == 1);
        /* A loop is left as it is; ".." above the root stops at the root. */
        CHECK(package_set_find(ps, "/loop1/x", &n));
        CHECK(package_set_find(ps, "/etc/passwd", &n));

        /* Only md5 needs measuring, and only for a regular file present. */
        CHECK(package_set_digests_needed(ps, t) == (1u << DIGEST_MD5));
        uint8_t md5[16] = {0};
        CHECK(package_set_observe(ps, "/usr/bin/ls", DIGEST_MD5, md5) == 1);
        package_set_free(ps);
        manifest_free(m);
}

int main(void) {
        package_changes();
        causes();
        aliases();
        return test_report();
}

/* Unit tests of the comparer's filters: path scopes, include/exclude globs
 * and ignored fields, on manifests built in memory. */
#include "common/filters.h"
#include "compare/test-compare-util.h"

/* The paths of the changes, joined by spaces, for compact checks. */
static char *changed_paths(const DiffResult *r) {
        char *s = must(strdup(""));
        for (size_t i = 0; i < r->n_changes; i++) {
                const Entry *e = r->changes[i].b ?: r->changes[i].a;
                char *n = NULL;
                if (asprintf(&n, "%s%s%s", s, i ? " " : "", e->path) < 0)
                        n = NULL;
                free(s);
                must(n);
                s = n;
        }
        return s;
}

/* b = base + a handful of added files across the tree. */
static Manifest *grown_manifest(void) {
        Manifest *m = base_manifest();
        Tree *t = &m->trees[0];

        entry_make(t, "/etc/app.conf", ENTRY_KIND_FILE);
        entry_make(t, "/etc/app.d", ENTRY_KIND_DIRECTORY);
        entry_make(t, "/etc/app.d/x.conf", ENTRY_KIND_FILE);
        entry_make(t, "/etc-old", ENTRY_KIND_FILE);
        entry_make(t, "/var", ENTRY_KIND_DIRECTORY);
        entry_make(t, "/var/log", ENTRY_KIND_DIRECTORY);
        entry_make(t, "/var/log/messages", ENTRY_KIND_FILE);
        entry_make(t, "/var/log/app.log", ENTRY_KIND_FILE);
        entry_make(t, "/var/.git", ENTRY_KIND_DIRECTORY);
        entry_make(t, "/var/.git/HEAD", ENTRY_KIND_FILE);
        manifest_sort(m);
        return m;
}

static bool filtered_is(const CompareOptions *o, const char *want) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = grown_manifest();
        _cleanup_diff_result_ DiffResult *r = diff(a, b, o);
        _cleanup_free_ char *got = changed_paths(r);

        if (strcmp(got, want) != 0) {
                fprintf(stderr, "want [%s]\n got [%s]\n", want, got);
                return false;
        }
        return r->counts[CHANGE_ADDED] == r->n_changes;
}

static void test_paths(void) {
        const char *why = NULL;
        CompareOptions o = {};

        CHECK(filters_add_path(&o.filters, "//etc/", &why) == 0);
        CHECK(streq_ptr(o.filters.paths[0], "/etc"));
        /* "/etc" is not a prefix of "/etc-old": scopes are component-wise. */
        CHECK(filtered_is(&o, "/etc/app.conf /etc/app.d /etc/app.d/x.conf"));
        CHECK(filters_add_path(&o.filters, "/var/log", &why) == 0);
        CHECK(filtered_is(&o, "/etc/app.conf /etc/app.d /etc/app.d/x.conf /var/log /var/log/app.log /var/log/messages"));
        compare_options_done(&o);

        CHECK(filters_add_path(&o.filters, "/", &why) == 0);
        CHECK(filtered_is(&o, "/etc/app.conf /etc/app.d /etc/app.d/x.conf /etc-old /var /var/.git /var/.git/HEAD /var/log "
                              "/var/log/app.log /var/log/messages"));
        compare_options_done(&o);

        CHECK(filters_add_path(&o.filters, "etc", &why) == -EINVAL && why);
        CHECK(filters_add_path(&o.filters, "/etc/../root", &why) == -EINVAL);
        CHECK(filters_empty(&o.filters));
}

static void test_globs(void) {
        const char *why = NULL;
        CompareOptions o = {};

        /* No '/': any component, and all under a matching directory. */
        CHECK(filters_add_glob(&o.filters, false, ".git", &why) == 0);
        CHECK(filters_add_glob(&o.filters, false, "*.log", &why) == 0);
        CHECK(filtered_is(&o, "/etc/app.conf /etc/app.d /etc/app.d/x.conf /etc-old /var /var/log /var/log/messages"));
        compare_options_done(&o);

        /* With '/': the whole path or an ancestor; '*' stops at '/'. */
        CHECK(filters_add_glob(&o.filters, false, "/var/*", &why) == 0);
        CHECK(filtered_is(&o, "/etc/app.conf /etc/app.d /etc/app.d/x.conf /etc-old /var"));
        compare_options_done(&o);

        CHECK(filters_add_glob(&o.filters, true, "*.conf", &why) == 0);
        CHECK(filtered_is(&o, "/etc/app.conf /etc/app.d/x.conf"));
        CHECK(filters_add_glob(&o.filters, false, "/etc/app.d", &why) == 0);
        CHECK(filtered_is(&o, "/etc/app.conf"));
        compare_options_done(&o);

        CHECK(filters_add_glob(&o.filters, true, "/etc/app.[cd]*", &why) == 0);
        CHECK(filtered_is(&o, "/etc/app.conf /etc/app.d /etc/app.d/x.conf"));
        compare_options_done(&o);

        CHECK(filters_add_glob(&o.filters, true, "", &why) == -EINVAL);
        for (int i = 0; i < FILTERS_MAX_ITEMS; i++)
                CHECK(filters_add_glob(&o.filters, true, "x", &why) == 0);
        CHECK(filters_add_glob(&o.filters, true, "x", &why) == -EINVAL && why);
        compare_options_done(&o);
}

static void test_ignore(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();
        const char *why = NULL;
        CompareOptions o = {};
        Entry *p = entry_find(b, "/etc/passwd");

        p->mtime_ns += 1;
        p->uid = 1000;
        CHECK(one_change(a, b, &o, "/etc/passwd", CHANGE_METADATA, FIELD_UID | FIELD_MTIME));
        CHECK(filters_add_ignore(&o.filters, "mtime", &why) == 0);
        CHECK(one_change(a, b, &o, "/etc/passwd", CHANGE_METADATA, FIELD_UID));
        CHECK(filters_add_ignore(&o.filters, "uid", &why) == 0);
        CHECK(no_change(a, b, &o));

        /* An ignored field does not hide a content change beside it. */
        p->size = 99;
        CHECK(one_change(a, b, &o, "/etc/passwd", CHANGE_MODIFIED, FIELD_CONTENT | FIELD_SIZE));
        p->size = 10;

        /* One xattr by name (a glob), the others still compared. */
        free(p->xattrs[0].value);
        p->xattrs[0].value = (uint8_t *) must(strdup("shadow_t"));
        p->xattrs[0].len = 8;
        CHECK(one_change(a, b, &o, "/etc/passwd", CHANGE_METADATA, FIELD_XATTRS));
        CHECK(filters_add_ignore(&o.filters, "xattr:security.*", &why) == 0);
        CHECK(no_change(a, b, &o));
        entry_add_xattr(p, "user.note", "x");
        manifest_sort(b);
        CHECK(one_change(a, b, &o, "/etc/passwd", CHANGE_METADATA, FIELD_XATTRS));
        /* Present on one side only but ignored: still equal. */
        entry_add_xattr(entry_find(a, "/etc/passwd"), "user.note", "x");
        entry_add_xattr(entry_find(a, "/etc/passwd"), "security.ima", "v");
        manifest_sort(a);
        CHECK(no_change(a, b, &o));

        CHECK(filters_add_ignore(&o.filters, "content", &why) == -EINVAL && why);
        CHECK(filters_add_ignore(&o.filters, "target", &why) == -EINVAL);
        CHECK(filters_add_ignore(&o.filters, "bogus", &why) == -EINVAL);
        CHECK(filters_add_ignore(&o.filters, "xattr:", &why) == -EINVAL);
        compare_options_done(&o);
}

int main(void) {
        test_paths();
        test_globs();
        test_ignore();
        return test_report();
}

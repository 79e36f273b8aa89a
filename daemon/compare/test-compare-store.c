/* The comparer over stored manifests (store_source()): the merge read from
 * SQLite cursors finds exactly what it finds on the same manifests in
 * memory, changes of every kind across trees present on one side only,
 * with filters applied on the way. */
#include <stdlib.h>

#include "compare/test-compare-util.h"
#include <sqlite3.h>

#include "store/store.h"

static char tmpdir[] = "/tmp/test-compare-store-XXXXXX";

/* n entries in two trees, b a mutation of a: every kind of change. */
static void make_pair(size_t n, Manifest **ret_a, Manifest **ret_b) {
        Manifest *a = base_manifest(), *b = base_manifest();
        Tree *ta = must(manifest_add_tree(a, "/dev/sdb1")), *tb = must(manifest_add_tree(b, "/dev/sdc1"));
        char path[64];

        fs_make(a, "/dev/sdb1", "ext4", NULL, NULL);
        fs_make(b, "/dev/sdc1", "xfs", NULL, NULL);
        entry_make(ta, "/", ENTRY_KIND_DIRECTORY)->fs = 1;
        entry_make(tb, "/", ENTRY_KIND_DIRECTORY)->fs = 1;
        for (size_t i = 0; i < n; i++) {
                (void) snprintf(path, sizeof path, "/srv/d%03zu/f%06zu", i / 100, i);
                int what = (int) (i % 13);
                if (what != 1)
                        entry_make(&a->trees[0], path, ENTRY_KIND_FILE)->sha256[0] = (uint8_t) i;
                if (what == 2)
                        continue; /* removed */
                Entry *e = entry_make(&b->trees[0], path, what == 3 ? ENTRY_KIND_SYMLINK : ENTRY_KIND_FILE);
                e->sha256[0] = (uint8_t) i;
                if (what == 3) {
                        free(e->target);
                        e->target = must(strdup("elsewhere"));
                }
                else if (what == 4)
                        e->sha256[1] = 1;
                else if (what == 5)
                        e->mode = 0600;
                else if (what == 6)
                        entry_add_xattr(e, "user.x", "y");
        }
        manifest_sort(a);
        manifest_sort(b);
        *ret_a = a;
        *ret_b = b;
}

static Store *save_both(const char *name, const Manifest *a, const Manifest *b) {
        _cleanup_free_ char *path = must(path_join(tmpdir, name));
        uint8_t key[FINGERPRINT_SIZE] = {};
        StoreDisk d = {.path = "/x.img", .key = key};
        Store *s = NULL;
        Error e = {};

        CHECK(store_open(path, 1ULL << 30, &s, &e) == 0);
        key[0] = 'a';
        CHECK(s && store_save_manifest(s, key, &d, 1, a, &e) == 0);
        key[0] = 'b';
        CHECK(s && store_save_manifest(s, key, &d, 1, b, &e) == 0);
        return s;
}

static bool same_result(const DiffResult *x, const DiffResult *y) {
        if (x->n_changes != y->n_changes || memcmp(x->counts, y->counts, sizeof x->counts) != 0 ||
            memcmp(x->fs_counts, y->fs_counts, sizeof x->fs_counts) != 0)
                return false;
        for (size_t i = 0; i < x->n_changes; i++) {
                const Change *c = &x->changes[i], *d = &y->changes[i];
                if (c->change != d->change || c->fields != d->fields || !streq_ptr(c->tree, d->tree) ||
                    !!c->a != !!d->a || !!c->b != !!d->b || strcmp((c->b ?: c->a)->path, (d->b ?: d->a)->path) != 0)
                        return false;
        }
        return true;
}

static void check_pair(Store *s, const Manifest *a, const Manifest *b, const CompareOptions *o, size_t *ret_n) {
        _cleanup_diff_result_ DiffResult *mem = NULL, *stored = NULL;
        uint8_t ka[FINGERPRINT_SIZE] = {'a'}, kb[FINGERPRINT_SIZE] = {'b'};
        StoreSource *sa = NULL, *sb = NULL;
        Error e = {};

        CHECK(compare_manifests(a, b, o, &mem) == 0);
        CHECK(store_source_open(s, ka, &sa, &e) == 1 && store_source_open(s, kb, &sb, &e) == 1);
        if (!sa || !sb || !mem)
                goto out;
        ManifestSource x = store_source(sa), y = store_source(sb);
        CHECK(compare_sources(&x, &y, o, &stored, &e) == 0);
        CHECK(stored && same_result(mem, stored));
        /* The result outlives nothing of the cursors: its entries are its own. */
        CHECK(stored && stored->n_changes > 0 && stored->changes[0].tree != NULL);
        *ret_n = stored ? stored->n_changes : 0;
out:
        store_source_free(sa);
        store_source_free(sb);
}

static void test_kinds(void) {
        _cleanup_manifest_ Manifest *a = NULL, *b = NULL;
        size_t n = 0;

        make_pair(20000, &a, &b);
        Store *s = save_both("kinds.sqlite", a, b);
        if (!s)
                return;
        check_pair(s, a, b, NULL, &n);
        /* A tree on each side only: all of one removed, the other added. */
        CHECK(n > 20000 / 13 * 5);

        CompareOptions o = {};
        const char *why = NULL;
        CHECK(filters_add_path(&o.filters, "/srv/d010", &why) == 0);
        size_t filtered = 0;
        check_pair(s, a, b, &o, &filtered);
        CHECK(filtered > 0 && filtered < n);
        compare_options_done(&o);
        store_close(s);
}

/* The cursors read ahead in a thread of their own: a damaged row in the
 * middle of a large tree is still found and named when the comparer
 * reaches it, after the rows before it; and a cursor let go of halfway
 * stops its reader. */
static void test_read_ahead(void) {
        _cleanup_manifest_ Manifest *a = NULL, *b = NULL;
        make_pair(5000, &a, &b);
        Store *s = save_both("ahead.sqlite", a, b);
        if (!s)
                return;
        uint8_t ka[FINGERPRINT_SIZE] = {'a'}, kb[FINGERPRINT_SIZE] = {'b'};
        StoreSource *sa = NULL, *sb = NULL;
        Error e = {};

        /* Halfway, then let go. */
        CHECK(store_source_open(s, ka, &sa, &e) == 1);
        ManifestSource x = store_source(sa);
        EntryCursor *c = NULL;
        CHECK(sa && manifest_source_open_tree(&x, 0, &c, &e) == 0);
        const Entry *en = NULL;
        for (int i = 0; c && i < 1500; i++)
                CHECK(entry_cursor_next(c, &en, &e) == 1 && en && en->path);
        entry_cursor_free(c);
        store_source_free(sa);
        sa = NULL;

        /* A row of a's first tree made unreadable, far into it. */
        _cleanup_free_ char *path = must(path_join(tmpdir, "ahead.sqlite"));
        sqlite3 *db = NULL;
        CHECK(sqlite3_open(path, &db) == SQLITE_OK);
        CHECK(sqlite3_exec(db,
                           "UPDATE entries SET kind = 'bogus' WHERE (manifest_id, tree_idx, seq) = "
                           "(SELECT manifest_id, tree_idx, seq FROM entries WHERE tree_idx = 0 "
                           "ORDER BY manifest_id, seq LIMIT 1 OFFSET 3000)",
                           NULL, NULL, NULL) == SQLITE_OK);
        CHECK(sqlite3_changes(db) == 1);
        sqlite3_close(db);
        CHECK(store_source_open(s, ka, &sa, &e) == 1 && store_source_open(s, kb, &sb, &e) == 1);
        if (sa && sb) {
                x = store_source(sa);
                ManifestSource y = store_source(sb);
                DiffResult *r = NULL;
                e = (Error){};
                CHECK(compare_sources(&x, &y, NULL, &r, &e) < 0 && !r);
                CHECK(store_source_damaged(sa) && !store_source_damaged(sb));
                CHECK(strstr(e.message, "is damaged: an entry of no known kind") != NULL);
        }
        store_source_free(sa);
        store_source_free(sb);
        store_close(s);
}

int main(void) {
        if (!mkdtemp(tmpdir))
                return 1;
        test_kinds();
        test_read_ahead();
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf '%s'", tmpdir) > 0)
                (void) system(cmd);
        return test_report();
}

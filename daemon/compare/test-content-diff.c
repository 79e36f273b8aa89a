/* Unit tests of the content stage on a real store that already holds the
 * files' contents: diffs (labels quoted when the name needs it), binary
 * files, files too large, checksums from the store, and no appliance asked
 * for when the store has everything. */
#include <ftw.h>
#include <openssl/evp.h>

#include "compare/content-diff.h"
#include "compare/test-compare-util.h"

static int handles_asked;

static Appliance *no_handle(void *userdata _unused_, int side _unused_, Error *e) {
        handles_asked++;
        error_set(e, ERR_APPLIANCE_FAILED, "no appliance in a unit test");
        return NULL;
}

static void set_content(Store *s, Entry *e, const char *data, size_t len) {
        unsigned n = 0;
        CHECK(EVP_Digest(data, len, e->sha256, &n, EVP_sha256(), NULL) == 1);
        e->size = len;
        e->has_sha256 = true;
        if (s)
                CHECK(store_save_content(s, e->sha256, data, len) == 0);
}

static int rm_one(const char *p, const struct stat *sb _unused_, int flag _unused_, struct FTW *ftw _unused_) {
        return remove(p);
}

int main(void) {
        char dir[] = "/tmp/test-content-XXXXXX";
        _cleanup_free_ char *path = NULL;
        Store *s = NULL;
        Error e = {};

        CHECK(mkdtemp(dir) != NULL);
        path = must(path_join(dir, "store.sqlite"));
        CHECK(store_open(path, 1ULL << 30, &s, &e) == 0);

        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();
        Tree *ta = &a->trees[0], *tb = &b->trees[0];
        Entry *x;
        x = entry_make(ta, "/etc/motd", ENTRY_KIND_FILE);
        set_content(s, x, "hello\nworld\n", 12);
        x = entry_make(tb, "/etc/motd", ENTRY_KIND_FILE);
        set_content(s, x, "hello\nthere\n", 12);
        x = entry_make(ta, "/bin/tool", ENTRY_KIND_FILE);
        set_content(s, x, "\177ELF\0\1", 6);
        x = entry_make(tb, "/bin/tool", ENTRY_KIND_FILE);
        set_content(s, x, "\177ELF\0\2", 6);
        x = entry_make(ta, "/etc/new\nline", ENTRY_KIND_FILE);
        set_content(s, x, "a\n", 2);
        x = entry_make(tb, "/etc/new\nline", ENTRY_KIND_FILE);
        set_content(s, x, "b\n", 2);
        /* Too large for a diff: never read. */
        entry_make(ta, "/srv/big", ENTRY_KIND_FILE)->size = STORE_CONTENT_MAX + 1;
        x = entry_make(tb, "/srv/big", ENTRY_KIND_FILE);
        x->size = STORE_CONTENT_MAX + 2;
        x->sha256[0] = 1;

        _cleanup_diff_result_ DiffResult *r = diff(a, b, NULL);
        ContentOptions o = {.unified = true, .checksum = must(strdup("md5"))};
        ContentNote *notes = NULL;
        /* The md5 of each file the diff shows, as an appliance once found. */
        for (size_t i = 0; i < r->n_changes; i++)
                for (int side = 0; side < 2; side++) {
                        const Entry *en = side ? r->changes[i].b : r->changes[i].a;
                        if (en && en->kind == ENTRY_KIND_FILE)
                                CHECK(store_save_checksum(s, en->sha256, "md5", side ? "bbbb" : "aaaa") == 0);
                }

        CHECK(content_run(r, &o, s, 0, no_handle, NULL, NULL, &notes, &e) == 0);
        CHECK(handles_asked == 0);
        for (size_t i = 0; notes && i < r->n_changes; i++) {
                const Change *c = &r->changes[i];
                const char *p = c->b->path;
                CHECK(streq_ptr(notes[i].checksum[0], "aaaa") && streq_ptr(notes[i].checksum[1], "bbbb"));
                if (streq_ptr(p, "/etc/motd"))
                        CHECK(streq_ptr(notes[i].diff, "--- a/etc/motd\n+++ b/etc/motd\n@@ -1,2 +1,2 @@\n hello\n"
                                                       "-world\n+there\n"));
                else if (streq_ptr(p, "/bin/tool"))
                        CHECK(notes[i].binary && !notes[i].diff);
                else if (streq_ptr(p, "/etc/new\nline"))
                        CHECK(streq_ptr(notes[i].diff, "--- \"a/etc/new\\nline\"\n+++ \"b/etc/new\\nline\"\n"
                                                       "@@ -1 +1 @@\n-a\n+b\n"));
                else if (streq_ptr(p, "/srv/big"))
                        CHECK(notes[i].omitted && !notes[i].diff);
                else
                        CHECK(false);
        }
        CHECK(r->n_changes == 4);
        content_notes_free(notes, r->n_changes);

        /* A checksum the store lacks needs an appliance: the error is its. */
        free(o.checksum);
        o.checksum = must(strdup("sha1"));
        notes = NULL;
        e = (Error) {};
        CHECK(content_run(r, &o, s, 0, no_handle, NULL, NULL, &notes, &e) < 0);
        CHECK(handles_asked == 1 && e.code == ERR_APPLIANCE_FAILED && !notes);

        /* Sides given as exported manifests are never read: what the store
         * has (these contents) serves, the rest is left out. */
        e = (Error) {};
        CHECK(content_run(r, &o, s, 3, no_handle, NULL, NULL, &notes, &e) == 0);
        CHECK(handles_asked == 1 && notes);
        for (size_t i = 0; notes && i < r->n_changes; i++) {
                CHECK(!notes[i].checksum[0] && !notes[i].checksum[1]);
                if (streq_ptr(r->changes[i].b->path, "/etc/motd"))
                        CHECK(notes[i].diff != NULL);
        }
        content_notes_free(notes, r->n_changes);

        CHECK(content_checksum_check("sha512") == 0 && content_checksum_check("whirlpool") == -EINVAL);
        content_options_done(&o);
        store_close(s);
        (void) nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
        return test_report();
}

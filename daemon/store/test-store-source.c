/* Unit tests of stored manifests as ordered cursors (store-source.c): the
 * entries come back as they went in, tree by tree; the source keeps its
 * snapshot while the manifest is replaced or purged; a miss is 0; damage
 * met on the way (rows out of order, a row gone) fails the cursor. */
#include "store/test-store-util.h"

/* Everything the source holds, through a builder. */
static Manifest *play(StoreSource *src, Error *e) {
        ManifestBuilder b = {};
        ManifestSink sink = manifest_builder_sink(&b);
        ManifestSource s = store_source(src);
        Manifest *m = manifest_source_play(&s, &sink, e) < 0 ? NULL : manifest_builder_take(&b);
        manifest_builder_done(&b);
        return m;
}

static void test_round_trip(void) {
        _cleanup_free_ char *path = tmp_path("source.sqlite");
        _cleanup_manifest_ Manifest *full = manifest_full(), *big = manifest_big(5000, 1), *other = manifest_big(10, 2);
        Store *s = open_store(path, 1ULL << 30);
        uint8_t key[FINGERPRINT_SIZE];
        StoreSource *src = NULL;
        Error e = {};

        CHECK(s && save(s, 1, full, "/a.img", 1) == 0 && save(s, 2, big, "/b.img", 2) == 0);
        if (!s)
                return;
        key_make(key, 1);
        CHECK(store_source_open(s, key, &src, &e) == 1 && src);
        if (src) {
                _cleanup_manifest_ Manifest *got = play(src, &e);
                CHECK(got && manifest_equal(full, got));
                /* The head alone: filesystems and the trees' keys. */
                const Manifest *h = store_source_head(src);
                CHECK(h && h->n_filesystems == 3 && h->n_trees == 2 && h->trees[0].n_entries == 0);
                src = store_source_free(src);
        }

        key_make(key, 2);
        CHECK(store_source_open(s, key, &src, &e) == 1 && src);
        /* Replaced and then purged behind its back: the source reads its
         * snapshot to the end. */
        CHECK(save(s, 2, other, "/b.img", 2) == 0);
        CHECK(store_purge(s, NULL, NULL) == 0);
        if (src) {
                _cleanup_manifest_ Manifest *got = play(src, &e);
                CHECK(got && manifest_count(got) == 5000 && manifest_equal(big, got));
                store_source_free(src);
        }
        src = NULL;
        CHECK(store_source_open(s, key, &src, &e) == 0 && !src);

        StoreStats st = {};
        CHECK(store_stats(s, &st) == 0 && st.hits == 2 && st.misses == 1);
        store_stats_done(&st);
        store_close(s);
}

/* Damage the head does not show: the cursor meets it. */
static void test_damage(void) {
        static const char *const damage[] = {
                "UPDATE entries SET path = CAST('/zzz' AS BLOB) WHERE seq = 3 AND tree_idx = 0",
                "DELETE FROM entries WHERE seq = 40 AND tree_idx = 0",
                "UPDATE entries SET fs = 9 WHERE seq = 7 AND tree_idx = 1",
                "UPDATE entries SET kind = 'bogus' WHERE seq = 12 AND tree_idx = 0",
        };
        _cleanup_manifest_ Manifest *big = manifest_big(200, 3);

        for (size_t i = 0; i < ELEMENTSOF(damage); i++) {
                _cleanup_free_ char *name = NULL;
                CHECK(asprintf(&name, "damage-%zu.sqlite", i) > 0);
                _cleanup_free_ char *path = tmp_path(name);
                uint8_t key[FINGERPRINT_SIZE];
                Store *s = open_store(path, 1ULL << 30);
                StoreSource *src = NULL;
                Error e = {};

                CHECK(s && save(s, 1, big, "/a.img", 1) == 0);
                /* The count stays right for the damage of one row only. */
                CHECK(sql(path, damage[i]) == 0);
                key_make(key, 1);
                CHECK(s && store_source_open(s, key, &src, &e) == 1 && src);
                if (src) {
                        _cleanup_manifest_ Manifest *got = play(src, &e);
                        CHECK(!got && e.code == ERR_INTERNAL && strstr(e.message, "damaged"));
                        store_source_free(src);
                }
                store_close(s);
        }
}

int main(void) {
        if (test_store_setup() < 0)
                return 1;
        test_round_trip();
        test_damage();
        return test_store_finish();
}

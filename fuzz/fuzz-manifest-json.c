/* An exported manifest as the daemon reads it (a Compare side of kind
 * manifest): a file from anywhere, so these bytes are hostile. What reads
 * must write back to the same document, survive the comparer and every
 * result writer, and come out of the client's manifest writers well
 * formed: CSV with one record an entry, mtree with one line an entry. */
#include "fuzz-util.h"
#include "manifest/manifest-json.h"

static char *manifest_text(const Manifest *m, const char *k) {
        json_object *o = manifest_to_json(m, k);
        FUZZ_ASSERT(o);
        char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        FUZZ_ASSERT(s);
        json_object_put(o);
        return s;
}

static void client_writers(const char *text, size_t n_entries) {
        json_object *doc = json_tokener_parse(text);
        FUZZ_ASSERT(doc);
        for (int fmt = 0; fmt < _MANIFEST_FORMAT_MAX; fmt++) {
                char *out = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&out, &len);
                FUZZ_ASSERT(f);
                FUZZ_ASSERT(manifest_output_write(f, doc, (ManifestFormat) fmt) == 0);
                FUZZ_ASSERT(fclose(f) == 0);
                if (fmt == MANIFEST_CSV)
                        FUZZ_ASSERT(csv_records(out, len, 11) == (long) (n_entries + 1));
                if (fmt == MANIFEST_MTREE)
                        /* "#mtree", two comment lines, then a line an entry. */
                        FUZZ_ASSERT(count_of(out, len, "\n") == n_entries + 3);
                free(out);
        }
        json_object_put(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Manifest *m = NULL;
        ManifestOrigin got = {0}, got2 = {0};
        Error e = {0};

        if (manifest_from_json((const char *) data, size, &m, &got, &e) < 0) {
                FUZZ_ASSERT(!m && e.code != ERR_OK);
                return 0;
        }
        /* What goes into results as it is: the images, rebuilt. */
        FUZZ_ASSERT(got.images && json_object_is_type(got.images, json_type_array));
        char *text = manifest_text(m, got.key);
        Manifest *again = NULL;
        FUZZ_ASSERT(manifest_from_json(text, strlen(text), &again, &got2, &e) == 0);
        FUZZ_ASSERT(strcmp(got.key, got2.key) == 0);
        char *text2 = manifest_text(again, got.key);
        FUZZ_ASSERT(strcmp(text, text2) == 0);

        size_t n = 0;
        for (size_t i = 0; i < m->n_trees; i++)
                n += m->trees[i].n_entries;
        client_writers(text, n);

        fuzz_diff_and_render(m, again);
        Manifest *empty = manifest_new();
        FUZZ_ASSERT(empty);
        fuzz_diff_and_render(empty, m);
        manifest_free(empty);
        manifest_free(again);
        manifest_free(m);
        free(text);
        free(text2);
        manifest_origin_done(&got);
        manifest_origin_done(&got2);
        return 0;
}

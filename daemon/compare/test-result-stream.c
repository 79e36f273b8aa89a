/* Unit tests of the change stream: the changes as lines while the
 * comparison runs, and the result document written from them, which must
 * be the document result_write() writes of the same comparison. */
#include <json-c/json.h>
#include <unistd.h>

#include "compare/result-stream.h"
#include "compare/test-compare-util.h"

static char *read_fd(int fd) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = must(open_memstream(&buf, &len));
        char chunk[4096];
        ssize_t n;
        off_t off = 0;
        while ((n = pread(fd, chunk, sizeof chunk, off)) > 0) {
                fwrite(chunk, 1, (size_t) n, f);
                off += n;
        }
        fclose(f);
        return buf;
}

static size_t count(const char *s, const char *what) {
        size_t n = 0;
        for (const char *p = s; (p = strstr(p, what)); p++)
                n++;
        return n;
}

/* a and b sorted; the document of result_write() and of the stream, and
 * the stream's text. */
static void both_ways(Manifest *a, Manifest *b, int runs, char **ret_held, char **ret_streamed, char **ret_lines) {
        static const uint8_t key[FINGERPRINT_SIZE];
        manifest_sort(a);
        manifest_sort(b);
        ResultSide sides[2] = {{.key = key, .manifest = a, .engine = ENGINE_DIRECT},
                               {.key = key, .manifest = b, .cached = true}};
        Error e = {};

        _cleanup_diff_result_ DiffResult *held = NULL;
        CHECK(compare_manifests(a, b, NULL, &held) == 0);
        int fd = -1;
        CHECK(result_write(held, NULL, NULL, NULL, sides, &fd, &e) == 0);
        *ret_held = read_fd(fd);
        close(fd);

        _cleanup_result_stream_ ResultStream *s = NULL;
        CHECK(result_stream_new(&s, &e) == 0);
        int reader = result_stream_open(s);
        CHECK(reader >= 0);
        _cleanup_diff_result_ DiffResult *r = NULL;
        /* A second run is a comparison started over: it writes a reset. */
        for (int i = 0; i < runs; i++) {
                diff_result_free(r);
                r = NULL;
                ManifestSource sa = manifest_memory_source(a), sb = manifest_memory_source(b);
                ChangeSink sink = result_stream_sink(s, sides);
                CHECK(compare_sources_to(&sa, &sb, NULL, &sink, &r, &e) == 0);
                CHECK(r->n_changes == 0);
                CHECK(diff_result_differs(r) == diff_result_differs(held));
                CHECK(memcmp(r->counts, held->counts, sizeof r->counts) == 0);
        }
        fd = -1;
        CHECK(result_stream_finish(s, r, &fd, &e) == 0);
        *ret_streamed = read_fd(fd);
        close(fd);
        *ret_lines = read_fd(reader);
        close(reader);
}

static void test_same_document(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();
        entry_make(&a->trees[0], "/etc/gone", ENTRY_KIND_FILE);
        entry_make(&b->trees[0], "/etc/new", ENTRY_KIND_FILE);
        entry_make(&b->trees[0], "/etc/new dir", ENTRY_KIND_DIRECTORY);
        entry_find(b, "/etc/passwd")->mode = 0600;
        entry_find(b, "/etc/passwd")->sha256[3] ^= 1;

        _cleanup_free_ char *held = NULL, *streamed = NULL, *lines = NULL;
        both_ways(a, b, 1, &held, &streamed, &lines);
        CHECK(held && streamed && strcmp(held, streamed) == 0);
        json_object *doc = json_tokener_parse(streamed);
        CHECK(doc != NULL);
        json_object_put(doc);
        CHECK(strncmp(lines, "{\"head\":{\"version\":1,\"a\":", 25) == 0);
        CHECK(count(lines, "\n{\"change\":") == 4);
        CHECK(count(lines, "\n") == 6);
        CHECK(strstr(lines, "\n{\"end\":{\"summary\":{\"added\":2,") != NULL);
        CHECK(strstr(lines, "\"trees\":[\"/\"]") != NULL);
        CHECK(count(lines, "reset") == 0);

        /* Started over: a reset and a new head; the document the same. */
        _cleanup_free_ char *held2 = NULL, *streamed2 = NULL, *lines2 = NULL;
        both_ways(a, b, 2, &held2, &streamed2, &lines2);
        CHECK(strcmp(held2, streamed2) == 0);
        CHECK(count(lines2, "{\"reset\":true}\n{\"head\":") == 1);
        CHECK(count(lines2, "\n{\"change\":") == 8);
}

static void test_no_changes(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();
        _cleanup_free_ char *held = NULL, *streamed = NULL, *lines = NULL;
        both_ways(a, b, 1, &held, &streamed, &lines);
        CHECK(strcmp(held, streamed) == 0);
        CHECK(strstr(streamed, "\"changes\":[]") != NULL);
        CHECK(count(lines, "\n") == 2);
        CHECK(strstr(lines, "\"differences\":false") != NULL);
}

/* Many changes: more than one flush, the document still the same. */
static void test_many(void) {
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();
        for (int i = 0; i < 5000; i++) {
                char path[64];
                snprintf(path, sizeof path, "/data/%05d", i);
                entry_make(&b->trees[0], path, ENTRY_KIND_FILE)->size = (uint64_t) i;
        }
        _cleanup_free_ char *held = NULL, *streamed = NULL, *lines = NULL;
        both_ways(a, b, 1, &held, &streamed, &lines);
        CHECK(strcmp(held, streamed) == 0);
        CHECK(count(lines, "\n{\"change\":") == 5000);
}

/* A stream that never saw a head has no document. */
static void test_unstarted(void) {
        _cleanup_result_stream_ ResultStream *s = NULL;
        Error e = {};
        CHECK(result_stream_new(&s, &e) == 0);
        _cleanup_manifest_ Manifest *a = base_manifest(), *b = base_manifest();
        _cleanup_diff_result_ DiffResult *r = diff(a, b, NULL);
        static const uint8_t key[FINGERPRINT_SIZE];
        ResultSide sides[2] = {{.key = key, .manifest = a}, {.key = key, .manifest = b}};
        (void) result_stream_sink(s, sides);
        int fd = -1;
        CHECK(result_stream_finish(s, r, &fd, &e) < 0 && fd < 0 && e.code == ERR_INTERNAL);
}

int main(void) {
        test_same_document();
        test_no_changes();
        test_many();
        test_unstarted();
        return test_report();
}

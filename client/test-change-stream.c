/* Unit tests of printing from a change stream: a result document cut into
 * the daemon's stream lines (head, changes, end), written a few bytes at a
 * time and read as it grows, must print the same bytes as the whole
 * document does, in every format that streams. */
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/mman.h>
#include <unistd.h>

#include "change-stream.h"
#include "common/json-util.h"
#include "common/test-util.h"
#include "common/util.h"

static const char *data_dir;

static json_object *load(const char *name) {
        _cleanup_free_ char *path = NULL;
        must(asprintf(&path, "%s/%s", data_dir, name) >= 0 ? path : NULL);
        json_object *o = json_object_from_file(path);
        if (!o) {
                fprintf(stderr, "cannot read %s\n", path);
                exit(1);
        }
        return o;
}

static void put_line(FILE *f, const char *record, json_object *v) {
        fprintf(f, "{\"%s\":%s}\n", record,
                json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The stream the daemon would write for result: its trees are those its
 * changes come from. */
static char *stream_of(json_object *result, size_t *ret_len) {
        char *buf = NULL;
        FILE *f = must(open_memstream(&buf, ret_len));
        _cleanup_json_ json_object *head = must(json_object_new_object()), *trees = must(json_object_new_array());
        json_object *changes = json_object_object_get(result, "changes");
        for (size_t i = 0; i < json_object_array_length(changes); i++) {
                json_object *t = json_object_object_get(json_object_array_get_idx(changes, i), "tree");
                bool seen = false;
                for (size_t j = 0; j < json_object_array_length(trees); j++)
                        seen |= streq_ptr(json_object_get_string(json_object_array_get_idx(trees, j)),
                                          json_object_get_string(t));
                if (!seen)
                        json_object_array_add(trees, json_object_get(t));
        }
        static const char *const keys[] = {"version", "a", "b", "filesystems"};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (json_object_object_get(result, keys[i]))
                        json_object_object_add(head, keys[i], json_object_get(json_object_object_get(result, keys[i])));
        json_object_object_add(head, "trees", json_object_get(trees));
        put_line(f, "head", head);
        for (size_t i = 0; i < json_object_array_length(changes); i++)
                put_line(f, "change", json_object_array_get_idx(changes, i));
        _cleanup_json_ json_object *end = must(json_object_new_object());
        json_object_object_add(end, "summary", json_object_get(json_object_object_get(result, "summary")));
        put_line(f, "end", end);
        fclose(f);
        return buf;
}

static char *whole(json_object *result, const OutputOptions *o) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = must(open_memstream(&buf, &len));
        CHECK(output_write(f, result, o) == 0);
        fclose(f);
        return buf;
}

/* The stream written `step` bytes at a time into a growing file, read
 * after each write: what it printed, or NULL when it printed nothing (the
 * result is for printing whole). */
static char *streamed(json_object *result, const OutputOptions *o, size_t step, bool *ret_printing) {
        size_t len;
        _cleanup_free_ char *s = stream_of(result, &len);
        int w = memfd_create("test-changes", MFD_CLOEXEC);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", w);
        ChangeStream cs = {.fd = open(path, O_RDONLY | O_CLOEXEC), .prog = "test"};
        CHECK(w >= 0 && cs.fd >= 0);
        char *buf = NULL;
        size_t blen = 0;
        FILE *out = must(open_memstream(&buf, &blen));
        for (size_t off = 0; off < len; off += step) {
                size_t n = len - off < step ? len - off : step;
                CHECK(write(w, s + off, n) == (ssize_t) n);
                CHECK(change_stream_pending(&cs));
                CHECK(change_stream_read(&cs, out, o) == 0);
                CHECK(!change_stream_pending(&cs));
        }
        CHECK(cs.ended);
        if (cs.printing)
                CHECK(output_stream_end(out, cs.head, o) == 0);
        fclose(out);
        *ret_printing = cs.printing;
        /* The head with the end's members: the summary as the result has it. */
        CHECK(json_object_equal(json_object_object_get(cs.head, "summary"), json_object_object_get(result, "summary")));
        change_stream_done(&cs);
        close(w);
        return buf;
}

static void test_formats(const char *name, bool several_trees) {
        _cleanup_json_ json_object *result = load(name);
        const OutputOptions options[] = {
                {.format = OUTPUT_TEXT},
                {.format = OUTPUT_TEXT, .long_listing = true, .uids = true, .times = true, .now = 1700000000},
                {.format = OUTPUT_TEXT, .mount = true, .checksum = true},
                {.format = OUTPUT_CSV},
                {.format = OUTPUT_NDJSON},
                {.format = OUTPUT_SUMMARY},
        };
        for (size_t i = 0; i < ELEMENTSOF(options); i++)
                for (size_t step = 1; step < 4096; step *= 9) {
                        bool printing;
                        _cleanup_free_ char *want = whole(result, &options[i]);
                        _cleanup_free_ char *got = streamed(result, &options[i], step, &printing);
                        bool text = options[i].format == OUTPUT_TEXT;
                        /* Text names trees when changes come from several: not
                         * known at the head, so that prints whole. */
                        CHECK(printing == !(text && several_trees));
                        if (printing && strcmp(want, got) != 0) {
                                fprintf(stderr, "%s, format %d, step %zu:\n--- whole\n%s--- streamed\n%s", name,
                                        options[i].format, step, want, got);
                                CHECK(false);
                        }
                        if (!printing)
                                CHECK(streq_ptr(got, ""));
                }
}

/* What cannot stream, and lines that are not the daemon's. */
static void test_refusals(void) {
        CHECK(!output_streams(&(OutputOptions){.format = OUTPUT_JSON}));
        CHECK(!output_streams(&(OutputOptions){.format = OUTPUT_HTML}));
        CHECK(!output_streams(&(OutputOptions){.format = OUTPUT_TEXT, .unified = true}));
        CHECK(!output_streams(&(OutputOptions){.format = OUTPUT_TEXT, .explain = true}));
        char *types[] = {(char *) "ext4", NULL};
        CHECK(!output_streams(&(OutputOptions){.format = OUTPUT_CSV, .types = types}));

        static const char *const bad[] = {
                "garbage\n",
                "{\"change\":{}}\n",                 /* a change before any head */
                "{\"head\":{},\"end\":{}}\n",        /* two records on a line */
                "{\"head\":[]}\n",
                "{\"what\":1}\n",
                "{\"end\":{\"summary\":{}}}\n",      /* an end before any head */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int w = memfd_create("test-bad", MFD_CLOEXEC);
                char path[64];
                snprintf(path, sizeof path, "/proc/self/fd/%d", w);
                ChangeStream cs = {.fd = open(path, O_RDONLY | O_CLOEXEC), .prog = "test"};
                CHECK(write(w, bad[i], strlen(bad[i])) == (ssize_t) strlen(bad[i]));
                FILE *out = must(fopen("/dev/null", "we"));
                CHECK(change_stream_read(&cs, out, &(OutputOptions){.format = OUTPUT_CSV}) == -EBADMSG);
                fclose(out);
                change_stream_done(&cs);
                close(w);
        }
}

int main(int argc, char **argv) {
        data_dir = argc > 1 ? argv[1] : ".";
        test_formats("test-output-os.json", false);
        test_formats("test-output-trees.json", true);
        test_refusals();
        return test_report();
}

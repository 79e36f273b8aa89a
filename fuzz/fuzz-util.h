/* What the fuzz targets share: a hard assertion (a failed one is a crash
 * libFuzzer reports) and the daemon's way from two manifests to every
 * output format, with the outputs checked for well-formedness. */
#pragma once

#include <json-c/json.h>

#include "compare/comparer.h"
#include "compare/result-json.h"
#include "manifest/manifest-wire.h"
#include "output/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                            \
        do {                                                                                         \
                if (!(cond)) {                                                                       \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

/* Records in RFC 4180 CSV text; every record must have n_fields fields
 * and every quoted field must be closed. -1 when it is not well formed. */
static inline long csv_records(const char *s, size_t len, size_t n_fields) {
        long records = 0;
        size_t fields = 1;
        bool quoted = false, at_field_start = true;

        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (quoted) {
                        if (c == '"' && i + 1 < len && s[i + 1] == '"')
                                i++;
                        else if (c == '"')
                                quoted = false;
                        continue;
                }
                if (c == '"') {
                        if (!at_field_start)
                                return -1;
                        quoted = true;
                        at_field_start = false;
                } else if (c == ',') {
                        fields++;
                        at_field_start = true;
                } else if (c == '\n') {
                        if (fields != n_fields)
                                return -1;
                        records++;
                        fields = 1;
                        at_field_start = true;
                } else if (c == '\r')
                        return -1;
                else
                        at_field_start = false;
        }
        return quoted || !at_field_start || fields != 1 ? -1 : records;
}

static inline size_t count_of(const char *s, size_t len, const char *what) {
        size_t n = 0, w = strlen(what);
        for (const char *p = s; (p = memmem(p, len - (size_t) (p - s), what, w)); p += w)
                n++;
        return n;
}

/* Markdown tables: every row has as many cells as its header, so no name
 * can add a column (unescaped '|') or a line. */
static inline bool markdown_tables_ok(char *s, size_t len) {
        size_t want = 0;
        bool in_table = false;
        for (char *line = s, *nl; line < s + len; line = nl + 1) {
                nl = memchr(line, '\n', (size_t) (s + len - line));
                if (!nl)
                        return false;
                if (nl - line < 2 || line[0] != '|' || line[1] != ' ') {
                        in_table = false;
                        continue;
                }
                size_t pipes = 0;
                for (char *p = line; p < nl; p++)
                        pipes += *p == '|' && (p == line || p[-1] != '\\');
                if (!in_table)
                        want = pipes;
                else if (pipes != want)
                        return false;
                in_table = true;
        }
        return true;
}

static inline char *render(json_object *result, OutputFormat format, size_t *ret_len) {
        OutputOptions o = {.format = format, .long_listing = true, .uids = true, .times = true, .xattrs = true,
                           .extra_stats = true, .checksum = true, .now = 1};
        char *buf = NULL;
        FILE *f = open_memstream(&buf, ret_len);
        FUZZ_ASSERT(f);
        bool differs;
        FUZZ_ASSERT(output_write_view(f, result, &o, &differs) == 0);
        FUZZ_ASSERT(fclose(f) == 0);
        return buf;
}

static inline size_t changed_filesystems(json_object *result) {
        json_object *fss, *change;
        size_t n = 0;
        if (!json_object_object_get_ex(result, "filesystems", &fss))
                return 0;
        for (size_t i = 0; i < json_object_array_length(fss); i++)
                if (json_object_object_get_ex(json_object_array_get_idx(fss, i), "change", &change) &&
                    strcmp(json_object_get_string(change), "unchanged") != 0)
                        n++;
        return n;
}

/* Compares a with b as the daemon does, sends the result through JSON
 * text as the client receives it, and writes it in every format. */
static inline void fuzz_diff_and_render(const Manifest *a, const Manifest *b) {
        CompareOptions opts = {0};
        DiffResult *r = NULL;

        if (compare_manifests(a, b, &opts, &r) < 0)
                return;
        json_object *root = diff_result_to_json(r);
        FUZZ_ASSERT(root);
        const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
        FUZZ_ASSERT(text);
        json_object *result = json_tokener_parse(text);
        FUZZ_ASSERT(result);

        json_object *changes;
        size_t n_changes = json_object_object_get_ex(result, "changes", &changes)
                                   ? json_object_array_length(changes) : 0;

        for (int fmt = 0; fmt < _OUTPUT_FORMAT_MAX; fmt++) {
                size_t len;
                char *out = render(result, (OutputFormat) fmt, &len);
                if (fmt == OUTPUT_JSON) {
                        /* Parses back whole, with every change. */
                        json_tokener *tok = json_tokener_new();
                        json_object *back = json_tokener_parse_ex(tok, out, (int) len);
                        FUZZ_ASSERT(back);
                        FUZZ_ASSERT(json_tokener_get_parse_end(tok) + 1 >= len);
                        json_object *c;
                        FUZZ_ASSERT(json_object_object_get_ex(back, "changes", &c));
                        FUZZ_ASSERT(json_object_array_length(c) == n_changes);
                        json_object_put(back);
                        json_tokener_free(tok);
                }
                if (fmt == OUTPUT_HTML) {
                        /* Names never make elements: our two scripts, one
                         * noscript, at most the chart's svg. */
                        FUZZ_ASSERT(count_of(out, len, "<script") == 2);
                        FUZZ_ASSERT(count_of(out, len, "</script") == 2);
                        FUZZ_ASSERT(count_of(out, len, "</noscript") == 1);
                        FUZZ_ASSERT(count_of(out, len, "<svg") <= 1);
                        FUZZ_ASSERT(count_of(out, len, "<img") == 0);
                }
                if (fmt == OUTPUT_MARKDOWN)
                        FUZZ_ASSERT(markdown_tables_ok(out, len));
                if (fmt == OUTPUT_CSV)
                        FUZZ_ASSERT(csv_records(out, len, 9) == (long) (1 + changed_filesystems(result) + n_changes));
                if (fmt == OUTPUT_NDJSON)
                        /* One JSON object a line: no raw newline inside one. */
                        for (char *line = out, *nl; line < out + len; line = nl + 1) {
                                nl = memchr(line, '\n', (size_t) (out + len - line));
                                FUZZ_ASSERT(nl);
                                *nl = 0;
                                json_object *o = json_tokener_parse(line);
                                FUZZ_ASSERT(o);
                                json_object_put(o);
                        }
                free(out);
        }
        json_object_put(result);
        json_object_put(root);
        diff_result_free(r);
}

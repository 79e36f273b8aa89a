/* --output=html and --html=FILE: one self-contained page, nothing fetched
 * (its Content-Security-Policy allows no network at all, and only the one
 * script and style sheet written here, by hash).
 *
 * What works without scripting is written as HTML: the sides, the summary
 * and exit status, the filesystems, a chart of the bytes added, removed
 * and modified under each top-level directory (inline SVG), and every
 * change as a plain list inside <noscript>. With scripting the list is a
 * collapsible directory tree (report.js) built from the same changes,
 * carried as JSON in a data block, rendered as it is opened.
 *
 * Names are hostile: each is shown through escape_bytes() and then HTML
 * escaped; in the data block '<', '>' and '&' are written as JSON \u
 * escapes, so no name can end the block; the script sets text, never
 * markup. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "output/output-internal.h"
#include "report-css.h"
#include "report-js.h"

/* Text for an HTML text node or a quoted attribute: markup characters as
 * references, bytes that are not UTF-8 and C0 controls but tab and
 * newline as U+FFFD. */
void html_escape(FILE *f, const char *s, size_t len) {
        for (size_t i = 0; i < len;) {
                unsigned char c = (unsigned char) s[i];
                size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;

                if (n == 0 || n > len - i || (n > 1 && !utf8_is_valid(s + i, n)) ||
                    (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
                        fputs("\xef\xbf\xbd", f);
                        i++;
                        continue;
                }
                switch (c) {
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '&':
                        fputs("&amp;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                case '\'':
                        fputs("&#39;", f);
                        break;
                default:
                        fwrite(s + i, 1, n, f);
                }
                i += n;
        }
}

static void html_str(FILE *f, const char *s) {
        html_escape(f, strempty(s), strlen(strempty(s)));
}

static void human_size(FILE *f, uint64_t n) {
        char buf[32];
        format_size(buf, n, true);
        fputs(buf, f);
        if (n < 1024)
                fputs(" B", f);
}

/* 101,608: grouped by thousands, whatever the locale. */
static void count_write(FILE *f, uint64_t n) {
        char digits[32];
        int len = snprintf(digits, sizeof digits, "%" PRIu64, n);

        for (int i = 0; i < len; i++) {
                if (i > 0 && (len - i) % 3 == 0)
                        fputc(',', f);
                fputc(digits[i], f);
        }
}

static int header_write(FILE *f, json_object *result) {
        static const char *const kinds[] = {"added", "removed", "modified", "metadata", "type"};
        json_object *s = json_get(result, "summary", json_type_object);
        int status = output_exit_status(result);

        fputs("<header>\n<h1>virt-diff report</h1>\n<table class=\"sides\">\n"
              "<tr><th>Side</th><th>Images</th><th>Manifest</th><th>Operating system</th><th>Content key</th></tr>\n", f);
        for (int i = 0; i < 2; i++) {
                json_object *side = json_get(result, i ? "b" : "a", json_type_object);
                _cleanup_free_ char *images = NULL, *source = NULL;
                const char *os = json_get_string(side, "os"), *key = json_get_string(side, "key");

                if (output_side_images(side, &images) < 0 || output_side_source(side, &source) < 0)
                        return -ENOMEM;
                fprintf(f, "<tr><td>%s</td><td><code>", i ? "B (new)" : "A (old)");
                html_str(f, images);
                fputs("</code></td><td>", f);
                html_str(f, source);
                fputs("</td><td>", f);
                html_str(f, os ?: "(none inspected)");
                fputs("</td><td><code title=\"", f);
                html_str(f, key);
                fputs("\">", f);
                html_escape(f, strempty(key), key && strlen(key) > 16 ? 16 : strlen(strempty(key)));
                fputs("</code></td></tr>\n", f);
        }
        fputs("</table>\n<p class=\"summary\">", f);
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                fprintf(f, "<span class=\"badge c-%s\">", kinds[i]);
                count_write(f, json_get_u64(s, kinds[i]));
                fprintf(f, " %s</span> ", kinds[i]);
        }
        fprintf(f, "</p>\n<p class=\"exit exit-%d\">Exit status %d: %s.</p>\n</header>\n", status, status,
                output_exit_meaning(status));
        return 0;
}

/* A value; hashes cut to 12 hex digits where the page must stay small. */
static void pair_value(FILE *f, const FieldPair *p, const char *v, bool short_hash) {
        if (!v)
                fputs("(none)", f);
        else if (short_hash && streq_ptr(p->name, "content") && strlen(v) > 12) {
                html_escape(f, v, 12);
                fputs("…", f);
        } else
                html_str(f, v);
}

static void pair_cells(FILE *f, const FieldPair *p, size_t n, bool short_hash) {
        for (size_t i = 0; i < n; i++) {
                fprintf(f, "%s%s ", i ? "<br>" : "", p[i].name);
                pair_value(f, &p[i], p[i].old, short_hash);
                fputs(" → ", f);
                pair_value(f, &p[i], p[i].new, short_hash);
        }
}

static int filesystems_write(FILE *f, json_object *fss) {
        fputs("<section id=\"filesystems\">\n<h2>Filesystems</h2>\n<table>\n<tr><th>Device</th><th>Change</th>"
              "<th>Type</th><th>Size</th><th>Mount point</th><th>Changed</th><th>Not read</th></tr>\n", f);
        for (size_t i = 0; i < json_array_length(fss); i++) {
                json_object *fs = json_object_array_get_idx(fss, i);
                const char *change = strempty(json_get_string(fs, "change"));
                _cleanup_free_ char *mountpoint = output_display_bytes(fs, "mountpoint");
                FieldPair *p = NULL;
                size_t n = 0;

                fputs("<tr class=\"c-", f);
                html_str(f, change);
                fputs("\"><td><code>", f);
                html_str(f, json_get_string(fs, "device"));
                fputs("</code></td><td>", f);
                html_str(f, change);
                fputs("</td><td>", f);
                html_str(f, json_get_string(fs, "type"));
                fputs("</td><td>", f);
                human_size(f, json_get_u64(present_side(fs), "size"));
                fputs("</td><td><code>", f);
                html_str(f, mountpoint);
                fputs("</code></td><td>", f);
                if (output_fs_field_pairs(fs, &p, &n) < 0)
                        return -ENOMEM;
                pair_cells(f, p, n, false);
                field_pairs_free(p, n);
                fputs("</td><td>", f);
                for (int s = 0; s < 2; s++) {
                        const char *error = json_get_string(json_get(fs, s ? "new" : "old", json_type_object), "error");
                        if (error) {
                                fputs(s ? "B: " : "A: ", f);
                                html_str(f, error);
                                fputc(' ', f);
                        }
                }
                fputs("</td></tr>\n", f);
        }
        fputs("</table>\n</section>\n", f);
        return 0;
}

/* The plain list, for readers without scripting. */
static int plain_list_write(FILE *f, json_object *changes, bool several_trees, const OutputOptions *o) {
        fputs("<noscript>\n", f);
        if (json_array_length(changes) == 0)
                fputs("<p>No entry differs.</p>\n", f);
        else
                fputs("<ul class=\"plain\">\n", f);
        for (size_t i = 0; i < json_array_length(changes); i++) {
                json_object *c = json_object_array_get_idx(changes, i);
                _cleanup_free_ char *name = output_change_name(c, several_trees);
                const char *change = strempty(json_get_string(c, "change"));
                const char *note = json_get_string(c, "diff_omitted");
                json_object *bin = json_get(c, "binary", json_type_boolean);
                const char *diff = json_get_string(c, "diff");

                if (!name)
                        return -ENOMEM;
                fputs("<li class=\"c-", f);
                html_str(f, change);
                fputs("\"><b>", f);
                html_str(f, change);
                fputs("</b> <code>", f);
                html_str(f, name);
                fputs("</code> ", f);
                html_str(f, json_get_string(c, "kind"));
                fputs(", ", f);
                human_size(f, json_get_u64(c, "size"));
                /* Added and removed entries: the line says it all. */
                if (strcmp(change, "added") != 0 && strcmp(change, "removed") != 0) {
                        FieldPair *p = NULL;
                        size_t n = 0;
                        if (output_field_pairs(c, o, &p, &n) < 0)
                                return -ENOMEM;
                        fputs("<br>", f);
                        pair_cells(f, p, n, true);
                        field_pairs_free(p, n);
                }
                if (bin && json_object_get_boolean(bin))
                        fputs("<br>Binary files differ", f);
                else if (note) {
                        fputs("<br>No diff: ", f);
                        html_str(f, note);
                }
                if (diff) {
                        fputs("<pre class=\"diff\">", f);
                        html_str(f, diff);
                        fputs("</pre>", f);
                }
                fputs("</li>\n", f);
        }
        if (json_array_length(changes) > 0)
                fputs("</ul>\n", f);
        fputs("</noscript>\n", f);
        return 0;
}

/* The changes for report.js: one array a change,
 * [tree, path, change, kind, size, bytes, fields, diff, note]
 * with 0 for an absent diff or note; fields are [name, old, new] (null
 * for a side without one), or [name, value] for an added or removed entry,
 * whose size is its own. */
static json_object *change_data(json_object *c, size_t tree, const OutputOptions *o) {
        _cleanup_json_ json_object *a = json_object_new_array_ext(9), *fields = json_object_new_array();
        _cleanup_free_ char *path = output_display_bytes(c, "path");
        json_object *bin = json_get(c, "binary", json_type_boolean);
        const char *diff = json_get_string(c, "diff"), *omitted = json_get_string(c, "diff_omitted");
        _cleanup_free_ char *note = NULL;
        FieldPair *p = NULL;
        size_t n = 0;

        if (!a || !fields || !path || output_field_pairs(c, o, &p, &n) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                bool one = !p[i].old || !p[i].new;
                json_object *t;
                if (one && strcmp(p[i].name, "size") == 0)
                        continue;
                t = json_object_new_array_ext(3);
                if (!t || json_object_array_add(fields, t) < 0) {
                        json_object_put(t);
                        field_pairs_free(p, n);
                        return NULL;
                }
                json_object_array_add(t, json_object_new_string(p[i].name));
                if (one)
                        json_object_array_add(t, json_object_new_string(p[i].old ?: p[i].new));
                else {
                        json_object_array_add(t, json_object_new_string(p[i].old));
                        json_object_array_add(t, json_object_new_string(p[i].new));
                }
        }
        field_pairs_free(p, n);
        if (bin && json_object_get_boolean(bin))
                note = strdup("Binary files differ");
        else if (omitted && asprintf(&note, "No diff: %s", omitted) < 0)
                note = NULL;

        json_object *items[] = {
                json_object_new_uint64(tree),
                json_object_new_string(path),
                json_object_new_string(strempty(json_get_string(c, "change"))),
                json_object_new_string(strempty(json_get_string(c, "kind"))),
                json_object_new_uint64(json_get_u64(c, "size")),
                json_object_new_uint64(output_change_bytes(c)),
                TAKE_PTR(fields),
                diff ? json_object_new_string(diff) : json_object_new_int(0),
                note ? json_object_new_string(note) : json_object_new_int(0),
        };
        bool ok = true;
        for (size_t i = 0; i < ELEMENTSOF(items); i++)
                if (!items[i] || json_object_array_add(a, items[i]) < 0) {
                        json_object_put(items[i]);
                        ok = false;
                }
        return ok ? TAKE_PTR(a) : NULL;
}

static int data_write(FILE *f, json_object *changes, const OutputOptions *o) {
        _cleanup_json_ json_object *data = json_object_new_object(), *trees = json_object_new_array();
        _cleanup_json_ json_object *list = json_object_new_array_ext((int) json_array_length(changes));
        const char *last = NULL;

        if (!data || !trees || !list)
                return -ENOMEM;
        for (size_t i = 0; i < json_array_length(changes); i++) {
                json_object *c = json_object_array_get_idx(changes, i);
                const char *tree = strempty(json_get_string(c, "tree"));
                /* Changes come ordered by tree. */
                if (!last || strcmp(last, tree) != 0) {
                        if (json_object_array_add(trees, json_object_new_string(tree)) < 0)
                                return -ENOMEM;
                        last = tree;
                }
                json_object *d = change_data(c, json_array_length(trees) - 1, o);
                if (!d || json_object_array_add(list, d) < 0) {
                        json_object_put(d);
                        return -ENOMEM;
                }
        }
        if (json_object_object_add(data, "trees", TAKE_PTR(trees)) < 0 ||
            json_object_object_add(data, "changes", TAKE_PTR(list)) < 0)
                return -ENOMEM;

        const char *s = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        fputs("<script type=\"application/json\" id=\"report-data\">", f);
        /* Only inside strings can these occur: as \u escapes nothing in a
         * name can close the block or open a comment. */
        for (; *s; s++)
                if (*s == '<')
                        fputs("\\u003c", f);
                else if (*s == '>')
                        fputs("\\u003e", f);
                else if (*s == '&')
                        fputs("\\u0026", f);
                else
                        fputc(*s, f);
        fputs("</script>\n", f);
        return 0;
}

int output_html(FILE *f, json_object *result, const OutputOptions *o) {
        json_object *changes = json_get(result, "changes", json_type_array);
        bool several_trees = output_several_trees(changes);
        int k;

        fprintf(f,
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "script-src 'sha256-%s'; style-src 'sha256-%s'; img-src data:; base-uri 'none'; form-action 'none'\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<meta name=\"generator\" content=\"virt-diff %s\">\n"
                "<title>virt-diff report</title>\n<style>%s</style>\n</head>\n<body>\n",
                report_js_sha256, report_css_sha256, VIRT_DIFFD_VERSION, report_css);
        k = header_write(f, result);
        if (k >= 0)
                k = filesystems_write(f, json_get(result, "filesystems", json_type_array));
        if (k >= 0)
                k = output_chart_write(f, changes, several_trees);
        if (k < 0)
                return k;
        fprintf(f, "<section id=\"changes\">\n<h2>Changes</h2>\n<div id=\"app\" data-total=\"%zu\"></div>\n",
                json_array_length(changes));
        k = plain_list_write(f, changes, several_trees, o);
        if (k < 0)
                return k;
        fputs("</section>\n", f);
        k = data_write(f, changes, o);
        if (k < 0)
                return k;
        fprintf(f, "<script>%s</script>\n</body>\n</html>\n", report_js);
        return ferror(f) ? -EIO : 0;
}

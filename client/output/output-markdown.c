/* --output=markdown: for pull request comments and tickets. A title with
 * the exit status, the sides, the changed filesystems and the changes as
 * GitHub-flavoured tables, then each -u diff folded in <details>.
 * --max-bytes cuts it at a whole line, closes what the cut leaves open and
 * says what was left out.
 *
 * Names are shown through escape_bytes() (one line, valid UTF-8), in code
 * spans whose fence is longer than any backtick run of the name, with '|'
 * escaped inside tables; inside HTML blocks they are HTML-escaped. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "output/output-internal.h"

/* A place the report may be cut: after a whole line, with the fence of the
 * diff block open there, if any (the cut then closes it and its details). */
typedef struct CutPoint {
        size_t offset;
        size_t fence;   /* backticks of the open fence; 0 outside a diff */
        size_t changes; /* rows of the changes table written so far */
        size_t diffs;   /* diffs written so far */
} CutPoint;

typedef struct Markdown {
        FILE *f;
        const OutputOptions *o;
        CutPoint *cuts;
        size_t n_cuts, n_changes, n_diffs, changes, diffs;
        bool several_trees;
        int error;
} Markdown;

static void mark(Markdown *m, size_t fence) {
        CutPoint *c;

        if (m->error < 0)
                return;
        if (fflush(m->f) != 0) {
                m->error = -ENOMEM;
                return;
        }
        c = realloc(m->cuts, sizeof(CutPoint) * (m->n_cuts + 1));
        if (!c) {
                m->error = -ENOMEM;
                return;
        }
        m->cuts = c;
        c[m->n_cuts++] = (CutPoint) {.offset = (size_t) ftello(m->f), .fence = fence, .changes = m->changes, .diffs = m->diffs};
}

/* A code span holding s (names come through escape_bytes(): one line of
 * valid UTF-8). */
static void code(FILE *f, const char *s, bool in_table) {
        size_t run = 0, longest = 0, len = strlen(s);

        if (len == 0) {
                fputs("(empty)", f);
                return;
        }
        for (size_t i = 0; i < len; i++) {
                run = s[i] == '`' ? run + 1 : 0;
                if (run > longest)
                        longest = run;
        }
        /* A leading or trailing backtick or space would join the fence or
         * be stripped: pad both ends, CommonMark strips one space each. */
        bool pad = s[0] == '`' || s[0] == ' ' || s[len - 1] == '`' || s[len - 1] == ' ';
        for (size_t i = 0; i <= longest; i++)
                fputc('`', f);
        if (pad)
                fputc(' ', f);
        for (size_t i = 0; i < len; i++) {
                if (in_table && s[i] == '|')
                        fputc('\\', f);
                /* Names come escaped; other text (a device, an OS name)
                 * must not end the line either. */
                fputc(s[i] == '\n' || s[i] == '\r' ? ' ' : s[i], f);
        }
        if (pad)
                fputc(' ', f);
        for (size_t i = 0; i <= longest; i++)
                fputc('`', f);
}

/* Plain text in a table cell: a '|' would start a cell, a newline end the row. */
static void cell(FILE *f, const char *s) {
        for (; s && *s; s++)
                if (*s == '|')
                        fputs("\\|", f);
                else if (*s == '\n' || *s == '\r')
                        fputc(' ', f);
                else
                        fputc(*s, f);
}

static void fence_write(FILE *f, size_t n) {
        for (size_t i = 0; i < n; i++)
                fputc('`', f);
}

static void closer_write(FILE *f, size_t fence) {
        fence_write(f, fence);
        fputs("\n\n</details>\n", f);
}

/* Hashes are long: a table cell shows the first 12 hex digits. */
static void value(FILE *f, const FieldPair *p, const char *v) {
        if (!v) {
                fputs("(none)", f);
                return;
        }
        if (streq_ptr(p->name, "content") && strlen(v) > 12) {
                char s[16];
                snprintf(s, sizeof s, "%.12s…", v);
                code(f, s, true);
        } else
                code(f, v, true);
}

static void pairs_write(FILE *f, const FieldPair *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                fprintf(f, "%s%s ", i ? ", " : "", p[i].name);
                value(f, &p[i], p[i].old);
                fputs(" → ", f);
                value(f, &p[i], p[i].new);
        }
}

static void header_write(Markdown *m, json_object *result) {
        static const char *const kinds[] = {"added", "removed", "modified", "metadata", "type"};
        static const char *const fs_kinds[] = {"added", "removed", "changed"};
        json_object *s = json_get(result, "summary", json_type_object);
        json_object *fs = json_get(s, "filesystems", json_type_object);
        int status = output_exit_status(result);
        FILE *f = m->f;

        fprintf(f, "## virt-diff: %s\n", output_exit_meaning(status));
        mark(m, 0);
        fputs("\n**", f);
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (i < 4 || json_get_u64(s, kinds[i]) > 0)
                        fprintf(f, "%s%" PRIu64 " %s", i ? ", " : "", json_get_u64(s, kinds[i]), kinds[i]);
        fputs("**", f);
        bool any = false;
        for (size_t i = 0; i < ELEMENTSOF(fs_kinds); i++)
                if (json_get_u64(fs, fs_kinds[i]) > 0) {
                        fprintf(f, "%s%" PRIu64 " %s", any ? ", " : "; filesystems: ", json_get_u64(fs, fs_kinds[i]),
                                fs_kinds[i]);
                        any = true;
                }
        fprintf(f, "; exit status %d\n", status);
        mark(m, 0);

        fputs("\n| Side | Images | Manifest | OS |\n| --- | --- | --- | --- |\n", f);
        for (int i = 0; i < 2; i++) {
                json_object *side = json_get(result, i ? "b" : "a", json_type_object);
                _cleanup_free_ char *images = NULL, *source = NULL;
                if (output_side_images(side, &images) < 0 || output_side_source(side, &source) < 0) {
                        m->error = -ENOMEM;
                        return;
                }
                fprintf(f, "| %s | ", i ? "B (new)" : "A (old)");
                code(f, images[0] ? images : "?", true);
                fputs(" | ", f);
                cell(f, source);
                fputs(" | ", f);
                const char *os = json_get_string(side, "os");
                if (os)
                        code(f, os, true);
                else
                        fputs("(not inspected)", f);
                fputs(" |\n", f);
        }
        mark(m, 0);
}

static void filesystems_write(Markdown *m, json_object *fss) {
        bool any = false;
        FILE *f = m->f;

        for (size_t i = 0; i < json_array_length(fss) && m->error >= 0; i++) {
                json_object *fs = json_object_array_get_idx(fss, i);
                const char *change = json_get_string(fs, "change");
                FieldPair *p = NULL;
                size_t n = 0;
                char size[32];

                if (streq_ptr(change, "unchanged"))
                        continue;
                if (!any) {
                        fputs("\n### Filesystems\n\n| Device | Change | Type | Size | Mount point | Changed |\n"
                              "| --- | --- | --- | ---: | --- | --- |\n", f);
                        mark(m, 0);
                        any = true;
                }
                _cleanup_free_ char *mountpoint = output_display_bytes(fs, "mountpoint");
                format_size(size, json_get_u64(present_side(fs), "size"), true);
                fputs("| ", f);
                code(f, strempty(json_get_string(fs, "device")), true);
                fputs(" | ", f);
                cell(f, change);
                fputs(" | ", f);
                cell(f, json_get_string(fs, "type"));
                fprintf(f, " | %s | ", size);
                if (mountpoint)
                        code(f, mountpoint, true);
                fputs(" | ", f);
                if (output_fs_field_pairs(fs, &p, &n) < 0) {
                        m->error = -ENOMEM;
                        return;
                }
                pairs_write(f, p, n);
                field_pairs_free(p, n);
                fputs(" |\n", f);
                mark(m, 0);
        }
}

static void change_row(Markdown *m, json_object *c) {
        _cleanup_free_ char *name = output_change_name(c, m->several_trees);
        const char *change = strempty(json_get_string(c, "change"));
        json_object *bin = json_get(c, "binary", json_type_boolean);
        const char *omitted = json_get_string(c, "diff_omitted");
        FieldPair *p = NULL;
        size_t n = 0;
        char size[32];
        FILE *f = m->f;

        if (!name) {
                m->error = -ENOMEM;
                return;
        }
        format_size(size, json_get_u64(c, "size"), true);
        fputs("| ", f);
        cell(f, change);
        fputs(" | ", f);
        code(f, name, true);
        fputs(" | ", f);
        cell(f, json_get_string(c, "kind"));
        fprintf(f, " | %s | ", size);
        /* Added and removed entries are described by the row itself. */
        if (strcmp(change, "added") != 0 && strcmp(change, "removed") != 0) {
                if (output_field_pairs(c, m->o, &p, &n) < 0) {
                        m->error = -ENOMEM;
                        return;
                }
                pairs_write(f, p, n);
                field_pairs_free(p, n);
        }
        if (bin && json_object_get_boolean(bin))
                fputs(n ? "; binary files differ" : "binary files differ", f);
        else if (omitted) {
                fputs(n ? "; no diff: " : "no diff: ", f);
                cell(f, omitted);
        }
        fputs(" |\n", f);
        m->changes++;
        mark(m, 0);
}

static void diff_write(Markdown *m, json_object *c) {
        _cleanup_free_ char *name = output_change_name(c, m->several_trees);
        const char *d = json_get_string(c, "diff");
        size_t run = 0, fence = 3;
        FILE *f = m->f;

        if (!name) {
                m->error = -ENOMEM;
                return;
        }
        for (const char *p = d; *p; p++) {
                run = *p == '`' ? run + 1 : 0;
                if (run >= fence)
                        fence = run + 1;
        }

        fputs("\n<details><summary><code>", f);
        html_escape(f, name, strlen(name));
        fputs("</code></summary>\n\n", f);
        fence_write(f, fence);
        fputs("diff\n", f);
        for (const char *line = d; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) + 1 : strlen(line);
                fwrite(line, 1, len, f);
                if (!nl)
                        fputc('\n', f);
                line += len;
                mark(m, fence);
        }
        m->diffs++;
        closer_write(f, fence);
        mark(m, 0);
}

static void sections_write(Markdown *m, json_object *result) {
        json_object *changes = json_get(result, "changes", json_type_array);
        size_t n = json_array_length(changes);

        header_write(m, result);
        filesystems_write(m, json_get(result, "filesystems", json_type_array));
        if (n > 0) {
                fputs("\n### Changes\n\n| Change | Path | Kind | Size | Details |\n| --- | --- | --- | ---: | --- |\n", m->f);
                mark(m, 0);
        }
        for (size_t i = 0; i < n && m->error >= 0; i++)
                change_row(m, json_object_array_get_idx(changes, i));

        for (size_t i = 0; i < n; i++)
                m->n_diffs += !!json_get_string(json_object_array_get_idx(changes, i), "diff");
        if (m->n_diffs > 0) {
                fputs("\n### Diffs\n", m->f);
                mark(m, 0);
        }
        for (size_t i = 0; i < n && m->error >= 0; i++)
                if (json_get_string(json_object_array_get_idx(changes, i), "diff"))
                        diff_write(m, json_object_array_get_idx(changes, i));
}

/* What a cut at c leaves out, after closing what is open there. */
static char *cut_note(const Markdown *m, const CutPoint *c, const char *text, size_t len) {
        size_t lines = 0;
        char *r = NULL;
        size_t rlen = 0;
        FILE *f = open_memstream(&r, &rlen);

        if (!f)
                return NULL;
        for (size_t i = c->offset; i < len; i++)
                lines += text[i] == '\n';
        if (c->fence)
                closer_write(f, c->fence);
        fprintf(f, "\n> **Cut to %" PRIu64 " bytes** (--max-bytes): %zu more lines (%zu bytes) left out", m->o->max_bytes,
                lines, len - c->offset);
        if (c->changes < m->n_changes)
                fprintf(f, "; %zu of %zu changes not listed", m->n_changes - c->changes, m->n_changes);
        if (c->diffs < m->n_diffs)
                fprintf(f, "; %zu of %zu diffs not shown in full", m->n_diffs - c->diffs, m->n_diffs);
        fputs(".\n", f);
        if (fclose(f) != 0) {
                free(r);
                return NULL;
        }
        return r;
}

int output_markdown(FILE *out, json_object *result, const OutputOptions *o) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        Markdown m = {
                .o = o,
                .n_changes = json_array_length(json_get(result, "changes", json_type_array)),
                .several_trees = output_several_trees(json_get(result, "changes", json_type_array)),
        };

        m.f = open_memstream(&text, &len);
        if (!m.f)
                return -ENOMEM;
        sections_write(&m, result);
        if (fclose(m.f) != 0 && m.error >= 0)
                m.error = -ENOMEM;
        if (m.error < 0) {
                free(m.cuts);
                return m.error;
        }

        if (o->max_bytes == 0 || len <= o->max_bytes) {
                free(m.cuts);
                fwrite(text, 1, len, out);
                return ferror(out) ? -EIO : 0;
        }
        /* The last cut point whose text, closer and note fit. */
        for (size_t i = m.n_cuts; i > 0; i--) {
                const CutPoint *c = &m.cuts[i - 1];
                _cleanup_free_ char *note = NULL;

                if (c->offset > o->max_bytes)
                        continue;
                note = cut_note(&m, c, text, len);
                if (!note) {
                        free(m.cuts);
                        return -ENOMEM;
                }
                if (c->offset + strlen(note) > o->max_bytes)
                        continue;
                fwrite(text, 1, c->offset, out);
                fputs(note, out);
                free(m.cuts);
                return ferror(out) ? -EIO : 0;
        }
        free(m.cuts);
        /* OUTPUT_MIN_MAX_BYTES keeps this from happening. */
        return -ENOSPC;
}

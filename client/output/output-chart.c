/* The HTML report's chart: bytes added, removed and modified under each
 * top-level directory, as stacked horizontal bars in inline SVG (drawn
 * here, so it shows without scripting too). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "output/output-internal.h"

#define CHART_ROWS 12 /* the largest directories; the rest share a row */
#define LABEL_WIDTH 230
#define BAR_WIDTH 440
#define ROW_HEIGHT 24

typedef struct Group {
        char *label;        /* "/etc", "/dev/sda3:/srv", "/" for top-level files */
        uint64_t bytes[3]; /* added, removed, modified */
} Group;

static uint64_t group_total(const Group *g) {
        return g->bytes[0] + g->bytes[1] + g->bytes[2];
}

static int by_label(const void *a, const void *b) {
        return strcmp(((const Group *) a)->label, ((const Group *) b)->label);
}

static int by_total(const void *a, const void *b) {
        uint64_t x = group_total(a), y = group_total(b);
        return x < y ? 1 : x > y ? -1 : by_label(a, b);
}

/* The directory a change is under: its first component when it has more
 * than one, else its tree's root. */
static char *group_label(json_object *c, bool several_trees) {
        _cleanup_free_ char *path = output_display_bytes(c, "path");
        const char *tree = strempty(json_get_string(c, "tree"));
        char *r;

        if (!path)
                return NULL;
        char *second = path[0] == '/' ? strchr(path + 1, '/') : NULL;
        if (second)
                *second = 0;
        else
                strcpy(path, "/");
        if (!several_trees || strcmp(tree, "/") == 0)
                return TAKE_PTR(path);
        return asprintf(&r, "%s:%s", tree, path) < 0 ? NULL : r;
}

static void groups_free(Group *g, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(g[i].label);
        free(g);
}

/* One group a change with bytes, then merged by label: sorting keeps it
 * O(n log n) whatever the number of top-level directories. */
static int groups_build(json_object *changes, bool several_trees, Group **ret, size_t *ret_n) {
        size_t n = 0, m = 0;
        Group *g = calloc(json_array_length(changes) + 1, sizeof(Group));

        if (!g)
                return -ENOMEM;
        for (size_t i = 0; i < json_array_length(changes); i++) {
                json_object *c = json_object_array_get_idx(changes, i);
                const char *change = strempty(json_get_string(c, "change"));
                uint64_t bytes = output_change_bytes(c);
                if (bytes == 0)
                        continue;
                g[n].label = group_label(c, several_trees);
                if (!g[n].label) {
                        groups_free(g, n);
                        return -ENOMEM;
                }
                g[n++].bytes[strcmp(change, "added") == 0 ? 0 : strcmp(change, "removed") == 0 ? 1 : 2] = bytes;
        }
        qsort(g, n, sizeof(Group), by_label);
        for (size_t i = 0; i < n; i++) {
                if (m > 0 && strcmp(g[m - 1].label, g[i].label) == 0) {
                        for (int k = 0; k < 3; k++)
                                g[m - 1].bytes[k] += g[i].bytes[k];
                        free(g[i].label);
                } else
                        g[m++] = g[i];
        }
        qsort(g, m, sizeof(Group), by_total);
        *ret = g;
        *ret_n = m;
        return 0;
}

/* At most max code points of s, with "…" when cut. */
static void label_write(FILE *f, const char *s, size_t max) {
        size_t chars = 0, i = 0, len = strlen(s);

        for (; i < len && chars < max; chars++)
                do
                        i++;
                while (i < len && ((unsigned char) s[i] & 0xc0) == 0x80);
        html_escape(f, s, i);
        if (i < len)
                fputs("…", f);
}

int output_chart_write(FILE *f, json_object *changes, bool several_trees) {
        static const char *const names[] = {"added", "removed", "modified"};
        Group *g = NULL;
        size_t n = 0;
        uint64_t max = 0;
        char size[32];
        int k = groups_build(changes, several_trees, &g, &n);

        if (k < 0)
                return k;
        fputs("<section id=\"chart\">\n<h2>Bytes changed by top-level directory</h2>\n", f);
        if (n == 0) {
                fputs("<p>No file was added, removed or modified.</p>\n</section>\n", f);
                groups_free(g, n);
                return 0;
        }
        /* The smaller ones share the last row. */
        if (n > CHART_ROWS) {
                char *label;
                if (asprintf(&label, "%zu other directories", n - CHART_ROWS + 1) < 0) {
                        groups_free(g, n);
                        return -ENOMEM;
                }
                for (size_t i = CHART_ROWS; i < n; i++) {
                        for (int b = 0; b < 3; b++)
                                g[CHART_ROWS - 1].bytes[b] += g[i].bytes[b];
                        free(g[i].label);
                }
                free(g[CHART_ROWS - 1].label);
                g[CHART_ROWS - 1].label = label;
                n = CHART_ROWS;
        }
        for (size_t i = 0; i < n; i++)
                if (group_total(&g[i]) > max)
                        max = group_total(&g[i]);

        size_t height = (n + 1) * ROW_HEIGHT + 8;
        fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" width=\"%d\" height=\"%zu\" "
                   "viewBox=\"0 0 %d %zu\" aria-label=\"Bytes added, removed and modified by top-level directory\">\n",
                LABEL_WIDTH + BAR_WIDTH + 90, height, LABEL_WIDTH + BAR_WIDTH + 90, height);
        for (size_t i = 0; i < n; i++) {
                double x = LABEL_WIDTH;
                size_t y = i * ROW_HEIGHT + 4;

                fprintf(f, "<g class=\"row\"><title>");
                html_escape(f, g[i].label, strlen(g[i].label));
                for (int b = 0; b < 3; b++) {
                        format_size(size, g[i].bytes[b], true);
                        fprintf(f, "; %s %s", names[b], size);
                }
                fprintf(f, "</title><text class=\"label\" x=\"%d\" y=\"%zu\">", LABEL_WIDTH - 8, y + 16);
                label_write(f, g[i].label, 30);
                fputs("</text>", f);
                for (int b = 0; b < 3; b++) {
                        double w = (double) g[i].bytes[b] * BAR_WIDTH / (double) max;
                        if (g[i].bytes[b] == 0)
                                continue;
                        fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"%d\"/>", names[b], x,
                                y + 3, w < 1 ? 1 : w, ROW_HEIGHT - 6);
                        x += w < 1 ? 1 : w;
                }
                format_size(size, group_total(&g[i]), true);
                fprintf(f, "<text class=\"value\" x=\"%.1f\" y=\"%zu\">%s</text></g>\n", x + 6, y + 16, size);
        }
        size_t y = n * ROW_HEIGHT + 8;
        for (int b = 0; b < 3; b++)
                fprintf(f, "<rect class=\"%s\" x=\"%d\" y=\"%zu\" width=\"12\" height=\"12\"/>"
                           "<text class=\"legend\" x=\"%d\" y=\"%zu\">%s</text>\n",
                        names[b], LABEL_WIDTH + b * 110, y + 2, LABEL_WIDTH + b * 110 + 16, y + 12, names[b]);
        fputs("</svg>\n</section>\n", f);
        groups_free(g, n);
        return 0;
}

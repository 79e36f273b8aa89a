/* What the report writers (Markdown, HTML) share: a change's fields with
 * their two values as people read them, the bytes a change stands for,
 * the exit status a result means, a side's description. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "common/base64.h"
#include "common/quote.h"
#include "output/output-internal.h"

char *output_display_bytes(json_object *o, const char *key) {
        _cleanup_free_ char *b = NULL;
        size_t n;

        if (json_get_bytes(o, key, &b, &n) < 0)
                return NULL;
        return escape_bytes(b, n);
}

char *output_change_name(json_object *c, bool several_trees) {
        _cleanup_free_ char *path = output_display_bytes(c, "path");
        const char *tree = strempty(json_get_string(c, "tree"));
        char *r;

        if (!path || !several_trees || strcmp(tree, "/") == 0)
                return TAKE_PTR(path);
        return asprintf(&r, "%s:%s", tree, path) < 0 ? NULL : r;
}

uint64_t output_change_bytes(json_object *c) {
        const char *change = json_get_string(c, "change");
        json_object *side = streq_ptr(change, "removed") ? json_get(c, "old", json_type_object) : present_side(c);

        /* A directory's size is its block list, not data anyone wrote. */
        if (streq_ptr(change, "metadata") || streq_ptr(json_get_string(side, "kind"), "directory"))
                return 0;
        return json_get_u64(side, "size");
}

int output_exit_status(json_object *result) {
        json_object *fss = json_get(result, "filesystems", json_type_array);
        json_object *d = json_get(json_get(result, "summary", json_type_object), "differences", json_type_boolean);

        for (size_t i = 0; i < json_array_length(fss); i++) {
                json_object *fs = json_object_array_get_idx(fss, i);
                for (int s = 0; s < 2; s++)
                        if (json_get_string(json_get(fs, s ? "new" : "old", json_type_object), "error"))
                                return 2;
        }
        return d && json_object_get_boolean(d) ? 1 : 0;
}

const char *output_exit_meaning(int status) {
        switch (status) {
        case 0:
                return "no differences";
        case 1:
                return "the sides differ";
        default:
                return "some filesystem could not be read, so differences may be missing";
        }
}

static char *xattrs_string(json_object *stat) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        xattrs_write(f, stat, ' ');
        if (fclose(f) != 0)
                return NULL;
        /* Drop the leading separator; nothing at all reads as "(none)". */
        return strdup(len > 0 ? buf + 1 : "(none)");
}

/* A stat's value of FIELD as people read it, or NULL without one. */
static char *field_value(json_object *st, const char *field, const OutputOptions *o) {
        char buf[64];

        if (!st)
                return NULL;
        if (streq_ptr(field, "kind"))
                return strdup(strempty(json_get_string(st, "kind")));
        if (streq_ptr(field, "mode")) {
                snprintf(buf, sizeof buf, "%04" PRIo64, json_get_u64(st, "mode") & 07777);
                return strdup(buf);
        }
        if (streq_ptr(field, "content")) {
                const char *sum = stat_checksum(st);
                return sum ? strdup(sum) : NULL;
        }
        if (streq_ptr(field, "target"))
                return json_get(st, "target", json_type_string) ? output_display_bytes(st, "target") : NULL;
        if (streq_ptr(field, "rdev")) {
                if (!json_get(st, "rdev", json_type_int))
                        return NULL;
                uint64_t d = json_get_u64(st, "rdev");
                snprintf(buf, sizeof buf, "%u:%u", major((dev_t) d), minor((dev_t) d));
                return strdup(buf);
        }
        if (streq_ptr(field, "xattrs"))
                return xattrs_string(st);
        if (streq_ptr(field, "mtime") || streq_ptr(field, "atime") || streq_ptr(field, "ctime")) {
                char key[16];
                snprintf(key, sizeof key, "%s_ns", field);
                format_time(buf, json_get_i64(st, key), o);
                return strdup(buf);
        }
        /* size, uid, gid, nlink, ino, dev, blocks, blksize: plain numbers. */
        if (!json_get(st, field, json_type_int))
                return NULL;
        snprintf(buf, sizeof buf, "%" PRIu64, json_get_u64(st, field));
        return strdup(buf);
}

void field_pairs_free(FieldPair *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(p[i].old);
                free(p[i].new);
        }
        free(p);
}

static int pair_add(FieldPair **p, size_t *n, const char *name, json_object *old, json_object *new, const OutputOptions *o) {
        char *a = field_value(old, name, o), *b = field_value(new, name, o);
        FieldPair *q;

        if (!a && !b)
                return 0;
        q = realloc(*p, sizeof(FieldPair) * (*n + 1));
        if (!q) {
                free(a);
                free(b);
                return -ENOMEM;
        }
        *p = q;
        q[(*n)++] = (FieldPair) {.name = name, .old = a, .new = b};
        return 0;
}

int output_field_pairs(json_object *c, const OutputOptions *o, FieldPair **ret, size_t *ret_n) {
        /* What says most about a whole entry that appeared, vanished or
         * changed its kind. */
        static const char *const whole[] = {"kind", "mode", "uid", "gid", "size", "mtime", "content", "target", "rdev"};
        const char *change = json_get_string(c, "change");
        json_object *old = json_get(c, "old", json_type_object), *new = json_get(c, "new", json_type_object);
        json_object *fields = json_get(c, "fields", json_type_array);
        FieldPair *p = NULL;
        size_t n = 0;
        int k = 0;

        if (streq_ptr(change, "modified") || streq_ptr(change, "metadata"))
                for (size_t i = 0; k >= 0 && i < json_array_length(fields); i++)
                        k = pair_add(&p, &n, json_object_get_string(json_object_array_get_idx(fields, i)), old, new, o);
        else
                for (size_t i = streq_ptr(change, "type") ? 0 : 1; k >= 0 && i < ELEMENTSOF(whole); i++) {
                        k = pair_add(&p, &n, whole[i], old, new, o);
                        /* A type change: only what differs between the two. */
                        if (k >= 0 && n > 0 && p[n - 1].name == whole[i] && p[n - 1].old && p[n - 1].new &&
                            strcmp(p[n - 1].old, p[n - 1].new) == 0) {
                                free(p[n - 1].old);
                                free(p[n - 1].new);
                                n--;
                        }
                }
        if (k < 0) {
                field_pairs_free(p, n);
                return k;
        }
        *ret = p;
        *ret_n = n;
        return 0;
}

/* The filesystem fields of a changed filesystem (type, uuid, label, size). */
int output_fs_field_pairs(json_object *fs, FieldPair **ret, size_t *ret_n) {
        json_object *fields = json_get(fs, "fields", json_type_array);
        json_object *sides[2] = {json_get(fs, "old", json_type_object), json_get(fs, "new", json_type_object)};
        FieldPair *p = calloc(json_array_length(fields) + 1, sizeof(FieldPair));
        size_t n = 0;

        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < json_array_length(fields); i++) {
                const char *name = json_object_get_string(json_object_array_get_idx(fields, i));
                char *v[2] = {};
                for (int s = 0; s < 2; s++) {
                        if (!sides[s])
                                continue;
                        if (streq_ptr(name, "size")) {
                                if (asprintf(&v[s], "%" PRIu64, json_get_u64(sides[s], "size")) < 0)
                                        v[s] = NULL;
                        } else if (streq_ptr(name, "label"))
                                v[s] = output_display_bytes(sides[s], "label");
                        else
                                v[s] = json_get_string(sides[s], name) ? strdup(json_get_string(sides[s], name)) : NULL;
                }
                p[n++] = (FieldPair) {.name = name, .old = v[0], .new = v[1]};
        }
        *ret = p;
        *ret_n = n;
        return 0;
}

int output_side_images(json_object *side, char **ret) {
        json_object *images = json_get(side, "images", json_type_array);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < json_array_length(images); i++) {
                json_object *img = json_object_array_get_idx(images, i);
                _cleanup_free_ char *path = output_display_bytes(img, "path");
                const char *snapshot = json_get_string(img, "snapshot");
                fprintf(f, "%s%s%s%s", i ? ", " : "", path ?: "?", snapshot ? "@" : "", strempty(snapshot));
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

int output_side_source(json_object *side, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -ENOMEM;
        output_side_origin_write(f, side);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

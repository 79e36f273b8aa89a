/* --output=virt-diff: the line format of libguestfs virt-diff, so scripts
 * written against it keep working:
 *
 *   + - 0644         12 /etc/new          added (the new side's entry)
 *   - d 0755       4096 /srv/old          removed
 *   = - 0644         44 /boot/grub.cfg    content changed, then the diff's
 *                                         hunks and a closing
 *                                         "@@ End of diff @@"
 *   - - 0644 ... / + - 0600 ... / # changed: st_mode
 *                                         anything else that changed
 *
 * and with o->csv upstream's CSV: the same fields, comma-separated, a
 * field quoted when it holds a space, a quote, a comma or a line break,
 * sizes and owners not padded, a symlink's target a field of its own, no
 * diffs.
 *
 * Minus upstream's bugs: "=" only for a real content change (not a touched
 * mtime or ctime), names in the text lines quoted when they hold a newline,
 * quote, backslash or a byte that is not UTF-8, xattr bytes always as \xHH,
 * and "# filesystem ..." lines for filesystems present on one side only or
 * changed. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "common/quote.h"
#include "output/output-internal.h"

/* One output line, field by field. */
typedef struct Line {
        FILE *f;
        const OutputOptions *o;
        unsigned fields;
} Line;

static void field_start(Line *l) {
        if (l->fields++ > 0)
                fputc(l->o->csv ? ',' : ' ', l->f);
}

/* A field that holds no separator: numbers, dates, type letters. */
_printf_(2, 3) static void field_printf(Line *l, const char *fmt, ...) {
        va_list ap;

        field_start(l);
        va_start(ap, fmt);
        vfprintf(l->f, fmt, ap);
        va_end(ap);
}

/* Text as it is in a text line; in CSV quoted when upstream quotes it
 * (a space, '"', ',' or a line break), quotes doubled. */
static void field_text(Line *l, const char *s, size_t n) {
        bool quote = false;

        field_start(l);
        for (size_t i = 0; l->o->csv && i < n && !quote; i++)
                quote = s[i] == ' ' || s[i] == '"' || s[i] == ',' || s[i] == '\n' || s[i] == '\r';
        if (!quote) {
                fwrite(s, 1, n, l->f);
                return;
        }
        fputc('"', l->f);
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '"')
                        fputc('"', l->f);
                fputc(s[i], l->f);
        }
        fputc('"', l->f);
}

static void field_string(Line *l, const char *s) {
        field_text(l, s, strlen(s));
}

/* Bytes that may not be text (xattr names and values): what C's isprint
 * takes as they are, the rest as \xHH. */
static void field_escaped(Line *l, const uint8_t *p, size_t n) {
        _cleanup_free_ char *buf = malloc(n * 4 + 1);
        size_t k = 0;

        if (!buf)
                return field_string(l, "?");
        for (size_t i = 0; i < n; i++)
                if (p[i] >= 0x20 && p[i] < 0x7f)
                        buf[k++] = (char) p[i];
                else
                        k += (size_t) snprintf(buf + k, 5, "\\x%02x", p[i]);
        field_text(l, buf, k);
}

static void line_end(Line *l) {
        fputc('\n', l->f);
        l->fields = 0;
}

static char type_char(const char *kind) {
        static const struct {
                const char *kind;
                char c;
        } table[] = {
                {"file", '-'}, {"directory", 'd'}, {"char", 'c'}, {"block", 'b'},
                {"fifo", 'p'}, {"symlink", 'l'},   {"socket", 's'},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq_ptr(kind, table[i].kind))
                        return table[i].c;
        return 'u';
}

static void field_dev(Line *l, uint64_t dev) {
        field_printf(l, "%u:%u", major((dev_t) dev), minor((dev_t) dev));
}

static void xattr_fields(void *userdata, const uint8_t *name, size_t name_len, const uint8_t *value,
                         size_t value_len) {
        field_escaped(userdata, name, name_len);
        field_escaped(userdata, value, value_len);
}

/* An entry as upstream's output_file() shows it, after the sign. */
static int entry_line(Line *l, char sign, json_object *st, const char *label, size_t label_len) {
        const OutputOptions *o = l->o;
        char buf[64];

        if (!st)
                return -EINVAL;
        format_size(buf, json_get_u64(st, "size"), o->human);
        field_printf(l, "%c", sign);
        field_printf(l, "%c", type_char(json_get_string(st, "kind")));
        field_printf(l, "%04" PRIo64, json_get_u64(st, "mode") & 07777);
        field_printf(l, o->csv ? "%s" : "%10s", buf);
        if (o->uids) {
                field_printf(l, o->csv ? "%" PRIu64 : "%4" PRIu64, json_get_u64(st, "uid"));
                field_printf(l, o->csv ? "%" PRIu64 : "%4" PRIu64, json_get_u64(st, "gid"));
        }
        if (o->times) {
                static const char *const keys[] = {"atime_ns", "mtime_ns", "ctime_ns"};
                /* Padded in CSV too, as upstream does. */
                int width = o->time_format == TIME_T          ? 10
                            : o->time_format == TIME_RELATIVE ? 8
                            : o->time_format == TIME_DAYS     ? 3
                                                              : 0;
                for (size_t i = o->atime ? 0 : 1; i < ELEMENTSOF(keys); i++) {
                        format_time(buf, json_get_i64(st, keys[i]), o);
                        field_printf(l, "%*s", width, buf);
                }
        }
        if (o->extra_stats) {
                field_dev(l, json_get_u64(st, "dev"));
                field_printf(l, "%" PRIu64, json_get_u64(st, "ino"));
                field_printf(l, "%" PRIu64, json_get_u64(st, "nlink"));
                field_dev(l, json_get_u64(st, "rdev"));
                field_printf(l, "%" PRIu64, json_get_u64(st, "blocks"));
        }
        if (o->checksum && stat_checksum(st))
                field_string(l, stat_checksum(st));
        field_text(l, label, label_len);
        if (streq_ptr(json_get_string(st, "kind"), "symlink")) {
                _cleanup_free_ char *t = NULL, *q = NULL;
                size_t n;
                if (json_get_bytes(st, "target", &t, &n) >= 0) {
                        if (o->csv)
                                field_text(l, t, n);
                        else if ((q = quote_bytes(t, n)))
                                field_printf(l, "-> %s", q);
                }
        }
        if (o->xattrs)
                xattrs_foreach(st, xattr_fields, l);
        line_end(l);
        return 0;
}

/* The fields a change names, as a set of ChangeField bits. */
static unsigned fields_mask(json_object *fields) {
        unsigned m = 0;

        for (size_t j = 0; j < json_array_length(fields); j++) {
                const char *s = json_object_get_string(json_object_array_get_idx(fields, j));
                for (unsigned i = 0; i < _FIELD_COUNT; i++)
                        if (streq_ptr(s, change_field_to_string(i)))
                                m |= 1u << i;
        }
        return m;
}

/* Upstream's names for the fields, in upstream's order, and "link" for a
 * symlink's target, which upstream does not compare. */
static void changed_line(Line *l, unsigned fields) {
        static const struct {
                ChangeField field;
                const char *theirs;
        } names[] = {
                {FIELD_DEV, "st_dev"},         {FIELD_INO, "st_ino"},       {FIELD_MODE, "st_mode"},
                {FIELD_NLINK, "st_nlink"},     {FIELD_UID, "st_uid"},       {FIELD_GID, "st_gid"},
                {FIELD_RDEV, "st_rdev"},       {FIELD_SIZE, "st_size"},     {FIELD_BLKSIZE, "st_blksize"},
                {FIELD_BLOCKS, "st_blocks"},   {FIELD_ATIME, "st_atime_sec"}, {FIELD_MTIME, "st_mtime_sec"},
                {FIELD_CTIME, "st_ctime_sec"}, {FIELD_TARGET, "link"},      {FIELD_XATTRS, "xattrs"},
        };
        field_string(l, "#");
        field_string(l, "changed:");
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (fields & names[i].field)
                        field_string(l, names[i].theirs);
        line_end(l);
}

/* The hunks of a unified diff without its two header lines, as upstream
 * shows them ("diff -u | tail -n +3"), then its closing line. Upstream
 * prints nothing between the two for binary files. */
static void hunks_write(FILE *f, json_object *c) {
        _cleanup_free_ char *d = NULL;
        size_t n = 0;
        json_object *bin = json_get(c, "binary", json_type_boolean);

        if (bin && json_object_get_boolean(bin))
                ;
        else if (json_get_bytes(c, "diff", &d, &n) >= 0) {
                const char *p = d, *end = d + n;
                for (int skip = 0; skip < 2 && p < end && (p[0] == '-' || p[0] == '+'); skip++) {
                        const char *nl = memchr(p, '\n', end - p);
                        p = nl ? nl + 1 : end;
                }
                fwrite(p, 1, end - p, f);
        } else
                return;
        fputs("@@ End of diff @@\n", f);
}

/* The label's bytes: exact in CSV, quoted when needed in a text line. */
static int label_get(json_object *c, bool with_tree, bool csv, char **ret, size_t *ret_len) {
        if (csv)
                return output_change_label_bytes(c, with_tree, ret, ret_len);
        *ret = output_change_label(c, with_tree);
        if (!*ret)
                return -EINVAL;
        *ret_len = strlen(*ret);
        return 0;
}

static void filesystem_line(Line *l, json_object *fs) {
        const char *change = json_get_string(fs, "change");
        _cleanup_free_ char *dev = NULL, *q = NULL, *what = NULL;
        size_t n;

        if (!change || fs_change_kind_from_string(change) == FS_UNCHANGED || json_get_bytes(fs, "device", &dev, &n) < 0 ||
            asprintf(&what, "%s:", change) < 0)
                return;
        field_string(l, "#");
        field_string(l, "filesystem");
        field_string(l, what);
        if (l->o->csv)
                field_text(l, dev, n);
        else
                field_string(l, (q = quote_bytes(dev, n)) ? q : "?");
        line_end(l);
}

int output_virt_diff(FILE *f, json_object *result, const OutputOptions *o) {
        json_object *fss = json_get(result, "filesystems", json_type_array);
        json_object *changes = json_get(result, "changes", json_type_array);
        bool with_tree = output_several_trees(changes);
        Line l = {.f = f, .o = o};
        int k = 0;

        for (size_t i = 0; i < json_array_length(fss); i++)
                filesystem_line(&l, json_object_array_get_idx(fss, i));

        for (size_t i = 0; k >= 0 && i < json_array_length(changes); i++) {
                json_object *c = json_object_array_get_idx(changes, i);
                json_object *old = json_get(c, "old", json_type_object), *new = json_get(c, "new", json_type_object);
                ChangeKind change = change_kind_from_string(json_get_string(c, "change"));
                unsigned fields = fields_mask(json_get(c, "fields", json_type_array));
                _cleanup_free_ char *label = NULL;
                size_t len;

                k = label_get(c, with_tree, o->csv, &label, &len);
                if (k < 0)
                        return k;

                if (change == CHANGE_ADDED)
                        k = entry_line(&l, '+', new, label, len);
                else if (change == CHANGE_REMOVED)
                        k = entry_line(&l, '-', old, label, len);
                else if (change == CHANGE_MODIFIED && (fields & FIELD_CONTENT)) {
                        k = entry_line(&l, '=', old, label, len);
                        if (k >= 0 && o->unified && !o->csv)
                                hunks_write(f, c);
                } else {
                        k = entry_line(&l, '-', old, label, len);
                        if (k >= 0)
                                k = entry_line(&l, '+', new, label, len);
                        /* A symlink's target and a change of kind come with
                         * a size upstream names too; a kind is a mode. */
                        if (json_get_u64(old, "size") != json_get_u64(new, "size"))
                                fields |= FIELD_SIZE;
                        if (change == CHANGE_TYPE)
                                fields |= FIELD_MODE;
                        if (k >= 0)
                                changed_line(&l, fields);
                }
        }
        if (k < 0)
                return k;
        return ferror(f) ? -EIO : 0;
}

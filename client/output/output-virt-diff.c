/* --output=virt-diff: the line format of libguestfs virt-diff, so scripts
 * written against it keep working:
 *
 *   + - 0644         12 /etc/new          added (the new side's entry)
 *   - d 0755       4096 /srv/old          removed
 *   = - 0644         44 /boot/grub.cfg    content changed (then, with -u,
 *                                         the diff's hunks and a closing
 *                                         "@@ End of diff @@")
 *   - - 0644 ... / + - 0600 ... / # changed: st_mode
 *                                         anything else that changed
 *
 * minus its bugs: "=" only for a real content change (not a touched
 * mtime), names quoted when they hold a newline, quote, backslash or a
 * byte that is not UTF-8, and "# filesystem ..." lines for filesystems
 * present on one side only or changed. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "common/quote.h"
#include "output/output-internal.h"

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

static void dev_write(FILE *f, uint64_t dev) {
        fprintf(f, " %u:%u", major((dev_t) dev), minor((dev_t) dev));
}

static int entry_line(FILE *f, char sign, json_object *st, const char *label, const OutputOptions *o) {
        char buf[64];

        if (!st)
                return -EINVAL;
        format_size(buf, json_get_u64(st, "size"), o->human);
        fprintf(f, "%c %c %04" PRIo64 " %10s", sign, type_char(json_get_string(st, "kind")),
                json_get_u64(st, "mode") & 07777, buf);
        if (o->uids)
                fprintf(f, " %4" PRIu64 " %4" PRIu64, json_get_u64(st, "uid"), json_get_u64(st, "gid"));
        if (o->times) {
                static const char *const keys[] = {"atime_ns", "mtime_ns", "ctime_ns"};
                for (size_t i = o->atime ? 0 : 1; i < ELEMENTSOF(keys); i++) {
                        format_time(buf, json_get_i64(st, keys[i]), o);
                        fprintf(f, o->time_format == TIME_T      ? " %10s"
                                   : o->time_format == TIME_RELATIVE ? " %8s"
                                   : o->time_format == TIME_DAYS     ? " %3s"
                                                                     : " %s",
                                buf);
                }
        }
        if (o->extra_stats) {
                dev_write(f, json_get_u64(st, "dev"));
                fprintf(f, " %" PRIu64 " %" PRIu64, json_get_u64(st, "ino"), json_get_u64(st, "nlink"));
                dev_write(f, json_get_u64(st, "rdev"));
                fprintf(f, " %" PRIu64, json_get_u64(st, "blocks"));
        }
        if (o->checksum && stat_checksum(st))
                fprintf(f, " %s", stat_checksum(st));
        fprintf(f, " %s", label);
        if (streq_ptr(json_get_string(st, "kind"), "symlink")) {
                _cleanup_free_ char *t = NULL, *q = NULL;
                size_t n;
                if (json_get_bytes(st, "target", &t, &n) >= 0 && (q = quote_bytes(t, n)))
                        fprintf(f, " -> %s", q);
        }
        if (o->xattrs)
                xattrs_write(f, st, ' ');
        fputc('\n', f);
        return 0;
}

/* Upstream's names for the fields, in upstream's order. */
static void changed_line(FILE *f, json_object *fields, bool type) {
        static const struct {
                const char *ours, *theirs;
        } names[] = {
                {"dev", "st_dev"},     {"ino", "st_ino"},       {"mode", "st_mode"},          {"nlink", "st_nlink"},
                {"uid", "st_uid"},     {"gid", "st_gid"},       {"rdev", "st_rdev"},          {"size", "st_size"},
                {"blksize", "st_blksize"}, {"blocks", "st_blocks"}, {"atime", "st_atime_sec"}, {"mtime", "st_mtime_sec"},
                {"ctime", "st_ctime_sec"}, {"target", "link"},   {"xattrs", "xattrs"},
        };
        fputs("# changed:", f);
        if (type)
                fputs(" st_mode", f);
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                for (size_t j = 0; j < json_array_length(fields); j++)
                        if (streq_ptr(json_object_get_string(json_object_array_get_idx(fields, j)), names[i].ours) &&
                            !(type && i == 2))
                                fprintf(f, " %s", names[i].theirs);
        fputc('\n', f);
}

/* The hunks of a unified diff without its two header lines, as upstream
 * shows them ("diff -u | tail -n +3"), then its closing line. */
static void hunks_write(FILE *f, json_object *c) {
        _cleanup_free_ char *d = NULL;
        size_t n = 0;
        json_object *bin = json_get(c, "binary", json_type_boolean);

        if (bin && json_object_get_boolean(bin))
                fputs("Binary files differ\n", f);
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

int output_virt_diff(FILE *f, json_object *result, const OutputOptions *o) {
        json_object *fss = json_get(result, "filesystems", json_type_array);
        json_object *changes = json_get(result, "changes", json_type_array);
        bool with_tree = output_several_trees(changes);
        int k = 0;

        for (size_t i = 0; i < json_array_length(fss); i++) {
                json_object *fs = json_object_array_get_idx(fss, i);
                const char *change = json_get_string(fs, "change");
                _cleanup_free_ char *dev = NULL, *q = NULL;
                size_t n;

                if (!change || fs_change_kind_from_string(change) == FS_UNCHANGED || json_get_bytes(fs, "device", &dev, &n) < 0)
                        continue;
                q = quote_bytes(dev, n);
                fprintf(f, "# filesystem %s: %s\n", change, q ? q : "?");
        }

        for (size_t i = 0; k >= 0 && i < json_array_length(changes); i++) {
                json_object *c = json_object_array_get_idx(changes, i);
                json_object *old = json_get(c, "old", json_type_object), *new = json_get(c, "new", json_type_object);
                json_object *fields = json_get(c, "fields", json_type_array);
                const char *change = json_get_string(c, "change");
                _cleanup_free_ char *label = output_change_label(c, with_tree);
                bool content = false;

                if (!label)
                        return -EINVAL;
                for (size_t j = 0; j < json_array_length(fields); j++)
                        content |= streq_ptr(json_object_get_string(json_object_array_get_idx(fields, j)), "content");

                if (streq_ptr(change, "added"))
                        k = entry_line(f, '+', new, label, o);
                else if (streq_ptr(change, "removed"))
                        k = entry_line(f, '-', old, label, o);
                else if (streq_ptr(change, "modified") && content) {
                        k = entry_line(f, '=', old, label, o);
                        if (k >= 0 && o->unified)
                                hunks_write(f, c);
                } else {
                        k = entry_line(f, '-', old, label, o);
                        if (k >= 0)
                                k = entry_line(f, '+', new, label, o);
                        if (k >= 0)
                                changed_line(f, fields, streq_ptr(change, "type"));
                }
        }
        if (k < 0)
                return k;
        return ferror(f) ? -EIO : 0;
}

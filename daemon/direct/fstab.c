#include "direct/fstab.h"

#include <libmount.h>

void fstab_done(Fstab *f) {
        for (size_t i = 0; i < f->n; i++) {
                free(f->v[i].spec);
                free(f->v[i].file);
                free(f->v[i].vfstype);
        }
        free(f->v);
        *f = (Fstab) {};
}

char *fstab_canonical_path(const char *path) {
        size_t len = strlen(path);
        char *r = malloc(len + 2), *w = r;
        if (!r)
                return NULL;
        bool absolute = path[0] == '/', first = true;
        if (absolute)
                *w++ = '/';
        for (const char *p = path; *p;) {
                while (*p == '/')
                        p++;
                size_t l = strcspn(p, "/");
                if (l == 0)
                        break;
                if (!first)
                        *w++ = '/';
                memcpy(w, p, l);
                w += l;
                p += l;
                first = false;
        }
        *w = 0;
        return r;
}

static bool all_digits(const char *s, size_t len) {
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* A comma list as the lens' comma_sep_list reads it: items of
 * [^,#= \t\n]+ with an optional =value, no empty item. */
static bool comma_list_ok(const char *s, size_t len) {
        size_t item = 0;
        bool in_value = false;
        for (size_t i = 0; i <= len; i++) {
                if (i == len || s[i] == ',') {
                        if (item == 0)
                                return false;
                        item = 0;
                        in_value = false;
                        continue;
                }
                if (s[i] == '=' && !in_value) {
                        if (item == 0)
                                return false;
                        in_value = true;
                        continue;
                }
                if (!in_value)
                        item++;
        }
        return true;
}

/* How many fields the line has (0 for a blank line or a comment), or -1
 * when it is outside the subset both parsers read alike. */
static int check_line(const char *line, size_t len) {
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
        if (i == len || line[i] == '#')
                return 0;
        for (size_t k = i; k < len; k++) {
                unsigned char c = (unsigned char) line[k];
                if (c == '#' || c == '\\' || (c < 0x20 && c != '\t') || c == 0x7f)
                        return -1;
        }
        const char *field[7];
        size_t flen[7];
        int n = 0;
        while (i < len) {
                size_t l = 0;
                while (i + l < len && line[i + l] != ' ' && line[i + l] != '\t')
                        l++;
                if (n == 6)
                        return -1;
                field[n] = line + i;
                flen[n++] = l;
                i += l;
                while (i < len && (line[i] == ' ' || line[i] == '\t'))
                        i++;
        }
        if (n < 3 || field[0][0] == ',')
                return -1;
        if (!comma_list_ok(field[2], flen[2]) || (n >= 4 && !comma_list_ok(field[3], flen[3])))
                return -1;
        if ((n >= 5 && !all_digits(field[4], flen[4])) || (n >= 6 && !all_digits(field[5], flen[5])))
                return -1;
        return n;
}

static int add_entry(Fstab *f, struct libmnt_fs *fs) {
        const char *spec = mnt_fs_get_source(fs), *file = mnt_fs_get_target(fs), *type = mnt_fs_get_fstype(fs);
        FstabEntry *n = realloc(f->v, (f->n + 1) * sizeof(FstabEntry));
        if (!n)
                return -ENOMEM;
        f->v = n;
        FstabEntry *en = &f->v[f->n];
        en->spec = strdup(strempty(spec));
        en->file = strdup(strempty(file));
        en->vfstype = strdup(strempty(type));
        f->n++;
        return en->spec && en->file && en->vfstype ? 0 : -ENOMEM;
}

int fstab_parse(const char *text, size_t len, Fstab *ret, Error *e) {
        size_t records = 0;

        if (len > 0 && text[len - 1] != '\n')
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "/etc/fstab: no newline at its end");
        if (memchr(text, 0, len))
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "/etc/fstab: a NUL byte");
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t l = (size_t) (nl - (text + i));
                int k = check_line(text + i, l);
                if (k < 0)
                        return error_set(e, ERR_DIRECT_UNSUPPORTED,
                                         "/etc/fstab: a line the direct engine cannot be sure to read as "
                                         "libguestfs does: %.*s",
                                         (int) (l < 80 ? l : 80), text + i);
                records += k > 0;
                i += l + 1;
        }

        FILE *stream = fmemopen((void *) text, len ? len : 1, "r");
        struct libmnt_table *tb = mnt_new_table();
        struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        Fstab f = {};
        int r = 0;
        if (!stream || !tb || !it)
                r = error_set(e, ERR_INTERNAL, "out of memory");
        else if (len > 0 && mnt_table_parse_stream(tb, stream, "/etc/fstab") != 0)
                r = error_set(e, ERR_DIRECT_UNSUPPORTED, "/etc/fstab: libmount cannot parse it");
        else {
                struct libmnt_fs *fs;
                while (r >= 0 && len > 0 && mnt_table_next_fs(tb, it, &fs) == 0)
                        if (add_entry(&f, fs) < 0)
                                r = error_set(e, ERR_INTERNAL, "out of memory");
                if (r >= 0 && f.n != records)
                        r = error_set(e, ERR_DIRECT_UNSUPPORTED, "/etc/fstab: libmount read %zu entries, not %zu",
                                      f.n, records);
        }
        mnt_free_iter(it);
        mnt_unref_table(tb);
        if (stream)
                fclose(stream);
        if (r < 0) {
                fstab_done(&f);
                return r;
        }
        *ret = f;
        return 0;
}

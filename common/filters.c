#include "common/filters.h"

#include <fnmatch.h>

#include "common/names.h"

void filters_done(Filters *f) {
        strv_free(f->paths);
        strv_free(f->include);
        strv_free(f->exclude);
        strv_free(f->ignore_xattrs);
        *f = (Filters) {};
}

bool filters_empty(const Filters *f) {
        return !f->paths && !f->include && !f->exclude && f->ignore == 0 && !f->ignore_xattrs;
}

static int filters_push(char ***l, const char *s, const char **why) {
        size_t n = strv_length(*l);

        if (n >= FILTERS_MAX_ITEMS) {
                *why = "too many filter items";
                return -EINVAL;
        }
        if (strlen(s) > FILTERS_MAX_PATTERN) {
                *why = "filter item too long";
                return -EINVAL;
        }
        return strv_extend(l, &n, s);
}

int filters_add_ignore(Filters *f, const char *item, const char **why) {
        if (strncmp(item, "xattr:", 6) == 0) {
                if (item[6] == 0) {
                        *why = "'xattr:' needs a name or glob (xattr:security.selinux)";
                        return -EINVAL;
                }
                return filters_push(&f->ignore_xattrs, item + 6, why);
        }
        for (unsigned i = 0; i < _FIELD_COUNT; i++) {
                unsigned bit = 1u << i;
                if (!streq_ptr(change_field_to_string(i), item))
                        continue;
                if (bit & (FIELD_CONTENT | FIELD_SIZE | FIELD_TARGET | FIELD_RDEV)) {
                        *why = "content fields (content, size, target, rdev) cannot be ignored";
                        return -EINVAL;
                }
                f->ignore |= bit;
                return 0;
        }
        *why = "unknown field (mode, uid, gid, mtime, xattrs, atime, ctime, nlink, ino, dev, blocks, "
               "blksize, xattr:NAME)";
        return -EINVAL;
}

int filters_add_path(Filters *f, const char *path, const char **why) {
        _cleanup_free_ char *norm = NULL;
        size_t n = 0, len = strlen(path);

        if (path[0] != '/') {
                *why = "a path scope must be absolute";
                return -EINVAL;
        }
        if (len > FILTERS_MAX_PATTERN) {
                *why = "filter item too long";
                return -EINVAL;
        }
        norm = malloc(len + 2);
        if (!norm)
                return -ENOMEM;

        /* Rebuild it component by component: "//etc/" is "/etc". */
        for (const char *p = path; *p;) {
                while (*p == '/')
                        p++;
                size_t c = strcspn(p, "/");
                if (c == 0)
                        break;
                if ((c == 1 && p[0] == '.') || (c == 2 && p[0] == '.' && p[1] == '.')) {
                        *why = "a path scope may not contain '.' or '..'";
                        return -EINVAL;
                }
                norm[n++] = '/';
                memcpy(norm + n, p, c);
                n += c;
                p += c;
        }
        if (n == 0)
                norm[n++] = '/';
        norm[n] = 0;
        return filters_push(&f->paths, norm, why);
}

int filters_add_glob(Filters *f, bool include, const char *glob, const char **why) {
        if (!glob[0]) {
                *why = "an empty pattern";
                return -EINVAL;
        }
        return filters_push(include ? &f->include : &f->exclude, glob, why);
}

static bool in_scope(const char *scope, const char *path) {
        size_t n = strlen(scope);

        if (strcmp(scope, "/") == 0)
                return true;
        return strncmp(path, scope, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* A pattern with a '/' is tried on the path and each of its ancestors
 * ("/var/log" drops all of /var/log); one without, on each component
 * ("*.log" anywhere, ".git" and all under it). */
static bool glob_hits(const char *pattern, const char *path) {
        bool anchored = strchr(pattern, '/') != NULL;
        size_t len = strlen(path);
        _cleanup_free_ char *buf = strdup(path);

        if (!buf)
                return false;
        for (size_t i = 1; i <= len; i++) {
                if (i < len && path[i] != '/')
                        continue;
                /* buf holds the prefix up to i (anchored) or the component
                 * ending at i, NUL-terminated in place. */
                size_t start = 0;
                if (!anchored) {
                        start = i - 1;
                        while (start > 0 && path[start] != '/')
                                start--;
                        start++;
                        if (start >= i)
                                continue;
                }
                buf[i] = 0;
                bool hit = fnmatch(pattern, buf + start, anchored ? FNM_PATHNAME : 0) == 0;
                buf[i] = path[i];
                if (hit)
                        return true;
        }
        return false;
}

static bool any_glob_hits(char **patterns, const char *path) {
        STRV_FOREACH(p, patterns)
                if (glob_hits(*p, path))
                        return true;
        return false;
}

bool filters_keep_path(const Filters *f, const char *path) {
        if (f->paths) {
                bool hit = false;
                STRV_FOREACH(s, f->paths)
                        if (in_scope(*s, path)) {
                                hit = true;
                                break;
                        }
                if (!hit)
                        return false;
        }
        if (f->include && !any_glob_hits(f->include, path))
                return false;
        return !(f->exclude && any_glob_hits(f->exclude, path));
}

bool filters_keep_xattr(const Filters *f, const char *name) {
        STRV_FOREACH(p, f->ignore_xattrs)
                if (fnmatch(*p, name, 0) == 0)
                        return false;
        return true;
}

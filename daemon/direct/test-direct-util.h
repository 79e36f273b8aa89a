/* What the direct engine's tests share: a scratch directory, shell steps
 * that build real images (mke2fs -d, sfdisk, debugfs), and opening a side
 * on them. */
#pragma once

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "common/test-util.h"
#include "direct/direct.h"

static char td_dir[256];

static inline void td_cleanup(void) {
        if (td_dir[0])
                rm_rf(td_dir);
}

static inline const char *td_tmpdir(void) {
        const char *base = getenv("TMPDIR");
        snprintf(td_dir, sizeof td_dir, "%s/test-direct-XXXXXX", base && base[0] ? base : "/tmp");
        if (!mkdtemp(td_dir)) {
                perror("mkdtemp");
                exit(1);
        }
        atexit(td_cleanup);
        return td_dir;
}

/* Runs a shell command in the scratch directory; its exit status. */
_printf_(1, 2) static inline int td_sh(const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL, *full = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        if (r < 0 || asprintf(&full, "cd '%s' && { %s ; } >/dev/null 2>&1", td_dir, cmd) < 0)
                exit(1);
        r = system(full);
        if (r != 0)
                fprintf(stderr, "command failed (%d): %s\n", r, cmd);
        return r;
}

static inline char *td_path(const char *name) {
        return must(path_join(td_dir, name));
}

/* Opens a side on images of the scratch directory; the Error says why
 * not. */
static inline int td_open(DirectSide **ret, Error *e, size_t n, ...) {
        ImageReader *readers[8];
        va_list ap;
        va_start(ap, n);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = td_path(va_arg(ap, const char *));
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || image_reader_new_fd(fd, &readers[i]) < 0) {
                        perror(p);
                        exit(1);
                }
        }
        va_end(ap);
        return direct_side_open(readers, n, ret, e);
}

/* Opens and scans. */
static inline int td_scan(Manifest **ret, Error *e, const char *image) {
        _cleanup_direct_side_ DirectSide *s = NULL;
        if (td_open(&s, e, 1, image) < 0)
                return -1;
        return direct_side_scan(s, NULL, ret, e);
}

static inline Entry *td_entry(const Manifest *m, const char *tree, const char *path) {
        const Tree *t = manifest_find_tree(m, tree);
        for (size_t i = 0; t && i < t->n_entries; i++)
                if (strcmp(t->entries[i].path, path) == 0)
                        return &t->entries[i];
        return NULL;
}

static inline const Xattr *td_xattr(const Entry *e, const char *name) {
        for (size_t i = 0; e && i < e->n_xattrs; i++)
                if (strcmp(e->xattrs[i].name, name) == 0)
                        return &e->xattrs[i];
        return NULL;
}

/* A ContentSink into a fixed buffer. */
typedef struct TdBuffer {
        char *data;
        size_t *len;
        size_t max;
} TdBuffer;

static inline int td_collect(void *userdata, const void *data, size_t len) {
        TdBuffer *b = userdata;
        if (len > b->max - *b->len)
                return -EFBIG;
        memcpy(b->data + *b->len, data, len);
        *b->len += len;
        return 0;
}

/* Manifests built in memory, for the unit tests of every layer that takes
 * one (the wire, the comparer, the filters, the tree hashes). */
#pragma once

#include "common/test-util.h"
#include "manifest/manifest.h"

static inline Filesystem *fs_make(Manifest *m, const char *device, const char *type, const char *uuid, const char *mountpoint) {
        Filesystem *f = must(manifest_add_filesystem(m));

        f->device = must(strdup(device));
        f->type = must(strdup(type));
        f->uuid = uuid ? must(strdup(uuid)) : NULL;
        f->mountpoint = mountpoint ? must(strdup(mountpoint)) : NULL;
        f->size = 1 << 30;
        f->scanned = true;
        return f;
}

static inline Entry *entry_make(Tree *t, const char *path, EntryKind kind) {
        Entry *e = must(tree_add_entry(t));

        e->path = must(strdup(path));
        e->kind = kind;
        e->mode = kind == ENTRY_KIND_DIRECTORY ? 0755 : 0644;
        e->size = kind == ENTRY_KIND_DIRECTORY ? 4096 : 10;
        e->mtime_ns = 1000;
        e->atime_ns = 2000;
        e->ctime_ns = 3000;
        e->nlink = kind == ENTRY_KIND_DIRECTORY ? 2 : 1;
        e->ino = 12;
        e->dev = 2049;
        e->blocks = 8;
        e->blksize = 4096;
        if (kind == ENTRY_KIND_SYMLINK)
                e->target = must(strdup("/usr/bin/dash"));
        if (kind == ENTRY_KIND_FILE) {
                e->has_sha256 = true;
                memset(e->sha256, 0xab, sizeof(e->sha256));
        }
        return e;
}

static inline void entry_add_xattr(Entry *e, const char *name, const char *value) {
        e->xattrs = must(reallocarray(e->xattrs, e->n_xattrs + 1, sizeof(Xattr)));
        e->xattrs[e->n_xattrs++] = (Xattr) {
                .name = must(strdup(name)),
                .value = (uint8_t *) must(strdup(value)),
                .len = strlen(value),
        };
}

/* One inspected OS with one entry of each interesting kind. */
static inline Manifest *base_manifest(void) {
        Manifest *m = must(manifest_new());
        Tree *t;

        m->inspected = true;
        fs_make(m, "/dev/sda1", "ext4", "1111", "/");
        t = must(manifest_add_tree(m, "/"));
        entry_make(t, "/", ENTRY_KIND_DIRECTORY);
        entry_make(t, "/etc", ENTRY_KIND_DIRECTORY);
        entry_add_xattr(entry_make(t, "/etc/passwd", ENTRY_KIND_FILE), "security.selinux", "etc_t");
        entry_make(t, "/bin", ENTRY_KIND_DIRECTORY);
        entry_make(t, "/bin/sh", ENTRY_KIND_SYMLINK);
        entry_make(t, "/dev", ENTRY_KIND_DIRECTORY);
        entry_make(t, "/dev/null", ENTRY_KIND_CHAR)->rdev = 0x103;
        entry_make(t, "/run", ENTRY_KIND_DIRECTORY);
        entry_make(t, "/run/initctl", ENTRY_KIND_FIFO);
        manifest_sort(m);
        return m;
}

static inline Entry *entry_find(Manifest *m, const char *path) {
        for (size_t i = 0; i < m->n_trees; i++)
                for (size_t j = 0; j < m->trees[i].n_entries; j++)
                        if (strcmp(m->trees[i].entries[j].path, path) == 0)
                                return &m->trees[i].entries[j];
        fprintf(stderr, "no entry %s\n", path);
        exit(1);
}

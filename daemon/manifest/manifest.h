/* A manifest: everything the scanner learned about one side of a
 * comparison (one guest, one or more disks). It is plain data so that the
 * comparer can be tested on manifests built in memory, and so that a later
 * store can persist it. */
#pragma once

#include "common/names.h"
#include "common/util.h"

typedef struct Xattr {
        char *name;
        uint8_t *value;
        size_t len;
} Xattr;

typedef struct Entry {
        char *path;      /* bytes; "/" for the tree's root, else "/a/b" */
        uint32_t fs;     /* index into Manifest.filesystems */
        EntryKind kind;
        uint32_t mode;   /* permission bits with suid/sgid/sticky (07777) */
        uint32_t uid, gid;
        uint64_t size;
        int64_t atime_ns, mtime_ns, ctime_ns;
        uint64_t nlink, ino, dev, rdev, blocks, blksize;
        char *target;    /* symlink target, bytes */
        Xattr *xattrs;   /* sorted by name */
        size_t n_xattrs;
        bool has_sha256;
        uint8_t sha256[32];
} Entry;

typedef struct Filesystem {
        char *device;     /* as libguestfs names it: /dev/sda1, /dev/vg/lv */
        char *type;       /* ext4, xfs, ... ; "unknown" when unrecognised */
        char *uuid;       /* may be NULL */
        char *label;      /* may be NULL */
        uint64_t size;    /* bytes of the underlying block device */
        char *mountpoint; /* where the inspected OS mounts it, else NULL */
        bool scanned;     /* its files were listed */
        char *error;      /* why it could not be scanned, or NULL */
} Filesystem;

/* The files of one tree: the whole inspected OS (key "/"), or one
 * filesystem scanned on its own (key = its device). Entries are sorted by
 * path_compare(). */
typedef struct Tree {
        char *key;
        Entry *entries;
        size_t n_entries;
} Tree;

typedef struct Manifest {
        bool inspected;   /* an OS was found and its mount points used */
        char *os_product; /* product name of the inspected OS, or NULL */
        Filesystem *filesystems;
        size_t n_filesystems;
        Tree *trees;      /* sorted by key (strcmp) */
        size_t n_trees;
} Manifest;

Manifest *manifest_new(void);
Manifest *manifest_free(Manifest *m);
static inline void manifest_freep(Manifest **m) {
        manifest_free(*m);
}
#define _cleanup_manifest_ _cleanup_(manifest_freep)

void entry_done(Entry *e);
void filesystem_done(Filesystem *f);
/* Deep copies into zeroed structs; -ENOMEM (dst then holds what was
 * copied, for entry_done()/manifest_free()). */
int entry_copy(Entry *dst, const Entry *src);
/* The OS and the filesystems of m, without its trees. */
Manifest *manifest_copy_head(const Manifest *m);

/* Appends zeroed slots and returns a pointer to the new one. */
Filesystem *manifest_add_filesystem(Manifest *m);
Tree *manifest_add_tree(Manifest *m, const char *key);
Entry *tree_add_entry(Tree *t);

/* Sorts trees by key and each tree's entries by path. */
void manifest_sort(Manifest *m);
const Tree *manifest_find_tree(const Manifest *m, const char *key);
/* The entry at path in a sorted tree (binary search), or NULL. */
Entry *tree_find_entry(const Tree *t, const char *path);

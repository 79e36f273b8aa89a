/* The comparer: two manifests in, the list of differences out. Pure
 * computation, no I/O, so it is unit-tested on manifests built in memory. */
#pragma once

#include "filters.h"
#include "manifest.h"

typedef enum ChangeKind {
        CHANGE_ADDED,
        CHANGE_REMOVED,
        CHANGE_MODIFIED, /* content differs: size, sha256, symlink target, rdev */
        CHANGE_METADATA, /* content equal, metadata differs */
        CHANGE_TYPE,     /* the kind of entry differs */
        _CHANGE_KIND_MAX,
} ChangeKind;

const char *change_kind_to_string(ChangeKind k);

/* What differs, as a bit set; names in JSON are the strings of
 * change_field_to_string(). */
typedef enum ChangeField {
        FIELD_CONTENT = 1u << 0,
        FIELD_SIZE = 1u << 1,
        FIELD_TARGET = 1u << 2,
        FIELD_RDEV = 1u << 3,
        FIELD_MODE = 1u << 4,
        FIELD_UID = 1u << 5,
        FIELD_GID = 1u << 6,
        FIELD_MTIME = 1u << 7,
        FIELD_XATTRS = 1u << 8,
        FIELD_ATIME = 1u << 9,
        FIELD_CTIME = 1u << 10,
        FIELD_NLINK = 1u << 11,
        FIELD_INO = 1u << 12,
        FIELD_DEV = 1u << 13,
        FIELD_BLOCKS = 1u << 14,
        FIELD_BLKSIZE = 1u << 15,
        _FIELD_COUNT = 16,
} ChangeField;

const char *change_field_to_string(unsigned bit_index);

typedef struct CompareOptions {
        bool atime;       /* --atime */
        bool ctime;       /* --times */
        bool dir_times;   /* --dir-times: mtime (and, with the above, atime/ctime) of directories */
        bool dir_links;   /* --dir-links: nlink of directories */
        bool extra_stats; /* --extra-stats: ino, dev, blocks, blksize, nlink */
        Filters filters;  /* --path, --include, --exclude, --ignore */
} CompareOptions;

static inline void compare_options_done(CompareOptions *o) {
        filters_done(&o->filters);
}

typedef enum FsChangeKind {
        FS_UNCHANGED,
        FS_ADDED,
        FS_REMOVED,
        FS_CHANGED,
        _FS_CHANGE_KIND_MAX,
} FsChangeKind;

const char *fs_change_kind_to_string(FsChangeKind k);

typedef enum FsField {
        FS_FIELD_TYPE = 1u << 0,
        FS_FIELD_UUID = 1u << 1,
        FS_FIELD_LABEL = 1u << 2,
        FS_FIELD_SIZE = 1u << 3,
        _FS_FIELD_COUNT = 4,
} FsField;

const char *fs_field_to_string(unsigned bit_index);

typedef struct FsChange {
        FsChangeKind change;
        unsigned fields;        /* FsField bits, for FS_CHANGED */
        const Filesystem *a, *b; /* NULL on the side where it is absent */
        bool by_mountpoint;     /* matched by mount point (else by device) */
} FsChange;

typedef struct Change {
        ChangeKind change;
        unsigned fields;     /* ChangeField bits */
        const char *tree;    /* key of the tree it belongs to */
        const Entry *a, *b;  /* NULL on the side where it is absent */
} Change;

typedef struct DiffResult {
        const Manifest *a, *b; /* borrowed; must outlive the result */
        FsChange *filesystems;
        size_t n_filesystems;
        Change *changes; /* in tree order, then path order */
        size_t n_changes;
        size_t counts[_CHANGE_KIND_MAX];
        size_t fs_counts[_FS_CHANGE_KIND_MAX];
} DiffResult;

int compare_manifests(const Manifest *a, const Manifest *b, const CompareOptions *opts, DiffResult **ret);
DiffResult *diff_result_free(DiffResult *r);
static inline void diff_result_freep(DiffResult **r) {
        diff_result_free(*r);
}
#define _cleanup_diff_result_ _cleanup_(diff_result_freep)

/* True when anything at all differs (the exit status 1 of diff(1)). */
bool diff_result_differs(const DiffResult *r);

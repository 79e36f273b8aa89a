/* The comparer: two manifests in, the list of differences out. A merge
 * join over two ManifestSources (manifest/manifest-stream.h), one tree's
 * entries at a time in path order: from the store (store_source()), or
 * from manifests in memory (compare_manifests(), which the unit tests
 * use), through the same code. Memory grows with the differences, not with
 * the manifests. */
#pragma once

#include "common/filters.h"
#include "common/names.h"
#include "manifest/manifest-stream.h"

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
        const Entry *a, *b;  /* NULL on the side where it is absent; owned by the result */
} Change;

typedef struct ChangeSink ChangeSink;

typedef struct DiffResult {
        const Manifest *a, *b; /* the sides' heads (filesystems); borrowed, must outlive the result */
        const ChangeSink *sink; /* set while compare_sources_to() streams: changes go there */
        FsChange *filesystems;
        size_t n_filesystems;
        Change *changes; /* in tree order, then path order */
        size_t n_changes;
        size_t counts[_CHANGE_KIND_MAX];
        size_t fs_counts[_FS_CHANGE_KIND_MAX];
} DiffResult;

/* Where compare_sources_to() sends what it finds as it finds it, rather
 * than keeping it in the result: the filesystems once, before any change,
 * then each change, whose entries live only for the call. Either returns
 * a negative errno to stop the comparison. The result then has its
 * filesystems and counts but no changes. */
struct ChangeSink {
        int (*filesystems)(void *userdata, const DiffResult *r);
        int (*change)(void *userdata, const DiffResult *r, const Change *c);
        void *userdata;
};

/* Negative errno: -EINVAL for trees or entries out of order, -EIO when a
 * cursor failed (e says why), -ENOMEM. The sources' heads must outlive the
 * result (Change.tree points into them). */
int compare_sources(ManifestSource *a, ManifestSource *b, const CompareOptions *opts, DiffResult **ret,
                    Error *e);
int compare_sources_to(ManifestSource *a, ManifestSource *b, const CompareOptions *opts, const ChangeSink *sink,
                       DiffResult **ret, Error *e);
int compare_manifests(const Manifest *a, const Manifest *b, const CompareOptions *opts, DiffResult **ret);
/* Frees a change's entries (a result's change taken out of it). */
void change_done(Change *c);
DiffResult *diff_result_free(DiffResult *r);
static inline void diff_result_freep(DiffResult **r) {
        diff_result_free(*r);
}
#define _cleanup_diff_result_ _cleanup_(diff_result_freep)

/* True when anything at all differs (the exit status 1 of diff(1)). */
bool diff_result_differs(const DiffResult *r);

/* What a caller asked to leave out of a comparison: path scopes, include
 * and exclude globs, and fields (or single xattrs) to ignore. Applied by the
 * comparer, so the summary and the exit status agree with what is shown.
 * Also linked into the client, which checks the same syntax before it
 * submits anything. */
#pragma once

#include "common/input-limits.h"
#include "common/util.h"

typedef struct Filters {
        char **paths;        /* --path: only these paths and what is under them */
        char **include;      /* --include GLOB: only matching entries (or under one) */
        char **exclude;      /* --exclude GLOB: drop matching entries and what is under them */
        unsigned ignore;     /* ChangeField bits never reported */
        char **ignore_xattrs; /* xattr name globs left out of the xattr comparison */
} Filters;

void filters_done(Filters *f);
bool filters_empty(const Filters *f);

/* Adds one --ignore item: a metadata field name (mode, uid, gid, mtime,
 * xattrs, atime, ctime, nlink, ino, dev, blocks, blksize) or
 * "xattr:GLOB". Content fields cannot be ignored. Returns -EINVAL with a
 * message in *why (static) for anything else. */
int filters_add_ignore(Filters *f, const char *item, const char **why);

/* Adds a --path scope: an absolute path, normalised (no trailing '/', no
 * empty, "." or ".." components). -EINVAL with *why otherwise. */
int filters_add_path(Filters *f, const char *path, const char **why);

/* Adds an --include/--exclude glob (fnmatch(3) syntax; a pattern with a
 * '/' matches the whole path, one without matches any single component).
 * -EINVAL with *why for an empty or over-long pattern. */
int filters_add_glob(Filters *f, bool include, const char *glob, const char **why);

/* Whether an entry at PATH ("/" is a tree's root) is kept. */
bool filters_keep_path(const Filters *f, const char *path);

/* Whether an xattr of this name takes part in the comparison. */
bool filters_keep_xattr(const Filters *f, const char *name);

/* Limits on what a caller may pass. */
#define FILTERS_MAX_ITEMS MAX_FILTER_ITEMS
#define FILTERS_MAX_PATTERN MAX_FILTER_ITEM_LENGTH

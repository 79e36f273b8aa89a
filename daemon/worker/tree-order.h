/* The appliance's file list in path order, in bounded memory.
 *
 * find0 lists a tree in find's order: each directory before what it holds,
 * its subtree in one run, siblings in readdir order; the bulk checksum
 * listing (checksums_out) names the regular files the same way. Both are
 * turned into files of records; tree_order_walk() reads them one
 * directory at a time and hands out each directory's children sorted by
 * name, with their hashes, depth first: path_compare() order, as the
 * manifest stream wants it (and as the direct engine walks).
 *
 * What is held at once: the children of the directories on the current
 * path (their names, where their subtrees lie in the file) and one chunk
 * of entries per such directory; never the whole list. The files may be
 * anywhere (the worker keeps them in its temporary directory). Both
 * listings come from the guest: anything out of find's order is refused. */
#pragma once

#include "common/errors.h"
#include "manifest/manifest.h"

/* Entries a stat call is asked for at once. */
#define TREE_ORDER_CHUNK 1024

/* find0's output (NUL-separated names relative to the tree's root,
 * "etc/passwd"; empty ones skipped) as records, into an empty file.
 * ScanFailed for a name longer than the walk takes. */
int tree_records_from_names(int names_fd, int records_fd, uint64_t *ret_count, Error *e);

/* A SHA-256 listing (tree-hash.h: "HEX  ./etc/passwd" lines) as records,
 * into an empty file; lines naming no file (an empty filesystem's "-")
 * skipped. ScanFailed for a malformed line. */
int tree_records_from_sums(int sums_fd, int records_fd, uint64_t *ret_count, Error *e);

typedef struct TreeOrderOps {
        /* n children of dir ("/" or "/a/b"), whose entries have their path
         * and, when the listing had it, their SHA-256 set: fill in the
         * rest (kind, stat fields, xattrs sorted, link target). names[i]
         * is entries[i]'s last component; names[n] is NULL. */
        int (*stat)(void *userdata, const char *dir, char **names, Entry *entries, size_t n, Error *e);
        /* The next entry in path order, borrowed for the call. */
        int (*emit)(void *userdata, Entry *entry, Error *e);
        void *userdata;
} TreeOrderOps;

/* Every name of names_fd (records) below the root, in path order, through
 * ops (the root itself is the caller's), each regular file with its hash
 * from sums_fd (records; -1 for none). The two need not list siblings in
 * the same order, only each subtree in one run, as find does; a checksum
 * line that fits no file is counted in *ret_unmatched and its file left
 * without a hash. ScanFailed when the names are not in find's order: a
 * name outside its directory, a child listed twice, names below what stat
 * says is not a directory. */
int tree_order_walk(int names_fd, int sums_fd, const TreeOrderOps *ops, uint64_t *ret_unmatched, Error *e);

/* A manifest as a stream, so that no stage holds a whole one: its head (the
 * OS, the filesystems), then each tree's key and its entries in
 * path_compare() order, then its end.
 *
 * A ManifestSink takes a manifest as it is made or decoded: the worker's
 * encoder (manifest-wire.h), the store's writer (store/store.h), or an
 * in-memory builder (the unit tests). A ManifestSource gives one back as
 * ordered cursors, one tree at a time: from the store, or from a manifest
 * in memory; the comparer merges two of them.
 *
 * What a sink is handed is borrowed for the call; what a cursor returns
 * lives until its next call. */
#pragma once

#include "common/errors.h"
#include "manifest/manifest.h"

typedef struct ManifestSink {
        /* Filesystems, OS; head->trees is empty. */
        int (*head)(void *userdata, const Manifest *head, Error *e);
        /* Trees come in key order (strcmp), each once. */
        int (*tree)(void *userdata, const char *key, Error *e);
        /* The current tree's next entries, in path order. */
        int (*entries)(void *userdata, const Entry *entries, size_t n, Error *e);
        int (*end)(void *userdata, Error *e);
        void *userdata;
} ManifestSink;

/* Plays a manifest in memory (sorted) into a sink. */
int manifest_play(const Manifest *m, const ManifestSink *sink, Error *e);

/* A sink that builds a manifest in memory (deep copies). */
typedef struct ManifestBuilder {
        Manifest *manifest;
        Tree *tree;
        bool ended;
} ManifestBuilder;

ManifestSink manifest_builder_sink(ManifestBuilder *b);
/* The manifest once the stream ended, else NULL. */
Manifest *manifest_builder_take(ManifestBuilder *b);
void manifest_builder_done(ManifestBuilder *b);

/* One tree's entries in order. next() returns 1 and the next entry (valid
 * until the following call), 0 at the end, -1 with e set. */
typedef struct EntryCursor EntryCursor;
struct EntryCursor {
        int (*next)(EntryCursor *c, const Entry **ret, Error *e);
        void (*free)(EntryCursor *c);
};

static inline int entry_cursor_next(EntryCursor *c, const Entry **ret, Error *e) {
        return c->next(c, ret, e);
}
EntryCursor *entry_cursor_free(EntryCursor *c);
static inline void entry_cursor_freep(EntryCursor **c) {
        entry_cursor_free(*c);
}
#define _cleanup_entry_cursor_ _cleanup_(entry_cursor_freep)

/* A manifest to read: head holds the OS, the filesystems and the trees'
 * keys in order (their entries need not be there); open_tree() gives the
 * entries of head->trees[i]. */
typedef struct ManifestSource ManifestSource;
struct ManifestSource {
        const Manifest *head;
        int (*open_tree)(ManifestSource *s, size_t tree, EntryCursor **ret, Error *e);
        void *userdata;
};

static inline int manifest_source_open_tree(ManifestSource *s, size_t tree, EntryCursor **ret, Error *e) {
        return s->open_tree(s, tree, ret, e);
}

/* A manifest in memory (sorted, outliving the source) as a source. */
ManifestSource manifest_memory_source(const Manifest *m);

/* Everything a source holds into a sink, batch by batch. */
int manifest_source_play(ManifestSource *s, const ManifestSink *sink, Error *e);

#include "manifest/manifest-stream.h"

/* Entries a source plays into a sink at a time. */
#define PLAY_BATCH 512

EntryCursor *entry_cursor_free(EntryCursor *c) {
        if (c)
                c->free(c);
        return NULL;
}

int manifest_play(const Manifest *m, const ManifestSink *sink, Error *e) {
        ManifestSource s = manifest_memory_source(m);
        return manifest_source_play(&s, sink, e);
}

/* ---- the builder ---- */

static int builder_head(void *userdata, const Manifest *head, Error *e) {
        ManifestBuilder *b = userdata;
        if (b->manifest)
                return error_set(e, ERR_INTERNAL, "a manifest with two heads");
        b->manifest = manifest_copy_head(head);
        return b->manifest ? 0 : error_set(e, ERR_INTERNAL, "out of memory");
}

static int builder_tree(void *userdata, const char *key, Error *e) {
        ManifestBuilder *b = userdata;
        if (!b->manifest)
                return error_set(e, ERR_INTERNAL, "a tree before the manifest's head");
        b->tree = manifest_add_tree(b->manifest, key);
        return b->tree ? 0 : error_set(e, ERR_INTERNAL, "out of memory");
}

static int builder_entries(void *userdata, const Entry *entries, size_t n, Error *e) {
        ManifestBuilder *b = userdata;
        if (!b->tree)
                return error_set(e, ERR_INTERNAL, "entries outside a tree");
        for (size_t i = 0; i < n; i++) {
                Entry *en = tree_add_entry(b->tree);
                if (!en || entry_copy(en, &entries[i]) < 0)
                        return error_set(e, ERR_INTERNAL, "out of memory");
        }
        return 0;
}

static int builder_end(void *userdata, Error *e) {
        ManifestBuilder *b = userdata;
        if (!b->manifest)
                return error_set(e, ERR_INTERNAL, "a manifest without a head");
        b->ended = true;
        return 0;
}

ManifestSink manifest_builder_sink(ManifestBuilder *b) {
        return (ManifestSink){.head = builder_head, .tree = builder_tree, .entries = builder_entries,
                              .end = builder_end, .userdata = b};
}

Manifest *manifest_builder_take(ManifestBuilder *b) {
        if (!b->ended)
                return NULL;
        b->tree = NULL;
        return TAKE_PTR(b->manifest);
}

void manifest_builder_done(ManifestBuilder *b) {
        manifest_free(b->manifest);
        *b = (ManifestBuilder){};
}

/* ---- a manifest in memory as a source ---- */

typedef struct MemoryCursor {
        EntryCursor cursor;
        const Tree *tree;
        size_t next;
} MemoryCursor;

static int memory_next(EntryCursor *c, const Entry **ret, Error *e _unused_) {
        MemoryCursor *m = (MemoryCursor *) c;
        if (m->next >= m->tree->n_entries)
                return 0;
        *ret = &m->tree->entries[m->next++];
        return 1;
}

static void memory_free(EntryCursor *c) {
        free(c);
}

static int memory_open_tree(ManifestSource *s, size_t tree, EntryCursor **ret, Error *e) {
        if (tree >= s->head->n_trees)
                return error_set(e, ERR_INTERNAL, "no tree %zu", tree);
        MemoryCursor *m = calloc(1, sizeof(*m));
        if (!m)
                return error_set(e, ERR_INTERNAL, "out of memory");
        *m = (MemoryCursor){.cursor = {.next = memory_next, .free = memory_free}, .tree = &s->head->trees[tree]};
        *ret = &m->cursor;
        return 0;
}

ManifestSource manifest_memory_source(const Manifest *m) {
        return (ManifestSource){.head = m, .open_tree = memory_open_tree};
}

/* ---- a source into a sink ---- */

static int flush(const ManifestSink *sink, Entry *batch, size_t *n, Error *e) {
        int r = *n ? sink->entries(sink->userdata, batch, *n, e) : 0;
        for (size_t i = 0; i < *n; i++)
                entry_done(&batch[i]);
        *n = 0;
        return r;
}

int manifest_source_play(ManifestSource *s, const ManifestSink *sink, Error *e) {
        const Manifest *m = s->head;
        Manifest head = *m;
        head.trees = NULL;
        head.n_trees = 0;
        if (sink->head(sink->userdata, &head, e) < 0)
                return -1;

        _cleanup_free_ Entry *batch = calloc(PLAY_BATCH, sizeof(Entry));
        if (!batch)
                return error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t t = 0; t < m->n_trees; t++) {
                _cleanup_entry_cursor_ EntryCursor *c = NULL;
                size_t n = 0;
                int r;
                if (sink->tree(sink->userdata, m->trees[t].key, e) < 0 || manifest_source_open_tree(s, t, &c, e) < 0)
                        return -1;
                for (;;) {
                        const Entry *en;
                        r = entry_cursor_next(c, &en, e);
                        if (r <= 0)
                                break;
                        /* The cursor's entry lives until its next step. */
                        if (entry_copy(&batch[n++], en) < 0) {
                                r = error_set(e, ERR_INTERNAL, "out of memory");
                                break;
                        }
                        if (n == PLAY_BATCH && flush(sink, batch, &n, e) < 0) {
                                r = -1;
                                break;
                        }
                }
                if (r < 0) {
                        for (size_t i = 0; i < n; i++)
                                entry_done(&batch[i]);
                        return -1;
                }
                if (flush(sink, batch, &n, e) < 0)
                        return -1;
        }
        return sink->end(sink->userdata, e);
}

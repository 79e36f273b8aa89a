/* Comparisons of manifests built in memory, shared by the comparer, filter
 * and content tests. */
#pragma once

#include "compare/comparer.h"
#include "manifest/test-manifest-util.h"

static inline DiffResult *diff(Manifest *a, Manifest *b, const CompareOptions *o) {
        DiffResult *r = NULL;

        manifest_sort(a);
        manifest_sort(b);
        if (compare_manifests(a, b, o, &r) < 0) {
                fprintf(stderr, "compare_manifests failed\n");
                exit(1);
        }
        return r;
}

/* Changes exactly one entry of b and checks the single resulting change. */
static inline bool one_change(Manifest *a, Manifest *b, const CompareOptions *o, const char *path, ChangeKind kind, unsigned fields) {
        _cleanup_diff_result_ DiffResult *r = diff(a, b, o);

        if (r->n_changes != 1) {
                fprintf(stderr, "%s: %zu changes\n", path, r->n_changes);
                return false;
        }
        const Change *c = &r->changes[0];
        const Entry *e = c->b ?: c->a;
        if (strcmp(e->path, path) != 0 || c->change != kind || c->fields != fields || r->counts[kind] != 1) {
                fprintf(stderr, "%s: got %s %s 0x%x\n", path, e->path, change_kind_to_string(c->change), c->fields);
                return false;
        }
        return true;
}

static inline bool no_change(Manifest *a, Manifest *b, const CompareOptions *o) {
        _cleanup_diff_result_ DiffResult *r = diff(a, b, o);
        return r->n_changes == 0 && !diff_result_differs(r);
}


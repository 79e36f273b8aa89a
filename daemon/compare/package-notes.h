/* The package stage of a comparison: the package diff of the two sides,
 * the owner and cause of every change (packages/explain.h), the --cause
 * filter, and all of it in the result document. Pure computation over the
 * manifests and package sets; the job owns both. */
#pragma once

#include <json-c/json.h>

#include "compare/comparer.h"
#include "packages/explain.h"

typedef struct PackageOptions {
        bool wanted;     /* Compare's "packages": read the databases, explain each change */
        unsigned causes; /* Compare's "causes": (1 << Cause) bits to keep; 0 keeps every change */
} PackageOptions;

static inline bool package_options_wanted(const PackageOptions *o) {
        return o->wanted || o->causes;
}

typedef struct PackageNotes {
        PackageDiff *diff;
        Explanation *explanations; /* one per change of the (filtered) result */
        size_t n;
        size_t cause_counts[_CAUSE_MAX];
} PackageNotes;

PackageNotes *package_notes_free(PackageNotes *n);
static inline void package_notes_freep(PackageNotes **n) {
        package_notes_free(*n);
}
#define _cleanup_package_notes_ _cleanup_(package_notes_freep)

/* Explains each change of r (a or b NULL: that side has no package set),
 * then keeps only the changes whose cause o->causes names, recounting r's
 * summary, so that the exit status and the content stage see only those.
 * Paths of filesystems scanned on their own (not the OS's tree) are
 * unowned. -ENOMEM. */
int package_notes_compute(DiffResult *r, const PackageSet *a, const PackageSet *b, const PackageOptions *o,
                          PackageNotes **ret);

/* Adds "packages" (the package changes), each change's "cause", "owner"
 * and "mismatch", and the summary's "packages" and "causes" counts to a
 * result made by diff_result_to_json() from the same r. */
int package_notes_to_json(json_object *root, const PackageNotes *n);
/* The same in two parts, for a document written as it goes: each change's
 * explanation (changes holds the result's changes from first on), and the
 * package list and counts. */
int package_notes_explain_to_json(json_object *changes, const PackageNotes *n, size_t first);
int package_notes_rest_to_json(json_object *root, const PackageNotes *n);

/* A side's package database as the result describes it ("format",
 * "count", "error"). */
json_object *package_set_summary_to_json(const PackageSet *ps);

/* "tampered,config" into (1 << Cause) bits; -EINVAL naming the bad item. */
int causes_parse(char *const *names, unsigned *ret, const char **ret_bad);

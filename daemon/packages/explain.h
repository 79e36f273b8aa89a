/* The package diff of two sides and the cause of each changed path. Pure
 * computation over two package sets and the two manifests' entries, so it
 * is unit-tested on sets built in memory.
 *
 * Causes, decided in this order:
 *   unowned   no package owns the path on either side;
 *   tampered  on a side, an owned path does not match what its package
 *             recorded (content digest, kind, symlink target, or missing),
 *             or it changed while every package owning it stayed the same:
 *             an offline rpm -V or debsums of both sides;
 *   config    the same for a package's configuration file;
 *   package   an owning package was added, removed, upgraded or
 *             downgraded (or rebuilt: same version, other digests), and
 *             the path matches what its packages recorded. */
#pragma once

#include "packages/packages.h"

typedef struct PackageChange {
        PackageChangeKind change;
        const Package *a, *b; /* NULL on the side where it is absent */
} PackageChange;

typedef struct PackageDiff {
        const PackageSet *a, *b; /* borrowed; must outlive the diff */
        /* Both sides' packages are known (no database at all counts as
         * known: no packages); else there is no package diff and no cause. */
        bool usable;
        PackageChange *changes; /* by name, then arch */
        size_t n_changes;
        size_t counts[_PACKAGE_CHANGE_MAX];
        bool *changed_a, *changed_b; /* per package of each side: part of a change */
} PackageDiff;

/* a or b may be NULL: no database on that side. */
int package_diff(const PackageSet *a, const PackageSet *b, PackageDiff **ret);
PackageDiff *package_diff_free(PackageDiff *d);
static inline void package_diff_freep(PackageDiff **d) {
        package_diff_free(*d);
}
#define _cleanup_package_diff_ _cleanup_(package_diff_freep)

typedef struct Explanation {
        bool known;        /* false: a side's packages are unknown, no cause */
        Cause cause;
        const OwnedFile *owned_a, *owned_b; /* the path's records on each side */
        size_t n_owned_a, n_owned_b;
        bool mismatch_a, mismatch_b; /* that side's file fails verification */
} Explanation;

/* Why path changed from entry a to entry b (either NULL where absent). */
void package_explain(const PackageDiff *d, const char *path, const Entry *a, const Entry *b, Explanation *ret);

/* The distinct names of the path's owning packages on both sides, sorted,
 * into names (at most max; returns how many there are in all). */
size_t explanation_owners(const PackageDiff *d, const Explanation *x, const char **names, size_t max);

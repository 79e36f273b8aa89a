#include "packages/explain.h"

PackageDiff *package_diff_free(PackageDiff *d) {
        if (!d)
                return NULL;
        free(d->changes);
        free(d->changed_a);
        free(d->changed_b);
        free(d);
        return NULL;
}

static bool set_known(const PackageSet *s) {
        return !s || s->error == ERR_OK;
}

static size_t set_count(const PackageSet *s) {
        return s ? s->n_packages : 0;
}

static int compare_name_arch(const Package *a, const Package *b) {
        int c = strcmp(a->name, b->name);
        return c ? c : strcmp(a->arch, b->arch);
}

static int add_change(PackageDiff *d, PackageChangeKind k, const Package *a, const Package *b) {
        PackageChange *c = reallocarray(d->changes, d->n_changes + 1, sizeof(PackageChange));
        if (!c)
                return -ENOMEM;
        d->changes = c;
        c[d->n_changes++] = (PackageChange){.change = k, .a = a, .b = b};
        d->counts[k]++;
        if (a)
                d->changed_a[a - d->a->packages] = true;
        if (b)
                d->changed_b[b - d->b->packages] = true;
        return 0;
}

/* One (name, arch) with i packages on side A and j on side B (more than one
 * when several versions are installed at once: kernels). Equal versions
 * pair up; one left on each side is an upgrade or a downgrade; anything
 * else is added or removed. */
static int diff_group(PackageDiff *d, PackageFormat f, const Package *a, size_t na, const Package *b, size_t nb) {
        bool used_a[na ? na : 1], used_b[nb ? nb : 1];
        memset(used_a, 0, sizeof used_a);
        memset(used_b, 0, sizeof used_b);
        size_t left_a = na, left_b = nb;
        for (size_t i = 0; i < na; i++)
                for (size_t j = 0; j < nb; j++)
                        if (!used_b[j] && package_version_compare(f, a[i].version, b[j].version) == 0) {
                                used_a[i] = used_b[j] = true;
                                left_a--;
                                left_b--;
                                break;
                        }
        if (left_a == 1 && left_b == 1) {
                size_t i = 0, j = 0;
                while (used_a[i])
                        i++;
                while (used_b[j])
                        j++;
                int c = package_version_compare(f, a[i].version, b[j].version);
                return add_change(d, c < 0 ? PACKAGE_UPGRADED : PACKAGE_DOWNGRADED, &a[i], &b[j]);
        }
        for (size_t i = 0; i < na; i++)
                if (!used_a[i] && add_change(d, PACKAGE_REMOVED, &a[i], NULL) < 0)
                        return -ENOMEM;
        for (size_t j = 0; j < nb; j++)
                if (!used_b[j] && add_change(d, PACKAGE_ADDED, NULL, &b[j]) < 0)
                        return -ENOMEM;
        return 0;
}

/* Groups of more than this many versions of one name and arch are refused
 * by the stack arrays above; no real system comes close. */
#define MAX_GROUP 4096

int package_diff(const PackageSet *a, const PackageSet *b, PackageDiff **ret) {
        PackageDiff *d = calloc(1, sizeof(PackageDiff));
        if (!d)
                return -ENOMEM;
        _cleanup_(package_diff_freep) PackageDiff *owned = d;
        static const PackageSet empty = {0};
        d->a = a ? a : &empty;
        d->b = b ? b : &empty;
        d->usable = set_known(a) && set_known(b);
        d->changed_a = calloc(set_count(a) + 1, sizeof(bool));
        d->changed_b = calloc(set_count(b) + 1, sizeof(bool));
        if (!d->changed_a || !d->changed_b)
                return -ENOMEM;
        if (!d->usable) {
                *ret = TAKE_PTR(owned);
                return 0;
        }

        /* Versions of different package managers do not compare: with two
         * formats every package is added or removed. */
        PackageFormat f = d->a->format == PACKAGE_FORMAT_NONE ? d->b->format : d->a->format;
        bool same_format = d->a->format == d->b->format || d->a->format == PACKAGE_FORMAT_NONE ||
                           d->b->format == PACKAGE_FORMAT_NONE;
        const Package *pa = d->a->packages, *pb = d->b->packages;
        size_t na = d->a->n_packages, nb = d->b->n_packages, i = 0, j = 0;
        while (i < na || j < nb) {
                int c = i >= na ? 1 : j >= nb ? -1 : same_format ? compare_name_arch(&pa[i], &pb[j]) : -1;
                size_t gi = 0, gj = 0;
                if (c <= 0)
                        while (i + gi < na && compare_name_arch(&pa[i], &pa[i + gi]) == 0)
                                gi++;
                if (c >= 0)
                        while (j + gj < nb && compare_name_arch(&pb[j], &pb[j + gj]) == 0)
                                gj++;
                if (gi > MAX_GROUP || gj > MAX_GROUP)
                        return -E2BIG;
                if (!same_format && i >= na)
                        gj = 1, gi = 0;
                else if (!same_format)
                        gi = 1, gj = 0;
                if (diff_group(d, f, gi ? pa + i : NULL, gi, gj ? pb + j : NULL, gj) < 0)
                        return -ENOMEM;
                i += gi;
                j += gj;
        }
        *ret = TAKE_PTR(owned);
        return 0;
}

/* A %ghost file, or one rpm did not install, is not shipped by its
 * package: it is explained as if unowned (a ghost log file changes all the
 * time, and rpm -V skips it too). */
static bool shipped(const OwnedFile *r) {
        return !(r->flags & (OWNED_GHOST | OWNED_NOT_INSTALLED));
}

static size_t count_shipped(const OwnedFile *r, size_t n) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += shipped(&r[i]);
        return k;
}

/* Does the entry's content (or kind, or link) fail what one record says? */
static bool record_fails(const OwnedFile *r, const Entry *e) {
        if (!shipped(r))
                return false;
        if (!e)
                return !(r->flags & OWNED_MISSING_OK);
        if (r->algo != DIGEST_NONE) {
                if (e->kind != ENTRY_KIND_FILE)
                        return true;
                if (r->algo == DIGEST_SHA256 && e->has_sha256)
                        return memcmp(r->digest, e->sha256, 32) != 0;
                if (r->has_observed)
                        return memcmp(r->digest, r->observed, digest_algo_size(r->algo)) != 0;
                return false; /* not measured: cannot tell */
        }
        if (r->link)
                return e->kind != ENTRY_KIND_SYMLINK || !streq_ptr(e->target, r->link);
        return false;
}

static bool side_fails(const OwnedFile *r, size_t n, const Entry *e) {
        for (size_t i = 0; i < n; i++)
                if (record_fails(&r[i], e))
                        return true;
        return false;
}

/* A record of the same package (name, arch) on both sides whose digest
 * differs: a package rebuilt without a new version. */
static bool digests_differ(const PackageDiff *d, const Explanation *x) {
        for (size_t i = 0; i < x->n_owned_a; i++)
                for (size_t j = 0; j < x->n_owned_b; j++) {
                        const OwnedFile *ra = &x->owned_a[i], *rb = &x->owned_b[j];
                        if (!shipped(ra) || !shipped(rb) || compare_name_arch(&d->a->packages[ra->package], &d->b->packages[rb->package]) != 0)
                                continue;
                        if (ra->algo != rb->algo ||
                            (ra->algo != DIGEST_NONE && memcmp(ra->digest, rb->digest, digest_algo_size(ra->algo)) != 0))
                                return true;
                }
        return false;
}

void package_explain(const PackageDiff *d, const char *path, const Entry *a, const Entry *b, Explanation *ret) {
        Explanation x = {.known = d->usable};
        if (!x.known) {
                *ret = x;
                return;
        }
        x.owned_a = package_set_find(d->a, path, &x.n_owned_a);
        x.owned_b = package_set_find(d->b, path, &x.n_owned_b);
        if (count_shipped(x.owned_a, x.n_owned_a) == 0 && count_shipped(x.owned_b, x.n_owned_b) == 0) {
                x.cause = CAUSE_UNOWNED;
                *ret = x;
                return;
        }

        bool config = false, package_changed = false;
        for (size_t i = 0; i < x.n_owned_a; i++) {
                if (!shipped(&x.owned_a[i]))
                        continue;
                config |= x.owned_a[i].flags & OWNED_CONFIG;
                package_changed |= d->changed_a[x.owned_a[i].package];
        }
        for (size_t i = 0; i < x.n_owned_b; i++) {
                if (!shipped(&x.owned_b[i]))
                        continue;
                config |= x.owned_b[i].flags & OWNED_CONFIG;
                package_changed |= d->changed_b[x.owned_b[i].package];
        }
        x.mismatch_a = side_fails(x.owned_a, x.n_owned_a, a);
        x.mismatch_b = side_fails(x.owned_b, x.n_owned_b, b);

        if (!x.mismatch_a && !x.mismatch_b && (package_changed || digests_differ(d, &x)))
                x.cause = CAUSE_PACKAGE;
        else
                x.cause = config ? CAUSE_CONFIG : CAUSE_TAMPERED;
        *ret = x;
}

static int compare_str(const void *x, const void *y) {
        return strcmp(*(const char *const *) x, *(const char *const *) y);
}

size_t explanation_owners(const PackageDiff *d, const Explanation *x, const char **names, size_t max) {
        size_t n = 0, total = 0;
        for (int side = 0; side < 2; side++) {
                const OwnedFile *r = side ? x->owned_b : x->owned_a;
                size_t nr = side ? x->n_owned_b : x->n_owned_a;
                const PackageSet *s = side ? d->b : d->a;
                for (size_t i = 0; i < nr; i++) {
                        if (!shipped(&r[i]))
                                continue;
                        const char *name = s->packages[r[i].package].name;
                        bool seen = false;
                        for (size_t k = 0; k < n && !seen; k++)
                                seen = strcmp(names[k], name) == 0;
                        if (seen)
                                continue;
                        total++;
                        if (n < max)
                                names[n++] = name;
                }
        }
        qsort(names, n, sizeof(char *), compare_str);
        return total;
}

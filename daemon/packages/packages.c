#include "packages/packages.h"

#include <fcntl.h>

#include "packages/dpkg.h"
#include "packages/dpkg-version.h"
#include "packages/rpm.h"

static const struct {
        const char *name;
        size_t size;
} digest_algos[_DIGEST_MAX] = {
        [DIGEST_NONE] = {NULL, 0},       [DIGEST_MD5] = {"md5", 16},
        [DIGEST_SHA1] = {"sha1", 20},    [DIGEST_SHA224] = {"sha224", 28},
        [DIGEST_SHA256] = {"sha256", 32}, [DIGEST_SHA384] = {"sha384", 48},
        [DIGEST_SHA512] = {"sha512", 64},
};

const char *digest_algo_to_string(DigestAlgo a) {
        return (unsigned) a < _DIGEST_MAX ? digest_algos[a].name : NULL;
}

size_t digest_algo_size(DigestAlgo a) {
        return (unsigned) a < _DIGEST_MAX ? digest_algos[a].size : 0;
}

PackageSet *package_set_new(void) {
        return calloc(1, sizeof(PackageSet));
}

static void package_done(Package *p) {
        free(p->name);
        free(p->arch);
        free(p->version);
}

static void owned_file_done(OwnedFile *f) {
        free(f->path);
        free(f->digest);
        free(f->link);
}

static void package_set_clear(PackageSet *ps) {
        for (size_t i = 0; i < ps->n_packages; i++)
                package_done(&ps->packages[i]);
        free(ps->packages);
        for (size_t i = 0; i < ps->n_files; i++)
                owned_file_done(&ps->files[i]);
        free(ps->files);
        ps->packages = NULL;
        ps->files = NULL;
        ps->n_packages = ps->n_files = ps->cap_packages = ps->cap_files = 0;
}

PackageSet *package_set_free(PackageSet *ps) {
        if (!ps)
                return NULL;
        package_set_clear(ps);
        free(ps->error_message);
        free(ps);
        return NULL;
}

int package_set_fail(PackageSet *ps, const Error *e) {
        package_set_clear(ps);
        free(ps->error_message);
        ps->error = e->code == ERR_OK ? ERR_INTERNAL : e->code;
        ps->error_message = strdup(e->message);
        return ps->error_message ? 0 : -ENOMEM;
}

/* Makes room for one more zeroed slot, doubling the allocation. */
static void *grow(void *array, size_t n, size_t *cap, size_t size) {
        if (n < *cap) {
                memset((char *) array + n * size, 0, size);
                return array;
        }
        size_t c = *cap ? *cap * 2 : 64;
        void *p = reallocarray(array, c, size);
        if (!p)
                return NULL;
        memset((char *) p + n * size, 0, size);
        *cap = c;
        return p;
}

int package_set_add_package(PackageSet *ps, const char *name, const char *arch, const char *version) {
        Package *p = grow(ps->packages, ps->n_packages, &ps->cap_packages, sizeof(Package));
        if (!p)
                return -ENOMEM;
        ps->packages = p;
        p = &p[ps->n_packages];
        p->name = strdup(name);
        p->arch = strdup(strempty(arch));
        p->version = strdup(version);
        if (!p->name || !p->arch || !p->version) {
                package_done(p);
                *p = (Package){0};
                return -ENOMEM;
        }
        ps->n_packages++;
        return 0;
}

int package_set_add_file(PackageSet *ps, const char *path, uint32_t package, unsigned flags, DigestAlgo algo,
                         const uint8_t *digest, const char *link) {
        OwnedFile *f = grow(ps->files, ps->n_files, &ps->cap_files, sizeof(OwnedFile));
        if (!f)
                return -ENOMEM;
        ps->files = f;
        f = &f[ps->n_files];
        size_t size = digest ? digest_algo_size(algo) : 0;
        f->path = strdup(path);
        f->link = link ? strdup(link) : NULL;
        f->digest = size ? malloc(2 * size) : NULL;
        if (!f->path || (link && !f->link) || (size && !f->digest)) {
                owned_file_done(f);
                *f = (OwnedFile){0};
                return -ENOMEM;
        }
        f->package = package;
        f->flags = (uint8_t) (flags & _OWNED_FLAGS_ALL);
        if (size) {
                f->algo = (uint8_t) algo;
                memcpy(f->digest, digest, size);
                f->observed = f->digest + size;
        }
        ps->n_files++;
        return 0;
}

static int compare_packages(const void *x, const void *y) {
        const Package *a = x, *b = y;
        int c = strcmp(a->name, b->name);
        if (c == 0)
                c = strcmp(a->arch, b->arch);
        if (c == 0)
                c = strcmp(a->version, b->version);
        return c;
}

static int compare_files(const void *x, const void *y) {
        const OwnedFile *a = x, *b = y;
        int c = path_compare(a->path, b->path);
        if (c == 0)
                c = a->package < b->package ? -1 : a->package > b->package;
        return c;
}

/* Two records of one path for one package: a path listed twice, or both
 * spellings of a merged-/usr path. The one that carries a digest stays. */
static void merge_duplicate(OwnedFile *keep, OwnedFile *drop) {
        if (keep->algo == DIGEST_NONE && drop->algo != DIGEST_NONE) {
                OwnedFile t = *keep;
                *keep = *drop;
                *drop = t;
        }
        keep->flags |= drop->flags;
        if (!keep->link)
                keep->link = TAKE_PTR(drop->link);
        owned_file_done(drop);
}

static void dedup_files(PackageSet *ps) {
        size_t k = 0;
        for (size_t i = 0; i < ps->n_files; i++) {
                if (k > 0 && ps->files[k - 1].package == ps->files[i].package &&
                    path_compare(ps->files[k - 1].path, ps->files[i].path) == 0)
                        merge_duplicate(&ps->files[k - 1], &ps->files[i]);
                else
                        ps->files[k++] = ps->files[i];
        }
        ps->n_files = k;
}

typedef struct TaggedPackage {
        Package p;
        uint32_t old; /* its index before sorting */
} TaggedPackage;

static int compare_tagged(const void *x, const void *y) {
        return compare_packages(&((const TaggedPackage *) x)->p, &((const TaggedPackage *) y)->p);
}

int package_set_finish(PackageSet *ps) {
        size_t n = ps->n_packages;
        if (n > UINT32_MAX)
                return -E2BIG;
        /* Sort the packages carrying their old index, then point each
         * file at its package's new place. */
        _cleanup_free_ TaggedPackage *tagged = calloc(n ? n : 1, sizeof(TaggedPackage));
        _cleanup_free_ uint32_t *new_index = calloc(n ? n : 1, sizeof(uint32_t));
        if (!tagged || !new_index)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                tagged[i] = (TaggedPackage){.p = ps->packages[i], .old = (uint32_t) i};
        qsort(tagged, n, sizeof(TaggedPackage), compare_tagged);
        for (size_t i = 0; i < n; i++) {
                ps->packages[i] = tagged[i].p;
                new_index[tagged[i].old] = (uint32_t) i;
        }
        for (size_t i = 0; i < ps->n_files; i++) {
                if (ps->files[i].package >= n)
                        return -EINVAL;
                ps->files[i].package = new_index[ps->files[i].package];
        }
        if (ps->n_files > 1)
                qsort(ps->files, ps->n_files, sizeof(OwnedFile), compare_files);
        dedup_files(ps);
        return 0;
}

const OwnedFile *package_set_find(const PackageSet *ps, const char *path, size_t *ret_n) {
        size_t lo = 0, hi = ps->n_files;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (path_compare(ps->files[mid].path, path) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        size_t end = lo;
        while (end < ps->n_files && path_compare(ps->files[end].path, path) == 0)
                end++;
        *ret_n = end - lo;
        return end > lo ? &ps->files[lo] : NULL;
}

/* Resolves a symlink target found at directory link (an absolute path)
 * into an absolute, normalised path, or NULL when it leaves the tree's
 * vocabulary (too long, ".." above the root). */
static char *resolve_target(const char *link, const char *target) {
        _cleanup_free_ char *joined = NULL;
        if (target[0] == '/')
                joined = strdup(target);
        else {
                const char *slash = strrchr(link, '/');
                size_t dl = (size_t) (slash - link);
                if (asprintf(&joined, "%.*s/%s", (int) dl, link, target) < 0)
                        joined = NULL;
        }
        if (!joined)
                return NULL;
        /* Normalise ".", ".." and repeated slashes. */
        char *out = malloc(strlen(joined) + 2);
        if (!out)
                return NULL;
        size_t o = 0;
        for (char *s = joined; *s;) {
                while (*s == '/')
                        s++;
                size_t l = strcspn(s, "/");
                if (l == 0)
                        break;
                if (l == 1 && s[0] == '.') {
                } else if (l == 2 && s[0] == '.' && s[1] == '.') {
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                } else {
                        out[o++] = '/';
                        memcpy(out + o, s, l);
                        o += l;
                }
                s += l;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = 0;
        return out;
}

/* The path with every directory component that is a symlink in the tree
 * replaced by its target; NULL when nothing changed or on a loop. */
static char *resolve_path(const Tree *t, const char *path) {
        _cleanup_free_ char *cur = strdup(path);
        bool changed = false;
        if (!cur)
                return NULL;
        for (unsigned hops = 0; hops < 32; hops++) {
                bool again = false;
                /* Each proper prefix ending at a '/', shortest first. */
                for (char *s = strchr(cur + 1, '/'); s; s = strchr(s + 1, '/')) {
                        *s = 0;
                        const Entry *e = tree_find_entry(t, cur);
                        if (e && e->kind == ENTRY_KIND_SYMLINK && e->target) {
                                _cleanup_free_ char *dir = resolve_target(cur, e->target);
                                *s = '/';
                                if (!dir)
                                        return NULL;
                                char *next = NULL;
                                if (asprintf(&next, "%s%s", strcmp(dir, "/") == 0 ? "" : dir, s) < 0)
                                        return NULL;
                                free(cur);
                                cur = next;
                                changed = again = true;
                                break;
                        }
                        *s = '/';
                        if (e && e->kind != ENTRY_KIND_DIRECTORY)
                                break;
                }
                if (!again)
                        return changed ? TAKE_PTR(cur) : NULL;
        }
        return NULL;
}

int package_set_resolve_aliases(PackageSet *ps, const Tree *tree) {
        bool any = false;
        for (size_t i = 0; i < ps->n_files; i++) {
                char *r = resolve_path(tree, ps->files[i].path);
                if (!r)
                        continue;
                free(ps->files[i].path);
                ps->files[i].path = r;
                any = true;
        }
        if (any) {
                qsort(ps->files, ps->n_files, sizeof(OwnedFile), compare_files);
                dedup_files(ps);
        }
        return 0;
}

unsigned package_set_digests_needed(const PackageSet *ps, const Tree *tree) {
        unsigned set = 0;
        for (size_t i = 0; i < ps->n_files; i++) {
                const OwnedFile *f = &ps->files[i];
                if (f->algo == DIGEST_NONE || f->algo == DIGEST_SHA256 || (set & (1u << f->algo)))
                        continue;
                const Entry *e = tree_find_entry(tree, f->path);
                if (e && e->kind == ENTRY_KIND_FILE)
                        set |= 1u << f->algo;
        }
        return set;
}

size_t package_set_observe(PackageSet *ps, const char *path, DigestAlgo algo, const uint8_t *digest) {
        size_t n, set = 0;
        OwnedFile *f = (OwnedFile *) package_set_find(ps, path, &n);
        for (size_t i = 0; i < n; i++)
                if (f[i].algo == algo && algo != DIGEST_NONE) {
                        memcpy(f[i].observed, digest, digest_algo_size(algo));
                        f[i].has_observed = true;
                        set++;
                }
        return set;
}

int package_version_compare(PackageFormat f, const char *a, const char *b) {
        switch (f) {
        case PACKAGE_FORMAT_RPM:
                return rpm_version_compare(a, b);
        case PACKAGE_FORMAT_DPKG:
                return dpkg_version_compare(a, b);
        default:
                return strcmp(a, b);
        }
}

const char *const package_db_paths[] = {
        "/var/lib/dpkg/status",
        "/var/lib/dpkg/diversions",
        "/var/lib/dpkg/info",
        "/var/lib/rpm",
        "/usr/lib/sysimage/rpm",
        NULL,
};

const char *const package_db_info_globs[] = {"*.list", "*.md5sums", NULL};

int packages_read(const char *root, PackageSet **ret, Error *e) {
        _cleanup_close_ int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return error_set(e, ERR_INTERNAL, "cannot open %s: %m", root);
        _cleanup_package_set_ PackageSet *ps = package_set_new();
        if (!ps)
                return error_set(e, ERR_INTERNAL, "out of memory");

        Error err = {0};
        int r = 0;
        if (dpkg_present(root_fd))
                r = dpkg_read(root_fd, ps, &err);
        else if (rpm_present(root_fd))
                r = rpm_read(root_fd, root, ps, &err);
        if (r < 0) {
                if (err.code == ERR_INTERNAL)
                        return error_set(e, err.code, "%s", err.message);
                if (package_set_fail(ps, &err) < 0)
                        return error_set(e, ERR_INTERNAL, "out of memory");
        }
        *ret = TAKE_PTR(ps);
        return 0;
}

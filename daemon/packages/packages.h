/* One side's installed packages, read from the guest's own package
 * database, and the index of the files they own: who owns a path, what
 * digest its package recorded for it, whether it is a configuration file.
 *
 * Plain data, like the manifest it sits beside: the readers (dpkg.h,
 * rpm.h) fill it from copies of the guest's database files, the worker adds
 * the digests it measured in the guest, the store keeps it per image key
 * and the comparer asks it why a path changed (explain.h). Nothing here
 * reads the host's own package database. */
#pragma once

#include "common/errors.h"
#include "common/names.h"
#include "common/util.h"
#include "manifest/manifest.h"

/* File digest algorithms, as both package managers and guestfs_checksum
 * name them. */
typedef enum DigestAlgo {
        DIGEST_NONE,
        DIGEST_MD5,
        DIGEST_SHA1,
        DIGEST_SHA224,
        DIGEST_SHA256,
        DIGEST_SHA384,
        DIGEST_SHA512,
        _DIGEST_MAX,
} DigestAlgo;

#define DIGEST_MAX_SIZE 64

const char *digest_algo_to_string(DigestAlgo a); /* "md5", ...; NULL for none */
size_t digest_algo_size(DigestAlgo a);            /* bytes; 0 for none */

typedef struct Package {
        char *name;
        char *arch;    /* "amd64", "x86_64", "noarch"; "" when the database has none */
        char *version; /* as its package manager prints it: dpkg [epoch:]upstream[-revision],
                        * rpm [epoch:]version-release */
} Package;

typedef enum OwnedFileFlags {
        OWNED_CONFIG = 1u << 0,       /* a dpkg conffile, an rpm %config file */
        OWNED_GHOST = 1u << 1,        /* rpm %ghost: owned, but not shipped: never verified */
        OWNED_MISSING_OK = 1u << 2,   /* rpm %config(missingok), dpkg obsolete conffiles */
        OWNED_NOT_INSTALLED = 1u << 3, /* rpm file states replaced, not installed, net shared, wrong colour */
        _OWNED_FLAGS_ALL = (1u << 4) - 1,
} OwnedFileFlags;

/* One (path, package) pair of the ownership index: a path shared by several
 * packages (directories mostly) has one record per package. */
typedef struct OwnedFile {
        char *path;           /* as the guest sees it: "/usr/bin/ssh" */
        uint32_t package;     /* index into PackageSet.packages */
        uint8_t flags;        /* OwnedFileFlags */
        uint8_t algo;         /* DigestAlgo of digest and observed; DIGEST_NONE when the
                               * package recorded no digest (directories, symlinks, ...) */
        bool has_observed;    /* observed holds the file's digest as found in the guest */
        uint8_t *digest;      /* digest_algo_size(algo) bytes the package recorded, then as
                               * many for observed, in one allocation */
        uint8_t *observed;
        char *link;           /* rpm: the symlink target it recorded, else NULL */
} OwnedFile;

typedef struct PackageSet {
        PackageFormat format;   /* PACKAGE_FORMAT_NONE: no package database at all */
        ErrorCode error;        /* ERR_OK, or why the database could not be read */
        char *error_message;
        Package *packages;      /* sorted by name, arch, version (strcmp) */
        size_t n_packages;
        OwnedFile *files;       /* sorted by path_compare(), then package */
        size_t n_files;
        size_t cap_packages, cap_files; /* allocated slots */
} PackageSet;

PackageSet *package_set_new(void);
PackageSet *package_set_free(PackageSet *ps);
static inline void package_set_freep(PackageSet **ps) {
        package_set_free(*ps);
}
#define _cleanup_package_set_ _cleanup_(package_set_freep)

/* Drops whatever was read and records why the database could not be read:
 * the side keeps its file diff, its packages are this error. */
int package_set_fail(PackageSet *ps, const Error *e);

int package_set_add_package(PackageSet *ps, const char *name, const char *arch, const char *version);
/* Adds an ownership record; digest may be NULL (algo is then ignored). */
int package_set_add_file(PackageSet *ps, const char *path, uint32_t package, unsigned flags, DigestAlgo algo,
                         const uint8_t *digest, const char *link);

/* Sorts packages and files, drops duplicate records and renumbers the
 * files' package indexes. Readers call it last. */
int package_set_finish(PackageSet *ps);

/* Every record for path (a run of consecutive files), or NULL. */
const OwnedFile *package_set_find(const PackageSet *ps, const char *path, size_t *ret_n);

/* Rewrites owned paths that go through a symbolic link to a directory in
 * the tree (merged /usr: dpkg still lists /bin/ls, the file lives at
 * /usr/bin/ls) to the path the tree has the file at. */
int package_set_resolve_aliases(PackageSet *ps, const Tree *tree);

/* The algorithm of each regular file's recorded digest that the manifest's
 * SHA-256 cannot answer: what the scanner must measure in the guest, as a
 * bit set of (1 << DigestAlgo). */
unsigned package_set_digests_needed(const PackageSet *ps, const Tree *tree);

/* Records the measured digest of path's content in algorithm algo on every
 * record of path with that algorithm. Returns how many it set. */
size_t package_set_observe(PackageSet *ps, const char *path, DigestAlgo algo, const uint8_t *digest);

/* Compares versions with the rules of the set's package manager: <0, 0, >0. */
int package_version_compare(PackageFormat f, const char *a, const char *b);

/* What the readers need copied out of a guest, below a fresh directory, at
 * the same relative paths (directories whole, following no symbolic link
 * out of the guest's tree): dpkg's status, diversions and info/ (only its
 * *.list and *.md5sums files), and either rpm database directory. */
extern const char *const package_db_paths[];
/* Which files of info/ directories to copy, as globs. */
extern const char *const package_db_info_globs[];

/* Reads whichever package database is below root, a directory of such
 * copies. Always gives a set on success: format none when there is no
 * database (a data disk), or the database's error (a corrupt status file,
 * an rpm database this librpm cannot open) with no packages; fails only
 * when out of memory or root cannot be opened. */
int packages_read(const char *root, PackageSet **ret, Error *e);

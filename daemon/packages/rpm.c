#include "packages/rpm.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <rpm/header.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmfi.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmts.h>
#include <rpm/rpmver.h>

#include "packages/db-files.h"

/* Where distributions keep it (Fedora 36 on: usr/lib/sysimage/rpm, with
 * var/lib/rpm a link to it), and the file each form keeps its packages in. */
static const char *const db_dirs[] = {"usr/lib/sysimage/rpm", "var/lib/rpm"};
static const struct {
        const char *file, *backend, *name;
} db_forms[] = {
        {"rpmdb.sqlite", "sqlite", "sqlite"},
        {"Packages.db", "ndb", "ndb"},
        {"Packages", "bdb_ro", "Berkeley DB"},
};

static int find_db(int root_fd, const char **ret_dir, size_t *ret_form) {
        for (size_t d = 0; d < ELEMENTSOF(db_dirs); d++)
                for (size_t f = 0; f < ELEMENTSOF(db_forms); f++) {
                        _cleanup_free_ char *p = NULL;
                        if (asprintf(&p, "%s/%s", db_dirs[d], db_forms[f].file) < 0)
                                return -ENOMEM;
                        if (db_file_exists(root_fd, p)) {
                                *ret_dir = db_dirs[d];
                                *ret_form = f;
                                return 1;
                        }
                }
        return 0;
}

bool rpm_present(int root_fd) {
        const char *dir;
        size_t form;
        return find_db(root_fd, &dir, &form) > 0;
}

static pthread_mutex_t rpm_lock = PTHREAD_MUTEX_INITIALIZER;
static bool rpm_configured;

/* What librpm said while we held the lock: its last error, and whether it
 * fell back to its dummy backend (a form it was built without). */
static struct {
        char last_error[512];
        bool dummy;
} rpm_log;

static int log_callback(rpmlogRec rec, rpmlogCallbackData data) {
        const char *m = rpmlogRecMessage(rec);
        if (!m)
                return 0;
        if (strstr(m, "dummy database"))
                rpm_log.dummy = true;
        if (rpmlogRecPriority(rec) <= RPMLOG_ERR) {
                snprintf(rpm_log.last_error, sizeof rpm_log.last_error, "%s", m);
                rpm_log.last_error[strcspn(rpm_log.last_error, "\n")] = 0;
        }
        return 0; /* handled: librpm prints nothing */
}

static DigestAlgo digest_algo_from_pgp(int algo) {
        switch (algo) {
        case PGPHASHALGO_MD5:
                return DIGEST_MD5;
        case PGPHASHALGO_SHA1:
                return DIGEST_SHA1;
        case PGPHASHALGO_SHA224:
                return DIGEST_SHA224;
        case PGPHASHALGO_SHA256:
                return DIGEST_SHA256;
        case PGPHASHALGO_SHA384:
                return DIGEST_SHA384;
        case PGPHASHALGO_SHA512:
                return DIGEST_SHA512;
        default:
                return DIGEST_NONE;
        }
}

static unsigned owned_flags(rpmfileAttrs attrs, rpmfileState state) {
        unsigned f = 0;
        if (attrs & RPMFILE_CONFIG)
                f |= OWNED_CONFIG;
        if (attrs & RPMFILE_GHOST)
                f |= OWNED_GHOST;
        if (attrs & RPMFILE_MISSINGOK)
                f |= OWNED_MISSING_OK;
        if (state != RPMFILE_STATE_NORMAL && state != RPMFILE_STATE_MISSING)
                f |= OWNED_NOT_INSTALLED;
        return f;
}

static int add_header(PackageSet *ps, Header h, Error *e) {
        const char *name = headerGetString(h, RPMTAG_NAME), *arch = headerGetString(h, RPMTAG_ARCH);
        _cleanup_free_ char *evr = headerGetAsString(h, RPMTAG_EVR);
        if (!name || !evr)
                return error_set(e, ERR_CORRUPT_PACKAGE_DB, "a package header without a name or version");
        uint32_t pkg = (uint32_t) ps->n_packages;
        if (package_set_add_package(ps, name, arch, evr) < 0)
                return error_set(e, ERR_INTERNAL, "out of memory");

        rpmfiles files = rpmfilesNew(NULL, h, RPMTAG_BASENAMES, RPMFI_KEEPHEADER);
        if (!files)
                return 0; /* a package without files (gpg-pubkey, meta-packages) */
        rpmfi fi = rpmfilesIter(files, RPMFI_ITER_FWD);
        int r = 0;
        while (r == 0 && fi && rpmfiNext(fi) >= 0) {
                const char *path = rpmfiFN(fi);
                if (!path || path[0] != '/')
                        continue;
                int pgp = 0;
                size_t len = 0;
                const unsigned char *digest = rpmfiFDigest(fi, &pgp, &len);
                DigestAlgo algo = digest_algo_from_pgp(pgp);
                /* Only regular files carry a digest; the others' slots are
                 * empty. */
                bool has = S_ISREG(rpmfiFMode(fi)) && digest && algo != DIGEST_NONE &&
                           len == digest_algo_size(algo);
                const char *link = rpmfiFLink(fi);
                if (package_set_add_file(ps, path, pkg, owned_flags(rpmfiFFlags(fi), rpmfiFState(fi)), algo,
                                         has ? digest : NULL, link && link[0] ? link : NULL) < 0)
                        r = error_set(e, ERR_INTERNAL, "out of memory");
        }
        rpmfiFree(fi);
        rpmfilesFree(files);
        return r;
}

static int read_locked(const char *root, const char *dir, size_t form, PackageSet *ps, Error *e) {
        if (!rpm_configured) {
                if (rpmReadConfigFiles(NULL, NULL) != 0)
                        return error_set(e, ERR_INTERNAL, "librpm cannot read its configuration");
                rpm_configured = true;
        }
        _cleanup_free_ char *dbpath = NULL;
        if (asprintf(&dbpath, "/%s", dir) < 0)
                return error_set(e, ERR_INTERNAL, "out of memory");
        rpmPushMacro(NULL, "_dbpath", NULL, dbpath, RMIL_CMDLINE);
        rpmPushMacro(NULL, "_db_backend", NULL, db_forms[form].backend, RMIL_CMDLINE);

        int r = 0;
        rpmts ts = rpmtsCreate();
        if (rpmtsSetRootDir(ts, root) != 0)
                r = error_set(e, ERR_INTERNAL, "librpm refuses the root %s", root);
        /* Header digests still catch a damaged database; signatures need a
         * keyring the copy does not have. */
        (void) rpmtsSetVSFlags(ts, _RPMVSF_NOSIGNATURES);
        if (r == 0 && rpmtsOpenDB(ts, O_RDONLY) != 0)
                r = rpm_log.dummy ? error_set(e, ERR_UNSUPPORTED_PACKAGE_DB,
                                              "rpm database in the %s form: this librpm cannot read it",
                                              db_forms[form].name)
                                  : error_set(e, ERR_CORRUPT_PACKAGE_DB, "cannot open the rpm database (%s): %s",
                                              db_forms[form].name, rpm_log.last_error);
        if (r == 0 && rpm_log.dummy)
                r = error_set(e, ERR_UNSUPPORTED_PACKAGE_DB,
                              "rpm database in the %s form: this librpm cannot read it", db_forms[form].name);
        if (r == 0) {
                rpmdbMatchIterator mi = rpmtsInitIterator(ts, RPMDBI_PACKAGES, NULL, 0);
                Header h;
                while (r == 0 && mi && (h = rpmdbNextIterator(mi)))
                        r = add_header(ps, h, e);
                rpmdbFreeIterator(mi);
                /* librpm skips a header it cannot read and says so. */
                if (r == 0 && rpm_log.last_error[0])
                        r = error_set(e, ERR_CORRUPT_PACKAGE_DB, "rpm database (%s): %s", db_forms[form].name,
                                      rpm_log.last_error);
        }
        rpmtsFree(ts);
        rpmPopMacro(NULL, "_db_backend");
        rpmPopMacro(NULL, "_dbpath");
        return r;
}

int rpm_read(int root_fd, const char *root, PackageSet *ps, Error *e) {
        const char *dir;
        size_t form;
        int r = find_db(root_fd, &dir, &form);
        if (r <= 0)
                return error_set(e, r < 0 ? ERR_INTERNAL : ERR_CORRUPT_PACKAGE_DB, "no rpm database");
        ps->format = PACKAGE_FORMAT_RPM;

        pthread_mutex_lock(&rpm_lock);
        memset(&rpm_log, 0, sizeof rpm_log);
        rpmlogCallback old_cb = rpmlogSetCallback(log_callback, NULL);
        int old_mask = rpmlogSetMask(RPMLOG_UPTO(RPMLOG_WARNING));
        r = read_locked(root, dir, form, ps, e);
        (void) rpmlogSetMask(old_mask);
        (void) rpmlogSetCallback(old_cb, NULL);
        pthread_mutex_unlock(&rpm_lock);
        if (r < 0)
                return r;

        r = package_set_finish(ps);
        return r < 0 ? error_set(e, ERR_INTERNAL, "cannot index the packages: %s", strerror(-r)) : 0;
}

int rpm_version_compare(const char *a, const char *b) {
        rpmver va = rpmverParse(a), vb = rpmverParse(b);
        int r = va && vb ? rpmverCmp(va, vb) : rpmvercmp(a, b);
        rpmverFree(va);
        rpmverFree(vb);
        return r;
}

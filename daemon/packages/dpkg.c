#include "packages/dpkg.h"

#include "packages/db-files.h"
#include "packages/deb822.h"
#include "packages/dpkg-version.h"

#define ADMINDIR "var/lib/dpkg"

bool dpkg_present(int root_fd) {
        return db_file_exists(root_fd, ADMINDIR "/status");
}

static int oom(Error *e) {
        return error_set(e, ERR_INTERNAL, "out of memory");
}

static int read_error(Error *e, const char *file, int r) {
        if (r == -ENOMEM)
                return oom(e);
        if (r == -EFBIG)
                return error_set(e, ERR_CORRUPT_PACKAGE_DB, "%s: too large to be a dpkg database file", file);
        return error_set(e, ERR_CORRUPT_PACKAGE_DB, "%s: cannot read it: %s", file, strerror(-r));
}

/* dpkg's rules for package names (pkg_name_is_illegal) and architectures:
 * they also keep the info file names below info/. */
static bool valid_name(const char *s, const char *extra) {
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr(extra, *p)))
                        return false;
        return true;
}

/* The current-state word of a Status field ("want flag state"): true when
 * the package's files are on disk. */
static int status_installed(const char *status, bool *ret) {
        char want[32], flag[32], state[32];
        if (sscanf(status, "%31s %31s %31s", want, flag, state) != 3)
                return -EINVAL;
        static const char *const present[] = {"installed", "half-installed", "unpacked", "half-configured",
                                              "triggers-awaited", "triggers-pending"};
        static const char *const absent[] = {"not-installed", "config-files"};
        for (size_t i = 0; i < ELEMENTSOF(present); i++)
                if (strcmp(state, present[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(absent); i++)
                if (strcmp(state, absent[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

/* " /etc/foo.conf 0123...cdef [obsolete] [remove-on-upgrade]" lines. */
static int add_conffiles(PackageSet *ps, uint32_t pkg, const char *value, unsigned para_line, Error *e) {
        for (const char *line = value; line && *line;) {
                const char *nl = strchr(line, '\n');
                _cleanup_free_ char *copy = nl ? strndup(line, (size_t) (nl - line)) : strdup(line);
                line = nl ? nl + 1 : NULL;
                if (!copy)
                        return oom(e);
                char *words[4] = {0}, *save = NULL;
                size_t n = 0;
                for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
                        if (n < ELEMENTSOF(words))
                                words[n++] = w;
                        else
                                n = SIZE_MAX;
                if (n == 0)
                        continue;
                if (n < 2 || n == SIZE_MAX || words[0][0] != '/')
                        return error_set(e, ERR_CORRUPT_PACKAGE_DB,
                                         ADMINDIR "/status, paragraph at line %u: a malformed Conffiles line",
                                         para_line);
                unsigned flags = OWNED_CONFIG;
                for (size_t i = 2; i < n; i++)
                        if (strcmp(words[i], "obsolete") == 0 || strcmp(words[i], "remove-on-upgrade") == 0)
                                flags |= OWNED_MISSING_OK;
                uint8_t md5[16];
                /* "newconffile": dpkg has not recorded its digest yet. */
                bool has = strlen(words[1]) == 32 && unhexmem(words[1], md5, sizeof md5) == 0;
                if (package_set_add_file(ps, words[0], pkg, flags, DIGEST_MD5, has ? md5 : NULL, NULL) < 0)
                        return oom(e);
        }
        return 0;
}

/* Calls line_fn on each line of an info file; empty lines are skipped. */
typedef int (*LineFn)(PackageSet *ps, uint32_t pkg, const char *file, unsigned line_no, char *line, Error *e);

static int read_lines(int root_fd, PackageSet *ps, uint32_t pkg, const char *file, LineFn fn, Error *e) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = db_file_read(root_fd, file, DPKG_INFO_FILE_MAX, &buf, &len);
        if (r == -ENOENT)
                return 0; /* dpkg too assumes a package without a list owns nothing */
        if (r < 0)
                return read_error(e, file, r);
        if (memchr(buf, 0, len))
                return error_set(e, ERR_CORRUPT_PACKAGE_DB, "%s: a NUL byte", file);
        unsigned line_no = 0;
        for (char *s = buf, *nl; s < buf + len; s = nl + 1) {
                nl = strchr(s, '\n');
                if (!nl)
                        nl = buf + len;
                *nl = 0;
                line_no++;
                if (*s && fn(ps, pkg, file, line_no, s, e) < 0)
                        return -1;
        }
        return 0;
}

static int list_line(PackageSet *ps, uint32_t pkg, const char *file, unsigned line_no, char *line, Error *e) {
        if (line[0] != '/')
                return error_set(e, ERR_CORRUPT_PACKAGE_DB, "%s, line %u: not an absolute path", file, line_no);
        if (strcmp(line, "/.") == 0)
                return 0;
        size_t l = strlen(line);
        while (l > 1 && line[l - 1] == '/')
                line[--l] = 0;
        return package_set_add_file(ps, line, pkg, 0, DIGEST_NONE, NULL, NULL) < 0 ? oom(e) : 0;
}

/* "<32 hex>  relative/path", as md5sum(1) writes it. */
static int md5sums_line(PackageSet *ps, uint32_t pkg, const char *file, unsigned line_no, char *line, Error *e) {
        uint8_t md5[16];
        if (strlen(line) < 32 + 2 + 1 || line[32] != ' ' || (line[33] != ' ' && line[33] != '*'))
                return error_set(e, ERR_CORRUPT_PACKAGE_DB, "%s, line %u: not an md5sum line", file, line_no);
        line[32] = 0;
        if (unhexmem(line, md5, sizeof md5) < 0)
                return error_set(e, ERR_CORRUPT_PACKAGE_DB, "%s, line %u: not an md5 digest", file, line_no);
        const char *rel = line + 34;
        if (rel[0] == '.' && rel[1] == '/')
                rel += 2;
        while (*rel == '/')
                rel++;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "/%s", rel) < 0)
                return oom(e);
        return package_set_add_file(ps, path, pkg, 0, DIGEST_MD5, md5, NULL) < 0 ? oom(e) : 0;
}

static int compare_str(const void *x, const void *y) {
        return strcmp(*(char *const *) x, *(char *const *) y);
}

/* dpkg owns only what a package's list names (dpkg -S, dpkg -L): the
 * records of files[first, end) that came from Conffiles or md5sums but
 * name no listed path are dropped. List records are those in
 * [list_first, list_end). */
static int keep_listed(PackageSet *ps, size_t first, size_t list_first, size_t list_end, Error *e) {
        size_t nl = list_end - list_first;
        _cleanup_free_ char **listed = calloc(nl ? nl : 1, sizeof(char *));
        if (!listed)
                return oom(e);
        for (size_t i = 0; i < nl; i++)
                listed[i] = ps->files[list_first + i].path;
        qsort(listed, nl, sizeof(char *), compare_str);
        size_t k = first;
        for (size_t i = first; i < ps->n_files; i++) {
                OwnedFile *f = &ps->files[i];
                bool keep = (i >= list_first && i < list_end) ||
                            bsearch(&f->path, listed, nl, sizeof(char *), compare_str);
                if (keep)
                        ps->files[k++] = *f;
                else {
                        free(f->path);
                        free(f->digest);
                        free(f->link);
                }
        }
        ps->n_files = k;
        return 0;
}

/* info/NAME:ARCH.* for "Multi-Arch: same" packages, info/NAME.* otherwise;
 * the other spelling when that one is absent. */
static int read_info(int root_fd, PackageSet *ps, uint32_t pkg, const char *name, const char *arch,
                     bool multiarch_same, size_t first, Error *e) {
        _cleanup_free_ char *plain = NULL, *qualified = NULL;
        if (asprintf(&plain, ADMINDIR "/info/%s.list", name) < 0 ||
            asprintf(&qualified, ADMINDIR "/info/%s:%s.list", name, arch) < 0)
                return oom(e);
        const char *first_try = multiarch_same && arch[0] ? qualified : plain;
        const char *second = first_try == plain ? qualified : plain;
        const char *list = db_file_exists(root_fd, first_try) ? first_try
                           : db_file_exists(root_fd, second) ? second
                                                             : NULL;
        size_t list_first = ps->n_files;
        if (list) {
                if (read_lines(root_fd, ps, pkg, list, list_line, e) < 0)
                        return -1;
                size_t list_end = ps->n_files;
                _cleanup_free_ char *md5sums = NULL;
                if (asprintf(&md5sums, "%.*s.md5sums", (int) (strlen(list) - strlen(".list")), list) < 0)
                        return oom(e);
                if (read_lines(root_fd, ps, pkg, md5sums, md5sums_line, e) < 0)
                        return -1;
                return keep_listed(ps, first, list_first, list_end, e);
        }
        /* dpkg assumes a package without a list owns nothing. */
        return keep_listed(ps, first, list_first, list_first, e);
}

static int add_paragraph(int root_fd, PackageSet *ps, const Deb822Paragraph *p, Error *e) {
        const char *name = deb822_get(p, "Package"), *status = deb822_get(p, "Status");
        const char *version = deb822_get(p, "Version"), *arch = deb822_get(p, "Architecture");
        const char *ma = deb822_get(p, "Multi-Arch"), *why = NULL;
        bool installed;

        if (!name || !valid_name(name, "-+._"))
                return error_set(e, ERR_CORRUPT_PACKAGE_DB,
                                 ADMINDIR "/status, paragraph at line %u: %s Package field", p->line,
                                 name ? "an invalid" : "no");
        if (!status || status_installed(status, &installed) < 0)
                return error_set(e, ERR_CORRUPT_PACKAGE_DB,
                                 ADMINDIR "/status, package %s: %s Status field", name, status ? "an invalid" : "no");
        if (!installed)
                return 0;
        if (!version || !dpkg_version_valid(version, &why))
                return error_set(e, ERR_CORRUPT_PACKAGE_DB, ADMINDIR "/status, package %s: %s", name,
                                 version ? why : "an installed package without a Version field");
        if (arch && arch[0] && !valid_name(arch, "-"))
                return error_set(e, ERR_CORRUPT_PACKAGE_DB, ADMINDIR "/status, package %s: an invalid Architecture",
                                 name);

        uint32_t pkg = (uint32_t) ps->n_packages;
        size_t first = ps->n_files;
        if (package_set_add_package(ps, name, arch, version) < 0)
                return oom(e);
        const char *conffiles = deb822_get(p, "Conffiles");
        if (conffiles && add_conffiles(ps, pkg, conffiles, p->line, e) < 0)
                return -1;
        return read_info(root_fd, ps, pkg, name, strempty(arch), streq_ptr(ma, "same"), first, e);
}

/* The package whose name is name (any architecture), or -1. */
static int64_t find_package(const PackageSet *ps, const char *name) {
        for (size_t i = 0; i < ps->n_packages; i++)
                if (strcmp(ps->packages[i].name, name) == 0)
                        return (int64_t) i;
        return -1;
}

/* Triples of lines: the diverted path, where it went, and the package
 * that diverted it (":" for a local diversion). Every other package's
 * record of the path moves to where the file now is. */
static int apply_diversions(int root_fd, PackageSet *ps, Error *e) {
        static const char file[] = ADMINDIR "/diversions";
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = db_file_read(root_fd, file, DPKG_INFO_FILE_MAX, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return read_error(e, file, r);
        if (memchr(buf, 0, len))
                return error_set(e, ERR_CORRUPT_PACKAGE_DB, "%s: a NUL byte", file);

        char *lines[3], *s = buf;
        unsigned line_no = 0;
        while (s < buf + len) {
                for (int i = 0; i < 3; i++) {
                        char *nl = strchr(s, '\n');
                        if (!nl && s >= buf + len)
                                return error_set(e, ERR_CORRUPT_PACKAGE_DB, "%s, line %u: an incomplete diversion",
                                                 file, line_no + 1);
                        if (nl)
                                *nl = 0;
                        lines[i] = s;
                        s = nl ? nl + 1 : buf + len;
                        line_no++;
                }
                if (lines[0][0] != '/' || lines[1][0] != '/')
                        return error_set(e, ERR_CORRUPT_PACKAGE_DB, "%s, line %u: a diversion of a relative path",
                                         file, line_no - 2);
                int64_t by = strcmp(lines[2], ":") == 0 ? -1 : find_package(ps, lines[2]);
                for (size_t i = 0; i < ps->n_files; i++) {
                        OwnedFile *f = &ps->files[i];
                        if ((int64_t) f->package == by || strcmp(f->path, lines[0]) != 0)
                                continue;
                        char *to = strdup(lines[1]);
                        if (!to)
                                return oom(e);
                        free(f->path);
                        f->path = to;
                }
        }
        return 0;
}

int dpkg_read(int root_fd, PackageSet *ps, Error *e) {
        static const char file[] = ADMINDIR "/status";
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = db_file_read(root_fd, file, DPKG_STATUS_MAX, &buf, &len);
        if (r < 0)
                return read_error(e, file, r);

        ps->format = PACKAGE_FORMAT_DPKG;
        Deb822Reader reader;
        deb822_reader_init(&reader, file, buf, len);
        for (;;) {
                _cleanup_(deb822_paragraph_done) Deb822Paragraph p = {0};
                r = deb822_next(&reader, &p, e);
                if (r < 0)
                        return -1;
                if (r == 0)
                        break;
                if (add_paragraph(root_fd, ps, &p, e) < 0)
                        return -1;
        }
        if (apply_diversions(root_fd, ps, e) < 0)
                return -1;
        r = package_set_finish(ps);
        return r < 0 ? error_set(e, ERR_INTERNAL, "cannot index the packages: %s", strerror(-r)) : 0;
}

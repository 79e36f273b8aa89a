/* What the package tests share: running the real package managers and
 * tests/make-package-trees.sh, reading their output, hashing files. */
#pragma once

#include <openssl/evp.h>
#include <stdarg.h>
#include <sys/wait.h>

#include "common/test-util.h"
#include "packages/packages.h"

/* A command's standard output (the command is a shell line); NULL when it
 * fails. */
_printf_(1, 2) static inline char *capture(const char *fmt, ...) {
        va_list ap;
        char *cmd;
        va_start(ap, fmt);
        if (vasprintf(&cmd, fmt, ap) < 0)
                cmd = NULL;
        va_end(ap);
        FILE *f = popen(must(cmd), "r");
        free(cmd);
        if (!f)
                return NULL;
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                fwrite(buf, 1, n, m);
        fclose(m);
        int status = pclose(f);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

static inline bool have_program(const char *name) {
        char *out = capture("command -v %s", name);
        free(out);
        return out != NULL;
}

/* The trees of tests/make-package-trees.sh for one format, in a fresh
 * temporary directory (removed by the caller with rm_rf). */
static inline char *make_trees(const char *script, const char *format) {
        char *dir = must(strdup("/var/tmp/vd-packages-XXXXXX"));
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                exit(1);
        }
        char *out = capture("bash '%s' '%s' %s >&2", script, dir, format);
        if (!out) {
                fprintf(stderr, "%s failed\n", script);
                exit(1);
        }
        free(out);
        return dir;
}

static inline PackageSet *read_tree(const char *dir, const char *tree) {
        char *root;
        Error e = {0};
        PackageSet *ps = NULL;
        must(asprintf(&root, "%s/%s", dir, tree) >= 0 ? (void *) 1 : NULL);
        if (packages_read(root, &ps, &e) < 0) {
                fprintf(stderr, "%s: %s\n", root, e.message);
                exit(1);
        }
        free(root);
        return ps;
}

static inline const Package *find_package(const PackageSet *ps, const char *name) {
        for (size_t i = 0; i < ps->n_packages; i++)
                if (strcmp(ps->packages[i].name, name) == 0)
                        return &ps->packages[i];
        return NULL;
}

/* Does the file under root have the digest a record holds? -1 when it
 * cannot be read. */
static inline int file_matches(const char *root, const OwnedFile *f) {
        char *path;
        must(asprintf(&path, "%s%s", root, f->path) >= 0 ? (void *) 1 : NULL);
        FILE *in = fopen(path, "rb");
        free(path);
        if (!in)
                return -1;
        const EVP_MD *md = EVP_get_digestbyname(digest_algo_to_string(f->algo));
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_DigestInit_ex(ctx, md, NULL);
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
                EVP_DigestUpdate(ctx, buf, n);
        fclose(in);
        uint8_t d[EVP_MAX_MD_SIZE];
        unsigned dl = 0;
        EVP_DigestFinal_ex(ctx, d, &dl);
        EVP_MD_CTX_free(ctx);
        return dl == digest_algo_size(f->algo) && memcmp(d, f->digest, dl) == 0;
}

/* The paths under root whose content fails their record's digest (or that
 * are missing), "\n"-joined in index order: an offline debsums / rpm -V. */
static inline char *failing_paths(const char *dir, const char *tree, const PackageSet *ps) {
        char *root, *out = NULL;
        size_t len = 0;
        must(asprintf(&root, "%s/%s", dir, tree) >= 0 ? (void *) 1 : NULL);
        FILE *m = open_memstream(&out, &len);
        for (size_t i = 0; i < ps->n_files; i++) {
                const OwnedFile *f = &ps->files[i];
                if (f->algo == DIGEST_NONE)
                        continue;
                if (file_matches(root, f) != 1)
                        fprintf(m, "%s\n", f->path);
        }
        fclose(m);
        free(root);
        return out;
}

static int compare_lines(const void *x, const void *y) {
        return strcmp(*(char *const *) x, *(char *const *) y);
}

/* The text's lines sorted (bytewise) and joined again; takes text. */
static inline char *sort_lines(char *text) {
        size_t n = 0, cap = 0;
        char **lines = NULL;
        for (char *s = text, *nl; s && *s; s = nl ? nl + 1 : NULL) {
                nl = strchr(s, '\n');
                if (nl)
                        *nl = 0;
                if (n == cap)
                        lines = must(reallocarray(lines, cap = cap ? cap * 2 : 256, sizeof(char *)));
                lines[n++] = s;
        }
        qsort(lines, n, sizeof(char *), compare_lines);
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        for (size_t i = 0; i < n; i++)
                fprintf(m, "%s\n", lines[i]);
        fclose(m);
        free(lines);
        free(text);
        return out;
}

/* Equal texts, or the first line where they part printed. */
static inline bool same_lines(const char *what, const char *ours, const char *theirs) {
        if (ours && theirs && strcmp(ours, theirs) == 0)
                return true;
        if (!ours || !theirs) {
                fprintf(stderr, "%s: %s output missing\n", what, ours ? "their" : "our");
                return false;
        }
        const char *a = ours, *b = theirs;
        while (*a && *a == *b)
                a++, b++;
        while (a > ours && a[-1] != '\n')
                a--, b--;
        fprintf(stderr, "%s: ours: %.*s\n%s: theirs: %.*s\n", what, (int) strcspn(a, "\n"), a, what,
                (int) strcspn(b, "\n"), b);
        return false;
}

/* "name\tarch\tversion" of every package, sorted. */
static inline char *package_lines(const PackageSet *ps) {
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        for (size_t i = 0; i < ps->n_packages; i++)
                fprintf(m, "%s\t%s\t%s\n", ps->packages[i].name, ps->packages[i].arch, ps->packages[i].version);
        fclose(m);
        return sort_lines(out);
}

/* "name\tpath" of every ownership record (flags filter: records with all
 * of them), sorted. */
static inline char *file_lines(const PackageSet *ps, unsigned flags) {
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        for (size_t i = 0; i < ps->n_files; i++)
                if ((ps->files[i].flags & flags) == flags)
                        fprintf(m, "%s\t%s\n", ps->packages[ps->files[i].package].name, ps->files[i].path);
        fclose(m);
        return sort_lines(out);
}

/* Our sorted lines (taken) against what package-oracle.py MODE ROOT says. */
static inline bool oracle_agrees(const char *what, char *ours, const char *oracle, const char *mode,
                                 const char *root) {
        char *theirs = capture("python3 %s %s %s", oracle, mode, root);
        if (theirs)
                theirs = sort_lines(theirs);
        bool ok = same_lines(what, ours, theirs);
        free(ours);
        free(theirs);
        return ok;
}

/* "name\tpath\tdigest" of every configuration file, sorted;
 * "newconffile" where no digest was recorded, as dpkg writes it. */
static inline char *config_lines(const PackageSet *ps) {
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        for (size_t i = 0; i < ps->n_files; i++) {
                const OwnedFile *f = &ps->files[i];
                if (!(f->flags & OWNED_CONFIG))
                        continue;
                char *hex = f->algo ? hexmem(f->digest, digest_algo_size(f->algo)) : strdup("newconffile");
                fprintf(m, "%s\t%s\t%s\n", ps->packages[f->package].name, f->path, hex);
                free(hex);
        }
        fclose(m);
        return sort_lines(out);
}

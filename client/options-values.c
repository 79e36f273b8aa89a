/* The option values virt-diff parses one at a time (options-values.h). */
#include "options-values.h"

#include <ctype.h>
#include <libgen.h>

#include "common/names.h"

/* --cause tampered,config: each name checked here, as the daemon would. */
int add_causes(DiffArgs *a, const char *list, const char *prog) {
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;
        size_t n = strv_length(a->causes);
        if (!copy)
                return -ENOMEM;
        for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
                if (cause_from_string(c) == _CAUSE_MAX) {
                        fprintf(stderr, "%s: --cause: '%s' is not a cause (tampered, config, package, unowned)\n",
                                prog, c);
                        return -EINVAL;
                }
                if (!strv_contains(a->causes, c) && strv_extend(&a->causes, &n, c) < 0)
                        return -ENOMEM;
        }
        return 0;
}

#define MANIFEST_PREFIX "manifest:"

int add_disk(DiffArgs *a, int side, const char *path, const char *format, bool manifest,
                    uint32_t blocksize) {
        ClientDisk *d = realloc(a->disks[side], sizeof(ClientDisk) * (a->n_disks[side] + 1));
        if (!d)
                return -ENOMEM;
        a->disks[side] = d;
        d += a->n_disks[side];
        /* "manifest:FILE", unless a file has that whole name. */
        if (!manifest && strncmp(path, MANIFEST_PREFIX, strlen(MANIFEST_PREFIX)) == 0 && access(path, F_OK) < 0) {
                path += strlen(MANIFEST_PREFIX);
                manifest = true;
        }
        d->manifest = manifest;
        /* The daemon has its own working directory; a manifest is opened
         * here, but its name shows in results. */
        if (manifest && strcmp(path, "-") == 0)
                d->path = strdup(path);
        else if (path[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);
                d->path = cwd ? path_join(cwd, path) : NULL;
        } else
                d->path = strdup(path);
        d->format = format ? strdup(format) : NULL;
        d->domain = d->uri = d->snapshot = NULL;
        d->blocksize = blocksize;
        if (!d->path || (format && !d->format)) {
                free(d->path);
                free(d->format);
                return -ENOMEM;
        }
        a->n_disks[side]++;
        return 0;
}

int add_types(DiffArgs *a, const char *list) {
        size_t n = strv_length(a->output.types);
        _cleanup_free_ char *copy = strdup(list);
        if (!copy)
                return -ENOMEM;
        for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (strv_extend(&a->output.types, &n, t) < 0)
                        return -ENOMEM;
        return 0;
}


int choose(Choice *c, int value, const char *option, const char *prog) {
        if (c->set_by && c->value != value) {
                fprintf(stderr, "%s: conflicting options %s and %s\n", prog, c->set_by, option);
                return -EINVAL;
        }
        c->set_by = option;
        c->value = value;
        return 0;
}

const char *const checksum_algorithms[] = {
        "sha256", "md5", "sha1", "sha224", "sha384", "sha512", "crc", NULL,
};

/* --ignore, --include, --exclude, --path into the comparer's filters; the
 * daemon checks them again. Comma lists for --ignore only: globs may hold
 * commas. */
int add_filter(DiffArgs *a, int option, const char *value, const char *prog) {
        _cleanup_free_ char *copy = strdup(value);
        const char *why = NULL;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        if (option == 'I') {
                for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && r >= 0; t = strtok_r(NULL, ",", &save)) {
                        r = filters_add_ignore(&a->filters, t, &why);
                        value = t; /* name the item at fault */
                }
        } else if (option == 'P')
                r = filters_add_path(&a->filters, value, &why);
        else
                r = filters_add_glob(&a->filters, option == 'N', value, &why);
        if (r == -EINVAL)
                fprintf(stderr, "%s: --%s '%s': %s\n", prog,
                        option == 'I' ? "ignore" : option == 'P' ? "path" : option == 'N' ? "include" : "exclude", value,
                        why);
        return r;
}

/* "65536", "64K", "1M" (powers of 1024), at least OUTPUT_MIN_MAX_BYTES. */
int parse_max_bytes(const char *s, uint64_t *ret) {
        char *end;
        uint64_t v, mul = 1;

        errno = 0;
        if (!isdigit((unsigned char) s[0]))
                return -EINVAL;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -EINVAL;
        if (*end == 'K' || *end == 'k')
                mul = 1024, end++;
        else if (*end == 'M')
                mul = 1024 * 1024, end++;
        if (*end != 0 || v > UINT64_MAX / mul || v * mul < OUTPUT_MIN_MAX_BYTES)
                return -EINVAL;
        *ret = v * mul;
        return 0;
}

/* --html=FILE: its directory must exist and take a new file. */
int report_dir_check(const char *path, const char *prog) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        const char *dir = dirname(copy);
        if (access(dir, W_OK) < 0) {
                fprintf(stderr, "%s: --html '%s': cannot write in %s: %s\n", prog, path, dir, strerror(errno));
                return -errno;
        }
        return 0;
}


/* --csv, --all, --checksum and the diffs, in our mode or in upstream's
 * (--output=virt-diff). */
int settle_output(DiffArgs *a, const Deferred *d, Choice *format_choice, const char *prog) {
        if (d->csv && !(format_choice->set_by && format_choice->value == OUTPUT_VIRT_DIFF)) {
                if (choose(format_choice, OUTPUT_CSV, d->csv, prog) < 0)
                        return -EINVAL;
                a->output.format = OUTPUT_CSV;
        }
        bool compat = diff_args_compat(a);
        a->output.csv = compat && d->csv;

        if (d->all && compat) {
                /* Upstream's --all: --extra-stats --times --uids --xattrs. */
                a->extra_stats = a->times = true;
                a->output.extra_stats = a->output.times = a->output.uids = a->output.xattrs = true;
        } else if (d->all) {
                a->atime = a->times = a->dir_times = a->dir_links = a->extra_stats = true;
                a->output.atime = a->output.times = a->output.extra_stats = true;
        }
        if (d->checksum) {
                free(a->checksum);
                a->checksum = strdup(compat ? "md5" : "sha256");
                if (!a->checksum)
                        return -ENOMEM;
                a->output.checksum = true;
        }
        /* Upstream shows the diffs, except in its CSV. */
        a->output.unified = d->unified.set_by ? d->unified.value : compat && !a->output.csv;

        if (a->output.csv && d->unified.set_by && d->unified.value) {
                fprintf(stderr, "%s: conflicting options %s and %s (virt-diff's CSV has no diffs)\n", prog,
                        d->unified.set_by, d->csv);
                return -EINVAL;
        }
        if (a->output.csv && a->output.human) {
                fprintf(stderr, "%s: conflicting options --human-readable and %s (spreadsheets cannot read 4.0K)\n",
                        prog, d->csv);
                return -EINVAL;
        }
        return 0;
}

#include "direct/inspect.h"

#include <regex.h>

#include "direct/fs-path.h"
#include "direct/fstab.h"
#include "direct/release.h"

/* with_augeas() loads a configuration file only up to this size. */
#define AUGEAS_FILE_MAX (100U * 1000U)

typedef enum Role {
        ROLE_OTHER,
        ROLE_ROOT,
        ROLE_REFUSED,
} Role;

void inspection_done(Inspection *in) {
        for (size_t i = 0; i < in->n_mounts; i++)
                free(in->mounts[i].mountpoint);
        free(in->mounts);
        free(in->product);
        *in = (Inspection) {};
}

static bool is_file(ext2_filsys fs, const char *path) {
        return fs_path_is_file(fs, path, false);
}

static bool is_dir(ext2_filsys fs, const char *path) {
        return fs_path_is_dir(fs, path);
}

static bool is_symlink_to(ext2_filsys fs, const char *path, const char *target) {
        _cleanup_free_ char *t = fs_path_is_symlink(fs, path) ? fs_path_readlink(fs, path) : NULL;
        return streq_ptr(t, target);
}

/* check_filesystem(): the first of libguestfs' tests that matches decides
 * the filesystem's role. */
static Role classify(ext2_filsys fs, const char **why) {
        static const char *const windows[] = {"windows", "winnt", "win32", "win", "reactos", NULL};
        static const char *const dos[] = {"fdos", "dos", NULL};
        bool etc = is_dir(fs, "/etc"), bin = is_dir(fs, "/bin");

        if (is_file(fs, "/grub/menu.lst") || is_file(fs, "/grub/grub.conf") || is_file(fs, "/grub2/grub.cfg"))
                return ROLE_OTHER;
        if ((etc && bin && is_file(fs, "/etc/fstab") &&
             (is_file(fs, "/etc/freebsd-update.conf") ||
              (is_file(fs, "/netbsd") && is_file(fs, "/etc/release")) ||
              (is_file(fs, "/bsd") && is_file(fs, "/etc/motd")) ||
              (is_file(fs, "/service/vm") && is_file(fs, "/etc/version")))) ||
            (is_file(fs, "/hurd/console") && is_file(fs, "/hurd/hello") && is_file(fs, "/hurd/null"))) {
                *why = "a BSD, Hurd or Minix root";
                return ROLE_REFUSED;
        }
        if (etc && (bin || is_symlink_to(fs, "/bin", "usr/bin")) &&
            (is_file(fs, "/etc/fstab") || is_file(fs, "/etc/hosts")))
                return ROLE_ROOT;
        if (etc && is_dir(fs, "/root") && is_dir(fs, "/home") && is_dir(fs, "/usr") &&
            is_file(fs, "/etc/coreos/update.conf")) {
                *why = "a CoreOS root";
                return ROLE_REFUSED;
        }
        bool share = is_dir(fs, "/share"), local = is_dir(fs, "/local");
        if (etc && bin && share && !local && !is_file(fs, "/etc/fstab"))
                return ROLE_OTHER; /* a Linux /usr/local */
        if (bin && local && share && (is_dir(fs, "/src") || is_dir(fs, "/share/coreos"))) {
                *why = "a separate /usr filesystem";
                return ROLE_REFUSED;
        }
        if (is_dir(fs, "/log") && is_dir(fs, "/run") && is_dir(fs, "/spool"))
                return ROLE_OTHER; /* a Linux /var */
        if (fs_path_root_has_nocase(fs, windows) || fs_path_root_has_nocase(fs, dos)) {
                *why = "perhaps a Windows or DOS root";
                return ROLE_REFUSED;
        }
        return ROLE_OTHER;
}

static bool source_is_file(void *userdata, const char *path) {
        return fs_path_is_file(userdata, path, true);
}

static int source_read(void *userdata, const char *path, size_t max, char **ret, size_t *ret_len) {
        return fs_path_read(userdata, path, max, ret, ret_len);
}

/* check_hostname_linux() reads /etc/sysconfig/network with Augeas when the
 * hostname files give none; a parse error there fails inspection. */
static bool hostname_needs_augeas(ext2_filsys fs) {
        static const char *const files[] = {"/etc/HOSTNAME", "/etc/hostname"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *text = NULL;
                size_t len;
                if (fs_path_read(fs, files[i], 2U * 1048U * 1024U, &text, &len) < 0)
                        continue;
                for (char *line = text, *next; line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = 0;
                        if (line[0] && line[0] != '#')
                                return false;
                }
        }
        return is_file(fs, "/etc/sysconfig/network");
}

/* with_augeas()'s safe_file(): a regular file (links followed) of at most
 * 100 kB is loaded; others are left out, silently. */
static bool augeas_loads(ext2_filsys fs, const char *path) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        return fs_path_read(fs, path, AUGEAS_FILE_MAX, &text, &len) == 0;
}

static bool matches(const char *pattern, const char *s) {
        regex_t re;
        if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
                return true;
        bool m = regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
        return m;
}

/* guestfs_canonical_device_name() for names that are not LVM's. */
static char *canonical_device_name(const char *device) {
        char *r;
        if (strncmp(device, "/dev/", 5) == 0) {
                const char *name = device + 5;
                size_t len = 0;
                bool slash = false;
                for (const char *p = name; *p; p++)
                        slash |= *p == '/';
                while (name[len] && name[len] != 'd')
                        len++;
                if (!slash && name[0] != 'm' && len > 0 && len <= 2 && name[len] == 'd')
                        return asprintf(&r, "/dev/sd%s", name + len + 1) < 0 ? NULL : r;
        }
        return strdup(device);
}

/* Findfs.findfs: the one filesystem with that UUID or label; NULL when
 * none; *ambiguous when several. */
static const InspectFs *findfs(const InspectFs *fss, size_t n, bool uuid, const char *value, bool *ambiguous) {
        const InspectFs *found = NULL;
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(uuid ? fss[i].uuid : fss[i].label, value)) {
                        if (found)
                                *ambiguous = true;
                        found = &fss[i];
                }
        return found;
}

static bool ignored_spec(const char *spec) {
        return (strncmp(spec, "/dev/fd", 7) == 0 && spec[7] >= '0' && spec[7] <= '9') ||
               (strncmp(spec, "/dev/cd", 7) == 0 && spec[7] >= '0' && spec[7] <= '9') ||
               strcmp(spec, "/dev/floppy") == 0 || strcmp(spec, "/dev/cdrom") == 0 ||
               strncmp(spec, "/dev/iso9660/", 13) == 0;
}

static bool ignored_mountpoint(const char *mp) {
        static const char *const dirs[] = {"/dev", "/media", "/proc", "/selinux", "/sys"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                size_t l = strlen(dirs[i]);
                if (strncmp(mp, dirs[i], l) == 0 && (mp[l] == '/' || (mp[l] == 0 && i != 1)))
                        return true;
        }
        return false;
}

/* check_fstab_entry(): the device an entry names (NULL: skipped). */
static int resolve_spec(const InspectFs *fss, size_t n, size_t root, const FstabEntry *en, char **ret, Error *e) {
        const char *spec = en->spec;
        *ret = NULL;
        if (strncmp(spec, "UUID=", 5) == 0 || strncmp(spec, "LABEL=", 6) == 0) {
                bool uuid = spec[0] == 'U', ambiguous = false;
                _cleanup_free_ char *value = release_shell_unquote(spec + (uuid ? 5 : 6));
                if (!value)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                const InspectFs *f = findfs(fss, n, uuid, value, &ambiguous);
                if (ambiguous)
                        return error_set(e, ERR_DIRECT_UNSUPPORTED, "/etc/fstab: %s names more than one filesystem",
                                         spec);
                if (f && !(*ret = strdup(f->device)))
                        return error_set(e, ERR_INTERNAL, "out of memory");
                return 0;
        }
        if (strcmp(spec, "/dev/root") == 0)
                return (*ret = strdup(fss[root].device)) ? 0 : error_set(e, ERR_INTERNAL, "out of memory");
        if (strncmp(spec, "/dev/", 5) != 0)
                return 0; /* PARTUUID=, tmpfs, proc, host:/path: libguestfs 1.48 skips them */
        /* Names libguestfs maps with rules of their own (cciss, by-id, BSD
         * and Hurd names). */
        if (matches("^/dev/cciss/c[0-9]+d[0-9]+(p[0-9]+)?$", spec) || matches("^/dev/disk/by-id/.*-part[0-9]+$", spec) ||
            matches("^/dev/(ada?|vtbd)[0-9]+p[0-9]+$", spec) || matches("^/dev/(ada?|vtbd)[0-9]+s[0-9]+[a-z]$", spec) ||
            matches("^/dev/hd[0-9]+s[0-9]+$", spec))
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "/etc/fstab: %s, a device name mapped by rules of its own",
                                 spec);
        return (*ret = canonical_device_name(spec)) ? 0 : error_set(e, ERR_INTERNAL, "out of memory");
}

static int add_mount(Inspection *in, const InspectFs *fss, size_t n, const char *device, const char *mp, Error *e) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(fss[i].device, device) == 0) {
                        InspectMount *m = realloc(in->mounts, (in->n_mounts + 1) * sizeof(InspectMount));
                        if (!m)
                                return error_set(e, ERR_INTERNAL, "out of memory");
                        in->mounts = m;
                        m[in->n_mounts].fs = i;
                        if (!(m[in->n_mounts].mountpoint = strdup(mp)))
                                return error_set(e, ERR_INTERNAL, "out of memory");
                        in->n_mounts++;
                        return 0;
                }
        return 0; /* the scanner's find_fs() finds nothing: not mounted */
}

/* check_fstab() then inspect_get_mountpoints(). */
static int read_fstab(Inspection *in, const InspectFs *fss, size_t n, Error *e) {
        ext2_filsys fs = fss[in->root].fs;
        _cleanup_free_ char *text = NULL;
        size_t len = 0, listed = 0;
        Fstab tab = {};

        if (augeas_loads(fs, "/etc/mdadm.conf") || augeas_loads(fs, "/etc/mdadm/mdadm.conf"))
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: an mdadm.conf", fss[in->root].device);
        if (fs_path_read(fs, "/etc/fstab", AUGEAS_FILE_MAX, &text, &len) == 0 && fstab_parse(text, len, &tab, e) < 0)
                return -1;
        int r = 0;
        for (size_t i = 0; i < tab.n && r >= 0; i++) {
                const FstabEntry *en = &tab.v[i];
                _cleanup_free_ char *mp = NULL, *device = NULL;
                if (ignored_spec(en->spec))
                        continue;
                if (!(mp = fstab_canonical_path(en->file))) {
                        r = error_set(e, ERR_INTERNAL, "out of memory");
                        break;
                }
                if (ignored_mountpoint(mp))
                        continue;
                if ((r = resolve_spec(fss, n, in->root, en, &device, e)) < 0 || !device)
                        continue;
                if (strcmp(en->vfstype, "btrfs") == 0) {
                        r = error_set(e, ERR_DIRECT_UNSUPPORTED, "/etc/fstab: a btrfs entry");
                        break;
                }
                listed++;
                if (mp[0] == '/')
                        r = add_mount(in, fss, n, device, mp, e);
        }
        fstab_done(&tab);
        if (r < 0)
                return r;
        return listed == 0 ? add_mount(in, fss, n, fss[in->root].device, "/", e) : 0;
}

int inspect_side(const InspectFs *fss, size_t n, Inspection *ret, Error *e) {
        Inspection in = {};
        size_t roots = 0;

        for (size_t i = 0; i < n; i++) {
                const char *why = NULL;
                if (!fss[i].fs)
                        continue; /* swap */
                Role role = classify(fss[i].fs, &why);
                if (role == ROLE_REFUSED)
                        return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: %s", fss[i].device, why);
                if (role == ROLE_ROOT) {
                        in.root = i;
                        roots++;
                }
        }
        if (roots > 1)
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "more than one operating system root");
        if (roots == 0) {
                *ret = in;
                return 0;
        }
        in.found = true;
        ext2_filsys fs = fss[in.root].fs;
        ReleaseSource src = {.is_file = source_is_file, .read = source_read, .userdata = fs};
        int r = release_product_name(&src, &in.product, e);
        if (r >= 0 && hostname_needs_augeas(fs))
                r = error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: the hostname is in /etc/sysconfig/network",
                              fss[in.root].device);
        if (r >= 0)
                r = read_fstab(&in, fss, n, e);
        if (r < 0) {
                inspection_done(&in);
                return r;
        }
        *ret = in;
        return 0;
}

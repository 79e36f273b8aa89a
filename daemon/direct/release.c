#include "direct/release.h"

/* read_small_file(): regular files up to 2 * 1048 * 1024 bytes (sic). */
#define SMALL_FILE_MAX (2U * 1048U * 1024U)
/* OCaml's int_of_string fails past 62 bits: libguestfs' inspection then
 * fails as a whole. Version numbers that long are refused. */
#define MAX_DIGITS 18

typedef enum Distro {
        DISTRO_NONE,
        DISTRO_OTHER, /* known to libguestfs, nothing special here */
        DISTRO_DEBIAN,
        DISTRO_CENTOS,
        DISTRO_ROCKY,
        DISTRO_ROLLING, /* arch, gentoo, void */
} Distro;

typedef struct Data {
        Distro distro;
        char *product;
        bool has_version;
        long long major, minor;
        bool refused;
} Data;

char *release_shell_unquote(const char *s) {
        size_t len = strlen(s);
        if (len >= 2 && s[0] == '\'' && s[len - 1] == '\'')
                return strndup(s + 1, len - 2);
        if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
                char *r = malloc(len + 1);
                size_t j = 0;
                if (!r)
                        return NULL;
                for (size_t i = 1; i < len - 1; i++, j++) {
                        if (i < len - 2 && s[i] == '\\' && strchr("$`\"\\\n", s[i + 1]))
                                i++;
                        r[j] = s[i];
                }
                r[j] = 0;
                return r;
        }
        return strdup(s);
}

static char *simple_unquote(const char *s) {
        size_t len = strlen(s);
        if (len >= 2 && ((s[0] == '"' && s[len - 1] == '"') || (s[0] == '\'' && s[len - 1] == '\'')))
                return strndup(s + 1, len - 2);
        return strdup(s);
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* A run of digits as OCaml's int_of_string reads it; false when too long. */
static bool digits(const char *s, size_t len, long long *ret) {
        if (len > MAX_DIGITS)
                return false;
        long long v = 0;
        for (size_t i = 0; i < len; i++)
                v = v * 10 + (s[i] - '0');
        *ret = v;
        return true;
}

/* parse_version_from_major_minor(): the leftmost "(\d+)\.(\d+)" anywhere,
 * else the leftmost "(\d+)" as (n, 0), else nothing. */
static void parse_version(const char *s, Data *d) {
        size_t first = SIZE_MAX, first_len = 0;
        for (size_t i = 0; s[i]; i++) {
                if (!is_digit(s[i]) || (i > 0 && is_digit(s[i - 1])))
                        continue;
                size_t j = i;
                while (is_digit(s[j]))
                        j++;
                if (first == SIZE_MAX) {
                        first = i;
                        first_len = j - i;
                }
                if (s[j] == '.' && is_digit(s[j + 1])) {
                        size_t k = j + 1;
                        while (is_digit(s[k]))
                                k++;
                        if (!digits(s + i, j - i, &d->major) || !digits(s + j + 1, k - j - 1, &d->minor))
                                d->refused = true;
                        d->has_version = true;
                        return;
                }
        }
        if (first == SIZE_MAX)
                return;
        if (!digits(s + first, first_len, &d->major))
                d->refused = true;
        d->minor = 0;
        d->has_version = true;
}

/* NeoKylin's "V7Update6", else the usual parse. */
static void parse_version_id(const char *s, Data *d) {
        const char *p = s;
        if (*p++ == 'V' && is_digit(*p)) {
                const char *a = p;
                while (is_digit(*p))
                        p++;
                size_t la = (size_t) (p - a);
                if (strncmp(p, "Update", 6) == 0 && is_digit(p[6])) {
                        const char *b = p + 6;
                        p = b;
                        while (is_digit(*p))
                                p++;
                        if (*p == 0) {
                                if (!digits(a, la, &d->major) || !digits(b, (size_t) (p - b), &d->minor))
                                        d->refused = true;
                                d->has_version = true;
                                return;
                        }
                }
        }
        parse_version(s, d);
}

static Distro distro_of_os_release_id(const char *id) {
        static const char *const others[] = {"alpine", "altlinux", "coreos", "fedora", "frugalware", "kali", "kylin",
                                             "mageia", "neokylin", "openmandriva", "opensuse", "pardus", "pld",
                                             "rhel", "sles", "sled", "ubuntu", NULL};
        if (strcmp(id, "debian") == 0)
                return DISTRO_DEBIAN;
        if (strcmp(id, "centos") == 0)
                return DISTRO_CENTOS;
        if (strcmp(id, "rocky") == 0)
                return DISTRO_ROCKY;
        if (strcmp(id, "arch") == 0 || strcmp(id, "gentoo") == 0 || strcmp(id, "void") == 0)
                return DISTRO_ROLLING;
        if (strncmp(id, "opensuse-", 9) == 0)
                return DISTRO_OTHER;
        for (size_t i = 0; others[i]; i++)
                if (strcmp(id, others[i]) == 0)
                        return DISTRO_OTHER;
        return DISTRO_NONE;
}

static int set_product(Data *d, const char *value) {
        char *p = strdup(value);
        if (!p)
                return -ENOMEM;
        free(d->product);
        d->product = p;
        return 0;
}

typedef int (*Parser)(const ReleaseSource *src, const char *path, Data *d);

/* read_small_file() split into parse_key_value_strings() pairs: each line
 * but empty ones and those starting with '#', split at the first '='. */
static int key_values(const ReleaseSource *src, const char *path, char *(*unquote)(const char *), Data *d,
                      int (*each)(void *ctx, const char *key, const char *value), void *ctx) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = src->read(src->userdata, path, SMALL_FILE_MAX, &text, &len);
        if (r < 0)
                return 0; /* None: the parser returns false */
        if (memchr(text, 0, len)) {
                d->refused = true;
                return 0;
        }
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (!line[0] || line[0] == '#')
                        continue;
                char *eq = strchr(line, '=');
                const char *v = "";
                if (eq) {
                        *eq = 0;
                        v = eq + 1;
                }
                _cleanup_free_ char *value = unquote(v);
                if (!value)
                        return -ENOMEM;
                if ((r = each(ctx, line, value)) < 0)
                        return r;
        }
        return 1;
}

static int os_release_pair(void *ctx, const char *key, const char *value) {
        Data *d = ctx;
        if (strcmp(key, "ID") == 0) {
                Distro di = distro_of_os_release_id(value);
                if (di != DISTRO_NONE)
                        d->distro = di;
        } else if (strcmp(key, "PRETTY_NAME") == 0)
                return set_product(d, value);
        else if (strcmp(key, "VERSION_ID") == 0)
                parse_version_id(value, d);
        return 0;
}

static int parse_os_release(const ReleaseSource *src, const char *path, Data *d) {
        int r = key_values(src, path, release_shell_unquote, d, os_release_pair, d);
        if (r <= 0)
                return r;
        if (d->distro == DISTRO_NONE || !d->product)
                return 0;
        if ((d->distro == DISTRO_DEBIAN || d->distro == DISTRO_CENTOS || d->distro == DISTRO_ROCKY) &&
            d->has_version && d->minor == 0)
                return 0;
        if (d->distro == DISTRO_ROLLING && !d->has_version) {
                d->has_version = true;
                d->major = d->minor = 0;
                return 1;
        }
        return d->has_version;
}

/* parse_lsb_release() says true once an ID it knows or a description is
 * seen. */
typedef struct Lsb {
        Data *d;
        bool ok;
} Lsb;

static int lsb_pair(void *ctx, const char *key, const char *value) {
        static const char *const ids[] = {"CoreOS", "LinuxMint", "Mageia", "Ubuntu", NULL};
        Lsb *lsb = ctx;
        Data *d = lsb->d;
        if (strcmp(key, "DISTRIB_ID") == 0) {
                for (size_t i = 0; ids[i]; i++)
                        if (strcmp(value, ids[i]) == 0) {
                                d->distro = DISTRO_OTHER;
                                lsb->ok = true;
                        }
        } else if (strcmp(key, "DISTRIB_RELEASE") == 0)
                parse_version(value, d);
        else if (strcmp(key, "DISTRIB_DESCRIPTION") == 0) {
                lsb->ok = true;
                return set_product(d, value);
        }
        return 0;
}

static int parse_lsb_release(const ReleaseSource *src, const char *path, Data *d) {
        Lsb state = {.d = d};
        int r = key_values(src, path, simple_unquote, d, lsb_pair, &state);
        return r < 0 ? r : state.ok;
}

/* parse_generic without a regular expression: the first line names the
 * product; an empty one fails. */
static int parse_debian_version(const ReleaseSource *src, const char *path, Data *d) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (src->read(src->userdata, path, SMALL_FILE_MAX, &text, &len) < 0)
                return 0;
        if (memchr(text, 0, len)) {
                d->refused = true;
                return 0;
        }
        text[strcspn(text, "\n")] = 0;
        if (!text[0])
                return 0;
        int r = set_product(d, text);
        if (r < 0)
                return r;
        d->distro = DISTRO_DEBIAN;
        parse_version(text, d);
        return 1;
}

/* A release file this engine does not parse: present, it is refused. */
static int parse_unsupported(const ReleaseSource *src, const char *path, Data *d) {
        d->refused = true;
        return 0;
}

static const struct {
        const char *path;
        Parser parse;
} tests[] = {
        {"/etc/os-release", parse_os_release},
        {"/etc/lsb-release", parse_lsb_release},
        {"/etc/openmandriva-release", parse_unsupported},
        {"/etc/oracle-release", parse_unsupported},
        {"/etc/centos-release", parse_unsupported},
        {"/etc/rocky-release", parse_unsupported},
        {"/etc/altlinux-release", parse_unsupported},
        {"/etc/redhat-release", parse_unsupported},
        {"/etc/debian_version", parse_debian_version},
        {"/etc/pardus-release", parse_unsupported},
        {"/etc/arch-release", parse_unsupported},
        {"/etc/gentoo-release", parse_unsupported},
        {"/etc/meego-release", parse_unsupported},
        {"/etc/slackware-version", parse_unsupported},
        {"/etc/ttylinux-target", parse_unsupported},
        {"/etc/SuSE-release", parse_unsupported},
        {"/etc/cirros/version", parse_unsupported},
        {"/etc/br-version", parse_unsupported},
        {"/etc/alpine-release", parse_unsupported},
        {"/etc/frugalware-release", parse_unsupported},
        {"/etc/pld-release", parse_unsupported},
};

int release_product_name(const ReleaseSource *src, char **ret, Error *e) {
        Data d = {};
        int r = 0;
        const char *refused_by = NULL;

        for (size_t i = 0; i < ELEMENTSOF(tests); i++) {
                if (!src->is_file(src->userdata, tests[i].path))
                        continue;
                r = tests[i].parse(src, tests[i].path, &d);
                if (d.refused) {
                        refused_by = tests[i].path;
                        break;
                }
                if (r != 0)
                        break;
        }
        if (r < 0) {
                free(d.product);
                return error_set(e, ERR_INTERNAL, "out of memory");
        }
        if (refused_by) {
                free(d.product);
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: a release file the direct engine does not read",
                                 refused_by);
        }
        *ret = d.product ? d.product : strdup("unknown");
        return *ret ? 0 : error_set(e, ERR_INTERNAL, "out of memory");
}

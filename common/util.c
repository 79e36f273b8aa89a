#include "common/util.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

int strv_push(char ***l, size_t *n, char *s) {
        char **nl = realloc(*l, sizeof(char *) * (*n + 2));
        if (!nl) {
                free(s);
                return -ENOMEM;
        }
        nl[(*n)++] = s;
        nl[*n] = NULL;
        *l = nl;
        return 0;
}

int strv_extend(char ***l, size_t *n, const char *s) {
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        return strv_push(l, n, c);
}

bool strv_contains(char *const *l, const char *s) {
        if (l)
                for (char *const *i = l; *i; i++)
                        if (strcmp(*i, s) == 0)
                                return true;
        return false;
}

int path_compare(const char *a, const char *b) {
        const unsigned char *x = (const unsigned char *) a, *y = (const unsigned char *) b;

        for (;; x++, y++) {
                /* NUL (end) sorts first, then '/', then every other byte in
                 * its order (0x01 after '/', not level with it). */
                unsigned cx = *x == 0 ? 0 : *x == '/' ? 1 : *x + 1u;
                unsigned cy = *y == 0 ? 0 : *y == '/' ? 1 : *y + 1u;

                if (cx != cy)
                        return cx < cy ? -1 : 1;
                if (cx == 0)
                        return 0;
        }
}

char *path_join(const char *dir, const char *name) {
        size_t ld = strlen(dir);
        while (ld > 0 && dir[ld - 1] == '/')
                ld--;
        while (*name == '/')
                name++;
        size_t ln = strlen(name);
        char *r = malloc(ld + 1 + ln + 1);
        if (!r)
                return NULL;
        memcpy(r, dir, ld);
        r[ld] = '/';
        memcpy(r + ld + 1, name, ln + 1);
        return r;
}

bool utf8_is_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s, *end = p + len;

        while (p < end) {
                unsigned c = *p;
                size_t n;
                uint32_t cp;

                if (c < 0x80) {
                        p++;
                        continue;
                }
                if ((c & 0xe0) == 0xc0) {
                        n = 1;
                        cp = c & 0x1f;
                } else if ((c & 0xf0) == 0xe0) {
                        n = 2;
                        cp = c & 0x0f;
                } else if ((c & 0xf8) == 0xf0) {
                        n = 3;
                        cp = c & 0x07;
                } else
                        return false;
                if ((size_t) (end - p) <= n)
                        return false;
                for (size_t i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                p += n + 1;
        }
        return true;
}

char *hexmem(const uint8_t *p, size_t len) {
        static const char digits[] = "0123456789abcdef";
        char *r = malloc(len * 2 + 1);
        if (!r)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                r[2 * i] = digits[p[i] >> 4];
                r[2 * i + 1] = digits[p[i] & 15];
        }
        r[len * 2] = 0;
        return r;
}

static int unhex_char(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int unhexmem(const char *s, uint8_t *ret, size_t len) {
        if (strlen(s) != len * 2)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                int hi = unhex_char(s[2 * i]), lo = unhex_char(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                ret[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;
        (void) clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

uint64_t now_usec_monotonic(void) {
        return now_usec(CLOCK_MONOTONIC);
}

uint64_t now_usec_realtime(void) {
        return now_usec(CLOCK_REALTIME);
}

int boot_id(char ret[static 37]) {
        _cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
        char line[64];
        if (!f)
                return -errno;
        if (!fgets(line, sizeof line, f))
                return -EIO;
        line[strcspn(line, "\n")] = 0;
        if (strlen(line) != 36)
                return -EIO;
        memcpy(ret, line, 37);
        return 0;
}

int process_start_ticks(pid_t pid, uint64_t *ret) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return n < 0 ? -errno : -EIO;
        buf[n] = 0;
        /* The command name may hold anything, ')' too: fields follow the last one. */
        char *p = strrchr(buf, ')');
        if (!p || !p[1] || !p[2])
                return -EIO;
        /* A zombie has ended, whoever has not reaped it yet. */
        if (p[2] == 'Z' || p[2] == 'X')
                return -ESRCH;
        /* starttime is field 22; state (field 3) comes right after the name. */
        unsigned long long v = 0;
        for (int field = 3; field <= 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EIO;
                p++;
                if (field == 22 && sscanf(p, "%llu", &v) != 1)
                        return -EIO;
        }
        *ret = v;
        return 0;
}

static int rm_entry(const char *path, const struct stat *st _unused_, int type _unused_, struct FTW *ftw _unused_) {
        (void) remove(path);
        return 0;
}

void rm_rf(const char *dir) {
        if (dir)
                (void) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int fopen_temporary(const char *path, FILE **ret_f, char **ret_tmp) {
        _cleanup_free_ char *tmp = NULL;
        FILE *f;
        mode_t mask;
        int fd;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* mkostemp makes it 0600: give it the mode a new file would get. */
        mask = umask(0);
        umask(mask);
        (void) fchmod(fd, 0666 & ~mask);
        f = fdopen(fd, "w");
        if (!f) {
                int r = -errno;
                (void) close(fd);
                (void) unlink(tmp);
                return r;
        }
        *ret_f = f;
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

int fclose_and_rename(FILE *f, char *tmp, const char *path, int r) {
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        free(tmp);
        return r;
}

static size_t utf8_sequence_length(unsigned char c) {
        return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
}

char *utf8_lossy(const char *s, size_t len, size_t *ret_len) {
        char *r = len <= (SIZE_MAX - 1) / 3 ? malloc(len * 3 + 1) : NULL;
        size_t o = 0;

        if (!r)
                return NULL;
        for (size_t i = 0; i < len;) {
                size_t n = utf8_sequence_length((unsigned char) s[i]);

                if (s[i] != 0 && n > 0 && n <= len - i && utf8_is_valid(s + i, n)) {
                        memcpy(r + o, s + i, n);
                        o += n;
                        i += n;
                } else {
                        memcpy(r + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                }
        }
        r[o] = 0;
        *ret_len = o;
        return r;
}

int fd_reopen_readonly(int fd) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        int r = open(path, O_RDONLY | O_CLOEXEC);
        return r < 0 ? -errno : r;
}

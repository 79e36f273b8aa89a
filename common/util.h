/* Small helpers shared by every module: cleanup attributes, ownership
 * transfer, string vectors and byte-string paths. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define TAKE_PTR(p)                              \
        ({                                       \
                __typeof__(p) _p_ = (p);         \
                (p) = NULL;                      \
                _p_;                             \
        })

#define TAKE_FD(fd)                              \
        ({                                       \
                int _fd_ = (fd);                 \
                (fd) = -1;                       \
                _fd_;                            \
        })

static inline void freep(void *p) {
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline const char *strempty(const char *s) {
        return s ? s : "";
}

/* NULL-terminated string vectors, as libguestfs returns them. */
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char *const *l);
int strv_push(char ***l, size_t *n, char *s); /* takes s, even on failure */
int strv_extend(char ***l, size_t *n, const char *s);
bool strv_contains(char *const *l, const char *s);
#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

/* Paths are byte strings compared component by component: '/' sorts before
 * every other byte, so a directory's descendants follow it directly and
 * "dir/x" never lands between "dir" and "dir-x". */
int path_compare(const char *a, const char *b);

/* Joins a directory and a name with exactly one '/'. */
char *path_join(const char *dir, const char *name);

/* Valid UTF-8 with no overlong forms or surrogates? */
bool utf8_is_valid(const char *s, size_t len);
/* A copy with valid sequences kept and every other byte (and NUL, which
 * would cut the string short in C readers) replaced by U+FFFD; NUL
 * terminated, *ret_len its length. */
char *utf8_lossy(const char *s, size_t len, size_t *ret_len);

char *hexmem(const uint8_t *p, size_t len);
int unhexmem(const char *s, uint8_t *ret, size_t len);

/* Removes a directory and everything under it, never following a
 * symbolic link or crossing into another filesystem. */
void rm_rf(const char *dir);

/* A new file beside path, to be renamed over it once it is whole, as
 * systemd's fopen_temporary(): a reader never sees half of it, and an old
 * file stays until the new one is complete. Mode 0666 less the umask. */
int fopen_temporary(const char *path, FILE **ret_f, char **ret_tmp);
/* Closes f and, when r (the writing's outcome) and the close succeeded,
 * renames tmp to path; otherwise removes tmp. Frees tmp; returns r or
 * the first failure. */
int fclose_and_rename(FILE *f, char *tmp, const char *path, int r);

/* A new read-only fd on what fd is open on (an anonymous file too), with
 * an offset of its own, through /proc/self/fd: the fd, or -errno. */
int fd_reopen_readonly(int fd);

/* Monotonic and wall clocks in microseconds. */
uint64_t now_usec_monotonic(void);
uint64_t now_usec_realtime(void);

/* This boot's id (/proc/sys/kernel/random/boot_id, 36 characters). */
int boot_id(char ret[static 37]);
/* When a process started, in clock ticks after boot (/proc/PID/stat): with
 * the boot id and the pid, a name no other process will ever have. -ESRCH
 * for one that has ended (a zombie too). */
int process_start_ticks(pid_t pid, uint64_t *ret);

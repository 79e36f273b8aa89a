#include "job/job-pending.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/log.h"

#define MAGIC "virt-diffd job record 1"
/* A record is a few hundred bytes: anything much larger is not one. */
#define RECORD_MAX 8192

static char *path_of(const char *dir, uint64_t id) {
        char *p;
        return asprintf(&p, "%s/%" PRIu64, dir, id) < 0 ? NULL : p;
}

/* One line each: a newline in a value (an error message naming a file)
 * would start another. */
static void put(FILE *f, const char *key, const char *value) {
        fprintf(f, "%s=", key);
        for (const char *c = value; *c; c++)
                fputc(*c == '\n' ? ' ' : *c, f);
        fputc('\n', f);
}

static char *result_path_of(const char *dir, uint64_t id) {
        char *p;
        return asprintf(&p, "%s/%" PRIu64 ".result", dir, id) < 0 ? NULL : p;
}

int job_pending_write_result(const char *dir, uint64_t id, int fd) {
        _cleanup_free_ char *path = dir ? result_path_of(dir, id) : NULL, *tmp = NULL;
        if (!path || asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        /* Written once: a result does not change. */
        if (access(path, F_OK) == 0)
                return 0;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size < 0 || (uint64_t) st.st_size > STORE_RESULT_MAX)
                return -EFBIG;
        _cleanup_close_ int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0)
                return -errno;
        char buf[65536];
        off_t at = 0;
        int r = 0;
        while (r == 0 && at < st.st_size) {
                ssize_t n = pread(fd, buf, sizeof buf, at);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : -EIO;
                        break;
                }
                for (ssize_t done = 0; r == 0 && done < n;) {
                        ssize_t w = write(out, buf + done, (size_t) (n - done));
                        if (w < 0 && errno != EINTR)
                                r = -errno;
                        else if (w > 0)
                                done += w;
                }
                at += n;
        }
        if (r == 0 && close(TAKE_FD(out)) < 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int job_pending_read_result(const char *dir, uint64_t id, void **ret, size_t *ret_len) {
        _cleanup_free_ char *path = dir ? result_path_of(dir, id) : NULL;
        if (!path)
                return dir ? -ENOMEM : 0;
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        struct stat st;
        if (fstat(fileno(f), &st) < 0)
                return -errno;
        if (st.st_size < 0 || (uint64_t) st.st_size > STORE_RESULT_MAX)
                return -EFBIG;
        _cleanup_free_ char *data = malloc((size_t) st.st_size + 1);
        if (!data)
                return -ENOMEM;
        if (fread(data, 1, (size_t) st.st_size, f) != (size_t) st.st_size)
                return -EIO;
        *ret = TAKE_PTR(data);
        *ret_len = (size_t) st.st_size;
        return 1;
}

int job_pending_write(const char *dir, const char *store_path, const StoreJob *row) {
        if (!dir || !store_path || !row || !row->daemon || row->id == 0)
                return -EINVAL;
        int r = mkdir(dir, 0700) < 0 ? -errno : 0;
        if (r == -ENOENT) {
                /* Its parent, the daemon's runtime directory, too. */
                _cleanup_free_ char *parent = strdup(dir);
                char *slash = parent ? strrchr(parent, '/') : NULL;
                if (slash && slash != parent) {
                        *slash = 0;
                        (void) mkdir(parent, 0755);
                }
                r = mkdir(dir, 0700) < 0 ? -errno : 0;
        }
        if (r < 0 && r != -EEXIST)
                return r;
        _cleanup_free_ char *path = path_of(dir, row->id), *tmp = NULL;
        if (!path || asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        FILE *f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                (void) unlink(tmp);
                return r;
        }
        fprintf(f, "%s\n", MAGIC);
        put(f, "store", store_path);
        put(f, "daemon", row->daemon);
        if (row->owner)
                put(f, "owner", row->owner);
        fprintf(f, "kind=%d\nowner_uid=%" PRId64 "\ndetached=%d\ncreated=%" PRIu64 "\n", (int) row->kind,
                row->owner_uid, row->detached ? 1 : 0, row->created_usec);
        fprintf(f, "state=%d\ndifferences=%d\nerror=%d\nfinished=%" PRIu64 "\n", (int) row->state,
                row->differences ? 1 : 0, (int) row->error, row->finished_usec);
        if (row->error_message)
                put(f, "message", row->error_message);
        bool ok = fflush(f) == 0 && !ferror(f);
        ok &= fclose(f) == 0;
        if (!ok || rename(tmp, path) < 0) {
                r = errno ? -errno : -EIO;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

static int parse_int(const char *v, long long lo, long long hi, long long *ret) {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || end == v || *end || n < lo || n > hi)
                return -EBADMSG;
        *ret = n;
        return 0;
}

static int parse_line(StoreJob *row, const char *store_path, char *line, bool *ret_ours) {
        char *eq = strchr(line, '=');
        if (!eq)
                return -EBADMSG;
        *eq = 0;
        const char *key = line, *v = eq + 1;
        long long n = 0;
        char **str = NULL;
        if (strcmp(key, "store") == 0) {
                *ret_ours = strcmp(v, store_path) == 0;
                return 0;
        }
        if (strcmp(key, "daemon") == 0)
                str = &row->daemon;
        else if (strcmp(key, "owner") == 0)
                str = &row->owner;
        else if (strcmp(key, "message") == 0)
                str = &row->error_message;
        if (str) {
                free(*str);
                return (*str = strdup(v)) ? 0 : -ENOMEM;
        }
        if (strcmp(key, "owner_uid") == 0) {
                int r = parse_int(v, -1, UINT32_MAX, &n);
                row->owner_uid = n;
                return r;
        }
        /* Times and small enumerations: what the numbers may be. */
        static const struct {
                const char *key;
                long long max;
        } nums[] = {{"kind", 255}, {"detached", 1}, {"created", INT64_MAX}, {"state", _JOB_STATE_MAX - 1},
                    {"differences", 1}, {"error", _ERR_MAX - 1}, {"finished", INT64_MAX}};
        for (size_t i = 0; i < ELEMENTSOF(nums); i++) {
                if (strcmp(key, nums[i].key) != 0)
                        continue;
                int r = parse_int(v, 0, nums[i].max, &n);
                if (r < 0)
                        return r;
                switch (i) {
                case 0: row->kind = (JobKind) n; break;
                case 1: row->detached = n; break;
                case 2: row->created_usec = (uint64_t) n; break;
                case 3: row->state = (JobState) n; break;
                case 4: row->differences = n; break;
                case 5: row->error = (ErrorCode) n; break;
                default: row->finished_usec = (uint64_t) n; break;
                }
                return 0;
        }
        return 0; /* a later version's field */
}

int job_pending_read(const char *dir, const char *store_path, uint64_t id, StoreJob *ret) {
        if (!dir || !store_path)
                return 0;
        _cleanup_free_ char *path = path_of(dir, id);
        if (!path)
                return -ENOMEM;
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        char buf[RECORD_MAX + 1];
        size_t len = fread(buf, 1, RECORD_MAX + 1, f);
        if (len > RECORD_MAX || ferror(f))
                return -EBADMSG;
        buf[len] = 0;

        StoreJob row = {.id = id, .owner_uid = -1, .state = JOB_STATE_RUNNING};
        bool ours = false;
        int r = 0;
        char *save = NULL, *line = strtok_r(buf, "\n", &save);
        if (!line || strcmp(line, MAGIC) != 0)
                r = -EBADMSG;
        while (r >= 0 && (line = strtok_r(NULL, "\n", &save)))
                r = parse_line(&row, store_path, line, &ours);
        if (r >= 0 && ours && !row.daemon)
                r = -EBADMSG;
        if (r < 0 || !ours) {
                store_job_done(&row);
                return r;
        }
        *ret = row;
        return 1;
}

void job_pending_remove(const char *dir, uint64_t id) {
        _cleanup_free_ char *path = dir ? path_of(dir, id) : NULL, *result = dir ? result_path_of(dir, id) : NULL;
        if (path && unlink(path) < 0 && errno != ENOENT)
                log_debug("Cannot remove %s: %s", path, strerror(errno));
        if (result)
                (void) unlink(result);
}

static int cmp_id(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

int job_pending_list(const char *dir, const char *store_path, uint64_t keep_usec, uint64_t **ret_ids,
                     size_t *ret_n) {
        *ret_ids = NULL;
        *ret_n = 0;
        if (!dir || !store_path)
                return 0;
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        uint64_t *ids = NULL, now = now_usec_realtime();
        size_t n = 0;
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (de = readdir(d))) {
                char *end;
                errno = 0;
                unsigned long long id = strtoull(de->d_name, &end, 10);
                if (de->d_name[0] < '1' || de->d_name[0] > '9' || *end || errno)
                        continue; /* ".", "..", a half-written ID.tmp */
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                uint64_t mtime = (uint64_t) st.st_mtim.tv_sec * 1000000 + (uint64_t) st.st_mtim.tv_nsec / 1000;
                StoreJob row;
                int k = mtime + keep_usec < now ? -ESTALE : job_pending_read(dir, store_path, id, &row);
                if (k < 0) {
                        if (k != -ESTALE)
                                log_info("Removing %s/%s, not a job record: %s", dir, de->d_name, strerror(-k));
                        job_pending_remove(dir, id);
                        continue;
                }
                if (k == 0)
                        continue; /* another store's */
                store_job_done(&row);
                uint64_t *l = realloc(ids, (n + 1) * sizeof(*ids));
                if (!l) {
                        r = -ENOMEM;
                        break;
                }
                ids = l;
                ids[n++] = id;
        }
        closedir(d);
        if (r < 0) {
                free(ids);
                return r;
        }
        if (n)
                qsort(ids, n, sizeof(*ids), cmp_id);
        *ret_ids = ids;
        *ret_n = n;
        return 0;
}

#include "source/image-key.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#define CHUNK_SIZE (UINT64_C(1) << 20)
#define MAX_THREADS 8
#define FILE_DOMAIN "virt-diffd-fingerprint-v1"

/* Holes are reported to the sink in batches: a sparse terabyte would
 * otherwise be a million wake-ups of the job. */
#define PROGRESS_BATCH (UINT64_C(64) << 20)

/* SHA-256 of CHUNK_SIZE zero bytes: what every chunk inside a hole hashes to. */
static const uint8_t zero_chunk_hash[FINGERPRINT_SIZE] = {
        0x30, 0xe1, 0x49, 0x55, 0xeb, 0xf1, 0x35, 0x22, 0x66, 0xdc, 0x2f, 0xf8, 0x06, 0x7e, 0x68, 0x10,
        0x46, 0x07, 0xe7, 0x50, 0xab, 0xb9, 0xd3, 0xb3, 0x65, 0x82, 0xb8, 0xaf, 0x90, 0x9f, 0xcb, 0x58,
};

typedef enum HashFailure {
        HASH_OK,
        HASH_CANCELLED,
        HASH_NO_MEMORY,
        HASH_READ,
        HASH_SHRANK,
        HASH_DIGEST,
} HashFailure;

/* State shared by the threads hashing one file. */
typedef struct Hasher {
        int fd;
        uint64_t size, n_chunks;
        bool seek_holes;
        const ProgressSink *progress;
        uint8_t (*hashes)[FINGERPRINT_SIZE];

        atomic_uint_fast64_t next_chunk;
        atomic_bool stop;

        /* The first failure wins; the others are its consequences. */
        pthread_mutex_t lock;
        HashFailure failure;
        int failure_errno;
        uint64_t failure_offset;
} Hasher;

static void evp_md_ctx_freep(EVP_MD_CTX **c) {
        EVP_MD_CTX_free(*c);
}

static void le64(uint8_t out[8], uint64_t v) {
        for (unsigned i = 0; i < 8; i++)
                out[i] = (uint8_t) (v >> (8 * i));
}

static void file_stat_from_stat(const struct stat *st, FileStat *ret) {
        *ret = (FileStat) {
                .dev = (uint64_t) st->st_dev,
                .ino = (uint64_t) st->st_ino,
                .size = (uint64_t) st->st_size,
                .mtime_ns = (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
                .ctime_ns = (int64_t) st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec,
        };
}

int fingerprint_stat(const char *path, FileStat *ret) {
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        /* Only a regular file's stat moves whenever its content does. A
         * block device node reads size 0 and keeps its times while the
         * device is written through a mounted filesystem, a loop or
         * device-mapper stack or another node: a stat record of it would
         * hand out a stale key, so it gets none and is always hashed. */
        if (!S_ISREG(st.st_mode))
                return -ENOTSUP;
        file_stat_from_stat(&st, ret);
        return 0;
}

bool file_stat_equal(const FileStat *a, const FileStat *b) {
        return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
               a->ctime_ns == b->ctime_ns;
}

void fingerprint_combine(const char *domain, const uint8_t (*keys)[FINGERPRINT_SIZE], size_t n,
                         const char *const *labels, uint8_t ret[FINGERPRINT_SIZE]) {
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
                  EVP_DigestUpdate(ctx, domain, strlen(domain));

        for (size_t i = 0; ok && i < n; i++) {
                const char *label = labels ? strempty(labels[i]) : "";
                size_t len = strlen(label);
                uint8_t len_le[8];

                le64(len_le, len);
                ok = EVP_DigestUpdate(ctx, len_le, sizeof len_le) && EVP_DigestUpdate(ctx, label, len) &&
                     EVP_DigestUpdate(ctx, keys[i], FINGERPRINT_SIZE);
        }
        ok = ok && EVP_DigestFinal_ex(ctx, ret, NULL);

        /* Only an allocation failure gets here. The contract has no way to
         * say so, and any made-up key could match another side's cache
         * entry: a wrong diff is worse than a crash. */
        if (!ok)
                abort();
}

static void hasher_fail(Hasher *h, HashFailure f, int err, uint64_t offset) {
        pthread_mutex_lock(&h->lock);
        if (h->failure == HASH_OK) {
                h->failure = f;
                h->failure_errno = err;
                h->failure_offset = offset;
        }
        pthread_mutex_unlock(&h->lock);
        atomic_store(&h->stop, true);
}

/* Whether [off, off + len) lies inside a hole. Workers take chunks in
 * increasing order, so the last answer (no data in [hole_from, hole_to))
 * usually covers the next hole chunk without another lseek(). */
static bool chunk_in_hole(Hasher *h, uint64_t off, uint64_t len, uint64_t *hole_from, uint64_t *hole_to) {
        if (!h->seek_holes)
                return false;
        if (off >= *hole_from && off + len <= *hole_to)
                return true;

        off_t data = lseek(h->fd, (off_t) off, SEEK_DATA);
        if (data < 0) {
                /* Reading is always right; a failed lseek only costs time. */
                if (errno != ENXIO)
                        return false;
                data = (off_t) h->size;
        }
        *hole_from = off;
        *hole_to = (uint64_t) data;
        return off + len <= *hole_to;
}

static int read_full(int fd, uint8_t *buf, uint64_t len, uint64_t off) {
        while (len > 0) {
                ssize_t n = pread(fd, buf, len, (off_t) off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -ENODATA;
                buf += n;
                len -= (uint64_t) n;
                off += (uint64_t) n;
        }
        return 0;
}

static void *hasher_run(void *userdata) {
        Hasher *h = userdata;
        _cleanup_free_ uint8_t *buf = NULL;
        uint64_t hole_from = 0, hole_to = 0, unreported = 0;

        while (!atomic_load_explicit(&h->stop, memory_order_relaxed)) {
                if (progress_cancelled(h->progress)) {
                        hasher_fail(h, HASH_CANCELLED, 0, 0);
                        break;
                }

                uint64_t i = atomic_fetch_add_explicit(&h->next_chunk, 1, memory_order_relaxed);
                if (i >= h->n_chunks)
                        break;
                uint64_t off = i * CHUNK_SIZE, len = h->size - off < CHUNK_SIZE ? h->size - off : CHUNK_SIZE;
                bool hole = chunk_in_hole(h, off, len, &hole_from, &hole_to);

                if (hole && len == CHUNK_SIZE)
                        memcpy(h->hashes[i], zero_chunk_hash, FINGERPRINT_SIZE);
                else {
                        /* Allocated on first use: a hole-only file needs no buffer. */
                        if (!buf && posix_memalign((void **) &buf, 4096, CHUNK_SIZE) != 0) {
                                buf = NULL;
                                hasher_fail(h, HASH_NO_MEMORY, ENOMEM, off);
                                break;
                        }
                        if (hole)
                                memset(buf, 0, len);
                        else {
                                int r = read_full(h->fd, buf, len, off);
                                if (r == -ENODATA) {
                                        hasher_fail(h, HASH_SHRANK, 0, off);
                                        break;
                                }
                                if (r < 0) {
                                        hasher_fail(h, HASH_READ, -r, off);
                                        break;
                                }
                        }
                        if (!EVP_Digest(buf, len, h->hashes[i], NULL, EVP_sha256(), NULL)) {
                                hasher_fail(h, HASH_DIGEST, 0, off);
                                break;
                        }
                }

                unreported += len;
                if (!hole || unreported >= PROGRESS_BATCH) {
                        progress_bytes(h->progress, unreported, 0);
                        unreported = 0;
                }
        }

        if (unreported > 0)
                progress_bytes(h->progress, unreported, 0);
        return NULL;
}

static unsigned n_workers(uint64_t n_chunks) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        uint64_t n = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (uint64_t) cpus;

        if (n > n_chunks)
                n = n_chunks;
        return n < 1 ? 1 : (unsigned) n;
}

/* Hashes every chunk into h->hashes with up to MAX_THREADS threads, the
 * calling one included. */
static void hasher_run_all(Hasher *h) {
        pthread_t threads[MAX_THREADS - 1];
        unsigned n = n_workers(h->n_chunks), started = 0;

        /* A thread that cannot be started only means fewer workers. */
        for (unsigned i = 0; i + 1 < n; i++) {
                if (pthread_create(&threads[started], NULL, hasher_run, h) != 0)
                        break;
                started++;
        }
        hasher_run(h);
        for (unsigned i = 0; i < started; i++)
                (void) pthread_join(threads[i], NULL);
}

static int hasher_error(const Hasher *h, const char *path, Error *e) {
        switch (h->failure) {
        case HASH_CANCELLED:
                return error_set(e, ERR_CANCELLED, "%s: cancelled", path);
        case HASH_NO_MEMORY:
                return error_set(e, ERR_INTERNAL, "%s: out of memory", path);
        case HASH_READ:
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot read at offset %" PRIu64 ": %s", path,
                                 h->failure_offset, strerror(h->failure_errno));
        case HASH_SHRANK:
                return error_set(e, ERR_INVALID_IMAGE, "%s: file ended at offset %" PRIu64 " while being read",
                                 path, h->failure_offset);
        case HASH_DIGEST:
        default:
                return error_set(e, ERR_INTERNAL, "%s: SHA-256 failed", path);
        }
}

static int open_image(const char *path, struct stat *ret_st, uint64_t *ret_size, Error *e) {
        /* O_NONBLOCK so that a FIFO given as an image is refused below
         * instead of blocking this thread in open() until a writer comes. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return error_set(e, ERR_NO_SUCH_FILE, "%s: no such file", path);
                if (errno == EACCES || errno == EPERM)
                        return error_set(e, ERR_ACCESS_DENIED, "%s: permission denied", path);
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot open: %m", path);
        }
        if (fstat(fd, ret_st) < 0)
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot stat: %m", path);

        if (S_ISREG(ret_st->st_mode))
                *ret_size = (uint64_t) ret_st->st_size;
        else if (S_ISBLK(ret_st->st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, ret_size) < 0)
                        return error_set(e, ERR_INVALID_IMAGE, "%s: cannot get the device size: %m", path);
        } else if (S_ISDIR(ret_st->st_mode))
                return error_set(e, ERR_INVALID_IMAGE, "%s: is a directory, not a disk image", path);
        else
                return error_set(e, ERR_INVALID_IMAGE, "%s: not a regular file or block device", path);

        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot set flags: %m", path);
        return TAKE_FD(fd);
}

int fingerprint_file(const char *path, const ProgressSink *progress, uint8_t ret[FINGERPRINT_SIZE],
                     FileStat *ret_stat, Error *e) {
        struct stat st, st_after;
        uint64_t size;
        FileStat before, after;

        _cleanup_close_ int fd = open_image(path, &st, &size, e);
        if (fd < 0)
                return -1;
        file_stat_from_stat(&st, &before);
        (void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

        uint64_t n_chunks = size / CHUNK_SIZE + (size % CHUNK_SIZE != 0);
        if (n_chunks > SIZE_MAX / FINGERPRINT_SIZE)
                return error_set(e, ERR_INVALID_IMAGE, "%s: too large", path);
        _cleanup_free_ uint8_t(*hashes)[FINGERPRINT_SIZE] = calloc(n_chunks ? n_chunks : 1, FINGERPRINT_SIZE);
        if (!hashes)
                return error_set(e, ERR_INTERNAL, "%s: out of memory", path);

        /* Block devices have no holes to ask about; EINVAL means this
         * filesystem cannot tell, so everything is read. */
        bool seek_holes = false;
        if (S_ISREG(st.st_mode) && size > 0)
                seek_holes = lseek(fd, 0, SEEK_DATA) >= 0 || errno == ENXIO;

        Hasher h = {
                .fd = fd,
                .size = size,
                .n_chunks = n_chunks,
                .seek_holes = seek_holes,
                .progress = progress,
                .hashes = hashes,
                .lock = PTHREAD_MUTEX_INITIALIZER,
        };
        progress_bytes(progress, 0, size);
        hasher_run_all(&h);
        if (h.failure != HASH_OK)
                return hasher_error(&h, path, e);

        /* A key of bytes that were changing describes no state of the file,
         * and a stat record with it would hide the change. */
        if (fstat(fd, &st_after) < 0)
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot stat: %m", path);
        file_stat_from_stat(&st_after, &after);
        if (!file_stat_equal(&before, &after))
                return error_set(e, ERR_INVALID_IMAGE, "%s: changed while being read", path);

        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t size_le[8], key[FINGERPRINT_SIZE];
        le64(size_le, size);
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
            !EVP_DigestUpdate(ctx, FILE_DOMAIN, strlen(FILE_DOMAIN)) ||
            !EVP_DigestUpdate(ctx, size_le, sizeof size_le) ||
            !EVP_DigestUpdate(ctx, hashes, n_chunks * FINGERPRINT_SIZE) || !EVP_DigestFinal_ex(ctx, key, NULL))
                return error_set(e, ERR_INTERNAL, "%s: SHA-256 failed", path);

        memcpy(ret, key, FINGERPRINT_SIZE);
        if (ret_stat)
                *ret_stat = before;
        return 0;
}

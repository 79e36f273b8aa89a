/* Unit tests of image fingerprints on real files in a private directory:
 * sparse and dense copies agree, every change shows, progress and
 * cancellation work, keys match a plain single-threaded reference. Prints
 * the throughput on a 512 MiB file next to openssl and cat. */
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "common/test-util.h"
#include "source/image-key.h"

#define MiB (UINT64_C(1) << 20)
#define FILE_DOMAIN "virt-diffd-fingerprint-v1"

static char *tmpdir;


/* Setup that cannot fail in a test; if it does, nothing after it means anything. */
static void require_ok(bool ok, const char *what) {
        if (!ok) {
                fprintf(stderr, "setup failed: %s: %m\n", what);
                exit(1);
        }
}

static char *tmp_path(const char *name) {
        char *p = path_join(tmpdir, name);
        require_ok(p != NULL, "path_join");
        return p;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static void fill_random(uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                rng_state ^= rng_state << 13;
                rng_state ^= rng_state >> 7;
                rng_state ^= rng_state << 17;
                p[i] = (uint8_t) (rng_state >> 24);
        }
}

static void write_dense(const char *path, const uint8_t *buf, uint64_t size) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        require_ok(fd >= 0, path);
        for (uint64_t done = 0; done < size;) {
                ssize_t n = write(fd, buf + done, size - done);
                require_ok(n > 0, "write");
                done += (uint64_t) n;
        }
}

/* The same bytes with every all-zero 4 KiB block left as a hole. */
static void write_sparse(const char *path, const uint8_t *buf, uint64_t size) {
        static const uint8_t zeros[4096];
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        require_ok(fd >= 0, path);
        require_ok(ftruncate(fd, (off_t) size) == 0, "ftruncate");
        for (uint64_t off = 0; off < size; off += sizeof zeros) {
                size_t len = size - off < sizeof zeros ? size - off : sizeof zeros;
                if (memcmp(buf + off, zeros, len) != 0)
                        require_ok(pwrite(fd, buf + off, len, (off_t) off) == (ssize_t) len, "pwrite");
        }
}

static void le64(uint8_t out[8], uint64_t v) {
        for (unsigned i = 0; i < 8; i++)
                out[i] = (uint8_t) (v >> (8 * i));
}

/* The key as the header defines it, computed the plain way: one thread,
 * every byte read, no holes. */
static void reference_key(const char *path, uint8_t ret[FINGERPRINT_SIZE]) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ uint8_t *chunk = malloc(MiB);
        EVP_MD_CTX *outer = EVP_MD_CTX_new();
        uint8_t size_le[8], h[FINGERPRINT_SIZE];
        struct stat st;

        require_ok(fd >= 0 && chunk && outer && fstat(fd, &st) == 0, "reference_key");
        le64(size_le, (uint64_t) st.st_size);
        require_ok(EVP_DigestInit_ex(outer, EVP_sha256(), NULL) && EVP_DigestUpdate(outer, FILE_DOMAIN, strlen(FILE_DOMAIN)) &&
                     EVP_DigestUpdate(outer, size_le, 8),
             "digest");
        for (;;) {
                size_t got = 0;
                while (got < MiB) {
                        ssize_t n = read(fd, chunk + got, MiB - got);
                        require_ok(n >= 0, "read");
                        if (n == 0)
                                break;
                        got += (size_t) n;
                }
                if (got == 0)
                        break;
                require_ok(EVP_Digest(chunk, got, h, NULL, EVP_sha256(), NULL) && EVP_DigestUpdate(outer, h, sizeof h),
                     "digest");
        }
        require_ok(EVP_DigestFinal_ex(outer, ret, NULL), "digest");
        EVP_MD_CTX_free(outer);
}

static int key_of(const char *path, uint8_t ret[FINGERPRINT_SIZE]) {
        Error e = {};
        int r = fingerprint_file(path, NULL, ret, NULL, &e);
        if (r < 0)
                fprintf(stderr, "fingerprint_file: %s\n", e.message);
        return r;
}

/* Checks that path's key equals the reference and returns it. */
static void key_checked(const char *path, uint8_t ret[FINGERPRINT_SIZE]) {
        uint8_t ref[FINGERPRINT_SIZE];

        CHECK(key_of(path, ret) == 0);
        reference_key(path, ref);
        CHECK(memcmp(ret, ref, FINGERPRINT_SIZE) == 0);
}

static bool is_sparse(const char *path) {
        struct stat st;
        return stat(path, &st) == 0 && (uint64_t) st.st_blocks * 512 < (uint64_t) st.st_size;
}

/* 5 MiB + 12345: chunks 1 and 4 are holes, chunk 2-3 data across a
 * boundary, the short last chunk partly data. */
#define MIXED_SIZE (5 * MiB + 12345)

static uint8_t *mixed_content(void) {
        uint8_t *buf = calloc(1, MIXED_SIZE);
        require_ok(buf != NULL, "calloc");
        fill_random(buf + 100, 10000);
        fill_random(buf + 2 * MiB + MiB / 2, MiB);
        fill_random(buf + 5 * MiB + 5000, 1000);
        return buf;
}

static void test_sparse_dense(void) {
        _cleanup_free_ uint8_t *buf = mixed_content();
        _cleanup_free_ char *sparse = tmp_path("sparse"), *dense = tmp_path("dense");
        uint8_t a[FINGERPRINT_SIZE], b[FINGERPRINT_SIZE];

        write_sparse(sparse, buf, MIXED_SIZE);
        write_dense(dense, buf, MIXED_SIZE);
        if (!is_sparse(sparse))
                printf("note: %s does not keep holes; the hole path is not exercised\n", tmpdir);
        CHECK(!is_sparse(dense));
        key_checked(sparse, a);
        key_checked(dense, b);
        CHECK(memcmp(a, b, sizeof a) == 0);

        /* A file of holes only, its short last chunk a hole too. */
        _cleanup_free_ char *holes = tmp_path("holes"), *zeros = tmp_path("zeros");
        _cleanup_free_ uint8_t *z = calloc(1, 3 * MiB + 100);
        require_ok(z != NULL, "calloc");
        write_sparse(holes, z, 3 * MiB + 100);
        write_dense(zeros, z, 3 * MiB + 100);
        key_checked(holes, a);
        key_checked(zeros, b);
        CHECK(memcmp(a, b, sizeof a) == 0);
}

static void test_one_byte(void) {
        _cleanup_free_ uint8_t *buf = mixed_content();
        _cleanup_free_ char *path = tmp_path("one-byte");
        static const uint64_t offsets[] = {0, 3 * MiB + 7, MiB + MiB / 2, MIXED_SIZE - 1};
        uint8_t orig[FINGERPRINT_SIZE], k[FINGERPRINT_SIZE];

        write_sparse(path, buf, MIXED_SIZE);
        key_checked(path, orig);
        /* The first chunk, a middle one, a byte in a hole, the last short one. */
        for (size_t i = 0; i < ELEMENTSOF(offsets); i++) {
                buf[offsets[i]] ^= 0x01;
                write_sparse(path, buf, MIXED_SIZE);
                key_checked(path, k);
                CHECK(memcmp(orig, k, sizeof k) != 0);
                buf[offsets[i]] ^= 0x01;
        }
        write_sparse(path, buf, MIXED_SIZE);
        CHECK(key_of(path, k) == 0 && memcmp(orig, k, sizeof k) == 0);
}

static void test_sizes(void) {
        _cleanup_free_ char *empty = tmp_path("empty"), *one = tmp_path("one-mib"), *one1 = tmp_path("one-mib-1"),
                            *hole = tmp_path("one-mib-hole");
        _cleanup_free_ uint8_t *buf = malloc(MiB + 1);
        uint8_t a[FINGERPRINT_SIZE], b[FINGERPRINT_SIZE], c[FINGERPRINT_SIZE], expect[FINGERPRINT_SIZE];
        uint8_t zero_le[8] = {};

        require_ok(buf != NULL, "malloc");
        write_dense(empty, buf, 0);
        key_checked(empty, a);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        require_ok(ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
                     EVP_DigestUpdate(ctx, FILE_DOMAIN, strlen(FILE_DOMAIN)) && EVP_DigestUpdate(ctx, zero_le, 8) &&
                     EVP_DigestFinal_ex(ctx, expect, NULL),
             "digest");
        EVP_MD_CTX_free(ctx);
        CHECK(memcmp(a, expect, sizeof a) == 0);

        fill_random(buf, MiB + 1);
        write_dense(one, buf, MiB);
        write_dense(one1, buf, MiB + 1);
        key_checked(one, b);
        key_checked(one1, c);
        CHECK(memcmp(a, b, sizeof a) != 0);
        CHECK(memcmp(b, c, sizeof b) != 0);

        /* One whole hole chunk: checks the precomputed zero-chunk hash. */
        memset(buf, 0, MiB);
        write_sparse(hole, buf, MiB);
        key_checked(hole, a);
}

static void test_append_zeros(void) {
        _cleanup_free_ uint8_t *buf = calloc(1, 2 * MiB);
        _cleanup_free_ char *base = tmp_path("base"), *dense = tmp_path("base-dense-zeros"),
                            *sparse = tmp_path("base-sparse-zeros"), *exact = tmp_path("base-exact"),
                            *exact2 = tmp_path("base-exact-zeros");
        uint8_t a[FINGERPRINT_SIZE], b[FINGERPRINT_SIZE], c[FINGERPRINT_SIZE];

        require_ok(buf != NULL, "calloc");
        fill_random(buf, 300000);
        write_dense(base, buf, 300000);
        write_dense(dense, buf, 300000 + 4096);
        write_sparse(sparse, buf, 300000 + 4096);
        key_checked(base, a);
        key_checked(dense, b);
        key_checked(sparse, c);
        CHECK(memcmp(a, b, sizeof a) != 0);
        CHECK(memcmp(b, c, sizeof b) == 0);

        /* Appending a whole chunk of zeros to a chunk-aligned file. */
        fill_random(buf, MiB);
        write_dense(exact, buf, MiB);
        write_sparse(exact2, buf, 2 * MiB);
        key_checked(exact, a);
        key_checked(exact2, b);
        CHECK(memcmp(a, b, sizeof a) != 0);
}

typedef struct Counter {
        atomic_uint_fast64_t done, total, total_calls, bytes_calls;
        uint64_t cancel_after; /* bytes_calls; 0 = never */
        bool cancel_now;
} Counter;

static void count_bytes(void *userdata, uint64_t done, uint64_t total) {
        Counter *c = userdata;
        atomic_fetch_add(&c->done, done);
        atomic_fetch_add(&c->total, total);
        if (total > 0)
                atomic_fetch_add(&c->total_calls, 1);
        atomic_fetch_add(&c->bytes_calls, 1);
}

static bool count_cancelled(void *userdata) {
        Counter *c = userdata;
        return c->cancel_now || (c->cancel_after > 0 && atomic_load(&c->bytes_calls) >= c->cancel_after);
}

static void check_progress(const char *path, uint64_t size) {
        Counter c = {};
        ProgressSink sink = {.bytes = count_bytes, .cancelled = count_cancelled, .userdata = &c};
        uint8_t k[FINGERPRINT_SIZE];
        Error e = {};

        CHECK(fingerprint_file(path, &sink, k, NULL, &e) == 0);
        CHECK(atomic_load(&c.total) == size);
        CHECK(atomic_load(&c.done) == size);
        CHECK(atomic_load(&c.total_calls) == (size > 0));
}

static void test_progress(void) {
        _cleanup_free_ uint8_t *buf = mixed_content();
        _cleanup_free_ char *sparse = tmp_path("progress-sparse"), *dense = tmp_path("progress-dense"),
                            *big = tmp_path("progress-big-hole"), *empty = tmp_path("progress-empty");

        write_sparse(sparse, buf, MIXED_SIZE);
        write_dense(dense, buf, MIXED_SIZE);
        write_dense(empty, buf, 0);
        /* 300 MiB of hole and one byte: hole progress comes in batches. */
        buf[0] = 1;
        write_sparse(big, buf, 1);
        require_ok(truncate(big, 300 * MiB + 1) == 0, "truncate");
        check_progress(sparse, MIXED_SIZE);
        check_progress(dense, MIXED_SIZE);
        check_progress(big, 300 * MiB + 1);
        check_progress(empty, 0);
}

static void test_cancel(void) {
        _cleanup_free_ uint8_t *buf = malloc(32 * MiB);
        _cleanup_free_ char *path = tmp_path("cancel");
        uint8_t k[FINGERPRINT_SIZE], untouched[FINGERPRINT_SIZE];
        FileStat st = {.size = 42}, st_untouched = st;

        require_ok(buf != NULL, "malloc");
        fill_random(buf, 32 * MiB);
        write_dense(path, buf, 32 * MiB);

        for (unsigned i = 0; i < 2; i++) {
                /* Cancelled before the start, and after the first chunk. */
                Counter c = {.cancel_now = i == 0, .cancel_after = 2};
                ProgressSink sink = {.bytes = count_bytes, .cancelled = count_cancelled, .userdata = &c};
                Error e = {};

                memset(k, 0xaa, sizeof k);
                memcpy(untouched, k, sizeof k);
                CHECK(fingerprint_file(path, &sink, k, &st, &e) < 0);
                CHECK(e.code == ERR_CANCELLED);
                CHECK(strncmp(e.message, path, strlen(path)) == 0);
                CHECK(memcmp(k, untouched, sizeof k) == 0);
                CHECK(file_stat_equal(&st, &st_untouched));
                CHECK(atomic_load(&c.done) < 32 * MiB);
        }
}

static void test_errors(void) {
        _cleanup_free_ char *missing = tmp_path("missing"), *under = tmp_path("sparse/x"), *fifo = tmp_path("fifo");
        uint8_t k[FINGERPRINT_SIZE];
        Error e = {};

        CHECK(fingerprint_file(missing, NULL, k, NULL, &e) < 0);
        CHECK(e.code == ERR_NO_SUCH_FILE);
        CHECK(strncmp(e.message, missing, strlen(missing)) == 0 && e.message[strlen(missing)] == ':');

        e = (Error) {};
        CHECK(fingerprint_file(under, NULL, k, NULL, &e) < 0);
        CHECK(e.code == ERR_NO_SUCH_FILE);

        e = (Error) {};
        CHECK(fingerprint_file(tmpdir, NULL, k, NULL, &e) < 0);
        CHECK(e.code == ERR_INVALID_IMAGE);

        /* A FIFO is refused, not waited on. */
        require_ok(mkfifo(fifo, 0600) == 0, "mkfifo");
        e = (Error) {};
        CHECK(fingerprint_file(fifo, NULL, k, NULL, &e) < 0);
        CHECK(e.code == ERR_INVALID_IMAGE);

        e = (Error) {};
        CHECK(fingerprint_file("/dev/null", NULL, k, NULL, &e) < 0);
        CHECK(e.code == ERR_INVALID_IMAGE);

        if (geteuid() == 0)
                printf("note: running as root, ERR_ACCESS_DENIED not tested\n");
        else {
                _cleanup_free_ char *secret = tmp_path("secret");
                write_dense(secret, (const uint8_t *) "x", 1);
                require_ok(chmod(secret, 0) == 0, "chmod");
                e = (Error) {};
                CHECK(fingerprint_file(secret, NULL, k, NULL, &e) < 0);
                CHECK(e.code == ERR_ACCESS_DENIED);
        }
}

static void test_stat(void) {
        _cleanup_free_ char *path = tmp_path("stat"), *other = tmp_path("stat-other"), *missing = tmp_path("missing");
        uint8_t k[FINGERPRINT_SIZE], buf[4096];
        FileStat a, b, c;
        Error e = {};

        fill_random(buf, sizeof buf);
        write_dense(path, buf, sizeof buf);
        write_dense(other, buf, sizeof buf);
        CHECK(fingerprint_file(path, NULL, k, &a, &e) == 0);
        CHECK(fingerprint_stat(path, &b) == 0);
        CHECK(file_stat_equal(&a, &b));
        CHECK(a.size == sizeof buf && a.ino != 0 && a.mtime_ns > 0 && a.ctime_ns > 0);
        CHECK(fingerprint_stat(other, &c) == 0);
        CHECK(!file_stat_equal(&a, &c));

        /* Same size, new content: the times move (past a coarse clock tick). */
        (void) usleep(20000);
        buf[0] ^= 1;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        require_ok(fd >= 0 && pwrite(fd, buf, 1, 0) == 1, "pwrite");
        CHECK(fingerprint_stat(path, &c) == 0);
        CHECK(c.size == a.size && !file_stat_equal(&a, &c));

        CHECK(fingerprint_stat(missing, &c) == -ENOENT);
        /* Only regular files: a device's stat does not follow its content. */
        CHECK(fingerprint_stat("/dev/null", &c) == -ENOTSUP);
        CHECK(fingerprint_stat(tmpdir, &c) == -ENOTSUP);
}

static void combine_reference(const char *domain, const uint8_t (*keys)[FINGERPRINT_SIZE], size_t n,
                              const char *const *labels, uint8_t ret[FINGERPRINT_SIZE]) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, domain, strlen(domain));

        for (size_t i = 0; i < n; i++) {
                uint8_t len[8];
                le64(len, strlen(labels[i]));
                ok = ok && EVP_DigestUpdate(ctx, len, 8) && EVP_DigestUpdate(ctx, labels[i], strlen(labels[i])) &&
                     EVP_DigestUpdate(ctx, keys[i], FINGERPRINT_SIZE);
        }
        require_ok(ok && EVP_DigestFinal_ex(ctx, ret, NULL), "digest");
        EVP_MD_CTX_free(ctx);
}

static void test_combine(void) {
        uint8_t keys[2][FINGERPRINT_SIZE], swapped[2][FINGERPRINT_SIZE];
        uint8_t a[FINGERPRINT_SIZE], b[FINGERPRINT_SIZE], c[FINGERPRINT_SIZE], ref[FINGERPRINT_SIZE];
        const char *const formats[] = {"qcow2", "raw"}, *const formats_swapped[] = {"raw", "qcow2"};
        const char *const nulls[] = {NULL, NULL}, *const empties[] = {"", ""};

        fill_random(keys[0], FINGERPRINT_SIZE);
        fill_random(keys[1], FINGERPRINT_SIZE);
        memcpy(swapped[0], keys[1], FINGERPRINT_SIZE);
        memcpy(swapped[1], keys[0], FINGERPRINT_SIZE);

        fingerprint_combine("disk", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 2, formats, a);
        combine_reference("disk", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 2, formats, ref);
        CHECK(memcmp(a, ref, sizeof a) == 0);

        /* Order of keys. */
        fingerprint_combine("side", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 2, NULL, a);
        fingerprint_combine("side", (const uint8_t(*)[FINGERPRINT_SIZE]) swapped, 2, NULL, b);
        CHECK(memcmp(a, b, sizeof a) != 0);
        combine_reference("side", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 2, empties, ref);
        CHECK(memcmp(a, ref, sizeof a) == 0);

        /* Labels: NULL, NULL elements and "" are the same; anything else is not. */
        fingerprint_combine("side", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 2, nulls, b);
        fingerprint_combine("side", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 2, empties, c);
        CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(a, c, sizeof a) == 0);
        fingerprint_combine("disk", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 2, formats, a);
        fingerprint_combine("disk", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 2, formats_swapped, b);
        fingerprint_combine("disk", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 2, NULL, c);
        CHECK(memcmp(a, b, sizeof a) != 0 && memcmp(a, c, sizeof a) != 0 && memcmp(b, c, sizeof b) != 0);

        /* Domain, and the number of keys. */
        fingerprint_combine("side", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 2, formats, b);
        CHECK(memcmp(a, b, sizeof a) != 0);
        fingerprint_combine("disk", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, 1, formats, b);
        CHECK(memcmp(a, b, sizeof a) != 0);
        fingerprint_combine("side", NULL, 0, NULL, a);
        combine_reference("side", NULL, 0, NULL, ref);
        CHECK(memcmp(a, ref, sizeof a) == 0);
}

/* Many chunks over all threads: the same key every time. */
static void test_repeatable(void) {
        _cleanup_free_ uint8_t *buf = malloc(64 * MiB + 777);
        _cleanup_free_ char *path = tmp_path("repeat");
        uint8_t first[FINGERPRINT_SIZE], k[FINGERPRINT_SIZE];

        require_ok(buf != NULL, "malloc");
        fill_random(buf, 64 * MiB + 777);
        memset(buf + 10 * MiB, 0, 20 * MiB);
        write_sparse(path, buf, 64 * MiB + 777);
        key_checked(path, first);
        for (unsigned i = 0; i < 5; i++) {
                CHECK(key_of(path, k) == 0);
                CHECK(memcmp(first, k, sizeof k) == 0);
        }
}

/* The best of three runs: this machine is shared and noisy. */
static double seconds_of(const char *command, const char *path) {
        double best = 1e9;

        for (unsigned i = 0; i < 3; i++) {
                uint8_t k[FINGERPRINT_SIZE];
                uint64_t t = now_usec_monotonic();

                if (command)
                        require_ok(system(command) == 0, command);
                else
                        CHECK(key_of(path, k) == 0);
                double s = (double) (now_usec_monotonic() - t) / 1e6;
                best = s < best ? s : best;
        }
        return best;
}

/* Not a check: numbers for the notes. */
static void print_throughput(void) {
        const uint64_t size = 512 * MiB;
        _cleanup_free_ char *path = tmp_path("throughput"), *openssl = NULL, *cat = NULL;
        _cleanup_free_ uint8_t *buf = malloc(MiB);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        uint8_t k[FINGERPRINT_SIZE];

        require_ok(buf && fd >= 0, "throughput file");
        for (uint64_t off = 0; off < size; off += MiB) {
                fill_random(buf, MiB);
                require_ok(write(fd, buf, MiB) == (ssize_t) MiB, "write");
        }
        require_ok(asprintf(&openssl, "openssl dgst -sha256 '%s' >/dev/null", path) >= 0 &&
                     asprintf(&cat, "cat '%s' >/dev/null", path) >= 0,
             "asprintf");

        /* Written back first, or the flusher competes for the cores; the
         * first read fills the page cache. */
        require_ok(fsync(fd) == 0, "fsync");
        CHECK(key_of(path, k) == 0);
        double ours = seconds_of(NULL, path), ossl = seconds_of(openssl, NULL), c = seconds_of(cat, NULL);
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        printf("throughput, 512 MiB from page cache: fingerprint %.2f GB/s (%ld cpus), "
               "openssl dgst -sha256 %.2f GB/s, cat %.2f GB/s\n",
               (double) size / 1e9 / ours, cpus, (double) size / 1e9 / ossl, (double) size / 1e9 / c);
        (void) unlink(path);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

int main(void) {
        const char *t = getenv("TMPDIR");
        require_ok(asprintf(&tmpdir, "%s/test-fingerprint-XXXXXX", t && t[0] ? t : "/tmp") >= 0, "asprintf");
        require_ok(mkdtemp(tmpdir) != NULL, "mkdtemp");

        test_sparse_dense();
        test_one_byte();
        test_sizes();
        test_append_zeros();
        test_progress();
        test_cancel();
        test_errors();
        test_stat();
        test_combine();
        test_repeatable();
        print_throughput();

        (void) nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        free(tmpdir);
        return test_report();
}

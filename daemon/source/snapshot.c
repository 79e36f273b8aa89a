#include "source/snapshot.h"

#include <endian.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>


#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_L1_BYTES (32U << 20)
#define QCOW2_INCOMPAT_EXTL2 (1ULL << 4)
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ULL
#define QCOW2_OFLAG_COPIED (1ULL << 63)

int snapshot_split_path(Disk *d) {
        struct stat st;
        if (stat(d->path, &st) == 0 || errno != ENOENT)
                return 0;
        char *at = strrchr(d->path, '@');
        if (!at || at == d->path || at[1] == 0)
                return 0;
        _cleanup_free_ char *image = strndup(d->path, (size_t) (at - d->path));
        if (!image)
                return -ENOMEM;
        if (stat(image, &st) < 0)
                return 0;
        d->snapshot = strdup(at + 1);
        if (!d->snapshot)
                return -ENOMEM;
        free(d->path);
        d->path = TAKE_PTR(image);
        return 0;
}

typedef struct Qcow2 {
        int fd;
        uint32_t cluster_bits;
        uint64_t incompatible;
        uint32_t nb_snapshots;
        uint64_t snapshots_offset;
} Qcow2;

/* One snapshot table entry, as stored. */
typedef struct SnapshotEntry {
        uint8_t *raw; /* the whole entry: header, extra data, id, name */
        size_t raw_len;
        uint64_t l1_offset;
        uint32_t l1_size;
        uint64_t disk_size; /* 0 when the entry does not record it */
} SnapshotEntry;

static int read_exact(int fd, void *buf, size_t len, uint64_t offset) {
        ssize_t n = pread(fd, buf, len, (off_t) offset);
        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EIO;
}

static uint64_t be64(const uint8_t *p) {
        uint64_t v;
        memcpy(&v, p, 8);
        return be64toh(v);
}

static uint32_t be32(const uint8_t *p) {
        uint32_t v;
        memcpy(&v, p, 4);
        return be32toh(v);
}

static uint16_t be16(const uint8_t *p) {
        uint16_t v;
        memcpy(&v, p, 2);
        return be16toh(v);
}

static int qcow2_open(const char *path, Qcow2 *q) {
        uint8_t h[104] = {0};
        q->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (q->fd < 0)
                return -errno;
        ssize_t n = pread(q->fd, h, sizeof h, 0);
        if (n < 72 || memcmp(h, "QFI\xfb", 4) != 0 || be32(h + 4) < 2)
                return -EINVAL;
        q->cluster_bits = be32(h + 20);
        q->nb_snapshots = be32(h + 60);
        q->snapshots_offset = be64(h + 64);
        q->incompatible = be32(h + 4) >= 3 && n >= 80 ? be64(h + 72) : 0;
        if (q->cluster_bits < 9 || q->cluster_bits > 21 || q->nb_snapshots > QCOW2_MAX_SNAPSHOTS)
                return -EINVAL;
        return 0;
}

/* Finds the entry named name; 1 found, 0 not, -errno on a damaged table. */
static int qcow2_find_snapshot(Qcow2 *q, const char *name, SnapshotEntry *ret) {
        uint64_t off = q->snapshots_offset;
        for (uint32_t i = 0; i < q->nb_snapshots; i++) {
                uint8_t h[40];
                int r = read_exact(q->fd, h, sizeof h, off);
                if (r < 0)
                        return r;
                uint32_t extra = be32(h + 36);
                uint16_t id_len = be16(h + 12), name_len = be16(h + 14);
                if (extra > 65536)
                        return -EINVAL;
                size_t len = sizeof h + extra + id_len + name_len;
                _cleanup_free_ uint8_t *raw = malloc(len);
                if (!raw)
                        return -ENOMEM;
                r = read_exact(q->fd, raw, len, off);
                if (r < 0)
                        return r;
                const char *n = (const char *) raw + sizeof h + extra + id_len;
                if (name_len == strlen(name) && memcmp(n, name, name_len) == 0) {
                        uint8_t disk_size[8] = {0};
                        if (extra >= 16 && read_exact(q->fd, disk_size, sizeof disk_size, off + sizeof h + 8) < 0)
                                return -EIO;
                        *ret = (SnapshotEntry){
                                .l1_offset = be64(h),
                                .l1_size = be32(h + 8),
                                .disk_size = be64(disk_size),
                                .raw_len = len,
                                .raw = TAKE_PTR(raw),
                        };
                        return 1;
                }
                off += (len + 7) & ~(size_t) 7;
        }
        return 0;
}

static int entry_lookup(const Disk *d, SnapshotEntry *ret, Qcow2 *q, Error *e) {
        char buf[64];
        int r = qcow2_open(disk_open_path(d, buf), q);
        if (r < 0)
                return error_set(e, ERR_INVALID_IMAGE, "%s: cannot read its qcow2 header: %s", d->path,
                                 strerror(-r));
        r = qcow2_find_snapshot(q, d->snapshot, ret);
        if (r < 0)
                return error_set(e, ERR_CORRUPT_IMAGE, "%s: cannot read its snapshot table: %s", d->path,
                                 strerror(-r));
        if (r == 0)
                return error_set(e, ERR_UNKNOWN_SNAPSHOT, "%s: no snapshot named '%s' in this image", d->path,
                                 d->snapshot);
        return 0;
}

int snapshot_validate(Disk *d, Error *e) {
        if (strcmp(d->format, "qcow2") != 0)
                return error_set(e, ERR_UNSUPPORTED_FORMAT,
                                 "%s: snapshot '%s' asked for, but only qcow2 images hold internal snapshots",
                                 d->path, d->snapshot);
        Qcow2 q = {.fd = -1};
        SnapshotEntry s = {0};
        int r = entry_lookup(d, &s, &q, e);
        /* qemu-nbd serves it at the live image's size: a disk grown since
         * is cut back to the snapshot's (nbd.c). */
        if (r >= 0 && s.disk_size > 0 && s.disk_size < d->virtual_size)
                d->virtual_size = s.disk_size;
        free(s.raw);
        if (q.fd >= 0)
                (void) close(q.fd);
        return r;
}

static void evp_md_ctx_freep(EVP_MD_CTX **c) {
        EVP_MD_CTX_free(*c);
}

/* Table entries without the COPIED flag, which qemu flips in place when a
 * sibling snapshot is deleted: the mapping itself never changes. */
static bool hash_entries(EVP_MD_CTX *ctx, uint8_t *buf, size_t len) {
        for (size_t i = 0; i + 8 <= len; i += 8) {
                uint64_t v;
                memcpy(&v, buf + i, 8);
                v &= htobe64(~QCOW2_OFLAG_COPIED);
                memcpy(buf + i, &v, 8);
        }
        return EVP_DigestUpdate(ctx, buf, len);
}

static int hash_tables(Qcow2 *q, const SnapshotEntry *s, uint8_t ret[FINGERPRINT_SIZE]) {
        size_t l1_bytes = (size_t) s->l1_size * 8;
        size_t l2_bytes = (size_t) 1 << q->cluster_bits;
        if (q->incompatible & QCOW2_INCOMPAT_EXTL2)
                l2_bytes *= 2;
        if (l1_bytes > QCOW2_MAX_L1_BYTES)
                return -EINVAL;

        _cleanup_free_ uint8_t *l1 = malloc(l1_bytes ? l1_bytes : 1), *l1_copy = malloc(l1_bytes ? l1_bytes : 1);
        _cleanup_free_ uint8_t *l2 = malloc(l2_bytes);
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!l1 || !l1_copy || !l2 || !ctx)
                return -ENOMEM;
        int r = read_exact(q->fd, l1, l1_bytes, s->l1_offset);
        if (r < 0)
                return r;
        memcpy(l1_copy, l1, l1_bytes);
        static const char domain[] = "virt-diffd qcow2 snapshot 1";
        if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || !EVP_DigestUpdate(ctx, domain, sizeof domain) ||
            !EVP_DigestUpdate(ctx, s->raw, s->raw_len) || !hash_entries(ctx, l1_copy, l1_bytes))
                return -EIO;
        for (size_t i = 0; i < s->l1_size; i++) {
                uint64_t l2_offset = be64(l1 + i * 8) & QCOW2_OFFSET_MASK;
                if (l2_offset == 0)
                        continue;
                r = read_exact(q->fd, l2, l2_bytes, l2_offset);
                if (r < 0)
                        return r;
                if (!hash_entries(ctx, l2, l2_bytes))
                        return -EIO;
        }
        return EVP_DigestFinal_ex(ctx, ret, NULL) ? 0 : -EIO;
}

int snapshot_key(const Disk *d, uint8_t ret[FINGERPRINT_SIZE], Error *e) {
        Qcow2 q = {.fd = -1};
        SnapshotEntry s = {0};
        int r = entry_lookup(d, &s, &q, e);
        if (r >= 0) {
                r = hash_tables(&q, &s, ret);
                if (r < 0)
                        error_set(e, ERR_CORRUPT_IMAGE, "%s: cannot read the tables of snapshot '%s': %s",
                                  d->path, d->snapshot, strerror(-r));
        }
        free(s.raw);
        if (q.fd >= 0)
                (void) close(q.fd);
        return r < 0 ? -1 : 0;
}

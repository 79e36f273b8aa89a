#include "direct/volumes.h"

#include <blkid/blkid.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

/* libblkid reads a device through a file descriptor only. An NBD disk has
 * none, so it gets a sparse mirror: an anonymous file of the disk's size
 * holding the first and last MIRROR_SPAN bytes of the disk and of each
 * partition found, zeros elsewhere. Every probe libblkid runs for the
 * types we accept, and for the partition tables and the signatures that
 * make us refuse a disk (LVM, RAID metadata at a device's end, ZFS labels,
 * UDF anchors), reads within those spans. */
#define MIRROR_SPAN (2ULL << 20)
#define MIRROR_ROUNDS 256 /* an MBR's logical partitions are found one per round */
#define MIRROR_MAX (256ULL << 20) /* a disk that needs more is refused */
#define SECTOR 512ULL

static void volume_done(Volume *v) {
        free(v->device);
        free(v->type);
        free(v->uuid);
        free(v->label);
        free(v->raw_uuid);
        free(v->raw_label);
        *v = (Volume) {};
}

void volumes_done(Volumes *vs) {
        for (size_t i = 0; i < vs->n; i++)
                volume_done(&vs->v[i]);
        free(vs->v);
        *vs = (Volumes) {};
}

char *volume_disk_name(size_t disk) {
        char letters[16];
        size_t n = 0;
        /* Bijective base 26, as the kernel's sd driver names disks. */
        for (size_t i = disk + 1; i > 0 && n < sizeof letters; i = (i - 1) / 26)
                letters[n++] = (char) ('a' + (i - 1) % 26);
        char *r = malloc(n + 8);
        if (!r)
                return NULL;
        memcpy(r, "/dev/sd", 7);
        for (size_t k = 0; k < n; k++)
                r[7 + k] = letters[n - 1 - k];
        r[7 + n] = 0;
        return r;
}

uint64_t volume_st_dev(size_t disk, unsigned partno) {
        static const unsigned majors[16] = {8, 65, 66, 67, 68, 69, 70, 71, 128, 129, 130, 131, 132, 133, 134, 135};
        if (partno > 15 || disk > 0xfffff)
                return 0;
        unsigned minor = (unsigned) (((disk & 0xf) << 4) | (disk & 0xfff00)) + partno;
        return (uint64_t) makedev(majors[(disk & 0xf0) >> 4], minor);
}

char *volume_blkid_export_value(const char *value) {
        size_t len = strlen(value);
        char *r = malloc(len * 4 + 1), *w = r;
        if (!r)
                return NULL;
        for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
                unsigned char c = *p;
                if (c >= 128) {
                        *w++ = 'M';
                        *w++ = '-';
                        c -= 128;
                }
                if (c < 32 || c == 0x7f) {
                        *w++ = '^';
                        c ^= 0x40;
                } else if (strchr(" \\\"'$`<>", c))
                        *w++ = '\\';
                *w++ = (char) c;
        }
        *w = 0;
        return r;
}

/* A disk as libblkid reads it: its own fd, or a sparse mirror. */
typedef struct ProbeDisk {
        ImageReader *reader;
        int fd;
        bool mirror;
        /* Spans already copied into the mirror: start, length pairs. */
        uint64_t *copied;
        size_t n_copied;
        uint64_t mirrored; /* bytes in all */
} ProbeDisk;

static int mirror_copy_span(ProbeDisk *d, uint64_t start, uint64_t len) {
        uint64_t size = d->reader->size;
        if (start >= size)
                return 0;
        if (len > size - start)
                len = size - start;
        for (size_t i = 0; i < d->n_copied; i += 2)
                if (d->copied[i] == start && d->copied[i + 1] >= len)
                        return 0;
        if (len > MIRROR_MAX - d->mirrored)
                return -EFBIG;
        d->mirrored += len;
        uint64_t *c = realloc(d->copied, (d->n_copied + 2) * sizeof(uint64_t));
        if (!c)
                return -ENOMEM;
        d->copied = c;
        d->copied[d->n_copied++] = start;
        d->copied[d->n_copied++] = len;

        _cleanup_free_ uint8_t *buf = malloc(len);
        if (!buf)
                return -ENOMEM;
        int r = image_reader_pread(d->reader, buf, len, start);
        if (r < 0)
                return r;
        for (uint64_t done = 0; done < len;) {
                ssize_t n = pwrite(d->fd, buf + done, len - done, (off_t) (start + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                done += (uint64_t) n;
        }
        return 1;
}

/* The head and tail spans of [start, start + len): returns 1 when one of
 * them was new. */
static int mirror_cover(ProbeDisk *d, uint64_t start, uint64_t len) {
        if (!d->mirror)
                return 0;
        int a = mirror_copy_span(d, start, MIRROR_SPAN);
        if (a < 0)
                return a;
        uint64_t tail = len > MIRROR_SPAN ? start + len - MIRROR_SPAN : start;
        int b = mirror_copy_span(d, tail, MIRROR_SPAN);
        if (b < 0)
                return b;
        return a || b;
}

static void probe_disk_done(ProbeDisk *d) {
        if (d->mirror && d->fd >= 0)
                (void) close(d->fd);
        free(d->copied);
        *d = (ProbeDisk) {.fd = -1};
}

static int probe_disk_init(ProbeDisk *d, ImageReader *r) {
        *d = (ProbeDisk) {.reader = r, .fd = r->fd};
        if (r->fd >= 0)
                return 0;
        d->mirror = true;
        d->fd = memfd_create("virt-diffd-mirror", MFD_CLOEXEC);
        if (d->fd < 0)
                return -errno;
        if (ftruncate(d->fd, (off_t) r->size) < 0)
                return -errno;
        int k = mirror_cover(d, 0, r->size);
        return k < 0 ? k : 0;
}

static blkid_probe probe_new(int fd, uint64_t offset, uint64_t size) {
        blkid_probe pr = blkid_new_probe();
        if (pr && blkid_probe_set_device(pr, fd, (blkid_loff_t) offset, (blkid_loff_t) size) != 0) {
                blkid_free_probe(pr);
                return NULL;
        }
        return pr;
}

static void probe_freep(blkid_probe *pr) {
        if (*pr)
                blkid_free_probe(*pr);
}

/* A partition of the disk's table. */
typedef struct Part {
        unsigned partno;
        uint64_t start, size; /* bytes */
} Part;

static int compare_partno(const void *x, const void *y) {
        const Part *a = x, *b = y;
        return (a->partno > b->partno) - (a->partno < b->partno);
}

static int refuse(Error *e, const char *disk, const char *why) {
        return error_set(e, ERR_DIRECT_UNSUPPORTED, "%s: %s", disk, why);
}

/* The disk's partitions (none for a disk without a table), with its mirror
 * filled until the table reads the same twice. */
static int read_table(ProbeDisk *d, const char *name, Part **ret, size_t *ret_n, Error *e) {
        for (unsigned round = 0;; round++) {
                _cleanup_(probe_freep) blkid_probe pr = probe_new(d->fd, 0, d->reader->size);
                if (!pr)
                        return error_set(e, ERR_INTERNAL, "%s: cannot start libblkid", name);
                blkid_probe_enable_superblocks(pr, 0);
                blkid_probe_enable_partitions(pr, 1);
                blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
                blkid_partlist ls = blkid_probe_get_partitions(pr);
                int n = ls ? blkid_partlist_numof_partitions(ls) : 0;
                if (n < 0)
                        return refuse(e, name, "libblkid cannot read its partition table");
                blkid_parttable tab = ls ? blkid_partlist_get_table(ls) : NULL;
                const char *type = tab ? blkid_parttable_get_type(tab) : NULL;
                if (type && strcmp(type, "dos") != 0 && strcmp(type, "gpt") != 0)
                        return refuse(e, name, "a partition table other than MBR or GPT");

                _cleanup_free_ Part *parts = calloc((size_t) n + 1, sizeof(Part));
                size_t k = 0;
                bool grew = false;
                if (!parts)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                for (int i = 0; i < n; i++) {
                        blkid_partition p = blkid_partlist_get_partition(ls, i);
                        blkid_parttable pt = p ? blkid_partition_get_table(p) : NULL;
                        if (!p || (pt && blkid_parttable_get_parent(pt)))
                                return refuse(e, name, "a partition table nested in a partition");
                        blkid_loff_t start = blkid_partition_get_start(p), size = blkid_partition_get_size(p);
                        int partno = blkid_partition_get_partno(p);
                        if (start < 0 || size < 0 || partno <= 0 ||
                            (uint64_t) start > d->reader->size / SECTOR ||
                            (uint64_t) size > d->reader->size / SECTOR - (uint64_t) start)
                                return refuse(e, name, "a partition outside the disk");
                        int c = mirror_cover(d, (uint64_t) start * SECTOR, (uint64_t) size * SECTOR);
                        if (c == -EFBIG)
                                return refuse(e, name, "too many partitions to probe");
                        if (c < 0)
                                return error_set(e, ERR_SCAN_FAILED, "%s: cannot read: %s", name, strerror(-c));
                        grew |= c > 0;
                        /* The kernel shows an extended partition as a
                         * 1 KiB device with no filesystem on it. */
                        if (blkid_partition_is_extended(p))
                                continue;
                        parts[k++] = (Part) {.partno = (unsigned) partno, .start = (uint64_t) start * SECTOR,
                                             .size = (uint64_t) size * SECTOR};
                }
                if (!grew) {
                        qsort(parts, k, sizeof(Part), compare_partno);
                        *ret = TAKE_PTR(parts);
                        *ret_n = k;
                        return 0;
                }
                if (round >= MIRROR_ROUNDS)
                        return refuse(e, name, "too many partitions");
        }
}

/* One device's signature, probed as `blkid -p` probes it: 1 and the
 * values when there is a filesystem (or other TYPE), 0 when none. */
static int probe_signature(ProbeDisk *d, const char *device, uint64_t offset, uint64_t size, Volume *v, Error *e) {
        _cleanup_(probe_freep) blkid_probe pr = probe_new(d->fd, offset, size);
        if (!pr)
                return error_set(e, ERR_INTERNAL, "%s: cannot start libblkid", device);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE |
                                                      BLKID_SUBLKS_SECTYPE | BLKID_SUBLKS_USAGE |
                                                      BLKID_SUBLKS_VERSION);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
        blkid_probe_enable_superblocks(pr, 1);
        int rc = blkid_do_safeprobe(pr);
        if (rc == -2)
                return refuse(e, device, "more than one signature (libblkid's result is ambivalent)");
        if (rc < 0)
                return refuse(e, device, "libblkid cannot probe it");
        const char *type = NULL, *uuid = NULL, *label = NULL;
        if (rc == 1 || blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0 || !type || !type[0])
                return 0;
        (void) blkid_probe_lookup_value(pr, "UUID", &uuid, NULL);
        (void) blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
        v->type = volume_blkid_export_value(type);
        v->uuid = uuid && uuid[0] ? volume_blkid_export_value(uuid) : NULL;
        v->label = label && label[0] ? volume_blkid_export_value(label) : NULL;
        v->raw_uuid = uuid && uuid[0] ? strdup(uuid) : NULL;
        v->raw_label = label && label[0] ? strdup(label) : NULL;
        if (!v->type || (uuid && uuid[0] && (!v->uuid || !v->raw_uuid)) ||
            (label && label[0] && (!v->label || !v->raw_label)))
                return error_set(e, ERR_INTERNAL, "out of memory");
        return 1;
}

static int add_volume(Volumes *vs, ProbeDisk *d, size_t disk, const Part *p, Error *e) {
        Volume v = {.disk = disk, .partno = p ? p->partno : 0};
        _cleanup_free_ char *name = volume_disk_name(disk);
        if (!name)
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (p) {
                v.offset = p->start;
                v.size = p->size;
                if (asprintf(&v.device, "%s%u", name, p->partno) < 0)
                        return error_set(e, ERR_INTERNAL, "out of memory");
        } else {
                /* The appliance's disk is the image rounded up to whole
                 * sectors (qemu's view of a raw file). */
                v.size = (d->reader->size + SECTOR - 1) / SECTOR * SECTOR;
                v.device = TAKE_PTR(name);
        }
        v.st_dev = volume_st_dev(disk, v.partno);
        int r = probe_signature(d, v.device, v.offset, p ? p->size : d->reader->size, &v, e);
        if (r > 0) {
                Volume *nv = realloc(vs->v, (vs->n + 1) * sizeof(Volume));
                if (nv) {
                        vs->v = nv;
                        vs->v[vs->n++] = v;
                        return 0;
                }
                r = error_set(e, ERR_INTERNAL, "out of memory");
        }
        volume_done(&v);
        return r;
}

int volumes_probe(ImageReader *const *disks, size_t n_disks, Volumes *ret, Error *e) {
        Volumes vs = {};
        _cleanup_free_ Part **parts = calloc(n_disks + 1, sizeof(Part *));
        _cleanup_free_ size_t *n_parts = calloc(n_disks + 1, sizeof(size_t));
        _cleanup_free_ ProbeDisk *pd = calloc(n_disks + 1, sizeof(ProbeDisk));
        int r = 0;

        if (!parts || !n_parts || !pd)
                return error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < n_disks; i++)
                pd[i].fd = -1;
        for (size_t i = 0; i < n_disks && r >= 0; i++) {
                _cleanup_free_ char *name = volume_disk_name(i);
                if (!name) {
                        r = error_set(e, ERR_INTERNAL, "out of memory");
                        break;
                }
                int k = probe_disk_init(&pd[i], disks[i]);
                if (k < 0)
                        r = error_set(e, ERR_SCAN_FAILED, "%s: cannot read: %s", name, strerror(-k));
                else
                        r = read_table(&pd[i], name, &parts[i], &n_parts[i], e);
        }
        /* The scanner's order: whole disks without partitions, then every
         * partition, by disk and number. */
        for (size_t i = 0; i < n_disks && r >= 0; i++)
                if (n_parts[i] == 0)
                        r = add_volume(&vs, &pd[i], i, NULL, e);
        for (size_t i = 0; i < n_disks && r >= 0; i++)
                for (size_t k = 0; k < n_parts[i] && r >= 0; k++)
                        r = add_volume(&vs, &pd[i], i, &parts[i][k], e);

        for (size_t i = 0; i < n_disks; i++) {
                free(parts[i]);
                probe_disk_done(&pd[i]);
        }
        if (r < 0) {
                volumes_done(&vs);
                return r;
        }
        *ret = vs;
        return 0;
}

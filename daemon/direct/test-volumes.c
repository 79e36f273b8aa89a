/* Volumes on real partition tables made by sfdisk, filesystems by mke2fs
 * and mkswap: names and numbers as the appliance gives them, blkid's
 * values, the sparse mirror an NBD disk gets, and the tables refused. */
#include <sys/sysmacros.h>

#include "direct/test-direct-util.h"
#include "direct/volumes.h"

#define MIB (1024ULL * 1024ULL)

static void test_names(void) {
        const struct {
                size_t disk;
                const char *name;
        } names[] = {{0, "/dev/sda"}, {25, "/dev/sdz"}, {26, "/dev/sdaa"}, {701, "/dev/sdzz"}, {702, "/dev/sdaaa"}};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *n = volume_disk_name(names[i].disk);
                CHECK(streq_ptr(n, names[i].name));
        }
        CHECK(volume_st_dev(0, 0) == makedev(8, 0));
        CHECK(volume_st_dev(1, 2) == makedev(8, 18));
        CHECK(volume_st_dev(16, 1) == makedev(65, 1));
        CHECK(volume_st_dev(0, 16) == 0);

        const struct {
                const char *in, *out;
        } escapes[] = {{"plain", "plain"}, {"my disk", "my\\ disk"}, {"a$b\"c", "a\\$b\\\"c"},
                       {"\x01x", "^Ax"}, {"caf\xc3\xa9", "cafM-CM-)"}};
        for (size_t i = 0; i < ELEMENTSOF(escapes); i++) {
                _cleanup_free_ char *v = volume_blkid_export_value(escapes[i].in);
                CHECK(streq_ptr(v, escapes[i].out));
        }
}

static ImageReader *open_image(const char *name) {
        _cleanup_free_ char *p = td_path(name);
        ImageReader *r = NULL;
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || image_reader_new_fd(fd, &r) < 0)
                exit(1);
        return r;
}

/* A reader with no fd, as an NBD disk: libblkid gets the sparse mirror. */
typedef struct NoFd {
        ImageReader base;
        ImageReader *inner;
} NoFd;

static int nofd_pread(ImageReader *r, void *buf, size_t len, uint64_t offset) {
        return image_reader_pread(((NoFd *) r)->inner, buf, len, offset);
}

static void nofd_free(ImageReader *r) {
        image_reader_free(((NoFd *) r)->inner);
}

static const ImageReaderOps nofd_ops = {.name = "nofd", .pread = nofd_pread, .free = nofd_free};

static ImageReader *without_fd(ImageReader *inner) {
        NoFd *n = must(calloc(1, sizeof(*n)));
        n->base = (ImageReader) {.ops = &nofd_ops, .size = inner->size, .fd = -1};
        n->inner = inner;
        return &n->base;
}

static void check_mbr(const Volumes *vs, size_t first, const char *disk, size_t index) {
        char name[32];
        CHECK(vs->n >= first + 3);
        if (vs->n < first + 3)
                return;
        const Volume *v = &vs->v[first];
        snprintf(name, sizeof name, "%s1", disk);
        CHECK(streq_ptr(v[0].device, name) && streq_ptr(v[0].type, "ext4") && v[0].size == 8 * MIB &&
              v[0].offset == 1 * MIB && v[0].partno == 1 && v[0].disk == index);
        CHECK(streq_ptr(v[0].uuid, "6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0101") && !v[0].label);
        CHECK(v[0].st_dev == volume_st_dev(index, 1));
        snprintf(name, sizeof name, "%s2", disk);
        CHECK(streq_ptr(v[1].device, name) && streq_ptr(v[1].type, "swap") && v[1].size == 4 * MIB);
        snprintf(name, sizeof name, "%s5", disk);
        /* The extended partition (3) holds no filesystem; logical 6 is
         * blank. */
        CHECK(streq_ptr(v[2].device, name) && streq_ptr(v[2].type, "ext2") && v[2].partno == 5);
        CHECK(streq_ptr(v[2].label, "my\\ disk") && streq_ptr(v[2].raw_label, "my disk"));
}

static void test_mbr(void) {
        CHECK(td_sh("truncate -s 36M mbr.img && printf 'label: dos\\nstart=2048, size=16384, type=83\\n"
                    "start=18432, size=8192, type=82\\nstart=26624, size=45056, type=5\\n"
                    "start=28672, size=16384, type=83\\nstart=47104, size=16384, type=83\\n' | sfdisk -q mbr.img && "
                    "mke2fs -q -F -t ext4 -U 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0101 -E offset=%d mbr.img 8M && "
                    "truncate -s 4M swap.img && mkswap -q swap.img && dd if=swap.img of=mbr.img bs=512 seek=%d conv=notrunc && mke2fs -q -F -t ext2 -L 'my disk' -E offset=%d mbr.img 8M",
                    2048 * 512, 18432, 28672 * 512) == 0);

        Volumes vs = {};
        Error e = {};
        ImageReader *r = open_image("mbr.img");
        CHECK(volumes_probe(&r, 1, &vs, &e) == 0);
        CHECK(vs.n == 3);
        check_mbr(&vs, 0, "/dev/sda", 0);
        volumes_done(&vs);

        /* Through the sparse mirror: the same. */
        ImageReader *nofd = without_fd(r);
        CHECK(volumes_probe(&nofd, 1, &vs, &e) == 0);
        CHECK(vs.n == 3);
        check_mbr(&vs, 0, "/dev/sda", 0);
        volumes_done(&vs);
        image_reader_free(nofd);
}

static void test_gpt_and_two_disks(void) {
        CHECK(td_sh("truncate -s 40M gpt.img && printf 'label: gpt\\nstart=2048, size=16384\\nstart=18432, size=16384\\n' | "
                    "sfdisk -q gpt.img && mke2fs -q -F -t ext4 -L first -E offset=%d gpt.img 8M && "
                    "mke2fs -q -F -t ext3 -L second -E offset=%d gpt.img 8M && truncate -s 8M whole.img && "
                    "mke2fs -q -F -t ext4 -L whole whole.img",
                    2048 * 512, 18432 * 512) == 0);
        ImageReader *disks[2] = {open_image("gpt.img"), open_image("whole.img")};
        Volumes vs = {};
        Error e = {};
        CHECK(volumes_probe(disks, 2, &vs, &e) == 0);
        /* Whole disks first, then partitions, by disk. */
        CHECK(vs.n == 3);
        if (vs.n == 3) {
                CHECK(streq_ptr(vs.v[0].device, "/dev/sdb") && streq_ptr(vs.v[0].label, "whole") &&
                      vs.v[0].size == 8 * MIB && vs.v[0].st_dev == makedev(8, 16));
                CHECK(streq_ptr(vs.v[1].device, "/dev/sda1") && streq_ptr(vs.v[1].type, "ext4"));
                CHECK(streq_ptr(vs.v[2].device, "/dev/sda2") && streq_ptr(vs.v[2].type, "ext3") &&
                      streq_ptr(vs.v[2].label, "second"));
        }
        volumes_done(&vs);
        for (size_t i = 0; i < 2; i++)
                image_reader_free(disks[i]);
}

static void test_refused(void) {
        CHECK(td_sh("truncate -s 8M sun.img && printf 'label: sun\\n,4096\\n' | sfdisk -q sun.img") == 0);
        ImageReader *r = open_image("sun.img");
        Volumes vs = {};
        Error e = {};
        CHECK(volumes_probe(&r, 1, &vs, &e) < 0 && e.code == ERR_DIRECT_UNSUPPORTED);
        image_reader_free(r);

        /* Two signatures on one device (a swap header written over an
         * ext4's first block): libblkid's result is ambivalent. */
        CHECK(td_sh("truncate -s 16M two.img && mke2fs -q -F -t ext4 two.img && "
                    "printf '\\001\\000\\000\\000' | dd of=two.img bs=1 seek=1024 conv=notrunc && "
                    "printf SWAPSPACE2 | dd of=two.img bs=1 seek=4086 conv=notrunc") == 0);
        r = open_image("two.img");
        e = (Error) {};
        CHECK(volumes_probe(&r, 1, &vs, &e) < 0 && e.code == ERR_DIRECT_UNSUPPORTED);
        CHECK(strstr(e.message, "ambivalent") != NULL);
        volumes_done(&vs);
        image_reader_free(r);
}

int main(void) {
        td_tmpdir();
        test_names();
        test_mbr();
        test_gpt_and_two_disks();
        test_refused();
        return test_report();
}

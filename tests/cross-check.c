/* The cross-check between the two engines: every fixture of
 * tests/fixtures.sh that the direct engine reads is scanned by the
 * appliance and by the direct engine, and the two manifests must be the
 * same, field by field. Sides of several disks keep the appliance launches
 * few (one per side), and test how both name a side's devices:
 *   raw:    os-b.img (inspected: its fstab names /dev/sda1 and /dev/sda2, so
 *           it comes first), kinds-a.img, blank-a.img, extras.img
 *           (partitioned, logical partitions, ACLs,
 *           security xattrs, EA inode, inline data, ext2, ext3, sparse
 *           files, odd times) — each read in place;
 *   served: overlay.qcow2 (a qcow2 overlay), snaps.qcow2@s1 (an internal
 *           snapshot), kinds-b.img passed as an fd — through qemu-nbd.
 * And the fixtures the direct engine must refuse (unmountable.img: a
 * feature it does not know) or answer as the appliance does without one
 * (random.img: no filesystem).
 *
 *     cross-check FIXTURES-DIR
 *
 * One field is excepted, with its reason; a difference there is reported,
 * not failed. The binary is also the worker processes the two engines
 * spawn (it runs as /proc/self/exe). */
#include <fcntl.h>

#include "appliance/appliance.h"
#include "common/test-util.h"
#include "manifest/manifest.h"
#include "source/disk-fd.h"
#include "source/nbd.h"
#include "worker/direct-worker.h"
#include "worker/protocol.h"
#include "worker/worker.h"

static const struct {
        const char *field, *reason;
} excepted[] = {
        {"dev", "st_dev numbers the appliance's own block device: its kernel may probe the disks in another "
                "order than libguestfs names them (sdb for /dev/sda), so two appliances can differ too; the "
                "direct engine gives the number that matches the device's name"},
};

static const char *fixtures;
static unsigned n_differences, n_excepted, n_fields;

static bool is_excepted(const char *field) {
        for (size_t i = 0; i < ELEMENTSOF(excepted); i++)
                if (strcmp(excepted[i].field, field) == 0)
                        return true;
        return false;
}

_printf_(3, 4) static void differ(const char *field, const char *where, const char *fmt, ...) {
        va_list ap;
        bool ex = is_excepted(field);
        if (ex ? n_excepted++ >= 5 : n_differences++ >= 40)
                return;
        fprintf(stderr, "%s %s of %s: ", ex ? "  excepted:" : "  DIFFERENT:", field, where);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

#define SAME_U64(field, where, a, b)                                                                         \
        do {                                                                                                 \
                n_fields++;                                                                                  \
                if ((uint64_t) (a) != (uint64_t) (b))                                                        \
                        differ(field, where, "appliance %" PRIu64 ", direct %" PRIu64, (uint64_t) (a),     \
                               (uint64_t) (b));                                                              \
        } while (0)

#define SAME_STR(field, where, a, b)                                                                         \
        do {                                                                                                 \
                n_fields++;                                                                                  \
                if (!streq_ptr(a, b))                                                                        \
                        differ(field, where, "appliance \"%s\", direct \"%s\"", (a) ? (a) : "(none)",        \
                               (b) ? (b) : "(none)");                                                        \
        } while (0)

static void compare_xattrs(const char *where, const Entry *a, const Entry *b) {
        n_fields++;
        bool same = a->n_xattrs == b->n_xattrs;
        for (size_t i = 0; same && i < a->n_xattrs; i++)
                same = strcmp(a->xattrs[i].name, b->xattrs[i].name) == 0 && a->xattrs[i].len == b->xattrs[i].len &&
                       memcmp(a->xattrs[i].value, b->xattrs[i].value, a->xattrs[i].len) == 0;
        if (!same)
                differ("xattrs", where, "appliance %zu, direct %zu (names or values differ)", a->n_xattrs,
                       b->n_xattrs);
}

static void compare_entry(const Entry *a, const Entry *b) {
        const char *w = a->path;
        SAME_U64("fs", w, a->fs, b->fs);
        SAME_U64("kind", w, a->kind, b->kind);
        SAME_U64("mode", w, a->mode, b->mode);
        SAME_U64("uid", w, a->uid, b->uid);
        SAME_U64("gid", w, a->gid, b->gid);
        SAME_U64("size", w, a->size, b->size);
        SAME_U64("atime", w, a->atime_ns, b->atime_ns);
        SAME_U64("mtime", w, a->mtime_ns, b->mtime_ns);
        SAME_U64("ctime", w, a->ctime_ns, b->ctime_ns);
        SAME_U64("nlink", w, a->nlink, b->nlink);
        SAME_U64("ino", w, a->ino, b->ino);
        SAME_U64("dev", w, a->dev, b->dev);
        SAME_U64("rdev", w, a->rdev, b->rdev);
        SAME_U64("blocks", w, a->blocks, b->blocks);
        SAME_U64("blksize", w, a->blksize, b->blksize);
        SAME_STR("target", w, a->target, b->target);
        compare_xattrs(w, a, b);
        SAME_U64("has_sha256", w, a->has_sha256, b->has_sha256);
        n_fields++;
        if (a->has_sha256 && b->has_sha256 && memcmp(a->sha256, b->sha256, 32) != 0)
                differ("sha256", w, "the content hashes differ");
}

static void compare_manifests(const Manifest *a, const Manifest *b, size_t *ret_entries) {
        SAME_U64("inspected", "the side", a->inspected, b->inspected);
        SAME_STR("os_product", "the side", a->os_product, b->os_product);
        SAME_U64("filesystems", "the side", a->n_filesystems, b->n_filesystems);
        for (size_t i = 0; i < a->n_filesystems && i < b->n_filesystems; i++) {
                const Filesystem *fa = &a->filesystems[i], *fb = &b->filesystems[i];
                const char *w = fa->device;
                SAME_STR("device", w, fa->device, fb->device);
                SAME_STR("type", w, fa->type, fb->type);
                SAME_STR("uuid", w, fa->uuid, fb->uuid);
                SAME_STR("label", w, fa->label, fb->label);
                SAME_U64("size", w, fa->size, fb->size);
                SAME_STR("mountpoint", w, fa->mountpoint, fb->mountpoint);
                SAME_U64("scanned", w, fa->scanned, fb->scanned);
                SAME_STR("error", w, fa->error, fb->error);
        }
        SAME_U64("trees", "the side", a->n_trees, b->n_trees);
        *ret_entries = 0;
        for (size_t t = 0; t < a->n_trees && t < b->n_trees; t++) {
                const Tree *ta = &a->trees[t], *tb = &b->trees[t];
                SAME_STR("tree", "the side", ta->key, tb->key);
                SAME_U64("entries", ta->key, ta->n_entries, tb->n_entries);
                /* Both sorted by path_compare(): walk them side by side. */
                size_t i = 0, k = 0;
                while (i < ta->n_entries || k < tb->n_entries) {
                        int c = i == ta->n_entries ? 1 : k == tb->n_entries ? -1
                                                                          : path_compare(ta->entries[i].path,
                                                                                         tb->entries[k].path);
                        if (c < 0)
                                differ("path", ta->entries[i++].path, "only the appliance lists it");
                        else if (c > 0)
                                differ("path", tb->entries[k++].path, "only the direct engine lists it");
                        else {
                                compare_entry(&ta->entries[i++], &tb->entries[k++]);
                                (*ret_entries)++;
                        }
                }
        }
}

typedef struct Side {
        const char *name;
        const char *disks[4];
        bool by_fd[4];
} Side;

static size_t side_disks(const Side *s, Disk *disks) {
        size_t n = 0;
        for (; n < ELEMENTSOF(s->disks) && s->disks[n]; n++) {
                Disk *d = &disks[n];
                _cleanup_free_ char *path = must(path_join(fixtures, s->disks[n]));
                Error e = {};
                *d = (Disk) {.fd = -1, .path = must(strdup(path))};
                if (s->by_fd[n]) {
                        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                        CHECK(fd >= 0 && disk_set_fd(d, fd) == 0);
                }
                CHECK(disk_validate(d, &e) == 0);
                if (e.code)
                        fprintf(stderr, "  %s: %s\n", path, e.message);
        }
        return n;
}

static Manifest *scan(Disk *disks, size_t n, bool direct) {
        Appliance *a = NULL;
        Manifest *m = NULL;
        Error e = {};
        int r = direct ? nbd_serve_disks_for_direct(disks, n, NULL, &e) : nbd_serve_disks(disks, n, NULL, &e);
        if (r >= 0)
                r = direct ? appliance_new_direct(disks, n, &a, &e)
                           : (appliance_new(disks, n, &a, &e) < 0 ? -1 : appliance_launch(a, &e));
        if (r >= 0)
                r = appliance_scan(a, NULL, &m, &e);
        if (r < 0)
                fprintf(stderr, "  %s: %s: %s\n", direct ? "direct" : "appliance", error_code_to_string(e.code),
                        e.message);
        appliance_free(a);
        nbd_stop_disks(disks, n);
        return m;
}

static void cross_check(const Side *s) {
        Disk disks[4];
        size_t n = side_disks(s, disks), entries = 0;
        uint64_t t0 = now_usec_monotonic();
        _cleanup_manifest_ Manifest *a = scan(disks, n, false);
        uint64_t t1 = now_usec_monotonic();
        _cleanup_manifest_ Manifest *d = scan(disks, n, true);
        uint64_t t2 = now_usec_monotonic();
        unsigned before = n_differences, before_ex = n_excepted, fields = n_fields;

        CHECK(a && d);
        if (a && d)
                compare_manifests(a, d, &entries);
        CHECK(n_differences == before);
        printf("%s - %s: %zu filesystems, %zu trees, %zu entries, %u fields compared; appliance %.1f s, direct "
               "%.2f s; %u excepted differences\n",
               n_differences == before && a && d ? "ok" : "not ok", s->name, a ? a->n_filesystems : 0,
               a ? a->n_trees : 0, entries, n_fields - fields, (double) (t1 - t0) / 1e6, (double) (t2 - t1) / 1e6,
               n_excepted - before_ex);
        for (size_t i = 0; i < n; i++)
                disk_done(&disks[i]);
}

static void expect_direct_error(const char *image, ErrorCode want) {
        Disk d;
        Appliance *a = NULL;
        Error e = {};
        side_disks(&(Side) {.disks = {image}}, &d);
        CHECK(appliance_new_direct(&d, 1, &a, &e) < 0 || appliance_scan(a, NULL, &(Manifest *) {NULL}, &e) < 0);
        CHECK(e.code == want);
        printf("%s - %s: direct engine says %s (%s)\n", e.code == want ? "ok" : "not ok", image,
               error_code_to_string(e.code), e.message);
        appliance_free(a);
        disk_done(&d);
}

int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "--worker") == 0)
                return worker_main(WORKER_FD, argv[2]);
        if (argc == 2 && strcmp(argv[1], "--direct-worker") == 0)
                return direct_worker_main(WORKER_FD);
        if (argc != 2) {
                fprintf(stderr, "usage: cross-check FIXTURES-DIR\n");
                return 2;
        }
        fixtures = argv[1];
        for (size_t i = 0; i < ELEMENTSOF(excepted); i++)
                printf("# excepted: %s: %s\n", excepted[i].field, excepted[i].reason);

        cross_check(&(Side) {.name = "raw disks read in place",
                             .disks = {"os-b.img", "kinds-a.img", "blank-a.img", "extras.img"}});
        cross_check(&(Side) {.name = "qcow2 overlay, internal snapshot, passed fd",
                             .disks = {"overlay.qcow2", "snaps.qcow2@s1", "kinds-b.img"},
                             .by_fd = {false, false, true}});
        /* A feature libext2fs does not know: refused, the appliance decides. */
        expect_direct_error("unmountable.img", ERR_DIRECT_UNSUPPORTED);
        /* No filesystem at all: what the appliance says too. */
        expect_direct_error("random.img", ERR_NOTHING_MOUNTABLE);
        return test_report();
}

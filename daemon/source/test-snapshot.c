/* Internal snapshots on real qcow2 files made by qemu-img: IMAGE@SNAP
 * names, the snapshot table read without qemu, and keys that stay put
 * while the live image and its other snapshots change. */
#include <ftw.h>
#include <stdarg.h>
#include <signal.h>

#include "common/test-util.h"
#include "source/disk-key.h"
#include "source/nbd.h"
#include "source/snapshot.h"

static char *tmpdir;

static char *tmp_path(const char *name) {
        return must(path_join(tmpdir, name));
}

static void run(const char *fmt, ...) _printf_(1, 2);
static void run(const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        if (r < 0 || system(cmd) != 0) {
                fprintf(stderr, "cannot run: %s\n", cmd ? cmd : fmt);
                exit(1);
        }
}

/* A validated disk of path@snapshot (snapshot NULL: the live image). */
static int open_disk(Disk *d, const char *path, const char *snapshot, Error *e) {
        *d = (Disk){.path = must(strdup(path)), .snapshot = snapshot ? must(strdup(snapshot)) : NULL};
        return disk_validate(d, e);
}

static int key_of(const char *path, const char *snapshot, uint8_t ret[FINGERPRINT_SIZE]) {
        Disk d;
        Error e = {0};
        int r = open_disk(&d, path, snapshot, &e);
        if (r >= 0)
                r = disk_identify(NULL, &d, NULL, ret, &e);
        if (r < 0)
                fprintf(stderr, "%s@%s: %s\n", path, strempty(snapshot), e.message);
        disk_done(&d);
        return r;
}

static bool same(const uint8_t *a, const uint8_t *b) {
        return memcmp(a, b, FINGERPRINT_SIZE) == 0;
}

static void test_split(void) {
        _cleanup_free_ char *img = tmp_path("split.img"), *at = tmp_path("split.img@s1"),
                            *file = tmp_path("really@named.img");
        run("truncate -s 1M '%s' '%s'", img, file);

        Disk d = {.path = must(strdup(at))};
        CHECK(snapshot_split_path(&d) == 0);
        CHECK(streq_ptr(d.path, img) && streq_ptr(d.snapshot, "s1"));
        disk_done(&d);

        /* A file of that whole name is the file. */
        d = (Disk){.path = must(strdup(file))};
        CHECK(snapshot_split_path(&d) == 0);
        CHECK(streq_ptr(d.path, file) && !d.snapshot);
        disk_done(&d);

        /* Neither IMAGE nor the whole name exists: left for "no such file". */
        _cleanup_free_ char *none = tmp_path("none.img@s1"), *empty = tmp_path("split.img@");
        d = (Disk){.path = must(strdup(none))};
        CHECK(snapshot_split_path(&d) == 0);
        CHECK(streq_ptr(d.path, none) && !d.snapshot);
        disk_done(&d);
        d = (Disk){.path = must(strdup(empty))};
        CHECK(snapshot_split_path(&d) == 0);
        CHECK(streq_ptr(d.path, empty) && !d.snapshot);
        disk_done(&d);
}

static void test_keys(void) {
        _cleanup_free_ char *img = tmp_path("snaps.qcow2"), *copy = tmp_path("copy.qcow2"),
                            *other = tmp_path("other.qcow2");
        uint8_t s1[FINGERPRINT_SIZE], s2[FINGERPRINT_SIZE], live[FINGERPRINT_SIZE], k[FINGERPRINT_SIZE];

        run("qemu-img create -q -f qcow2 '%s' 16M && qemu-io -f qcow2 -c 'write -P 0x11 0 1M' '%s' >/dev/null && "
            "qemu-img snapshot -c s1 '%s' && qemu-io -f qcow2 -c 'write -P 0x22 1M 1M' '%s' >/dev/null && "
            "qemu-img snapshot -c s2 '%s'",
            img, img, img, img, img);
        CHECK(key_of(img, "s1", s1) == 0);
        CHECK(key_of(img, "s2", s2) == 0);
        CHECK(key_of(img, NULL, live) == 0);
        CHECK(!same(s1, s2) && !same(s1, live) && !same(s2, live));

        /* Writing the live image moves its key only. */
        run("qemu-io -f qcow2 -c 'write -P 0x33 0 2M' '%s' >/dev/null", img);
        CHECK(key_of(img, "s1", k) == 0 && same(k, s1));
        CHECK(key_of(img, "s2", k) == 0 && same(k, s2));
        CHECK(key_of(img, NULL, k) == 0 && !same(k, live));

        /* A copy holds the same snapshots: the same keys. */
        run("cp '%s' '%s'", img, copy);
        CHECK(key_of(copy, "s1", k) == 0 && same(k, s1));

        run("qemu-img snapshot -d s1 '%s'", img);
        CHECK(key_of(img, "s2", k) == 0 && same(k, s2));

        /* The same name in another image, taken later: another key. */
        run("qemu-img create -q -f qcow2 '%s' 16M && qemu-io -f qcow2 -c 'write -P 0x11 0 1M' '%s' >/dev/null && "
            "qemu-img snapshot -c s1 '%s'",
            other, other, other);
        CHECK(key_of(other, "s1", k) == 0 && !same(k, s1));
}

/* Two snapshots that share their tables, the live image moved away from
 * both: deleting one makes qemu set the COPIED flags in the tables the
 * other still holds, in place. The other's key must not move. */
static void test_sibling_deleted(void) {
        _cleanup_free_ char *img = tmp_path("siblings.qcow2");
        uint8_t before[FINGERPRINT_SIZE], after[FINGERPRINT_SIZE];

        run("qemu-img create -q -f qcow2 '%s' 16M && qemu-io -f qcow2 -c 'write -P 0x44 0 1M' '%s' >/dev/null && "
            "qemu-img snapshot -c a '%s' && qemu-img snapshot -c b '%s' && "
            "qemu-io -f qcow2 -c 'write -P 0x55 0 1M' '%s' >/dev/null",
            img, img, img, img, img);
        CHECK(key_of(img, "b", before) == 0);
        run("qemu-img snapshot -d a '%s'", img);
        CHECK(key_of(img, "b", after) == 0 && same(before, after));
}

static void test_errors(void) {
        _cleanup_free_ char *img = tmp_path("snaps.qcow2"), *raw = tmp_path("split.img");
        Disk d;
        Error e = {0};

        CHECK(open_disk(&d, img, "no-such", &e) < 0);
        CHECK(e.code == ERR_UNKNOWN_SNAPSHOT && strstr(e.message, "no snapshot named 'no-such'"));
        disk_done(&d);

        e = (Error){0};
        CHECK(open_disk(&d, raw, "s1", &e) < 0);
        CHECK(e.code == ERR_UNSUPPORTED_FORMAT && strstr(e.message, "only qcow2"));
        disk_done(&d);

        /* The snapshot's own size, not the live image's. */
        e = (Error){0};
        run("qemu-img resize -q '%s' 32M", img);
        CHECK(open_disk(&d, img, "s2", &e) == 0 && d.virtual_size == 16 << 20);
        disk_done(&d);
}

/* qemu-nbd serves a snapshot whose name needs quoting, as the overlay's
 * backing JSON reaches it, and goes away with its socket directory. */
static void test_nbd(void) {
        _cleanup_free_ char *img = tmp_path("nbd.qcow2");
        run("qemu-img create -q -f qcow2 '%s' 8M && qemu-io -f qcow2 -c 'write -P 0x11 0 64k' '%s' >/dev/null && "
            "qemu-img snapshot -c 'a,b=c' '%s' && qemu-io -f qcow2 -c 'write -P 0x22 0 64k' '%s' >/dev/null && "
            "qemu-img resize -q '%s' 24M",
            img, img, img, img, img);
        Disk d;
        Error e = {0};
        CHECK(open_disk(&d, img, "a,b=c", &e) == 0);
        CHECK(nbd_serve_disks(&d, 1, NULL, &e) == 0 && d.nbd && d.nbd->pid > 0);
        if (!d.nbd) {
                fprintf(stderr, "qemu-nbd: %s\n", e.message);
                disk_done(&d);
                return;
        }
        _cleanup_free_ char *backing = nbd_backing_json(&d), *dir = must(strdup(d.nbd->dir));
        pid_t pid = d.nbd->pid;
        CHECK(backing && strncmp(backing, "json:", 5) == 0);
        /* The snapshot's bytes, not the live image's. */
        run("qemu-io -r -c 'read -P 0x11 0 64k' '%s' | grep -q 'read 65536/65536' && "
            "! qemu-io -r -c 'read -P 0x11 0 64k' '%s' | grep -q 'failed'",
            backing, backing);
        /* At the snapshot's size, not the grown live image's. */
        run("qemu-img info --output=json '%s' | grep -q '\"virtual-size\": 8388608,'", backing);
        nbd_stop_disks(&d, 1);
        CHECK(!d.nbd && kill(pid, 0) < 0 && errno == ESRCH && access(dir, F_OK) < 0);
        disk_done(&d);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

int main(void) {
        const char *t = getenv("TMPDIR");
        if (system("command -v qemu-img >/dev/null && command -v qemu-io >/dev/null") != 0) {
                printf("SKIP: qemu-img or qemu-io is missing\n");
                return 77;
        }
        if (asprintf(&tmpdir, "%s/test-snapshot-XXXXXX", t && t[0] ? t : "/tmp") < 0 || !mkdtemp(tmpdir))
                return EXIT_FAILURE;

        test_split();
        test_keys();
        test_sibling_deleted();
        test_errors();
        test_nbd();

        (void) nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        free(tmpdir);
        return test_report();
}

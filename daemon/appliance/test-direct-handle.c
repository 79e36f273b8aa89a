/* The direct engine's worker as the daemon holds it: spawned (this test's
 * own binary again), locked down, handed a raw image as an fd and a qcow2
 * one as a socket to its qemu-nbd export; its manifests and content reads
 * over the wire, and a side it refuses. */
#include <fcntl.h>

#include "appliance/appliance.h"
#include "common/test-util.h"
#include "direct/direct.h"
#include "direct/sandbox.h"
#include "manifest/manifest-wire.h"
#include "source/nbd.h"
#include "worker/direct-worker.h"
#include "worker/protocol.h"

static char dir[] = "/tmp/test-direct-handle-XXXXXX";

static int sh(const char *cmd) {
        char *full = NULL;
        if (asprintf(&full, "cd %s && { %s ; } >/dev/null 2>&1", dir, cmd) < 0)
                exit(1);
        int r = system(full);
        free(full);
        return r;
}

static void disk_init(Disk *d, const char *name) {
        *d = (Disk) {.fd = -1, .path = must(path_join(dir, name))};
        Error e = {};
        CHECK(disk_validate(d, &e) == 0);
}

/* The same side scanned in this process, without a worker. */
static void encode_in_process(const char *name, WireBuf *b) {
        _cleanup_free_ char *p = must(path_join(dir, name));
        ImageReader *r = NULL;
        DirectSide *s = NULL;
        _cleanup_manifest_ Manifest *m = NULL;
        Error e = {};
        CHECK(image_reader_new_fd(open(p, O_RDONLY | O_CLOEXEC), &r) == 0);
        CHECK(direct_side_open(&r, 1, &s, &e) == 0 && direct_side_scan(s, NULL, &m, &e) == 0);
        if (m)
                manifest_encode(m, b);
        direct_side_free(s);
}

static bool same_manifest(const Manifest *m, const WireBuf *want) {
        _cleanup_wire_buf_ WireBuf got = {};
        manifest_encode(m, &got);
        return got.len == want->len && memcmp(got.data, want->data, got.len) == 0;
}

static void test_raw_and_qcow2(void) {
        _cleanup_wire_buf_ WireBuf want = {};
        encode_in_process("fs.img", &want);
        Disk disks[2];
        disk_init(&disks[0], "fs.img");
        disk_init(&disks[1], "fs.qcow2");
        Error e = {};

        for (size_t i = 0; i < 2; i++) {
                Appliance *a = NULL;
                _cleanup_manifest_ Manifest *m = NULL;
                e = (Error) {};
                CHECK(nbd_serve_disks_for_direct(&disks[i], 1, NULL, &e) == 0);
                CHECK((disks[i].nbd != NULL) == (i == 1));
                CHECK(appliance_new_direct(&disks[i], 1, &a, &e) == 0);
                if (!a) {
                        fprintf(stderr, "  %s: %s\n", disks[i].path, e.message);
                        continue;
                }
                CHECK(a->direct && (a->sandbox & SANDBOX_SECCOMP) && a->qemu_pid == 0);
                CHECK(proc_status_has(a->worker_pid, "Seccomp:\t2") && proc_status_has(a->worker_pid, "NoNewPrivs:\t1"));
                CHECK(appliance_scan(a, NULL, &m, &e) == 0);
                CHECK(m && same_manifest(m, &want));
                /* Package databases are the appliance's: refused, and the
                 * worker answers the calls below. */
                Manifest *pm = NULL;
                PackageSet *ps = NULL;
                CHECK(appliance_scan_packages(a, NULL, &pm, &ps, &e) < 0 && e.code == ERR_DIRECT_UNSUPPORTED);
                CHECK(!pm && !ps);
                e = (Error) {};

                /* The content stage's calls. */
                char *data = NULL, *sum = NULL;
                size_t len = 0;
                CHECK(appliance_mount_ro(a, "/dev/sda", "/", &e) == 0);
                CHECK(appliance_read_file(a, "/dir/hello.txt", &data, &len, &e) == 0);
                CHECK(len == 6 && data && memcmp(data, "hello\n", 6) == 0);
                free(data);
                CHECK(appliance_checksum(a, "md5", "/dir/hello.txt", &sum, &e) == 0);
                CHECK(streq_ptr(sum, "b1946ac92492d2347c6235b4d2611184"));
                free(sum);
                e = (Error) {};
                CHECK(appliance_read_file(a, "/missing", &data, &len, &e) < 0 && e.code == ERR_SCAN_FAILED);
                e = (Error) {};
                CHECK(appliance_umount_all(a, &e) == 0);
                CHECK(appliance_read_file(a, "/dir/hello.txt", &data, &len, &e) < 0);
                appliance_free(a);
                nbd_stop_disks(&disks[i], 1);
        }
        CHECK(appliance_launch_count() == 0);
        disk_done(&disks[0]);
        disk_done(&disks[1]);
}

static void test_refused(void) {
        Disk d;
        Appliance *a = NULL;
        Error e = {};
        disk_init(&d, "vfat.img");
        CHECK(appliance_new_direct(&d, 1, &a, &e) < 0 && e.code == ERR_DIRECT_UNSUPPORTED && !a);
        disk_done(&d);
}

int main(int argc, char **argv) {
        /* The worker the test spawns is this binary again. */
        if (argc == 2 && strcmp(argv[1], "--direct-worker") == 0)
                return direct_worker_main(WORKER_FD);

        if (!mkdtemp(dir))
                return 1;
        CHECK(sh("mkdir -p tree/dir && echo hello >tree/dir/hello.txt && ln -s dir/hello.txt tree/link && "
                 "truncate -s 16M fs.img && mke2fs -q -F -t ext4 -d tree fs.img && "
                 "qemu-img convert -f raw -O qcow2 fs.img fs.qcow2 && truncate -s 16M vfat.img && "
                 "mkfs.vfat vfat.img") == 0);
        test_raw_and_qcow2();
        test_refused();
        rm_rf(dir);
        return test_report();
}

/* Disks passed as file descriptors: which fds are taken, the daemon's own
 * copy and its /proc path, and the formats and headers refused before
 * qemu-img could open another file. Real files, pipes and qemu-img images;
 * no appliance. */
#include <fcntl.h>
#include <sys/stat.h>

#include "common/test-util.h"
#include "source/disk-fd.h"

static char tmpdir[] = "/tmp/test-disk-fd-XXXXXX";

static char *tmp_path(const char *name) {
        return must(path_join(tmpdir, name));
}

static void write_file(const char *path, const void *data, size_t len) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data, len) != (ssize_t) len) {
                fprintf(stderr, "cannot write %s\n", path);
                exit(1);
        }
}

static ErrorCode check_code(int fd) {
        Error e = {0};
        return disk_fd_check(fd, &e) < 0 ? e.code : ERR_OK;
}

static void test_check(void) {
        _cleanup_free_ char *file = tmp_path("image.raw");
        uint8_t zeros[4096] = {0};
        write_file(file, zeros, sizeof zeros);

        _cleanup_close_ int rd = open(file, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int rdwr = open(file, O_RDWR | O_CLOEXEC);
        _cleanup_close_ int wr = open(file, O_WRONLY | O_CLOEXEC);
        _cleanup_close_ int path = open(file, O_PATH | O_CLOEXEC);
        _cleanup_close_ int dir = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int p[2];
        CHECK(pipe2(p, O_CLOEXEC) == 0);

        CHECK(check_code(rd) == ERR_OK);
        CHECK(check_code(rdwr) == ERR_OK);
        /* Reopening through /proc would grant what the caller lacked. */
        CHECK(check_code(wr) == ERR_INVALID_ARGS);
        CHECK(check_code(path) == ERR_INVALID_ARGS);
        CHECK(check_code(dir) == ERR_INVALID_IMAGE);
        CHECK(check_code(null) == ERR_INVALID_IMAGE);
        CHECK(check_code(p[0]) == ERR_INVALID_IMAGE);
        CHECK(check_code(12345) == ERR_INVALID_ARGS);
        (void) close(p[0]);
        (void) close(p[1]);
}

static void test_set_fd(void) {
        _cleanup_free_ char *file = tmp_path("image.raw");
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        Disk d = {.path = must(strdup(""))};
        CHECK(fd >= 0 && disk_set_fd(&d, fd) == 0);
        CHECK(d.by_fd && d.fd != fd && d.fd >= 3);
        _cleanup_free_ char *want = NULL;
        CHECK(asprintf(&want, "/proc/%d/fd/%d", (int) getpid(), d.fd) > 0 && streq_ptr(d.path, want));
        /* The copy is the daemon's: closing the caller's leaves it open. */
        (void) close(fd);
        struct stat a, b;
        CHECK(stat(d.path, &a) == 0 && stat(file, &b) == 0 && a.st_ino == b.st_ino);
        int copy = d.fd;
        disk_done(&d);
        CHECK(fcntl(copy, F_GETFD) < 0 && errno == EBADF);
}

static ErrorCode validate_code(const char *format, const uint8_t *magic, size_t len) {
        Disk d = {.format = (char *) format, .by_fd = true};
        Error e = {0};
        return disk_fd_validate(&d, magic, len, &e) < 0 ? e.code : ERR_OK;
}

/* A qcow2 header from qemu-img itself: with and without a backing file. */
static void test_validate(void) {
        _cleanup_free_ char *base = tmp_path("base.qcow2"), *over = tmp_path("over.qcow2"), *cmd = NULL;
        CHECK(asprintf(&cmd, "qemu-img create -q -f qcow2 %s 1M && qemu-img create -q -f qcow2 -b %s -F qcow2 %s",
                       base, base, over) > 0);
        CHECK(system(cmd) == 0);
        uint8_t hb[512] = {0}, ho[512] = {0};
        _cleanup_close_ int fb = open(base, O_RDONLY | O_CLOEXEC), fo = open(over, O_RDONLY | O_CLOEXEC);
        CHECK(pread(fb, hb, sizeof hb, 0) == sizeof hb && pread(fo, ho, sizeof ho, 0) == sizeof ho);

        CHECK(validate_code("qcow2", hb, sizeof hb) == ERR_OK);
        CHECK(validate_code("qcow2", ho, sizeof ho) == ERR_INVALID_IMAGE);
        CHECK(validate_code("qcow2", ho, 12) == ERR_TRUNCATED_IMAGE);
        /* Given as raw, the same bytes are only data: nothing is probed. */
        CHECK(validate_code("raw", ho, sizeof ho) == ERR_OK);
        /* Formats whose headers or descriptors may name other files. */
        CHECK(validate_code("vmdk", hb, sizeof hb) == ERR_UNSUPPORTED_FORMAT);
        CHECK(validate_code("qed", hb, sizeof hb) == ERR_UNSUPPORTED_FORMAT);
        CHECK(validate_code("vhdx", hb, sizeof hb) == ERR_UNSUPPORTED_FORMAT);
}

int main(void) {
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 1;
        }
        test_check();
        test_set_fd();
        test_validate();
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf %s", tmpdir) > 0)
                (void) !system(cmd);
        return test_report();
}

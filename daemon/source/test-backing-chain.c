/* Backing chains walked before qemu opens anything: the qcow2 header
 * parser, the caller's access check in a child that drops to the caller's
 * uid (run as root: to nobody), and the chain rules on crafted and on
 * qemu-img made images. */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "common/input-limits.h"
#include "common/test-util.h"
#include "source/backing-chain.h"
#include "source/caller-access.h"
#include "source/disk.h"
#include "source/qcow2-header.h"

#define NOBODY 65534

static char *tmpdir;

static char *tmp_path(const char *name) {
        return must(path_join(tmpdir, name));
}

static void put_be32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24), p[1] = (uint8_t) (v >> 16), p[2] = (uint8_t) (v >> 8), p[3] = (uint8_t) v;
}

static void put_be64(uint8_t *p, uint64_t v) {
        put_be32(p, (uint32_t) (v >> 32));
        put_be32(p + 4, (uint32_t) v);
}

/* A qcow2 v3 header as qemu-img writes one, naming backing (NULL: none)
 * with format (NULL: no extension); flags = its incompatible features.
 * Returns where the header ends. */
static size_t make_header(uint8_t *buf, size_t size, const char *backing, const char *format, uint64_t flags) {
        memset(buf, 0, size);
        put_be32(buf, QCOW2_MAGIC);
        put_be32(buf + 4, 3);
        put_be32(buf + 20, 16);
        put_be64(buf + 24, 1 << 20);
        put_be64(buf + 72, flags);
        put_be32(buf + 96, 4);
        put_be32(buf + 100, 104);
        size_t off = 104;
        if (format) {
                put_be32(buf + off, 0xe2792acaU);
                put_be32(buf + off + 4, (uint32_t) strlen(format));
                memcpy(buf + off + 8, format, strlen(format));
                off += 8 + ((strlen(format) + 7) & ~(size_t) 7);
        }
        off += 8; /* the end marker: zeroes */
        if (backing) {
                put_be64(buf + 8, off);
                put_be32(buf + 16, (uint32_t) strlen(backing));
                memcpy(buf + off, backing, strlen(backing));
                off += strlen(backing);
        }
        return off;
}

static char *write_image(const char *name, const char *backing, const char *format, uint64_t flags) {
        uint8_t buf[4096];
        char *path = tmp_path(name);
        size_t n = make_header(buf, sizeof buf, backing, format, flags);
        n = n < 512 ? 512 : n;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, buf, n) != (ssize_t) n) {
                fprintf(stderr, "cannot write %s\n", path);
                exit(1);
        }
        (void) close(fd);
        return path;
}

static void write_file(const char *path, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0 || write(fd, "secret\n", 7) != 7 || fchmod(fd, mode) < 0) {
                fprintf(stderr, "cannot write %s\n", path);
                exit(1);
        }
        (void) close(fd);
}

static ErrorCode check(const char *path, const char *format, const CallerCreds *c, Error *e) {
        *e = (Error){0};
        (void) backing_chain_check(path, format, c, e);
        return e->code;
}

static void test_header(void) {
        uint8_t buf[4096];
        Qcow2Header h;
        const char *why = NULL;

        size_t n = make_header(buf, sizeof buf, "base.img", "raw", 0);
        CHECK(qcow2_header_parse(buf, n, &h, &why) == 0);
        CHECK(h.has_backing && strcmp(h.backing, "base.img") == 0);
        CHECK(h.has_backing_format && strcmp(h.backing_format, "raw") == 0);
        CHECK(!h.external_data);
        /* Every cut short of the name is refused, never read past. */
        for (size_t cut = 0; cut < n; cut++)
                CHECK(qcow2_header_parse(buf, cut, &h, &why) == -EINVAL && why);

        n = make_header(buf, sizeof buf, NULL, NULL, 1 << 2);
        CHECK(qcow2_header_parse(buf, n, &h, &why) == 0 && h.external_data && !h.has_backing);

        /* A NUL inside the name: qemu would open a shorter name. */
        n = make_header(buf, sizeof buf, "/etc/shadow\x01/x", "raw", 0);
        buf[n - 2] = 0;
        CHECK(qcow2_header_parse(buf, n, &h, &why) == -EINVAL);

        /* A format extension longer than qemu accepts. */
        n = make_header(buf, sizeof buf, "b", "qcow2-but-far-too-long", 0);
        CHECK(qcow2_header_parse(buf, n, &h, &why) == -EINVAL);

        n = make_header(buf, sizeof buf, NULL, NULL, 0);
        put_be32(buf + 4, 4);
        CHECK(qcow2_header_parse(buf, n, &h, &why) == -EINVAL);
}

/* The system bus's case: root acting for nobody. */
static void test_caller_access(void) {
        _cleanup_free_ char *secret = tmp_path("secret"), *public = tmp_path("public");
        _cleanup_(caller_creds_freep) CallerCreds *nobody = NULL;

        write_file(secret, 0600);
        write_file(public, 0644);
        CHECK(caller_creds_from_uid(NOBODY, &nobody) == 0);
        CHECK(caller_may_read(nobody, secret) == -EACCES);
        CHECK(caller_may_read(nobody, public) == 0);
        CHECK(caller_may_read(nobody, "/nonexistent/file") == -ENOENT);
        CHECK(caller_may_read(NULL, secret) == 0);
        /* A group the caller is in counts. */
        nobody->groups = must(realloc(nobody->groups, (nobody->n_groups + 1) * sizeof(gid_t)));
        nobody->groups[nobody->n_groups++] = 4242;
        CHECK(chown(secret, 0, 4242) == 0 && chmod(secret, 0640) == 0);
        CHECK(caller_may_read(nobody, secret) == 0);
        CHECK(chmod(secret, 0600) == 0);
        CHECK(caller_may_read(nobody, secret) == -EACCES);

        /* A socket peer's groups are the kernel's record, not the database's. */
        _cleanup_(caller_creds_freep) CallerCreds *peer = NULL;
        const gid_t groups[] = {4242};
        CHECK(caller_creds_from_peer(NOBODY, 4243, groups, 1, &peer) == 0);
        CHECK(peer->uid == NOBODY && peer->gid == 4243 && peer->n_groups == 1 && peer->groups[0] == 4242);
        CHECK(chmod(secret, 0640) == 0);
        CHECK(caller_may_read(peer, secret) == 0);
        CHECK(chown(secret, 0, 0) == 0);
        CHECK(caller_may_read(peer, secret) == -EACCES);
}

static void test_chains(void) {
        _cleanup_(caller_creds_freep) CallerCreds *nobody = NULL;
        _cleanup_free_ char *secret = tmp_path("secret.raw");
        Error e;

        CHECK(caller_creds_from_uid(NOBODY, &nobody) == 0);
        write_file(secret, 0600);

        /* The attack: a qcow2 header naming /etc/shadow. */
        _cleanup_free_ char *shadow = write_image("shadow.img", "/etc/shadow", NULL, 0);
        CHECK(check(shadow, "raw", NULL, &e) == ERR_OK);
        CHECK(check(shadow, "qcow2", NULL, &e) == ERR_UNSUPPORTED_FORMAT);
        CHECK(strstr(e.message, "/etc/shadow") && strstr(e.message, "probed"));
        _cleanup_free_ char *shadow_raw = write_image("shadow-raw.img", "/etc/shadow", "raw", 0);
        CHECK(check(shadow_raw, "qcow2", nobody, &e) == ERR_ACCESS_DENIED);
        CHECK(strstr(e.message, "/etc/shadow") != NULL);
        /* The same caller on a file it may read. */
        _cleanup_free_ char *secret_img = write_image("secret.img", "secret.raw", "raw", 0);
        CHECK(check(secret_img, "qcow2", nobody, &e) == ERR_ACCESS_DENIED);
        CHECK(strstr(e.message, secret) != NULL);
        CHECK(check(secret_img, "qcow2", NULL, &e) == ERR_OK);
        CHECK(chmod(secret, 0644) == 0);
        CHECK(check(secret_img, "qcow2", nobody, &e) == ERR_OK);

        /* --format=raw follows nothing, even a missing file. */
        _cleanup_free_ char *missing = write_image("missing.img", "no-such-base.img", "qcow2", 0);
        CHECK(check(missing, "raw", NULL, &e) == ERR_OK);
        CHECK(check(missing, "qcow2", NULL, &e) == ERR_MISSING_BACKING_FILE);
        CHECK(strstr(e.message, "no-such-base.img") != NULL);

        _cleanup_free_ char *self = write_image("self.img", "self.img", "qcow2", 0);
        CHECK(check(self, "qcow2", NULL, &e) == ERR_INVALID_IMAGE && strstr(e.message, "loops"));
        _cleanup_free_ char *a = write_image("loop-a.img", "loop-b.img", "qcow2", 0);
        _cleanup_free_ char *b = write_image("loop-b.img", "loop-a.img", "qcow2", 0);
        CHECK(check(a, "qcow2", NULL, &e) == ERR_INVALID_IMAGE && strstr(e.message, "loops"));

        _cleanup_free_ char *proto = write_image("proto.img", "nbd:localhost:10809", "raw", 0);
        CHECK(check(proto, "qcow2", NULL, &e) == ERR_ACCESS_DENIED);
        _cleanup_free_ char *json = write_image("json.img", "json:{\"driver\":\"file\"}", "raw", 0);
        CHECK(check(json, "qcow2", NULL, &e) == ERR_ACCESS_DENIED);
        _cleanup_free_ char *vmdk = write_image("vmdk.img", "secret.raw", "vmdk", 0);
        CHECK(check(vmdk, "qcow2", NULL, &e) == ERR_UNSUPPORTED_FORMAT);
        _cleanup_free_ char *data = write_image("data.img", NULL, NULL, 1 << 2);
        CHECK(check(data, "qcow2", NULL, &e) == ERR_UNSUPPORTED_FORMAT);
        _cleanup_free_ char *fifo = tmp_path("fifo");
        CHECK(mkfifo(fifo, 0644) == 0);
        _cleanup_free_ char *to_fifo = write_image("to-fifo.img", "fifo", "raw", 0);
        CHECK(check(to_fifo, "qcow2", NULL, &e) == ERR_INVALID_IMAGE);

        /* A deep but finite chain: each names the next. */
        char name[32], next[32];
        for (int i = 0; i <= MAX_BACKING_CHAIN_DEPTH + 1; i++) {
                snprintf(name, sizeof name, "deep-%d.img", i);
                snprintf(next, sizeof next, "deep-%d.img", i + 1);
                free(write_image(name, i <= MAX_BACKING_CHAIN_DEPTH ? next : NULL, "qcow2", 0));
        }
        _cleanup_free_ char *deep = tmp_path("deep-0.img");
        CHECK(check(deep, "qcow2", NULL, &e) == ERR_INVALID_IMAGE && strstr(e.message, "deeper"));
        _cleanup_free_ char *shallow = tmp_path("deep-2.img");
        CHECK(check(shallow, "qcow2", NULL, &e) == ERR_OK);
}

/* Chains qemu-img makes pass, through disk_validate as the daemon runs it. */
static void test_real_chain(void) {
        _cleanup_free_ char *cmd = NULL;
        if (system("command -v qemu-img >/dev/null") != 0) {
                printf("# no qemu-img: real chain not tested\n");
                return;
        }
        CHECK(asprintf(&cmd,
                       "cd %s && qemu-img create -q -f raw base.raw 1M && "
                       "qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2 && "
                       "qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2",
                       tmpdir) > 0);
        CHECK(system(cmd) == 0);
        Disk d = {.path = tmp_path("top.qcow2")};
        Error e = {0};
        CHECK(disk_validate(&d, &e) == 0);
        CHECK(strv_length(d.backing_chain) == 2);
        disk_done(&d);

        /* qemu-img info never runs on the attack: refused before it. */
        d = (Disk){.path = tmp_path("shadow.img")};
        e = (Error){0};
        CHECK(disk_validate(&d, &e) < 0 && e.code == ERR_UNSUPPORTED_FORMAT);
        disk_done(&d);
}

int main(void) {
        char tmpl[] = "/tmp/test-backing-chain.XXXXXX";
        tmpdir = mkdtemp(tmpl);
        /* Walkable by nobody: only the files' own modes decide. */
        if (!tmpdir || chmod(tmpdir, 0755) < 0)
                return EXIT_FAILURE;

        test_header();
        if (geteuid() == 0)
                test_caller_access();
        else
                printf("# not root: the access check as another user is not tested\n");
        test_chains();
        test_real_chain();
        rm_rf(tmpdir);
        return test_report();
}

/* Checksums against the coreutils programs the appliance runs. */
#include "common/test-util.h"
#include "direct/content-sum.h"

static char *sum(const char *alg, const void *data, size_t len) {
        ContentSum *s = NULL;
        if (content_sum_new(alg, &s) < 0)
                return NULL;
        /* In two pieces, as a file arrives in runs. */
        content_sum_update(s, data, len / 2);
        content_sum_update(s, (const char *) data + len / 2, len - len / 2);
        return content_sum_finish(s);
}

/* The first word of PROGRAM's output on the same bytes. */
static char *program(const char *prog, const char *path) {
        char cmd[512], out[256] = "";
        snprintf(cmd, sizeof cmd, "%s < %s", prog, path);
        FILE *p = popen(cmd, "r");
        if (!p || !fgets(out, sizeof out, p))
                out[0] = 0;
        if (p)
                pclose(p);
        out[strcspn(out, " \t\n")] = 0;
        return must(strdup(out));
}

int main(void) {
        static const struct {
                const char *alg, *prog;
        } algs[] = {{"crc", "cksum"},       {"md5", "md5sum"},       {"sha1", "sha1sum"}, {"SHA224", "sha224sum"},
                    {"sha256", "sha256sum"}, {"sha384", "sha384sum"}, {"sha512", "sha512sum"}};
        char path[] = "/tmp/test-content-sum-XXXXXX";
        int fd = mkstemp(path);
        uint8_t data[70000];
        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (uint8_t) (i * 7 + i / 256);
        const size_t lengths[] = {0, 1, 255, 256, 70000};

        for (size_t l = 0; l < ELEMENTSOF(lengths); l++) {
                CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, lengths[l], 0) == (ssize_t) lengths[l]);
                for (size_t i = 0; i < ELEMENTSOF(algs); i++) {
                        _cleanup_free_ char *ours = sum(algs[i].alg, data, lengths[l]);
                        _cleanup_free_ char *theirs = program(algs[i].prog, path);
                        CHECK(streq_ptr(ours, theirs));
                        if (!streq_ptr(ours, theirs))
                                fprintf(stderr, "  %s of %zu bytes: %s, not %s\n", algs[i].alg, lengths[l],
                                        strempty(ours), theirs);
                }
        }
        ContentSum *s = NULL;
        CHECK(content_sum_new("sha3", &s) == -EINVAL && !s);
        close(fd);
        unlink(path);
        return test_report();
}

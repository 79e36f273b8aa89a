/* Unit tests of --key's selectors as libguestfs takes them, and that an
 * error never shows the key. */
#include <fcntl.h>
#include <string.h>

#include "common/test-util.h"
#include "key-args.h"
#include "options.h"

static char errbuf[4096];

/* key_args_add() with stderr caught in errbuf. */
static int add(DiffArgs *a, const char *selector) {
        FILE *tmp = must(tmpfile());
        int saved = dup(STDERR_FILENO);
        fflush(stderr);
        dup2(fileno(tmp), STDERR_FILENO);
        int r = key_args_add(a, "virt-diff", selector);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        rewind(tmp);
        size_t n = fread(errbuf, 1, sizeof errbuf - 1, tmp);
        errbuf[n] = 0;
        fclose(tmp);
        return r;
}

static bool last_is(DiffArgs *a, const char *selector, const char *key) {
        const Key *k = a->keys.n ? &a->keys.keys[a->keys.n - 1] : NULL;
        return k && streq_ptr(k->selector, selector) && k->len == strlen(key) && memcmp(k->bytes, key, k->len) == 0;
}

static void test_selectors(void) {
        DiffArgs a = {};
        CHECK(add(&a, "/dev/sda2:key:alpha secret") == 0 && last_is(&a, "/dev/sda2", "alpha secret"));
        CHECK(add(&a, "6a1f0f9e-4b7a:key:x") == 0 && last_is(&a, "6a1f0f9e-4b7a", "x"));
        /* /dev/mapper/VG-LV is the logical volume /dev/VG/LV, "--" a "-". */
        CHECK(add(&a, "/dev/mapper/VG-LV:key:x") == 0 && last_is(&a, "/dev/VG/LV", "x"));
        CHECK(add(&a, "/dev/mapper/my--vg-root:key:x") == 0 && last_is(&a, "/dev/my-vg/root", "x"));
        CHECK(add(&a, "/dev/mapper/luks-a-b:key:x") == 0 && last_is(&a, "/dev/mapper/luks-a-b", "x"));
        CHECK(add(&a, "/dev/mapper/root:key:x") == 0 && last_is(&a, "/dev/mapper/root", "x"));

        char path[] = "/tmp/test-key-args.XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0 && write(fd, "file\nkey\n", 9) == 9);
        close(fd);
        _cleanup_free_ char *sel = NULL;
        CHECK(asprintf(&sel, "all:file:%s", path) > 0);
        /* A key file's exact bytes. */
        CHECK(add(&a, sel) == 0 && last_is(&a, "all", "file\nkey\n"));
        unlink(path);
        CHECK(add(&a, sel) == -EINVAL && strstr(errbuf, "cannot read it"));
        diff_args_done(&a);
}

static void test_refused(void) {
        static const char *const bad[] = {
                "/dev/sda2",          "/dev/sda2:key",     ":key:topsecret",      "/dev/sda2:key:",
                "/dev/sda2:key:top:secret", "/dev/sda2:bogus:topsecret", "/dev/sda2:clevis",
        };
        DiffArgs a = {};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CHECK(add(&a, bad[i]) == -EINVAL);
                CHECK(strstr(errbuf, "--key") && !strstr(errbuf, "secret"));
        }
        CHECK(a.keys.n == 0);
        diff_args_done(&a);
}

int main(void) {
        test_selectors();
        test_refused();
        return test_report();
}

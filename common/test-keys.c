/* Unit tests of the key list: copies, selectors, the daemon's checks, and
 * the worker's list of locked devices. */
#include <errno.h>
#include <string.h>

#include "common/input-limits.h"
#include "common/keys.h"
#include "common/test-util.h"
#include "common/util.h"

static void test_list(void) {
        KeyList l = {};
        char pass[] = "alpha";

        CHECK(key_list_add(&l, "/dev/sda2", pass, 5) == 0);
        CHECK(key_list_add(&l, NULL, "beta", 4) == 0);
        memset(pass, 'x', sizeof pass - 1);
        CHECK(l.n == 2 && memcmp(l.keys[0].bytes, "alpha", 5) == 0 && l.keys[0].len == 5);
        CHECK(streq_ptr(l.keys[0].selector, "/dev/sda2") && !l.keys[1].selector);
        key_list_done(&l);
        CHECK(l.n == 0 && !l.keys);
        key_list_done(&l);
}

static void test_selectors(void) {
        CHECK(key_selector_matches("all", "/dev/sda2", NULL));
        CHECK(key_selector_matches("/dev/sda2", "/dev/sda2", "u"));
        CHECK(key_selector_matches("6a1f-u", "/dev/sdb1", "6a1f-u"));
        CHECK(!key_selector_matches("/dev/sda2", "/dev/sda3", "u"));
        CHECK(!key_selector_matches("u", "/dev/sda3", NULL));
}

static void test_check(void) {
        static char big[MAX_KEY_LENGTH + 1];
        memset(big, 'k', sizeof big);
        CHECK(key_check("secret", 6) == 0);
        CHECK(key_check("", 0) == -EINVAL);
        CHECK(key_check("sec\0ret", 7) == -EINVAL);
        CHECK(key_check(big, MAX_KEY_LENGTH) == 0);
        CHECK(key_check(big, MAX_KEY_LENGTH + 1) == -EINVAL);
}

static void test_device_list(void) {
        char **l = NULL;
        CHECK(key_device_list_decode("/dev/sda2\0/dev/VG/LV", 21, &l) == 0);
        CHECK(l && strv_length(l) == 2 && streq_ptr(l[1], "/dev/VG/LV"));
        strv_free(l);
        CHECK(key_device_list_decode("", 0, &l) == 0 && l && !l[0]);
        strv_free(l);
        l = NULL;
        /* Unterminated, or an empty name. */
        CHECK(key_device_list_decode("/dev/sda2", 9, &l) == -EBADMSG && !l);
        CHECK(key_device_list_decode("\0", 1, &l) == -EBADMSG && !l);
}

int main(void) {
        test_list();
        test_selectors();
        test_check();
        test_device_list();
        return test_report();
}

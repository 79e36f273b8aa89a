/* ACLs and file capabilities turned from their disk form into what the
 * kernel's getxattr() returns, byte for byte; the values it would refuse. */
#include "common/test-util.h"
#include "direct/xattrs.h"

static void test_acl(void) {
        /* setfacl -m u:1234:rw,g:55:r on a 0664 file, as ext4 stores it. */
        static const uint8_t disk[] = {
                0x01, 0x00, 0x00, 0x00,                         /* version 1 */
                0x01, 0x00, 0x06, 0x00,                         /* user::rw- */
                0x02, 0x00, 0x06, 0x00, 0xd2, 0x04, 0x00, 0x00, /* user:1234:rw- */
                0x04, 0x00, 0x04, 0x00,                         /* group::r-- */
                0x08, 0x00, 0x04, 0x00, 0x37, 0x00, 0x00, 0x00, /* group:55:r-- */
                0x10, 0x00, 0x06, 0x00,                         /* mask::rw- */
                0x20, 0x00, 0x04, 0x00,                         /* other::r-- */
        };
        /* What the appliance's lxattrlist showed for that file. */
        static const uint8_t kernel[] = {
                0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x06, 0x00,
                0xd2, 0x04, 0x00, 0x00, 0x04, 0x00, 0x04, 0x00, 0xff, 0xff, 0xff, 0xff, 0x08, 0x00, 0x04, 0x00,
                0x37, 0x00, 0x00, 0x00, 0x10, 0x00, 0x06, 0x00, 0xff, 0xff, 0xff, 0xff, 0x20, 0x00, 0x04, 0x00,
                0xff, 0xff, 0xff, 0xff,
        };
        uint8_t *out = NULL;
        size_t len = 0;
        CHECK(xattr_acl_from_disk(disk, sizeof disk, &out, &len) == 0);
        CHECK(len == sizeof kernel && out && memcmp(out, kernel, len) == 0);
        free(out);

        /* Three short entries only. */
        static const uint8_t minimal[] = {0x01, 0, 0, 0, 0x01, 0, 0x07, 0, 0x04, 0, 0x05, 0, 0x20, 0, 0x05, 0};
        CHECK(xattr_acl_from_disk(minimal, sizeof minimal, &out, &len) == 0 && len == 4 + 3 * 8);
        free(out);

        /* Refused as the kernel refuses them: bad version, a size that is
         * no whole number of entries, an unknown tag, a long entry cut
         * short, an empty ACL. */
        static const uint8_t v2[] = {0x02, 0, 0, 0, 0x01, 0, 0x06, 0};
        static const uint8_t odd[] = {0x01, 0, 0, 0, 0x01, 0, 0x06};
        static const uint8_t tag[] = {0x01, 0, 0, 0, 0x40, 0, 0x06, 0};
        static const uint8_t cut[] = {0x01, 0, 0, 0, 0x01, 0, 0x06, 0, 0x04, 0, 0x04, 0,
                                      0x20, 0, 0x04, 0, 0x10, 0, 0x06, 0, 0x02, 0, 0x06, 0};
        static const uint8_t empty[] = {0x01, 0, 0, 0};
        CHECK(xattr_acl_from_disk(v2, sizeof v2, &out, &len) == -EINVAL);
        CHECK(xattr_acl_from_disk(odd, sizeof odd, &out, &len) == -EINVAL);
        CHECK(xattr_acl_from_disk(tag, sizeof tag, &out, &len) == -EINVAL);
        CHECK(xattr_acl_from_disk(cut, sizeof cut, &out, &len) == -EINVAL);
        CHECK(xattr_acl_from_disk(empty, sizeof empty, &out, &len) == -ENODATA);
        CHECK(xattr_acl_from_disk(empty, 2, &out, &len) == -EINVAL);
}

static void test_caps(void) {
        /* setcap cap_net_raw+ep: v2, as the appliance showed it. */
        static const uint8_t v2[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20};
        uint8_t *out = NULL;
        size_t len = 0;
        CHECK(xattr_caps_for_getxattr(v2, sizeof v2, &out, &len) == 0 && len == 20 && memcmp(out, v2, 20) == 0);
        free(out);

        /* v3 with root id 0 comes back as v2, the effective flag kept. */
        uint8_t v3[24] = {0x01, 0x00, 0x00, 0x03, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0x01};
        CHECK(xattr_caps_for_getxattr(v3, sizeof v3, &out, &len) == 0 && len == 20);
        CHECK(out && out[3] == 0x02 && out[0] == 0x01 && out[5] == 0x20 && out[12] == 0x01);
        free(out);

        /* v3 with another root id stays v3; an invalid one fails. */
        v3[20] = 0xe8;
        v3[21] = 0x03;
        CHECK(xattr_caps_for_getxattr(v3, sizeof v3, &out, &len) == 0 && len == 24 && memcmp(out, v3, 24) == 0);
        free(out);
        memset(v3 + 20, 0xff, 4);
        CHECK(xattr_caps_for_getxattr(v3, sizeof v3, &out, &len) == -EOVERFLOW);
        CHECK(xattr_caps_for_getxattr(v2, 12, &out, &len) == -EINVAL);
        uint8_t v9[20] = {0x00, 0x00, 0x00, 0x09};
        CHECK(xattr_caps_for_getxattr(v9, sizeof v9, &out, &len) == -EINVAL);
}

int main(void) {
        test_acl();
        test_caps();
        return test_report();
}

#include "direct/xattrs.h"

#include "direct/inode-stat.h"

#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP 0x08
#define ACL_MASK 0x10
#define ACL_OTHER 0x20
#define ACL_UNDEFINED_ID 0xffffffffU
#define EXT4_ACL_VERSION 1
#define POSIX_ACL_XATTR_VERSION 2

#define CAPS_SZ_2 20
#define CAPS_SZ_3 24
#define CAP_REVISION_2 0x02000000U
#define CAP_REVISION_3 0x03000000U
#define CAP_FLAGS_EFFECTIVE 0x000001U

#define XATTR_SIZE_MAX 65536

static uint32_t get_le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint16_t get_le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

static void put_le32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
        p[2] = (uint8_t) (v >> 16);
        p[3] = (uint8_t) (v >> 24);
}

/* ext4_acl_count(): short entries only while fewer than four, then the
 * four short ones and whole entries. */
static long acl_count(size_t size) {
        size -= 4;
        if (size < 4 * 4)
                return size % 4 ? -1 : (long) (size / 4);
        size_t s = size - 4 * 4;
        return s % 8 ? -1 : (long) (s / 8 + 4);
}

int xattr_acl_from_disk(const uint8_t *value, size_t len, uint8_t **ret, size_t *ret_len) {
        if (len < 4 || get_le32(value) != EXT4_ACL_VERSION)
                return -EINVAL;
        long count = acl_count(len);
        if (count < 0)
                return -EINVAL;
        if (count == 0)
                return -ENODATA;

        const uint8_t *p = value + 4, *end = value + len;
        size_t out_len = 4 + (size_t) count * 8;
        uint8_t *out = malloc(out_len), *w = out + 4;
        if (!out)
                return -ENOMEM;
        put_le32(out, POSIX_ACL_XATTR_VERSION);
        for (long n = 0; n < count; n++, w += 8) {
                if (end - p < 4)
                        goto bad;
                uint16_t tag = get_le16(p), perm = get_le16(p + 2);
                uint32_t id = ACL_UNDEFINED_ID;
                switch (tag) {
                case ACL_USER_OBJ:
                case ACL_GROUP_OBJ:
                case ACL_MASK:
                case ACL_OTHER:
                        p += 4;
                        break;
                case ACL_USER:
                case ACL_GROUP:
                        if (end - p < 8)
                                goto bad;
                        id = get_le32(p + 4);
                        p += 8;
                        break;
                default:
                        goto bad;
                }
                w[0] = (uint8_t) tag;
                w[1] = (uint8_t) (tag >> 8);
                w[2] = (uint8_t) perm;
                w[3] = (uint8_t) (perm >> 8);
                put_le32(w + 4, id);
        }
        if (p != end)
                goto bad;
        *ret = out;
        *ret_len = out_len;
        return 0;
bad:
        free(out);
        return -EINVAL;
}

int xattr_caps_for_getxattr(const uint8_t *value, size_t len, uint8_t **ret, size_t *ret_len) {
        uint32_t magic = len >= 4 ? get_le32(value) : 0, revision = magic & ~CAP_FLAGS_EFFECTIVE;
        size_t out_len = len;

        if (len == CAPS_SZ_3 && revision == CAP_REVISION_3) {
                uint32_t root = get_le32(value + 20);
                if (root == 0xffffffffU)
                        return -EOVERFLOW;
                if (root == 0)
                        out_len = CAPS_SZ_2; /* comes back as v2 */
        } else if (len != CAPS_SZ_2 || revision != CAP_REVISION_2)
                return -EINVAL;

        uint8_t *out = malloc(out_len);
        if (!out)
                return -ENOMEM;
        memcpy(out, value, out_len);
        if (out_len != len)
                put_le32(out, CAP_REVISION_2 | (magic & CAP_FLAGS_EFFECTIVE));
        *ret = out;
        *ret_len = out_len;
        return 0;
}

typedef struct Collect {
        Entry *e;
        size_t cap;
        int error;           /* negative errno */
        const char *refused; /* why the appliance would not list these */
} Collect;

static bool has_prefix(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0 && s[strlen(prefix)] != 0;
}

static int add(Collect *c, const char *name, uint8_t *value, size_t len) {
        Entry *e = c->e;
        if (e->n_xattrs == c->cap) {
                size_t ncap = c->cap ? c->cap * 2 : 4;
                Xattr *n = realloc(e->xattrs, ncap * sizeof(Xattr));
                if (!n)
                        return -ENOMEM;
                e->xattrs = n;
                c->cap = ncap;
        }
        Xattr *x = &e->xattrs[e->n_xattrs];
        x->name = strdup(name);
        /* NUL-terminated for convenience, like the scanner's. */
        x->value = malloc(len + 1);
        if (!x->name || !x->value) {
                free(x->name);
                free(x->value);
                return -ENOMEM;
        }
        if (len)
                memcpy(x->value, value, len);
        x->value[len] = 0;
        x->len = len;
        e->n_xattrs++;
        return 0;
}

static int on_xattr(char *name, char *value, size_t len, void *data) {
        Collect *c = data;
        EntryKind kind = c->e->kind;
        _cleanup_free_ uint8_t *converted = NULL;
        size_t converted_len = 0;
        int r = 0;

        if (len > XATTR_SIZE_MAX)
                c->refused = "an extended attribute over 64 KiB";
        else if (strcmp(name, "system.posix_acl_access") == 0 || strcmp(name, "system.posix_acl_default") == 0) {
                if (kind == ENTRY_KIND_SYMLINK)
                        c->refused = "an ACL on a symbolic link";
                else if ((r = xattr_acl_from_disk((const uint8_t *) value, len, &converted, &converted_len)) < 0 &&
                         r != -ENOMEM)
                        c->refused = "an ACL the kernel would not read";
        } else if (strncmp(name, "system.", 7) == 0)
                return 0; /* no kernel handler: never listed (system.data, richacl) */
        else if (has_prefix(name, "user.")) {
                if (kind != ENTRY_KIND_FILE && kind != ENTRY_KIND_DIRECTORY)
                        c->refused = "a user.* attribute on a special file";
        } else if (has_prefix(name, "security.")) {
                if (strcmp(name, "security.capability") == 0 &&
                    (r = xattr_caps_for_getxattr((const uint8_t *) value, len, &converted, &converted_len)) < 0 &&
                    r != -ENOMEM)
                        c->refused = "a file capability the kernel would not read";
        } else if (has_prefix(name, "trusted.")) {
        } else if (strncmp(name, "user.", 5) == 0 || strncmp(name, "security.", 9) == 0 ||
                   strncmp(name, "trusted.", 8) == 0 || strncmp(name, "gnu.", 4) == 0)
                c->refused = "an extended attribute the kernel would list but not read";
        else
                return 0; /* an index the kernel has no handler for */

        if (r == -ENOMEM) {
                c->error = r;
                return XATTR_ABORT;
        }
        if (c->refused)
                return XATTR_ABORT;
        r = converted ? add(c, name, converted, converted_len) : add(c, name, (uint8_t *) value, len);
        if (r < 0) {
                c->error = r;
                return XATTR_ABORT;
        }
        return 0;
}

static int compare_xattr_name(const void *x, const void *y) {
        return strcmp(((const Xattr *) x)->name, ((const Xattr *) y)->name);
}

/* Whether the inode can hold any attribute: in its extra space (the
 * kernel looks there only when i_extra_isize is set) or in a block. */
static bool may_have_xattrs(ext2_filsys fs, const struct ext2_inode_large *inode) {
        if (ext2fs_file_acl_block(fs, (const struct ext2_inode *) inode))
                return true;
        unsigned size = EXT2_INODE_SIZE(fs->super), extra = inode->i_extra_isize;
        if (size <= 128 || extra == 0 || 128 + extra + sizeof(uint32_t) > size)
                return false;
        uint32_t magic;
        memcpy(&magic, (const char *) inode + 128 + extra, sizeof magic);
        return ext2fs_le32_to_cpu(magic) == EXT2_EXT_ATTR_MAGIC;
}

int xattrs_read(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *inode, Entry *e, Error *err) {
        if (!may_have_xattrs(fs, inode))
                return 0;

        struct ext2_xattr_handle *h = NULL;
        errcode_t k = ext2fs_xattrs_open(fs, ino, &h);
        if (!k)
                k = ext2fs_xattrs_read_inode(h, inode);
        Collect c = {.e = e};
        if (!k)
                k = ext2fs_xattrs_iterate(h, on_xattr, &c);
        if (h)
                (void) ext2fs_xattrs_close(&h);
        if (k)
                return error_set(err, ERR_DIRECT_UNSUPPORTED, "inode %u: cannot read its extended attributes: %s",
                                 ino, error_message(k));
        if (c.error)
                return error_set(err, ERR_INTERNAL, "out of memory");
        if (c.refused)
                return error_set(err, ERR_DIRECT_UNSUPPORTED, "inode %u: %s", ino, c.refused);
        if (e->n_xattrs > 1) {
                qsort(e->xattrs, e->n_xattrs, sizeof(Xattr), compare_xattr_name);
                for (size_t i = 1; i < e->n_xattrs; i++)
                        if (strcmp(e->xattrs[i - 1].name, e->xattrs[i].name) == 0)
                                return error_set(err, ERR_DIRECT_UNSUPPORTED, "inode %u: two attributes named %s",
                                                 ino, e->xattrs[i].name);
        }
        return 0;
}

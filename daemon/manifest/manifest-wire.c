#include "manifest/manifest-wire.h"

#define MANIFEST_WIRE_VERSION 1

/* The fewest bytes an encoded filesystem, tree, entry or xattr takes. */
#define FS_MIN (4 + 4 + 1 + 1 + 8 + 1 + 1 + 1)
#define TREE_MIN (4 + 4)
#define ENTRY_MIN (4 + 4 + 1 + 4 * 3 + 8 + 8 * 3 + 8 * 6 + 1 + 4 + 1)
#define XATTR_MIN (4 + 4)

static void encode_entry(const Entry *en, WireBuf *b) {
        wire_put_str(b, en->path);
        wire_put_u32(b, en->fs);
        wire_put_u8(b, (uint8_t) en->kind);
        wire_put_u32(b, en->mode);
        wire_put_u32(b, en->uid);
        wire_put_u32(b, en->gid);
        wire_put_u64(b, en->size);
        wire_put_i64(b, en->atime_ns);
        wire_put_i64(b, en->mtime_ns);
        wire_put_i64(b, en->ctime_ns);
        wire_put_u64(b, en->nlink);
        wire_put_u64(b, en->ino);
        wire_put_u64(b, en->dev);
        wire_put_u64(b, en->rdev);
        wire_put_u64(b, en->blocks);
        wire_put_u64(b, en->blksize);
        wire_put_optstr(b, en->target);
        wire_put_u32(b, (uint32_t) en->n_xattrs);
        for (size_t i = 0; i < en->n_xattrs; i++) {
                wire_put_str(b, en->xattrs[i].name);
                wire_put_bytes(b, en->xattrs[i].value, en->xattrs[i].len);
        }
        wire_put_u8(b, en->has_sha256);
        if (en->has_sha256)
                wire_put_bytes(b, en->sha256, sizeof en->sha256);
}

void manifest_encode(const Manifest *m, WireBuf *b) {
        wire_put_u32(b, MANIFEST_WIRE_VERSION);
        wire_put_u8(b, m->inspected);
        wire_put_optstr(b, m->os_product);
        wire_put_u32(b, (uint32_t) m->n_filesystems);
        for (size_t i = 0; i < m->n_filesystems; i++) {
                const Filesystem *f = &m->filesystems[i];
                wire_put_str(b, strempty(f->device));
                wire_put_str(b, f->type ? f->type : "unknown");
                wire_put_optstr(b, f->uuid);
                wire_put_optstr(b, f->label);
                wire_put_u64(b, f->size);
                wire_put_optstr(b, f->mountpoint);
                wire_put_u8(b, f->scanned);
                wire_put_optstr(b, f->error);
        }
        wire_put_u32(b, (uint32_t) m->n_trees);
        for (size_t i = 0; i < m->n_trees; i++) {
                const Tree *t = &m->trees[i];
                wire_put_str(b, t->key);
                wire_put_u32(b, (uint32_t) t->n_entries);
                for (size_t k = 0; k < t->n_entries; k++)
                        encode_entry(&t->entries[k], b);
        }
}

static int bad(Error *e, const char *what) {
        return error_set(e, ERR_SCAN_FAILED, "the worker sent a malformed manifest (%s)", what);
}

static bool get_bool(WireReader *r) {
        uint8_t v = wire_get_u8(r);
        if (v > 1)
                r->failed = true;
        return v == 1;
}

static int decode_entry(WireReader *r, const Manifest *m, const Entry *prev, Entry *en, Error *e) {
        if (!(en->path = wire_get_str(r)))
                return bad(e, "entry path");
        if (en->path[0] != '/' || (prev && path_compare(prev->path, en->path) >= 0))
                return bad(e, "entry paths out of order");
        en->fs = wire_get_u32(r);
        uint8_t kind = wire_get_u8(r);
        en->mode = wire_get_u32(r);
        en->uid = wire_get_u32(r);
        en->gid = wire_get_u32(r);
        en->size = wire_get_u64(r);
        en->atime_ns = wire_get_i64(r);
        en->mtime_ns = wire_get_i64(r);
        en->ctime_ns = wire_get_i64(r);
        en->nlink = wire_get_u64(r);
        en->ino = wire_get_u64(r);
        en->dev = wire_get_u64(r);
        en->rdev = wire_get_u64(r);
        en->blocks = wire_get_u64(r);
        en->blksize = wire_get_u64(r);
        if (r->failed)
                return bad(e, "entry fields");
        if (kind >= _ENTRY_KIND_MAX || en->fs >= m->n_filesystems || en->mode > 07777)
                return bad(e, "entry kind, filesystem or mode");
        en->kind = (EntryKind) kind;
        if (wire_get_optstr(r, &en->target) < 0)
                return bad(e, "symlink target");
        uint32_t n = wire_get_count(r, XATTR_MIN);
        if (r->failed)
                return bad(e, "xattr count");
        if (n) {
                en->xattrs = calloc(n, sizeof(Xattr));
                if (!en->xattrs)
                        return error_set(e, ERR_INTERNAL, "out of memory");
        }
        for (uint32_t i = 0; i < n; i++) {
                Xattr *x = &en->xattrs[i];
                if (!(x->name = wire_get_str(r)))
                        return bad(e, "xattr name");
                en->n_xattrs = i + 1;
                if (!(x->value = wire_get_bytes(r, &x->len)))
                        return bad(e, "xattr value");
                if (i > 0 && strcmp(en->xattrs[i - 1].name, x->name) >= 0)
                        return bad(e, "xattrs out of order");
        }
        en->has_sha256 = get_bool(r);
        if (en->has_sha256) {
                size_t len = 0;
                _cleanup_free_ uint8_t *h = wire_get_bytes(r, &len);
                if (!h || len != sizeof en->sha256)
                        return bad(e, "content hash");
                memcpy(en->sha256, h, sizeof en->sha256);
        }
        return r->failed ? bad(e, "entry") : 0;
}

static int decode(WireReader *r, Manifest *m, Error *e) {
        if (wire_get_u32(r) != MANIFEST_WIRE_VERSION || r->failed)
                return bad(e, "version");
        m->inspected = get_bool(r);
        if (wire_get_optstr(r, &m->os_product) < 0)
                return bad(e, "product name");

        uint32_t nf = wire_get_count(r, FS_MIN);
        if (r->failed)
                return bad(e, "filesystem count");
        for (uint32_t i = 0; i < nf; i++) {
                Filesystem *f = manifest_add_filesystem(m);
                if (!f)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                if (!(f->device = wire_get_str(r)) || !(f->type = wire_get_str(r)) ||
                    wire_get_optstr(r, &f->uuid) < 0 || wire_get_optstr(r, &f->label) < 0)
                        return bad(e, "filesystem");
                f->size = wire_get_u64(r);
                if (wire_get_optstr(r, &f->mountpoint) < 0)
                        return bad(e, "mount point");
                f->scanned = get_bool(r);
                if (wire_get_optstr(r, &f->error) < 0)
                        return bad(e, "filesystem error");
        }

        uint32_t nt = wire_get_count(r, TREE_MIN);
        if (r->failed)
                return bad(e, "tree count");
        for (uint32_t i = 0; i < nt; i++) {
                _cleanup_free_ char *key = wire_get_str(r);
                if (!key)
                        return bad(e, "tree key");
                if (i > 0 && strcmp(m->trees[i - 1].key, key) >= 0)
                        return bad(e, "trees out of order");
                Tree *t = manifest_add_tree(m, key);
                if (!t)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                uint32_t ne = wire_get_count(r, ENTRY_MIN);
                if (r->failed)
                        return bad(e, "entry count");
                if (ne) {
                        t->entries = calloc(ne, sizeof(Entry));
                        if (!t->entries)
                                return error_set(e, ERR_INTERNAL, "out of memory");
                }
                for (uint32_t k = 0; k < ne; k++) {
                        t->n_entries = k + 1;
                        if (decode_entry(r, m, k ? &t->entries[k - 1] : NULL, &t->entries[k], e) < 0)
                                return -1;
                }
        }
        if (r->failed || r->left)
                return bad(e, "trailing bytes");
        return 0;
}

int manifest_decode(const uint8_t *data, size_t len, Manifest **ret, Error *e) {
        _cleanup_manifest_ Manifest *m = manifest_new();
        if (!m)
                return error_set(e, ERR_INTERNAL, "out of memory");
        WireReader r = {.p = data, .left = len};
        if (decode(&r, m, e) < 0)
                return -1;
        *ret = TAKE_PTR(m);
        return 0;
}

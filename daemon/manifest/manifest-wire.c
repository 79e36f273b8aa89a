#include "manifest/manifest-wire.h"

#include <endian.h>

#include "common/input-limits.h"

#define MANIFEST_WIRE_VERSION 2

enum {
        PART_HEAD = 1,
        PART_TREE,
        PART_ENTRIES,
        PART_END,
};

/* The fewest bytes an encoded filesystem, tree, entry or xattr takes. */
#define FS_MIN (4 + 4 + 1 + 1 + 8 + 1 + 1 + 1)
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

static int bad(Error *e, const char *what) {
        return error_set(e, ERR_SCAN_FAILED, "the worker sent a malformed manifest (%s)", what);
}

static bool get_bool(WireReader *r) {
        uint8_t v = wire_get_u8(r);
        if (v > 1)
                r->failed = true;
        return v == 1;
}

static int decode_entry(WireReader *r, const Manifest *m, const char *prev, Entry *en, Error *e) {
        if (!(en->path = wire_get_str(r)))
                return bad(e, "entry path");
        if (en->path[0] != '/' || (prev && path_compare(prev, en->path) >= 0))
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


/* ---- the encoder ---- */

static int emit(ManifestEncoder *enc, WireBuf *part, Error *e) {
        if (part->failed)
                return error_set(e, ERR_INTERNAL, "out of memory encoding the manifest");
        return enc->emit(enc->userdata, part) < 0 ? error_set(e, ERR_INTERNAL, "cannot send the manifest") : 0;
}

/* The batch's count sits at bytes 1-4, known once it is full. */
static int flush_batch(ManifestEncoder *enc, Error *e) {
        if (enc->n_batch == 0)
                return 0;
        uint32_t le = htole32(enc->n_batch);
        if (!enc->batch.failed)
                memcpy(enc->batch.data + 1, &le, sizeof le);
        int r = emit(enc, &enc->batch, e);
        enc->batch.len = 0;
        enc->n_batch = 0;
        return r;
}

static int enc_head(void *userdata, const Manifest *m, Error *e) {
        ManifestEncoder *enc = userdata;
        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_u8(&b, PART_HEAD);
        wire_put_u32(&b, MANIFEST_WIRE_VERSION);
        wire_put_u8(&b, m->inspected);
        wire_put_optstr(&b, m->os_product);
        wire_put_u32(&b, (uint32_t) m->n_filesystems);
        for (size_t i = 0; i < m->n_filesystems; i++) {
                const Filesystem *f = &m->filesystems[i];
                wire_put_str(&b, strempty(f->device));
                wire_put_str(&b, f->type ? f->type : "unknown");
                wire_put_optstr(&b, f->uuid);
                wire_put_optstr(&b, f->label);
                wire_put_u64(&b, f->size);
                wire_put_optstr(&b, f->mountpoint);
                wire_put_u8(&b, f->scanned);
                wire_put_optstr(&b, f->error);
        }
        return emit(enc, &b, e);
}

static int enc_tree(void *userdata, const char *key, Error *e) {
        ManifestEncoder *enc = userdata;
        _cleanup_wire_buf_ WireBuf b = {};
        if (flush_batch(enc, e) < 0)
                return -1;
        wire_put_u8(&b, PART_TREE);
        wire_put_str(&b, key);
        enc->n_trees++;
        return emit(enc, &b, e);
}

static int enc_entries(void *userdata, const Entry *entries, size_t n, Error *e) {
        ManifestEncoder *enc = userdata;
        for (size_t i = 0; i < n; i++) {
                if (enc->n_batch == 0) {
                        wire_put_u8(&enc->batch, PART_ENTRIES);
                        wire_put_u32(&enc->batch, 0);
                }
                size_t before = enc->batch.len;
                encode_entry(&entries[i], &enc->batch);
                if (enc->batch.len - before > MANIFEST_PART_MAX - 5)
                        return error_set(e, ERR_SCAN_FAILED, "%s: too many extended attributes to send",
                                         entries[i].path);
                enc->n_batch++;
                enc->n_entries++;
                if ((enc->n_batch >= MANIFEST_BATCH_ENTRIES || enc->batch.len >= MANIFEST_BATCH_BYTES) &&
                    flush_batch(enc, e) < 0)
                        return -1;
        }
        return 0;
}

static int enc_end(void *userdata, Error *e) {
        ManifestEncoder *enc = userdata;
        _cleanup_wire_buf_ WireBuf b = {};
        if (flush_batch(enc, e) < 0)
                return -1;
        wire_put_u8(&b, PART_END);
        wire_put_u32(&b, enc->n_trees);
        wire_put_u64(&b, enc->n_entries);
        return emit(enc, &b, e);
}

ManifestSink manifest_encoder_sink(ManifestEncoder *enc) {
        return (ManifestSink){.head = enc_head, .tree = enc_tree, .entries = enc_entries, .end = enc_end,
                              .userdata = enc};
}

void manifest_encoder_done(ManifestEncoder *enc) {
        wire_buf_done(&enc->batch);
}

/* ---- the decoder ---- */

typedef enum DecoderState {
        WANT_HEAD,
        WANT_TREE,   /* a tree or the end */
        IN_TREE,     /* entries, another tree or the end */
        DONE,
} DecoderState;

struct ManifestDecoder {
        const ManifestSink *sink;
        DecoderState state;
        Manifest *head;    /* for the entries' filesystem indexes */
        char *last_key;
        char *last_path;   /* the current tree's last entry so far */
        Entry *batch;
        size_t cap;
        uint64_t n_entries, tree_entries;
        uint32_t n_trees;
};

ManifestDecoder *manifest_decoder_new(const ManifestSink *sink) {
        ManifestDecoder *d = calloc(1, sizeof(*d));
        if (d)
                d->sink = sink;
        return d;
}

ManifestDecoder *manifest_decoder_free(ManifestDecoder *d) {
        if (!d)
                return NULL;
        manifest_free(d->head);
        free(d->last_key);
        free(d->last_path);
        free(d->batch);
        free(d);
        return NULL;
}

static int decode_head(ManifestDecoder *d, WireReader *r, Error *e) {
        _cleanup_manifest_ Manifest *m = manifest_new();
        if (!m)
                return error_set(e, ERR_INTERNAL, "out of memory");
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
        if (r->failed || r->left)
                return bad(e, "trailing bytes");
        if (d->sink->head(d->sink->userdata, m, e) < 0)
                return -1;
        d->head = TAKE_PTR(m);
        d->state = WANT_TREE;
        return 0;
}

static int decode_tree(ManifestDecoder *d, WireReader *r, Error *e) {
        _cleanup_free_ char *key = wire_get_str(r);
        if (!key || r->left)
                return bad(e, "tree key");
        if (d->last_key && strcmp(d->last_key, key) >= 0)
                return bad(e, "trees out of order");
        if (d->sink->tree(d->sink->userdata, key, e) < 0)
                return -1;
        free(d->last_key);
        d->last_key = TAKE_PTR(key);
        free(d->last_path);
        d->last_path = NULL;
        d->tree_entries = 0;
        d->n_trees++;
        d->state = IN_TREE;
        return 0;
}

static int decode_entries(ManifestDecoder *d, WireReader *r, Error *e) {
        uint32_t n = wire_get_count(r, ENTRY_MIN);
        int ret = 0;
        if (r->failed || n == 0)
                return bad(e, "entry count");
        if (d->tree_entries + n > MAX_MANIFEST_ENTRIES)
                return error_set(e, ERR_SCAN_FAILED, "more than %d entries in one filesystem tree: not compared",
                                 MAX_MANIFEST_ENTRIES);
        if (n > d->cap) {
                Entry *b = reallocarray(d->batch, n, sizeof(Entry));
                if (!b)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                d->batch = b;
                d->cap = n;
        }
        memset(d->batch, 0, n * sizeof(Entry));
        size_t done = 0;
        for (; done < n; done++) {
                const char *prev = done ? d->batch[done - 1].path : d->last_path;
                if (decode_entry(r, d->head, prev, &d->batch[done], e) < 0) {
                        done++;
                        ret = -1;
                        break;
                }
        }
        if (ret == 0 && r->left)
                ret = bad(e, "trailing bytes");
        if (ret == 0)
                ret = d->sink->entries(d->sink->userdata, d->batch, n, e);
        if (ret == 0) {
                free(d->last_path);
                d->last_path = TAKE_PTR(d->batch[n - 1].path);
                d->tree_entries += n;
                d->n_entries += n;
        }
        for (size_t i = 0; i < done; i++)
                entry_done(&d->batch[i]);
        return ret;
}

static int decode_end(ManifestDecoder *d, WireReader *r, Error *e) {
        uint32_t trees = wire_get_u32(r);
        uint64_t entries = wire_get_u64(r);
        if (r->failed || r->left || trees != d->n_trees || entries != d->n_entries)
                return bad(e, "counts at the end");
        if (d->sink->end(d->sink->userdata, e) < 0)
                return -1;
        d->state = DONE;
        return 1;
}

int manifest_decoder_part(ManifestDecoder *d, const uint8_t *data, size_t len, Error *e) {
        WireReader r = {.p = data, .left = len};
        uint8_t part = wire_get_u8(&r);
        if (r.failed)
                return bad(e, "empty part");
        switch (d->state) {
        case WANT_HEAD:
                return part == PART_HEAD ? decode_head(d, &r, e) : bad(e, "no head first");
        case WANT_TREE:
        case IN_TREE:
                if (part == PART_TREE)
                        return decode_tree(d, &r, e);
                if (part == PART_END)
                        return decode_end(d, &r, e);
                if (part == PART_ENTRIES && d->state == IN_TREE)
                        return decode_entries(d, &r, e);
                return bad(e, "unexpected part");
        case DONE:
        default:
                return bad(e, "a part after the end");
        }
}

/* ---- the whole sequence in one buffer ---- */

static int append_part(void *userdata, const WireBuf *part) {
        WireBuf *b = userdata;
        wire_put_bytes(b, part->data, part->len);
        return b->failed ? -ENOMEM : 0;
}

void manifest_encode(const Manifest *m, WireBuf *b) {
        ManifestEncoder enc = {.emit = append_part, .userdata = b};
        ManifestSink sink = manifest_encoder_sink(&enc);
        Error e = {};
        if (manifest_play(m, &sink, &e) < 0)
                b->failed = true;
        manifest_encoder_done(&enc);
}

int manifest_decode(const uint8_t *data, size_t len, Manifest **ret, Error *e) {
        _cleanup_(manifest_builder_done) ManifestBuilder builder = {};
        ManifestSink sink = manifest_builder_sink(&builder);
        _cleanup_manifest_decoder_ ManifestDecoder *d = manifest_decoder_new(&sink);
        WireReader r = {.p = data, .left = len};
        int k = 0;

        if (!d)
                return error_set(e, ERR_INTERNAL, "out of memory");
        while (k == 0) {
                size_t n = 0;
                _cleanup_free_ uint8_t *part = wire_get_bytes(&r, &n);
                if (!part)
                        return bad(e, "truncated");
                k = manifest_decoder_part(d, part, n, e);
        }
        if (k < 0)
                return -1;
        if (r.left)
                return bad(e, "trailing bytes");
        *ret = manifest_builder_take(&builder);
        return 0;
}

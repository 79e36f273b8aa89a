#include "direct/file-content.h"

#include "direct/inode-stat.h"

typedef struct Run {
        uint64_t lblk, pblk, len; /* blocks */
        bool zero;                /* an unwritten extent */
} Run;

typedef struct Runs {
        Run *v;
        size_t n, cap;
        uint64_t end; /* first logical block past the runs, for the order check */
        bool disordered;
} Runs;

static int runs_add(Runs *rs, uint64_t lblk, uint64_t pblk, uint64_t len, bool zero) {
        if (len == 0)
                return 0;
        if (lblk < rs->end)
                rs->disordered = true;
        rs->end = lblk + len;
        if (rs->n > 0) {
                Run *last = &rs->v[rs->n - 1];
                if (last->zero == zero && last->lblk + last->len == lblk && (zero || last->pblk + last->len == pblk)) {
                        last->len += len;
                        return 0;
                }
        }
        if (rs->n == rs->cap) {
                size_t ncap = rs->cap ? rs->cap * 2 : 16;
                Run *n = realloc(rs->v, ncap * sizeof(Run));
                if (!n)
                        return -ENOMEM;
                rs->v = n;
                rs->cap = ncap;
        }
        rs->v[rs->n++] = (Run) {.lblk = lblk, .pblk = pblk, .len = len, .zero = zero};
        return 0;
}

static errcode_t extent_runs(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *inode, Runs *rs) {
        ext2_extent_handle_t h;
        struct ext2fs_extent ex;
        errcode_t err = ext2fs_extent_open2(fs, ino, EXT2_INODE(inode), &h);
        if (err)
                return err;
        for (err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &ex); !err; err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &ex)) {
                if (!(ex.e_flags & EXT2_EXTENT_FLAGS_LEAF))
                        continue;
                if (runs_add(rs, ex.e_lblk, ex.e_pblk, ex.e_len, ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT) < 0) {
                        err = EXT2_ET_NO_MEMORY;
                        break;
                }
        }
        ext2fs_extent_free(h);
        return err == EXT2_ET_EXTENT_NO_NEXT ? 0 : err;
}

static int on_block(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk, int ref_offset,
                    void *data) {
        if (blockcnt < 0)
                return 0;
        return runs_add(data, (uint64_t) blockcnt, *blocknr, 1, false) < 0 ? BLOCK_ABORT : 0;
}

static errcode_t block_map_runs(ext2_filsys fs, ext2_ino_t ino, Runs *rs) {
        return ext2fs_block_iterate3(fs, ino, BLOCK_FLAG_DATA_ONLY | BLOCK_FLAG_READ_ONLY, NULL, on_block, rs);
}

static const uint8_t zeros[64 * 1024];

static int emit_zeros(ContentSink sink, void *userdata, uint64_t len) {
        while (len > 0) {
                size_t l = len < sizeof zeros ? (size_t) len : sizeof zeros;
                int r = sink(userdata, zeros, l);
                if (r < 0)
                        return r;
                len -= l;
        }
        return 0;
}

static int stream_inline(ext2_filsys fs, ext2_ino_t ino, uint64_t size, void *buf, size_t buf_size, ContentSink sink,
                         void *userdata, Error *e) {
        size_t inline_size = 0;
        errcode_t err = ext2fs_inline_data_size(fs, ino, &inline_size);
        if (!err && (inline_size > buf_size || size > fs->blocksize))
                err = EXT2_ET_INLINE_DATA_NO_SPACE;
        if (!err)
                err = ext2fs_inline_data_get(fs, ino, NULL, buf, &inline_size);
        if (err)
                return error_set(e, ERR_DIRECT_UNSUPPORTED, "inode %u: cannot read its inline data: %s", ino,
                                 error_message(err));
        size_t l = inline_size < size ? inline_size : (size_t) size;
        int r = l ? sink(userdata, buf, l) : 0;
        if (r >= 0)
                r = emit_zeros(sink, userdata, size - l);
        return r;
}

static int stream_runs(ext2_filsys fs, ext2_ino_t ino, const Runs *rs, uint64_t size, void *buf, size_t buf_size,
                       ContentSink sink, void *userdata, Error *e) {
        uint64_t bs = fs->blocksize, pos = 0, chunk_blocks = buf_size / bs;
        for (size_t i = 0; i < rs->n && pos < size; i++) {
                const Run *run = &rs->v[i];
                if (run->lblk > UINT64_MAX / bs)
                        break;
                uint64_t start = run->lblk * bs;
                if (start >= size)
                        break;
                int r = emit_zeros(sink, userdata, start - pos);
                if (r < 0)
                        return r;
                pos = start;
                for (uint64_t b = 0; b < run->len && pos < size; b += chunk_blocks) {
                        uint64_t n = run->len - b < chunk_blocks ? run->len - b : chunk_blocks;
                        uint64_t want = n * bs < size - pos ? n * bs : size - pos;
                        if (run->zero)
                                r = emit_zeros(sink, userdata, want);
                        else {
                                errcode_t err = io_channel_read_blk64(fs->io, run->pblk + b, (int) n, buf);
                                if (err)
                                        return error_set(e, ERR_DIRECT_UNSUPPORTED, "inode %u: cannot read: %s",
                                                         ino, error_message(err));
                                r = sink(userdata, buf, (size_t) want);
                        }
                        if (r < 0)
                                return r;
                        pos += want;
                }
        }
        return emit_zeros(sink, userdata, size - pos);
}

int file_content_stream(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *inode, void *buf, size_t buf_size,
                        ContentSink sink, void *userdata, Error *e) {
        uint64_t size = inode_size(fs, inode);
        if (inode_has_inline_data(fs, inode))
                return stream_inline(fs, ino, size, buf, buf_size, sink, userdata, e);

        Runs rs = {};
        errcode_t err = inode->i_flags & EXT4_EXTENTS_FL ? extent_runs(fs, ino, inode, &rs)
                                                         : block_map_runs(fs, ino, &rs);
        int r;
        if (err == EXT2_ET_NO_MEMORY)
                r = error_set(e, ERR_INTERNAL, "out of memory");
        else if (err)
                r = error_set(e, ERR_DIRECT_UNSUPPORTED, "inode %u: cannot map its blocks: %s", ino,
                              error_message(err));
        else if (rs.disordered)
                r = error_set(e, ERR_DIRECT_UNSUPPORTED, "inode %u: overlapping or unordered blocks", ino);
        else
                r = stream_runs(fs, ino, &rs, size, buf, buf_size, sink, userdata, e);
        free(rs.v);
        return r;
}

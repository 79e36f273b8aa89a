#include "direct/inode-stat.h"

#include <stddef.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define GOOD_OLD_INODE_SIZE 128

int inode_extra_isize(ext2_filsys fs, const struct ext2_inode_large *inode) {
        unsigned size = EXT2_INODE_SIZE(fs->super);
        if (size <= GOOD_OLD_INODE_SIZE)
                return 0;
        unsigned extra = inode->i_extra_isize;
        if (GOOD_OLD_INODE_SIZE + extra > size || (extra & 3))
                return -1;
        /* The kernel uses unused extra space as if it were all there. */
        if (extra == 0)
                extra = sizeof(struct ext2_inode_large) - GOOD_OLD_INODE_SIZE;
        return (int) extra;
}

uint64_t inode_size(ext2_filsys fs, const struct ext2_inode_large *inode) {
        uint64_t lo = inode->i_size;
        if (LINUX_S_ISREG(inode->i_mode) || ext2fs_has_feature_largedir(fs->super))
                return lo | (uint64_t) inode->i_size_high << 32;
        return lo;
}

static uint64_t max_extent_size(unsigned bits, bool huge_files) {
        uint64_t upper = UINT64_MAX, res = ((1ULL << 32) - 1) << bits;
        if (!huge_files)
                upper = (((1ULL << 32) - 1) >> (bits - 9)) << bits;
        return res < upper ? res : upper;
}

static uint64_t max_bitmap_size(unsigned bits, bool huge_files) {
        uint64_t ppb = 1ULL << (bits - 2), res = 12, meta, upper;
        upper = huge_files ? (1ULL << 48) - 1 : ((1ULL << 32) - 1) >> (bits - 9);
        res += ppb + ppb * ppb + ppb * ppb * ppb;
        meta = 1 + (1 + ppb) + (1 + ppb + ppb * ppb);
        if (res + meta > upper) {
                /* Indirect blocks count against i_blocks too. */
                res = upper;
                upper -= 12;
                meta = 1;
                upper -= ppb;
                if (upper < ppb * ppb)
                        meta += 1 + (upper + ppb - 1) / ppb;
                else {
                        meta += 1 + ppb;
                        upper -= ppb * ppb;
                        meta += 1 + (upper + ppb - 1) / ppb + (upper + ppb * ppb - 1) / (ppb * ppb);
                }
                res -= meta;
        }
        return res << bits;
}

uint64_t inode_max_file_size(ext2_filsys fs) {
        unsigned bits = fs->super->s_log_block_size + 10;
        bool huge = ext2fs_has_feature_huge_file(fs->super);
        uint64_t a = max_extent_size(bits, huge), b = max_bitmap_size(bits, huge);
        return a < b ? a : b;
}

bool inode_has_inline_data(ext2_filsys fs, const struct ext2_inode_large *inode) {
        return (inode->i_flags & EXT4_INLINE_DATA_FL) != 0;
}

/* A timestamp as the kernel decodes it, in the scanner's wrapped ns. */
static int64_t decode_time(int extra_isize, const struct ext2_inode_large *inode, uint32_t lo, size_t extra_offset,
                           const uint32_t *extra) {
        int64_t sec = (int32_t) lo;
        uint64_t nsec = 0;
        if (extra_isize > 0 && extra_offset + sizeof(uint32_t) <= GOOD_OLD_INODE_SIZE + (size_t) extra_isize) {
                sec += (int64_t) (*extra & 3) << 32;
                nsec = *extra >> 2;
        }
        return (int64_t) ((uint64_t) sec * 1000000000ULL + nsec);
}

static uint64_t decode_rdev(const struct ext2_inode_large *inode) {
        unsigned major, minor;
        if (inode->i_block[0]) {
                uint32_t v = inode->i_block[0];
                major = (v >> 8) & 0xff;
                minor = v & 0xff;
        } else {
                uint32_t v = inode->i_block[1];
                major = (v & 0xfff00) >> 8;
                minor = (v & 0xff) | ((v >> 12) & 0xfff00);
        }
        return (uint64_t) makedev(major, minor);
}

uint64_t inode_blocks(ext2_filsys fs, const struct ext2_inode_large *inode) {
        if (!ext2fs_has_feature_huge_file(fs->super))
                return inode->i_blocks;
        uint64_t b = (uint64_t) inode->osd2.linux2.l_i_blocks_hi << 32 | inode->i_blocks;
        if (inode->i_flags & EXT4_HUGE_FILE_FL)
                b <<= fs->super->s_log_block_size + 1;
        return b;
}

static int refuse(Error *err, ext2_ino_t ino, const char *why) {
        return error_set(err, ERR_DIRECT_UNSUPPORTED, "inode %u: %s", ino, why);
}

int inode_stat_fill(ext2_filsys fs, ext2_ino_t ino, const struct ext2_inode_large *inode, uint64_t st_dev,
                    Entry *e, Error *err) {
        int extra = inode_extra_isize(fs, inode);
        if (extra < 0)
                return refuse(err, ino, "bad extra inode size");
        if (inode->i_links_count == 0)
                return refuse(err, ino, "a name for a deleted inode");
        if (inode->i_flags & EXT4_ENCRYPT_FL)
                return refuse(err, ino, "encrypted");
        if (inode->i_flags & EXT4_EA_INODE_FL)
                return refuse(err, ino, "a name for an extended attribute's inode");
        uint64_t size = inode_size(fs, inode);
        if (size > INT64_MAX)
                return refuse(err, ino, "bad size");
        e->kind = entry_kind_from_mode(inode->i_mode);
        if (e->kind == ENTRY_KIND_UNKNOWN)
                return refuse(err, ino, "unknown file type");

        e->mode = inode->i_mode & 07777;
        e->uid = inode_uid(*inode);
        e->gid = inode_gid(*inode);
        e->size = size;
        e->atime_ns = decode_time(extra, inode, inode->i_atime, offsetof(struct ext2_inode_large, i_atime_extra),
                                  &inode->i_atime_extra);
        e->mtime_ns = decode_time(extra, inode, inode->i_mtime, offsetof(struct ext2_inode_large, i_mtime_extra),
                                  &inode->i_mtime_extra);
        e->ctime_ns = decode_time(extra, inode, inode->i_ctime, offsetof(struct ext2_inode_large, i_ctime_extra),
                                  &inode->i_ctime_extra);
        e->nlink = inode->i_links_count;
        e->ino = ino;
        e->dev = st_dev;
        e->rdev = e->kind == ENTRY_KIND_CHAR || e->kind == ENTRY_KIND_BLOCK ? decode_rdev(inode) : 0;
        e->blocks = inode_blocks(fs, inode);
        if (e->kind == ENTRY_KIND_FILE && inode_has_inline_data(fs, inode))
                e->blocks += (size + 511) >> 9;
        e->blksize = fs->blocksize;
        return 0;
}

/* The floor for a direct diff: the least any reader of an ext2/3/4 image
 * must do to fill a manifest. Opens each image with libext2fs (its own Unix
 * I/O manager), walks every directory, reads every inode and its extended
 * attributes, and SHA-256s every regular file's content; nothing else (no
 * manifest, no paths kept, no sorting).
 *
 *     floor IMAGE[@OFFSET]...
 *
 * prints, per image and in total: entries, bytes hashed, seconds. OFFSET is
 * the byte offset of the filesystem inside a raw disk image. */
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK (1U << 20)

typedef struct Floor {
        ext2_filsys fs;
        EVP_MD_CTX *md;
        char *buf;
        uint64_t entries, bytes;
        errcode_t err;
} Floor;

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int count_xattr(char *name, char *value, size_t len, void *data) {
        return 0;
}

static errcode_t read_xattrs(Floor *f, ext2_ino_t ino, struct ext2_inode_large *inode) {
        struct ext2_xattr_handle *h = NULL;
        errcode_t err = ext2fs_xattrs_open(f->fs, ino, &h);
        if (err)
                return err;
        err = ext2fs_xattrs_read_inode(h, inode);
        if (!err)
                err = ext2fs_xattrs_iterate(h, count_xattr, NULL);
        (void) ext2fs_xattrs_close(&h);
        return err;
}

static errcode_t hash_file(Floor *f, ext2_ino_t ino, struct ext2_inode_large *inode) {
        ext2_file_t file;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n;
        errcode_t err = ext2fs_file_open2(f->fs, ino, EXT2_INODE(inode), 0, &file);
        if (err)
                return err;
        if (EVP_DigestInit_ex(f->md, EVP_sha256(), NULL) != 1) {
                (void) ext2fs_file_close(file);
                return ENOMEM;
        }
        for (;;) {
                unsigned int got = 0;
                err = ext2fs_file_read(file, f->buf, CHUNK, &got);
                if (err || got == 0)
                        break;
                (void) EVP_DigestUpdate(f->md, f->buf, got);
                f->bytes += got;
        }
        (void) EVP_DigestFinal_ex(f->md, md, &n);
        (void) ext2fs_file_close(file);
        return err;
}

static errcode_t visit(Floor *f, ext2_ino_t ino);

static int on_dirent(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset, int blocksize, char *buf,
                     void *data) {
        Floor *f = data;
        size_t len = ext2fs_dirent_name_len(de);

        if ((len == 1 && de->name[0] == '.') || (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
                return 0;
        f->err = visit(f, de->inode);
        return f->err ? DIRENT_ABORT : 0;
}

static errcode_t visit(Floor *f, ext2_ino_t ino) {
        struct ext2_inode_large inode;
        errcode_t err = ext2fs_read_inode_full(f->fs, ino, EXT2_INODE(&inode), sizeof inode);
        if (err)
                return err;
        f->entries++;
        err = read_xattrs(f, ino, &inode);
        if (err)
                return err;
        if (LINUX_S_ISREG(inode.i_mode))
                return hash_file(f, ino, &inode);
        if (LINUX_S_ISDIR(inode.i_mode)) {
                err = ext2fs_dir_iterate2(f->fs, ino, 0, NULL, on_dirent, f);
                return err ? err : f->err;
        }
        return 0;
}

static int floor_image(const char *arg, Floor *f) {
        char *name = strdup(arg), *at = strrchr(name, '@'), opts[64] = "";
        if (at) {
                *at = 0;
                snprintf(opts, sizeof opts, "offset=%s", at + 1);
        }
        errcode_t err = ext2fs_open2(name, opts, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &f->fs);
        if (!err) {
                err = visit(f, EXT2_ROOT_INO);
                (void) ext2fs_close_free(&f->fs);
        }
        if (err)
                fprintf(stderr, "floor: %s: %s\n", arg, error_message(err));
        free(name);
        return err ? -1 : 0;
}

int main(int argc, char **argv) {
        Floor total = {0};
        double t_all = now();
        int ret = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: floor IMAGE[@OFFSET]...\n");
                return 2;
        }
        add_error_table(&et_ext2_error_table);
        for (int i = 1; i < argc; i++) {
                Floor f = {.md = EVP_MD_CTX_new(), .buf = malloc(CHUNK)};
                double t = now();
                if (!f.md || !f.buf)
                        return 2;
                if (floor_image(argv[i], &f) < 0)
                        ret = 1;
                printf("%s: %" PRIu64 " entries, %" PRIu64 " bytes hashed, %.3f s\n", argv[i], f.entries, f.bytes,
                       now() - t);
                total.entries += f.entries;
                total.bytes += f.bytes;
                EVP_MD_CTX_free(f.md);
                free(f.buf);
        }
        printf("total: %" PRIu64 " entries, %" PRIu64 " bytes hashed, %.3f s\n", total.entries, total.bytes,
               now() - t_all);
        return ret;
}

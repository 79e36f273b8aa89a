/* The direct engine on hostile disk images: the input is one raw disk
 * (seeds: small ext2/ext4 images, inline data, an MBR, a guest with
 * /etc/fstab and os-release; fuzz/direct-seeds.sh). Every side it opens
 * is scanned, its tree mounted and every regular file read back; the
 * manifest must pass the daemon's own hostile decoder. A crash, a leak or
 * a manifest the decoder refuses is a finding; refusing the image
 * (ERR_DIRECT_UNSUPPORTED) is the right answer to most inputs. */
#include "direct/direct.h"
#include "fuzz/fuzz-util.h"

typedef struct MemReader {
        ImageReader base;
        const uint8_t *data;
} MemReader;

static int mem_pread(ImageReader *r, void *buf, size_t len, uint64_t offset) {
        if (offset > r->size || len > r->size - offset)
                return -EIO;
        memcpy(buf, ((MemReader *) r)->data + offset, len);
        return 0;
}

static void mem_free(ImageReader *r) {
}

static const ImageReaderOps mem_ops = {.name = "memory", .pread = mem_pread, .free = mem_free};

static int discard(void *userdata, const void *data, size_t len) {
        *(size_t *) userdata += len;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        MemReader *mr = calloc(1, sizeof(*mr));
        FUZZ_ASSERT(mr);
        /* No fd: libblkid reads the sparse mirror, as for an NBD disk. */
        mr->base = (ImageReader) {.ops = &mem_ops, .size = size, .fd = -1};
        mr->data = data;
        ImageReader *r = &mr->base;
        DirectSide *s = NULL;
        Manifest *m = NULL;
        Error e = {};

        if (direct_side_open(&r, 1, &s, &e) < 0) {
                FUZZ_ASSERT(e.code != ERR_OK);
                return 0;
        }
        /* A mutated size makes a sparse file of terabytes: hashing its
         * zeros is right, and slow. */
        direct_side_set_max_file_size(s, 16U << 20);
        if (direct_side_scan(s, NULL, &m, &e) == 0) {
                WireBuf b = {};
                Manifest *back = NULL;
                Error de = {};
                manifest_encode(m, &b);
                FUZZ_ASSERT(!b.failed);
                FUZZ_ASSERT(manifest_decode(b.data, b.len, &back, &de) == 0);
                manifest_free(back);
                wire_buf_done(&b);

                /* Content as the content stage reads it. */
                for (size_t t = 0; t < m->n_trees; t++) {
                        const Tree *tree = &m->trees[t];
                        if (strcmp(tree->key, "/") == 0) {
                                for (size_t i = 0; i < m->n_filesystems; i++)
                                        if (m->filesystems[i].mountpoint && strcmp(m->filesystems[i].mountpoint, "/") == 0)
                                                (void) direct_side_mount(s, m->filesystems[i].device, "/", &e);
                        } else
                                (void) direct_side_mount(s, tree->key, "/", &e);
                        for (size_t i = 0; i < tree->n_entries; i++) {
                                size_t got = 0;
                                Error re = {};
                                if (tree->entries[i].kind == ENTRY_KIND_FILE &&
                                    direct_side_read(s, tree->entries[i].path, discard, &got, &re) == 0)
                                        FUZZ_ASSERT(got == tree->entries[i].size);
                        }
                        direct_side_umount_all(s);
                }
                manifest_free(m);
        }
        direct_side_free(s);
        return 0;
}

#include "direct/ext-io.h"

#include <pthread.h>

#define LINE_SIZE (64U * 1024U)
#define N_LINES 64 /* 4 MiB of cached metadata per filesystem */

typedef struct CacheLine {
        uint64_t index; /* line number: offset / LINE_SIZE */
        uint64_t used;  /* last use, for eviction */
        size_t len;     /* bytes valid (the last line may be short) */
        bool valid;
        uint8_t *data;
} CacheLine;

typedef struct ExtIo {
        ImageReader *reader;
        uint64_t offset, size;
        uint64_t clock;
        uint64_t bytes_read;
        struct struct_io_stats stats;
        CacheLine lines[N_LINES];
} ExtIo;

/* ext2fs_open2() takes a name, not a pointer: the filesystem to open is
 * handed to our open() through this slot, under the lock. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static ExtIo *pending;

static errcode_t errno_to_errcode(int r) {
        return r == -EIO ? EXT2_ET_SHORT_READ : (errcode_t) -r;
}

static int read_disk(ExtIo *io, void *buf, size_t len, uint64_t pos) {
        int r = image_reader_pread(io->reader, buf, len, io->offset + pos);
        if (r >= 0)
                io->bytes_read += len;
        return r;
}

static CacheLine *line_get(ExtIo *io, uint64_t index, int *ret_err) {
        CacheLine *victim = &io->lines[0];
        for (size_t i = 0; i < N_LINES; i++) {
                CacheLine *l = &io->lines[i];
                if (l->valid && l->index == index) {
                        l->used = ++io->clock;
                        return l;
                }
                if (!l->valid || l->used < victim->used)
                        victim = l;
        }
        if (!victim->data) {
                victim->data = malloc(LINE_SIZE);
                if (!victim->data) {
                        *ret_err = -ENOMEM;
                        return NULL;
                }
        }
        uint64_t start = index * LINE_SIZE;
        size_t len = io->size - start < LINE_SIZE ? (size_t) (io->size - start) : LINE_SIZE;
        victim->valid = false;
        int r = read_disk(io, victim->data, len, start);
        if (r < 0) {
                *ret_err = r;
                return NULL;
        }
        victim->index = index;
        victim->len = len;
        victim->valid = true;
        victim->used = ++io->clock;
        return victim;
}

static errcode_t io_read(io_channel channel, unsigned long long block, int count, void *data) {
        ExtIo *io = channel->private_data;
        uint64_t len = count < 0 ? (uint64_t) -(int64_t) count : (uint64_t) count * (uint64_t) channel->block_size;
        uint64_t pos = block * (uint64_t) channel->block_size;

        if (block > UINT64_MAX / (uint64_t) channel->block_size || pos > io->size || len > io->size - pos ||
            len > SIZE_MAX)
                return EXT2_ET_SHORT_READ;
        if (len >= 2 * LINE_SIZE) {
                int r = read_disk(io, data, (size_t) len, pos);
                return r < 0 ? errno_to_errcode(r) : 0;
        }
        for (uint64_t done = 0; done < len;) {
                int err = 0;
                CacheLine *l = line_get(io, (pos + done) / LINE_SIZE, &err);
                if (!l)
                        return errno_to_errcode(err);
                size_t in = (size_t) ((pos + done) % LINE_SIZE);
                size_t n = l->len - in < len - done ? l->len - in : (size_t) (len - done);
                if (in >= l->len)
                        return EXT2_ET_SHORT_READ;
                memcpy((char *) data + done, l->data + in, n);
                done += n;
        }
        return 0;
}

static errcode_t io_read32(io_channel channel, unsigned long block, int count, void *data) {
        return io_read(channel, block, count, data);
}

static errcode_t io_write32(io_channel channel, unsigned long block, int count, const void *data) {
        return EROFS;
}

static errcode_t io_write64(io_channel channel, unsigned long long block, int count, const void *data) {
        return EROFS;
}

static errcode_t io_write_byte(io_channel channel, unsigned long offset, int count, const void *data) {
        return EROFS;
}

static errcode_t io_flush(io_channel channel) {
        return 0;
}

static errcode_t io_set_blksize(io_channel channel, int blksize) {
        if (blksize <= 0)
                return EXT2_ET_INVALID_ARGUMENT;
        channel->block_size = blksize;
        return 0;
}

static errcode_t io_get_stats(io_channel channel, io_stats *ret) {
        ExtIo *io = channel->private_data;
        io->stats.num_fields = 2;
        io->stats.bytes_read = io->bytes_read;
        *ret = &io->stats;
        return 0;
}

static void ext_io_free(ExtIo *io) {
        if (!io)
                return;
        for (size_t i = 0; i < N_LINES; i++)
                free(io->lines[i].data);
        free(io);
}

static errcode_t io_close(io_channel channel) {
        if (--channel->refcount > 0)
                return 0;
        ext_io_free(channel->private_data);
        free(channel->name);
        free(channel);
        return 0;
}

static errcode_t io_open(const char *name, int flags, io_channel *ret);

static struct struct_io_manager direct_io_manager = {
        .magic = EXT2_ET_MAGIC_IO_MANAGER,
        .name = "virt-diffd direct I/O manager",
        .open = io_open,
        .close = io_close,
        .set_blksize = io_set_blksize,
        .read_blk = io_read32,
        .write_blk = io_write32,
        .flush = io_flush,
        .write_byte = io_write_byte,
        .get_stats = io_get_stats,
        .read_blk64 = io_read,
        .write_blk64 = io_write64,
};

static errcode_t io_open(const char *name, int flags, io_channel *ret) {
        if (!pending || (flags & IO_FLAG_RW))
                return EXT2_ET_BAD_DEVICE_NAME;
        io_channel c = calloc(1, sizeof(*c));
        if (!c)
                return EXT2_ET_NO_MEMORY;
        c->name = strdup(name);
        if (!c->name) {
                free(c);
                return EXT2_ET_NO_MEMORY;
        }
        c->magic = EXT2_ET_MAGIC_IO_CHANNEL;
        c->manager = &direct_io_manager;
        c->block_size = 1024;
        c->refcount = 1;
        c->private_data = TAKE_PTR(pending);
        *ret = c;
        return 0;
}

errcode_t ext_io_open(ImageReader *r, uint64_t offset, uint64_t size, int flags, ext2_filsys *ret) {
        if (offset > r->size || size > r->size - offset)
                return EXT2_ET_SHORT_READ;
        ExtIo *io = calloc(1, sizeof(*io));
        if (!io)
                return EXT2_ET_NO_MEMORY;
        io->reader = r;
        io->offset = offset;
        io->size = size;

        pthread_mutex_lock(&open_lock);
        pending = io;
        errcode_t err = ext2fs_open2("direct", NULL, flags | EXT2_FLAG_64BITS, 0, 0, &direct_io_manager, ret);
        /* Not taken when ext2fs_open2() failed before opening the channel. */
        ext_io_free(TAKE_PTR(pending));
        pthread_mutex_unlock(&open_lock);
        return err;
}

uint64_t ext_io_bytes_read(ext2_filsys fs) {
        ExtIo *io = fs->io && fs->io->manager == &direct_io_manager ? fs->io->private_data : NULL;
        return io ? io->bytes_read : 0;
}

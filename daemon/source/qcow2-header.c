#include "source/qcow2-header.h"

#define EXT_END 0x00000000U
#define EXT_BACKING_FORMAT 0xe2792acaU
#define EXT_DATA_FILE 0x44415441U
#define INCOMPAT_DATA_FILE (1ULL << 2)
#define V2_HEADER_LENGTH 72U
#define V3_HEADER_LENGTH_MIN 104U

static uint32_t be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p) {
        return (uint64_t) be32(p) << 32 | be32(p + 4);
}

static int refuse(const char **ret_why, const char *why) {
        if (ret_why)
                *ret_why = why;
        return -EINVAL;
}

/* Copies a name that must hold no NUL byte: qemu would cut it there, and
 * what it opened would not be what we checked. */
static int copy_name(char *dst, size_t dst_size, const uint8_t *src, size_t n) {
        if (n >= dst_size || memchr(src, 0, n))
                return -EINVAL;
        memcpy(dst, src, n);
        dst[n] = 0;
        return 0;
}

/* As qemu reads them: from the header's end up to the backing file name
 * (or the cluster's end), stopping at an end marker or at the limit. */
static int parse_extensions(const uint8_t *buf, size_t end, size_t off, Qcow2Header *h, const char **ret_why) {
        while (off < end) {
                if (end - off < 8)
                        return refuse(ret_why, "header extension too large");
                uint32_t type = be32(buf + off), n = be32(buf + off + 4);
                off += 8;
                if (type == EXT_END)
                        return 0;
                if (n > end - off)
                        return refuse(ret_why, "header extension too large");
                if (type == EXT_BACKING_FORMAT) {
                        if (n == 0 || copy_name(h->backing_format, sizeof h->backing_format, buf + off, n) < 0)
                                return refuse(ret_why, "bad backing format extension");
                        h->has_backing_format = true;
                }
                if (type == EXT_DATA_FILE)
                        h->external_data = true;
                off += ((size_t) n + 7) & ~(size_t) 7;
        }
        return 0;
}

int qcow2_header_parse(const uint8_t *buf, size_t len, Qcow2Header *ret, const char **ret_why) {
        Qcow2Header h = {};

        if (len < V2_HEADER_LENGTH || be32(buf) != QCOW2_MAGIC)
                return refuse(ret_why, "no qcow2 header");
        h.version = be32(buf + 4);
        if (h.version != 2 && h.version != 3)
                return refuse(ret_why, "unknown qcow2 version");
        h.cluster_bits = be32(buf + 20);
        if (h.cluster_bits < 9 || h.cluster_bits > 21)
                return refuse(ret_why, "cluster size out of range");
        size_t cluster = (size_t) 1 << h.cluster_bits;
        /* Past the end of the file reads as zeroes for qemu; for us the
         * header must be whole. */
        size_t end = len < cluster ? len : cluster;

        size_t header_length = V2_HEADER_LENGTH;
        if (h.version == 3) {
                if (end < V3_HEADER_LENGTH_MIN)
                        return refuse(ret_why, "short qcow2 v3 header");
                header_length = be32(buf + 100);
                if (header_length < V3_HEADER_LENGTH_MIN || header_length > end)
                        return refuse(ret_why, "bad header length");
                if (be64(buf + 72) & INCOMPAT_DATA_FILE)
                        h.external_data = true;
        }

        uint64_t backing_offset = be64(buf + 8);
        uint32_t backing_size = be32(buf + 16);
        if (backing_offset != 0) {
                if (backing_size == 0 || backing_size > QCOW2_BACKING_NAME_MAX)
                        return refuse(ret_why, "bad backing file name length");
                if (backing_offset > end || backing_size > end - backing_offset)
                        return refuse(ret_why, "backing file name past the first cluster");
                if (copy_name(h.backing, sizeof h.backing, buf + backing_offset, backing_size) < 0)
                        return refuse(ret_why, "backing file name holds a NUL byte");
                h.has_backing = true;
        }

        int r = parse_extensions(buf, h.has_backing ? (size_t) backing_offset : end, header_length, &h, ret_why);
        if (r < 0)
                return r;
        *ret = h;
        return 0;
}

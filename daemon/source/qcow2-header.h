/* The parts of a qcow2 header that name other files: read by us, before
 * qemu ever sees the image, so that nothing an image says about its
 * backing file is followed unchecked. Pure: bytes in, fields out. */
#pragma once

#include "common/util.h"

#define QCOW2_MAGIC 0x514649fbU
/* qemu's own bounds: a backing name fits in 1023 bytes, a cluster is
 * 512 bytes to 2 MiB, and the name and the extensions sit in the first
 * cluster. Reading this much of a file is always enough. */
#define QCOW2_BACKING_NAME_MAX 1023
#define QCOW2_BACKING_FORMAT_MAX 15
#define QCOW2_HEADER_READ_MAX (2U << 20)

typedef struct Qcow2Header {
        uint32_t version;
        uint32_t cluster_bits;
        bool has_backing;
        char backing[QCOW2_BACKING_NAME_MAX + 1];
        bool has_backing_format;
        char backing_format[QCOW2_BACKING_FORMAT_MAX + 1];
        bool external_data; /* the guest's data lives in another file */
} Qcow2Header;

/* Parses the header at the start of buf (len bytes, at most the file's
 * length). Returns 0, or -EINVAL with *ret_why saying what is wrong; a
 * header qemu would refuse is refused here too, and so is one it would
 * accept only in ways we do not check (NUL bytes in a name, unknown
 * extension lengths). */
int qcow2_header_parse(const uint8_t *buf, size_t len, Qcow2Header *ret, const char **ret_why);

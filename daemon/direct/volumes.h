/* Which filesystems a side's disks hold, as the appliance's scanner lists
 * them (worker/scanner.c): whole disks without a partition table, then
 * every partition; each with blkid's TYPE, UUID and LABEL and the device
 * name the appliance gives it (/dev/sda, /dev/sdb2, ...).
 *
 * Partition tables and signatures are found by libblkid, probed the way
 * `blkid -c /dev/null -p -i -o export` probes a device in the appliance
 * (the same util-linux), never parsed by hand. Anything the direct engine
 * cannot place for certain (a table other than MBR or GPT, a nested one,
 * LVM or RAID members, a partition past the disk's end, an ambivalent
 * probe) is refused with ERR_DIRECT_UNSUPPORTED. */
#pragma once

#include "common/errors.h"
#include "direct/image-reader.h"

typedef struct Volume {
        char *device;     /* /dev/sda1 */
        size_t disk;      /* index of its disk */
        unsigned partno;  /* 0 for a whole disk */
        uint64_t offset;  /* bytes into the disk */
        uint64_t size;    /* bytes */
        char *type;       /* blkid TYPE: ext4, swap, ... */
        char *uuid;       /* NULL when blkid gives none */
        char *label;      /* as the appliance's blkid -o export prints it, or NULL */
        char *raw_uuid;   /* as blkid found them, for UUID= and LABEL= */
        char *raw_label;
        uint64_t st_dev;  /* the appliance kernel's device number, 0 if unknown */
} Volume;

typedef struct Volumes {
        Volume *v;
        size_t n;
} Volumes;

void volumes_done(Volumes *vs);

/* The appliance's name of disk i: /dev/sda, ..., /dev/sdz, /dev/sdaa. */
char *volume_disk_name(size_t disk);

/* Probes every disk in order. Volumes of every TYPE are listed, ext or not:
 * the caller decides what it reads. */
int volumes_probe(ImageReader *const *disks, size_t n_disks, Volumes *ret, Error *e);

/* A value as `blkid -o export` prints it (escaped with backslashes, control
 * and 8-bit bytes as ^X and M-): what the appliance's scanner reads. */
char *volume_blkid_export_value(const char *value);

/* The kernel's device number for SCSI disk index `disk`, partition partno
 * (0: the whole disk), as the appliance's stat() shows st_dev; 0 for a
 * partition number past 15, which the kernel numbers dynamically. */
uint64_t volume_st_dev(size_t disk, unsigned partno);

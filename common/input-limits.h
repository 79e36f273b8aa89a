/* Limits on everything a caller controls, checked before any work starts;
 * each refusal is a named error (InvalidArgs, TooManyJobs). Documented in
 * virt-diffd(8): keep the two in step. */
#pragma once

/* Disks a side may have (a VM with more is not a VM we diff). */
#define MAX_DISKS_PER_SIDE 32
/* Bytes in an image path, a libvirt domain, URI or snapshot name. */
#define MAX_PATH_LENGTH 4096
#define MAX_NAME_LENGTH 1024
/* Items in each of the include/exclude/paths lists and in the ignored
 * xattr globs (filters.c), and bytes in one item. */
#define MAX_FILTER_ITEMS 256
#define MAX_FILTER_ITEM_LENGTH 4096
/* Options in the options a{sv} and keys in one disk's a{sv}. */
#define MAX_OPTIONS 64
/* Keys for encrypted volumes in one comparison (--key and
 * --keys-from-stdin each), and bytes in one key (cryptsetup's limit for an
 * interactive passphrase is 512; key files may be longer). */
#define MAX_KEYS 64
#define MAX_KEY_LENGTH 8192
/* Unfinished (queued or running) jobs of one caller: one bus connection,
 * or on the system bus one uid. */
#define MAX_JOBS_PER_CALLER 8
/* Backing files below an image. */
#define MAX_BACKING_CHAIN_DEPTH 16
/* Entries (files, directories, ...) in one side's manifest: a scan past
 * this fails the job with ScanFailed instead of eating the host's memory. */
#define MAX_MANIFEST_ENTRIES 10000000
/* Bytes of an exported manifest read back (a JSON document; about 3
 * million entries). */
#define MAX_MANIFEST_BYTES 1073741824

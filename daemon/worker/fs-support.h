/* What the appliance needs to read each filesystem type, and the error of
 * a filesystem blkid identified but the appliance could not mount: its
 * type, why and what to install, instead of the mount error alone. Pure
 * functions: scanner.c asks the appliance the questions. */
#pragma once

typedef struct FsSupport {
        const char *type;    /* blkid's TYPE */
        const char *name;    /* as people call it */
        const char *driver;  /* the kernel filesystem that mounts it; NULL: not asked */
        const char *feature; /* libguestfs optional group of its tools, or NULL */
        const char *install; /* what to install (Debian's names), or NULL */
        const char *note;    /* why it cannot be read whatever is installed */
} FsSupport;

/* The entry for blkid's TYPE, or NULL when nothing is known of it (its
 * driver is then the type's own name). */
const FsSupport *fs_support_lookup(const char *type);

/* The error of a filesystem of TYPE that did not mount with MOUNT_ERROR
 * (its first line). driver: whether the appliance's kernel has TYPE's
 * driver (1, 0, or -1 not known); tools: whether the appliance has TYPE's
 * tools (the same). The mount error alone when neither explains it.
 * Returns a new string, NULL when out of memory. */
char *fs_support_error(const char *type, const char *mount_error, int driver, int tools);

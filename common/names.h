/* The vocabulary the daemon and the client share: bus names, and every
 * enum that crosses the bus or the result JSON with the one table of its
 * strings. A name is spelled here and nowhere else. */
#pragma once

#include <stdint.h>

#define VD_BUS_NAME "org.virtdiff.VirtDiff1"
#define VD_OBJECT_PATH "/org/virtdiff/VirtDiff1"
#define VD_JOB_PATH_PREFIX "/org/virtdiff/VirtDiff1/job"
#define VD_MANAGER_INTERFACE "org.virtdiff.VirtDiff1.Manager"
#define VD_JOB_INTERFACE "org.virtdiff.VirtDiff1.Job"

/* ---- a job's state and phase (the Job object's State and Phase) ---- */

typedef enum JobState {
        JOB_STATE_UNKNOWN,
        JOB_STATE_QUEUED,
        JOB_STATE_RUNNING,
        JOB_STATE_SUCCEEDED,
        JOB_STATE_FAILED,
        JOB_STATE_CANCELLED,
        _JOB_STATE_MAX,
} JobState;

const char *job_state_to_string(JobState s);

JobState job_state_from_string(const char *s);

/* What a job makes (the Job object's Kind): a comparison's result, or one
 * side's manifest (ExportManifest). */
typedef enum JobKind {
        JOB_KIND_UNKNOWN,
        JOB_KIND_COMPARE,
        JOB_KIND_EXPORT_MANIFEST,
        _JOB_KIND_MAX,
} JobKind;

const char *job_kind_to_string(JobKind k);
JobKind job_kind_from_string(const char *s);

typedef enum Phase {
        PHASE_NONE,
        PHASE_FINGERPRINT,
        PHASE_LAUNCH,
        PHASE_INSPECT,
        PHASE_SCAN,
        PHASE_HASH,
        PHASE_COMPARE,
        PHASE_WRITE,
        _PHASE_MAX,
} Phase;

const char *phase_to_string(Phase p);

Phase phase_from_string(const char *s);

/* ---- scanning engines (Compare's "engine" option, a result side's "engine") ---- */

typedef enum Engine {
        ENGINE_AUTO,      /* direct when it reads the side for certain, else the appliance */
        ENGINE_DIRECT,    /* ext2/3/4 read on the host in a locked-down worker */
        ENGINE_APPLIANCE, /* a libguestfs appliance */
        _ENGINE_MAX,
} Engine;

const char *engine_to_string(Engine e);
Engine engine_from_string(const char *s); /* _ENGINE_MAX if none */

/* ---- entries and changes (the result JSON's "kind", "change", "fields") ---- */

typedef enum EntryKind {
        ENTRY_KIND_UNKNOWN,
        ENTRY_KIND_FILE,
        ENTRY_KIND_DIRECTORY,
        ENTRY_KIND_SYMLINK,
        ENTRY_KIND_CHAR,
        ENTRY_KIND_BLOCK,
        ENTRY_KIND_FIFO,
        ENTRY_KIND_SOCKET,
        _ENTRY_KIND_MAX,
} EntryKind;

const char *entry_kind_to_string(EntryKind k);
EntryKind entry_kind_from_string(const char *s);
EntryKind entry_kind_from_mode(uint32_t st_mode);

typedef enum ChangeKind {
        CHANGE_ADDED,
        CHANGE_REMOVED,
        CHANGE_MODIFIED, /* content differs: size, sha256, symlink target, rdev */
        CHANGE_METADATA, /* content equal, metadata differs */
        CHANGE_TYPE,     /* the kind of entry differs */
        _CHANGE_KIND_MAX,
} ChangeKind;

const char *change_kind_to_string(ChangeKind k);

/* What differs, as a bit set; names in JSON are the strings of
 * change_field_to_string(). */
typedef enum ChangeField {
        FIELD_CONTENT = 1u << 0,
        FIELD_SIZE = 1u << 1,
        FIELD_TARGET = 1u << 2,
        FIELD_RDEV = 1u << 3,
        FIELD_MODE = 1u << 4,
        FIELD_UID = 1u << 5,
        FIELD_GID = 1u << 6,
        FIELD_MTIME = 1u << 7,
        FIELD_XATTRS = 1u << 8,
        FIELD_ATIME = 1u << 9,
        FIELD_CTIME = 1u << 10,
        FIELD_NLINK = 1u << 11,
        FIELD_INO = 1u << 12,
        FIELD_DEV = 1u << 13,
        FIELD_BLOCKS = 1u << 14,
        FIELD_BLKSIZE = 1u << 15,
        _FIELD_COUNT = 16,
} ChangeField;

const char *change_field_to_string(unsigned bit_index);

ChangeKind change_kind_from_string(const char *s);

typedef enum FsChangeKind {
        FS_UNCHANGED,
        FS_ADDED,
        FS_REMOVED,
        FS_CHANGED,
        _FS_CHANGE_KIND_MAX,
} FsChangeKind;

const char *fs_change_kind_to_string(FsChangeKind k);
FsChangeKind fs_change_kind_from_string(const char *s); /* _FS_CHANGE_KIND_MAX if none */

typedef enum FsField {
        FS_FIELD_TYPE = 1u << 0,
        FS_FIELD_UUID = 1u << 1,
        FS_FIELD_LABEL = 1u << 2,
        FS_FIELD_SIZE = 1u << 3,
        _FS_FIELD_COUNT = 4,
} FsField;

const char *fs_field_to_string(unsigned bit_index);

/* ---- packages (the result JSON's "packages" section and "cause") ---- */

/* Which package manager's database a side has. */
typedef enum PackageFormat {
        PACKAGE_FORMAT_NONE, /* no package database found: a data disk */
        PACKAGE_FORMAT_DPKG,
        PACKAGE_FORMAT_RPM,
        _PACKAGE_FORMAT_MAX,
} PackageFormat;

const char *package_format_to_string(PackageFormat f);
PackageFormat package_format_from_string(const char *s);

typedef enum PackageChangeKind {
        PACKAGE_ADDED,
        PACKAGE_REMOVED,
        PACKAGE_UPGRADED,
        PACKAGE_DOWNGRADED,
        _PACKAGE_CHANGE_MAX,
} PackageChangeKind;

const char *package_change_to_string(PackageChangeKind k);
PackageChangeKind package_change_from_string(const char *s);

/* Why a path changed, in the order --explain lists them. */
typedef enum Cause {
        CAUSE_TAMPERED, /* a package file that no longer matches its package, no package change explaining it */
        CAUSE_CONFIG,   /* a package's configuration file, edited locally */
        CAUSE_PACKAGE,  /* installed, upgraded, downgraded or removed with its package */
        CAUSE_UNOWNED,  /* no package owns it */
        _CAUSE_MAX,
} Cause;

const char *cause_to_string(Cause c);
/* _CAUSE_MAX for a string that names no cause. */
Cause cause_from_string(const char *s);

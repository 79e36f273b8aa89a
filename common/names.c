#include "common/names.h"

#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

/* The index of s in a table, or `unknown` when it is not there. */
static int lookup(const char *const *table, size_t n, const char *s, int unknown) {
        if (!s)
                return unknown;
        for (size_t i = 0; i < n; i++)
                if (table[i] && strcmp(table[i], s) == 0)
                        return (int) i;
        return unknown;
}

static const char *const job_state_names[_JOB_STATE_MAX] = {
        [JOB_STATE_UNKNOWN] = "unknown",     [JOB_STATE_QUEUED] = "queued",
        [JOB_STATE_RUNNING] = "running",     [JOB_STATE_SUCCEEDED] = "succeeded",
        [JOB_STATE_FAILED] = "failed",       [JOB_STATE_CANCELLED] = "cancelled",
};

const char *job_state_to_string(JobState s) {
        return (unsigned) s < _JOB_STATE_MAX ? job_state_names[s] : "unknown";
}

static const char *const job_kind_names[_JOB_KIND_MAX] = {
        [JOB_KIND_UNKNOWN] = "unknown",
        [JOB_KIND_COMPARE] = "compare",
        [JOB_KIND_EXPORT_MANIFEST] = "export_manifest",
};

const char *job_kind_to_string(JobKind k) {
        return (unsigned) k < _JOB_KIND_MAX ? job_kind_names[k] : "unknown";
}

JobKind job_kind_from_string(const char *s) {
        return (JobKind) lookup(job_kind_names, _JOB_KIND_MAX, s, JOB_KIND_UNKNOWN);
}

static const char *const phase_names[_PHASE_MAX] = {
        [PHASE_NONE] = "none",       [PHASE_FINGERPRINT] = "fingerprint", [PHASE_LAUNCH] = "launch",
        [PHASE_INSPECT] = "inspect", [PHASE_SCAN] = "scan",               [PHASE_HASH] = "hash",
        [PHASE_COMPARE] = "compare", [PHASE_WRITE] = "write",
};

const char *phase_to_string(Phase p) {
        return (unsigned) p < _PHASE_MAX ? phase_names[p] : "none";
}

JobState job_state_from_string(const char *s) {
        return (JobState) lookup(job_state_names, _JOB_STATE_MAX, s, JOB_STATE_UNKNOWN);
}

Phase phase_from_string(const char *s) {
        return (Phase) lookup(phase_names, _PHASE_MAX, s, PHASE_NONE);
}

static const char *const engine_names[_ENGINE_MAX] = {
        [ENGINE_AUTO] = "auto",
        [ENGINE_DIRECT] = "direct",
        [ENGINE_APPLIANCE] = "appliance",
};

const char *engine_to_string(Engine e) {
        return (unsigned) e < _ENGINE_MAX ? engine_names[e] : NULL;
}

Engine engine_from_string(const char *s) {
        return (Engine) lookup(engine_names, _ENGINE_MAX, s, _ENGINE_MAX);
}

static const char *const entry_kind_table[_ENTRY_KIND_MAX] = {
        [ENTRY_KIND_UNKNOWN] = "unknown",
        [ENTRY_KIND_FILE] = "file",
        [ENTRY_KIND_DIRECTORY] = "directory",
        [ENTRY_KIND_SYMLINK] = "symlink",
        [ENTRY_KIND_CHAR] = "char",
        [ENTRY_KIND_BLOCK] = "block",
        [ENTRY_KIND_FIFO] = "fifo",
        [ENTRY_KIND_SOCKET] = "socket",
};

const char *entry_kind_to_string(EntryKind k) {
        if ((unsigned) k >= _ENTRY_KIND_MAX)
                return NULL;
        return entry_kind_table[k];
}

/* An unrecognised string maps to ENTRY_KIND_UNKNOWN: the kind is data read
 * back from a store or a guest, never a reason to fail. */
EntryKind entry_kind_from_string(const char *s) {
        return (EntryKind) lookup(entry_kind_table, _ENTRY_KIND_MAX, s, ENTRY_KIND_UNKNOWN);
}

EntryKind entry_kind_from_mode(uint32_t st_mode) {
        switch (st_mode & S_IFMT) {
        case S_IFREG:
                return ENTRY_KIND_FILE;
        case S_IFDIR:
                return ENTRY_KIND_DIRECTORY;
        case S_IFLNK:
                return ENTRY_KIND_SYMLINK;
        case S_IFCHR:
                return ENTRY_KIND_CHAR;
        case S_IFBLK:
                return ENTRY_KIND_BLOCK;
        case S_IFIFO:
                return ENTRY_KIND_FIFO;
        case S_IFSOCK:
                return ENTRY_KIND_SOCKET;
        default:
                return ENTRY_KIND_UNKNOWN;
        }
}

static const char *const change_kind_table[_CHANGE_KIND_MAX] = {
        [CHANGE_ADDED] = "added",
        [CHANGE_REMOVED] = "removed",
        [CHANGE_MODIFIED] = "modified",
        [CHANGE_METADATA] = "metadata",
        [CHANGE_TYPE] = "type",
};

const char *change_kind_to_string(ChangeKind k) {
        if ((unsigned) k >= _CHANGE_KIND_MAX)
                return NULL;
        return change_kind_table[k];
}

/* Indexed by bit number, in the order of enum ChangeField. */
static const char *const change_field_table[_FIELD_COUNT] = {
        "content", "size", "target", "rdev", "mode", "uid", "gid", "mtime",
        "xattrs", "atime", "ctime", "nlink", "ino", "dev", "blocks", "blksize",
};

const char *change_field_to_string(unsigned bit_index) {
        if (bit_index >= _FIELD_COUNT)
                return NULL;
        return change_field_table[bit_index];
}

static const char *const fs_change_kind_table[_FS_CHANGE_KIND_MAX] = {
        [FS_UNCHANGED] = "unchanged",
        [FS_ADDED] = "added",
        [FS_REMOVED] = "removed",
        [FS_CHANGED] = "changed",
};

const char *fs_change_kind_to_string(FsChangeKind k) {
        if ((unsigned) k >= _FS_CHANGE_KIND_MAX)
                return NULL;
        return fs_change_kind_table[k];
}

static const char *const fs_field_table[_FS_FIELD_COUNT] = {
        "type", "uuid", "label", "size",
};

const char *fs_field_to_string(unsigned bit_index) {
        if (bit_index >= _FS_FIELD_COUNT)
                return NULL;
        return fs_field_table[bit_index];
}

ChangeKind change_kind_from_string(const char *s) {
        return (ChangeKind) lookup(change_kind_table, _CHANGE_KIND_MAX, s, _CHANGE_KIND_MAX);
}

FsChangeKind fs_change_kind_from_string(const char *s) {
        return (FsChangeKind) lookup(fs_change_kind_table, _FS_CHANGE_KIND_MAX, s, _FS_CHANGE_KIND_MAX);
}

static const char *const package_format_table[_PACKAGE_FORMAT_MAX] = {
        [PACKAGE_FORMAT_NONE] = "none",
        [PACKAGE_FORMAT_DPKG] = "dpkg",
        [PACKAGE_FORMAT_RPM] = "rpm",
};

const char *package_format_to_string(PackageFormat f) {
        return (unsigned) f < _PACKAGE_FORMAT_MAX ? package_format_table[f] : "none";
}

PackageFormat package_format_from_string(const char *s) {
        return (PackageFormat) lookup(package_format_table, _PACKAGE_FORMAT_MAX, s, PACKAGE_FORMAT_NONE);
}

static const char *const package_change_table[_PACKAGE_CHANGE_MAX] = {
        [PACKAGE_ADDED] = "added",
        [PACKAGE_REMOVED] = "removed",
        [PACKAGE_UPGRADED] = "upgraded",
        [PACKAGE_DOWNGRADED] = "downgraded",
};

const char *package_change_to_string(PackageChangeKind k) {
        return (unsigned) k < _PACKAGE_CHANGE_MAX ? package_change_table[k] : NULL;
}

PackageChangeKind package_change_from_string(const char *s) {
        return (PackageChangeKind) lookup(package_change_table, _PACKAGE_CHANGE_MAX, s, _PACKAGE_CHANGE_MAX);
}

static const char *const cause_table[_CAUSE_MAX] = {
        [CAUSE_TAMPERED] = "tampered",
        [CAUSE_CONFIG] = "config",
        [CAUSE_PACKAGE] = "package",
        [CAUSE_UNOWNED] = "unowned",
};

const char *cause_to_string(Cause c) {
        return (unsigned) c < _CAUSE_MAX ? cause_table[c] : NULL;
}

Cause cause_from_string(const char *s) {
        return (Cause) lookup(cause_table, _CAUSE_MAX, s, _CAUSE_MAX);
}

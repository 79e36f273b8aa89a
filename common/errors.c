#include "common/errors.h"

#include <stdarg.h>

static const char *const error_names[_ERR_MAX] = {
        [ERR_OK] = "Ok",
        [ERR_INVALID_ARGS] = "InvalidArgs",
        [ERR_NO_SUCH_FILE] = "NoSuchFile",
        [ERR_ACCESS_DENIED] = "AccessDenied",
        [ERR_INVALID_IMAGE] = "InvalidImage",
        [ERR_UNSUPPORTED_FORMAT] = "UnsupportedFormat",
        [ERR_TRUNCATED_IMAGE] = "TruncatedImage",
        [ERR_CORRUPT_IMAGE] = "CorruptImage",
        [ERR_MISSING_BACKING_FILE] = "MissingBackingFile",
        [ERR_IMAGE_LOCKED] = "ImageLocked",
        [ERR_APPLIANCE_FAILED] = "ApplianceFailed",
        [ERR_INSPECTION_FAILED] = "InspectionFailed",
        [ERR_NOTHING_MOUNTABLE] = "NothingMountable",
        [ERR_SCAN_FAILED] = "ScanFailed",
        [ERR_NO_SUCH_JOB] = "NoSuchJob",
        [ERR_TOO_MANY_JOBS] = "TooManyJobs",
        [ERR_CANCELLED] = "Cancelled",
        [ERR_NOT_FINISHED] = "NotFinished",
        [ERR_NOT_CACHED] = "NotCached",
        [ERR_NO_CACHE] = "NoCache",
        [ERR_UNKNOWN_DOMAIN] = "UnknownDomain",
        [ERR_UNKNOWN_SNAPSHOT] = "UnknownSnapshot",
        [ERR_LIBVIRT_UNREACHABLE] = "LibvirtUnreachable",
        [ERR_UNSUPPORTED_DISK] = "UnsupportedDisk",
        [ERR_WORKER_CRASHED] = "WorkerCrashed",
        [ERR_INVALID_MANIFEST] = "InvalidManifest",
        [ERR_CORRUPT_PACKAGE_DB] = "CorruptPackageDatabase",
        [ERR_UNSUPPORTED_PACKAGE_DB] = "UnsupportedPackageDatabase",
        [ERR_DIRECT_UNSUPPORTED] = "DirectUnsupported",
        [ERR_INTERNAL] = "Internal",
};

const char *error_code_to_string(ErrorCode c) {
        if ((unsigned) c >= _ERR_MAX)
                return "Internal";
        return error_names[c];
}

ErrorCode error_code_from_dbus_name(const char *name) {
        if (!name || strncmp(name, VD_ERROR_PREFIX, strlen(VD_ERROR_PREFIX)) != 0)
                return ERR_INTERNAL;
        name += strlen(VD_ERROR_PREFIX);
        for (unsigned i = 1; i < _ERR_MAX; i++)
                if (strcmp(name, error_names[i]) == 0)
                        return (ErrorCode) i;
        return ERR_INTERNAL;
}

int error_set(Error *e, ErrorCode code, const char *fmt, ...) {
        if (e && e->code == ERR_OK) {
                va_list ap;
                va_start(ap, fmt);
                (void) vsnprintf(e->message, sizeof(e->message), fmt, ap);
                va_end(ap);
                e->code = code;
        }
        return -1;
}

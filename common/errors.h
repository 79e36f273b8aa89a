/* Expected failures, each with a D-Bus error name: the daemon returns them
 * as named errors, the client prints them as one line. */
#pragma once

#include "common/util.h"

#define VD_ERROR_PREFIX "org.virtdiff.VirtDiff1.Error."

typedef enum ErrorCode {
        ERR_OK,
        ERR_INVALID_ARGS,
        ERR_NO_SUCH_FILE,
        ERR_ACCESS_DENIED,
        ERR_INVALID_IMAGE,
        ERR_UNSUPPORTED_FORMAT,
        ERR_TRUNCATED_IMAGE,
        ERR_CORRUPT_IMAGE,
        ERR_MISSING_BACKING_FILE,
        ERR_IMAGE_LOCKED,
        ERR_APPLIANCE_FAILED,
        ERR_INSPECTION_FAILED,
        ERR_NOTHING_MOUNTABLE,
        ERR_SCAN_FAILED,
        ERR_NO_SUCH_JOB,
        ERR_TOO_MANY_JOBS,
        ERR_CANCELLED,
        ERR_NOT_FINISHED,
        ERR_NOT_CACHED,
        ERR_NO_CACHE,
        ERR_UNKNOWN_DOMAIN,
        ERR_UNKNOWN_SNAPSHOT,
        ERR_LIBVIRT_UNREACHABLE,
        ERR_UNSUPPORTED_DISK,
        ERR_WORKER_CRASHED,
        ERR_INVALID_MANIFEST,
        ERR_CORRUPT_PACKAGE_DB,     /* a guest's package database cannot be read */
        ERR_UNSUPPORTED_PACKAGE_DB, /* ... or is in a form our librpm cannot open */
        ERR_DIRECT_UNSUPPORTED, /* the direct engine cannot read this side for certain */
        ERR_INTERNAL,
        _ERR_MAX,
} ErrorCode;

/* "InvalidImage" etc.: the last component of the D-Bus error name. */
const char *error_code_to_string(ErrorCode c);
ErrorCode error_code_from_dbus_name(const char *name);

typedef struct Error {
        ErrorCode code;
        char message[1024];
} Error;

/* Sets *e (when e is not NULL and no error is set yet) and returns -1. */
int error_set(Error *e, ErrorCode code, const char *fmt, ...) _printf_(3, 4);

/* A qcow2 input's backing chain, walked by us before qemu opens anything:
 * each backing file must be one the caller may read, must be named with
 * its format (qemu would otherwise probe it), must be a plain local file,
 * and the chain must end. */
#pragma once

#include "common/errors.h"
#include "source/caller-access.h"

/* Checks the chain below path, opened as format. Anything but qcow2 names
 * no backing file that we follow: 0 at once, nothing opened. caller NULL:
 * the daemon's own rights. Errors: AccessDenied (the caller may not read a
 * backing file, or it is not a local file name), MissingBackingFile,
 * UnsupportedFormat (no backing format in the header, one other than raw
 * or qcow2, an external data file), InvalidImage (a bad header, a loop, a
 * chain deeper than MAX_BACKING_CHAIN_DEPTH). */
int backing_chain_check(const char *path, const char *format, const CallerCreds *caller, Error *e);

/* A package set as bytes: from the worker to the daemon, and as the
 * store's blob. The decoder treats its input as hostile (the worker reads
 * guest data; a cache file may be damaged): counts are checked against the
 * bytes present, indexes, enums, digest sizes and sort order before anyone
 * looks a path up in it. */
#pragma once

#include "common/errors.h"
#include "common/wire.h"
#include "packages/packages.h"

void package_set_encode(const PackageSet *ps, WireBuf *b);
/* ERR_SCAN_FAILED naming what is wrong. */
int package_set_decode(const uint8_t *data, size_t len, PackageSet **ret, Error *e);

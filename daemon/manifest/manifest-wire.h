/* A manifest as bytes, for the way from a worker process to the daemon.
 * The decoder treats its input as hostile: the worker reads guest data, so
 * whatever it sends is checked (counts against the bytes present, indexes,
 * kinds, sort order) before the comparer sees it. */
#pragma once

#include "common/errors.h"
#include "common/wire.h"
#include "manifest/manifest.h"

void manifest_encode(const Manifest *m, WireBuf *b);
int manifest_decode(const uint8_t *data, size_t len, Manifest **ret, Error *e);

/* A manifest as bytes, for the way from a worker process to the daemon: a
 * sequence of parts, one a frame, so that neither end needs the whole
 * encoding at once:
 *
 *   HEAD     format version, the OS, the filesystems
 *   TREE     a tree's key (trees in strcmp order)
 *   ENTRIES  the tree's next entries, in path_compare() order
 *   END      how many trees and entries there were
 *
 * The decoder treats its input as hostile: the worker reads guest data, so
 * whatever it sends is checked (counts against the bytes present, indexes,
 * kinds, the order across parts, the totals) before a sink sees it. */
#pragma once

#include "common/errors.h"
#include "common/wire.h"
#include "manifest/manifest-stream.h"

/* An ENTRIES part is sent once it holds this many entries or bytes. */
#define MANIFEST_BATCH_ENTRIES 1024
#define MANIFEST_BATCH_BYTES (256U * 1024)
/* The largest part a decoder takes: one entry's xattrs may be large. */
#define MANIFEST_PART_MAX (64U << 20)

/* A sink that encodes: each finished part goes to emit(). */
typedef struct ManifestEncoder {
        int (*emit)(void *userdata, const WireBuf *part);
        void *userdata;
        WireBuf batch;
        uint32_t n_batch;
        uint64_t n_entries;
        uint32_t n_trees;
} ManifestEncoder;

ManifestSink manifest_encoder_sink(ManifestEncoder *enc);
void manifest_encoder_done(ManifestEncoder *enc);

/* Parts in, a sink fed as they come. */
typedef struct ManifestDecoder ManifestDecoder;

ManifestDecoder *manifest_decoder_new(const ManifestSink *sink);
/* 0: more parts expected; 1: that was the END; -1 with e set
 * (ScanFailed for malformed bytes, the sink's own error otherwise). */
int manifest_decoder_part(ManifestDecoder *d, const uint8_t *data, size_t len, Error *e);
ManifestDecoder *manifest_decoder_free(ManifestDecoder *d);
static inline void manifest_decoder_freep(ManifestDecoder **d) {
        manifest_decoder_free(*d);
}
#define _cleanup_manifest_decoder_ _cleanup_(manifest_decoder_freep)

/* The whole sequence in one buffer, each part preceded by its length (u32):
 * for tests, fuzzing and seeds. */
void manifest_encode(const Manifest *m, WireBuf *b);
int manifest_decode(const uint8_t *data, size_t len, Manifest **ret, Error *e);

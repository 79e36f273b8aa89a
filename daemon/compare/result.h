/* The whole result document of a job (schemas/diff-result.schema.json):
 * the comparison, what the content stage found, and both sides' sources,
 * written once into a sealed memfd that every reader gets a copy of. */
#pragma once

#include <json-c/json.h>

#include "common/errors.h"
#include "compare/comparer.h"
#include "compare/content-diff.h"
#include "compare/package-notes.h"
#include "source/disk.h"
#include "source/image-key.h"

/* One side as the result describes it; borrowed. */
typedef struct ResultSide {
        const Disk *disks;
        size_t n_disks;
        const uint8_t *key; /* FINGERPRINT_SIZE bytes: the side's content key */
        bool cached;        /* its manifest came from the store */
        const Manifest *manifest;
        const PackageSet *packages; /* NULL: packages were not asked for */
        /* A side given as an exported manifest: the images it names, and
         * when it was made (either may be NULL). */
        bool from_manifest;
        json_object *manifest_images;
        const char *manifest_exported_at;
        Engine engine;      /* what scanned it (ENGINE_AUTO: nothing, it was cached) */
        const char *direct_refused; /* why the direct engine left it to the appliance, or NULL */
} ResultSide;

/* notes may be NULL (no content stage); checksum names their algorithm;
 * package_notes NULL when packages were not asked for. */
int result_write(const DiffResult *r, const ContentNote *notes, const char *checksum,
                 const PackageNotes *package_notes, const ResultSide sides[2], int *ret_fd, Error *e);

/* One side's manifest as an exported manifest document
 * (schemas/manifest.schema.json), sealed the same way. */
int result_write_manifest(const ResultSide *side, int *ret_fd, Error *e);

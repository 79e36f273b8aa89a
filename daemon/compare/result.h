/* The whole result document of a job (schemas/diff-result.schema.json):
 * the comparison, what the content stage found, and both sides' sources,
 * written once into a sealed memfd that every reader gets a copy of. */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

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

/* ---- the pieces result_write() is made of, for the change stream
 * (result-stream.h), which writes the same document ---- */

/* The document without its changes: "changes" is there, empty, for
 * result_write_document() to fill. NULL when out of memory. */
json_object *result_root(const DiffResult *r, const ContentNote *notes, const char *checksum,
                         const PackageNotes *package_notes, const ResultSide sides[2]);
/* A side as the document's "a" and "b" describe it. */
json_object *result_side_to_json(const ResultSide *s);
/* Writes a value as the document holds it: compact, '/' unescaped. */
int result_put_json(FILE *f, json_object *o);
/* Puts the "changes" array (brackets included); a negative errno. */
typedef int (*ResultChangesFn)(FILE *f, void *userdata);
/* root's members in their order into a new sealed memfd, the changes
 * from put_changes in their place. */
int result_write_document(json_object *root, ResultChangesFn put_changes, void *userdata, int *ret_fd, Error *e);

/* One side's manifest as an exported manifest document
 * (schemas/manifest.schema.json), sealed the same way. */
int result_write_manifest(const ResultSide *side, int *ret_fd, Error *e);

/* A result document's text into an anonymous file, sealed: a reader can
 * trust it never changes under it. */
int result_seal(const char *text, size_t len, int *ret_fd, Error *e);

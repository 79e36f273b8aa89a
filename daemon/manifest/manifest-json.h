/* A manifest as JSON (schemas/manifest.schema.json): what ExportManifest
 * writes and a Compare side of kind "manifest" reads, so that a manifest
 * made where an image lives can be compared anywhere. Names are bytes:
 * NAME when valid UTF-8 without NUL, else a lossy NAME and the exact
 * NAME_base64, as in the result JSON; the same stat objects as there.
 *
 * The reader treats its input as hostile: it comes from a file a caller
 * passed. Every member is checked (types, ranges, references to
 * filesystems, duplicates) before the comparer sees the manifest, and any
 * fault is an InvalidManifest error naming where it is. */
#pragma once

#include <json-c/json.h>

#include "common/errors.h"
#include "manifest/manifest.h"

#define MANIFEST_JSON_FORMAT "virt-diff-manifest"
#define MANIFEST_JSON_VERSION 1

/* ---- building JSON, shared with the result's writer ---- */

/* Adds v under key (arrays: appends it), taking v also on failure; a NULL
 * v means its constructor ran out of memory. -ENOMEM on failure. */
int json_add(json_object *obj, const char *key, json_object *v);
int json_append(json_object *array, json_object *v);
int json_add_null(json_object *obj, const char *key);
/* Adds "NAME" (and, when the bytes are not valid UTF-8 or hold a NUL,
 * "NAME_base64" with the exact bytes and a lossy "NAME") to obj. */
int json_add_bytes(json_object *obj, const char *name, const char *bytes, size_t len);
/* json_add_bytes() of a C string, NULL as null. */
int json_add_name(json_object *obj, const char *key, const char *s);
/* For names nobody needs byte for byte (devices, types, messages): NULL
 * as null, otherwise a string made valid UTF-8 if need be. */
int json_add_text(json_object *obj, const char *key, const char *s);

/* One side's view of a filesystem and of an entry, as in the result. */
json_object *filesystem_to_json(const Filesystem *f);
json_object *entry_stat_to_json(const Entry *e);

/* The manifest document with its format, version and the side's content
 * key (64 hex digits); the caller adds where it came from ("images"). */
json_object *manifest_to_json(const Manifest *m, const char *key);

/* What a manifest document says of where it was made. */
typedef struct ManifestOrigin {
        char key[65];        /* the side's content key, 64 hex digits */
        json_object *images; /* checked, rebuilt with the result's members only; never NULL after a read */
        char *exported_at;   /* or NULL */
} ManifestOrigin;

void manifest_origin_done(ManifestOrigin *o);

/* Parses a manifest document. On success *ret is a sorted manifest and
 * *ret_origin what it says of itself; on failure -1 with an
 * InvalidManifest error (or Internal when out of memory). */
int manifest_from_json(const char *text, size_t len, Manifest **ret, ManifestOrigin *ret_origin, Error *e);

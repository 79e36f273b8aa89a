/* Encodes a DiffResult as the JSON document described by
 * schemas/diff-result.schema.json, built with json-c objects. */
#pragma once

#include <json-c/json.h>

#include "compare/comparer.h"
#include "compare/content-diff.h"
#include "manifest/manifest-json.h"

/* Returns a new object with "filesystems", "changes" and "summary";
 * the caller adds the sides' descriptions. NULL on allocation failure. */
json_object *diff_result_to_json(const DiffResult *r);

/* One change as the document's "changes" array holds it. */
json_object *diff_change_to_json(const DiffResult *r, const Change *c);

/* Adds what the content stage found to the changes of a result made by
 * diff_result_to_json(): "diff" (or "binary", or "diff_omitted") on a
 * change, "checksum" on its old and new stat, and the result's
 * "checksum_algorithm". */
int content_notes_to_json(json_object *root, const ContentNote *notes, size_t n, const char *algorithm);

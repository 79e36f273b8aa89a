/* What the output writers share: reading the daemon's JSON result. */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

#include "common/json-util.h"
#include "common/names.h"
#include "common/quote.h"
#include "common/util.h"
#include "output/output.h"

/* o's KEY when it has that type, else NULL. */
json_object *json_get(json_object *o, const char *key, json_type type);
const char *json_get_string(json_object *o, const char *key);
size_t json_array_length(json_object *a);

/* The exact bytes of a name: NAME_base64 when the daemon had to add it,
 * else NAME; NUL-terminated for convenience, len is what counts. */
int json_get_bytes(json_object *o, const char *key, char **ret, size_t *ret_len);

/* The side an entry or filesystem is described by: new, else old. */
json_object *present_side(json_object *o);
uint64_t json_get_u64(json_object *o, const char *key);
int64_t json_get_i64(json_object *o, const char *key);

/* "TREE:PATH" when with_tree and the tree is not the inspected OS's "/",
 * else "PATH"; quoted by quote_bytes(). */
char *output_change_label(json_object *c, bool with_tree);
/* Whether the changes come from more than one tree. */
bool output_several_trees(json_object *changes);

/* Field formatting shared by the writers. */
void format_size(char buf[static 32], uint64_t size, bool human);
void format_time(char buf[static 64], int64_t ns, const OutputOptions *o);
/* Each xattr as " NAME VALUE", bytes outside printable ASCII as \xHH. */
void xattrs_write(FILE *f, json_object *stat, char sep);
/* The checksum to show for an entry's stat: the daemon's "checksum"
 * member (another algorithm) or its sha256; NULL for non-files. */
const char *stat_checksum(json_object *stat);

/* The writers, each for the whole (filtered) result. */
int output_text(FILE *f, json_object *result, const OutputOptions *o);
int output_csv(FILE *f, json_object *result);
int output_ndjson(FILE *f, json_object *result);
int output_summary(FILE *f, json_object *result);
int output_virt_diff(FILE *f, json_object *result, const OutputOptions *o);

/* "; domain NAME at snapshot S; running, crash-consistent only" (output-domain.c). */
void output_domain_write(FILE *f, json_object *side);

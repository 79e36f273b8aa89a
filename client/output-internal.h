/* What the output writers share: reading the daemon's JSON result. */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

#include "util.h"

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* o's KEY when it has that type, else NULL. */
json_object *json_get(json_object *o, const char *key, json_type type);
const char *json_get_string(json_object *o, const char *key);
size_t json_array_length(json_object *a);

/* The exact bytes of a name: NAME_base64 when the daemon had to add it,
 * else NAME; NUL-terminated for convenience, len is what counts. */
int json_get_bytes(json_object *o, const char *key, char **ret, size_t *ret_len);

/* The writers besides the text one, each for the whole (filtered) result. */
int output_csv(FILE *f, json_object *result);
int output_ndjson(FILE *f, json_object *result);
int output_summary(FILE *f, json_object *result);

/* "; domain NAME at snapshot S; running, crash-consistent only" (output-domain.c). */
void output_domain_write(FILE *f, json_object *side);

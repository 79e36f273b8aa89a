/* json-c ownership for _cleanup_ locals, shared by every module that
 * holds JSON objects. */
#pragma once

#include <json-c/json.h>

#include "common/util.h"

static inline void json_object_putp(json_object **o) {
        if (*o)
                (void) json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Reading the daemon's JSON result. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "output/output-internal.h"

json_object *json_get(json_object *o, const char *key, json_type type) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

const char *json_get_string(json_object *o, const char *key) {
        return json_object_get_string(json_get(o, key, json_type_string));
}

size_t json_array_length(json_object *a) {
        return a ? json_object_array_length(a) : 0;
}

int json_get_bytes(json_object *o, const char *key, char **ret, size_t *ret_len) {
        _cleanup_free_ char *b64key = malloc(strlen(key) + sizeof("_base64"));
        const char *s;

        if (!b64key)
                return -ENOMEM;
        strcpy(stpcpy(b64key, key), "_base64");

        s = json_get_string(o, b64key);
        if (s) {
                uint8_t *p;
                long n = base64_decode(s, &p);
                if (n < 0)
                        return (int) n;
                *ret = (char *) p;
                *ret_len = (size_t) n;
                return 0;
        }

        s = json_get_string(o, key);
        if (!s)
                return -ENOENT;
        *ret = strdup(s);
        if (!*ret)
                return -ENOMEM;
        *ret_len = strlen(s);
        return 0;
}

int output_json_set_bytes(json_object *o, const char *key, const char *s) {
        _cleanup_free_ char *b64key = malloc(strlen(key) + sizeof("_base64"));
        size_t len = strlen(s);

        if (!b64key)
                return -ENOMEM;
        strcpy(stpcpy(b64key, key), "_base64");
        json_object_object_del(o, b64key);
        if (utf8_is_valid(s, len))
                return json_object_object_add(o, key, json_object_new_string(s)) < 0 ? -ENOMEM : 0;

        size_t n;
        _cleanup_free_ char *lossy = utf8_lossy(s, len, &n), *b64 = base64_encode((const uint8_t *) s, len);
        if (!lossy || !b64)
                return -ENOMEM;
        if (json_object_object_add(o, key, json_object_new_string_len(lossy, (int) n)) < 0 ||
            json_object_object_add(o, b64key, json_object_new_string(b64)) < 0)
                return -ENOMEM;
        return 0;
}

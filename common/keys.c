#include "common/keys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/input-limits.h"
#include "common/util.h"

int key_list_add(KeyList *l, const char *selector, const void *bytes, size_t len) {
        Key *k = realloc(l->keys, (l->n + 1) * sizeof(Key));
        if (!k)
                return -ENOMEM;
        l->keys = k;
        k += l->n;
        *k = (Key){.len = len};
        k->bytes = malloc(len ? len : 1);
        k->selector = selector ? strdup(selector) : NULL;
        if (!k->bytes || (selector && !k->selector)) {
                free(k->bytes);
                free(k->selector);
                return -ENOMEM;
        }
        memcpy(k->bytes, bytes, len);
        l->n++;
        return 0;
}

void key_list_done(KeyList *l) {
        for (size_t i = 0; i < l->n; i++) {
                explicit_bzero(l->keys[i].bytes, l->keys[i].len);
                free(l->keys[i].bytes);
                free(l->keys[i].selector);
        }
        free(l->keys);
        *l = (KeyList){};
}

bool key_selector_matches(const char *selector, const char *device, const char *uuid) {
        return streq_ptr(selector, "all") || streq_ptr(selector, device) || (uuid && streq_ptr(selector, uuid));
}

int key_check(const void *p, size_t len) {
        return len == 0 || len > MAX_KEY_LENGTH || memchr(p, 0, len) ? -EINVAL : 0;
}

int key_device_list_decode(const char *buf, size_t len, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < len;) {
                size_t k = strnlen(buf + i, len - i);
                if (k == 0 || i + k == len)
                        return -EBADMSG;
                if (strv_extend(&l, &n, buf + i) < 0)
                        return -ENOMEM;
                i += k + 1;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

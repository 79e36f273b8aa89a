#include "common/base64.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const uint8_t *p, size_t len) {
        if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
                return NULL;

        char *r = malloc((len + 2) / 3 * 4 + 1), *o = r;
        if (!r)
                return NULL;

        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16;
                if (i + 1 < len)
                        v |= (uint32_t) p[i + 1] << 8;
                if (i + 2 < len)
                        v |= p[i + 2];

                *o++ = base64_alphabet[(v >> 18) & 63];
                *o++ = base64_alphabet[(v >> 12) & 63];
                *o++ = i + 1 < len ? base64_alphabet[(v >> 6) & 63] : '=';
                *o++ = i + 2 < len ? base64_alphabet[v & 63] : '=';
        }
        *o = 0;
        return r;
}

static int base64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* Strict: the text comes from our own encoder, so anything but canonical
 * padded base64 means the document was damaged, not merely reformatted. */
long base64_decode(const char *s, uint8_t **ret) {
        size_t len = strlen(s);

        if (len % 4 != 0 || len / 4 * 3 > (size_t) LONG_MAX)
                return -EINVAL;

        size_t pad = 0;
        if (len > 0 && s[len - 1] == '=')
                pad = s[len - 2] == '=' ? 2 : 1;

        size_t n = len / 4 * 3 - pad;
        uint8_t *r = malloc(n + 1);
        if (!r)
                return -ENOMEM;

        size_t o = 0;
        for (size_t i = 0; i < len; i += 4) {
                bool last = i + 4 == len;
                int v[4];

                for (size_t j = 0; j < 4; j++) {
                        v[j] = base64_value(s[i + j]);
                        /* '=' only as the final one or two characters. */
                        if (v[j] < 0 && !(last && s[i + j] == '=' && j >= 4 - pad)) {
                                free(r);
                                return -EINVAL;
                        }
                }

                uint32_t x = (uint32_t) v[0] << 18 | (uint32_t) v[1] << 12;
                if (v[2] >= 0)
                        x |= (uint32_t) v[2] << 6;
                if (v[3] >= 0)
                        x |= (uint32_t) v[3];

                r[o++] = (uint8_t) (x >> 16);
                if (v[2] >= 0)
                        r[o++] = (uint8_t) (x >> 8);
                if (v[3] >= 0)
                        r[o++] = (uint8_t) x;
        }
        r[o] = 0;

        *ret = r;
        return (long) o;
}

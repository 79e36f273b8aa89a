#include "common/quote.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* C1 controls are valid UTF-8 but some terminals act on them. */
static bool byte_needs_escape(const unsigned char *p, size_t len, size_t i) {
        return p[i] < 0x20 || p[i] == 0x7f || p[i] == '"' || p[i] == '\\' ||
               (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f);
}

char *quote_bytes(const char *bytes, size_t len) {
        const unsigned char *p = (const unsigned char *) bytes;
        bool plain = utf8_is_valid(bytes, len);
        char *r, *o;

        for (size_t i = 0; plain && i < len; i++)
                if (byte_needs_escape(p, len, i))
                        plain = false;

        if (plain) {
                r = malloc(len + 1);
                if (!r)
                        return NULL;
                memcpy(r, bytes, len);
                r[len] = 0;
                return r;
        }

        if (len > (SIZE_MAX - 3) / 4)
                return NULL;
        r = o = malloc(len * 4 + 3);
        if (!r)
                return NULL;

        *o++ = '"';
        for (size_t i = 0; i < len;) {
                size_t n = 1;

                /* Keep valid multi-byte characters readable; escape the
                 * bytes of anything that does not decode. */
                if (p[i] >= 0x80) {
                        n = (p[i] & 0xe0) == 0xc0 ? 2 : (p[i] & 0xf0) == 0xe0 ? 3 : (p[i] & 0xf8) == 0xf0 ? 4 : 1;
                        if (n > len - i || !utf8_is_valid(bytes + i, n) || (n == 2 && byte_needs_escape(p, len, i)))
                                n = 0;
                }

                if (n > 1 || (n == 1 && !byte_needs_escape(p, len, i))) {
                        memcpy(o, p + i, n);
                        o += n;
                        i += n;
                        continue;
                }

                if (p[i] == '\n')
                        o = stpcpy(o, "\\n");
                else if (p[i] == '\t')
                        o = stpcpy(o, "\\t");
                else if (p[i] == '\\')
                        o = stpcpy(o, "\\\\");
                else if (p[i] == '"')
                        o = stpcpy(o, "\\\"");
                else
                        o += sprintf(o, "\\x%02x", p[i]);
                i++;
        }
        *o++ = '"';
        *o = 0;
        return r;
}

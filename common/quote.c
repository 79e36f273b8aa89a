#include "common/quote.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* C1 controls are valid UTF-8 but some terminals act on them; the
 * bidirectional embeddings, overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069) make a name read as another one. */
static bool byte_needs_escape(const unsigned char *p, size_t len, size_t i, bool quote) {
        if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\' || (quote && p[i] == '"'))
                return true;
        if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
                return true;
        return p[i] == 0xe2 && i + 2 < len &&
               ((p[i + 1] == 0x80 && p[i + 2] >= 0xaa && p[i + 2] <= 0xae) ||
                (p[i + 1] == 0x81 && p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9));
}

static size_t utf8_length(unsigned char c) {
        return (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
}

/* Writes the escaped form of bytes at o (room for 4 bytes a byte). */
static char *escape_into(char *o, const char *bytes, size_t len, bool quote) {
        const unsigned char *p = (const unsigned char *) bytes;

        for (size_t i = 0; i < len;) {
                size_t n = 1;

                /* Keep valid multi-byte characters readable; escape the
                 * bytes of anything that does not decode. */
                if (p[i] >= 0x80) {
                        n = utf8_length(p[i]);
                        if (n == 1 || n > len - i || !utf8_is_valid(bytes + i, n) || byte_needs_escape(p, len, i, quote))
                                n = 0;
                }

                if (n > 1 || (n == 1 && !byte_needs_escape(p, len, i, quote))) {
                        memcpy(o, p + i, n);
                        o += n;
                        i += n;
                        continue;
                }

                /* An escaped sequence is escaped whole, byte by byte. */
                size_t run = p[i] >= 0x80 && byte_needs_escape(p, len, i, quote) ? utf8_length(p[i]) : 1;
                for (size_t j = 0; j < run; j++, i++) {
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
                }
        }
        return o;
}

char *quote_bytes(const char *bytes, size_t len) {
        const unsigned char *p = (const unsigned char *) bytes;
        bool plain = utf8_is_valid(bytes, len);
        char *r, *o;

        for (size_t i = 0; plain && i < len; i++)
                if (byte_needs_escape(p, len, i, true))
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
        o = escape_into(o, bytes, len, true);
        *o++ = '"';
        *o = 0;
        return r;
}

char *escape_bytes(const char *bytes, size_t len) {
        char *r;

        if (len > (SIZE_MAX - 1) / 4)
                return NULL;
        r = malloc(len * 4 + 1);
        if (!r)
                return NULL;
        *escape_into(r, bytes, len, false) = 0;
        return r;
}

#include "worker/tree-hash.h"

/* sha256sum escapes a name holding '\\', '\n' or '\r' and marks the line
 * with a leading backslash. */
static void unescape_name(char *s) {
        char *w = s;
        for (char *r = s; *r; r++) {
                if (*r == '\\' && r[1]) {
                        r++;
                        *w++ = *r == 'n' ? '\n' : *r == 'r' ? '\r' : *r;
                } else
                        *w++ = *r;
        }
        *w = 0;
}

int checksum_line_parse(char *line, size_t digest_size, const char **ret_name, uint8_t *digest) {
        size_t hex = 2 * digest_size;
        char *s = line;

        if (*s == 0)
                return 0;
        bool escaped = *s == '\\';
        if (escaped)
                s++;
        /* "<hex>  NAME" (two spaces, or " *" in binary mode) */
        if (strlen(s) < hex + 2 + 1 || s[hex] != ' ' || (s[hex + 1] != ' ' && s[hex + 1] != '*'))
                return -EINVAL;
        s[hex] = 0;
        if (unhexmem(s, digest, digest_size) < 0)
                return -EINVAL;
        char *name = s + hex + 2;
        if (escaped)
                unescape_name(name);
        /* Only "./..." names are files of the tree. With no regular file at
         * all, find | xargs sha256sum hashes its empty standard input and
         * calls it "-". */
        if (name[0] != '.' || name[1] != '/')
                return 0;
        *ret_name = name + 1;
        return 1;
}

int checksum_lines_parse(const char *out, size_t len, size_t digest_size,
                         int (*fn)(void *userdata, const char *name, const uint8_t *digest), void *userdata) {
        const char *p = out, *end = out + len;
        uint8_t digest[64];

        if (digest_size > sizeof digest)
                return -EINVAL;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t l = nl ? (size_t) (nl - p) : (size_t) (end - p);
                p += l + 1;
                if (l == 0)
                        continue;
                _cleanup_free_ char *line = strndup(p - l - 1, l);
                if (!line)
                        return -ENOMEM;
                const char *name = NULL;
                int k = checksum_line_parse(line, digest_size, &name, digest);
                if (k < 0)
                        return k;
                if (k == 0)
                        continue;
                int r = fn(userdata, name, digest);
                if (r < 0)
                        return r;
        }
        return 0;
}

#include "worker/tree-hash.h"

#include "common/log.h"

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

int checksum_lines_parse(const char *out, size_t len, size_t digest_size,
                         int (*fn)(void *userdata, const char *name, const uint8_t *digest), void *userdata) {
        const char *p = out, *end = out + len;
        size_t hex = 2 * digest_size;
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

                char *s = line;
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
                /* Only "./..." names are files of the tree. With no regular
                 * file at all, find | xargs sha256sum hashes its empty
                 * standard input and calls it "-". */
                if (name[0] != '.' || name[1] != '/')
                        continue;
                int r = fn(userdata, name + 1, digest);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int set_sha256(void *userdata, const char *name, const uint8_t *digest) {
        Entry *e = tree_find_entry(userdata, name);
        if (e && e->kind == ENTRY_KIND_FILE) {
                memcpy(e->sha256, digest, sizeof e->sha256);
                e->has_sha256 = true;
        }
        return 0;
}

int checksums_parse(const char *out, size_t len, Tree *t) {
        return checksum_lines_parse(out, len, 32, set_sha256, t);
}

int checksums_one_by_one(guestfs_h *g, Tree *t, const ProgressSink *progress, Error *e) {
        for (size_t i = 0; i < t->n_entries; i++) {
                Entry *en = &t->entries[i];
                if (en->kind != ENTRY_KIND_FILE)
                        continue;
                if (progress_cancelled(progress))
                        return error_set(e, ERR_CANCELLED, "cancelled");
                _cleanup_free_ char *hex = guestfs_checksum(g, "sha256", en->path);
                if (hex && unhexmem(hex, en->sha256, sizeof en->sha256) == 0)
                        en->has_sha256 = true;
                else
                        log_info("cannot hash %s: %s", en->path, guestfs_last_error(g));
                progress_bytes(progress, en->size, 0);
        }
        return 0;
}

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

int checksums_parse(const char *out, size_t len, Tree *t) {
        const char *p = out, *end = out + len;

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
                /* "<64 hex>  NAME" (two spaces, or " *" in binary mode) */
                if (strlen(s) < 64 + 2 + 1 || s[64] != ' ' || (s[65] != ' ' && s[65] != '*'))
                        return -EINVAL;
                uint8_t digest[32];
                s[64] = 0;
                if (unhexmem(s, digest, sizeof digest) < 0)
                        return -EINVAL;
                char *name = s + 66;
                if (escaped)
                        unescape_name(name);
                /* Only "./..." names are files of the tree. With no regular
                 * file at all, find | xargs sha256sum hashes its empty
                 * standard input and calls it "-". */
                if (name[0] != '.' || name[1] != '/')
                        continue;
                name++;
                Entry *e = tree_find_entry(t, name);
                if (e && e->kind == ENTRY_KIND_FILE) {
                        memcpy(e->sha256, digest, sizeof digest);
                        e->has_sha256 = true;
                }
        }
        return 0;
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

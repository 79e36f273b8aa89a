/* The appliance walk's reading of its two listings (worker/tree-order.h):
 * find0's names and the bulk checksum lines come from the guest. Any bytes
 * (names, then after the first "\n--\n" checksum lines) give a named
 * refusal or a walk whose entries come once each, each directory's
 * children after it and in name order, within the chunk size, and hashes
 * only on regular files. */
#include <sys/mman.h>

#include "fuzz-util.h"
#include "worker/tree-order.h"

typedef struct Seen {
        char *last;  /* the previous entry's path */
        size_t n;
} Seen;

/* The parent of path ("/a/b" -> "/a"; "/a" -> "/"), into buf. */
static void parent_of(const char *path, char *buf, size_t size) {
        const char *s = strrchr(path, '/');
        size_t l = s && s != path ? (size_t) (s - path) : 1;
        snprintf(buf, size, "%.*s", (int) l, path);
}

/* A name's kind from its bytes: the walk must cope with any. */
static int fake_stat(void *userdata, const char *dir, char **names, Entry *entries, size_t n, Error *e) {
        FUZZ_ASSERT(n > 0 && n <= TREE_ORDER_CHUNK && names[n] == NULL);
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(names[i]);
                FUZZ_ASSERT(l > 0 && !strchr(names[i], '/'));
                char *p = path_join(dir, names[i]);
                FUZZ_ASSERT(p && strcmp(p, entries[i].path) == 0);
                free(p);
                unsigned char c = (unsigned char) names[i][l - 1];
                entries[i].kind = c % 3 == 0 ? ENTRY_KIND_FILE : c % 3 == 1 ? ENTRY_KIND_DIRECTORY : ENTRY_KIND_SYMLINK;
        }
        return 0;
}

/* Next in a depth-first walk by name: the last entry's first child, or a
 * later sibling of it or of one of its parents. */
static int check(void *userdata, Entry *en, Error *e) {
        Seen *s = userdata;
        FUZZ_ASSERT(en->path[0] == '/' && en->path[1]);
        FUZZ_ASSERT(!en->has_sha256 || en->kind == ENTRY_KIND_FILE);
        if (s->last) {
                char parent[8192];
                parent_of(en->path, parent, sizeof parent);
                size_t pl = strlen(parent);
                if (strcmp(parent, s->last) != 0) {
                        FUZZ_ASSERT(strncmp(s->last, parent, pl) == 0 && (pl == 1 || s->last[pl] == '/'));
                        size_t start = pl == 1 ? 1 : pl + 1;
                        const char *from = s->last + start, *mine = en->path + start;
                        size_t cl = strcspn(from, "/"), ml = strlen(mine);
                        int c = memcmp(from, mine, cl < ml ? cl : ml);
                        FUZZ_ASSERT(c < 0 || (c == 0 && cl < ml));
                }
        }
        free(s->last);
        s->last = strdup(en->path);
        FUZZ_ASSERT(s->last);
        s->n++;
        return 0;
}

static int file_of(const uint8_t *data, size_t size) {
        int fd = memfd_create("fuzz-list", MFD_CLOEXEC);
        FUZZ_ASSERT(fd >= 0);
        FUZZ_ASSERT(write(fd, data, size) == (ssize_t) size);
        return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *sep = memmem(data, size, "\n--\n", 4);
        size_t nlen = sep ? (size_t) (sep - data) : size;
        int names = file_of(data, nlen);
        int sums = file_of(sep ? sep + 4 : data, sep ? size - nlen - 4 : 0);
        int rn = memfd_create("fuzz-names", MFD_CLOEXEC), rs = memfd_create("fuzz-sums", MFD_CLOEXEC);
        FUZZ_ASSERT(rn >= 0 && rs >= 0);
        Error e = {};
        uint64_t n_names = 0, n_sums = 0, unmatched = 0;
        int r = tree_records_from_names(names, rn, &n_names, &e);
        if (r == 0)
                r = tree_records_from_sums(sums, rs, &n_sums, &e);
        if (r < 0)
                FUZZ_ASSERT(e.code == ERR_SCAN_FAILED);
        if (r == 0) {
                Seen s = {};
                TreeOrderOps ops = {.stat = fake_stat, .emit = check, .userdata = &s};
                r = tree_order_walk(rn, rs, &ops, &unmatched, &e);
                FUZZ_ASSERT(r == 0 || e.code == ERR_SCAN_FAILED);
                /* A walk that ends well hands out every name once. */
                if (r == 0)
                        FUZZ_ASSERT(s.n == n_names && unmatched <= n_sums);
                free(s.last);
        }
        close(names);
        close(sums);
        close(rn);
        close(rs);
        return 0;
}

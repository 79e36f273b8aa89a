#include "worker/tree-order.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "worker/tree-hash.h"

/* A record: u32 name length, u8 has_sha256, the 32 bytes of the SHA-256
 * when it has one, the name, a NUL. In the host's byte order: the file
 * never leaves the process that writes it. */
#define RECORD_HEAD 5
/* Longer than any path a kernel resolves (PATH_MAX is 4096) but find walks
 * deeper than that; past this the walk refuses the tree. */
#define RECORD_NAME_MAX (1U << 20)
#define WINDOW 65536

/* ---- the records ---- */

static FILE *reopen(int fd, const char *mode) {
        if (lseek(fd, 0, SEEK_SET) < 0)
                return NULL;
        int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        FILE *f = d >= 0 ? fdopen(d, mode) : NULL;
        if (!f && d >= 0)
                (void) close(d);
        return f;
}

static int put_record(FILE *out, const char *name, size_t len, const uint8_t *sha256, Error *e) {
        if (len > RECORD_NAME_MAX)
                return error_set(e, ERR_SCAN_FAILED, "a path of more than %u bytes in the file list", RECORD_NAME_MAX);
        uint8_t head[RECORD_HEAD];
        uint32_t l32 = (uint32_t) len;
        memcpy(head, &l32, 4);
        head[4] = sha256 != NULL;
        if (fwrite(head, 1, sizeof head, out) != sizeof head || (sha256 && fwrite(sha256, 1, 32, out) != 32) ||
            fwrite(name, 1, len + 1, out) != len + 1)
                return error_set(e, ERR_INTERNAL, "cannot write the file list: %m");
        return 0;
}

/* One item of a listing (NUL-terminated, its delimiter gone) into a record:
 * 1 written, 0 skipped, -1 with e set. */
typedef int (*ItemToRecord)(FILE *out, char *item, size_t len, Error *e);

static int name_record(FILE *out, char *name, size_t len, Error *e) {
        len = strnlen(name, len);
        if (len == 0)
                return 0;
        return put_record(out, name, len, NULL, e) < 0 ? -1 : 1;
}

static int sum_record(FILE *out, char *line, size_t len _unused_, Error *e) {
        uint8_t digest[32];
        const char *name = NULL;
        int r = checksum_line_parse(line, sizeof digest, &name, digest);
        if (r < 0)
                return error_set(e, ERR_SCAN_FAILED, "cannot parse the appliance's checksum list");
        /* "/etc/passwd" as find0 names it: "etc/passwd". */
        if (r == 0 || !name[1])
                return 0;
        return put_record(out, name + 1, strlen(name + 1), digest, e) < 0 ? -1 : 1;
}

/* Each item of in_fd (items end with delim) through fn into records_fd. */
static int to_records(int in_fd, int delim, ItemToRecord fn, int records_fd, uint64_t *ret_count, Error *e) {
        _cleanup_fclose_ FILE *in = reopen(in_fd, "r");
        _cleanup_fclose_ FILE *out = reopen(records_fd, "w");
        _cleanup_free_ char *item = NULL;
        size_t cap = 0;
        uint64_t n = 0;

        if (!in || !out)
                return error_set(e, ERR_INTERNAL, "cannot open a listing: %m");
        for (ssize_t k; (k = getdelim(&item, &cap, delim, in)) >= 0;) {
                if (k > 0 && item[k - 1] == delim)
                        item[--k] = 0;
                int r = fn(out, item, (size_t) k, e);
                if (r < 0)
                        return -1;
                n += (uint64_t) r;
        }
        if (ferror(in))
                return error_set(e, ERR_INTERNAL, "cannot read a listing: %m");
        if (fflush(out) != 0)
                return error_set(e, ERR_INTERNAL, "cannot write a listing's records: %m");
        *ret_count = n;
        return 0;
}

int tree_records_from_names(int names_fd, int records_fd, uint64_t *ret_count, Error *e) {
        return to_records(names_fd, 0, name_record, records_fd, ret_count, e);
}

int tree_records_from_sums(int sums_fd, int records_fd, uint64_t *ret_count, Error *e) {
        return to_records(sums_fd, '\n', sum_record, records_fd, ret_count, e);
}

/* ---- the walk ---- */

typedef struct Records {
        int fd;
        uint64_t size;
        char *buf;
        size_t cap;
        uint64_t win_off; /* what buf holds: [win_off, win_off + win_len) */
        size_t win_len;
} Records;

typedef struct Record {
        const char *name;
        size_t len;
        bool has_sha256;
        const uint8_t *sha256;
        uint64_t next; /* the following record's offset */
} Record;

/* Makes [off, off + n) of the file readable in buf. */
static int window(Records *r, uint64_t off, size_t n, Error *e) {
        if (off >= r->win_off && off + n <= r->win_off + r->win_len)
                return 0;
        if (off + n > r->size)
                return error_set(e, ERR_SCAN_FAILED, "the file list ends inside a record");
        size_t want = n > WINDOW ? n : WINDOW;
        if (want > r->size - off)
                want = (size_t) (r->size - off);
        if (want > r->cap) {
                char *b = realloc(r->buf, want);
                if (!b)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                r->buf = b;
                r->cap = want;
        }
        size_t got = 0;
        while (got < want) {
                ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t) (off + got));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return error_set(e, ERR_INTERNAL, "cannot read the file list: %s",
                                         k < 0 ? strerror(errno) : "short read");
                got += (size_t) k;
        }
        r->win_off = off;
        r->win_len = want;
        return 0;
}

/* The record at off, valid until the next call. */
static int record_at(Records *r, uint64_t off, Record *ret, Error *e) {
        if (window(r, off, RECORD_HEAD, e) < 0)
                return -1;
        const char *h = r->buf + (off - r->win_off);
        uint32_t len;
        memcpy(&len, h, 4);
        size_t digest = h[4] ? 32 : 0;
        if (len == 0 || len > RECORD_NAME_MAX || (uint8_t) h[4] > 1)
                return error_set(e, ERR_SCAN_FAILED, "a malformed record in the file list");
        size_t size = RECORD_HEAD + digest + len + 1;
        if (window(r, off, size, e) < 0)
                return -1;
        const char *p = r->buf + (off - r->win_off);
        if (p[size - 1] != 0)
                return error_set(e, ERR_SCAN_FAILED, "a malformed record in the file list");
        *ret = (Record){.name = p + RECORD_HEAD + digest, .len = len, .has_sha256 = digest != 0,
                        .sha256 = (const uint8_t *) p + RECORD_HEAD, .next = off + size};
        return 0;
}

typedef struct Child {
        char *name;
        uint64_t sub_start, sub_end; /* its subtree's names */
        uint64_t sums_start, sums_end; /* its subtree's checksum lines */
        bool has_sha256;
        uint8_t sha256[32];
} Child;

typedef struct Children {
        Child *v;
        size_t n, cap;
} Children;

typedef struct Walker {
        Records names, sums;
        const TreeOrderOps *ops;
        uint64_t unmatched;
} Walker;

static void children_done(Children *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i].name);
        free(c->v);
}

static int by_name(const void *x, const void *y) {
        return strcmp(((const Child *) x)->name, ((const Child *) y)->name);
}

static Child *find_child(const Children *c, const char *name, size_t len) {
        size_t lo = 0, hi = c->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const char *m = c->v[mid].name;
                int k = strncmp(m, name, len);
                if (k == 0)
                        k = m[len] == 0 ? 0 : 1;
                if (k == 0)
                        return &c->v[mid];
                if (k < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/* The children of the directory whose names are [start, end): each record
 * there is either a child (no '/' after the prefix) or below the child
 * before it. */
static int list_children(Records *r, const char *prefix, size_t plen, uint64_t start, uint64_t end, Children *c,
                         Error *e) {
        for (uint64_t off = start; off < end;) {
                Record rec = {};
                if (record_at(r, off, &rec, e) < 0)
                        return -1;
                if (rec.len <= plen || memcmp(rec.name, prefix, plen) != 0)
                        return error_set(e, ERR_SCAN_FAILED, "the file list is not in find's order (%s)", rec.name);
                const char *rest = rec.name + plen;
                const char *slash = strchr(rest, '/');
                if (slash) {
                        Child *last = c->n ? &c->v[c->n - 1] : NULL;
                        size_t ll = last ? strlen(last->name) : 0;
                        if (!last || (size_t) (slash - rest) != ll || memcmp(rest, last->name, ll) != 0)
                                return error_set(e, ERR_SCAN_FAILED, "the file list is not in find's order (%s)",
                                                 rec.name);
                        off = rec.next;
                        continue;
                }
                if (c->n == c->cap) {
                        size_t ncap = c->cap ? 2 * c->cap : 16;
                        Child *v = realloc(c->v, ncap * sizeof(Child));
                        if (!v)
                                return error_set(e, ERR_INTERNAL, "out of memory");
                        c->v = v;
                        c->cap = ncap;
                }
                if (c->n)
                        c->v[c->n - 1].sub_end = off;
                Child *ch = &c->v[c->n];
                *ch = (Child){.name = strdup(rest), .sub_start = rec.next, .sub_end = end};
                if (!ch->name)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                c->n++;
                off = rec.next;
        }
        if (c->n > 1)
                qsort(c->v, c->n, sizeof(Child), by_name);
        for (size_t i = 1; i < c->n; i++)
                if (strcmp(c->v[i - 1].name, c->v[i].name) == 0)
                        return error_set(e, ERR_SCAN_FAILED, "%s%s listed twice in the file list", prefix,
                                         c->v[i].name);
        return 0;
}

/* The checksum lines of the directory's subtree, [start, end): a line of a
 * child gives it its hash; the lines below a child are one run (find's
 * order again, whatever order its siblings came in), which becomes that
 * child's range. A line that fits nowhere is counted and left: its file is
 * hashed on its own. */
static int match_sums(Walker *w, const char *prefix, size_t plen, uint64_t start, uint64_t end, Children *c,
                      Error *e) {
        Child *run = NULL;      /* the child whose run is open */
        _cleanup_free_ char *skipping = NULL; /* a run that fits nowhere */

        for (uint64_t off = start; off < end;) {
                Record rec = {};
                if (record_at(&w->sums, off, &rec, e) < 0)
                        return -1;
                uint64_t here = off;
                off = rec.next;
                if (rec.len <= plen || memcmp(rec.name, prefix, plen) != 0) {
                        w->unmatched++;
                        continue;
                }
                const char *rest = rec.name + plen;
                const char *slash = strchr(rest, '/');
                size_t cl = slash ? (size_t) (slash - rest) : 0;
                if (slash && run && strlen(run->name) == cl && memcmp(run->name, rest, cl) == 0)
                        continue;
                if (slash && skipping && strlen(skipping) == cl && memcmp(skipping, rest, cl) == 0) {
                        w->unmatched++;
                        continue;
                }
                if (run)
                        run->sums_end = here;
                run = NULL;
                free(skipping);
                skipping = NULL;
                if (!slash) {
                        Child *ch = find_child(c, rest, strlen(rest));
                        if (!ch || ch->has_sha256 || !rec.has_sha256) {
                                w->unmatched++;
                                continue;
                        }
                        ch->has_sha256 = true;
                        memcpy(ch->sha256, rec.sha256, 32);
                        continue;
                }
                Child *ch = find_child(c, rest, cl);
                if (ch && ch->sums_end == 0) {
                        ch->sums_start = here;
                        run = ch;
                        continue;
                }
                w->unmatched++;
                if (!(skipping = strndup(rest, cl)))
                        return error_set(e, ERR_INTERNAL, "out of memory");
        }
        if (run)
                run->sums_end = end;
        return 0;
}

static int walk_dir(Walker *w, const char *dir, const Child *self, Error *e);

/* A chunk of a directory's children: stat them in one go, then hand each
 * out, each directory followed by its subtree. */
static int walk_chunk(Walker *w, const char *dir, const Child *ch, size_t n, Error *e) {
        const TreeOrderOps *ops = w->ops;
        Entry *entries = calloc(n, sizeof(Entry));
        char **names = calloc(n + 1, sizeof(char *));
        int k = entries && names ? 0 : error_set(e, ERR_INTERNAL, "out of memory");

        for (size_t i = 0; k == 0 && i < n; i++) {
                names[i] = ch[i].name;
                entries[i].path = path_join(dir, ch[i].name);
                if (!entries[i].path)
                        k = error_set(e, ERR_INTERNAL, "out of memory");
                entries[i].has_sha256 = ch[i].has_sha256;
                memcpy(entries[i].sha256, ch[i].sha256, 32);
        }
        if (k == 0)
                k = ops->stat(ops->userdata, dir, names, entries, n, e);
        /* A hash is a regular file's only. */
        for (size_t i = 0; k == 0 && i < n; i++)
                if (entries[i].kind != ENTRY_KIND_FILE)
                        entries[i].has_sha256 = false;
        for (size_t i = 0; k == 0 && i < n; i++) {
                k = ops->emit(ops->userdata, &entries[i], e);
                if (k < 0)
                        break;
                if (entries[i].kind == ENTRY_KIND_DIRECTORY)
                        k = walk_dir(w, entries[i].path, &ch[i], e);
                else if (ch[i].sub_start != ch[i].sub_end)
                        k = error_set(e, ERR_SCAN_FAILED, "the file list has names below %s, not a directory",
                                      entries[i].path);
        }
        for (size_t i = 0; entries && i < n; i++)
                entry_done(&entries[i]);
        free(entries);
        free(names);
        return k < 0 ? -1 : 0;
}

/* self: where dir's subtree lies in the two files. */
static int walk_dir(Walker *w, const char *dir, const Child *self, Error *e) {
        /* Records name "etc/passwd": below "/etc" they start "etc/". */
        _cleanup_free_ char *prefix = strcmp(dir, "/") == 0 ? strdup("") : path_join(dir + 1, "");
        Children c = {};
        int k = prefix ? list_children(&w->names, prefix, strlen(prefix), self->sub_start, self->sub_end, &c, e)
                       : error_set(e, ERR_INTERNAL, "out of memory");
        if (k == 0 && self->sums_start < self->sums_end)
                k = match_sums(w, prefix, strlen(prefix), self->sums_start, self->sums_end, &c, e);
        for (size_t i = 0; k == 0 && i < c.n; i += TREE_ORDER_CHUNK)
                k = walk_chunk(w, dir, c.v + i, c.n - i < TREE_ORDER_CHUNK ? c.n - i : TREE_ORDER_CHUNK, e);
        children_done(&c);
        return k < 0 ? -1 : 0;
}

static int records_open(Records *r, int fd, Error *e) {
        struct stat st;
        *r = (Records){.fd = fd};
        if (fd < 0)
                return 0;
        if (fstat(fd, &st) < 0)
                return error_set(e, ERR_INTERNAL, "cannot read the file list: %m");
        r->size = (uint64_t) st.st_size;
        return 0;
}

int tree_order_walk(int names_fd, int sums_fd, const TreeOrderOps *ops, uint64_t *ret_unmatched, Error *e) {
        Walker w = {.ops = ops};
        if (records_open(&w.names, names_fd, e) < 0 || records_open(&w.sums, sums_fd, e) < 0)
                return -1;
        Child root = {.sub_end = w.names.size, .sums_end = w.sums.size};
        int k = walk_dir(&w, "/", &root, e);
        free(w.names.buf);
        free(w.sums.buf);
        if (ret_unmatched)
                *ret_unmatched = w.unmatched;
        return k;
}

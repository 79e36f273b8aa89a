/* Unit tests of the appliance walk's ordering (tree-order.h): generated
 * trees listed in find's order with siblings shuffled as readdir leaves
 * them, their checksum listings in that same order (escaped names, lines
 * out of place, none at all), and listings out of find's order. Stat is
 * faked from the model; the appliance's part is test-cross-check's. */
#include "common/test-util.h"
#include "common/util.h"
#include "worker/tree-order.h"

typedef struct Node {
        char *path; /* "/a/b" */
        EntryKind kind;
        uint8_t sha256[32];
} Node;

typedef struct Model {
        Node *v;
        size_t n, cap;
} Model;

static unsigned seed = 20;

static unsigned rnd(unsigned n) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 16) % n;
}

static void model_add(Model *m, const char *path, EntryKind kind) {
        if (m->n == m->cap) {
                m->cap = m->cap ? 2 * m->cap : 64;
                m->v = must(realloc(m->v, m->cap * sizeof(Node)));
        }
        Node *n = &m->v[m->n++];
        *n = (Node){.path = must(strdup(path)), .kind = kind};
        for (size_t i = 0; i < 32; i++)
                n->sha256[i] = (uint8_t) rnd(256);
}

static void model_done(Model *m) {
        for (size_t i = 0; i < m->n; i++)
                free(m->v[i].path);
        free(m->v);
}

static int node_cmp(const void *x, const void *y) {
        return path_compare(((const Node *) x)->path, ((const Node *) y)->path);
}

static const Node *model_find(const Model *m, const char *path) {
        Node key = {.path = (char *) path};
        return bsearch(&key, m->v, m->n, sizeof(Node), node_cmp);
}

/* Names that sort differently by whole path and by component ("a" < "a b" <
 * "a.b" < "a0", but "a/x" comes right after "a"; "a\x01" too), and ones
 * sha256sum escapes. */
static const char *const NAMES[] = {"a",  "a\x01", "a b", "a.b", "a0", "b-", "back\\slash", "new\nline", "z",
                                    "Z", "\xc3\xa9"};

static void build(Model *m, const char *dir, int depth) {
        size_t n = 1 + rnd(depth == 0 ? 10 : 6);
        for (size_t i = 0; i < n; i++) {
                char path[4096];
                /* Most names bare, so that one is often another's prefix. */
                unsigned suffix = rnd(4);
                snprintf(path, sizeof path, "%s/%s%.*u", strcmp(dir, "/") == 0 ? "" : dir,
                         NAMES[rnd(sizeof NAMES / sizeof *NAMES)], suffix < 3 ? 0 : 1, suffix);
                if (model_find(m, path))
                        continue;
                unsigned k = rnd(10);
                EntryKind kind = depth < 4 && k < 3 ? ENTRY_KIND_DIRECTORY
                                 : k < 8 ? ENTRY_KIND_FILE
                                 : k < 9 ? ENTRY_KIND_SYMLINK
                                         : ENTRY_KIND_FIFO;
                model_add(m, path, kind);
                qsort(m->v, m->n, sizeof(Node), node_cmp);
                if (kind == ENTRY_KIND_DIRECTORY)
                        build(m, path, depth + 1);
        }
}

/* find's order: a directory, then its subtree; siblings shuffled. */
static void list_find_order(const Model *m, const char *dir, FILE *names, FILE *sums, bool escape) {
        size_t dl = strcmp(dir, "/") == 0 ? 0 : strlen(dir);
        size_t *kids = must(calloc(m->n + 1, sizeof(size_t))), n = 0;
        for (size_t i = 0; i < m->n; i++) {
                const char *p = m->v[i].path;
                if (strncmp(p, dir, dl) == 0 && p[dl] == '/' && p[dl + 1] && !strchr(p + dl + 1, '/'))
                        kids[n++] = i;
        }
        for (size_t i = n; i > 1; i--) {
                size_t j = rnd((unsigned) i), t = kids[i - 1];
                kids[i - 1] = kids[j];
                kids[j] = t;
        }
        for (size_t i = 0; i < n; i++) {
                const Node *nd = &m->v[kids[i]];
                if (names) {
                        fputs(nd->path + 1, names);
                        fputc(0, names);
                }
                if (nd->kind == ENTRY_KIND_FILE && sums) {
                        bool esc = escape && strpbrk(nd->path, "\\\n");
                        fputs(esc ? "\\" : "", sums);
                        for (size_t b = 0; b < 32; b++)
                                fprintf(sums, "%02x", nd->sha256[b]);
                        fputs("  .", sums);
                        for (const char *c = nd->path; *c; c++)
                                fputs(esc && *c == '\\' ? "\\\\" : esc && *c == '\n' ? "\\n" : (char[]) {*c, 0}, sums);
                        fputc('\n', sums);
                }
                if (nd->kind == ENTRY_KIND_DIRECTORY)
                        list_find_order(m, nd->path, names, sums, escape);
        }
        free(kids);
}

typedef struct Seen {
        const Model *model;
        Model out;
        uint8_t out_has[1 << 14];
        size_t stat_calls, max_chunk;
        const char *not_dir; /* stat calls this a regular file */
} Seen;

static int fake_stat(void *userdata, const char *dir, char **names, Entry *entries, size_t n, Error *e) {
        Seen *s = userdata;
        s->stat_calls++;
        if (n > s->max_chunk)
                s->max_chunk = n;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = path_join(dir, names[i]);
                CHECK(strcmp(p, entries[i].path) == 0);
                const Node *nd = model_find(s->model, entries[i].path);
                if (!nd)
                        return error_set(e, ERR_SCAN_FAILED, "no %s", entries[i].path);
                entries[i].kind = s->not_dir && strcmp(nd->path, s->not_dir) == 0 ? ENTRY_KIND_FILE : nd->kind;
        }
        return 0;
}

static int collect(void *userdata, Entry *en, Error *e _unused_) {
        Seen *s = userdata;
        model_add(&s->out, en->path, en->kind);
        if (en->has_sha256)
                memcpy(s->out.v[s->out.n - 1].sha256, en->sha256, 32);
        if (s->out.n <= sizeof s->out_has)
                s->out_has[s->out.n - 1] = en->has_sha256;
        return 0;
}

static int fd_of(FILE *f) {
        fflush(f);
        return fileno(f);
}

/* Names and checksum lines to records, then the walk. */
static int walk_text(FILE *names, FILE *sums, Seen *seen, uint64_t *unmatched, Error *e) {
        FILE *rn = must(tmpfile()), *rs = must(tmpfile());
        TreeOrderOps ops = {.stat = fake_stat, .emit = collect, .userdata = seen};
        uint64_t n = 0, ns = 0;
        int r = tree_records_from_names(fd_of(names), fd_of(rn), &n, e);
        if (r == 0 && sums)
                r = tree_records_from_sums(fd_of(sums), fd_of(rs), &ns, e);
        if (r == 0)
                r = tree_order_walk(fileno(rn), sums ? fileno(rs) : -1, &ops, unmatched, e);
        fclose(rn);
        fclose(rs);
        return r;
}

/* Lists the model (hashes when sums; siblings in another order than the
 * names'), walks; 0 or -1 with e set. */
static int run(const Model *m, bool sums, bool escape, Seen *seen, uint64_t *unmatched, Error *e) {
        FILE *names = must(tmpfile()), *list = must(tmpfile());
        list_find_order(m, "/", names, NULL, escape);
        if (sums)
                list_find_order(m, "/", NULL, list, escape);
        *seen = (Seen){.model = m};
        int r = walk_text(names, sums ? list : NULL, seen, unmatched, e);
        fclose(names);
        fclose(list);
        return r;
}

static void check_walk(const Model *m, const Seen *s, bool hashes) {
        /* Every node once, in path order, with its kind and its hash. */
        CHECK(s->out.n == m->n);
        for (size_t i = 0; i < s->out.n && i < m->n; i++) {
                CHECK(strcmp(s->out.v[i].path, m->v[i].path) == 0);
                CHECK(s->out.v[i].kind == m->v[i].kind);
                bool file = m->v[i].kind == ENTRY_KIND_FILE;
                CHECK(s->out_has[i] == (hashes && file));
                if (hashes && file)
                        CHECK(memcmp(s->out.v[i].sha256, m->v[i].sha256, 32) == 0);
        }
        CHECK(s->max_chunk <= TREE_ORDER_CHUNK);
}

static void test_generated_trees(void) {
        for (int round = 0; round < 20; round++) {
                Model m = {};
                build(&m, "/", 0);
                Seen s;
                uint64_t unmatched = 1;
                Error e = {};
                CHECK(run(&m, true, true, &s, &unmatched, &e) == 0);
                CHECK(unmatched == 0);
                check_walk(&m, &s, true);
                model_done(&s.out);
                /* No listing (the bulk call failed): no hashes, same order. */
                CHECK(run(&m, false, false, &s, &unmatched, &e) == 0);
                check_walk(&m, &s, false);
                model_done(&s.out);
                model_done(&m);
        }
}

static void test_big_directory(void) {
        Model m = {};
        char path[64];
        for (int i = 0; i < 3000; i++) {
                snprintf(path, sizeof path, "/d/f%05d", (i * 7919) % 3000);
                model_add(&m, path, ENTRY_KIND_FILE);
        }
        model_add(&m, "/d", ENTRY_KIND_DIRECTORY);
        qsort(m.v, m.n, sizeof(Node), node_cmp);
        Seen s;
        uint64_t unmatched = 1;
        Error e = {};
        CHECK(run(&m, true, false, &s, &unmatched, &e) == 0);
        CHECK(unmatched == 0);
        check_walk(&m, &s, true);
        /* "/" once, "/d" in three chunks. */
        CHECK(s.stat_calls == 4);
        model_done(&s.out);
        model_done(&m);
}

static int walk_strings(const char *names, size_t nlen, const char *sums, Seen *s, const Model *m,
                        uint64_t *unmatched, Error *e) {
        FILE *fn = must(tmpfile()), *fs = must(tmpfile());
        fwrite(names, 1, nlen, fn);
        fputs(sums, fs);
        *s = (Seen){.model = m};
        int r = walk_text(fn, fs, s, unmatched, e);
        fclose(fn);
        fclose(fs);
        return r;
}

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define NAMES_AB "d\0d/x\0d/y\0e\0"

static Model small_model(void) {
        Model m = {};
        model_add(&m, "/d", ENTRY_KIND_DIRECTORY);
        model_add(&m, "/d/x", ENTRY_KIND_FILE);
        model_add(&m, "/d/y", ENTRY_KIND_FILE);
        model_add(&m, "/e", ENTRY_KIND_FILE);
        qsort(m.v, m.n, sizeof(Node), node_cmp);
        return m;
}

static void test_listing_lines(void) {
        Model m = small_model();
        Seen s;
        uint64_t unmatched = 0;
        Error e = {};
        /* Siblings in another order than find0's: every file matched. */
        CHECK(walk_strings(NAMES_AB, sizeof NAMES_AB - 1, H1 "  ./e\n" H2 "  ./d/y\n" H1 "  ./d/x\n", &s, &m,
                           &unmatched, &e) == 0);
        CHECK(unmatched == 0 && s.out.n == 4 && s.out_has[1] && s.out_has[2] && s.out_has[3]);
        CHECK(s.out.v[1].sha256[0] == 0x11 && s.out.v[2].sha256[0] == 0x22);
        model_done(&s.out);
        /* A subtree split in two runs: the second run fits nowhere; a line
         * for no file, one twice: counted, left. One for a directory gives
         * it no hash. */
        CHECK(walk_strings(NAMES_AB, sizeof NAMES_AB - 1,
                           H1 "  ./d/x\n" H1 "  ./e\n" H2 "  ./d/y\n" H1 "  ./nowhere\n" H2 "  ./e\n" H1 "  ./d\n",
                           &s, &m, &unmatched, &e) == 0);
        CHECK(unmatched == 3 && s.out.n == 4);
        CHECK(!s.out_has[0] && s.out_has[1] && !s.out_has[2] && s.out_has[3]);
        CHECK(s.out.v[3].sha256[0] == 0x11);
        model_done(&s.out);
        /* An empty filesystem's "-" line, blank lines: nothing to match. */
        CHECK(walk_strings("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  -\n\n", &s,
                           &m, &unmatched, &e) == 0);
        CHECK(unmatched == 0 && s.out.n == 0);
        model_done(&s.out);
        /* A malformed line is refused by name. */
        CHECK(walk_strings(NAMES_AB, sizeof NAMES_AB - 1, "zz  ./d/x\n", &s, &m, &unmatched, &e) < 0);
        CHECK(e.code == ERR_SCAN_FAILED);
        model_done(&s.out);
        model_done(&m);
}

static void test_not_find_order(void) {
        Model m = small_model();
        Seen s;
        static const struct {
                const char *names;
                size_t len;
        } bad[] = {
                {"d/x\0d\0", 6},                 /* a child before its directory */
                {"d\0e\0d/x\0", 8},              /* a subtree split */
                {"d\0d/x\0d/x\0", 10},           /* a name twice */
                {"e\0e\0", 4},                   /* twice at the top */
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                Error e = {};
                uint64_t unmatched = 0;
                CHECK(walk_strings(bad[i].names, bad[i].len, "", &s, &m, &unmatched, &e) < 0);
                CHECK(e.code == ERR_SCAN_FAILED);
                model_done(&s.out);
        }
        /* Names below what stat calls a regular file. */
        FILE *fn = must(tmpfile()), *fs = must(tmpfile());
        fwrite(NAMES_AB, 1, sizeof NAMES_AB - 1, fn);
        s = (Seen){.model = &m, .not_dir = "/d"};
        Error e = {};
        uint64_t unmatched = 0;
        CHECK(walk_text(fn, fs, &s, &unmatched, &e) < 0 && e.code == ERR_SCAN_FAILED);
        fclose(fn);
        fclose(fs);
        model_done(&s.out);
        model_done(&m);
}

int main(void) {
        test_generated_trees();
        test_big_directory();
        test_listing_lines();
        test_not_find_order();
        return test_report();
}

/* Unit tests of the way manifests and frames travel from a worker process
 * to the daemon: a round trip keeps every field, and no truncation, byte
 * flip or hostile count makes the decoder crash, over-allocate or accept
 * what the comparer could not rely on. */
#include <sys/socket.h>

#include "manifest/manifest-wire.h"
#include "manifest/test-manifest-util.h"

static Manifest *rich_manifest(void) {
        Manifest *m = base_manifest();
        m->os_product = must(strdup("Debian GNU/Linux 12"));
        Filesystem *f = fs_make(m, "/dev/sdb1", "xfs", NULL, NULL);
        f->label = must(strdup("data"));
        f = fs_make(m, "/dev/sdc1", "unknown", NULL, NULL);
        f->scanned = false;
        f->error = must(strdup("mount: wrong fs type"));
        Tree *t = must(manifest_add_tree(m, "/dev/sdb1"));
        entry_make(t, "/", ENTRY_KIND_DIRECTORY)->fs = 1;
        Entry *e = entry_make(t, "/caf\xe9\nname", ENTRY_KIND_FILE);
        e->fs = 1;
        e->size = UINT64_MAX;
        e->mtime_ns = INT64_MIN;
        e->uid = UINT32_MAX;
        entry_add_xattr(e, "user.a", "1");
        e->xattrs = must(reallocarray(e->xattrs, 2, sizeof(Xattr)));
        uint8_t *bin = must(malloc(3));
        memcpy(bin, "\0\1\2", 3);
        e->xattrs[e->n_xattrs++] = (Xattr) {.name = must(strdup("user.b")), .value = bin, .len = 3};
        Entry *l = entry_make(t, "/link", ENTRY_KIND_SYMLINK);
        l->fs = 1;
        manifest_sort(m);
        return m;
}

static bool str_eq(const char *a, const char *b) {
        return streq_ptr(a, b);
}

static bool entries_equal(const Entry *a, const Entry *b) {
        if (!str_eq(a->path, b->path) || a->fs != b->fs || a->kind != b->kind || a->mode != b->mode ||
            a->uid != b->uid || a->gid != b->gid || a->size != b->size || a->atime_ns != b->atime_ns ||
            a->mtime_ns != b->mtime_ns || a->ctime_ns != b->ctime_ns || a->nlink != b->nlink || a->ino != b->ino ||
            a->dev != b->dev || a->rdev != b->rdev || a->blocks != b->blocks || a->blksize != b->blksize ||
            !str_eq(a->target, b->target) || a->n_xattrs != b->n_xattrs || a->has_sha256 != b->has_sha256 ||
            (a->has_sha256 && memcmp(a->sha256, b->sha256, 32) != 0))
                return false;
        for (size_t i = 0; i < a->n_xattrs; i++)
                if (!str_eq(a->xattrs[i].name, b->xattrs[i].name) || a->xattrs[i].len != b->xattrs[i].len ||
                    memcmp(a->xattrs[i].value, b->xattrs[i].value, a->xattrs[i].len) != 0)
                        return false;
        return true;
}

static bool manifests_equal(const Manifest *a, const Manifest *b) {
        if (a->inspected != b->inspected || !str_eq(a->os_product, b->os_product) ||
            a->n_filesystems != b->n_filesystems || a->n_trees != b->n_trees)
                return false;
        for (size_t i = 0; i < a->n_filesystems; i++) {
                const Filesystem *x = &a->filesystems[i], *y = &b->filesystems[i];
                if (!str_eq(x->device, y->device) || !str_eq(x->type, y->type) || !str_eq(x->uuid, y->uuid) ||
                    !str_eq(x->label, y->label) || x->size != y->size || !str_eq(x->mountpoint, y->mountpoint) ||
                    x->scanned != y->scanned || !str_eq(x->error, y->error))
                        return false;
        }
        for (size_t i = 0; i < a->n_trees; i++) {
                if (!str_eq(a->trees[i].key, b->trees[i].key) || a->trees[i].n_entries != b->trees[i].n_entries)
                        return false;
                for (size_t k = 0; k < a->trees[i].n_entries; k++)
                        if (!entries_equal(&a->trees[i].entries[k], &b->trees[i].entries[k]))
                                return false;
        }
        return true;
}

static void test_round_trip(void) {
        _cleanup_manifest_ Manifest *m = rich_manifest(), *back = NULL;
        _cleanup_wire_buf_ WireBuf b = {};
        Error e = {};

        manifest_encode(m, &b);
        CHECK(!b.failed && b.len > 0);
        CHECK(manifest_decode(b.data, b.len, &back, &e) == 0 && e.code == ERR_OK);
        CHECK(back && manifests_equal(m, back));

        /* An empty manifest travels too. */
        _cleanup_manifest_ Manifest *empty = must(manifest_new()), *empty_back = NULL;
        _cleanup_wire_buf_ WireBuf eb = {};
        manifest_encode(empty, &eb);
        CHECK(manifest_decode(eb.data, eb.len, &empty_back, &e) == 0 && manifests_equal(empty, empty_back));
}

/* Every prefix of a valid encoding is refused, and so is one extra byte. */
static void test_truncations(void) {
        _cleanup_manifest_ Manifest *m = rich_manifest();
        _cleanup_wire_buf_ WireBuf b = {};
        manifest_encode(m, &b);
        unsigned accepted = 0, wrong_error = 0;

        for (size_t len = 0; len < b.len; len++) {
                Manifest *back = NULL;
                Error e = {};
                if (manifest_decode(b.data, len, &back, &e) == 0) {
                        accepted++;
                        manifest_free(back);
                } else if (e.code != ERR_SCAN_FAILED)
                        wrong_error++;
        }
        CHECK(accepted == 0);
        CHECK(wrong_error == 0);

        uint8_t *longer = must(malloc(b.len + 1));
        memcpy(longer, b.data, b.len);
        longer[b.len] = 0;
        Manifest *back = NULL;
        Error e = {};
        CHECK(manifest_decode(longer, b.len + 1, &back, &e) < 0 && strstr(e.message, "trailing"));
        free(longer);
}

/* Each byte flipped in turn: decoded or refused, never a crash (the ASan
 * build runs this too); what is accepted is still in order. */
static void test_byte_flips(void) {
        _cleanup_manifest_ Manifest *m = rich_manifest();
        _cleanup_wire_buf_ WireBuf b = {};
        manifest_encode(m, &b);
        unsigned disordered = 0;

        for (size_t i = 0; i < b.len; i++)
                for (unsigned x = 1; x < 256; x <<= 1) {
                        b.data[i] ^= (uint8_t) x;
                        Manifest *back = NULL;
                        Error e = {};
                        if (manifest_decode(b.data, b.len, &back, &e) == 0) {
                                for (size_t t = 0; t < back->n_trees; t++)
                                        for (size_t k = 1; k < back->trees[t].n_entries; k++)
                                                if (path_compare(back->trees[t].entries[k - 1].path,
                                                                 back->trees[t].entries[k].path) >= 0)
                                                        disordered++;
                                manifest_free(back);
                        }
                        b.data[i] ^= (uint8_t) x;
                }
        CHECK(disordered == 0);
}

/* Counts that the bytes present could not hold, an entry on a filesystem
 * that does not exist, paths out of order: refused by name. */
static void test_hostile(void) {
        Error e = {};
        Manifest *back = NULL;

        _cleanup_wire_buf_ WireBuf head = {}, huge = {};
        wire_put_u8(&head, 1);           /* the head part */
        wire_put_u32(&head, 2);          /* version */
        wire_put_u8(&head, 0);           /* not inspected */
        wire_put_u8(&head, 0);           /* no product */
        wire_put_u32(&head, UINT32_MAX); /* filesystems */
        wire_put_bytes(&huge, head.data, head.len);
        CHECK(manifest_decode(huge.data, huge.len, &back, &e) < 0 && strstr(e.message, "filesystem count"));

        _cleanup_manifest_ Manifest *m = base_manifest();
        m->trees[0].entries[1].fs = 7;
        _cleanup_wire_buf_ WireBuf bad_fs = {};
        manifest_encode(m, &bad_fs);
        e = (Error) {};
        CHECK(manifest_decode(bad_fs.data, bad_fs.len, &back, &e) < 0 && strstr(e.message, "filesystem"));
        m->trees[0].entries[1].fs = 0;

        Entry tmp = m->trees[0].entries[1];
        m->trees[0].entries[1] = m->trees[0].entries[2];
        m->trees[0].entries[2] = tmp;
        _cleanup_wire_buf_ WireBuf disorder = {};
        manifest_encode(m, &disorder);
        e = (Error) {};
        CHECK(manifest_decode(disorder.data, disorder.len, &back, &e) < 0 && strstr(e.message, "out of order"));

        e = (Error) {};
        CHECK(manifest_decode(NULL, 0, &back, &e) < 0 && e.code == ERR_SCAN_FAILED);
}

/* A sink that counts, and fails on request. */
typedef struct Counting {
        size_t heads, trees, batches, entries, ends;
        size_t fail_at_entries;
} Counting;

static int c_head(void *u, const Manifest *m _unused_, Error *e _unused_) {
        ((Counting *) u)->heads++;
        return 0;
}
static int c_tree(void *u, const char *key _unused_, Error *e _unused_) {
        ((Counting *) u)->trees++;
        return 0;
}
static int c_entries(void *u, const Entry *en _unused_, size_t n, Error *e) {
        Counting *c = u;
        c->batches++;
        c->entries += n;
        if (c->fail_at_entries && c->entries >= c->fail_at_entries)
                return error_set(e, ERR_INTERNAL, "the sink is full");
        return 0;
}
static int c_end(void *u, Error *e _unused_) {
        ((Counting *) u)->ends++;
        return 0;
}

static int collect_part(void *userdata, const WireBuf *part) {
        WireBuf *parts = userdata;
        wire_put_bytes(parts, part->data, part->len);
        return 0;
}

/* A large tree goes as many bounded parts, fed one at a time; the order is
 * checked across parts, the totals at the end, and a sink's error stops
 * the stream with that error. */
static void test_parts(void) {
        _cleanup_manifest_ Manifest *m = base_manifest();
        char path[32];
        for (unsigned i = 0; i < 3000; i++) {
                snprintf(path, sizeof path, "/srv/f%05u", i);
                entry_make(&m->trees[0], path, ENTRY_KIND_FILE);
        }
        manifest_sort(m);
        size_t total = m->trees[0].n_entries;

        _cleanup_wire_buf_ WireBuf parts = {};
        ManifestEncoder enc = {.emit = collect_part, .userdata = &parts};
        ManifestSink es = manifest_encoder_sink(&enc);
        Error e = {};
        CHECK(manifest_play(m, &es, &e) == 0);
        manifest_encoder_done(&enc);

        Counting c = {};
        ManifestSink cs = {.head = c_head, .tree = c_tree, .entries = c_entries, .end = c_end, .userdata = &c};
        ManifestDecoder *d = must(manifest_decoder_new(&cs));
        WireReader r = {.p = parts.data, .left = parts.len};
        size_t n_parts = 0, biggest = 0;
        int k = 0;
        while (k == 0 && r.left) {
                size_t n = 0;
                uint8_t *p = wire_get_bytes(&r, &n);
                k = p ? manifest_decoder_part(d, p, n, &e) : -1;
                n_parts++;
                biggest = n > biggest ? n : biggest;
                free(p);
        }
        manifest_decoder_free(d);
        CHECK(k == 1 && r.left == 0);
        CHECK(c.heads == 1 && c.trees == 1 && c.ends == 1 && c.entries == total);
        CHECK(c.batches == (total + MANIFEST_BATCH_ENTRIES - 1) / MANIFEST_BATCH_ENTRIES);
        CHECK(n_parts == 3 + c.batches && biggest < MANIFEST_BATCH_BYTES + 4096);

        /* The same parts with two ENTRIES parts swapped: out of order. */
        WireReader r2 = {.p = parts.data, .left = parts.len};
        uint8_t *list[16] = {};
        size_t lens[16], n_list = 0;
        while (r2.left && n_list < 16) {
                list[n_list] = wire_get_bytes(&r2, &lens[n_list]);
                n_list++;
        }
        CHECK(n_list == n_parts);
        c = (Counting) {};
        d = must(manifest_decoder_new(&cs));
        e = (Error) {};
        k = 0;
        for (size_t i = 0; i < n_list && k == 0; i++) {
                size_t at = i == 2 ? 3 : i == 3 ? 2 : i;
                k = manifest_decoder_part(d, list[at], lens[at], &e);
        }
        CHECK(k < 0 && e.code == ERR_SCAN_FAILED && strstr(e.message, "out of order"));
        manifest_decoder_free(d);

        /* Without its END part the stream is not whole; with a wrong count
         * it is refused. */
        c = (Counting) {};
        d = must(manifest_decoder_new(&cs));
        e = (Error) {};
        k = 0;
        for (size_t i = 0; i + 1 < n_list && k == 0; i++)
                k = manifest_decoder_part(d, list[i], lens[i], &e);
        CHECK(k == 0 && c.ends == 0);
        list[n_list - 1][1] ^= 1; /* the tree count */
        CHECK(manifest_decoder_part(d, list[n_list - 1], lens[n_list - 1], &e) < 0 && strstr(e.message, "counts"));
        manifest_decoder_free(d);

        /* A sink's own error is what the decoder returns. */
        c = (Counting) {.fail_at_entries = 2000};
        d = must(manifest_decoder_new(&cs));
        e = (Error) {};
        k = 0;
        for (size_t i = 0; i < n_list && k == 0; i++)
                k = manifest_decoder_part(d, list[i], lens[i], &e);
        CHECK(k < 0 && e.code == ERR_INTERNAL && strstr(e.message, "full"));
        manifest_decoder_free(d);
        for (size_t i = 0; i < n_list; i++)
                free(list[i]);
}

/* Frames over a socket: what is sent arrives whole; a frame over the
 * reader's limit and an end of file inside a frame are named. */
static void test_frames(void) {
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);

        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_str(&b, "hello");
        wire_put_u64(&b, 42);
        CHECK(wire_send(sv[0], 7, &b) == 0);
        CHECK(wire_send(sv[0], 8, NULL) == 0);

        uint8_t type = 0, *p = NULL;
        size_t len = 0;
        CHECK(wire_recv(sv[1], 1024, &type, &p, &len) == 0 && type == 7 && len == b.len);
        WireReader r = {.p = p, .left = len};
        char *s = wire_get_str(&r);
        CHECK(s && strcmp(s, "hello") == 0 && wire_get_u64(&r) == 42 && !r.failed && r.left == 0);
        free(s);
        free(p);
        CHECK(wire_recv(sv[1], 1024, &type, &p, &len) == 0 && type == 8 && len == 0);
        free(p);

        CHECK(wire_send(sv[0], 9, &b) == 0);
        CHECK(wire_recv(sv[1], 4, &type, &p, &len) == -EMSGSIZE);

        /* Half a frame, then the writer goes. */
        int sv2[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv2) == 0);
        uint8_t head[7] = {10, 0, 0, 0, 1, 'a', 'b'};
        CHECK(write(sv2[0], head, sizeof head) == (ssize_t) sizeof head);
        close(sv2[0]);
        CHECK(wire_recv(sv2[1], 1024, &type, &p, &len) == -ECONNRESET);
        CHECK(wire_recv(sv2[1], 1024, &type, &p, &len) == -ECONNRESET);
        close(sv2[1]);

        /* Sending to a closed peer says so, without SIGPIPE. */
        close(sv[1]);
        CHECK(wire_send(sv[0], 1, &b) == -EPIPE);
        close(sv[0]);

        /* A string with a NUL inside is not a string. */
        _cleanup_wire_buf_ WireBuf nul = {};
        wire_put_bytes(&nul, "a\0b", 3);
        WireReader nr = {.p = nul.data, .left = nul.len};
        CHECK(wire_get_str(&nr) == NULL && nr.failed);
}

int main(void) {
        test_round_trip();
        test_truncations();
        test_byte_flips();
        test_hostile();
        test_parts();
        test_frames();
        return test_report();
}

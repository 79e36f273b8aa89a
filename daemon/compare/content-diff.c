#include "compare/content-diff.h"

#include <fcntl.h>
#include <openssl/evp.h>

#include "appliance/appliance.h"
#include "common/run-dir.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/subprocess.h"

static const char *const checksum_algorithms[] = {
        "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "crc", NULL,
};

void content_options_done(ContentOptions *o) {
        free(o->checksum);
        *o = (ContentOptions) {};
}

bool content_options_wanted(const ContentOptions *o) {
        return o->unified || o->checksum;
}

int content_checksum_check(const char *algorithm) {
        for (size_t i = 0; checksum_algorithms[i]; i++)
                if (streq_ptr(algorithm, checksum_algorithms[i]))
                        return 0;
        return -EINVAL;
}

void content_notes_free(ContentNote *notes, size_t n) {
        for (size_t i = 0; notes && i < n; i++) {
                free(notes[i].diff);
                free(notes[i].checksum[0]);
                free(notes[i].checksum[1]);
        }
        free(notes);
}

/* One file to read on one side. */
typedef struct Item {
        size_t change;
        int side;
        const Entry *entry;
        const char *tree;
        bool want_data, want_checksum;
} Item;

/* What a side's run keeps: the handle and which tree is mounted. */
typedef struct Reader {
        Appliance *a;
        const Manifest *m;
        const char *mounted; /* tree key, or NULL */
} Reader;

typedef struct Run {
        const DiffResult *r;
        const ContentOptions *o;
        Store *store;
        unsigned unreadable;
        ContentHandleFn handle;
        void *userdata;
        const ProgressSink *progress;
        ContentNote *notes;
        void *(*data)[2]; /* per change, the bytes of each side */
        size_t (*len)[2];
} Run;

static bool is_file(const Entry *e) {
        return e && e->kind == ENTRY_KIND_FILE && e->has_sha256;
}

/* Which changes want what, and which of those the store already answers. */
static int plan(Run *run, Item **ret, size_t *ret_n) {
        const DiffResult *r = run->r;
        _cleanup_free_ Item *items = calloc(r->n_changes * 2 + 1, sizeof(Item));
        size_t n = 0;

        if (!items)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_changes; i++) {
                const Change *c = &r->changes[i];
                bool diff = run->o->unified && c->change == CHANGE_MODIFIED && (c->fields & FIELD_CONTENT) &&
                            is_file(c->a) && is_file(c->b);

                if (diff && (c->a->size > STORE_CONTENT_MAX || c->b->size > STORE_CONTENT_MAX)) {
                        run->notes[i].omitted = "larger than 1 MiB";
                        diff = false;
                }
                for (int s = 0; s < 2; s++) {
                        const Entry *e = s ? c->b : c->a;
                        Item it = {.change = i, .side = s, .entry = e, .tree = c->tree};

                        if (!is_file(e))
                                continue;
                        if (diff) {
                                int k = store_load_content(run->store, e->sha256, &run->data[i][s], &run->len[i][s]);
                                if (k < 0)
                                        log_error("Cannot read a cached content: %s", strerror(-k));
                                it.want_data = k <= 0;
                                if (it.want_data && (run->unreadable & (1u << s))) {
                                        run->notes[i].omitted = "a side is an exported manifest, and this content "
                                                                "is not in the cache";
                                        it.want_data = false;
                                }
                        }
                        if (run->o->checksum) {
                                if (streq_ptr(run->o->checksum, "sha256"))
                                        run->notes[i].checksum[s] = hexmem(e->sha256, sizeof e->sha256);
                                else if (store_load_checksum(run->store, e->sha256, run->o->checksum,
                                                             &run->notes[i].checksum[s]) <= 0)
                                        it.want_checksum = !(run->unreadable & (1u << s));
                        }
                        if (it.want_data || it.want_checksum)
                                items[n++] = it;
                }
        }
        *ret = TAKE_PTR(items);
        *ret_n = n;
        return 0;
}

/* Mounts a tree read-only as the scanner saw it: the inspected OS's
 * filesystems at their mount points (shortest first), or one filesystem
 * on its own at "/". */
/* A call's error, said about what it was for. A worker that died stays
 * WorkerCrashed; any other failure of the call is ScanFailed. */
static int call_failed(Error *e, const Error *call, const char *what, const char *path) {
        ErrorCode code = call->code == ERR_WORKER_CRASHED || call->code == ERR_APPLIANCE_FAILED ? call->code
                                                                                             : ERR_SCAN_FAILED;
        return error_set(e, code, "cannot %s %s: %s", what, path, call->message);
}

static int mount_tree(Reader *rd, const char *tree, Error *e) {
        Error ce = {};

        if (streq_ptr(rd->mounted, tree))
                return 0;
        if (rd->mounted && appliance_umount_all(rd->a, &ce) < 0)
                return call_failed(e, &ce, "unmount", rd->mounted);
        rd->mounted = NULL;

        if (strcmp(tree, "/") != 0) {
                if (appliance_mount_ro(rd->a, tree, "/", &ce) < 0)
                        return call_failed(e, &ce, "mount", tree);
        } else {
                _cleanup_free_ bool *done = calloc(rd->m->n_filesystems + 1, sizeof(bool));
                if (!done)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                for (;;) {
                        const Filesystem *next = NULL;
                        size_t at = 0;
                        for (size_t i = 0; i < rd->m->n_filesystems; i++) {
                                const Filesystem *f = &rd->m->filesystems[i];
                                if (done[i] || !f->scanned || !f->mountpoint)
                                        continue;
                                if (!next || strlen(f->mountpoint) < strlen(next->mountpoint)) {
                                        next = f;
                                        at = i;
                                }
                        }
                        if (!next)
                                break;
                        done[at] = true;
                        ce = (Error) {};
                        /* One that fails leaves its mount point's files
                         * unreadable, unless it is the root or the worker
                         * itself went. */
                        if (appliance_mount_ro(rd->a, next->device, next->mountpoint, &ce) < 0 &&
                            (strcmp(next->mountpoint, "/") == 0 || ce.code == ERR_WORKER_CRASHED ||
                             ce.code == ERR_APPLIANCE_FAILED))
                                return call_failed(e, &ce, "mount", next->device);
                }
        }
        rd->mounted = tree;
        return 0;
}

static bool sha256_is(const void *data, size_t len, const uint8_t want[32]) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        return EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) == 1 && n == 32 && memcmp(md, want, 32) == 0;
}

static int read_item(Run *run, Reader *rd, const Item *it, Error *e) {
        const Entry *en = it->entry;
        Error ce = {};

        if (mount_tree(rd, it->tree, e) < 0)
                return -1;
        if (it->want_data) {
                size_t len = 0;
                char *data = NULL;
                if (appliance_read_file(rd->a, en->path, &data, &len, &ce) < 0)
                        return call_failed(e, &ce, "read", en->path);
                /* Only what the manifest describes goes in a diff or the store. */
                if (!sha256_is(data, len, en->sha256)) {
                        free(data);
                        return error_set(e, ERR_SCAN_FAILED, "%s changed since it was scanned", en->path);
                }
                int k = store_save_content(run->store, en->sha256, data, len);
                if (k < 0 && k != -EINVAL)
                        log_error("Cannot cache the content of %s: %s", en->path, strerror(-k));
                run->data[it->change][it->side] = data;
                run->len[it->change][it->side] = len;
                progress_bytes(run->progress, len, 0);
        }
        if (it->want_checksum) {
                char *v = NULL;
                if (appliance_checksum(rd->a, run->o->checksum, en->path, &v, &ce) < 0)
                        return call_failed(e, &ce, "checksum", en->path);
                (void) store_save_checksum(run->store, en->sha256, run->o->checksum, v);
                run->notes[it->change].checksum[it->side] = v;
        }
        progress_files(run->progress, 1, 0);
        return 0;
}

static int compare_items(const void *x, const void *y) {
        const Item *a = x, *b = y;
        if (a->side != b->side)
                return a->side - b->side;
        int c = strcmp(a->tree, b->tree);
        return c ? c : (a->change > b->change) - (a->change < b->change);
}

static int fetch(Run *run, Item *items, size_t n, Error *e) {
        qsort(items, n, sizeof(Item), compare_items);
        progress_files(run->progress, 0, n);

        for (int s = 0; s < 2; s++) {
                Reader rd = {.m = s ? run->r->b : run->r->a};
                int k = 0;

                for (size_t i = 0; i < n && k >= 0; i++) {
                        if (items[i].side != s)
                                continue;
                        if (progress_cancelled(run->progress))
                                return error_set(e, ERR_CANCELLED, "cancelled");
                        if (!rd.a) {
                                rd.a = run->handle(run->userdata, s, e);
                                if (!rd.a)
                                        return -1;
                                progress_phase(run->progress, PHASE_WRITE);
                        }
                        k = read_item(run, &rd, &items[i], e);
                }
                if (rd.a && rd.mounted && k >= 0)
                        k = appliance_umount_all(rd.a, e);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, char **ret) {
        _cleanup_free_ char *path = path_join(dir, name);
        if (!path)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < len;) {
                ssize_t w = write(fd, (const char *) data + done, len - done);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return w < 0 ? -errno : -EIO;
                done += (size_t) w;
        }
        *ret = TAKE_PTR(path);
        return 0;
}

/* "a/PATH", C-quoted like git does when the name holds a newline, a quote,
 * a backslash or bytes that are not UTF-8, so the header stays one line. */
static char *diff_label(char side, const char *path) {
        _cleanup_free_ char *plain = NULL;
        if (asprintf(&plain, "%c%s", side, path) < 0)
                return NULL;
        return quote_bytes(plain, strlen(plain));
}

/* GNU diff -u, labelled a/PATH and b/PATH like git does. */
static int diff_one(const char *dir, const Change *c, const void *da, size_t la, const void *db, size_t lb,
                    ContentNote *note) {
        _cleanup_free_ char *pa = NULL, *pb = NULL, *label_a = NULL, *label_b = NULL;
        SpawnResult res = {};
        int k;

        if (memchr(da, 0, la) || memchr(db, 0, lb)) {
                note->binary = true;
                return 0;
        }
        k = write_file(dir, "a", da, la, &pa);
        if (k >= 0)
                k = write_file(dir, "b", db, lb, &pb);
        if (k < 0)
                return k;
        label_a = diff_label('a', c->a->path);
        label_b = diff_label('b', c->b->path);
        if (!label_a || !label_b)
                return -ENOMEM;

        char *argv[] = {(char *) "diff", (char *) "-u", (char *) "--label", label_a, (char *) "--label", label_b,
                        pa, pb, NULL};
        k = spawn_capture(argv, 60ULL * 1000000ULL, CONTENT_DIFF_MAX + 1, &res);
        (void) unlink(pa);
        (void) unlink(pb);
        if (k < 0)
                return k;
        if (res.status != 0 && res.status != 1) {
                log_error("diff failed on %s (status %d): %s", c->a->path, res.status, strempty(res.err));
                note->omitted = "diff(1) failed";
        } else if (res.out && strlen(res.out) > CONTENT_DIFF_MAX)
                note->omitted = "diff longer than 256 KiB";
        else if (res.out) {
                note->diff_len = strlen(res.out);
                note->diff = TAKE_PTR(res.out);
        }
        spawn_result_done(&res);
        return 0;
}

static int diff_all(Run *run, Error *e) {
        /* Under the daemon's own directory: a daemon killed in the middle
         * leaves it to the next one's sweep (run-dir.h). */
        const char *base = run_dir();
        if (!base)
                return error_set(e, ERR_INTERNAL, "cannot make a temporary directory: %m");
        _cleanup_free_ char *dir = path_join(base, "diff-XXXXXX");
        int k = 0;

        if (!dir || !mkdtemp(dir))
                return error_set(e, ERR_INTERNAL, "cannot make a temporary directory: %m");
        for (size_t i = 0; i < run->r->n_changes && k >= 0; i++) {
                const Change *c = &run->r->changes[i];
                if (!run->data[i][0] || !run->data[i][1])
                        continue;
                k = diff_one(dir, c, run->data[i][0], run->len[i][0], run->data[i][1], run->len[i][1], &run->notes[i]);
        }
        rm_rf(dir);
        if (k < 0)
                return error_set(e, ERR_INTERNAL, "cannot run diff: %s", strerror(-k));
        return 0;
}

int content_run(const DiffResult *r, const ContentOptions *o, Store *store, unsigned unreadable, ContentHandleFn handle,
                void *userdata, const ProgressSink *progress, ContentNote **ret, Error *e) {
        Run run = {.r = r, .o = o, .store = store, .unreadable = unreadable, .handle = handle, .userdata = userdata,
                   .progress = progress};
        _cleanup_free_ Item *items = NULL;
        size_t n_items = 0;
        int k;

        run.notes = calloc(r->n_changes + 1, sizeof(ContentNote));
        run.data = calloc(r->n_changes + 1, sizeof(*run.data));
        run.len = calloc(r->n_changes + 1, sizeof(*run.len));
        if (!run.notes || !run.data || !run.len) {
                k = error_set(e, ERR_INTERNAL, "out of memory");
                goto out;
        }

        k = plan(&run, &items, &n_items);
        if (k < 0) {
                k = error_set(e, ERR_INTERNAL, "out of memory");
                goto out;
        }
        if (n_items > 0)
                log_info("Reading %zu file%s for content diffs or checksums.", n_items, n_items == 1 ? "" : "s");
        k = fetch(&run, items, n_items, e);
        if (k >= 0 && o->unified)
                k = diff_all(&run, e);

out:
        for (size_t i = 0; run.data && i < r->n_changes; i++) {
                free(run.data[i][0]);
                free(run.data[i][1]);
        }
        free(run.data);
        free(run.len);
        if (k < 0) {
                content_notes_free(run.notes, r->n_changes);
                return k;
        }
        *ret = run.notes;
        return 0;
}

#include "compare/result-stream.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "common/json-util.h"
#include "compare/result-json.h"

/* Changes reach readers at least this often while the comparison runs. */
#define FLUSH_USEC (200 * 1000ULL)

struct ResultStream {
        int fd;               /* the memfd, read-write */
        FILE *out;            /* buffered writer on a copy of fd */
        const ResultSide *sides;
        off_t changes_start;  /* where the current head's changes begin */
        bool started;         /* a head was written */
        uint64_t last_flush_usec;
        bool failed;
};

int result_stream_new(ResultStream **ret, Error *e) {
        _cleanup_free_ ResultStream *s = calloc(1, sizeof(*s));
        if (!s)
                return error_set(e, ERR_INTERNAL, "out of memory");
        s->fd = memfd_create("virt-diffd-changes", MFD_CLOEXEC);
        if (s->fd < 0)
                return error_set(e, ERR_INTERNAL, "memfd_create: %m");
        int copy = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
        s->out = copy >= 0 ? fdopen(copy, "w") : NULL;
        if (!s->out) {
                if (copy >= 0)
                        (void) close(copy);
                (void) close(s->fd);
                return error_set(e, ERR_INTERNAL, "cannot write the change stream: %m");
        }
        *ret = TAKE_PTR(s);
        return 0;
}

ResultStream *result_stream_free(ResultStream *s) {
        if (!s)
                return NULL;
        if (s->out)
                (void) fclose(s->out);
        if (s->fd >= 0)
                (void) close(s->fd);
        free(s);
        return NULL;
}

int result_stream_open(ResultStream *s) {
        return fd_reopen_readonly(s->fd);
}

static int flush(ResultStream *s) {
        if (fflush(s->out) != 0) {
                s->failed = true;
                return -errno;
        }
        s->last_flush_usec = now_usec_monotonic();
        return 0;
}

/* {"RECORD":value}\n */
static int put_line(ResultStream *s, const char *record, json_object *value) {
        if (fprintf(s->out, "{\"%s\":", record) < 0 || result_put_json(s->out, value) < 0 ||
            fputs("}\n", s->out) == EOF) {
                s->failed = true;
                return -EIO;
        }
        return 0;
}

/* The keys of the trees on either side, once each. */
static json_object *trees_to_json(const DiffResult *r) {
        json_object *a = json_object_new_array();
        const Manifest *m[2] = {r->a, r->b};
        for (size_t x = 0; a && x < 2; x++)
                for (size_t i = 0; i < m[x]->n_trees; i++) {
                        const char *key = m[x]->trees[i].key;
                        if (x == 1 && manifest_find_tree(m[0], key))
                                continue;
                        json_object_array_add(a, json_object_new_string(key));
                }
        return a;
}

static int on_filesystems(void *userdata, const DiffResult *r) {
        ResultStream *s = userdata;
        if (s->started && (fputs("{\"reset\":true}\n", s->out) == EOF || flush(s) < 0))
                return -EIO;
        DiffResult head = *r;
        head.n_changes = 0;
        _cleanup_json_ json_object *h = json_object_new_object(), *doc = diff_result_to_json(&head);
        json_object *fss = NULL;
        if (!h || !doc || !json_object_object_get_ex(doc, "filesystems", &fss) ||
            json_add(h, "version", json_object_new_int(1)) < 0 ||
            json_add(h, "a", result_side_to_json(&s->sides[0])) < 0 ||
            json_add(h, "b", result_side_to_json(&s->sides[1])) < 0 ||
            json_add(h, "filesystems", json_object_get(fss)) < 0 || json_add(h, "trees", trees_to_json(r)) < 0)
                return -ENOMEM;
        int k = put_line(s, "head", h);
        if (k < 0 || (k = flush(s)) < 0)
                return k;
        s->changes_start = lseek(s->fd, 0, SEEK_END);
        s->started = true;
        return s->changes_start < 0 ? -errno : 0;
}

static int on_change(void *userdata, const DiffResult *r, const Change *c) {
        ResultStream *s = userdata;
        _cleanup_json_ json_object *o = diff_change_to_json(r, c);
        if (!o)
                return -ENOMEM;
        int k = put_line(s, "change", o);
        if (k < 0)
                return k;
        return now_usec_monotonic() - s->last_flush_usec >= FLUSH_USEC ? flush(s) : 0;
}

ChangeSink result_stream_sink(ResultStream *s, const ResultSide sides[2]) {
        s->sides = sides;
        return (ChangeSink){.filesystems = on_filesystems, .change = on_change, .userdata = s};
}

/* The change lines after the head, as the elements of an array: each line
 * is {"change":VALUE}, and VALUE is what the array holds. */
static int put_streamed_changes(FILE *f, void *userdata) {
        ResultStream *s = userdata;
        int fd = result_stream_open(s);
        if (fd < 0)
                return fd;
        FILE *in = fdopen(fd, "r");
        if (!in) {
                (void) close(fd);
                return -errno;
        }
        static const char prefix[] = "{\"change\":";
        const size_t plen = sizeof prefix - 1;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        bool first = true;
        int k = fseeko(in, s->changes_start, SEEK_SET) < 0 ? -errno : 0;
        if (k == 0 && fputc('[', f) == EOF)
                k = -EIO;
        for (ssize_t n; k == 0 && (n = getline(&line, &size, in)) > 0;) {
                if ((size_t) n < plen + 2 || memcmp(line, prefix, plen) != 0 || line[n - 1] != '\n' ||
                    line[n - 2] != '}') {
                        if (strncmp(line, "{\"end\":", 7) == 0)
                                break;
                        k = -EBADMSG;
                        break;
                }
                if ((!first && fputc(',', f) == EOF) ||
                    fwrite(line + plen, 1, (size_t) n - plen - 2, f) != (size_t) n - plen - 2)
                        k = -EIO;
                first = false;
        }
        if (k == 0 && ferror(in))
                k = -EIO;
        (void) fclose(in);
        if (k == 0 && fputc(']', f) == EOF)
                k = -EIO;
        return k;
}

int result_stream_finish(ResultStream *s, const DiffResult *r, int *ret_fd, Error *e) {
        _cleanup_json_ json_object *root = result_root(r, NULL, NULL, NULL, s->sides);
        json_object *summary = NULL;
        if (!root || !json_object_object_get_ex(root, "summary", &summary))
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (!s->started || s->failed || flush(s) < 0)
                return error_set(e, ERR_INTERNAL, "the change stream was not written whole");
        /* The document first: a reader seeing the end line finds the
         * result ready once the job says so. */
        int fd = -1;
        if (result_write_document(root, put_streamed_changes, s, &fd, e) < 0)
                return -1;
        _cleanup_json_ json_object *end = json_object_new_object();
        if (!end || json_add(end, "summary", json_object_get(summary)) < 0 || put_line(s, "end", end) < 0 ||
            flush(s) < 0) {
                (void) close(fd);
                return error_set(e, ERR_INTERNAL, "cannot write the change stream: %m");
        }
        *ret_fd = fd;
        return 0;
}

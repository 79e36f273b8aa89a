#include "change-stream.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json-util.h"
#include "common/util.h"

bool change_stream_pending(const ChangeStream *s) {
        struct stat st;
        return s->fd >= 0 && fstat(s->fd, &st) >= 0 && (uint64_t) st.st_size > s->consumed;
}

static int on_head(ChangeStream *s, json_object *head, FILE *out, const OutputOptions *o) {
        json_object_put(s->head);
        s->head = json_object_get(head);
        if (s->prepare)
                s->prepare(s->head, s->userdata);
        if (!s->decided) {
                s->printing = output_stream_fits(s->head, o);
                s->decided = true;
        }
        return s->printing ? output_stream_head(out, s->head, o) : 0;
}

/* The end's members (the summary) join the head: the result but its
 * changes. */
static int on_end(ChangeStream *s, json_object *end) {
        if (!s->head || !json_object_is_type(end, json_type_object))
                return -EBADMSG;
        json_object_object_foreach(end, key, value)
                if (json_object_object_add(s->head, key, json_object_get(value)) < 0)
                        return -ENOMEM;
        s->ended = true;
        return 0;
}

static int on_line(ChangeStream *s, char *line, FILE *out, const OutputOptions *o) {
        static const char change[] = "{\"change\":";
        bool is_change = strncmp(line, change, sizeof change - 1) == 0;
        /* Not printing: a change needs no parsing. */
        if (is_change && !s->printing)
                return s->head ? 0 : -EBADMSG;
        _cleanup_json_ json_object *l = json_tokener_parse(line);
        if (!l || !json_object_is_type(l, json_type_object) || json_object_object_length(l) != 1)
                return -EBADMSG;
        json_object_object_foreach(l, key, value) {
                if (streq_ptr(key, "change"))
                        return s->head && json_object_is_type(value, json_type_object)
                                       ? output_stream_change(out, value, o)
                                       : -EBADMSG;
                if (streq_ptr(key, "head"))
                        return json_object_is_type(value, json_type_object) ? on_head(s, value, out, o) : -EBADMSG;
                if (streq_ptr(key, "end"))
                        return on_end(s, value);
                if (streq_ptr(key, "reset")) {
                        if (s->printing)
                                fprintf(stderr,
                                        "%s: a cached manifest was found damaged and its side scanned again: "
                                        "the changes are listed again from the start\n",
                                        s->prog);
                        return 0;
                }
        }
        return -EBADMSG;
}

/* Room for at least want more bytes (and a NUL) in s->buf. */
static int reserve(ChangeStream *s, size_t want) {
        if (s->size - s->len > want)
                return 0;
        size_t n = s->size ? s->size : 131072;
        while (n - s->len <= want)
                n *= 2;
        char *b = realloc(s->buf, n);
        if (!b)
                return -ENOMEM;
        s->buf = b;
        s->size = n;
        return 0;
}

/* The whole lines in s->buf, handled; what follows the last one stays. */
static int take_lines(ChangeStream *s, FILE *out, const OutputOptions *o) {
        char *start = s->buf, *nl;
        s->buf[s->len] = 0;
        while ((nl = memchr(start, '\n', s->len - (size_t) (start - s->buf)))) {
                *nl = 0;
                int k = on_line(s, start, out, o);
                if (k < 0)
                        return k;
                start = nl + 1;
        }
        s->len -= (size_t) (start - s->buf);
        memmove(s->buf, start, s->len);
        return 0;
}

int change_stream_read(ChangeStream *s, FILE *out, const OutputOptions *o) {
        if (s->fd < 0)
                return 0;
        for (;;) {
                if (reserve(s, 65536) < 0)
                        return -ENOMEM;
                ssize_t n = read(s->fd, s->buf + s->len, s->size - s->len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                s->consumed += (uint64_t) n;
                s->len += (size_t) n;
                int k = take_lines(s, out, o);
                if (k < 0)
                        return k;
        }
        return fflush(out) != 0 ? -EIO : 0;
}

int change_stream_feed(ChangeStream *s, const char *data, size_t len, FILE *out, const OutputOptions *o) {
        if (reserve(s, len) < 0)
                return -ENOMEM;
        memcpy(s->buf + s->len, data, len);
        s->len += len;
        s->consumed += len;
        int k = take_lines(s, out, o);
        if (k < 0)
                return k;
        return fflush(out) != 0 ? -EIO : 0;
}

void change_stream_done(ChangeStream *s) {
        if (s->fd >= 0)
                (void) close(s->fd);
        s->fd = -1;
        free(s->buf);
        s->buf = NULL;
        s->len = s->size = 0;
        json_object_put(s->head);
        s->head = NULL;
}

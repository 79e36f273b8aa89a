#include "common/varlink-wire.h"

#include <math.h>
#include <sys/socket.h>

#define READ_CHUNK (64U << 10)

void varlink_reader_done(VarlinkReader *r) {
        free(r->buf);
        *r = (VarlinkReader){0};
}

static size_t reader_max(const VarlinkReader *r) {
        return r->max ? r->max : VARLINK_MESSAGE_MAX;
}

/* Room for n more bytes, within the limit: taken messages' bytes are
 * dropped from the front first. */
static int reader_reserve(VarlinkReader *r, size_t *n) {
        size_t max = reader_max(r);
        if (r->start > 0) {
                memmove(r->buf, r->buf + r->start, r->len);
                r->start = 0;
        }
        if (r->len >= max)
                return -ENOBUFS;
        if (*n > max - r->len)
                *n = max - r->len;
        if (r->len + *n <= r->cap)
                return 0;
        size_t cap = r->cap ? r->cap : READ_CHUNK;
        while (cap < r->len + *n)
                cap *= 2;
        if (cap > max)
                cap = max;
        char *b = realloc(r->buf, cap);
        if (!b)
                return -ENOMEM;
        r->buf = b;
        r->cap = cap;
        return 0;
}

ssize_t varlink_reader_fill(VarlinkReader *r, int fd) {
        size_t n = READ_CHUNK;
        int q = reader_reserve(r, &n);
        if (q < 0)
                return q;
        ssize_t k = read(fd, r->buf + r->len, n);
        if (k < 0)
                return errno == EINTR || errno == EWOULDBLOCK ? -EAGAIN : -errno;
        r->len += (size_t) k;
        return k;
}

int varlink_reader_feed(VarlinkReader *r, const void *p, size_t n) {
        size_t room = n;
        int q = reader_reserve(r, &room);
        if (q < 0)
                return q;
        if (room < n)
                return -ENOBUFS;
        memcpy(r->buf + r->len, p, n);
        r->len += n;
        return 0;
}

/* What json-c's strict mode still lets through: single-quoted strings
 * outside of JSON strings (NaN and Infinity are caught after parsing). */
static bool text_is_json(const char *p, size_t n) {
        bool in_string = false;
        for (size_t i = 0; i < n; i++) {
                if (in_string) {
                        if (p[i] == '\\')
                                i++;
                        else if (p[i] == '"')
                                in_string = false;
                } else if (p[i] == '"')
                        in_string = true;
                else if (p[i] == '\'' || p[i] == '/')
                        return false;
        }
        return true;
}

/* Every string, keys included, valid UTF-8 without overlong forms or
 * surrogates (json-c takes those); every number finite. */
static bool value_is_json(json_object *v) {
        switch (json_object_get_type(v)) {
        case json_type_double:
                return isfinite(json_object_get_double(v));
        case json_type_string:
                return utf8_is_valid(json_object_get_string(v), (size_t) json_object_get_string_len(v));
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(v); i++)
                        if (!value_is_json(json_object_array_get_idx(v, i)))
                                return false;
                return true;
        case json_type_object: {
                json_object_object_foreach(v, key, value)
                        if (!utf8_is_valid(key, strlen(key)) || !value_is_json(value))
                                return false;
                return true;
        }
        default:
                return true;
        }
}

static json_object *parse_object(const char *p, size_t n) {
        if (!text_is_json(p, n))
                return NULL;
        json_tokener *tok = json_tokener_new_ex(VARLINK_DEPTH_MAX);
        if (!tok)
                return NULL;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        json_object *o = n <= INT32_MAX ? json_tokener_parse_ex(tok, p, (int) n) : NULL;
        bool ok = o && json_tokener_get_error(tok) == json_tokener_success;
        /* Nothing but white space may follow the object. */
        for (size_t i = ok ? json_tokener_get_parse_end(tok) : n; i < n; i++)
                if (!strchr(" \t\r\n", p[i]))
                        ok = false;
        json_tokener_free(tok);
        if (!ok || !json_object_is_type(o, json_type_object) || !value_is_json(o)) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int varlink_reader_next(VarlinkReader *r, json_object **ret) {
        const char *p = r->buf + r->start;
        const char *nul = r->len > r->scanned ? memchr(p + r->scanned, 0, r->len - r->scanned) : NULL;
        if (!nul) {
                r->scanned = r->len;
                return r->len >= reader_max(r) ? -EMSGSIZE : 0;
        }
        size_t n = (size_t) (nul - p);
        json_object *o = parse_object(p, n);
        /* Taken: the next message starts after the NUL. */
        r->start += n + 1;
        r->len -= n + 1;
        r->scanned = 0;
        if (r->len == 0)
                r->start = 0;
        if (!o)
                return -EBADMSG;
        *ret = o;
        return 1;
}

void varlink_writer_done(VarlinkWriter *w) {
        free(w->buf);
        *w = (VarlinkWriter){0};
}

int varlink_writer_put(VarlinkWriter *w, json_object *message) {
        size_t n;
        const char *s = json_object_to_json_string_length(
                message, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        if (!s)
                return -ENOMEM;
        if (w->start > 0 && w->start + w->len + n + 1 > w->cap) {
                memmove(w->buf, w->buf + w->start, w->len);
                w->start = 0;
        }
        if (w->len + n + 1 > w->cap) {
                size_t cap = w->cap ? w->cap : 4096;
                while (cap < w->len + n + 1)
                        cap *= 2;
                char *b = realloc(w->buf, cap);
                if (!b)
                        return -ENOMEM;
                w->buf = b;
                w->cap = cap;
        }
        memcpy(w->buf + w->start + w->len, s, n);
        w->buf[w->start + w->len + n] = 0;
        w->len += n + 1;
        return 0;
}

int varlink_writer_flush(VarlinkWriter *w, int fd) {
        while (w->len > 0) {
                ssize_t k = send(fd, w->buf + w->start, w->len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (k < 0 && errno == ENOTSOCK)
                        k = write(fd, w->buf + w->start, w->len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
                }
                w->start += (size_t) k;
                w->len -= (size_t) k;
        }
        w->start = 0;
        return 1;
}

const char *varlink_json_string(json_object *v) {
        if (!json_object_is_type(v, json_type_string))
                return NULL;
        const char *s = json_object_get_string(v);
        if (strlen(s) != (size_t) json_object_get_string_len(v))
                return NULL;
        return s;
}

/* A boolean key of the envelope: false when absent or null. */
static int envelope_bool(json_object *v, bool *ret) {
        if (!v) {
                *ret = false;
                return 0;
        }
        if (!json_object_is_type(v, json_type_boolean))
                return -EBADMSG;
        *ret = json_object_get_boolean(v);
        return 0;
}

static int envelope_parameters(json_object *v, json_object **ret) {
        if (v && !json_object_is_type(v, json_type_object))
                return -EBADMSG;
        *ret = v;
        return 0;
}

int varlink_message_parse_call(json_object *m, const char **ret_method, json_object **ret_parameters,
                               unsigned *ret_flags) {
        const char *method = NULL;
        json_object *parameters = NULL;
        unsigned flags = 0;
        if (!json_object_is_type(m, json_type_object))
                return -EBADMSG;
        json_object_object_foreach(m, key, v) {
                static const struct {
                        const char *key;
                        unsigned flag;
                } flag_keys[] = {
                        {"oneway", VARLINK_CALL_ONEWAY},
                        {"more", VARLINK_CALL_MORE},
                        {"upgrade", VARLINK_CALL_UPGRADE},
                };
                bool known = false, b;
                if (strcmp(key, "method") == 0) {
                        method = varlink_json_string(v);
                        if (!method)
                                return -EBADMSG;
                        continue;
                }
                if (strcmp(key, "parameters") == 0) {
                        if (envelope_parameters(v, &parameters) < 0)
                                return -EBADMSG;
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(flag_keys); i++) {
                        if (strcmp(key, flag_keys[i].key) != 0)
                                continue;
                        if (envelope_bool(v, &b) < 0)
                                return -EBADMSG;
                        if (b)
                                flags |= flag_keys[i].flag;
                        known = true;
                }
                if (!known)
                        return -EBADMSG;
        }
        /* oneway, more and upgrade exclude each other. */
        if (!method || (flags & (flags - 1)) != 0)
                return -EBADMSG;
        *ret_method = method;
        *ret_parameters = parameters;
        *ret_flags = flags;
        return 0;
}

int varlink_message_parse_reply(json_object *m, const char **ret_error, json_object **ret_parameters,
                                bool *ret_continues) {
        const char *error = NULL;
        json_object *parameters = NULL;
        bool continues = false;
        if (!json_object_is_type(m, json_type_object))
                return -EBADMSG;
        json_object_object_foreach(m, key, v) {
                int r = 0;
                if (strcmp(key, "error") == 0) {
                        error = varlink_json_string(v);
                        if (!error)
                                r = -EBADMSG;
                } else if (strcmp(key, "parameters") == 0)
                        r = envelope_parameters(v, &parameters);
                else if (strcmp(key, "continues") == 0)
                        r = envelope_bool(v, &continues);
                else
                        r = -EBADMSG;
                if (r < 0)
                        return r;
        }
        if (error && continues)
                return -EBADMSG;
        *ret_error = error;
        *ret_parameters = parameters;
        *ret_continues = continues;
        return 0;
}

/* Adds v under key; takes v, and fails on a NULL one (out of memory). */
static int add(json_object *m, const char *key, json_object *v) {
        if (!v || json_object_object_add(m, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

/* A message with key: value first (when key is not NULL), then
 * "parameters" (an empty object when NULL). Takes value and parameters. */
static json_object *new_message(const char *key, json_object *value, json_object *parameters) {
        json_object *m = json_object_new_object();
        if (!m || (key && add(m, key, value) < 0)) {
                if (!m)
                        json_object_put(value);
                json_object_put(parameters);
                json_object_put(m);
                return NULL;
        }
        if (add(m, "parameters", parameters ? parameters : json_object_new_object()) < 0) {
                json_object_put(m);
                return NULL;
        }
        return m;
}

json_object *varlink_message_new_call(const char *method, json_object *parameters, unsigned flags) {
        json_object *m = new_message("method", json_object_new_string(method), parameters);
        if (m && (((flags & VARLINK_CALL_ONEWAY) && add(m, "oneway", json_object_new_boolean(1)) < 0) ||
                  ((flags & VARLINK_CALL_MORE) && add(m, "more", json_object_new_boolean(1)) < 0) ||
                  ((flags & VARLINK_CALL_UPGRADE) && add(m, "upgrade", json_object_new_boolean(1)) < 0))) {
                json_object_put(m);
                return NULL;
        }
        return m;
}

json_object *varlink_message_new_reply(json_object *parameters, bool continues) {
        json_object *m = new_message(NULL, NULL, parameters);
        if (m && continues && add(m, "continues", json_object_new_boolean(1)) < 0) {
                json_object_put(m);
                return NULL;
        }
        return m;
}

json_object *varlink_message_new_error(const char *error, json_object *parameters) {
        return new_message("error", json_object_new_string(error), parameters);
}

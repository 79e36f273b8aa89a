#include "varlink/varlink-idl.h"

#include <ctype.h>
#include <stdarg.h>

#include "common/varlink-wire.h"

typedef struct Parser {
        const char *text, *p;
        Error *e;
} Parser;

static VarlinkType *type_free(VarlinkType *t);

static void fields_free(VarlinkField *f, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(f[i].name);
                type_free(f[i].type);
        }
        free(f);
}

static VarlinkType *type_free(VarlinkType *t) {
        if (!t)
                return NULL;
        type_free(t->element);
        fields_free(t->fields, t->n_fields);
        free(t->name);
        free(t);
        return NULL;
}

static void type_freep(VarlinkType **t) {
        type_free(*t);
}

VarlinkInterface *varlink_interface_free(VarlinkInterface *iface) {
        if (!iface)
                return NULL;
        for (size_t i = 0; i < iface->n_symbols; i++) {
                VarlinkSymbol *s = &iface->symbols[i];
                free(s->name);
                type_free(s->type);
                type_free(s->input);
                type_free(s->output);
        }
        free(iface->symbols);
        free(iface->name);
        free(iface);
        return NULL;
}

/* A mistake at the parser's position, as "line L, column C: ...". */
_printf_(2, 3) static int fail(Parser *ps, const char *fmt, ...) {
        unsigned line = 1, col = 1;
        for (const char *q = ps->text; q < ps->p; q++) {
                if (*q == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        char what[512];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        return error_set(ps->e, ERR_INVALID_ARGS, "line %u, column %u: %s", line, col, what);
}

/* White space and comments ("#" to the end of the line). */
static void skip(Parser *ps) {
        for (;;) {
                while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n')
                        ps->p++;
                if (*ps->p != '#')
                        return;
                while (*ps->p && *ps->p != '\n')
                        ps->p++;
        }
}

static bool accept(Parser *ps, const char *punct) {
        skip(ps);
        size_t n = strlen(punct);
        if (strncmp(ps->p, punct, n) != 0)
                return false;
        ps->p += n;
        return true;
}

static int expect(Parser *ps, const char *punct) {
        return accept(ps, punct) ? 0 : fail(ps, "expected '%s'", punct);
}

/* A word: letters, digits, '_', and for interface names '.' and '-'. */
static int word(Parser *ps, char **ret) {
        skip(ps);
        const char *start = ps->p;
        while (isalnum((unsigned char) *ps->p) || *ps->p == '_' || *ps->p == '.' || *ps->p == '-')
                ps->p++;
        if (ps->p == start)
                return fail(ps, "expected a name");
        *ret = strndup(start, (size_t) (ps->p - start));
        return *ret ? 0 : error_set(ps->e, ERR_INTERNAL, "out of memory");
}

/* [A-Z][A-Za-z0-9]* */
static bool symbol_name_is_valid(const char *s) {
        if (!isupper((unsigned char) s[0]))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s))
                        return false;
        return true;
}

/* [A-Za-z](_?[A-Za-z0-9])* */
static bool field_name_is_valid(const char *s) {
        if (!isalpha((unsigned char) s[0]))
                return false;
        for (s++; *s; s++) {
                if (*s == '_')
                        s++;
                if (!isalnum((unsigned char) *s))
                        return false;
        }
        return true;
}

/* Reverse-domain labels of letters and digits, '-' only inside a label,
 * at least two labels, the first starting with a letter. varlink.org asks
 * for lowercase; systemd's interfaces (io.systemd.Resolve) and ours
 * (org.virtdiff.VirtDiff1) capitalize the last label, as D-Bus names do. */
bool varlink_interface_name_is_valid(const char *name) {
        if (!name || !isalpha((unsigned char) name[0]))
                return false;
        unsigned labels = 1;
        for (const char *s = name; *s; s++) {
                if (*s == '.') {
                        if (s[-1] == '.' || s[-1] == '-' || !s[1])
                                return false;
                        labels++;
                } else if (*s == '-') {
                        if (s[-1] == '.' || !s[1])
                                return false;
                } else if (!isalnum((unsigned char) *s))
                        return false;
        }
        return labels >= 2 && name[strlen(name) - 1] != '-';
}

static int parse_type(Parser *ps, VarlinkType **ret);

/* "( ... )": a struct of "name: type" fields, or an enum of names;
 * enum_ok says which an enum may be. */
static int parse_fields(Parser *ps, bool enum_ok, VarlinkType **ret) {
        _cleanup_(type_freep) VarlinkType *t = calloc(1, sizeof(*t));
        if (!t)
                return error_set(ps->e, ERR_INTERNAL, "out of memory");
        t->kind = VARLINK_TYPE_STRUCT;
        int r = expect(ps, "(");
        if (r < 0)
                return r;
        if (accept(ps, ")")) {
                *ret = TAKE_PTR(t);
                return 0;
        }
        do {
                _cleanup_free_ char *name = NULL;
                _cleanup_(type_freep) VarlinkType *ft = NULL;
                r = word(ps, &name);
                if (r < 0)
                        return r;
                if (!field_name_is_valid(name))
                        return fail(ps, "'%s' is not a field name", name);
                for (size_t i = 0; i < t->n_fields; i++)
                        if (strcmp(t->fields[i].name, name) == 0)
                                return fail(ps, "field '%s' twice", name);
                bool is_field = accept(ps, ":");
                if (is_field) {
                        r = parse_type(ps, &ft);
                        if (r < 0)
                                return r;
                }
                VarlinkTypeKind kind = is_field ? VARLINK_TYPE_STRUCT : VARLINK_TYPE_ENUM;
                if (t->n_fields == 0)
                        t->kind = kind;
                else if (t->kind != kind)
                        return fail(ps, "fields and enum names mixed");
                if (kind == VARLINK_TYPE_ENUM && !enum_ok)
                        return fail(ps, "expected a field with a type");
                VarlinkField *f = realloc(t->fields, (t->n_fields + 1) * sizeof(*f));
                if (!f)
                        return error_set(ps->e, ERR_INTERNAL, "out of memory");
                t->fields = f;
                f[t->n_fields++] = (VarlinkField){.name = TAKE_PTR(name), .type = TAKE_PTR(ft)};
        } while (accept(ps, ","));
        r = expect(ps, ")");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

static int parse_type(Parser *ps, VarlinkType **ret) {
        static const struct {
                const char *name;
                VarlinkTypeKind kind;
        } basic[] = {
                {"bool", VARLINK_TYPE_BOOL},     {"int", VARLINK_TYPE_INT},       {"float", VARLINK_TYPE_FLOAT},
                {"string", VARLINK_TYPE_STRING}, {"object", VARLINK_TYPE_OBJECT},
        };
        bool nullable = accept(ps, "?");
        _cleanup_(type_freep) VarlinkType *t = NULL;
        int r;

        skip(ps);
        if (*ps->p == '?')
                return fail(ps, "'?' twice");
        if (*ps->p == '(') {
                r = parse_fields(ps, true, &t);
                if (r < 0)
                        return r;
        } else if (accept(ps, "[")) {
                bool map = !accept(ps, "]");
                if (map && (expect(ps, "string") < 0 || expect(ps, "]") < 0))
                        return -1;
                _cleanup_(type_freep) VarlinkType *element = NULL;
                r = parse_type(ps, &element);
                if (r < 0)
                        return r;
                t = calloc(1, sizeof(*t));
                if (!t)
                        return error_set(ps->e, ERR_INTERNAL, "out of memory");
                t->kind = map ? VARLINK_TYPE_MAP : VARLINK_TYPE_ARRAY;
                t->element = TAKE_PTR(element);
        } else {
                _cleanup_free_ char *name = NULL;
                r = word(ps, &name);
                if (r < 0)
                        return r;
                t = calloc(1, sizeof(*t));
                if (!t)
                        return error_set(ps->e, ERR_INTERNAL, "out of memory");
                t->kind = VARLINK_TYPE_NAMED;
                for (size_t i = 0; i < ELEMENTSOF(basic); i++)
                        if (strcmp(name, basic[i].name) == 0)
                                t->kind = basic[i].kind;
                if (t->kind == VARLINK_TYPE_NAMED) {
                        if (!symbol_name_is_valid(name))
                                return fail(ps, "'%s' is not a type", name);
                        t->name = TAKE_PTR(name);
                }
        }
        t->nullable = nullable;
        *ret = TAKE_PTR(t);
        return 0;
}

const VarlinkSymbol *varlink_interface_find(const VarlinkInterface *iface, VarlinkSymbolKind kind,
                                            const char *name) {
        for (size_t i = 0; i < iface->n_symbols; i++)
                if (iface->symbols[i].kind == kind && strcmp(iface->symbols[i].name, name) == 0)
                        return &iface->symbols[i];
        return NULL;
}

/* Every named type names a "type" of the interface. */
static int resolve(const VarlinkInterface *iface, VarlinkType *t, Error *e) {
        if (!t)
                return 0;
        if (t->kind == VARLINK_TYPE_NAMED) {
                t->resolved = varlink_interface_find(iface, VARLINK_SYMBOL_TYPE, t->name);
                if (!t->resolved)
                        return error_set(e, ERR_INVALID_ARGS, "type '%s' is not defined", t->name);
        }
        if (resolve(iface, t->element, e) < 0)
                return -1;
        for (size_t i = 0; i < t->n_fields; i++)
                if (resolve(iface, t->fields[i].type, e) < 0)
                        return -1;
        return 0;
}

static int parse_member(Parser *ps, VarlinkInterface *iface) {
        static const char *const keywords[] = {
                [VARLINK_SYMBOL_TYPE] = "type",
                [VARLINK_SYMBOL_METHOD] = "method",
                [VARLINK_SYMBOL_ERROR] = "error",
        };
        _cleanup_free_ char *keyword = NULL, *name = NULL;
        int r = word(ps, &keyword);
        if (r < 0)
                return r;
        VarlinkSymbol s = {.kind = (VarlinkSymbolKind) ELEMENTSOF(keywords)};
        for (size_t i = 0; i < ELEMENTSOF(keywords); i++)
                if (strcmp(keyword, keywords[i]) == 0)
                        s.kind = (VarlinkSymbolKind) i;
        if (s.kind == (VarlinkSymbolKind) ELEMENTSOF(keywords))
                return fail(ps, "expected type, method or error, not '%s'", keyword);
        r = word(ps, &name);
        if (r < 0)
                return r;
        if (!symbol_name_is_valid(name))
                return fail(ps, "'%s' is not a name", name);
        /* Types, methods and errors share one namespace. */
        for (size_t i = 0; i < iface->n_symbols; i++)
                if (strcmp(iface->symbols[i].name, name) == 0)
                        return fail(ps, "'%s' defined twice", name);

        _cleanup_(type_freep) VarlinkType *type = NULL, *input = NULL, *output = NULL;
        if (s.kind == VARLINK_SYMBOL_METHOD) {
                r = parse_fields(ps, false, &input);
                if (r >= 0)
                        r = expect(ps, "->");
                if (r >= 0)
                        r = parse_fields(ps, false, &output);
        } else
                r = parse_fields(ps, s.kind == VARLINK_SYMBOL_TYPE, &type);
        if (r < 0)
                return r;

        VarlinkSymbol *l = realloc(iface->symbols, (iface->n_symbols + 1) * sizeof(*l));
        if (!l)
                return error_set(ps->e, ERR_INTERNAL, "out of memory");
        iface->symbols = l;
        s.name = TAKE_PTR(name);
        s.type = TAKE_PTR(type);
        s.input = TAKE_PTR(input);
        s.output = TAKE_PTR(output);
        l[iface->n_symbols++] = s;
        return 0;
}

int varlink_interface_parse(const char *text, VarlinkInterface **ret, Error *e) {
        Parser ps = {.text = text, .p = text, .e = e};
        _cleanup_varlink_interface_ VarlinkInterface *iface = calloc(1, sizeof(*iface));
        _cleanup_free_ char *keyword = NULL;
        if (!iface)
                return error_set(e, ERR_INTERNAL, "out of memory");
        iface->text = text;

        int r = word(&ps, &keyword);
        if (r < 0)
                return r;
        if (strcmp(keyword, "interface") != 0)
                return fail(&ps, "expected 'interface'");
        r = word(&ps, &iface->name);
        if (r < 0)
                return r;
        if (!varlink_interface_name_is_valid(iface->name))
                return fail(&ps, "'%s' is not an interface name", iface->name);
        for (skip(&ps); *ps.p; skip(&ps)) {
                r = parse_member(&ps, iface);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < iface->n_symbols; i++) {
                VarlinkSymbol *s = &iface->symbols[i];
                if (resolve(iface, s->type, e) < 0 || resolve(iface, s->input, e) < 0 ||
                    resolve(iface, s->output, e) < 0)
                        return -1;
        }
        *ret = TAKE_PTR(iface);
        return 0;
}

/* ---- checking JSON against a type ---- */

/* path holds len bytes; appends to it, cut at the buffer's end. */
static size_t path_append(char *path, size_t len, const char *fmt, ...) _printf_(3, 4);
static size_t path_append(char *path, size_t len, const char *fmt, ...) {
        if (len >= VARLINK_FIELD_PATH_MAX - 1)
                return len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(path + len, VARLINK_FIELD_PATH_MAX - len, fmt, ap);
        va_end(ap);
        if (n < 0)
                return len;
        return len + (size_t) n < VARLINK_FIELD_PATH_MAX ? len + (size_t) n : VARLINK_FIELD_PATH_MAX - 1;
}

static int check(const VarlinkType *t, json_object *v, char *path, size_t len);

static int check_struct(const VarlinkType *t, json_object *v, char *path, size_t len) {
        if (v && !json_object_is_type(v, json_type_object))
                return -EINVAL;
        for (size_t i = 0; i < t->n_fields; i++) {
                json_object *fv = NULL;
                if (v)
                        (void) json_object_object_get_ex(v, t->fields[i].name, &fv);
                size_t n = path_append(path, len, len ? ".%s" : "%s", t->fields[i].name);
                if (check(t->fields[i].type, fv, path, n) < 0)
                        return -EINVAL;
                path[len] = 0;
        }
        if (v) {
                json_object_object_foreach(v, key, value) {
                        (void) value;
                        bool known = false;
                        for (size_t i = 0; i < t->n_fields && !known; i++)
                                known = strcmp(t->fields[i].name, key) == 0;
                        if (!known) {
                                (void) path_append(path, len, len ? ".%s" : "%s", key);
                                return -EINVAL;
                        }
                }
        }
        return 0;
}

static int check(const VarlinkType *t, json_object *v, char *path, size_t len) {
        /* Absent and null are the same to varlink. */
        if (!v)
                return t->nullable ? 0 : -EINVAL;
        switch (t->kind) {
        case VARLINK_TYPE_BOOL:
                return json_object_is_type(v, json_type_boolean) ? 0 : -EINVAL;
        case VARLINK_TYPE_INT:
                return json_object_is_type(v, json_type_int) ? 0 : -EINVAL;
        case VARLINK_TYPE_FLOAT:
                return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int) ? 0
                                                                                                         : -EINVAL;
        case VARLINK_TYPE_STRING:
                return varlink_json_string(v) ? 0 : -EINVAL;
        case VARLINK_TYPE_OBJECT:
                return json_object_is_type(v, json_type_object) ? 0 : -EINVAL;
        case VARLINK_TYPE_STRUCT:
                return check_struct(t, v, path, len);
        case VARLINK_TYPE_ENUM: {
                const char *s = varlink_json_string(v);
                for (size_t i = 0; s && i < t->n_fields; i++)
                        if (strcmp(s, t->fields[i].name) == 0)
                                return 0;
                return -EINVAL;
        }
        case VARLINK_TYPE_NAMED:
                return check(t->resolved->type, v, path, len);
        case VARLINK_TYPE_ARRAY:
                if (!json_object_is_type(v, json_type_array))
                        return -EINVAL;
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        size_t n = path_append(path, len, "[%zu]", i);
                        if (check(t->element, json_object_array_get_idx(v, i), path, n) < 0)
                                return -EINVAL;
                        path[len] = 0;
                }
                return 0;
        case VARLINK_TYPE_MAP:
                if (!json_object_is_type(v, json_type_object))
                        return -EINVAL;
                json_object_object_foreach(v, key, value) {
                        size_t n = path_append(path, len, "[\"%.64s\"]", key);
                        if (check(t->element, value, path, n) < 0)
                                return -EINVAL;
                        path[len] = 0;
                }
                return 0;
        }
        return -EINVAL;
}

int varlink_validate(const VarlinkType *type, json_object *parameters, char bad[VARLINK_FIELD_PATH_MAX]) {
        bad[0] = 0;
        return check_struct(type, parameters, bad, 0);
}

#include "packages/deb822.h"

#include <strings.h>

void deb822_paragraph_done(Deb822Paragraph *p) {
        for (size_t i = 0; i < p->n_fields; i++) {
                free(p->fields[i].name);
                free(p->fields[i].value);
        }
        free(p->fields);
        *p = (Deb822Paragraph){0};
}

void deb822_reader_init(Deb822Reader *r, const char *name, const char *data, size_t len) {
        *r = (Deb822Reader){.name = name, .p = data, .end = data + len};
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* The next line without its '\n' (a last line may lack one). */
static bool next_line(Deb822Reader *r, const char **ret, size_t *ret_len) {
        if (r->p >= r->end)
                return false;
        const char *nl = memchr(r->p, '\n', (size_t) (r->end - r->p));
        size_t l = nl ? (size_t) (nl - r->p) : (size_t) (r->end - r->p);
        *ret = r->p;
        *ret_len = l;
        r->p += l + (nl ? 1 : 0);
        r->line++;
        return true;
}

static bool line_is_blank(const char *s, size_t l) {
        for (size_t i = 0; i < l; i++)
                if (!is_blank(s[i]) && s[i] != '\r')
                        return false;
        return true;
}

static size_t trim_end(const char *s, size_t l) {
        while (l > 0 && (is_blank(s[l - 1]) || s[l - 1] == '\r'))
                l--;
        return l;
}

static int corrupt(const Deb822Reader *r, Error *e, const char *what) {
        return error_set(e, ERR_CORRUPT_PACKAGE_DB, "%s, line %u: %s", r->name, r->line, what);
}

static int append_line(Deb822Field *f, const char *s, size_t l) {
        size_t old = strlen(f->value);
        char *v = realloc(f->value, old + 1 + l + 1);
        if (!v)
                return -ENOMEM;
        v[old] = '\n';
        memcpy(v + old + 1, s, l);
        v[old + 1 + l] = 0;
        f->value = v;
        return 0;
}

static int add_field(Deb822Reader *r, Deb822Paragraph *p, const char *s, size_t l, Error *e) {
        const char *colon = memchr(s, ':', l);
        if (!colon)
                return corrupt(r, e, "a line that is neither a field nor a continuation");
        size_t nl = (size_t) (colon - s);
        if (nl == 0)
                return corrupt(r, e, "a field with an empty name");
        for (size_t i = 0; i < nl; i++)
                if ((unsigned char) s[i] <= ' ' || (unsigned char) s[i] >= 0x7f)
                        return corrupt(r, e, "a field name with a blank or a control character");
        if (s[0] == '-' || s[0] == '#')
                return corrupt(r, e, "a field name starting with '-' or '#'");
        for (size_t i = 0; i < p->n_fields; i++)
                if (strlen(p->fields[i].name) == nl && strncasecmp(p->fields[i].name, s, nl) == 0)
                        return corrupt(r, e, "a field given twice in one paragraph");

        const char *v = colon + 1, *end = s + l;
        while (v < end && is_blank(*v))
                v++;
        size_t vl = trim_end(v, (size_t) (end - v));

        Deb822Field *fields = reallocarray(p->fields, p->n_fields + 1, sizeof(Deb822Field));
        if (!fields)
                return -ENOMEM;
        p->fields = fields;
        Deb822Field *f = &fields[p->n_fields];
        f->name = strndup(s, nl);
        f->value = strndup(v, vl);
        if (!f->name || !f->value) {
                free(f->name);
                free(f->value);
                return -ENOMEM;
        }
        p->n_fields++;
        return 0;
}

int deb822_next(Deb822Reader *r, Deb822Paragraph *ret, Error *e) {
        _cleanup_(deb822_paragraph_done) Deb822Paragraph p = {0};
        const char *s;
        size_t l;

        /* Skip the blank lines before a paragraph. */
        for (;;) {
                const char *save = r->p;
                unsigned save_line = r->line;
                if (!next_line(r, &s, &l))
                        return 0;
                if (memchr(s, 0, l))
                        return corrupt(r, e, "a NUL byte");
                if (!line_is_blank(s, l)) {
                        r->p = save;
                        r->line = save_line;
                        break;
                }
        }
        p.line = r->line + 1;
        while (next_line(r, &s, &l)) {
                if (memchr(s, 0, l))
                        return corrupt(r, e, "a NUL byte");
                if (line_is_blank(s, l))
                        break;
                int k;
                if (is_blank(s[0])) {
                        if (p.n_fields == 0)
                                return corrupt(r, e, "a continuation line before any field");
                        k = append_line(&p.fields[p.n_fields - 1], s, trim_end(s, l));
                } else
                        k = add_field(r, &p, s, l, e);
                if (k == -ENOMEM)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                if (k < 0)
                        return -1;
        }
        *ret = p;
        p = (Deb822Paragraph){0};
        return 1;
}

const char *deb822_get(const Deb822Paragraph *p, const char *name) {
        for (size_t i = 0; i < p->n_fields; i++)
                if (strcasecmp(p->fields[i].name, name) == 0)
                        return p->fields[i].value;
        return NULL;
}

#include "compare/package-notes.h"

PackageNotes *package_notes_free(PackageNotes *n) {
        if (!n)
                return NULL;
        package_diff_free(n->diff);
        free(n->explanations);
        free(n);
        return NULL;
}

int causes_parse(char *const *names, unsigned *ret, const char **ret_bad) {
        unsigned set = 0;
        for (char *const *s = names; s && *s; s++) {
                Cause c = cause_from_string(*s);
                if (c == _CAUSE_MAX) {
                        if (ret_bad)
                                *ret_bad = *s;
                        return -EINVAL;
                }
                set |= 1u << c;
        }
        *ret = set;
        return 0;
}

int package_notes_compute(DiffResult *r, const PackageSet *a, const PackageSet *b, const PackageOptions *o,
                          PackageNotes **ret) {
        _cleanup_package_notes_ PackageNotes *n = calloc(1, sizeof(PackageNotes));
        if (!n)
                return -ENOMEM;
        int k = package_diff(a, b, &n->diff);
        if (k < 0)
                return k;
        n->explanations = calloc(r->n_changes ? r->n_changes : 1, sizeof(Explanation));
        if (!n->explanations)
                return -ENOMEM;

        size_t kept = 0;
        memset(r->counts, 0, sizeof r->counts);
        for (size_t i = 0; i < r->n_changes; i++) {
                const Change *c = &r->changes[i];
                const Entry *e = c->b ? c->b : c->a;
                Explanation x;
                if (strcmp(c->tree, "/") == 0)
                        package_explain(n->diff, e->path, c->a, c->b, &x);
                else
                        /* A filesystem of its own: its paths are not the
                         * OS's, no package owns them. */
                        x = (Explanation){.known = n->diff->usable, .cause = CAUSE_UNOWNED};
                if (o->causes && (!x.known || !(o->causes & (1u << x.cause)))) {
                        change_done(&r->changes[i]);
                        continue;
                }
                r->changes[kept] = *c;
                n->explanations[kept++] = x;
                r->counts[c->change]++;
                if (x.known)
                        n->cause_counts[x.cause]++;
        }
        r->n_changes = kept;
        n->n = kept;
        *ret = TAKE_PTR(n);
        return 0;
}

static int add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int add_null(json_object *o, const char *key) {
        return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
}

static int append(json_object *a, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static json_object *package_change_to_json(const PackageChange *c) {
        json_object *o = json_object_new_object();
        const Package *p = c->b ? c->b : c->a;
        if (!o)
                return NULL;
        if (add(o, "name", json_object_new_string(p->name)) < 0 ||
            add(o, "arch", json_object_new_string(p->arch)) < 0 ||
            add(o, "change", json_object_new_string(package_change_to_string(c->change))) < 0 ||
            (c->a ? add(o, "old_version", json_object_new_string(c->a->version))
                  : add_null(o, "old_version")) < 0 ||
            (c->b ? add(o, "new_version", json_object_new_string(c->b->version))
                  : add_null(o, "new_version")) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

/* Owners are few per path; a directory shared by hundreds of packages
 * lists the first ones. */
#define MAX_OWNERS_LISTED 16

static int explanation_to_json(json_object *c, const PackageDiff *d, const Explanation *x) {
        if (!x->known)
                return add_null(c, "cause");
        if (add(c, "cause", json_object_new_string(cause_to_string(x->cause))) < 0)
                return -ENOMEM;
        const char *names[MAX_OWNERS_LISTED];
        size_t total = explanation_owners(d, x, names, MAX_OWNERS_LISTED);
        json_object *owners = json_object_new_array();
        if (!owners)
                return -ENOMEM;
        for (size_t i = 0; i < total && i < MAX_OWNERS_LISTED; i++)
                if (append(owners, json_object_new_string(names[i])) < 0) {
                        json_object_put(owners);
                        return -ENOMEM;
                }
        if (add(c, "owner", owners) < 0)
                return -ENOMEM;
        json_object *mismatch = json_object_new_array();
        if (!mismatch)
                return -ENOMEM;
        if ((x->mismatch_a && append(mismatch, json_object_new_string("a")) < 0) ||
            (x->mismatch_b && append(mismatch, json_object_new_string("b")) < 0)) {
                json_object_put(mismatch);
                return -ENOMEM;
        }
        return add(c, "mismatch", mismatch);
}

int package_notes_explain_to_json(json_object *changes, const PackageNotes *n, size_t first) {
        size_t len = json_object_array_length(changes);
        if (first > n->n || len > n->n - first)
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
                if (explanation_to_json(json_object_array_get_idx(changes, i), n->diff, &n->explanations[first + i]) < 0)
                        return -ENOMEM;
        return 0;
}

int package_notes_to_json(json_object *root, const PackageNotes *n) {
        json_object *changes = NULL;
        if (!json_object_object_get_ex(root, "changes", &changes) || json_object_array_length(changes) != n->n)
                return -EINVAL;
        int k = package_notes_explain_to_json(changes, n, 0);
        return k < 0 ? k : package_notes_rest_to_json(root, n);
}

int package_notes_rest_to_json(json_object *root, const PackageNotes *n) {
        json_object *summary = NULL;
        if (!json_object_object_get_ex(root, "summary", &summary))
                return -EINVAL;

        json_object *list = json_object_new_array();
        if (!list || add(root, "packages", list) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n->diff->n_changes; i++)
                if (append(list, package_change_to_json(&n->diff->changes[i])) < 0)
                        return -ENOMEM;

        json_object *pc = json_object_new_object(), *cc = json_object_new_object();
        if (add(summary, "packages", pc) < 0 || add(summary, "causes", cc) < 0)
                return -ENOMEM;
        for (PackageChangeKind k = 0; k < _PACKAGE_CHANGE_MAX; k++)
                if (add(pc, package_change_to_string(k), json_object_new_uint64(n->diff->counts[k])) < 0)
                        return -ENOMEM;
        for (Cause c = 0; c < _CAUSE_MAX; c++)
                if (add(cc, cause_to_string(c), json_object_new_uint64(n->cause_counts[c])) < 0)
                        return -ENOMEM;
        return 0;
}

json_object *package_set_summary_to_json(const PackageSet *ps) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        int k = add(o, "format", json_object_new_string(package_format_to_string(ps->format)));
        k = k ?: add(o, "count", json_object_new_uint64(ps->n_packages));
        if (k == 0 && ps->error != ERR_OK) {
                json_object *err = json_object_new_object();
                k = add(o, "error", err);
                k = k ?: add(err, "code", json_object_new_string(error_code_to_string(ps->error)));
                k = k ?: add(err, "message", json_object_new_string(strempty(ps->error_message)));
        } else if (k == 0)
                k = add_null(o, "error");
        if (k < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

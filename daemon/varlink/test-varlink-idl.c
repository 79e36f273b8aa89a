/* Unit test of the interface definition parser and of checking parameters
 * against it, on our own interface and on small ones made here. */
#include "common/test-util.h"
#include "org-varlink-service.h"
#include "org-virtdiff-VirtDiff1.h"
#include "common/json-util.h"
#include "varlink/varlink-idl.h"

static VarlinkInterface *parse_ok(const char *text) {
        VarlinkInterface *i = NULL;
        Error e = {0};
        if (varlink_interface_parse(text, &i, &e) < 0)
                fprintf(stderr, "parse failed: %s\n", e.message);
        return must(i);
}

/* Our interface: every D-Bus error a varlink error of the same name with a
 * message, and the other way round. */
static void test_our_interface(void) {
        _cleanup_varlink_interface_ VarlinkInterface *i = parse_ok(org_virtdiff_VirtDiff1_idl);
        _cleanup_varlink_interface_ VarlinkInterface *svc = parse_ok(org_varlink_service_idl);
        CHECK(strcmp(i->name, "org.virtdiff.VirtDiff1") == 0);
        CHECK(strcmp(svc->name, "org.varlink.service") == 0);
        CHECK(i->text == org_virtdiff_VirtDiff1_idl);

        size_t n_errors = 0;
        for (ErrorCode c = ERR_OK + 1; c < _ERR_MAX; c++) {
                const VarlinkSymbol *s = varlink_interface_find(i, VARLINK_SYMBOL_ERROR, error_code_to_string(c));
                CHECK(s && s->type->n_fields == 1 && strcmp(s->type->fields[0].name, "message") == 0 &&
                      s->type->fields[0].type->kind == VARLINK_TYPE_STRING);
                if (!s)
                        fprintf(stderr, "no varlink error %s\n", error_code_to_string(c));
        }
        for (size_t k = 0; k < i->n_symbols; k++)
                if (i->symbols[k].kind == VARLINK_SYMBOL_ERROR) {
                        char dbus[256];
                        snprintf(dbus, sizeof dbus, VD_ERROR_PREFIX "%s", i->symbols[k].name);
                        n_errors++;
                        CHECK(error_code_from_dbus_name(dbus) != ERR_INTERNAL ||
                              strcmp(i->symbols[k].name, "Internal") == 0);
                }
        CHECK(n_errors == _ERR_MAX - 1);

        static const char *const methods[] = {
                "Describe", "Compare", "Wait", "Cancel", "ListJobs", "Warm", "ListPool", "ListSnapshots",
                "CacheStats", "CacheList", "CachePurge", "CacheVerify",
        };
        for (size_t k = 0; k < ELEMENTSOF(methods); k++)
                CHECK(varlink_interface_find(i, VARLINK_SYMBOL_METHOD, methods[k]));
}

static int check_params(const VarlinkInterface *i, const char *method, const char *json, const char *want_bad) {
        const VarlinkSymbol *m = varlink_interface_find(i, VARLINK_SYMBOL_METHOD, method);
        _cleanup_json_ json_object *p = json ? must(json_tokener_parse(json)) : NULL;
        char bad[VARLINK_FIELD_PATH_MAX];
        int r = varlink_validate(m->input, p, bad);
        if (want_bad && (r != -EINVAL || strcmp(bad, want_bad) != 0)) {
                fprintf(stderr, "%s %s: r=%d bad='%s', expected '%s'\n", method, json ? json : "null", r, bad, want_bad);
                return -1;
        }
        if (!want_bad && r != 0) {
                fprintf(stderr, "%s %s: refused at '%s'\n", method, json ? json : "null", bad);
                return -1;
        }
        return 0;
}

static void test_compare_parameters(void) {
        _cleanup_varlink_interface_ VarlinkInterface *i = parse_ok(org_virtdiff_VirtDiff1_idl);
        static const char *const good[] = {
                "{\"a\":[{\"path\":\"/x.img\"}],\"b\":[{\"path\":\"/y.img\",\"format\":\"raw\"}]}",
                "{\"a\":[{\"domain\":\"g\",\"uri\":\"test:///default\",\"snapshot\":\"s\"}],\"b\":[],"
                "\"options\":{\"detached\":true,\"ignore\":[\"mtime\"],\"checksum\":\"md5\"}}",
                "{\"a\":[{\"path\":\"/x\",\"format\":null}],\"b\":[{\"path\":\"/y\"}],\"options\":null}",
        };
        for (size_t k = 0; k < ELEMENTSOF(good); k++)
                CHECK(check_params(i, "Compare", good[k], NULL) == 0);

        static const char *const bad[][2] = {
                {"{\"a\":[{\"path\":\"/x\"}]}", "b"},
                {NULL, "a"},
                {"{\"a\":\"/x\",\"b\":[]}", "a"},
                {"{\"a\":[{\"path\":1}],\"b\":[]}", "a[0].path"},
                {"{\"a\":[],\"b\":[{\"path\":\"/y\"},{\"bogus\":true}]}", "b[1].bogus"},
                {"{\"a\":[],\"b\":[],\"options\":{\"detached\":\"yes\"}}", "options.detached"},
                {"{\"a\":[],\"b\":[],\"options\":{\"nope\":true}}", "options.nope"},
                {"{\"a\":[],\"b\":[],\"options\":{\"ignore\":[\"mtime\",1]}}", "options.ignore[1]"},
                {"{\"a\":[],\"b\":[],\"zzz\":0}", "zzz"},
                {"{\"a\":[{\"path\":\"/x\\u0000y\"}],\"b\":[]}", "a[0].path"},
                {"{\"a\":[null],\"b\":[]}", "a[0]"},
                {"{\"a\":[],\"b\":[],\"options\":[]}", "options"},
        };
        for (size_t k = 0; k < ELEMENTSOF(bad); k++)
                CHECK(check_params(i, "Compare", bad[k][0], bad[k][1]) == 0);

        CHECK(check_params(i, "Cancel", "{\"job\":3}", NULL) == 0);
        CHECK(check_params(i, "Cancel", "{\"job\":3.5}", "job") == 0);
        CHECK(check_params(i, "Cancel", "{\"job\":\"3\"}", "job") == 0);
        CHECK(check_params(i, "CachePurge", NULL, NULL) == 0);
        CHECK(check_params(i, "ListJobs", "{}", NULL) == 0);
        CHECK(check_params(i, "ListJobs", "{\"x\":1}", "x") == 0);
}

static const char test_idl[] =
        "# A test interface\n"
        "interface org.example.test-x\n"
        "\n"
        "type Node (name: string, children: ?[]Node, tags: [string]?int)\n"
        "type Color (red, green, blue) # trailing comment\n"
        "method Paint(color: Color, shade: ?float, grid: [][]bool, any: ?object,\n"
        "             inline: ?(x: int, kind: (a, b))) -> ()\n"
        "method Tree(root: Node) -> (count: int)\n"
        "error Oops ()\n";

static void test_types(void) {
        _cleanup_varlink_interface_ VarlinkInterface *i = parse_ok(test_idl);
        CHECK(strcmp(i->name, "org.example.test-x") == 0);
        CHECK(i->n_symbols == 5);

        CHECK(check_params(i, "Paint", "{\"color\":\"red\",\"grid\":[[true],[]],\"shade\":1}", NULL) == 0);
        CHECK(check_params(i, "Paint", "{\"color\":\"red\",\"grid\":[],\"shade\":0.5,\"any\":{\"q\":[1]}}", NULL) == 0);
        CHECK(check_params(i, "Paint", "{\"color\":\"pink\",\"grid\":[]}", "color") == 0);
        CHECK(check_params(i, "Paint", "{\"color\":\"red\",\"grid\":[[1]]}", "grid[0][0]") == 0);
        CHECK(check_params(i, "Paint", "{\"color\":\"red\",\"grid\":[],\"shade\":\"x\"}", "shade") == 0);
        CHECK(check_params(i, "Paint", "{\"color\":\"red\",\"grid\":[],\"any\":[]}", "any") == 0);
        CHECK(check_params(i, "Paint", "{\"color\":\"red\",\"grid\":[],\"inline\":{\"x\":1,\"kind\":\"a\"}}", NULL) == 0);
        CHECK(check_params(i, "Paint", "{\"color\":\"red\",\"grid\":[],\"inline\":{\"x\":1,\"kind\":\"c\"}}",
                           "inline.kind") == 0);
        CHECK(check_params(i, "Tree",
                           "{\"root\":{\"name\":\"r\",\"tags\":{\"a\":1,\"b\":null},"
                           "\"children\":[{\"name\":\"c\",\"tags\":{}}]}}",
                           NULL) == 0);
        CHECK(check_params(i, "Tree",
                           "{\"root\":{\"name\":\"r\",\"tags\":{},\"children\":[{\"name\":\"c\",\"tags\":{\"k\":true}}]}}",
                           "root.children[0].tags[\"k\"]") == 0);
        CHECK(check_params(i, "Tree", "{\"root\":{\"name\":\"r\"}}", "root.tags") == 0);
}

static void test_bad_definitions(void) {
        static const char *const bad[][2] = {
                {"", "expected a name"},
                {"interfac org.a.b", "expected 'interface'"},
                {"interface org", "not an interface name"},
                {"interface org..b", "not an interface name"},
                {"interface org.-b", "not an interface name"},
                {"interface org.a.b\nmethod F() -> (x: Nope)", "'Nope' is not defined"},
                {"interface org.a.b\ntype T (x: int)\ntype T (y: int)", "'T' defined twice"},
                {"interface org.a.b\ntype T (x: int, x: int)", "field 'x' twice"},
                {"interface org.a.b\ntype T (x: int, y)", "fields and enum names mixed"},
                {"interface org.a.b\nmethod F(a, b) -> ()", "expected a field with a type"},
                {"interface org.a.b\nmethod F(a: ??int) -> ()", "'?' twice"},
                {"interface org.a.b\nmethod F(a: [int]string) -> ()", "expected 'string'"},
                {"interface org.a.b\nmethod F(a: int) ->", "expected '('"},
                {"interface org.a.b\nmethod F(a: int) (b: int)", "expected '->'"},
                {"interface org.a.b\nmethod f() -> ()", "'f' is not a name"},
                {"interface org.a.b\ntype T (X_: int)", "'X_' is not a field name"},
                {"interface org.a.b\ntype T (a: int", "expected ')'"},
                {"interface org.a.b\nsignal S ()", "expected type, method or error"},
                {"interface org.a.b\nmethod F(a: lowercase) -> ()", "'lowercase' is not a type"},
        };
        for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
                VarlinkInterface *i = NULL;
                Error e = {0};
                int r = varlink_interface_parse(bad[k][0], &i, &e);
                CHECK(r < 0 && !i && e.code == ERR_INVALID_ARGS && strstr(e.message, bad[k][1]));
                if (!strstr(e.message, bad[k][1]))
                        fprintf(stderr, "'%s': got '%s'\n", bad[k][0], e.message);
        }
        /* Where: line and column. */
        Error e = {0};
        VarlinkInterface *i = NULL;
        CHECK(varlink_interface_parse("interface org.a.b\n\n  method F(a: ??int) -> ()", &i, &e) < 0);
        CHECK(strstr(e.message, "line 3, column 16"));
}

int main(void) {
        test_our_interface();
        test_compare_parameters();
        test_types();
        test_bad_definitions();
        return test_report();
}

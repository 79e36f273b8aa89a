/* Unit test of the replies' JSON: each builder's output, put where the
 * interface definition says it goes, passes the definition's check. */
#include "common/test-util.h"
#include "org-virtdiff-VirtDiff1.h"
#include "varlink/varlink-idl.h"
#include "varlink/varlink-json.h"

static VarlinkInterface *iface;

/* parameters (taken) checked against a method's output. */
static bool output_ok(const char *method, json_object *parameters) {
        const VarlinkSymbol *m = varlink_interface_find(iface, VARLINK_SYMBOL_METHOD, method);
        char bad[VARLINK_FIELD_PATH_MAX];
        int r = m ? varlink_validate(m->output, parameters, bad) : -ENOENT;
        if (r < 0)
                fprintf(stderr, "%s: %s at '%s'\n", method, json_object_to_json_string(parameters), bad);
        json_object_put(parameters);
        return r == 0;
}

/* {key: v} */
static json_object *wrap(const char *key, json_object *v) {
        json_object *o = must(json_object_new_object());
        json_object_object_add(o, key, must(v));
        return o;
}

static json_object *list1(json_object *v) {
        json_object *a = must(json_object_new_array());
        json_object_array_add(a, must(v));
        return a;
}

static void test_progress(void) {
        JobStatus s = {.state = JOB_STATE_RUNNING, .phase = PHASE_SCAN, .files_done = 10, .files_total = 20};
        json_object *p = must(varlink_progress_json(&s));
        CHECK(!json_object_object_get_ex(p, "progress", NULL) && !json_object_object_get_ex(p, "expected_end", NULL));
        CHECK(strcmp(json_object_get_string(json_object_object_get(p, "phase")), "scan") == 0);
        json_object *o = must(json_object_new_object());
        json_object_object_add(o, "job", json_object_new_int64(3));
        json_object_object_add(o, "progress", p);
        CHECK(output_ok("Compare", json_object_get(o)));
        CHECK(output_ok("Wait", o));

        for (JobState st = JOB_STATE_QUEUED; st < _JOB_STATE_MAX; st++)
                for (Phase ph = PHASE_NONE; ph < _PHASE_MAX; ph++) {
                        s = (JobStatus){.state = st, .phase = ph, .progress_valid = 1, .progress = 0.5,
                                        .expected_end_usec = 1, .queue_position = 2, .bytes_total = UINT64_MAX};
                        o = must(json_object_new_object());
                        json_object_object_add(o, "job", json_object_new_int64(3));
                        json_object_object_add(o, "progress", must(varlink_progress_json(&s)));
                        json_object_object_add(o, "result", json_object_new_object());
                        CHECK(output_ok("Compare", o));
                }
}

static void test_lists(void) {
        char *paths[] = {"/a.img", "/b.img", NULL};
        PoolInfo pi = {.paths = paths, .launched = true, .memory = 1 << 30, .uses = 2};
        CHECK(output_ok("ListPool", wrap("appliances", list1(varlink_appliance_json(&pi)))));
        pi.launched = false;
        json_object *a = must(varlink_appliance_json(&pi));
        CHECK(json_object_get_boolean(json_object_object_get(a, "in_use")));
        CHECK(strlen(json_object_get_string(json_object_object_get(a, "key"))) == 2 * FINGERPRINT_SIZE);
        json_object_put(a);

        LibvirtSnapshot snaps[] = {
                {.name = "s1", .creation_time = 1700000000, .state = "shutoff", .current = false},
                {.name = "s2", .creation_time = 1700000100, .state = "running", .external = true, .parent = "s1",
                 .current = true},
        };
        json_object *l = must(json_object_new_array());
        for (size_t i = 0; i < ELEMENTSOF(snaps); i++)
                json_object_array_add(l, must(varlink_snapshot_json(&snaps[i])));
        CHECK(strcmp(json_object_get_string(json_object_object_get(json_object_array_get_idx(l, 1), "location")),
                     "external") == 0);
        CHECK(output_ok("ListSnapshots", wrap("snapshots", l)));

        StoreItem item = {.label = "/a.img, /b.img", .entries = 5, .bytes = 7, .created_usec = 1, .used_usec = 2};
        CHECK(output_ok("CacheList", wrap("manifests", list1(varlink_cached_manifest_json(&item)))));
        StoreStats st = {.path = "/var/cache/virt-diffd/manifests.sqlite", .manifests = 1, .hits = 3};
        CHECK(output_ok("CacheStats", must(varlink_cache_stats_json(&st))));
}

static void test_errors(void) {
        char buf[128];
        for (ErrorCode c = ERR_OK + 1; c < _ERR_MAX; c++) {
                Error e = {0};
                error_set(&e, c, "went wrong: %d", (int) c);
                const char *name = varlink_error_name(c, buf);
                const VarlinkSymbol *s = varlink_interface_find(iface, VARLINK_SYMBOL_ERROR, name + strlen(VD_VARLINK_INTERFACE "."));
                CHECK(strncmp(name, VD_VARLINK_INTERFACE ".", strlen(VD_VARLINK_INTERFACE ".")) == 0 && s);
                json_object *p = must(varlink_error_parameters(&e));
                char bad[VARLINK_FIELD_PATH_MAX];
                CHECK(s && varlink_validate(s->type, p, bad) == 0);
                json_object_put(p);
        }
}

int main(void) {
        Error e = {0};
        CHECK(varlink_interface_parse(org_virtdiff_VirtDiff1_idl, &iface, &e) == 0);
        test_progress();
        test_lists();
        test_errors();
        varlink_interface_free(iface);
        return test_report();
}

/* Writes the seed corpora of the fuzz targets (fuzz/corpus/TARGET/):
 * manifests with hostile names as the worker sends them and as JSON (an
 * exported manifest), and a manifest cache holding one. Run by tools/fuzz.sh --seeds; the output is
 * committed. */
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz-util.h"
#include "manifest/manifest-json.h"
#include "manifest/test-manifest-util.h"
#include "packages/packages-wire.h"
#include "store/store.h"

static void write_seed(const char *dir, const char *name, const void *data, size_t len) {
        _cleanup_free_ char *path = path_join(dir, name);
        int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
        if (fd < 0 || write(fd, data, len) != (ssize_t) len) {
                fprintf(stderr, "cannot write %s\n", strempty(path));
                exit(1);
        }
        (void) close(fd);
}

/* Names that break naive CSV, JSON and text writers. */
static Manifest *hostile_manifest(bool other) {
        Manifest *m = base_manifest();
        Tree *t = m->trees;
        static const char *const names[] = {
                "/a,b", "/quote\"d", "/new\nline", "/cr\rlf", "/caf\xe9", "/tab\tx", "/back\\slash", "/\x01\x7f",
                "/\xf0\x9f\x98\x80", "/=cmd()",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (!other || i % 2)
                        entry_make(t, names[i], i % 3 ? ENTRY_KIND_FILE : ENTRY_KIND_SYMLINK)->size = i + other;
        Entry *e = entry_make(t, "/x,attr", ENTRY_KIND_FILE);
        entry_add_xattr(e, "user.\n\"", other ? "1" : "2");
        manifest_sort(m);
        return m;
}

/* A package set with hostile names, every flag and digest size, measured
 * digests, a symlink target; and one that carries its database's error. */
static void package_seeds(const char *dir) {
        PackageSet *ps = package_set_new();
        uint8_t d[DIGEST_MAX_SIZE];
        memset(d, 0x5a, sizeof d);
        if (!ps || package_set_add_package(ps, "vd,\"base\"", "x86_64", "1:1.0~rc1-1") < 0 ||
            package_set_add_package(ps, "vd\nsame", "", "2.0") < 0)
                exit(1);
        static const char *const paths[] = {"/etc/vd", "/etc/vd/a,b.conf", "/usr/bin/caf\xe9", "/usr/lib/new\nline",
                                            "/usr/lib/link", "/var/log/ghost"};
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                for (uint32_t p = 0; p < 2; p++)
                        if (package_set_add_file(ps, paths[i], p, (unsigned) (i + p) & _OWNED_FLAGS_ALL,
                                                 (DigestAlgo) ((i + p) % _DIGEST_MAX), d,
                                                 i == 4 ? "libvd.so.1" : NULL) < 0)
                                exit(1);
        if (package_set_finish(ps) < 0)
                exit(1);
        (void) package_set_observe(ps, "/etc/vd/a,b.conf", DIGEST_MD5, d);
        (void) package_set_observe(ps, "/usr/bin/caf\xe9", DIGEST_SHA1, d);
        for (int i = 0; i < 2; i++) {
                WireBuf buf = {0};
                package_set_encode(ps, &buf);
                write_seed(dir, i ? "failed" : "set", buf.data, buf.len);
                wire_buf_done(&buf);
                Error e = {.code = ERR_CORRUPT_PACKAGE_DB};
                snprintf(e.message, sizeof e.message, "var/lib/dpkg/status, line 7: a NUL byte");
                if (package_set_fail(ps, &e) < 0)
                        exit(1);
        }
        package_set_free(ps);
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: seed-gen CORPUS-DIR\n");
                return 2;
        }
        _cleanup_free_ char *wire = path_join(argv[1], "manifest-wire"), *store = path_join(argv[1], "store");
        _cleanup_free_ char *json = path_join(argv[1], "manifest-json");
        _cleanup_free_ char *packages = path_join(argv[1], "packages-wire");
        (void) mkdir(wire, 0755);
        (void) mkdir(store, 0755);
        (void) mkdir(json, 0755);
        (void) mkdir(packages, 0755);
        package_seeds(packages);

        Manifest *a = hostile_manifest(false), *b = hostile_manifest(true), *base = base_manifest();
        manifest_sort(base);
        const Manifest *ms[] = {a, b, base};
        for (size_t i = 0; i < ELEMENTSOF(ms); i++) {
                WireBuf buf = {0};
                char name[32];
                manifest_encode(ms[i], &buf);
                snprintf(name, sizeof name, "manifest-%zu", i);
                write_seed(wire, name, buf.data, buf.len);
                wire_buf_done(&buf);

                json_object *o = manifest_to_json(ms[i], "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
                const char *text = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY) : NULL;
                if (!text)
                        return 1;
                write_seed(json, name, text, strlen(text));
                json_object_put(o);
        }

        /* A store with two manifests: load, compare, render. */
        char tmpl[] = "/tmp/seed-gen.XXXXXX";
        if (!mkdtemp(tmpl))
                return 1;
        _cleanup_free_ char *db = path_join(tmpl, "m.sqlite");
        Store *s = NULL;
        Error e = {0};
        uint8_t k1[FINGERPRINT_SIZE] = {1}, k2[FINGERPRINT_SIZE] = {2};
        StoreDisk d1 = {"/images/a,\"b\".img", k1}, d2 = {"/images/b\n.img", k2};
        if (store_open(db, 1 << 20, &s, &e) < 0 || store_save_manifest(s, k1, &d1, 1, a, &e) < 0 ||
            store_save_manifest(s, k2, &d2, 1, b, &e) < 0) {
                fprintf(stderr, "store: %s\n", e.message);
                return 1;
        }
        store_close(s);
        /* Checkpointed into the one file by the close. */
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "cp %s %s/cache.sqlite", db, store) < 0 || system(cmd) != 0)
                return 1;
        rm_rf(tmpl);
        manifest_free(a);
        manifest_free(b);
        manifest_free(base);
        return 0;
}

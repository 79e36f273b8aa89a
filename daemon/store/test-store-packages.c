/* Package sets in the store: saved beside their manifest, loaded back
 * byte for byte, gone with their manifest, dropped when damaged, and the
 * version 2 -> 3 migration. */
#include "packages/packages-wire.h"
#include "store/test-store-util.h"

static PackageSet *sample(void) {
        PackageSet *ps = must(package_set_new());
        uint8_t md5[16];
        memset(md5, 0x42, sizeof md5);
        ps->format = PACKAGE_FORMAT_DPKG;
        CHECK(package_set_add_package(ps, "vd-base", "amd64", "1.1-1") == 0);
        CHECK(package_set_add_file(ps, "/usr/bin/vd-base", 0, 0, DIGEST_MD5, md5, NULL) == 0);
        CHECK(package_set_add_file(ps, "/etc/vd/base.conf", 0, OWNED_CONFIG, DIGEST_MD5, md5, NULL) == 0);
        CHECK(package_set_finish(ps) == 0);
        CHECK(package_set_observe(ps, "/usr/bin/vd-base", DIGEST_MD5, md5) == 1);
        return ps;
}

static bool same_encoding(const PackageSet *a, const PackageSet *b) {
        WireBuf x = {}, y = {};
        package_set_encode(a, &x);
        package_set_encode(b, &y);
        bool r = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
        wire_buf_done(&x);
        wire_buf_done(&y);
        return r;
}

int main(void) {
        if (test_store_setup() < 0)
                return 1;
        _cleanup_free_ char *path = tmp_path("packages.sqlite");
        Store *s = open_store(path, 1 << 30);
        Manifest *m = manifest_full();
        PackageSet *ps = sample(), *back = NULL;
        uint8_t key[FINGERPRINT_SIZE];
        Error e = {};
        key_make(key, 1);

        /* No manifest yet: nothing to attach it to. */
        CHECK(store_save_packages(s, key, ps, &e) == -ENOENT);
        CHECK(save(s, 1, m, "/images/a.img", 1) == 0);
        CHECK(store_load_packages(s, key, &back, &e) == 0);
        uint64_t before = manifest_bytes(s, 1);
        CHECK(store_save_packages(s, key, ps, &e) == 0);
        CHECK(manifest_bytes(s, 1) > before);
        CHECK(store_load_packages(s, key, &back, &e) == 1);
        CHECK(back && same_encoding(ps, back));
        back = package_set_free(back);
        /* Saved again: replaced, its size counted once. */
        uint64_t once = manifest_bytes(s, 1);
        CHECK(store_save_packages(s, key, ps, &e) == 0);
        CHECK(manifest_bytes(s, 1) == once);

        /* Survives a reopen; a failed database's set too. */
        store_close(s);
        s = open_store(path, 1 << 30);
        CHECK(store_load_packages(s, key, &back, &e) == 1 && same_encoding(ps, back));
        back = package_set_free(back);
        Error fail = {.code = ERR_CORRUPT_PACKAGE_DB};
        strcpy(fail.message, "var/lib/dpkg/status, line 1: a NUL byte");
        PackageSet *failed = sample();
        CHECK(package_set_fail(failed, &fail) == 0);
        CHECK(store_save_packages(s, key, failed, &e) == 0);
        CHECK(store_load_packages(s, key, &back, &e) == 1 && back->error == ERR_CORRUPT_PACKAGE_DB &&
              strcmp(back->error_message, fail.message) == 0);
        back = package_set_free(back);
        package_set_free(failed);
        CHECK(store_save_packages(s, key, ps, &e) == 0);

        /* The manifest saved again (a rescan): its old package list goes. */
        CHECK(save(s, 1, m, "/images/a.img", 1) == 0);
        CHECK(store_load_packages(s, key, &back, &e) == 0);
        CHECK(store_save_packages(s, key, ps, &e) == 0);
        store_close(s);

        /* Damaged bytes: dropped, a miss, the manifest kept. */
        CHECK(sql(path, "UPDATE packages SET data = substr(data, 1, 20)") == SQLITE_OK);
        s = open_store(path, 1 << 30);
        CHECK(store_load_packages(s, key, &back, &e) == 0 && !back);
        CHECK(has_manifest(s, 1));
        CHECK(store_save_packages(s, key, ps, &e) == 0);
        store_close(s);
        CHECK(sql(path, "UPDATE packages SET format = 'rpm'") == SQLITE_OK);
        s = open_store(path, 1 << 30);
        CHECK(store_load_packages(s, key, &back, &e) == 0);
        store_close(s);

        /* A version 2 store gains the table and keeps its manifests. */
        CHECK(sql(path, "DROP TABLE packages; PRAGMA user_version = 2;") == SQLITE_OK);
        s = open_store(path, 1 << 30);
        CHECK(s && has_manifest(s, 1));
        CHECK(store_load_packages(s, key, &back, &e) == 0);
        CHECK(store_save_packages(s, key, ps, &e) == 0);
        CHECK(store_load_packages(s, key, &back, &e) == 1);
        package_set_free(back);
        bool ok = false;
        char *msg = NULL;
        CHECK(store_verify(s, &ok, &msg) == 0 && ok);
        free(msg);
        store_close(s);

        package_set_free(ps);
        manifest_free(m);
        return test_store_finish();
}

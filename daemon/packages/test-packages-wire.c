/* Package sets on the wire: a round trip, every truncation, byte flips and
 * hostile values, each refused by name or decoded into a valid set. */
#include "common/test-util.h"
#include "packages/packages-wire.h"

static PackageSet *sample(void) {
        PackageSet *ps = must(package_set_new());
        ps->format = PACKAGE_FORMAT_DPKG;
        CHECK(package_set_add_package(ps, "zlib1g", "amd64", "1:1.2.13.dfsg-1") == 0);
        CHECK(package_set_add_package(ps, "base-files", "amd64", "12.4+deb12u5") == 0);
        uint8_t md5[16], sha[32];
        memset(md5, 0x5a, sizeof md5);
        memset(sha, 0xa5, sizeof sha);
        CHECK(package_set_add_file(ps, "/usr/lib/libz.so.1", 0, 0, DIGEST_MD5, md5, NULL) == 0);
        CHECK(package_set_add_file(ps, "/etc/issue", 1, OWNED_CONFIG, DIGEST_MD5, md5, NULL) == 0);
        CHECK(package_set_add_file(ps, "/etc", 1, 0, DIGEST_NONE, NULL, NULL) == 0);
        CHECK(package_set_add_file(ps, "/etc", 0, 0, DIGEST_NONE, NULL, NULL) == 0);
        CHECK(package_set_add_file(ps, "/usr/lib/libz.so", 0, OWNED_GHOST, DIGEST_NONE, NULL, "libz.so.1") == 0);
        CHECK(package_set_add_file(ps, "/usr/bin/x\xff", 1, 0, DIGEST_SHA256, sha, NULL) == 0);
        CHECK(package_set_finish(ps) == 0);
        CHECK(package_set_observe(ps, "/usr/lib/libz.so.1", DIGEST_MD5, md5) == 1);
        return ps;
}

static bool same_sets(const PackageSet *a, const PackageSet *b) {
        if (a->format != b->format || a->error != b->error || !streq_ptr(a->error_message, b->error_message) ||
            a->n_packages != b->n_packages || a->n_files != b->n_files)
                return false;
        for (size_t i = 0; i < a->n_packages; i++)
                if (strcmp(a->packages[i].name, b->packages[i].name) || strcmp(a->packages[i].arch, b->packages[i].arch) ||
                    strcmp(a->packages[i].version, b->packages[i].version))
                        return false;
        for (size_t i = 0; i < a->n_files; i++) {
                const OwnedFile *x = &a->files[i], *y = &b->files[i];
                size_t s = digest_algo_size(x->algo);
                if (strcmp(x->path, y->path) || x->package != y->package || x->flags != y->flags ||
                    x->algo != y->algo || x->has_observed != y->has_observed || !streq_ptr(x->link, y->link) ||
                    (s && memcmp(x->digest, y->digest, s)) || (x->has_observed && memcmp(x->observed, y->observed, s)))
                        return false;
        }
        return true;
}

/* A decoded set must be one the rest of the daemon can trust. */
static bool valid(const PackageSet *ps) {
        for (size_t i = 0; i < ps->n_files; i++) {
                if (ps->files[i].package >= ps->n_packages || ps->files[i].path[0] != '/')
                        return false;
                if (i > 0 && path_compare(ps->files[i - 1].path, ps->files[i].path) > 0)
                        return false;
        }
        return true;
}

int main(void) {
        PackageSet *ps = sample();
        CHECK(strcmp(ps->packages[0].name, "base-files") == 0);
        WireBuf b = {0};
        package_set_encode(ps, &b);
        CHECK(!b.failed);

        PackageSet *back = NULL;
        Error e = {0};
        CHECK(package_set_decode(b.data, b.len, &back, &e) == 0);
        CHECK(back && same_sets(ps, back));
        package_set_free(back);

        /* Every truncation is refused. */
        unsigned refused = 0;
        for (size_t l = 0; l < b.len; l++) {
                Error te = {0};
                PackageSet *t = NULL;
                if (package_set_decode(b.data, l, &t, &te) < 0 && te.code == ERR_SCAN_FAILED)
                        refused++;
                package_set_free(t);
        }
        CHECK(refused == b.len);

        /* Every byte flipped: refused by name, or a valid set. */
        unsigned bad = 0;
        for (size_t i = 0; i < b.len; i++)
                for (unsigned bit = 0; bit < 8; bit++) {
                        uint8_t *copy = must(malloc(b.len));
                        memcpy(copy, b.data, b.len);
                        copy[i] ^= (uint8_t) (1u << bit);
                        Error fe = {0};
                        PackageSet *t = NULL;
                        int r = package_set_decode(copy, b.len, &t, &fe);
                        if ((r < 0 && fe.code != ERR_SCAN_FAILED && fe.code != ERR_INTERNAL) || (r == 0 && !valid(t)))
                                bad++;
                        package_set_free(t);
                        free(copy);
                }
        CHECK(bad == 0);

        /* A failed database travels as its error, with no packages. */
        Error fail = {.code = ERR_CORRUPT_PACKAGE_DB};
        strcpy(fail.message, "var/lib/dpkg/status, line 3: a NUL byte");
        CHECK(package_set_fail(ps, &fail) == 0);
        wire_buf_done(&b);
        package_set_encode(ps, &b);
        CHECK(package_set_decode(b.data, b.len, &back, &e) == 0 && same_sets(ps, back));
        CHECK(back->error == ERR_CORRUPT_PACKAGE_DB && back->format == PACKAGE_FORMAT_DPKG);
        package_set_free(back);

        /* Hostile values: an error code past the table, files out of order. */
        WireBuf h = {0};
        wire_put_u32(&h, 1);
        wire_put_u8(&h, PACKAGE_FORMAT_RPM);
        wire_put_u32(&h, _ERR_MAX);
        wire_put_optstr(&h, "x");
        wire_put_u32(&h, 0);
        wire_put_u32(&h, 0);
        e = (Error){0};
        CHECK(package_set_decode(h.data, h.len, &back, &e) < 0 && strstr(e.message, "format or error"));
        wire_buf_done(&h);
        wire_put_u32(&h, 1);
        wire_put_u8(&h, PACKAGE_FORMAT_RPM);
        wire_put_u32(&h, 0);
        wire_put_optstr(&h, NULL);
        wire_put_u32(&h, 1);
        wire_put_str(&h, "p");
        wire_put_str(&h, "noarch");
        wire_put_str(&h, "1-1");
        wire_put_u32(&h, 2);
        for (int i = 0; i < 2; i++) {
                wire_put_str(&h, i ? "/a" : "/b");
                wire_put_u32(&h, 0);
                wire_put_u8(&h, 0);
                wire_put_u8(&h, DIGEST_NONE);
                wire_put_u8(&h, 0);
                wire_put_optstr(&h, NULL);
        }
        e = (Error){0};
        CHECK(package_set_decode(h.data, h.len, &back, &e) < 0 && strstr(e.message, "out of order"));
        wire_buf_done(&h);

        wire_buf_done(&b);
        package_set_free(ps);
        return test_report();
}

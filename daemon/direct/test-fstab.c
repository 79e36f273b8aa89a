/* fstab through libmount, behind the line check that keeps it to what
 * Augeas' lens reads the same way. */
#include "common/test-util.h"
#include "direct/fstab.h"

static int parse(const char *text, Fstab *f) {
        Error e = {};
        int r = fstab_parse(text, strlen(text), f, &e);
        CHECK(r == 0 || e.code == ERR_DIRECT_UNSUPPORTED);
        return r;
}

static void test_parsed(void) {
        Fstab f = {};
        const char *text = "# /etc/fstab: static file system information.\n"
                           "\n"
                           "UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0004 /               ext4    errors=remount-ro 0       1\n"
                           "  LABEL=\"boot\"  /boot ext4 defaults 0 2\n"
                           "/dev/vdb1\t/data\text4\n"
                           "PARTUUID=1234-02 /srv ext4 defaults,nofail 0 0\n"
                           "tmpfs /tmp tmpfs mode=1777,size=10%\n"
                           "\t# indented comment\n";
        CHECK(parse(text, &f) == 0);
        CHECK(f.n == 5);
        if (f.n == 5) {
                CHECK(streq_ptr(f.v[0].spec, "UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0004") &&
                      streq_ptr(f.v[0].file, "/") && streq_ptr(f.v[0].vfstype, "ext4"));
                CHECK(streq_ptr(f.v[1].spec, "LABEL=\"boot\"") && streq_ptr(f.v[1].file, "/boot"));
                CHECK(streq_ptr(f.v[2].spec, "/dev/vdb1") && streq_ptr(f.v[2].file, "/data"));
                CHECK(streq_ptr(f.v[3].spec, "PARTUUID=1234-02"));
                CHECK(streq_ptr(f.v[4].vfstype, "tmpfs"));
        }
        fstab_done(&f);

        CHECK(parse("", &f) == 0 && f.n == 0);
        CHECK(parse("# only a comment\n", &f) == 0 && f.n == 0);
}

static void test_refused(void) {
        Fstab f = {};
        const char *bad[] = {
                "/dev/sda1 / ext4 defaults 0 1",            /* no final newline */
                "/dev/sda1 / ext4 defaults 0 1 # here\n",   /* inline comment */
                "/dev/sda1 /my\\040dir ext4 defaults\n",     /* an escape */
                "/dev/sda1 /\n",                            /* two fields */
                "/dev/sda1 / ext4 defaults 0 1 extra\n",    /* seven fields */
                "/dev/sda1 / ext4 defaults x 1\n",          /* dump not a number */
                "/dev/sda1 / ext4 defaults,,ro 0 1\n",      /* empty option */
                ",x / ext4\n",                              /* spec starting with a comma */
                "/dev/sda1 / ext4 defaults 0 1\r\n",        /* a carriage return */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = parse(bad[i], &f);
                CHECK(r < 0);
                if (r >= 0) {
                        fprintf(stderr, "  accepted: %s\n", bad[i]);
                        fstab_done(&f);
                }
        }
}

static void test_canonical(void) {
        const struct {
                const char *in, *out;
        } cases[] = {{"/", "/"}, {"//boot//", "/boot"}, {"/var//log/", "/var/log"}, {"none", "none"}, {"", ""}};
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *c = fstab_canonical_path(cases[i].in);
                CHECK(streq_ptr(c, cases[i].out));
        }
}

int main(void) {
        test_parsed();
        test_refused();
        test_canonical();
        return test_report();
}

/* dpkg's version order: known pairs, then random versions compared by
 * dpkg --compare-versions itself. */
#include "common/test-util.h"
#include "packages/dpkg-version.h"
#include "packages/test-packages-util.h"

static int sign(int v) {
        return v < 0 ? -1 : v > 0;
}

static void known_pairs(void) {
        static const struct {
                const char *a, *b;
                int order;
        } pairs[] = {
                {"1.0", "1.0", 0},
                {"1.0", "1.0-0", 0},       /* no revision is revision "" == "0" */
                {"1.0-1", "1.0-2", -1},
                {"1.0", "1.1", -1},
                {"1.2", "1.10", -1},       /* digits compare as numbers */
                {"1.0~rc1", "1.0", -1},    /* ~ before the end */
                {"1.0~~", "1.0~", -1},
                {"1.0~rc1-1", "1.0-1", -1},
                {"1:0.9", "2.0", 1},       /* the epoch wins */
                {"0:1.0", "1.0", 0},
                {"1.0a", "1.0", 1},        /* a letter after the end */
                {"1.0a", "1.0+", -1},      /* letters before other characters */
                {"1.0+dfsg", "1.0.1", -1},
                {"2.30-1", "2.3-1", 1},
                {"007", "7", 0},           /* leading zeros */
                {"1.0-1ubuntu1", "1.0-1", 1},
                {"3.0.11-1~deb12u2", "3.0.11-1", -1},
                {"10:1", "9:9", 1},
                {"1-2-3", "1-2-4", -1},    /* the last hyphen starts the revision */
        };
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
                int got = sign(dpkg_version_compare(pairs[i].a, pairs[i].b));
                int back = sign(dpkg_version_compare(pairs[i].b, pairs[i].a));
                CHECK(got == pairs[i].order && back == -pairs[i].order);
                if (got != pairs[i].order)
                        fprintf(stderr, "%s vs %s: %d, expected %d\n", pairs[i].a, pairs[i].b, got, pairs[i].order);
        }
}

static void validity(void) {
        const char *why = NULL;
        CHECK(dpkg_version_valid("1:2.3-4", NULL));
        CHECK(dpkg_version_valid("2.3~rc1+dfsg", NULL));
        CHECK(!dpkg_version_valid("", &why) && strstr(why, "empty"));
        CHECK(!dpkg_version_valid("1 2", &why) && strstr(why, "spaces"));
        CHECK(!dpkg_version_valid("x:1", &why) && strstr(why, "not a number"));
        CHECK(!dpkg_version_valid(":1", &why) && strstr(why, "empty"));
        CHECK(!dpkg_version_valid("99999999999:1", &why) && strstr(why, "too big"));
        CHECK(!dpkg_version_valid("1:", &why) && strstr(why, "nothing after colon"));
        CHECK(!dpkg_version_valid("1.0-", &why) && strstr(why, "revision number is empty"));
}

/* A random valid version: [epoch:]upstream[-revision]. */
static void random_version(char *buf, size_t size, unsigned *seed) {
        static const char chars[] = "0123456789.+~abz";
        size_t o = 0;
        if (rand_r(seed) % 5 == 0)
                o += (size_t) snprintf(buf + o, size - o, "%d:", rand_r(seed) % 3);
        buf[o++] = (char) ('0' + rand_r(seed) % 10);
        for (int n = rand_r(seed) % 6; n > 0; n--)
                buf[o++] = chars[rand_r(seed) % (sizeof chars - 1)];
        if (rand_r(seed) % 2) {
                buf[o++] = '-';
                buf[o++] = chars[rand_r(seed) % 10];
                for (int n = rand_r(seed) % 4; n > 0; n--)
                        buf[o++] = chars[rand_r(seed) % (sizeof chars - 1)];
        }
        buf[o] = 0;
}

static void against_dpkg(void) {
        if (!have_program("dpkg")) {
                fprintf(stderr, "no dpkg: random pairs skipped\n");
                return;
        }
        enum { N = 400 };
        char a[N][40], b[N][40];
        unsigned seed = 20261202;
        char *script = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&script, &len);
        for (int i = 0; i < N; i++) {
                random_version(a[i], sizeof a[i], &seed);
                /* Half the pairs share a prefix, so that the interesting
                 * part is the tail. */
                if (i % 2) {
                        strcpy(b[i], a[i]);
                        size_t l = strlen(b[i]);
                        char tail[40];
                        random_version(tail, sizeof tail, &seed);
                        snprintf(b[i] + l / 2, sizeof b[i] - l / 2, "%s", strchr(tail, ':') ? strchr(tail, ':') + 1 : tail);
                        const char *why;
                        if (!dpkg_version_valid(b[i], &why))
                                strcpy(b[i], tail);
                } else
                        random_version(b[i], sizeof b[i], &seed);
                fprintf(m, "if dpkg --compare-versions '%s' lt '%s'; then echo -1; "
                           "elif dpkg --compare-versions '%s' eq '%s'; then echo 0; else echo 1; fi\n",
                        a[i], b[i], a[i], b[i]);
        }
        fclose(m);
        char *path = must(strdup("/tmp/vd-dpkg-versions-XXXXXX"));
        int fd = mkstemp(path);
        CHECK(fd >= 0 && write(fd, script, len) == (ssize_t) len);
        close(fd);
        char *out = capture("sh %s 2>/dev/null", path);
        unlink(path);
        free(path);
        free(script);
        CHECK(out != NULL);
        char *s = out;
        unsigned disagree = 0;
        for (int i = 0; out && i < N; i++) {
                int theirs = (int) strtol(s, &s, 10);
                int ours = sign(dpkg_version_compare(a[i], b[i]));
                if (ours != theirs) {
                        disagree++;
                        fprintf(stderr, "%s vs %s: ours %d, dpkg %d\n", a[i], b[i], ours, theirs);
                }
        }
        CHECK(disagree == 0);
        free(out);
}

int main(void) {
        known_pairs();
        validity();
        against_dpkg();
        return test_report();
}

#include "packages/dpkg-version.h"

#include <limits.h>
#include <string.h>

typedef struct Slice {
        const char *p, *end;
} Slice;

typedef struct Version {
        unsigned long epoch;
        Slice upstream, revision;
} Version;

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Splits at the first ':' (epoch) and the last '-' (revision). */
static void split(const char *s, Version *v) {
        const char *end = s + strlen(s), *colon = strchr(s, ':');
        v->epoch = 0;
        if (colon) {
                for (const char *p = s; p < colon && is_digit(*p) && v->epoch < INT_MAX; p++)
                        v->epoch = v->epoch * 10 + (unsigned long) (*p - '0');
                s = colon + 1;
        }
        const char *hyphen = strrchr(s, '-');
        v->upstream = (Slice){s, hyphen ? hyphen : end};
        v->revision = hyphen ? (Slice){hyphen + 1, end} : (Slice){end, end};
}

/* A character's weight in a non-digit run; the end of the string weighs 0. */
static int order(const char *p, const char *end) {
        if (p >= end || is_digit(*p))
                return 0;
        if (is_alpha(*p))
                return (unsigned char) *p;
        if (*p == '~')
                return -1;
        return (unsigned char) *p + 256;
}

static int compare_part(Slice a, Slice b) {
        const char *x = a.p, *y = b.p;
        while (x < a.end || y < b.end) {
                while ((x < a.end && !is_digit(*x)) || (y < b.end && !is_digit(*y))) {
                        int c = order(x, a.end) - order(y, b.end);
                        if (c != 0)
                                return c;
                        x++;
                        y++;
                }
                while (x < a.end && *x == '0')
                        x++;
                while (y < b.end && *y == '0')
                        y++;
                int first_diff = 0;
                while (x < a.end && y < b.end && is_digit(*x) && is_digit(*y)) {
                        if (first_diff == 0)
                                first_diff = *x - *y;
                        x++;
                        y++;
                }
                if (x < a.end && is_digit(*x))
                        return 1;
                if (y < b.end && is_digit(*y))
                        return -1;
                if (first_diff != 0)
                        return first_diff;
        }
        return 0;
}

int dpkg_version_compare(const char *a, const char *b) {
        Version va, vb;
        split(a, &va);
        split(b, &vb);
        if (va.epoch != vb.epoch)
                return va.epoch < vb.epoch ? -1 : 1;
        int c = compare_part(va.upstream, vb.upstream);
        if (c != 0)
                return c;
        return compare_part(va.revision, vb.revision);
}

bool dpkg_version_valid(const char *v, const char **ret_why) {
        const char *why = NULL;
        if (!v[0])
                why = "empty version";
        else if (strpbrk(v, " \t\n\r\f\v"))
                why = "version string has embedded spaces";
        else {
                const char *colon = strchr(v, ':'), *s = v;
                if (colon) {
                        unsigned long epoch = 0;
                        if (colon == v)
                                why = "epoch in version is empty";
                        for (const char *p = v; !why && p < colon; p++) {
                                if (!is_digit(*p))
                                        why = "epoch in version is not a number";
                                else if ((epoch = epoch * 10 + (unsigned long) (*p - '0')) > INT_MAX)
                                        why = "epoch in version is too big";
                        }
                        s = colon + 1;
                }
                const char *hyphen = strrchr(s, '-');
                if (!why && (!s[0] || s == hyphen))
                        why = "nothing after colon in version number";
                else if (!why && hyphen && !hyphen[1])
                        why = "revision number is empty";
        }
        if (why && ret_why)
                *ret_why = why;
        return !why;
}

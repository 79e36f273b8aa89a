/* Field formatting shared by the text, CSV and virt-diff writers: sizes
 * (exact or human-readable), times (date, epoch, relative, days), xattrs
 * and checksums. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "common/base64.h"
#include "output/output-internal.h"

json_object *present_side(json_object *o) {
        json_object *n = json_get(o, "new", json_type_object);
        return n ? n : json_get(o, "old", json_type_object);
}

uint64_t json_get_u64(json_object *o, const char *key) {
        return json_object_get_uint64(json_get(o, key, json_type_int));
}

int64_t json_get_i64(json_object *o, const char *key) {
        return json_object_get_int64(json_get(o, key, json_type_int));
}

/* Powers of 1024 with one decimal below 10 ("4.0K", "12K", "1.5G"),
 * rounded to nearest: what ls -h and upstream virt-diff -h print. */
void format_size(char buf[static 32], uint64_t size, bool human) {
        static const char units[] = "KMGTPE";

        if (!human || size < 1024) {
                snprintf(buf, 32, "%" PRIu64, size);
                return;
        }
        double v = (double) size;
        size_t u = 0;
        for (v /= 1024; v >= 1024 && u + 1 < sizeof(units) - 1; u++)
                v /= 1024;
        if (v < 9.95)
                snprintf(buf, 32, "%.1f%c", v, units[u]);
        else if (v < 1023.5 || u + 1 >= sizeof(units) - 1)
                snprintf(buf, 32, "%.0f%c", v, units[u]);
        else
                snprintf(buf, 32, "1.0%c", units[u + 1]);
}

void format_time(char buf[static 64], int64_t ns, const OutputOptions *o) {
        /* Floor division that cannot overflow: -INT64_MIN would (found by
         * fuzz/fuzz-manifest-wire.c). */
        int64_t secs = ns / 1000000000 - (ns % 1000000000 < 0);
        int64_t now = o->now ? o->now : (int64_t) time(NULL);

        switch (o->time_format) {
        case TIME_T:
                snprintf(buf, 64, "%" PRIi64, secs);
                return;
        case TIME_RELATIVE:
                snprintf(buf, 64, "%" PRIi64, now - secs);
                return;
        case TIME_DAYS:
                snprintf(buf, 64, "%" PRIi64, (now - secs) / 86400);
                return;
        case TIME_DATE:
        default: {
                time_t t = (time_t) secs;
                struct tm tm;
                if (!localtime_r(&t, &tm) || strftime(buf, 64, "%F %T", &tm) == 0)
                        snprintf(buf, 64, "%" PRIi64, secs);
                return;
        }
        }
}

static void printable_write(FILE *f, const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i] > 0x20 && p[i] < 0x7f && p[i] != '\\')
                        fputc(p[i], f);
                else
                        fprintf(f, "\\x%02x", p[i]);
}

void xattrs_foreach(json_object *stat, void (*fn)(void *userdata, const uint8_t *name, size_t name_len,
                                                 const uint8_t *value, size_t value_len),
                    void *userdata) {
        json_object *xs = json_get(stat, "xattrs", json_type_array);

        for (size_t i = 0; i < json_array_length(xs); i++) {
                json_object *x = json_object_array_get_idx(xs, i);
                _cleanup_free_ char *name = NULL;
                _cleanup_free_ uint8_t *value = NULL;
                size_t nlen = 0;

                if (json_get_bytes(x, "name", &name, &nlen) < 0)
                        continue;
                long vlen = base64_decode(strempty(json_get_string(x, "value_base64")), &value);
                fn(userdata, (const uint8_t *) name, nlen, value, vlen > 0 ? (size_t) vlen : 0);
        }
}

typedef struct XattrWrite {
        FILE *f;
        char sep;
} XattrWrite;

static void xattr_write(void *userdata, const uint8_t *name, size_t name_len, const uint8_t *value,
                        size_t value_len) {
        XattrWrite *w = userdata;

        fputc(w->sep, w->f);
        printable_write(w->f, name, name_len);
        fputc(w->sep, w->f);
        printable_write(w->f, value, value_len);
}

void xattrs_write(FILE *f, json_object *stat, char sep) {
        XattrWrite w = {.f = f, .sep = sep};

        xattrs_foreach(stat, xattr_write, &w);
}

const char *stat_checksum(json_object *stat) {
        if (!streq_ptr(json_get_string(stat, "kind"), "file"))
                return NULL;
        return json_get_string(stat, "checksum") ?: json_get_string(stat, "sha256");
}

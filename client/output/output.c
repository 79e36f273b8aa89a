/* The writers, one per format behind one table, and what they share: the
 * -t filter applied once, the exit status read from what is shown. */
#include "output/output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "output/output-internal.h"

static int output_json(FILE *f, json_object *result, const OutputOptions *o _unused_) {
        const char *s = json_object_to_json_string_ext(result, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        fputs(s, f);
        fputc('\n', f);
        return 0;
}

static const struct {
        const char *name;
        int (*write)(FILE *f, json_object *result, const OutputOptions *o);
} writers[_OUTPUT_FORMAT_MAX] = {
        [OUTPUT_TEXT] = {"text", output_text},
        [OUTPUT_JSON] = {"json", output_json},
        [OUTPUT_CSV] = {"csv", output_csv},
        [OUTPUT_NDJSON] = {"ndjson", output_ndjson},
        [OUTPUT_SUMMARY] = {"summary", output_summary},
        [OUTPUT_VIRT_DIFF] = {"virt-diff", output_virt_diff},
        [OUTPUT_MARKDOWN] = {"markdown", output_markdown},
        [OUTPUT_HTML] = {"html", output_html},
};

const char *output_format_to_string(OutputFormat f) {
        return (unsigned) f < _OUTPUT_FORMAT_MAX ? writers[f].name : NULL;
}

int output_format_from_string(const char *s) {
        for (size_t i = 0; i < _OUTPUT_FORMAT_MAX; i++)
                if (streq_ptr(s, writers[i].name))
                        return (int) i;
        return -EINVAL;
}

int output_write(FILE *f, json_object *result, const OutputOptions *o) {
        return output_write_view(f, result, o, NULL);
}

int output_write_view(FILE *f, json_object *result, const OutputOptions *o, bool *ret_differs) {
        static const OutputOptions defaults = {};
        _cleanup_json_ json_object *view = NULL;
        int k;

        if (!f || !json_object_is_type(result, json_type_object))
                return -EINVAL;
        if (!o)
                o = &defaults;
        if ((unsigned) o->format >= _OUTPUT_FORMAT_MAX)
                return -EINVAL;

        if (o->types) {
                k = output_result_filter(result, o, &view);
                if (k < 0)
                        return k;
        } else
                view = json_object_get(result);
        if (ret_differs) {
                json_object *d = json_get(json_get(view, "summary", json_type_object), "differences", json_type_boolean);
                *ret_differs = d && json_object_get_boolean(d);
        }

        k = writers[o->format].write(f, view, o);
        if (k < 0)
                return k;
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}

int output_write_file(const char *path, json_object *result, const OutputOptions *o) {
        char *tmp;
        FILE *f;
        int k = fopen_temporary(path, &f, &tmp);

        if (k < 0)
                return k;
        return fclose_and_rename(f, tmp, path, output_write(f, result, o));
}

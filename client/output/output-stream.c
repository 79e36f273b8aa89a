/* Printing a comparison as the daemon's change stream brings it: the same
 * bytes the whole-result writers print, a change at a time, for the
 * formats whose lines do not depend on what comes later. */
#include "output/output.h"

#include <errno.h>

#include "output/output-internal.h"

bool output_streams(const OutputOptions *o) {
        if (o->types || o->html_path || o->packages || o->explain || o->unified)
                return false;
        return o->format == OUTPUT_TEXT || o->format == OUTPUT_CSV || o->format == OUTPUT_NDJSON ||
               o->format == OUTPUT_SUMMARY;
}

/* Text names a change's tree only when the changes come from several
 * trees, which is known at the start only when fewer than two were
 * compared. */
bool output_stream_fits(json_object *head, const OutputOptions *o) {
        if (!output_streams(o))
                return false;
        if (o->format != OUTPUT_TEXT)
                return true;
        json_object *trees = json_get(head, "trees", json_type_array);
        return trees && json_array_length(trees) <= 1;
}

int output_stream_head(FILE *f, json_object *head, const OutputOptions *o) {
        switch (o->format) {
        case OUTPUT_TEXT:
                return output_text_head(f, head, o);
        case OUTPUT_CSV:
                return output_csv_head(f, head, o);
        case OUTPUT_NDJSON:
                return output_ndjson_head(f, head, o);
        case OUTPUT_SUMMARY:
                return 0;
        default:
                return -EINVAL;
        }
}

int output_stream_change(FILE *f, json_object *change, const OutputOptions *o) {
        switch (o->format) {
        case OUTPUT_TEXT:
                return output_text_change(f, change, false, o);
        case OUTPUT_CSV:
                return output_csv_change(f, change, o);
        case OUTPUT_NDJSON:
                return output_ndjson_change(f, change, o);
        case OUTPUT_SUMMARY:
                return 0;
        default:
                return -EINVAL;
        }
}

int output_stream_end(FILE *f, json_object *result, const OutputOptions *o) {
        int k = 0;
        if (o->format == OUTPUT_NDJSON)
                k = output_ndjson_end(f, result, o);
        else if (o->format == OUTPUT_SUMMARY)
                k = output_summary(f, result, o);
        if (k < 0)
                return k;
        return fflush(f) != 0 || ferror(f) ? -EIO : 0;
}

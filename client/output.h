/* Output writers: render the daemon's JSON result for people and scripts. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum OutputFormat {
        OUTPUT_TEXT,
        OUTPUT_JSON,
        OUTPUT_CSV,     /* a header row, then one row a filesystem or entry */
        OUTPUT_NDJSON,  /* one {"RECORD": value} object a line */
        OUTPUT_SUMMARY, /* "N added, N removed, N modified, N metadata" */
} OutputFormat;

typedef struct OutputOptions {
        OutputFormat format;
        bool long_listing; /* -l */
        bool mount;        /* -m: show each filesystem's mount point */
        char **types;      /* -t: only these filesystem types (NULL = all) */
} OutputOptions;

/* Writes the result; returns 0 or a negative errno. */
int output_write(FILE *f, json_object *result, const OutputOptions *o);

/* Quotes a byte string for a text line: returned as is when it is valid
 * UTF-8 without control characters, '"' or '\\'; otherwise in double quotes
 * with C escapes (\n, \t, \\, \", \xHH for other bytes). */
char *output_quote(const char *bytes, size_t len);

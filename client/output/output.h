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
        OUTPUT_VIRT_DIFF, /* libguestfs virt-diff's "+ - 0644 SIZE PATH" lines */
        _OUTPUT_FORMAT_MAX,
} OutputFormat;

const char *output_format_to_string(OutputFormat f);
int output_format_from_string(const char *s); /* -EINVAL when unknown */

typedef enum TimeFormat {
        TIME_DATE,     /* "2026-11-25 14:44:25", local time */
        TIME_T,        /* --time-t: seconds since the epoch */
        TIME_RELATIVE, /* --time-relative: seconds before now */
        TIME_DAYS,     /* --time-days: days before now */
} TimeFormat;

typedef struct OutputOptions {
        OutputFormat format;
        bool long_listing; /* -l */
        bool mount;        /* -m: show each filesystem's mount point */
        char **types;      /* -t: only these filesystem types (NULL = all) */
        bool uids;         /* --uids: show owner and group */
        bool times;        /* --times / --time-*: show mtime and ctime (and atime with --atime) */
        bool atime;
        bool extra_stats;  /* --extra-stats: show dev, inode, links, rdev, blocks */
        bool xattrs;       /* --xattrs: show extended attributes */
        bool human;        /* --human-readable sizes */
        bool checksum;     /* --checksum: show each file's content checksum */
        bool unified;      /* -u: show content diffs the daemon attached */
        bool packages;     /* --packages: the package changes before the files */
        bool explain;      /* --explain: file changes grouped by cause, owners named */
        TimeFormat time_format;
        int64_t now;       /* seconds since the epoch for relative times; 0: now */
} OutputOptions;

/* The package changes as CSV: name,arch,change,old_version,new_version. */
int output_packages_csv(FILE *f, json_object *result);

/* Writes the result; returns 0 or a negative errno. */
int output_write(FILE *f, json_object *result, const OutputOptions *o);
/* The same, also telling whether what was shown (after -t) differs: the
 * exit status. */
int output_write_view(FILE *f, json_object *result, const OutputOptions *o, bool *ret_differs);


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
        OUTPUT_MARKDOWN, /* for pull requests and tickets; max_bytes cuts it */
        OUTPUT_HTML,     /* one self-contained page: tree, filters, chart */
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
        bool csv;          /* virt-diff format: upstream's CSV layout */
        TimeFormat time_format;
        int64_t now;       /* seconds since the epoch for relative times; 0: now */
        uint64_t max_bytes; /* --max-bytes: Markdown cut at a whole line to fit (0: no limit) */
        char *html_path;   /* --html=FILE: an HTML report there too */
} OutputOptions;

/* The smallest --max-bytes: what a cut report always keeps (its title,
 * summary and the note saying what was left out) fits in it. */
#define OUTPUT_MIN_MAX_BYTES 1024
/* The package changes as CSV: name,arch,change,old_version,new_version. */
int output_packages_csv(FILE *f, json_object *result);

/* Writes the result; returns 0 or a negative errno. */
int output_write(FILE *f, json_object *result, const OutputOptions *o);
/* The same, also telling whether what was shown (after -t) differs: the
 * exit status. */
int output_write_view(FILE *f, json_object *result, const OutputOptions *o, bool *ret_differs);
/* Sets o's KEY to the bytes of s as the daemon writes names: the string
 * when valid UTF-8, else a lossy one and KEY_base64 with the exact bytes. */
int output_json_set_bytes(json_object *o, const char *key, const char *s);

/* Printing while the job runs, from the daemon's change stream (D-Bus
 * Job.OpenChanges: a head, the changes, an end): the same bytes
 * output_write() prints of the whole result, for text, CSV, NDJSON and
 * the summary without -t, --html, --packages, --explain or -u.
 * output_streams() says whether o's output can be printed so at all,
 * output_stream_fits() whether it can for this head (text cannot when
 * several trees were compared: it names them only if changes come from
 * more than one). Then output_stream_head() once, output_stream_change()
 * for each change and output_stream_end() with the head and the end's
 * members (the summary) together. */
bool output_streams(const OutputOptions *o);
bool output_stream_fits(json_object *head, const OutputOptions *o);
int output_stream_head(FILE *f, json_object *head, const OutputOptions *o);
int output_stream_change(FILE *f, json_object *change, const OutputOptions *o);
int output_stream_end(FILE *f, json_object *result, const OutputOptions *o);

/* output_write() into a new file at path, which replaces an older one only
 * once it is whole. */
int output_write_file(const char *path, json_object *result, const OutputOptions *o);


/* ---- manifests (virt-diffctl manifest): the exported manifest document
 * (schemas/manifest.schema.json) as it is, as CSV, or as a BSD mtree
 * specification ---- */

typedef enum ManifestFormat {
        MANIFEST_JSON,
        MANIFEST_CSV,   /* a header row, then one row an entry */
        MANIFEST_MTREE, /* mtree(5): type, mode, uid, gid, nlink, time, size, link, device, sha256digest */
        _MANIFEST_FORMAT_MAX,
} ManifestFormat;

const char *manifest_format_to_string(ManifestFormat f);
int manifest_format_from_string(const char *s); /* -EINVAL when unknown */
int manifest_output_write(FILE *f, json_object *manifest, ManifestFormat format);

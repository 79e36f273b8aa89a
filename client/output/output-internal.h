/* What the output writers share: reading the daemon's JSON result. */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

#include "common/json-util.h"
#include "common/names.h"
#include "common/quote.h"
#include "common/util.h"
#include "output/output.h"

/* o's KEY when it has that type, else NULL. */
json_object *json_get(json_object *o, const char *key, json_type type);
const char *json_get_string(json_object *o, const char *key);
size_t json_array_length(json_object *a);

/* The exact bytes of a name: NAME_base64 when the daemon had to add it,
 * else NAME; NUL-terminated for convenience, len is what counts. */
int json_get_bytes(json_object *o, const char *key, char **ret, size_t *ret_len);

/* The side an entry or filesystem is described by: new, else old. */
json_object *present_side(json_object *o);
uint64_t json_get_u64(json_object *o, const char *key);
int64_t json_get_i64(json_object *o, const char *key);

/* "TREE:PATH" when with_tree and the tree is not the inspected OS's "/",
 * else "PATH": its exact bytes (NUL-terminated, len is what counts), or
 * quoted by quote_bytes(). */
int output_change_label_bytes(json_object *c, bool with_tree, char **ret, size_t *ret_len);
char *output_change_label(json_object *c, bool with_tree);
/* Whether the changes come from more than one tree. */
bool output_several_trees(json_object *changes);

/* Field formatting shared by the writers. */
void format_size(char buf[static 32], uint64_t size, bool human);
void format_time(char buf[static 64], int64_t ns, const OutputOptions *o);
/* Each xattr of a stat, its name and value as their bytes. */
void xattrs_foreach(json_object *stat, void (*fn)(void *userdata, const uint8_t *name, size_t name_len,
                                                 const uint8_t *value, size_t value_len),
                    void *userdata);
/* Each xattr as " NAME VALUE", bytes outside printable ASCII as \xHH. */
void xattrs_write(FILE *f, json_object *stat, char sep);
/* The checksum to show for an entry's stat: the daemon's "checksum"
 * member (another algorithm) or its sha256; NULL for non-files. */
const char *stat_checksum(json_object *stat);

/* --packages and --explain (output-packages.c): the package section, the
 * changes grouped by cause with change_write() writing each, and " [OWNER,
 * ...]" after a change. The CSV of the package changes (--packages-csv). */
int output_packages_text(FILE *f, json_object *result, const OutputOptions *o);
int output_explain_text(FILE *f, json_object *result, const OutputOptions *o,
                        int (*change_write)(FILE *f, json_object *c, bool with_tree, const OutputOptions *o));
void output_owners_write(FILE *f, json_object *c);

/* "; domain NAME at snapshot S; running, crash-consistent only" (output-domain.c). */
void output_domain_write(FILE *f, json_object *side);
/* "cached", "scanned" or "manifest FILE, exported WHEN", the engine that
 * scanned it (", direct") and why not the direct engine, then the above. */
void output_side_origin_write(FILE *f, json_object *side);

/* CSV fields (RFC 4180), each followed by ',' or, when last, a newline:
 * bytes as they are, a string, o's KEY as its exact bytes (output-formats.c). */
void csv_field(FILE *f, const char *s, size_t len, bool last);
void csv_string(FILE *f, const char *s, bool last);
void csv_bytes(FILE *f, json_object *o, const char *key, bool last);

/* The writers, one per format, each for the whole (filtered) result. */
int output_text(FILE *f, json_object *result, const OutputOptions *o);
int output_csv(FILE *f, json_object *result, const OutputOptions *o);
int output_ndjson(FILE *f, json_object *result, const OutputOptions *o);
int output_summary(FILE *f, json_object *result, const OutputOptions *o);
int output_virt_diff(FILE *f, json_object *result, const OutputOptions *o);
int output_markdown(FILE *f, json_object *result, const OutputOptions *o);
int output_html(FILE *f, json_object *result, const OutputOptions *o);

/* The writers that print a change at a time, in pieces: what comes
 * before the changes (from a result or a change stream's head), one
 * change, and what comes after them (from the whole result, or the head
 * with the stream's end). The whole-result writers above are made of them. */
int output_text_head(FILE *f, json_object *result, const OutputOptions *o);
int output_text_change(FILE *f, json_object *c, bool with_tree, const OutputOptions *o);
int output_csv_head(FILE *f, json_object *result, const OutputOptions *o);
int output_csv_change(FILE *f, json_object *c, const OutputOptions *o);
int output_ndjson_head(FILE *f, json_object *result, const OutputOptions *o);
int output_ndjson_change(FILE *f, json_object *c, const OutputOptions *o);
int output_ndjson_end(FILE *f, json_object *result, const OutputOptions *o);

/* ---- what the reports share (output-report.c) ---- */

/* o's KEY (exact bytes) through escape_bytes(): valid UTF-8 for display. */
char *output_display_bytes(json_object *o, const char *key);
/* A change's path for display, "TREE:PATH" when several_trees and the tree
 * is not the inspected OS's "/" (as output_change_label(), unquoted). */
char *output_change_name(json_object *c, bool several_trees);
/* The bytes a change stands for: an added, modified or type-changed
 * entry's new size, a removed one's old size; 0 for metadata changes and
 * directories. */
uint64_t output_change_bytes(json_object *c);
/* 0 no differences, 1 differences, 2 a filesystem could not be read; and
 * what that means in words. */
int output_exit_status(json_object *result);
const char *output_exit_meaning(int status);
/* "a.qcow2, b.img@snap"; output_side_origin_write() as a string. */
int output_side_images(json_object *side, char **ret);
int output_side_source(json_object *side, char **ret);

/* A field of a change with its two values as people read them; NULL for
 * the side that has none. */
typedef struct FieldPair {
        const char *name;
        char *old, *new;
} FieldPair;
/* For a modified or metadata change its "fields"; for an added, removed
 * or type change the fields that describe the whole entry. */
int output_field_pairs(json_object *c, const OutputOptions *o, FieldPair **ret, size_t *ret_n);
/* A filesystem change's "fields" with their values. */
int output_fs_field_pairs(json_object *fs, FieldPair **ret, size_t *ret_n);
void field_pairs_free(FieldPair *p, size_t n);

/* HTML text or attribute value: markup characters as references, what is
 * not UTF-8 and C0 controls (but tab and newline) as U+FFFD. */
void html_escape(FILE *f, const char *s, size_t len);
/* The report's SVG chart of changed bytes by top-level directory. */
int output_chart_write(FILE *f, json_object *changes, bool several_trees);

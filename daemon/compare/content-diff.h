/* Content work after the comparison, only when asked for: unified diffs of
 * changed text files (virt-diff -u) and checksums under an algorithm other
 * than the SHA-256 every manifest holds (--checksum=md5, ...).
 *
 * What the store already has (contents of small files and checksums, both
 * keyed by SHA-256) costs nothing; the rest is read through an appliance on
 * the side's disks, verified against the manifest's SHA-256 and kept in the
 * store, so that the next diff against the same reference needs none. The
 * diff itself is GNU diff -u on private temporary files. */
#pragma once

#include "appliance/appliance.h"
#include "common/errors.h"
#include "common/progress.h"
#include "compare/comparer.h"
#include "store/store.h"

#define CONTENT_DIFF_MAX (256 * 1024) /* a longer diff is left out, and says so */

typedef struct ContentOptions {
        bool unified;   /* diffs of modified regular files */
        char *checksum; /* md5, sha1, sha224, sha384, sha512, crc; NULL: none */
} ContentOptions;

void content_options_done(ContentOptions *o);
bool content_options_wanted(const ContentOptions *o);
/* Checks an algorithm name; -EINVAL for one guestfs_checksum does not know. */
int content_checksum_check(const char *algorithm);

/* What was found for one change (indexed like DiffResult.changes). */
typedef struct ContentNote {
        char *diff;           /* unified diff with --- a/PATH, +++ b/PATH headers */
        size_t diff_len;
        bool binary;          /* either side holds a NUL byte */
        const char *omitted;  /* why there is no diff, or NULL */
        char *checksum[2];    /* of the old and the new side's file, or NULL */
} ContentNote;

void content_notes_free(ContentNote *notes, size_t n);

/* Gives a launched handle on one side's disks, or NULL with e set. The
 * content stage mounts what it needs itself (read-only) and unmounts
 * everything before it returns. */
typedef Appliance *(*ContentHandleFn)(void *userdata, int side, Error *e);

/* unreadable: bit s set when side s has no disks to read (it was given as
 * an exported manifest): only what the store holds is used for it, and a
 * diff it cannot have says so. */
int content_run(const DiffResult *r, const ContentOptions *o, Store *store, unsigned unreadable, ContentHandleFn handle,
                void *userdata, const ProgressSink *progress, ContentNote **ret, Error *e);
